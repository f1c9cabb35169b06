package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/logcapture"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

// IDs the sample events use; tests replace them with the contact connectsim issued.
const (
	sampleInitialContactID = "5f1b2c3d-4e5f-4a6b-8c7d-000000000001"
	sampleContactID        = "5f1b2c3d-4e5f-4a6b-8c7d-000000000002"
	samplesDir             = "../../events/contactflow"
	tableName              = "switchboard-do-not-call"
)

// slack is what an answer may take beyond the budget: the margin the handler keeps before the
// deadline is spent returning, not waiting.
const slack = 250 * time.Millisecond

// fn is the function as Lambda runs it, wired to connectsim and dynalite.
type fn struct {
	sim     *simtest.Server
	table   *donotcall.Table
	handler lambda.Handler
	logs    *logcapture.Buffer
	budget  time.Duration
}

// dynalite is shared by the tests of this package: each test uses its own numbers.
var (
	dynaliteOnce sync.Once
	dynalite     *dynalitetest.Server
	dynaliteErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dynalite != nil {
		dynalite.Stop()
	}
	os.Exit(code)
}

func sharedDynalite(t testing.TB) *dynalitetest.Server {
	t.Helper()
	dynaliteOnce.Do(func() {
		dynalite, dynaliteErr = dynalitetest.StartProcess()
		if dynaliteErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, dynaliteErr = dynalite.Client().CreateTable(ctx, donotcall.CreateTableInput(tableName))
	})
	if dynaliteErr != nil {
		t.Fatal(dynaliteErr)
	}
	return dynalite
}

// start wires the function with env (on top of DO_NOT_CALL_TABLE) to a fresh connectsim;
// connectOpt may point the Connect client elsewhere.
func start(t testing.TB, env map[string]string, opts connectsim.Options, connectOpt ...func(*connect.Options)) *fn {
	t.Helper()
	sim := simtest.Start(t, opts)
	ddb := sharedDynalite(t)
	all := map[string]string{contactflow.EnvDoNotCallTable: tableName}
	maps.Copy(all, env)
	logs := &logcapture.Buffer{}
	h, err := contactflow.FromEnv(awsclient.Wiring{
		Getenv:   func(k string) string { return all[k] },
		AWS:      sim.AWSConfig(),
		Log:      slog.New(slog.NewJSONHandler(logs, nil)),
		Connect:  connectOpt,
		DynamoDB: []func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddb.URL) }},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := contactflow.ConfigFromEnv(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	return &fn{sim: sim, table: donotcall.NewTable(ddb.Client(), tableName), handler: lambda.NewHandler(h), logs: logs, budget: cfg.Budget.Total}
}

func (f *fn) contact(t testing.TB, attrs map[string]string) connectsim.ContactView {
	t.Helper()
	c, err := f.sim.CreateContact(connectsim.NewContact{InstanceID: connectsim.DefaultInstanceID, Channel: connectsim.ChannelVoice, CustomerNumber: "+12025550123", Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sample reads a sample event and points it at contact c.
func sample(t testing.TB, name string, c connectsim.ContactView) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), sampleInitialContactID, c.InitialContactID)
	s = strings.ReplaceAll(s, sampleContactID, c.ID)
	if !strings.Contains(s, `"InstanceARN": "`+connectsimInstanceARN()+`"`) {
		t.Fatalf("%s does not use connectsim's default instance", name)
	}
	return []byte(s)
}

func connectsimInstanceARN() string {
	return fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s", connectsim.DefaultRegion, connectsim.DefaultAccountID, connectsim.DefaultInstanceID)
}

// invoke calls the function the way the Lambda runtime does and checks that it answered within
// the budget with a flat string map under 32 KB.
func (f *fn) invoke(t testing.TB, payload []byte) map[string]string {
	t.Helper()
	begin := time.Now()
	out, err := f.handler.Invoke(context.Background(), payload)
	took := time.Since(begin)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if took > f.budget+slack {
		t.Errorf("answered after %s, budget %s", took, f.budget)
	}
	if len(out) >= 32*1024 {
		t.Errorf("response of %d bytes", len(out))
	}
	var resp map[string]string
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s is not a flat string map: %v", out, err)
	}
	return resp
}

// lastLog returns the last log line.
func (f *fn) lastLog(t testing.TB) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("log line %q: %v", lines[len(lines)-1], err)
	}
	return m
}

func wantOK(t testing.TB, resp map[string]string, want map[string]string) {
	t.Helper()
	w := maps.Clone(want)
	w[contactflow.RespResult] = contactflow.ResultOK
	if !maps.Equal(resp, w) {
		t.Errorf("response = %v, want %v", resp, w)
	}
}

func wantCode(t testing.TB, resp map[string]string, code contactflow.Code) {
	t.Helper()
	if resp[contactflow.RespResult] != contactflow.ResultError || resp[contactflow.RespErrorCode] != string(code) || resp[contactflow.RespErrorMessage] == "" {
		t.Errorf("response = %v, want error %s", resp, code)
	}
}

func TestSampleEvents(t *testing.T) {
	tests := []struct {
		file      string
		attrs     map[string]string // the contact's attributes before
		want      map[string]string // response besides result=ok
		wantAttrs map[string]string // the contact's attributes after (nil: unchanged)
		number    string            // opted out
	}{
		{file: "update.json", attrs: map[string]string{"campaign": "x"},
			want:      map[string]string{"count": "2"},
			wantAttrs: map[string]string{"campaign": "x", "customer_tier": "gold", "last_menu_choice": "2"}},
		{file: "update-real-shaped.json", attrs: map[string]string{"customer_name": "Zoë Ñúñez", "greeting": "こんにちは"},
			want: map[string]string{"count": "6"},
			wantAttrs: map[string]string{"customer_name": "Zoë Ñúñez", "greeting": "こんにちは",
				"preferred_language": "français", "greeting_seen": "true", "menu_depth": "3", "balance": "12.50",
				"account": `{"id":"A-1042","flags":["autopay","paperless"],"owner":{"name":"Zoë"}}`, "callback_window": "null"}},
		{file: "get-keys.json", attrs: map[string]string{"customer_tier": "gold", "last_menu_choice": "2", "other": "x"},
			want: map[string]string{"customer_tier": "gold", "last_menu_choice": "2", "count": "2"}},
		{file: "get-prefix.json", attrs: map[string]string{"cart_1": "socks", "cart_2": "chaussettes en laine", "cartography": "x"},
			want: map[string]string{"cart_1": "socks", "cart_2": "chaussettes en laine", "count": "2"}},
		{file: "optout.json", want: map[string]string{"optout_status": "recorded"}, number: "+12025550123"},
		{file: "optout-phone-parameter.json", want: map[string]string{"optout_status": "recorded"}, number: "+12025550147"},
	}
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if len(files) != len(tests) {
		t.Errorf("%d samples in %s, %d tested", len(files), samplesDir, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := start(t, nil, connectsim.Options{})
			c := f.contact(t, tt.attrs)
			if tt.number != "" {
				// The shared table may hold the number from an earlier run of this test.
				if _, found, _ := f.table.Lookup(context.Background(), tt.number); found {
					t.Skipf("%s already opted out in this process", tt.number)
				}
			}
			resp := f.invoke(t, sample(t, tt.file, c))
			wantOK(t, resp, tt.want)

			after, _ := f.sim.Contact(c.ID)
			want := tt.wantAttrs
			if want == nil {
				want = tt.attrs
			}
			if !maps.Equal(after.Attributes, want) && !(len(after.Attributes) == 0 && len(want) == 0) {
				t.Errorf("contact attributes = %v, want %v", after.Attributes, want)
			}

			log := f.lastLog(t)
			if log["contact_id"] != c.ID || log["outcome"] != "ok" || log["instance_id"] != connectsim.DefaultInstanceID {
				t.Errorf("log line %v", log)
			}

			if tt.number == "" {
				return
			}
			e, found, err := f.table.Lookup(context.Background(), tt.number)
			if err != nil || !found || e.Source != donotcall.SourceContactFlow || e.ContactID != c.ID || e.Reason == "" {
				t.Errorf("do-not-call entry = %+v, %v, %v", e, found, err)
			}
			if strings.Contains(f.logs.String(), tt.number[2:]) {
				t.Errorf("log has the number in clear: %s", f.logs)
			}
			// A repeat keeps the first record and says so.
			wantOK(t, f.invoke(t, sample(t, tt.file, c)), map[string]string{"optout_status": "already_recorded"})
		})
	}
}

func TestFailureClassesAnswerTheirCodeWithinTheBudget(t *testing.T) {
	near := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		env    map[string]string
		setup  func(f *fn)
		attrs  map[string]string
		params map[string]any
		// payload replaces the event when set.
		payload   string
		code      contactflow.Code
		noUpdates bool // UpdateContactAttributes must not be called
	}{
		{name: "throttled", setup: func(f *fn) {
			f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultThrottle})
		}, params: map[string]any{"a": "1"}, code: contactflow.Throttled, noUpdates: true},
		{name: "throttled update", setup: func(f *fn) {
			f.sim.SetFault(connectsim.OpUpdateContactAttributes, connectsim.Fault{Kind: connectsim.FaultThrottle})
		}, params: map[string]any{"a": "1"}, code: contactflow.Throttled},
		{name: "internal error", setup: func(f *fn) {
			f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultInternal})
		}, params: map[string]any{"operation": "get", "keys": "a"}, code: contactflow.ConnectUnavailable},
		{name: "connection dropped", setup: func(f *fn) {
			f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultDrop})
		}, params: map[string]any{"a": "1"}, code: contactflow.ConnectUnavailable, noUpdates: true},
		{name: "slow Connect", env: map[string]string{contactflow.EnvBudget: "600ms"}, setup: func(f *fn) {
			f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultLatency, Latency: 5 * time.Second})
		}, params: map[string]any{"a": "1"}, code: contactflow.Timeout, noUpdates: true},
		{name: "unknown contact", params: map[string]any{"a": "1", "contact_id": "99999999-9999-4999-8999-999999999999"}, code: contactflow.ContactNotFound, noUpdates: true},
		{name: "unknown contact on get", params: map[string]any{"operation": "get", "prefix": "a", "contact_id": "99999999-9999-4999-8999-999999999999"}, code: contactflow.ContactNotFound},
		{name: "oversize with existing attributes", attrs: map[string]string{"big": near(30000)}, params: map[string]any{"more": near(3000)}, code: contactflow.AttributesTooLarge, noUpdates: true},
		{name: "invalid key", params: map[string]any{"not a key": "1"}, code: contactflow.InvalidKey, noUpdates: true},
		{name: "malformed event", payload: `{"Details": {"ContactData": `, code: contactflow.BadRequest},
		{name: "not an object", payload: `["ContactFlowEvent"]`, code: contactflow.BadRequest},
		{name: "unknown operation", params: map[string]any{"operation": "delete"}, code: contactflow.BadRequest},
		{name: "invalid number", params: map[string]any{"operation": "optout", "phone_number": "12"}, code: contactflow.InvalidPhoneNumber},
		{name: "local number without its area code", params: map[string]any{"operation": "optout", "phone_number": "555-0123"}, code: contactflow.IncompletePhoneNumber},
		{name: "do-not-call table missing", env: map[string]string{contactflow.EnvDoNotCallTable: "no-such-table"}, params: map[string]any{"operation": "optout", "phone_number": "+12025550166"}, code: contactflow.OptOutUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, tt.env, connectsim.Options{})
			c := f.contact(t, tt.attrs)
			if tt.setup != nil {
				tt.setup(f)
			}
			payload := []byte(tt.payload)
			if tt.payload == "" {
				payload = event(c, tt.params)
			}
			resp := f.invoke(t, payload)
			wantCode(t, resp, tt.code)
			if log := f.lastLog(t); log["error_code"] != string(tt.code) {
				t.Errorf("log line %v", log)
			}
			if n := f.sim.Stats().Requests[connectsim.OpUpdateContactAttributes]; tt.noUpdates && len(n) > 0 {
				t.Errorf("UpdateContactAttributes was called: %v", n)
			}
		})
	}
}

// One throttled answer costs a retry, not the invocation.
func TestATransientThrottleIsRetried(t *testing.T) {
	f := start(t, nil, connectsim.Options{})
	c := f.contact(t, nil)
	f.sim.SetFault(connectsim.OpUpdateContactAttributes, connectsim.Fault{Kind: connectsim.FaultThrottle, Count: 1})
	wantOK(t, f.invoke(t, event(c, map[string]any{"a": "1"})), map[string]string{"count": "1"})
	got := f.sim.Stats().Requests[connectsim.OpUpdateContactAttributes]
	if got["ThrottlingException"] != 1 || got["ok"] != 1 {
		t.Errorf("UpdateContactAttributes outcomes = %v, want one throttled then one ok", got)
	}
	if after, _ := f.sim.Contact(c.ID); after.Attributes["a"] != "1" {
		t.Errorf("attributes = %v", after.Attributes)
	}
}

// When the time left cannot hold a retry, a throttled call is answered at once as THROTTLED
// after exactly one attempt. A 3 s budget needs 600 ms for a retry (a 300 ms backoff and a
// 300 ms attempt); the Lambda deadline leaves it 500 ms (750 ms less the 250 ms margin), so no
// retry fits once the first attempt has answered.
func TestNoRetryWhenItCannotFit(t *testing.T) {
	f := start(t, map[string]string{contactflow.EnvBudget: "3s"}, connectsim.Options{})
	c := f.contact(t, nil)
	f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultThrottle})
	ctx, cancel := context.WithTimeout(context.Background(), 750*time.Millisecond)
	defer cancel()
	begin := time.Now()
	out, err := f.handler.Invoke(ctx, event(c, map[string]any{"operation": "get", "keys": "a"}))
	if took := time.Since(begin); took > 500*time.Millisecond+slack {
		t.Errorf("answered after %s, the Lambda deadline leaves 500ms", took)
	}
	if err != nil {
		t.Fatal(err)
	}
	var resp map[string]string
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	wantCode(t, resp, contactflow.Throttled)
	if got := f.sim.Stats().Requests[connectsim.OpGetContactAttributes]; !maps.Equal(got, map[string]int{"ThrottlingException": 1}) {
		t.Errorf("GetContactAttributes requests by outcome = %v, want exactly one, throttled", got)
	}
	if log := f.lastLog(t); !strings.Contains(fmt.Sprint(log["error"]), "no time left in the budget for another attempt") {
		t.Errorf("log error = %v, want the retryer's refusal", log["error"])
	}
}

// In fail mode a Connect failure (HTTP 500) fails the invocation, so that Connect retries it and
// then takes the Error branch; a permanent error or a throttle is still answered as a map, since
// Connect's retries would only repeat it.
func TestErrorModeFailTakesTheErrorBranch(t *testing.T) {
	f := start(t, map[string]string{contactflow.EnvErrorMode: "fail"}, connectsim.Options{})
	c := f.contact(t, nil)

	f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultInternal})
	_, err := f.handler.Invoke(context.Background(), event(c, map[string]any{"operation": "get", "keys": "a"}))
	var fe *contactflow.FlowError
	if !errors.As(err, &fe) || fe.Code != contactflow.ConnectUnavailable {
		t.Fatalf("error = %v, want CONNECT_UNAVAILABLE", err)
	}

	f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultThrottle})
	wantCode(t, f.invoke(t, event(c, map[string]any{"operation": "get", "keys": "a"})), contactflow.Throttled)
	f.sim.ClearFaults()

	wantCode(t, f.invoke(t, event(c, map[string]any{"operation": "get", "keys": "a", "contact_id": "99999999-9999-4999-8999-999999999999"})), contactflow.ContactNotFound)
	// Successes still answer a map.
	wantOK(t, f.invoke(t, event(c, map[string]any{"a": "1"})), map[string]string{"count": "1"})
}

func TestNewHandlerReportsEveryConfigurationProblem(t *testing.T) {
	env := map[string]string{contactflow.EnvBudget: "20s", contactflow.EnvErrorMode: "loud"}
	_, err := contactflow.FromEnv(awsclient.Wiring{Getenv: func(k string) string { return env[k] }, Log: slog.Default()})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"FLOW_BUDGET", "ERROR_MODE", "DO_NOT_CALL_TABLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// event builds a contact-flow event for contact c.
func event(c connectsim.ContactView, params map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"Name": "ContactFlowEvent",
		"Details": map[string]any{
			"ContactData": map[string]any{
				"ContactId": c.ID, "InitialContactId": c.InitialContactID, "InstanceARN": connectsimInstanceARN(),
				"Channel": "VOICE", "CustomerEndpoint": map[string]any{"Address": c.CustomerNumber, "Type": "TELEPHONE_NUMBER"},
			},
			"Parameters": params,
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// refusingConnect answers every request as Connect answers a refusal: the status, the error type
// in X-Amzn-ErrorType (with the suffix Connect's front end adds) and a JSON message, and counts
// the requests.
type refusingConnect struct {
	status int
	code   string
	mu     sync.Mutex
	paths  []string
}

func (c *refusingConnect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.paths = append(c.paths, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", c.code+":http://internal.amazon.com/coral/com.amazon.coral.service/")
	w.WriteHeader(c.status)
	fmt.Fprintf(w, `{"message":"refused with %s"}`, c.code)
}

func (c *refusingConnect) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

// Credentials Connect refuses and a used-up quota get codes of their own, and the real SDK
// client sends each request exactly once: none of them passes on a retry. The SDK's standard
// retryer counts LimitExceededException as a throttle; the function's retryer does not.
func TestRefusalsAreNotRetriedAndSayWhatToFix(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   contactflow.Code
	}{
		{429, "LimitExceededException", contactflow.LimitExceeded},
		{403, "AccessDeniedException", contactflow.AccessDenied},
		{403, "ExpiredTokenException", contactflow.InvalidCredentials},
		{403, "UnrecognizedClientException", contactflow.InvalidCredentials},
		{403, "InvalidSignatureException", contactflow.InvalidCredentials},
		{403, "InvalidClientTokenId", contactflow.InvalidCredentials},
		{400, "SomethingNewException", contactflow.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			refuse := &refusingConnect{status: tt.status, code: tt.code}
			srv := httptest.NewServer(refuse)
			defer srv.Close()
			f := start(t, map[string]string{"CONNECT_MAX_ATTEMPTS": "3"}, connectsim.Options{},
				func(o *connect.Options) { o.BaseEndpoint = aws.String(srv.URL) })
			c := connectsim.ContactView{ID: "aaaaaaaa-0000-4000-8000-000000000002", InitialContactID: "aaaaaaaa-0000-4000-8000-000000000001", CustomerNumber: "+12025550123"}
			resp := f.invoke(t, event(c, map[string]any{"operation": "get", "keys": "a"}))
			wantCode(t, resp, tt.want)
			want := []string{"GET /contact/attributes/" + connectsim.DefaultInstanceID + "/" + c.InitialContactID}
			if got := refuse.requests(); !slices.Equal(got, want) {
				t.Errorf("requests = %q, want exactly %q", got, want)
			}
		})
	}
}

// However many attempts the client may make, it stops retrying when the next one would not fit,
// and the flow hears why (THROTTLED), not just that time ran out.
func TestRetriesStopAtTheBudget(t *testing.T) {
	f := start(t, map[string]string{contactflow.EnvBudget: "150ms", "CONNECT_MAX_ATTEMPTS": "10"}, connectsim.Options{})
	c := f.contact(t, nil)
	f.sim.SetFault(connectsim.OpGetContactAttributes, connectsim.Fault{Kind: connectsim.FaultThrottle})
	begin := time.Now()
	wantCode(t, f.invoke(t, event(c, map[string]any{"a": "1"})), contactflow.Throttled)
	n := f.sim.Stats().Requests[connectsim.OpGetContactAttributes]["ThrottlingException"]
	t.Logf("%d attempts in %s", n, time.Since(begin).Round(time.Millisecond))
	if n < 2 || n >= 10 {
		t.Errorf("%d attempts, want a few retries and fewer than the 10 allowed", n)
	}
}

// The deployed wiring: the SDK finds connectsim and dynalite through AWS_ENDPOINT_URL_<SERVICE>,
// as it does for `make run`, with no endpoint setting of ours.
func TestWiringThroughTheEnvironment(t *testing.T) {
	sim := simtest.Start(t, connectsim.Options{})
	ddb := sharedDynalite(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_CONNECT":    sim.URL,
		"AWS_ENDPOINT_URL_DYNAMODB":   ddb.URL,
		"AWS_REGION":                  connectsim.DefaultRegion,
		"AWS_ACCESS_KEY_ID":           "AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY":       "local",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
		contactflow.EnvDoNotCallTable: tableName,
		contactflow.EnvBudget:         "2s",
	} {
		t.Setenv(k, v)
	}
	cfg, err := awsclient.FromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logcapture.Buffer{}
	h, err := contactflow.FromEnv(awsclient.Wiring{Getenv: os.Getenv, AWS: cfg, Log: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f := &fn{sim: sim, table: donotcall.NewTable(ddb.Client(), tableName), handler: lambda.NewHandler(h), logs: logs, budget: 2 * time.Second}
	c := f.contact(t, nil)
	wantOK(t, f.invoke(t, sample(t, "update.json", c)), map[string]string{"count": "2"})
	wantOK(t, f.invoke(t, event(c, map[string]any{"operation": "optout", "phone_number": "+12025550155"})), map[string]string{"optout_status": "recorded"})
	if _, found, err := f.table.Lookup(context.Background(), "+12025550155"); !found || err != nil {
		t.Errorf("opt-out not in dynalite: %v, %v", found, err)
	}
}
