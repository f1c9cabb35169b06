package authredirect

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

const testInstance = "11111111-2222-4333-8444-555555555555"

// fakeConnect answers UpdateParticipantAuthentication with the next queued error (nil when the
// queue is empty) and records every input.
type fakeConnect struct {
	mu      sync.Mutex
	errs    []error
	inputs  []connect.UpdateParticipantAuthenticationInput
	blockOn bool // wait for the context to end instead of answering
}

func (f *fakeConnect) UpdateParticipantAuthentication(ctx context.Context, in *connect.UpdateParticipantAuthenticationInput, _ ...func(*connect.Options)) (*connect.UpdateParticipantAuthenticationOutput, error) {
	f.mu.Lock()
	f.inputs = append(f.inputs, *in)
	block := f.blockOn
	var err error
	if len(f.errs) > 0 {
		err, f.errs = f.errs[0], f.errs[1:]
	}
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, fmt.Errorf("operation error Connect: UpdateParticipantAuthentication: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	return &connect.UpdateParticipantAuthenticationOutput{}, nil
}

func (f *fakeConnect) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.inputs)
}

// fakeClaims is an in-memory authstate.Store.
type fakeClaims struct {
	mu       sync.Mutex
	held     map[string]string // hash -> claim ID
	n        int
	claimErr error
	// claimApplied makes a failing claim hold the state all the same, as a PutItem whose reply
	// was lost does.
	claimApplied bool
	releaseErr   error
	releases     int
	leases       []time.Duration
	extended     map[string]bool // hash -> extended
	extendErr    error
}

func newFakeClaims() *fakeClaims {
	return &fakeClaims{held: map[string]string{}, extended: map[string]bool{}}
}

func (f *fakeClaims) Claim(_ context.Context, state string, lease time.Duration) (authstate.Claim, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := authstate.Hash(state)
	f.n++
	f.leases = append(f.leases, lease)
	c := authstate.Claim{Hash: h, ID: fmt.Sprint(f.n)}
	if f.claimErr != nil {
		// The outcome of the write is unknown: the attempted claim comes back with the error.
		if _, ok := f.held[h]; !ok && f.claimApplied {
			f.held[h] = c.ID
		}
		return c, f.claimErr
	}
	if _, ok := f.held[h]; ok {
		return authstate.Claim{}, authstate.ErrAlreadyUsed
	}
	f.held[h] = c.ID
	return c, nil
}

func (f *fakeClaims) Extend(_ context.Context, c authstate.Claim) (authstate.Claim, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.extendErr != nil {
		return c, f.extendErr
	}
	if f.held[c.Hash] != c.ID {
		return c, authstate.ErrNotHeld
	}
	f.extended[c.Hash] = true
	return c, nil
}

func (f *fakeClaims) Release(_ context.Context, c authstate.Claim) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases++
	if f.releaseErr != nil {
		return f.releaseErr
	}
	switch id, ok := f.held[c.Hash]; {
	case ok && id == c.ID:
		delete(f.held, c.Hash)
	case ok:
		return authstate.ErrNotHeld
	}
	return nil
}

func testConfig() Config {
	return Config{
		InstanceID: testInstance,
		ChatOrigin: "https://chat.example.com",
		StateTable: "auth-state",
		StateTTL:   DefaultStateTTL,
		CallBudget: flowbudget.Budget{Total: DefaultCallBudget, Margin: flowbudget.DefaultMargin},
	}
}

type rig struct {
	h       *Handler
	connect *fakeConnect
	claims  *fakeClaims
	logs    *bytes.Buffer
}

func newRig(t testing.TB, connectErrs ...error) *rig {
	t.Helper()
	r := &rig{connect: &fakeConnect{errs: connectErrs}, claims: newFakeClaims(), logs: &bytes.Buffer{}}
	var err error
	r.h, err = NewHandler(testConfig(), r.connect, r.claims, slog.New(slog.NewJSONHandler(r.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testAttempt is an attempt identifier as the page sends it.
const testAttempt = "AAAAAAAAAAAAAAAAAAAAAA"

// testTail ends a completion's body as the page's does after the chat window confirmed.
const testTail = "&attempt=" + testAttempt + "&binding=opener"

func (r *rig) get(query string) Page {
	return r.h.Handle(context.Background(), Request{Method: http.MethodGet, RawQuery: query, RequestID: "req-1"})
}

// complete POSTs a callback's query as the page does after the chat window confirmed it.
func (r *rig) complete(query string) Page {
	return r.h.Handle(context.Background(), completionRequest(query))
}

func completionRequest(query string) Request {
	return Request{Method: http.MethodPost, ContentType: "application/x-www-form-urlencoded",
		Body: query + testTail, RequestID: "req-1"}
}

func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func apiErr(status int, err error) error {
	return &smithy.OperationError{ServiceID: "Connect", OperationName: "UpdateParticipantAuthentication",
		Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

var (
	errConflict   = apiErr(409, &types.ConflictException{Message: aws.String("already complete")})
	errInvalidReq = apiErr(400, &types.InvalidRequestException{Message: aws.String("state not valid")})
	errThrottle   = apiErr(429, &types.ThrottlingException{Message: aws.String("slow down")})
	errInternal   = apiErr(500, &types.InternalServiceException{Message: aws.String("oops")})
	errAccess     = apiErr(403, &types.AccessDeniedException{Message: aws.String("no")})
	errParam      = apiErr(400, &types.InvalidParameterException{Message: aws.String("bad")})
	errUnknown5xx = apiErr(503, &smithy.GenericAPIError{Code: "ServiceUnavailable"})
	errNetwork    = &smithy.OperationError{ServiceID: "Connect", OperationName: "UpdateParticipantAuthentication", Err: errors.New("dial tcp: connection refused")}
)

func TestHandleOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		connectErr error
		outcome    Outcome
		status     int
		calls      int
		released   bool // the claim was given back
	}{
		{"code accepted", query("code", "c0de", "state", "s"), nil, OutcomeSuccess, 200, 1, false},
		{"cancelled", query("error", "access_denied", "error_description", "User cancelled", "state", "s"), nil, OutcomeCancelled, 200, 1, false},
		{"sign-in failed", query("error", "server_error", "state", "s"), nil, OutcomeError, 200, 1, false},
		{"conflict", query("code", "c", "state", "s"), errConflict, OutcomeAlreadyUsed, 409, 1, false},
		{"expired", query("code", "c", "state", "s"), errInvalidReq, OutcomeExpired, 410, 1, false},
		{"throttled", query("code", "c", "state", "s"), errThrottle, OutcomeRetry, 503, 1, true},
		{"internal", query("code", "c", "state", "s"), errInternal, OutcomeRetry, 503, 1, true},
		{"unknown 5xx", query("code", "c", "state", "s"), errUnknown5xx, OutcomeRetry, 503, 1, true},
		{"no answer", query("code", "c", "state", "s"), errNetwork, OutcomeRetry, 503, 1, true},
		{"access denied", query("code", "c", "state", "s"), errAccess, OutcomeError, 502, 1, false},
		{"invalid parameter", query("code", "c", "state", "s"), errParam, OutcomeError, 502, 1, false},
		{"malformed", query("code", "c", "error", "access_denied", "state", "s"), nil, OutcomeError, 400, 0, false},
		{"no state", query("code", "c"), nil, OutcomeError, 400, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.connectErr)
			p := r.complete(tt.query)
			if p.Outcome != tt.outcome || p.Status != tt.status {
				t.Fatalf("got %s %d, want %s %d", p.Outcome, p.Status, tt.outcome, tt.status)
			}
			if got := r.connect.calls(); got != tt.calls {
				t.Fatalf("%d Connect calls, want %d", got, tt.calls)
			}
			if tt.calls == 0 && len(r.claims.held) > 0 {
				t.Fatal("an invalid callback claimed a state")
			}
			if tt.calls == 1 {
				_, held := r.claims.held[authstate.Hash("s")]
				if held == tt.released {
					t.Fatalf("claim held = %v, want released = %v", held, tt.released)
				}
				// A claim starts as a lease of the budget plus a margin, and is extended only
				// when Connect answered for good.
				if want := []time.Duration{DefaultCallBudget + leaseMargin}; !reflect.DeepEqual(r.claims.leases, want) {
					t.Fatalf("leases %v, want %v", r.claims.leases, want)
				}
				if r.claims.extended[authstate.Hash("s")] == tt.released {
					t.Fatalf("extended = %v, want %v", !tt.released, tt.released)
				}
			}
			want := `{"source":"switchboard-auth","attempt":"` + testAttempt + `","outcome":"` + string(tt.outcome) + `"}`
			if string(p.Body) != want || p.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("answer %s (%s), want %s", p.Body, p.Header.Get("Content-Type"), want)
			}
		})
	}
}

func TestHandleSendsWhatConnectExpects(t *testing.T) {
	r := newRig(t)
	r.complete(query("code", "the-code", "state", "the-state"))
	r.complete(query("error", "access_denied", "error_description", "User said \"no\"\n\\bye", "state", "s2"))
	r.complete(query("error", "server_error", "error_description", "\u00e9\u00e9", "state", "s3"))
	in := r.connect.inputs
	if len(in) != 3 {
		t.Fatalf("%d calls", len(in))
	}
	if aws.ToString(in[0].InstanceId) != testInstance || aws.ToString(in[0].State) != "the-state" || aws.ToString(in[0].Code) != "the-code" ||
		in[0].Error != nil || in[0].ErrorDescription != nil {
		t.Errorf("code call = %+v", in[0])
	}
	if aws.ToString(in[1].Error) != "access_denied" || aws.ToString(in[1].ErrorDescription) != "User said 'no' bye" || in[1].Code != nil {
		t.Errorf("error call = %+v", in[1])
	}
	if in[2].ErrorDescription != nil {
		t.Errorf("a description reduced to nothing was sent: %q", aws.ToString(in[2].ErrorDescription))
	}
}

func TestReplayIsRefusedWithoutASecondCall(t *testing.T) {
	r := newRig(t)
	q := query("code", "c", "state", "s")
	if p := r.complete(q); p.Outcome != OutcomeSuccess {
		t.Fatalf("first: %s", p.Outcome)
	}
	for range 3 {
		if p := r.complete(q); p.Outcome != OutcomeAlreadyUsed || p.Status != http.StatusConflict {
			t.Fatalf("replay: %s %d", p.Outcome, p.Status)
		}
	}
	// Same state with the other kind of answer: still a replay.
	if p := r.complete(query("error", "access_denied", "state", "s")); p.Outcome != OutcomeAlreadyUsed {
		t.Fatalf("replay as error: %s", p.Outcome)
	}
	if r.connect.calls() != 1 {
		t.Fatalf("%d calls, want 1", r.connect.calls())
	}
}

func TestRetryThenTheSameLinkWorks(t *testing.T) {
	r := newRig(t, errThrottle)
	q := query("code", "c", "state", "s")
	if p := r.complete(q); p.Outcome != OutcomeRetry {
		t.Fatalf("first: %s", p.Outcome)
	}
	if p := r.complete(q); p.Outcome != OutcomeSuccess {
		t.Fatalf("retry: %s", p.Outcome)
	}
	if p := r.complete(q); p.Outcome != OutcomeAlreadyUsed {
		t.Fatalf("after success: %s", p.Outcome)
	}
}

func TestReleaseFailureAsksForANewSignIn(t *testing.T) {
	r := newRig(t, errInternal)
	r.claims.releaseErr = errors.New("dynamodb down")
	p := r.complete(query("code", "c", "state", "s"))
	if p.Outcome != OutcomeError || p.Status != http.StatusServiceUnavailable {
		t.Fatalf("got %s %d", p.Outcome, p.Status)
	}
	if !strings.Contains(r.logs.String(), `"state_released":false`) {
		t.Fatalf("log does not say the release failed: %s", r.logs)
	}
}

// The store applied the claim but its reply was lost: the handler releases the attempted claim,
// so "Try again" with the same link works.
func TestLostClaimReplyIsReleasedThenTheSameLinkWorks(t *testing.T) {
	r := newRig(t)
	r.claims.claimErr = errors.New("claim state abc: operation error DynamoDB: PutItem: context deadline exceeded")
	r.claims.claimApplied = true
	q := query("code", "c", "state", "s")
	p := r.complete(q)
	if p.Outcome != OutcomeRetry || p.Status != http.StatusServiceUnavailable || r.connect.calls() != 0 {
		t.Fatalf("got %s %d with %d calls, want retry 503 and no call", p.Outcome, p.Status, r.connect.calls())
	}
	if r.claims.releases != 1 || !strings.Contains(r.logs.String(), `"state_released":true`) {
		t.Fatalf("%d releases, log: %s", r.claims.releases, r.logs)
	}
	r.claims.claimErr = nil
	if p := r.complete(q); p.Outcome != OutcomeSuccess {
		t.Fatalf("the same link after the store recovered: %s, want success", p.Outcome)
	}
}

// When the release finds the state held by another claim (or cannot tell), the same link would
// be refused: the page asks for a new sign-in from the chat, never "Try again".
func TestUnreleasedStateAsksForANewSignIn(t *testing.T) {
	tests := []struct {
		name       string
		connectErr error
		claimErr   error
		releaseErr error
	}{
		{"store failed, state held by another claim", nil, errors.New("claim state abc: InternalServerError"), nil},
		{"store failed, release failed", nil, errors.New("claim state abc: InternalServerError"), errors.New("release state abc: timeout")},
		{"Connect unavailable, state held by another claim", errThrottle, nil, authstate.ErrNotHeld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.connectErr)
			if tt.claimErr != nil {
				// A replay whose claim failed: the state is held by the earlier request.
				r.claims.held[authstate.Hash("s")] = "earlier"
				r.claims.claimErr = tt.claimErr
			}
			r.claims.releaseErr = tt.releaseErr
			p := r.complete(query("code", "c", "state", "s"))
			if p.Outcome != OutcomeError || p.Status != http.StatusServiceUnavailable {
				t.Fatalf("got %s %d, want error 503", p.Outcome, p.Status)
			}
			if pageTexts[p.Outcome].Retry {
				t.Fatal("the page offers Try again")
			}
			if r.claims.releases != 1 || !strings.Contains(r.logs.String(), `"state_released":false`) {
				t.Fatalf("%d releases, log: %s", r.claims.releases, r.logs)
			}
		})
	}
}

func TestStoreFailureMeansRetryAndNoCall(t *testing.T) {
	r := newRig(t)
	r.claims.claimErr = errors.New("claim state abc: ProvisionedThroughputExceeded")
	p := r.complete(query("code", "c", "state", "s"))
	if p.Outcome != OutcomeRetry || p.Status != http.StatusServiceUnavailable || r.connect.calls() != 0 {
		t.Fatalf("got %s %d with %d calls", p.Outcome, p.Status, r.connect.calls())
	}
}

func TestCallBudgetBoundsASlowConnect(t *testing.T) {
	r := newRig(t)
	r.connect.blockOn = true
	r.h.cfg.CallBudget.Total = 200 * time.Millisecond
	start := time.Now()
	p := r.complete(query("code", "c", "state", "s"))
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %s", took)
	}
	if p.Outcome != OutcomeRetry {
		t.Fatalf("got %s", p.Outcome)
	}
	if _, held := r.claims.held[authstate.Hash("s")]; held {
		t.Fatal("claim not released after the budget ran out")
	}
}

func TestOtherMethodsAreRefused(t *testing.T) {
	r := newRig(t)
	for _, m := range []string{http.MethodHead, http.MethodPut, http.MethodDelete} {
		p := r.h.Handle(context.Background(), Request{Method: m, RawQuery: query("code", "c", "state", "s")})
		if p.Status != http.StatusMethodNotAllowed || p.Header.Get("Allow") != "GET, POST" {
			t.Fatalf("%s: %d allow %q", m, p.Status, p.Header.Get("Allow"))
		}
	}
	if r.connect.calls() != 0 || len(r.claims.held) != 0 {
		t.Fatal("a request of another method was processed")
	}
}

// RFC 9700 section 4.7: the redirect alone must never complete the sign-in. A GET, valid or
// not, serves a page; only the page's POST, after the chat window confirmed the state, calls
// Connect.
func TestGetNeverCallsConnect(t *testing.T) {
	r := newRig(t)
	for _, q := range []string{
		query("code", "CODE-secret", "state", "STATE-secret"),
		query("error", "access_denied", "error_description", "no", "state", "STATE-secret2"),
		"", // a reload after the page moved the query into sessionStorage
	} {
		p := r.get(q)
		if p.Status != http.StatusOK || p.Outcome != OutcomePending {
			t.Fatalf("GET %q: %d %s, want 200 pending", q, p.Status, p.Outcome)
		}
		if !attemptPattern.MatchString(p.Attempt) || !strings.Contains(string(p.Body), `var attempt = "`+p.Attempt+`";`) {
			t.Fatalf("page attempt %q not in the page", p.Attempt)
		}
		if strings.Contains(string(p.Body), "secret") {
			t.Fatal("the page holds a request value")
		}
	}
	if r.connect.calls() != 0 || len(r.claims.held) != 0 {
		t.Fatalf("GET made %d Connect calls and %d claims", r.connect.calls(), len(r.claims.held))
	}
	if a, b := r.get(query("code", "c", "state", "s")), r.get(query("code", "c", "state", "s")); a.Attempt == b.Attempt {
		t.Fatal("two pages share an attempt identifier")
	}
	// A malformed callback gets the final error page straight away.
	if p := r.get(query("code", "c")); p.Status != http.StatusBadRequest || p.Outcome != OutcomeError {
		t.Fatalf("GET without state: %d %s", p.Status, p.Outcome)
	}
	if r.connect.calls() != 0 {
		t.Fatal("GET called Connect")
	}
}

// A completion must look like the page's: a form body with the callback and one attempt.
func TestCompletionRefusals(t *testing.T) {
	good := query("code", "c", "state", "s")
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
	}{
		{"json body", "application/json", good + testTail, http.StatusUnsupportedMediaType},
		{"no content type", "", good + testTail, http.StatusUnsupportedMediaType},
		{"too large", "application/x-www-form-urlencoded", good + testTail + "&x=" + strings.Repeat("a", MaxBodyLen), http.StatusRequestEntityTooLarge},
		{"no attempt", "application/x-www-form-urlencoded", good, http.StatusBadRequest},
		{"attempt twice", "application/x-www-form-urlencoded", good + testTail + testTail, http.StatusBadRequest},
		{"attempt malformed", "application/x-www-form-urlencoded", good + "&attempt=short", http.StatusBadRequest},
		{"callback malformed", "application/x-www-form-urlencoded", "code=c&attempt=" + testAttempt, http.StatusBadRequest},
		{"callback in the query, not the body", "application/x-www-form-urlencoded", "attempt=" + testAttempt, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			p := r.h.Handle(context.Background(), Request{Method: http.MethodPost, RawQuery: good, ContentType: tt.contentType, Body: tt.body})
			if p.Status != tt.status || p.Outcome != OutcomeError {
				t.Fatalf("got %d %s, want %d error", p.Status, p.Outcome, tt.status)
			}
			if r.connect.calls() != 0 || len(r.claims.held) != 0 {
				t.Fatal("a refused completion was processed")
			}
		})
	}
	r := newRig(t)
	if p := r.h.Handle(context.Background(), Request{Method: http.MethodPost, ContentType: "application/x-www-form-urlencoded; charset=UTF-8",
		Body: good + testTail}); p.Outcome != OutcomeSuccess {
		t.Fatalf("form body with a charset: %s", p.Outcome)
	}
}

// Every log line carries the outcome and a hash prefix of the state, and never the code, the
// state or the error description, whatever happens.
func TestLogsNeverHoldCodeStateOrDescription(t *testing.T) {
	const (
		code  = "CODE-6a1f0e0c-secret"
		state = "STATE-9b2d-secret"
		desc  = "DESC-secret"
	)
	scenarios := []struct {
		query string
		err   error
	}{
		{query("code", code, "state", state), nil},
		{query("code", code, "state", state), nil}, // replay
		{query("code", code, "state", state+"1"), errConflict},
		{query("code", code, "state", state+"2"), errInvalidReq},
		{query("code", code, "state", state+"3"), errThrottle},
		{query("code", code, "state", state+"4"), errAccess},
		{query("code", code, "state", state+"5"), errNetwork},
		{query("error", "access_denied", "error_description", desc, "state", state+"6"), nil},
		{query("error", "weird_"+desc, "error_description", desc, "state", state+"7"), nil},
		{query("code", code, "error", "x", "state", state), nil},
		{query("code", code, "code", code, "state", state), nil},
		{query("code", code+"\x00", "state", state), nil},
		{query("code", code, "state", state+"\n"), nil},
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	for i, sc := range scenarios {
		fc := &fakeConnect{errs: []error{sc.err}}
		claims := newFakeClaims()
		if i == 1 {
			claims.held[authstate.Hash(state)] = "earlier"
		}
		h, err := NewHandler(testConfig(), fc, claims, log)
		if err != nil {
			t.Fatal(err)
		}
		h.Handle(context.Background(), Request{Method: http.MethodGet, RawQuery: sc.query})
		h.Handle(context.Background(), completionRequest(sc.query))
	}
	// Store errors mention only the hash, as authstate's do: a failed claim (released, or not
	// released because another claim holds the state or the release failed too), and a release
	// after Connect was unavailable that finds another claim.
	hashErr := func(what string) error {
		return errors.New(what + " state " + authstate.Hash(state)[:12] + ": timeout")
	}
	storeScenarios := []struct {
		claimErr, releaseErr, connectErr error
		heldByOther                      bool
	}{
		{claimErr: hashErr("claim")},
		{claimErr: hashErr("claim"), heldByOther: true},
		{claimErr: hashErr("claim"), releaseErr: hashErr("release")},
		{connectErr: errThrottle, releaseErr: authstate.ErrNotHeld},
		{connectErr: errInternal, releaseErr: hashErr("release")},
	}
	for _, sc := range storeScenarios {
		claims := newFakeClaims()
		claims.claimErr, claims.releaseErr, claims.claimApplied = sc.claimErr, sc.releaseErr, true
		if sc.heldByOther {
			claims.held[authstate.Hash(state)] = "earlier"
		}
		h, _ := NewHandler(testConfig(), &fakeConnect{errs: []error{sc.connectErr}}, claims, log)
		h.Handle(context.Background(), completionRequest(query("code", code, "state", state)))
	}

	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if want := 2*len(scenarios) + len(storeScenarios); len(lines) != want {
		t.Fatalf("%d log lines for %d requests (one line per decision):\n%s", len(lines), want, out)
	}
	for _, secret := range []string{code, state, desc, "secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("logs hold %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `"state_hash":"`+authstate.Hash(state)[:hashPrefixLen]+`"`) {
		t.Fatalf("logs lack the state hash prefix:\n%s", out)
	}
	for _, line := range lines {
		if !strings.Contains(line, `"outcome":"`) {
			t.Fatalf("line without outcome: %s", line)
		}
	}
	if !strings.Contains(out, `"oauth_error":"other"`) || !strings.Contains(out, `"connect_error":"ThrottlingException"`) {
		t.Fatalf("logs lack the sorted error fields:\n%s", out)
	}
}

// The page never shows what the identity provider or Connect said.
func TestPageHoldsNoRequestValueOrInternalDetail(t *testing.T) {
	for _, err := range []error{nil, errConflict, errInvalidReq, errThrottle, errAccess, errNetwork} {
		r := newRig(t, err)
		q := query("error", "access_denied", "error_description", "<script>alert('DESC')</script>", "state", "STATEVALUE")
		body := string(r.get(q).Body) + string(r.complete(q).Body)
		for _, leak := range []string{"DESC", "STATEVALUE", "slow down", "oops", "connection refused", "Exception", "access_denied"} {
			if strings.Contains(body, leak) {
				t.Fatalf("page for %v shows %q", err, leak)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		kind callKind
		code string
	}{
		{errConflict, callConflict, "ConflictException"},
		{errInvalidReq, callExpired, "InvalidRequestException"},
		{errThrottle, callRetryable, "ThrottlingException"},
		{errInternal, callRetryable, "InternalServiceException"},
		{errUnknown5xx, callRetryable, "ServiceUnavailable"},
		{errAccess, callFailed, "AccessDeniedException"},
		{errParam, callFailed, "InvalidParameterException"},
		{errNetwork, callRetryable, "no response"},
		{context.DeadlineExceeded, callRetryable, "no response"},
		{&smithy.GenericAPIError{Code: "TooManyRequestsException"}, callRetryable, "TooManyRequestsException"},
		{&smithy.GenericAPIError{Code: "SomethingNew"}, callFailed, "SomethingNew"},
		{errors.Join(flowbudget.ErrNoTimeForRetry, errThrottle), callRetryable, "ThrottlingException"},
	}
	for _, tt := range tests {
		kind, code := classify(tt.err)
		if kind != tt.kind || code != tt.code {
			t.Errorf("classify(%v) = %d %q, want %d %q", tt.err, kind, code, tt.kind, tt.code)
		}
	}
}

func TestAPIGatewayAdapter(t *testing.T) {
	r := newRig(t)
	var req events.APIGatewayV2HTTPRequest
	req.RouteKey = "GET /auth/callback"
	req.RawPath = "/auth/callback"
	req.RawQueryString = query("code", "c", "state", "s")
	req.RequestContext.HTTP.Method = http.MethodGet
	req.RequestContext.RequestID = "abc-123"
	resp, err := r.h.HandleAPIGateway(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.IsBase64Encoded || !strings.Contains(resp.Body, `var outcome = "pending"`) {
		t.Fatalf("response = %d %v", resp.StatusCode, resp.IsBase64Encoded)
	}
	for _, h := range []string{"Content-Type", "Content-Security-Policy", "Cache-Control", "Referrer-Policy", "X-Content-Type-Options"} {
		if resp.Headers[h] == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if !strings.Contains(r.logs.String(), `"request_id":"abc-123"`) {
		t.Errorf("log lacks the request ID: %s", r.logs)
	}
	if r.connect.calls() != 0 {
		t.Fatal("GET called Connect")
	}

	// The completion, as API Gateway delivers it: lowercased headers, the body either as text
	// or base64-encoded.
	for i, encoded := range []bool{false, true} {
		body := query("code", "c", "state", fmt.Sprint("s", i)) + testTail
		post := events.APIGatewayV2HTTPRequest{RouteKey: "POST /auth/callback", RawPath: "/auth/callback",
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}, Body: body}
		if encoded {
			post.Body, post.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		}
		post.RequestContext.HTTP.Method = http.MethodPost
		resp, err := r.h.HandleAPIGateway(context.Background(), post)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Body != `{"source":"switchboard-auth","attempt":"`+testAttempt+`","outcome":"success"}` {
			t.Fatalf("POST (base64 %v) = %d %s", encoded, resp.StatusCode, resp.Body)
		}
	}
	if r.connect.calls() != 2 {
		t.Fatalf("%d Connect calls, want 2", r.connect.calls())
	}
}

func TestHTTPAdapter(t *testing.T) {
	r := newRig(t)
	srv := httptest.NewServer(r.h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/auth/callback?" + query("code", "c", "state", "s"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"pending"`) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header)
	}
	resp, err = http.Post(srv.URL+"/auth/callback", "application/x-www-form-urlencoded",
		strings.NewReader(query("code", "c", "state", "s")+testTail))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"outcome":"success"`) {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(srv.URL+"/auth/callback", "application/x-www-form-urlencoded", strings.NewReader(strings.Repeat("a", MaxBodyLen+10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized POST: %d", resp.StatusCode)
	}
	if r.connect.calls() != 1 {
		t.Fatalf("%d Connect calls, want 1", r.connect.calls())
	}
}
func TestNewHandlerValidates(t *testing.T) {
	cfg := testConfig()
	cfg.ChatOrigin = "*"
	if _, err := NewHandler(cfg, &fakeConnect{}, newFakeClaims(), slog.New(slog.NewJSONHandler(io.Discard, nil))); err == nil {
		t.Fatal("accepted chat origin *")
	}
	if _, err := NewHandler(testConfig(), nil, newFakeClaims(), slog.New(slog.NewJSONHandler(io.Discard, nil))); err == nil {
		t.Fatal("accepted a nil client")
	}
}

// Issue 8 item 9: a state held by another claim's pending lease (a request completing it, or a
// claim write that landed after its page said "Try again") is "try again", never "already used":
// the lease ends within seconds.
func TestPendingStateMeansRetry(t *testing.T) {
	r := newRig(t)
	r.claims.claimErr = authstate.ErrPending
	p := r.complete(query("code", "c", "state", "s"))
	if p.Outcome != OutcomeRetry || p.Status != http.StatusServiceUnavailable || r.connect.calls() != 0 || r.claims.releases != 0 {
		t.Fatalf("got %s %d with %d calls and %d releases, want retry 503, no call, no release", p.Outcome, p.Status, r.connect.calls(), r.claims.releases)
	}
}

// A failed extension leaves the outcome alone (Connect has answered) but is logged as an error.
func TestExtendFailureIsLogged(t *testing.T) {
	r := newRig(t)
	r.claims.extendErr = errors.New("extend state abc: timeout")
	if p := r.complete(query("code", "c", "state", "s")); p.Outcome != OutcomeSuccess {
		t.Fatalf("got %s", p.Outcome)
	}
	if !strings.Contains(r.logs.String(), `"state_extended":false`) || !strings.Contains(r.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("log: %s", r.logs)
	}
}

// The CDK metric filters (infra TestAuthRedirectAlarms) count completions by these fields of
// the log line: step, a numeric status, and outcome.
func TestLogLineFieldsTheAlarmsCount(t *testing.T) {
	r := newRig(t, errThrottle)
	r.get(query("code", "c", "state", "s"))
	r.complete(query("code", "c", "state", "s"))
	lines := strings.Split(strings.TrimSpace(r.logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines", len(lines))
	}
	for i, want := range [][]string{
		{`"step":"page"`, `"outcome":"pending"`, `"status":200`},
		{`"step":"complete"`, `"outcome":"retry"`, `"status":503`},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d lacks %s: %s", i, w, lines[i])
			}
		}
	}
}

// With the WAF front (CloudFront), the function refuses requests that did not come through
// CloudFront: they went around the WAF's per-client rate limit.
func TestOriginSecretRefusesRequestsAroundTheCDN(t *testing.T) {
	const secret = "0123456789abcdefSECRET"
	cfg := testConfig()
	cfg.OriginSecret = secret
	fc, claims := &fakeConnect{}, newFakeClaims()
	var logs bytes.Buffer
	h, err := NewHandler(cfg, fc, claims, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, verify := range []string{"", "wrong", secret + "x", secret[:len(secret)-1]} {
		for _, req := range []Request{
			{Method: http.MethodGet, RawQuery: query("code", "c", "state", "s"), OriginVerify: verify},
			func() Request {
				r := completionRequest(query("code", "c", "state", "s"))
				r.OriginVerify = verify
				return r
			}(),
		} {
			if p := h.Handle(context.Background(), req); p.Status != http.StatusForbidden || p.Outcome != OutcomeError {
				t.Fatalf("%s with verify %q: %d %s, want 403 error", req.Method, verify, p.Status, p.Outcome)
			}
		}
	}
	if fc.calls() != 0 || len(claims.held) != 0 {
		t.Fatal("a request around the CDN was processed")
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatal("the log holds the origin secret")
	}
	r := completionRequest(query("code", "c", "state", "s"))
	r.OriginVerify = secret
	if p := h.Handle(context.Background(), r); p.Outcome != OutcomeSuccess {
		t.Fatalf("through the CDN: %s", p.Outcome)
	}
	// The API Gateway adapter reads the header (lowercased by API Gateway).
	var ev events.APIGatewayV2HTTPRequest
	ev.RawQueryString = query("code", "c", "state", "s2")
	ev.RequestContext.HTTP.Method = http.MethodGet
	ev.Headers = map[string]string{"x-switchboard-origin-verify": secret}
	if resp, _ := h.HandleAPIGateway(context.Background(), ev); resp.StatusCode != http.StatusOK {
		t.Fatalf("API Gateway GET through the CDN: %d", resp.StatusCode)
	}
}

func startRequest(origin, authURL string) Request {
	return Request{Method: http.MethodPost, Path: StartPath, Origin: origin, ContentType: "application/x-www-form-urlencoded",
		Body: url.Values{"authentication_url": {authURL}}.Encode()}
}

const testAuthURL = "https://acme.auth.eu-west-2.amazoncognito.com/oauth2/authorize?response_type=code&client_id=c&redirect_uri=x&state=STATE-1&scope=openid"

// POST /auth/start: only the chat page (Origin is exactly CHAT_ORIGIN) can bind a state to the
// browser; the cookie names the state's hash and is set for this host only.
func TestStartSetsTheBindingCookie(t *testing.T) {
	r := newRig(t)
	p := r.h.Handle(context.Background(), startRequest("https://chat.example.com", testAuthURL))
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != testAuthURL {
		t.Fatalf("start: %d to %q", p.Status, p.Header.Get("Location"))
	}
	want := BindingCookie + "=" + authstate.Hash("STATE-1") + "; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Lax"
	if got := p.Header.Get("Set-Cookie"); got != want {
		t.Fatalf("Set-Cookie %q, want %q", got, want)
	}
	if p.Header.Get("Referrer-Policy") != "no-referrer" || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", p.Header)
	}
	if r.connect.calls() != 0 || len(r.claims.held) != 0 || strings.Contains(r.logs.String(), "STATE-1") {
		t.Fatalf("a start claimed, called or logged the state: %s", r.logs)
	}
	// Through API Gateway the cookie travels in the response's cookies, not a header.
	var ev events.APIGatewayV2HTTPRequest
	ev.RawPath, ev.RequestContext.HTTP.Method = StartPath, http.MethodPost
	ev.Headers = map[string]string{"origin": "https://chat.example.com", "content-type": "application/x-www-form-urlencoded"}
	ev.Body = url.Values{"authentication_url": {testAuthURL}}.Encode()
	resp, _ := r.h.HandleAPIGateway(context.Background(), ev)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies) != 1 || resp.Cookies[0] != want || resp.Headers["Set-Cookie"] != "" {
		t.Fatalf("API Gateway start: %d cookies %q headers %v", resp.StatusCode, resp.Cookies, resp.Headers)
	}
}

func TestStartRefusals(t *testing.T) {
	tests := []struct {
		name   string
		req    Request
		status int
	}{
		{"no Origin (a link, not the chat's form)", startRequest("", testAuthURL), http.StatusForbidden},
		{"another origin", startRequest("https://evil.example", testAuthURL), http.StatusForbidden},
		{"a sibling origin", startRequest("https://chat.example.com:8443", testAuthURL), http.StatusForbidden},
		{"Origin null (no-referrer chat page)", startRequest("null", testAuthURL), http.StatusForbidden},
		{"plain http", startRequest("https://chat.example.com", strings.Replace(testAuthURL, "https://", "http://", 1)), http.StatusBadRequest},
		{"not a URL", startRequest("https://chat.example.com", "::nope"), http.StatusBadRequest},
		{"user info", startRequest("https://chat.example.com", strings.Replace(testAuthURL, "https://", "https://u:p@", 1)), http.StatusBadRequest},
		{"no state", startRequest("https://chat.example.com", strings.Replace(testAuthURL, "&state=STATE-1", "", 1)), http.StatusBadRequest},
		{"two states", startRequest("https://chat.example.com", testAuthURL+"&state=x"), http.StatusBadRequest},
		{"too long", startRequest("https://chat.example.com", testAuthURL+"&x="+strings.Repeat("a", MaxAuthenticationURLLen)), http.StatusBadRequest},
		{"GET", Request{Method: http.MethodGet, Path: StartPath, RawQuery: "authentication_url=x"}, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			p := r.h.Handle(context.Background(), tt.req)
			if p.Status != tt.status || p.Header.Get("Set-Cookie") != "" || p.Header.Get("Location") != "" {
				t.Fatalf("got %d (cookie %q, location %q), want %d and neither", p.Status, p.Header.Get("Set-Cookie"), p.Header.Get("Location"), tt.status)
			}
		})
	}
}

// A completion without a confirming opener ("cookie") goes through only if this browser's
// start cookie names the state: someone else's link, opened directly, is refused before any
// claim or call.
func TestCookieBindingNeedsTheStartCookie(t *testing.T) {
	q := query("code", "c", "state", "STATE-1")
	withCookie := func(cookie string) Request {
		return Request{Method: http.MethodPost, ContentType: "application/x-www-form-urlencoded",
			Body: q + "&attempt=" + testAttempt + "&binding=cookie", Cookie: cookie}
	}
	for _, cookie := range []string{
		"",
		BindingCookie + "=" + authstate.Hash("STATE-2"), // the browser's own chat started another sign-in
		"other=" + authstate.Hash("STATE-1"),
		BindingCookie + "=" + authstate.Hash("STATE-1")[:63],
	} {
		r := newRig(t)
		if p := r.h.Handle(context.Background(), withCookie(cookie)); p.Status != http.StatusForbidden || p.Outcome != OutcomeError {
			t.Fatalf("cookie %q: %d %s, want 403 error", cookie, p.Status, p.Outcome)
		}
		if r.connect.calls() != 0 || len(r.claims.held) != 0 {
			t.Fatalf("cookie %q: the completion was processed", cookie)
		}
	}
	r := newRig(t)
	p := r.h.Handle(context.Background(), withCookie("a=1; "+BindingCookie+"="+authstate.Hash("STATE-2")+"; "+BindingCookie+"="+authstate.Hash("STATE-1")))
	if p.Outcome != OutcomeSuccess || r.connect.calls() != 1 {
		t.Fatalf("with the start cookie: %s, %d calls", p.Outcome, r.connect.calls())
	}
	if !strings.Contains(r.logs.String(), `"binding":"cookie"`) {
		t.Fatalf("log lacks the binding: %s", r.logs)
	}
	for _, bad := range []string{"", "&binding=both", "&binding=opener&binding=cookie"} {
		r := newRig(t)
		p := r.h.Handle(context.Background(), Request{Method: http.MethodPost, ContentType: "application/x-www-form-urlencoded",
			Body: q + "&attempt=" + testAttempt + bad})
		if p.Status != http.StatusBadRequest || r.connect.calls() != 0 {
			t.Fatalf("binding %q: %d with %d calls, want 400 and none", bad, p.Status, r.connect.calls())
		}
	}
}
