package contactflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

const (
	testInstanceID  = "11111111-2222-4333-8444-555555555555"
	testInstanceARN = "arn:aws:connect:us-east-1:123456789012:instance/" + testInstanceID
	testInitial     = "aaaaaaaa-0000-4000-8000-000000000001"
	testContact     = "aaaaaaaa-0000-4000-8000-000000000002"
)

// fakeConnect keeps attributes by instance and initial contact ID, and can fail or stall.
type fakeConnect struct {
	mu        sync.Mutex
	contacts  map[string]map[string]string // "<instance>/<contact>" -> attributes
	getErr    error
	updateErr error
	stall     bool // wait for the context instead of answering
	gets      int
	updates   []*connect.UpdateContactAttributesInput
}

func newFakeConnect() *fakeConnect {
	return &fakeConnect{contacts: map[string]map[string]string{
		testInstanceID + "/" + testInitial: {"existing": "1"},
	}}
}

func (f *fakeConnect) GetContactAttributes(ctx context.Context, in *connect.GetContactAttributesInput, _ ...func(*connect.Options)) (*connect.GetContactAttributesOutput, error) {
	if f.stall {
		<-ctx.Done()
		return nil, fmt.Errorf("operation error Connect: GetContactAttributes, %w", ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	if f.getErr != nil {
		return nil, f.getErr
	}
	attrs, ok := f.contacts[aws.ToString(in.InstanceId)+"/"+aws.ToString(in.InitialContactId)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Contact not found", Fault: smithy.FaultClient}
	}
	return &connect.GetContactAttributesOutput{Attributes: maps.Clone(attrs)}, nil
}

func (f *fakeConnect) UpdateContactAttributes(_ context.Context, in *connect.UpdateContactAttributesInput, _ ...func(*connect.Options)) (*connect.UpdateContactAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, in)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	key := aws.ToString(in.InstanceId) + "/" + aws.ToString(in.InitialContactId)
	attrs, ok := f.contacts[key]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Contact not found", Fault: smithy.FaultClient}
	}
	// Connect enforces its limit itself (connectsim answers InvalidParameterException).
	if connectspec.MergedAttributeBytes(attrs, in.Attributes) > connectspec.MaxAttributeBytes {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterException", Message: "attributes over the limit", Fault: smithy.FaultClient}
	}
	for k, v := range in.Attributes {
		if v == "" {
			delete(attrs, k) // as Connect does: an empty value removes the attribute
		} else {
			attrs[k] = v
		}
	}
	return &connect.UpdateContactAttributesOutput{}, nil
}

func (f *fakeConnect) attrs(contact string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.contacts[testInstanceID+"/"+contact])
}

// fakeList is an in-memory do-not-call list.
type fakeList struct {
	mu      sync.Mutex
	entries map[string]donotcall.Entry
	err     error
}

func (l *fakeList) Record(_ context.Context, e donotcall.Entry) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return false, l.err
	}
	if l.entries == nil {
		l.entries = map[string]donotcall.Entry{}
	}
	if _, ok := l.entries[e.PhoneNumber]; ok {
		return false, nil
	}
	l.entries[e.PhoneNumber] = e
	return true, nil
}

type fixture struct {
	h       *Handler
	connect *fakeConnect
	list    *fakeList
	logs    *bytes.Buffer
}

func newFixture(t *testing.T, mutate ...func(*Config)) *fixture {
	t.Helper()
	cfg := DefaultConfig()
	for _, m := range mutate {
		m(&cfg)
	}
	fx := &fixture{connect: newFakeConnect(), list: &fakeList{}, logs: &bytes.Buffer{}}
	h, err := NewHandler(cfg, fx.connect, fx.list, slog.New(slog.NewJSONHandler(fx.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The real clock: the budget's deadline is a real context deadline.
	fx.h = h
	return fx
}

// event builds a contact-flow event with the given parameters (any JSON values).
func event(params map[string]any, mutate ...func(cd map[string]any)) []byte {
	cd := map[string]any{
		"ContactId":        testContact,
		"InitialContactId": testInitial,
		"InstanceARN":      testInstanceARN,
		"Channel":          "VOICE",
		"CustomerEndpoint": map[string]any{"Address": "+12025550123", "Type": "TELEPHONE_NUMBER"},
		"Queue":            nil,
	}
	for _, m := range mutate {
		m(cd)
	}
	b, err := json.Marshal(map[string]any{"Name": "ContactFlowEvent", "Details": map[string]any{"ContactData": cd, "Parameters": params}})
	if err != nil {
		panic(err)
	}
	return b
}

func (fx *fixture) invoke(t *testing.T, payload []byte) map[string]string {
	t.Helper()
	out, err := fx.h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp map[string]string
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s is not a flat string map: %v", out, err)
	}
	return resp
}

// logLine returns the single log line written so far.
func (fx *fixture) logLine(t *testing.T) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(fx.logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), fx.logs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("log line %s: %v", lines[0], err)
	}
	return m
}

func wantError(t *testing.T, resp map[string]string, code Code) {
	t.Helper()
	if resp[RespResult] != ResultError || resp[RespErrorCode] != string(code) || resp[RespErrorMessage] == "" {
		t.Fatalf("response = %v, want result=error error_code=%s and a message", resp, code)
	}
	if len(resp) != 3 {
		t.Errorf("error response has extra keys: %v", resp)
	}
}

func TestUpdateWritesParametersAsAttributes(t *testing.T) {
	fx := newFixture(t)
	resp := fx.invoke(t, event(map[string]any{
		"operation": "update", "tier": "gold", "visits": 3, "vip": true, "nothing": nil,
		"prefs": map[string]any{"lang": "fr", "tags": []any{"a", 1}}, "city": "São Paulo",
		// Control parameters are never written, whatever the operation.
		"contact_id": testInitial, "reason": "x", "phone_number": "+12025550123", "keys": "a", "prefix": "b",
	}))
	if resp[RespResult] != ResultOK || resp[RespCount] != "6" || len(resp) != 2 {
		t.Fatalf("response = %v, want ok with count 6", resp)
	}
	want := map[string]string{"existing": "1", "tier": "gold", "visits": "3", "vip": "true", "nothing": "null",
		"prefs": `{"lang":"fr","tags":["a",1]}`, "city": "São Paulo"}
	if got := fx.connect.attrs(testInitial); !maps.Equal(got, want) {
		t.Errorf("attributes = %v, want %v", got, want)
	}
	if len(fx.connect.updates) != 1 || fx.connect.gets != 1 {
		t.Errorf("%d updates, %d gets; want 1 and 1", len(fx.connect.updates), fx.connect.gets)
	}
	log := fx.logLine(t)
	for k, v := range map[string]any{"contact_id": testInitial, "instance_id": testInstanceID, "operation": "update", "outcome": "ok", "keys": 6.0} {
		if log[k] != v {
			t.Errorf("log %s = %v, want %v", k, log[k], v)
		}
	}
	if _, ok := log["duration_ms"]; !ok {
		t.Error("log line has no duration_ms")
	}
}

func TestUpdateIsTheDefaultOperation(t *testing.T) {
	for _, op := range []any{nil, "", " UPDATE "} {
		fx := newFixture(t)
		params := map[string]any{"tier": "gold"}
		if op != nil {
			params["operation"] = op
		}
		if resp := fx.invoke(t, event(params)); resp[RespResult] != ResultOK {
			t.Errorf("operation %q: %v", op, resp)
		}
	}
}

func TestUpdateAddressesTheInitialContact(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		cd     func(map[string]any)
		want   string
	}{
		{"initial contact", map[string]any{"a": "1"}, nil, testInitial},
		{"contact when no initial", map[string]any{"a": "1"}, func(cd map[string]any) { delete(cd, "InitialContactId") }, testContact},
		{"contact when initial is null", map[string]any{"a": "1"}, func(cd map[string]any) { cd["InitialContactId"] = nil }, testContact},
		{"contact_id parameter", map[string]any{"a": "1", "contact_id": "bbbbbbbb-0000-4000-8000-000000000009"}, nil, "bbbbbbbb-0000-4000-8000-000000000009"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.connect.contacts[testInstanceID+"/"+testContact] = map[string]string{}
			fx.connect.contacts[testInstanceID+"/bbbbbbbb-0000-4000-8000-000000000009"] = map[string]string{}
			var mut []func(map[string]any)
			if tt.cd != nil {
				mut = append(mut, tt.cd)
			}
			if resp := fx.invoke(t, event(tt.params, mut...)); resp[RespResult] != ResultOK {
				t.Fatalf("response %v", resp)
			}
			if got := aws.ToString(fx.connect.updates[0].InitialContactId); got != tt.want {
				t.Errorf("updated %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUpdateChecksBeforeCallingConnect(t *testing.T) {
	big := strings.Repeat("x", connectspec.MaxAttributeBytes)
	tests := []struct {
		name     string
		params   map[string]any
		cd       func(map[string]any)
		existing map[string]string
		code     Code
		calls    bool // Connect is called before the check fails
	}{
		{"invalid key", map[string]any{"ok": "1", "not ok": "2"}, nil, nil, InvalidKey, false},
		{"key with a dot", map[string]any{"a.b": "1"}, nil, nil, InvalidKey, false},
		{"non-ASCII key", map[string]any{"clé": "1"}, nil, nil, InvalidKey, false},
		{"update alone too large", map[string]any{"k": big}, nil, nil, AttributesTooLarge, false},
		{"update alone at the limit", map[string]any{"k": big[:connectspec.MaxAttributeBytes-1]}, nil, map[string]string{}, "", true},
		{"merged too large", map[string]any{"k": big[:connectspec.MaxAttributeBytes-10]}, nil, map[string]string{"other": "12345"}, AttributesTooLarge, true},
		{"replacing a large value fits", map[string]any{"k": big[:connectspec.MaxAttributeBytes-10]}, nil, map[string]string{"k": big[:connectspec.MaxAttributeBytes-1]}, "", true},
		{"multi-byte values counted in bytes", map[string]any{"k": strings.Repeat("é", connectspec.MaxAttributeBytes/2)}, nil, map[string]string{}, AttributesTooLarge, false},
		{"nothing to write", map[string]any{"operation": "update", "reason": "x"}, nil, nil, BadRequest, false},
		{"no parameters at all", nil, nil, nil, BadRequest, false},
		{"no instance ARN", map[string]any{"a": "1"}, func(cd map[string]any) { delete(cd, "InstanceARN") }, nil, BadRequest, false},
		{"instance ARN of something else", map[string]any{"a": "1"}, func(cd map[string]any) { cd["InstanceARN"] = "arn:aws:lambda:us-east-1:123456789012:function:x" }, nil, BadRequest, false},
		{"instance ARN with a path", map[string]any{"a": "1"}, func(cd map[string]any) { cd["InstanceARN"] = testInstanceARN + "/contact/x" }, nil, BadRequest, false},
		{"no contact ID", map[string]any{"a": "1"}, func(cd map[string]any) { delete(cd, "InitialContactId"); delete(cd, "ContactId") }, nil, BadRequest, false},
		{"contact ID with a slash", map[string]any{"a": "1", "contact_id": "../../x"}, nil, nil, BadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			if tt.existing != nil {
				fx.connect.contacts[testInstanceID+"/"+testInitial] = tt.existing
			}
			var mut []func(map[string]any)
			if tt.cd != nil {
				mut = append(mut, tt.cd)
			}
			resp := fx.invoke(t, event(tt.params, mut...))
			if tt.code == "" {
				if resp[RespResult] != ResultOK {
					t.Fatalf("response %v, want ok", resp)
				}
				return
			}
			wantError(t, resp, tt.code)
			if len(fx.connect.updates) != 0 {
				t.Error("UpdateContactAttributes was called")
			}
			if called := fx.connect.gets > 0; called != tt.calls {
				t.Errorf("GetContactAttributes called = %v, want %v", called, tt.calls)
			}
		})
	}
}

// Setting an attribute to "" removes it in Connect: a contact at the limit can make room in
// the same update that uses it.
func TestUpdateClearingAnAttributeMakesRoom(t *testing.T) {
	fx := newFixture(t)
	// 32,001 + 703 = 32,704 bytes; after the update 32,001 + 767 = 32,768, exactly the limit.
	fx.connect.contacts[testInstanceID+"/"+testInitial] = map[string]string{
		"a": strings.Repeat("x", 32000), "old": strings.Repeat("o", 700),
	}
	resp := fx.invoke(t, event(map[string]any{"old": "", "new": strings.Repeat("n", 764)}))
	if !maps.Equal(resp, map[string]string{RespResult: ResultOK, RespCount: "2"}) {
		t.Fatalf("response = %v, want ok with count 2", resp)
	}
	want := map[string]string{"a": strings.Repeat("x", 32000), "new": strings.Repeat("n", 764)}
	if got := fx.connect.attrs(testInitial); !maps.Equal(got, want) {
		t.Errorf("attributes = %d keys, want a and new only", len(got))
	}

	// One byte more is still refused.
	fx = newFixture(t)
	fx.connect.contacts[testInstanceID+"/"+testInitial] = map[string]string{
		"a": strings.Repeat("x", 32000), "old": strings.Repeat("o", 700),
	}
	wantError(t, fx.invoke(t, event(map[string]any{"old": "", "new": strings.Repeat("n", 765)})), AttributesTooLarge)
	if len(fx.connect.updates) != 0 {
		t.Error("UpdateContactAttributes was called")
	}
}

// The event's own attributes stand in for GetContactAttributes in the 32 KB check; every
// answer that depends on them being current is confirmed with a fresh read.
func TestUpdateChecksTheBudgetAgainstTheEventsAttributes(t *testing.T) {
	big := strings.Repeat("x", 32000)
	other := "bbbbbbbb-0000-4000-8000-000000000009"
	withAttrs := func(a any) func(map[string]any) { return func(cd map[string]any) { cd["Attributes"] = a } }
	tests := []struct {
		name      string
		event     func(map[string]any)
		params    map[string]any
		connect   map[string]string // the initial contact's attributes in Connect
		code      Code              // "" for ok
		gets      int
		updates   int
		fromEvent bool
	}{
		{"snapshot fits: no read", withAttrs(map[string]any{"existing": "1"}), map[string]any{"a": "1"}, map[string]string{"existing": "1"}, "", 0, 1, true},
		{"empty snapshot fits: no read", withAttrs(map[string]any{}), map[string]any{"a": "1"}, map[string]string{"existing": "1"}, "", 0, 1, true},
		{"snapshot too large, confirmed", withAttrs(map[string]any{"big": big}), map[string]any{"more": strings.Repeat("m", 1000)}, map[string]string{"big": big}, AttributesTooLarge, 1, 0, false},
		{"snapshot too large, stale: Connect has room", withAttrs(map[string]any{"big": big}), map[string]any{"more": strings.Repeat("m", 1000)}, map[string]string{}, "", 1, 1, false},
		{"snapshot fits, stale: Connect refuses, read says too large", withAttrs(map[string]any{}), map[string]any{"more": strings.Repeat("m", 1000)}, map[string]string{"big": big}, AttributesTooLarge, 1, 1, true},
		{"no Attributes in the event: read", nil, map[string]any{"a": "1"}, map[string]string{"existing": "1"}, "", 1, 1, false},
		{"null Attributes: read", withAttrs(nil), map[string]any{"a": "1"}, map[string]string{"existing": "1"}, "", 1, 1, false},
		{"another contact: read", withAttrs(map[string]any{}), map[string]any{"a": "1", "contact_id": other}, nil, "", 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			if tt.connect != nil {
				fx.connect.contacts[testInstanceID+"/"+testInitial] = tt.connect
			}
			fx.connect.contacts[testInstanceID+"/"+other] = map[string]string{}
			var mut []func(map[string]any)
			if tt.event != nil {
				mut = append(mut, tt.event)
			}
			resp := fx.invoke(t, event(tt.params, mut...))
			if tt.code == "" {
				if resp[RespResult] != ResultOK {
					t.Fatalf("response %v, want ok", resp)
				}
			} else {
				wantError(t, resp, tt.code)
			}
			if fx.connect.gets != tt.gets || len(fx.connect.updates) != tt.updates {
				t.Errorf("%d gets, %d updates; want %d and %d", fx.connect.gets, len(fx.connect.updates), tt.gets, tt.updates)
			}
			if got := fx.logLine(t)["attributes_from_event"]; got != tt.fromEvent {
				t.Errorf("log attributes_from_event = %v, want %v", got, tt.fromEvent)
			}
		})
	}
}

// A refusal by Connect that is not about the size stays what it was when the fresh read shows
// the attributes fit.
func TestUpdateRefusedForAnotherReasonStaysABadRequest(t *testing.T) {
	fx := newFixture(t)
	fx.connect.updateErr = &smithy.GenericAPIError{Code: "InvalidRequestException", Message: "no", Fault: smithy.FaultClient}
	wantError(t, fx.invoke(t, event(map[string]any{"a": "1"}, func(cd map[string]any) { cd["Attributes"] = map[string]any{} })), BadRequest)
	if fx.connect.gets != 1 {
		t.Errorf("%d gets, want 1 (the confirmation)", fx.connect.gets)
	}
}

func apiErr(code string, fault smithy.ErrorFault) error {
	return fmt.Errorf("operation error Connect: UpdateContactAttributes, %w", &smithy.GenericAPIError{Code: code, Message: "m", Fault: fault})
}

func TestConnectErrorsBecomeCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code Code
		msg  string // the error_message; "" for any
	}{
		{"not found", apiErr("ResourceNotFoundException", smithy.FaultClient), ContactNotFound, "Connect found no such contact or instance"},
		{"contact ended", apiErr("ContactNotFoundException", smithy.FaultClient), ContactNotFound, "Connect found no such contact"},
		{"throttled", apiErr("ThrottlingException", smithy.FaultClient), Throttled, ""},
		{"too many requests", apiErr("TooManyRequestsException", smithy.FaultClient), Throttled, ""},
		// A quota, not a passing throttle.
		{"limit exceeded", apiErr("LimitExceededException", smithy.FaultClient), LimitExceeded, "Connect refused the request: a service quota of the account or instance is used up"},
		{"throttled after the retries", &retry.MaxAttemptsError{Attempt: 3, Err: apiErr("ThrottlingException", smithy.FaultClient)}, Throttled, ""},
		{"throttled and no time to retry", errors.Join(apiErr("ThrottlingException", smithy.FaultClient), flowbudget.ErrNoTimeForRetry), Throttled, ""},
		{"access denied", apiErr("AccessDeniedException", smithy.FaultClient), AccessDenied, ""},
		{"access denied, as the SDK returns it", httpAPIErr(403, "AccessDeniedException"), AccessDenied, "the function may not call Connect for this instance"},
		// Credentials are not parameters: not BAD_REQUEST, and not CONNECT_UNAVAILABLE either
		// (the SDK gives these untyped errors an unknown fault).
		{"expired credentials", httpAPIErr(403, "ExpiredTokenException"), InvalidCredentials, "Connect refused the function's credentials (expired, unknown or badly signed)"},
		{"unknown access key", httpAPIErr(403, "UnrecognizedClientException"), InvalidCredentials, ""},
		{"bad signature", httpAPIErr(403, "InvalidSignatureException"), InvalidCredentials, ""},
		{"unknown client token", httpAPIErr(403, "InvalidClientTokenId"), InvalidCredentials, ""},
		{"unknown refusal, as the SDK returns it", httpAPIErr(400, "SomethingNewException"), BadRequest, ""},
		{"unknown failure, as the SDK returns it", httpAPIErr(502, "BadGateway"), ConnectUnavailable, ""},
		{"invalid parameter", apiErr("InvalidParameterException", smithy.FaultClient), BadRequest, ""},
		{"unknown client error", apiErr("SomethingNewException", smithy.FaultClient), BadRequest, ""},
		{"internal", apiErr("InternalServiceException", smithy.FaultServer), ConnectUnavailable, ""},
		{"unknown server error", apiErr("ServiceUnavailable", smithy.FaultServer), ConnectUnavailable, ""},
		{"connection refused", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), ConnectUnavailable, ""},
		{"deadline", fmt.Errorf("operation error: %w", context.DeadlineExceeded), Timeout, ""},
		{"canceled during backoff", &aws.RequestCanceledError{Err: context.DeadlineExceeded}, Timeout, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, op := range []string{"get", "update"} {
				fx := newFixture(t)
				if op == "get" {
					fx.connect.getErr = tt.err
				} else {
					fx.connect.updateErr = tt.err
				}
				resp := fx.invoke(t, event(map[string]any{"a": "1"}))
				wantError(t, resp, tt.code)
				if tt.msg != "" && resp[RespErrorMessage] != tt.msg {
					t.Errorf("error_message = %q, want %q", resp[RespErrorMessage], tt.msg)
				}
				log := fx.logLine(t)
				if log["error_code"] != string(tt.code) || log["outcome"] != "error" || log["level"] != "WARN" {
					t.Errorf("log line %v", log)
				}
			}
		})
	}
}

func TestGet(t *testing.T) {
	existing := map[string]string{"tier": "gold", "lang": "fr", "cart_1": "x", "cart_2": "y", "city": "Zürich", "result": "attribute named result"}
	tests := []struct {
		name   string
		params map[string]any
		want   map[string]string
	}{
		{"keys", map[string]any{"operation": "get", "keys": "tier, city,missing"}, map[string]string{"tier": "gold", "city": "Zürich", "count": "2"}},
		{"keys as a JSON array", map[string]any{"operation": "get", "keys": []any{"lang"}}, map[string]string{"lang": "fr", "count": "1"}},
		{"none found", map[string]any{"operation": "GET", "keys": "nope"}, map[string]string{"count": "0"}},
		{"prefix", map[string]any{"operation": "get", "prefix": "cart_"}, map[string]string{"cart_1": "x", "cart_2": "y", "count": "2"}},
		{"prefix never returns response keys", map[string]any{"operation": "get", "prefix": "res"}, map[string]string{"count": "0"}},
		{"other contact", map[string]any{"operation": "get", "keys": "tier", "contact_id": testContact}, map[string]string{"tier": "other", "count": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.connect.contacts[testInstanceID+"/"+testInitial] = existing
			fx.connect.contacts[testInstanceID+"/"+testContact] = map[string]string{"tier": "other"}
			resp := fx.invoke(t, event(tt.params))
			want := maps.Clone(tt.want)
			want[RespResult] = ResultOK
			if !maps.Equal(resp, want) {
				t.Errorf("response = %v, want %v", resp, want)
			}
			if len(fx.connect.updates) != 0 {
				t.Error("a get wrote attributes")
			}
		})
	}
}

func TestGetRefuses(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		code   Code
	}{
		{"neither keys nor prefix", map[string]any{"operation": "get"}, BadRequest},
		{"both", map[string]any{"operation": "get", "keys": "a", "prefix": "b"}, BadRequest},
		{"empty keys", map[string]any{"operation": "get", "keys": " , "}, BadRequest},
		{"invalid key", map[string]any{"operation": "get", "keys": "a,b c"}, InvalidKey},
		{"response key", map[string]any{"operation": "get", "keys": "tier,error_code"}, InvalidKey},
		{"invalid prefix", map[string]any{"operation": "get", "prefix": "a*"}, InvalidKey},
		{"empty prefix", map[string]any{"operation": "get", "prefix": ""}, InvalidKey},
		{"unknown contact", map[string]any{"operation": "get", "keys": "a", "contact_id": "nobody"}, ContactNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			wantError(t, fx.invoke(t, event(tt.params)), tt.code)
		})
	}
}

func TestGetKeepsTheResponseUnder32KB(t *testing.T) {
	fx := newFixture(t)
	// 32,000 bytes of attributes fit Connect's contact limit, but not in a response once each
	// quote and newline is escaped.
	fx.connect.contacts[testInstanceID+"/"+testInitial] = map[string]string{
		"a": strings.Repeat("\"", 10000), "b": strings.Repeat("\n", 10000), "c": strings.Repeat("x", 10000),
	}
	resp := fx.invoke(t, event(map[string]any{"operation": "get", "prefix": "a"}))
	if resp[RespResult] != ResultOK {
		t.Fatalf("one escaped attribute (20 KB): %v", resp)
	}
	wantError(t, fx.invoke(t, event(map[string]any{"operation": "get", "keys": "a,b,c"})), ResponseTooLarge)

	out, err := fx.h.Invoke(context.Background(), event(map[string]any{"operation": "get", "keys": "a,c"}))
	if err != nil || len(out) > MaxResponseBytes {
		t.Errorf("response of %d bytes, %v", len(out), err)
	}
}

func TestOptOut(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		cd     func(map[string]any)
		number string
		masked string // the log's phone
	}{
		{"customer number", map[string]any{"operation": "optout"}, nil, "+12025550123", "+1******0123"},
		{"phone_number parameter wins", map[string]any{"operation": "optout", "phone_number": "+44 20 7946 0958"}, nil, "+442079460958", "+44******0958"},
		{"national number in the default country", map[string]any{"operation": "optout", "phone_number": "(202) 555-0199"}, nil, "+12025550199", "+1******0199"},
		{"number as a JSON number", map[string]any{"operation": "optout", "phone_number": 2025550188}, nil, "+12025550188", "+1******0188"},
		{"chat contact with a parameter", map[string]any{"operation": "optout", "phone_number": "+12025550177"}, func(cd map[string]any) { cd["Channel"] = "CHAT"; cd["CustomerEndpoint"] = nil }, "+12025550177", "+1******0177"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			var mut []func(map[string]any)
			if tt.cd != nil {
				mut = append(mut, tt.cd)
			}
			before := time.Now()
			resp := fx.invoke(t, event(tt.params, mut...))
			after := time.Now()
			if !maps.Equal(resp, map[string]string{RespResult: ResultOK, RespOptOutStatus: OptOutRecorded}) {
				t.Fatalf("response = %v", resp)
			}
			e, ok := fx.list.entries[tt.number]
			if !ok || len(fx.list.entries) != 1 {
				t.Fatalf("list = %v, want %s", fx.list.entries, tt.number)
			}
			if e.Source != donotcall.SourceContactFlow || e.ContactID != testContact || e.RecordedAt.Before(before) || e.RecordedAt.After(after) {
				t.Errorf("entry = %+v", e)
			}
			if strings.Contains(fx.logs.String(), tt.number) || strings.Contains(fx.logs.String(), tt.number[2:]) {
				t.Errorf("log line has the number in clear: %s", fx.logs)
			}
			if got := fx.logLine(t)["phone"]; got != tt.masked {
				t.Errorf("log phone = %v, want %s", got, tt.masked)
			}
		})
	}
}

func TestOptOutIsIdempotent(t *testing.T) {
	fx := newFixture(t)
	payload := event(map[string]any{"operation": "optout", "reason": "  do not call again "})
	fx.invoke(t, payload)
	if got := fx.list.entries["+12025550123"].Reason; got != "do not call again" {
		t.Errorf("reason = %q", got)
	}
	resp := fx.invoke(t, payload)
	if !maps.Equal(resp, map[string]string{RespResult: ResultOK, RespOptOutStatus: OptOutAlreadyRecorded}) {
		t.Errorf("repeat = %v", resp)
	}
}

func TestOptOutRefuses(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		cd      func(map[string]any)
		listErr error
		code    Code
	}{
		{"no number", map[string]any{"operation": "optout"}, func(cd map[string]any) { delete(cd, "CustomerEndpoint") }, nil, InvalidPhoneNumber},
		{"null endpoint", map[string]any{"operation": "optout"}, func(cd map[string]any) { cd["CustomerEndpoint"] = nil }, nil, InvalidPhoneNumber},
		{"chat endpoint", map[string]any{"operation": "optout"}, func(cd map[string]any) {
			cd["CustomerEndpoint"] = map[string]any{"Address": "someone", "Type": "CONNECT_USER"}
		}, nil, InvalidPhoneNumber},
		{"not a number", map[string]any{"operation": "optout", "phone_number": "call me"}, nil, nil, InvalidPhoneNumber},
		{"too short", map[string]any{"operation": "optout", "phone_number": "+1202"}, nil, nil, InvalidPhoneNumber},
		{"too long", map[string]any{"operation": "optout", "phone_number": "+1 202 555 01234"}, nil, nil, InvalidPhoneNumber},
		// Only possible as a local number: +15550123 would match no dial, so it is not "recorded".
		{"7-digit US number", map[string]any{"operation": "optout", "phone_number": "555-0123"}, nil, nil, IncompletePhoneNumber},
		{"7-digit US number as the customer endpoint", map[string]any{"operation": "optout"}, func(cd map[string]any) {
			cd["CustomerEndpoint"] = map[string]any{"Address": "5550123", "Type": "TELEPHONE_NUMBER"}
		}, nil, IncompletePhoneNumber},
		{"table down", map[string]any{"operation": "optout"}, nil, errors.New("operation error DynamoDB: PutItem, https response error StatusCode: 500"), OptOutUnavailable},
		{"table slow", map[string]any{"operation": "optout"}, nil, fmt.Errorf("operation error DynamoDB: PutItem, %w", context.DeadlineExceeded), Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.list.err = tt.listErr
			var mut []func(map[string]any)
			if tt.cd != nil {
				mut = append(mut, tt.cd)
			}
			wantError(t, fx.invoke(t, event(tt.params, mut...)), tt.code)
			if len(fx.list.entries) != 0 {
				t.Error("something was recorded")
			}
		})
	}
}

// A parameter named like a control parameter in another case is a typo: taken as an attribute,
// "Operation": "get" would run an update that writes an attribute "Operation".
func TestControlParameterNamesInAnotherCaseAreRefused(t *testing.T) {
	tests := []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"Operation": "get", "keys": "a"}, `parameter "Operation" is not "operation": parameter names are case-sensitive`},
		{map[string]any{"OPERATION": "optout"}, `parameter "OPERATION" is not "operation": parameter names are case-sensitive`},
		{map[string]any{"tier": "gold", "Contact_Id": testContact}, `parameter "Contact_Id" is not "contact_id": parameter names are case-sensitive`},
		{map[string]any{"operation": "get", "Keys": "a"}, `parameter "Keys" is not "keys": parameter names are case-sensitive`},
		{map[string]any{"operation": "get", "PREFIX": "a"}, `parameter "PREFIX" is not "prefix": parameter names are case-sensitive`},
		{map[string]any{"operation": "optout", "Phone_Number": "+12025550123"}, `parameter "Phone_Number" is not "phone_number": parameter names are case-sensitive`},
		{map[string]any{"operation": "optout", "Reason": "x"}, `parameter "Reason" is not "reason": parameter names are case-sensitive`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			fx := newFixture(t)
			resp := fx.invoke(t, event(tt.params))
			wantError(t, resp, BadRequest)
			if resp[RespErrorMessage] != tt.want {
				t.Errorf("error_message = %q, want %q", resp[RespErrorMessage], tt.want)
			}
			if fx.connect.gets != 0 || len(fx.connect.updates) != 0 || len(fx.list.entries) != 0 {
				t.Errorf("%d gets, %d updates, %d opt-outs; want none", fx.connect.gets, len(fx.connect.updates), len(fx.list.entries))
			}
		})
	}
}

// The event's contact IDs go to the log line, to Connect and into the do-not-call table: a
// malformed one is refused before any of that, and never logged.
func TestInvalidContactIDsInTheEventAreRefused(t *testing.T) {
	long := strings.Repeat("a", 257)
	tests := []struct {
		name   string
		params map[string]any
		cd     func(map[string]any)
		raw    string // must not reach the log ("": the message may quote it, escaped)
		want   string
	}{
		{"ContactId with a path, update", map[string]any{"a": "1"}, func(cd map[string]any) { cd["ContactId"] = "../../x" }, "",
			`ContactId "../../x" is not a Connect contact ID`},
		{"ContactId with a number, optout", map[string]any{"operation": "optout"}, func(cd map[string]any) { cd["ContactId"] = "call +1 202 555 0199" }, "555 0199",
			`ContactId "call +1******0199" is not a Connect contact ID`},
		{"ContactId too long, optout", map[string]any{"operation": "optout"}, func(cd map[string]any) { cd["ContactId"] = long }, long,
			`ContactId "` + strings.Repeat("a", 61) + `…" is not a Connect contact ID`},
		{"InitialContactId with a newline, get", map[string]any{"operation": "get", "keys": "a"}, func(cd map[string]any) { cd["InitialContactId"] = "x\nlevel=ERROR" }, "x\nlevel",
			`InitialContactId "x\nlevel=ERROR" is not a Connect contact ID`},
		{"InitialContactId too long, update", map[string]any{"a": "1"}, func(cd map[string]any) { cd["InitialContactId"] = long }, long,
			`InitialContactId "` + strings.Repeat("a", 61) + `…" is not a Connect contact ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			resp := fx.invoke(t, event(tt.params, tt.cd))
			wantError(t, resp, BadRequest)
			if resp[RespErrorMessage] != tt.want {
				t.Errorf("error_message = %q, want %q", resp[RespErrorMessage], tt.want)
			}
			if fx.connect.gets != 0 || len(fx.connect.updates) != 0 || len(fx.list.entries) != 0 {
				t.Errorf("%d gets, %d updates, %d opt-outs; want none", fx.connect.gets, len(fx.connect.updates), len(fx.list.entries))
			}
			if log := fx.logLine(t); log["contact_id"] != "" {
				t.Errorf("log contact_id = %q, want empty", log["contact_id"])
			}
			if tt.raw != "" && strings.Contains(fx.logs.String(), tt.raw) {
				t.Errorf("log has the raw ID: %s", fx.logs)
			}
		})
	}
	// The longest valid ID is accepted.
	fx := newFixture(t)
	fx.connect.contacts[testInstanceID+"/"+strings.Repeat("b", 256)] = map[string]string{}
	resp := fx.invoke(t, event(map[string]any{"a": "1"}, func(cd map[string]any) { cd["InitialContactId"] = strings.Repeat("b", 256) }))
	if resp[RespResult] != ResultOK {
		t.Errorf("a 256-character contact ID: %v", resp)
	}
}

func TestMalformedEventsAreBadRequests(t *testing.T) {
	for _, payload := range []string{``, `{`, `[]`, `"x"`, `null`, `{}`, `{"Details": 5}`, `{"Details": {"Parameters": {"operation": "delete"}}}`} {
		t.Run(payload, func(t *testing.T) {
			fx := newFixture(t)
			wantError(t, fx.invoke(t, []byte(payload)), BadRequest)
		})
	}
}

// httpAPIErr is an API error as the SDK returns one for a code its model does not type: a
// GenericAPIError of unknown fault inside the HTTP response error that carries the status.
func httpAPIErr(status int, code string) error {
	return fmt.Errorf("operation error Connect: GetContactAttributes, %w", &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
	})
}

// In ErrorModeFail only a transient failure fails the invocation: Connect retries a failed
// invocation up to three times, so a permanent error would run four times, a throttle or a
// used-up quota would be hit four times, and a timeout would keep the caller waiting past the
// budget. Those are answered as result=error, as in ErrorModeResult.
func TestErrorModeFailFailsOnlyTransientFailures(t *testing.T) {
	big := strings.Repeat("x", connectspec.MaxAttributeBytes)
	tests := []struct {
		name       string
		params     map[string]any
		connectErr error // returned by GetContactAttributes
		listErr    error // returned by the do-not-call list
		code       Code
		fails      bool // a FlowError, not a response
	}{
		{"Connect internal error", map[string]any{"a": "1"}, apiErr("InternalServiceException", smithy.FaultServer), nil, ConnectUnavailable, true},
		{"Connect 503 of an unmodelled code", map[string]any{"a": "1"}, httpAPIErr(503, "ServiceUnavailable"), nil, ConnectUnavailable, true},
		{"Connect unreachable", map[string]any{"a": "1"}, errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), nil, ConnectUnavailable, true},
		{"do-not-call list unreachable", map[string]any{"operation": "optout"}, nil, errors.New("operation error DynamoDB: PutItem, dial tcp: connection reset"), OptOutUnavailable, true},
		{"do-not-call list internal error", map[string]any{"operation": "optout"}, nil, &smithy.GenericAPIError{Code: "InternalServerError", Fault: smithy.FaultServer}, OptOutUnavailable, true},

		{"throttled", map[string]any{"a": "1"}, apiErr("ThrottlingException", smithy.FaultClient), nil, Throttled, false},
		{"throttled, as the SDK returns it", map[string]any{"a": "1"}, httpAPIErr(429, "TooManyRequestsException"), nil, Throttled, false},
		{"quota used up", map[string]any{"a": "1"}, httpAPIErr(429, "LimitExceededException"), nil, LimitExceeded, false},
		{"timeout", map[string]any{"a": "1"}, fmt.Errorf("operation error: %w", context.DeadlineExceeded), nil, Timeout, false},
		{"unknown contact", map[string]any{"a": "1"}, apiErr("ResourceNotFoundException", smithy.FaultClient), nil, ContactNotFound, false},
		{"access denied", map[string]any{"a": "1"}, httpAPIErr(403, "AccessDeniedException"), nil, AccessDenied, false},
		{"Connect rejected the request", map[string]any{"a": "1"}, httpAPIErr(400, "SomethingNewException"), nil, BadRequest, false},
		{"do-not-call table missing", map[string]any{"operation": "optout"}, nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Fault: smithy.FaultClient}, OptOutUnavailable, false},
		{"do-not-call table throttled", map[string]any{"operation": "optout"}, nil, httpAPIErr(400, "ProvisionedThroughputExceededException"), OptOutUnavailable, false},
		{"unknown operation", map[string]any{"operation": "delete"}, nil, nil, BadRequest, false},
		{"invalid key", map[string]any{"not a key": "1"}, nil, nil, InvalidKey, false},
		{"attributes too large", map[string]any{"a": big}, nil, nil, AttributesTooLarge, false},
		{"invalid number", map[string]any{"operation": "optout", "phone_number": "+1 no"}, nil, nil, InvalidPhoneNumber, false},
		{"local number", map[string]any{"operation": "optout", "phone_number": "555-0123"}, nil, nil, IncompletePhoneNumber, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, func(c *Config) { c.ErrorMode = ErrorModeFail })
			fx.connect.getErr, fx.list.err = tt.connectErr, tt.listErr
			out, err := fx.h.Invoke(context.Background(), event(tt.params))
			if tt.fails {
				var fe *FlowError
				if !errors.As(err, &fe) || fe.Code != tt.code || !strings.HasPrefix(err.Error(), string(tt.code)+": ") || out != nil {
					t.Fatalf("Invoke = %s, %v; want a failed invocation with %s", out, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke failed the invocation (%v): want result=error %s", err, tt.code)
			}
			var resp map[string]string
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			wantError(t, resp, tt.code)
		})
	}
	// Success is still a response.
	fx := newFixture(t, func(c *Config) { c.ErrorMode = ErrorModeFail })
	if resp := fx.invoke(t, event(map[string]any{"a": "1"})); resp[RespResult] != ResultOK {
		t.Errorf("response %v", resp)
	}
}

func TestErrorMessagesAndLogsNeverShowANumberInClear(t *testing.T) {
	fx := newFixture(t)
	fx.connect.getErr = apiErr("InvalidParameterException", smithy.FaultClient)
	// An SDK error quoting a number must not reach the log in clear.
	fx.connect.getErr = fmt.Errorf("request for +12025550123 failed: %w", fx.connect.getErr)
	resp := fx.invoke(t, event(map[string]any{"operation": "get", "keys": "a"}))
	wantError(t, resp, BadRequest)
	if strings.Contains(fx.logs.String(), "2025550123") || strings.Contains(resp[RespErrorMessage], "2025550123") {
		t.Errorf("number in clear: log %s response %v", fx.logs, resp)
	}
}

// error_message is documented as at most 200 bytes: the ellipsis of a long message counts.
func TestErrorMessageIsAtMost200Bytes(t *testing.T) {
	fx := newFixture(t)
	// Each control character quotes as 4 bytes (\x01): the message runs far past 200 bytes.
	resp := fx.invoke(t, event(map[string]any{"operation": strings.Repeat("\x01", 60)}))
	wantError(t, resp, BadRequest)
	msg := resp[RespErrorMessage]
	if len(msg) > 200 || !strings.HasSuffix(msg, "…") || !strings.HasPrefix(msg, "unknown operation ") {
		t.Errorf("error_message of %d bytes: %q", len(msg), msg)
	}
}

// A caller-supplied name is quoted in error_message and the log line: a national number in it
// is masked like an international one.
func TestNamesQuotedInErrorsHaveNumbersMasked(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		code   Code
		want   string
	}{
		{"invalid key", map[string]any{"(202) 555-0123": "x"}, InvalidKey, `attribute key "(***) ***-**23" may only have letters, digits, _ and -`},
		{"invalid key in a get", map[string]any{"operation": "get", "keys": "202.555.0123"}, InvalidKey, `attribute key "***.***.**23" may only have letters, digits, _ and -`},
		{"unknown operation", map[string]any{"operation": "2025550123"}, BadRequest, `unknown operation "********23": use update, get or optout`},
		{"number cut by the 64-byte limit", map[string]any{strings.Repeat("k", 56) + " 2025550123": "x"}, InvalidKey,
			`attribute key "` + strings.Repeat("k", 56) + ` ****…" may only have letters, digits, _ and -`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			resp := fx.invoke(t, event(tt.params))
			wantError(t, resp, tt.code)
			if resp[RespErrorMessage] != tt.want {
				t.Errorf("error_message = %q, want %q", resp[RespErrorMessage], tt.want)
			}
			for _, clear := range []string{"555-0123", "555.0123", "2025550123", "202) 555", "202.555"} {
				if strings.Contains(fx.logs.String(), clear) {
					t.Errorf("log has %q in clear: %s", clear, fx.logs)
				}
			}
		})
	}
}

func TestTheBudgetBoundsAStalledConnect(t *testing.T) {
	budget := 200 * time.Millisecond
	fx := newFixture(t, func(c *Config) { c.Budget.Total = budget })
	fx.connect.stall = true
	start := time.Now()
	resp := fx.invoke(t, event(map[string]any{"a": "1"}))
	took := time.Since(start)
	wantError(t, resp, Timeout)
	if took > budget+250*time.Millisecond {
		t.Errorf("answered after %s, want by the budget's deadline (%s) and a generous 250ms", took, budget)
	}
}

func TestTheLambdaDeadlineBoundsTheBudget(t *testing.T) {
	fx := newFixture(t) // 2s budget
	fx.connect.stall = true
	ctx, cancel := context.WithTimeout(context.Background(), flowbudget.DefaultMargin+200*time.Millisecond)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	start := time.Now()
	out, err := fx.h.Invoke(ctx, event(map[string]any{"a": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	// The 2s budget would answer after 2s: the Lambda deadline less the margin leaves 200ms.
	// (The margin itself is checked exactly, without a clock, by flowbudget's
	// TestStartTakesTheEarlierDeadline.)
	if took := time.Since(start); took > 200*time.Millisecond+250*time.Millisecond {
		t.Errorf("answered after %s, want by the Lambda deadline minus the margin (200ms) and a generous 250ms", took)
	}
	if !strings.Contains(string(out), `"error_code":"TIMEOUT"`) {
		t.Errorf("response %s", out)
	}
	if got := fx.logLine(t)["request_id"]; got != "req-1" {
		t.Errorf("log request_id = %v", got)
	}
}

func TestNewHandlerValidates(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	if _, err := NewHandler(Config{}, newFakeConnect(), &fakeList{}, log); err == nil {
		t.Error("zero config accepted")
	}
	if _, err := NewHandler(DefaultConfig(), nil, &fakeList{}, log); err == nil {
		t.Error("nil Connect accepted")
	}
}

func TestEveryCodeIsDistinctAndUppercase(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range Codes {
		if seen[c] || strings.ToUpper(string(c)) != string(c) {
			t.Errorf("code %q repeated or not uppercase", c)
		}
		seen[c] = true
	}
}

// panickingList is a do-not-call list with a bug: it panics, quoting the number.
type panickingList struct{}

func (panickingList) Record(_ context.Context, e donotcall.Entry) (bool, error) {
	panic("cannot record " + e.PhoneNumber)
}

// panickingConnect is a Connect client with a bug.
type panickingConnect struct{ fakeConnect }

func (*panickingConnect) GetContactAttributes(context.Context, *connect.GetContactAttributesInput, ...func(*connect.Options)) (*connect.GetContactAttributesOutput, error) {
	var attrs map[string]string
	attrs["x"] = "y" // assignment to entry in nil map
	return nil, nil
}

// wantInternal invokes h and checks that it answered exactly the INTERNAL map, without
// panicking or failing the invocation.
func wantInternal(t *testing.T, h *Handler, payload []byte) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("Invoke panicked: %v", v)
		}
	}()
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke error %v, want a response", err)
	}
	var resp map[string]string
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	want := map[string]string{RespResult: ResultError, RespErrorCode: "INTERNAL", RespErrorMessage: "internal error"}
	if !maps.Equal(resp, want) {
		t.Errorf("response = %v, want %v", resp, want)
	}
}

// A bug answers a flat map with INTERNAL, in either error mode, and logs the stack without the
// caller's number.
func TestAPanicIsAnsweredInternal(t *testing.T) {
	tests := []struct {
		name   string
		mode   ErrorMode
		attrs  ContactAttributes
		list   OptOutRecorder
		params map[string]any
		frame  string // a function the stack must name
	}{
		{"opt-out list panics", ErrorModeResult, newFakeConnect(), panickingList{}, map[string]any{"operation": "optout", "phone_number": "+1 202 555 0123"}, "contactflow.panickingList.Record"},
		{"Connect client panics, fail mode", ErrorModeFail, &panickingConnect{}, &fakeList{}, map[string]any{"operation": "get", "keys": "a"}, "contactflow.(*panickingConnect).GetContactAttributes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ErrorMode = tt.mode
			var logs bytes.Buffer
			h, err := NewHandler(cfg, tt.attrs, tt.list, slog.New(slog.NewJSONHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			wantInternal(t, h, event(tt.params))
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			stack, _ := line["stack"].(string)
			if line["level"] != "ERROR" || line["error_code"] != "INTERNAL" || !strings.Contains(stack, "goroutine ") || !strings.Contains(stack, tt.frame) {
				t.Errorf("log line = %v, want ERROR INTERNAL with a stack naming %s", line, tt.frame)
			}
			if !strings.HasPrefix(fmt.Sprint(line["error"]), "panic: ") {
				t.Errorf("log error = %v, want the panic", line["error"])
			}
			for _, clear := range []string{"2025550123", "202 555 0123"} {
				if strings.Contains(logs.String(), clear) {
					t.Errorf("log has the number in clear: %s", logs.String())
				}
			}
		})
	}
}

// A response that cannot be encoded becomes INTERNAL, not a Lambda error.
func TestAnEncodingFailureIsAnsweredInternal(t *testing.T) {
	fx := newFixture(t)
	fx.h.encode = func(map[string]string) ([]byte, error) { return nil, errors.New("json: unsupported value") }
	wantInternal(t, fx.h, event(map[string]any{"a": "1"}))
	lines := strings.Split(strings.TrimSpace(fx.logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"level":"ERROR"`) || !strings.Contains(lines[1], `"error_code":"INTERNAL"`) || !strings.Contains(lines[1], "json: unsupported value") {
		t.Errorf("log = %s, want the invocation's line and an ERROR line for the encoding failure", fx.logs)
	}
}
