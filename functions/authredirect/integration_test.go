package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
)

// These tests run the function's real wiring (build: SDK clients, retryer, DynamoDB store)
// against connectsim and dynalite, one per outcome the page can show.

func TestSuccess(t *testing.T) {
	r := newRig(t, rigOptions{})
	ca := r.startChat(t)
	status, outcome := r.visit(t, r.signIn(t, ca))
	if status != http.StatusOK || outcome != authredirect.OutcomeSuccess {
		t.Fatalf("got %d %s, want 200 success", status, outcome)
	}
	if s := r.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
		t.Fatalf("session %s (%s), want SUCCEEDED", s.Status, s.Error)
	}
	if c := r.calls(); c["ok"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
	}
}

func TestCancelled(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.Sim.SetSignInOutcome(connectsim.SignInOutcome{Error: "access_denied", ErrorDescription: "User cancelled the sign-in"})
	ca := r.startChat(t)
	status, outcome := r.visit(t, r.signIn(t, ca))
	if status != http.StatusOK || outcome != authredirect.OutcomeCancelled {
		t.Fatalf("got %d %s, want 200 cancelled", status, outcome)
	}
	s := r.session(t, ca.SessionID)
	if s.Status != connectsim.AuthCancelled || s.Error != "access_denied: User cancelled the sign-in" {
		t.Fatalf("session %s %q, want CANCELLED with the description", s.Status, s.Error)
	}
}

// Connect refuses '"' and '\' in ErrorDescription: the reduced description must pass its
// validation and reach the flow.
func TestSignInErrorWithAHostileDescription(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.Sim.SetSignInOutcome(connectsim.SignInOutcome{
		Error:            "server_error",
		ErrorDescription: "Bad \"thing\"\\ happened\n<script>alert(1)</script> \u00e9" + strings.Repeat("x", 3000),
	})
	ca := r.startChat(t)
	status, outcome := r.visit(t, r.signIn(t, ca))
	if status != http.StatusOK || outcome != authredirect.OutcomeError {
		t.Fatalf("got %d %s, want 200 error", status, outcome)
	}
	s := r.session(t, ca.SessionID)
	wantPrefix := "server_error: Bad 'thing' happened <script>alert(1)</script> xxx"
	if s.Status != connectsim.AuthFailed || !strings.HasPrefix(s.Error, wantPrefix) || len(s.Error) != len("server_error: ")+authredirect.MaxErrorDescriptionLen {
		t.Fatalf("session %s %.80q (len %d), want FAILED with the reduced description", s.Status, s.Error, len(s.Error))
	}
	if c := r.calls(); c["ok"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
	}
}

func TestReplayIsRefusedBeforeConnect(t *testing.T) {
	r := newRig(t, rigOptions{})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	if _, outcome := r.visit(t, cb); outcome != authredirect.OutcomeSuccess {
		t.Fatalf("first visit: %s", outcome)
	}
	for range 3 {
		if status, outcome := r.visit(t, cb); status != http.StatusConflict || outcome != authredirect.OutcomeAlreadyUsed {
			t.Fatalf("replay: %d %s, want 409 already_used", status, outcome)
		}
	}
	if c := r.calls(); total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v: a replay reached Connect", c)
	}
}

// The customer cancelled in the chat before the redirect arrived: Connect answers Conflict.
func TestAlreadyCompletedAtConnect(t *testing.T) {
	r := newRig(t, rigOptions{})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	body, _ := json.Marshal(map[string]string{"SessionId": ca.SessionID})
	req, _ := http.NewRequest(http.MethodPost, r.Sim.URL+"/participant/cancel-authentication", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Bearer", ca.ParticipantToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CancelParticipantAuthentication: %d", resp.StatusCode)
	}
	if status, outcome := r.visit(t, cb); status != http.StatusConflict || outcome != authredirect.OutcomeAlreadyUsed {
		t.Fatalf("got %d %s, want 409 already_used", status, outcome)
	}
	if c := r.calls(); c["ConflictException"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ConflictException", c)
	}
}

func TestExpiredSession(t *testing.T) {
	clock := connectsim.NewManualClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	r := newRig(t, rigOptions{sim: connectsim.Options{Clock: clock}})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	if err := r.Sim.Advance(r.Sim.World().Auth.SessionTTL.D() + time.Second); err != nil {
		t.Fatal(err)
	}
	if status, outcome := r.visit(t, cb); status != http.StatusGone || outcome != authredirect.OutcomeExpired {
		t.Fatalf("got %d %s, want 410 expired", status, outcome)
	}
	if s := r.session(t, ca.SessionID); s.Status != connectsim.AuthExpired {
		t.Fatalf("session %s, want EXPIRED", s.Status)
	}
	if c := r.calls(); c["InvalidRequestException"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one InvalidRequestException", c)
	}
}

// A state Connect never issued (a forged or mistyped link) reads as expired.
func TestUnknownStateReadsAsExpired(t *testing.T) {
	r := newRig(t, rigOptions{})
	q := url.Values{"code": {"0b7e2d1c-forged-code"}, "state": {"0123456789abcdef-forged-state"}}
	if status, outcome := r.visit(t, r.Callback+"?"+q.Encode()); status != http.StatusGone || outcome != authredirect.OutcomeExpired {
		t.Fatalf("got %d %s, want 410 expired", status, outcome)
	}
}

func TestMalformedCallbackNeverReachesConnect(t *testing.T) {
	r := newRig(t, rigOptions{})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	for _, bad := range []string{
		cb + "&error=access_denied",           // code and error
		cb + "&state=another",                 // state twice
		r.Callback + "?code=abc",              // no state
		r.Callback + "?state=abc&code=%zz",    // does not decode
		r.Callback + "?error=x%22y&state=abc", // error outside Connect's pattern
		r.Callback + "?code=c&state=" + strings.Repeat("s", authredirect.MaxStateLen+1),
	} {
		if status, outcome := r.visit(t, bad); status != http.StatusBadRequest || outcome != authredirect.OutcomeError {
			t.Fatalf("%.60s...: got %d %s, want 400 error", bad, status, outcome)
		}
	}
	if c := r.calls(); total(c) != 0 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want none", c)
	}
	// The good link still works: nothing was claimed by the bad ones.
	if _, outcome := r.visit(t, cb); outcome != authredirect.OutcomeSuccess {
		t.Fatalf("good link after bad ones: %s", outcome)
	}
}

// One throttle is absorbed by the SDK's retry inside the budget.
func TestTransientThrottleIsRetriedWithinTheBudget(t *testing.T) {
	r := newRig(t, rigOptions{budget: "2s"})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	r.Sim.SetFault(connectsim.OpUpdateParticipantAuthentication, connectsim.Fault{Kind: connectsim.FaultThrottle, Count: 1})
	if status, outcome := r.visit(t, cb); status != http.StatusOK || outcome != authredirect.OutcomeSuccess {
		t.Fatalf("got %d %s, want 200 success", status, outcome)
	}
	if c := r.calls(); c["ThrottlingException"] != 1 || c["ok"] != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want a throttle then ok", c)
	}
}

// Connect unavailable for longer than the budget: "please try again", and the same link works
// once Connect is back, because the state was released.
func TestUnavailableBeyondTheBudgetThenTheSameLinkWorks(t *testing.T) {
	for _, f := range []connectsim.Fault{
		{Kind: connectsim.FaultThrottle},
		{Kind: connectsim.FaultInternal},
		{Kind: connectsim.FaultDrop},
		{Kind: connectsim.FaultLatency, Latency: 5 * time.Second},
	} {
		t.Run(f.Kind, func(t *testing.T) {
			r := newRig(t, rigOptions{budget: "1s"})
			ca := r.startChat(t)
			cb := r.signIn(t, ca)
			r.Sim.SetFault(connectsim.OpUpdateParticipantAuthentication, f)
			start := time.Now()
			status, outcome := r.visit(t, cb)
			if took := time.Since(start); took > 2500*time.Millisecond {
				t.Errorf("the page took %s with a 1s budget", took)
			}
			if status != http.StatusServiceUnavailable || outcome != authredirect.OutcomeRetry {
				t.Fatalf("got %d %s, want 503 retry", status, outcome)
			}
			if s := r.session(t, ca.SessionID); s.Status != connectsim.AuthURLIssued {
				t.Fatalf("session %s, want it still waiting (URL_ISSUED)", s.Status)
			}
			r.Sim.ClearFaults()
			if status, outcome := r.visit(t, cb); status != http.StatusOK || outcome != authredirect.OutcomeSuccess {
				t.Fatalf("the same link after recovery: %d %s, want 200 success", status, outcome)
			}
			if s := r.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
				t.Fatalf("session %s, want SUCCEEDED", s.Status)
			}
		})
	}
}

// DynamoDB applied the state claim but its reply was lost. One lost reply is absorbed by the
// SDK's retry, which finds its own claim; with every reply lost the customer gets "please try
// again", the attempted claim is released, and the same link works once DynamoDB is back.
func TestLostStateClaimReplyThenTheSameLinkWorks(t *testing.T) {
	for _, tt := range []struct {
		fault faultproxy.Kind
		count int // 0: every PutItem
		first authredirect.Outcome
	}{
		{faultproxy.InternalAfter, 1, authredirect.OutcomeSuccess},
		{faultproxy.DropAfter, 1, authredirect.OutcomeSuccess},
		{faultproxy.InternalAfter, 0, authredirect.OutcomeRetry},
		{faultproxy.DropAfter, 0, authredirect.OutcomeRetry},
	} {
		t.Run(fmt.Sprintf("%s/%d", tt.fault, tt.count), func(t *testing.T) {
			r := newRig(t, rigOptions{})
			ca := r.startChat(t)
			cb := r.signIn(t, ca)
			r.Store.Set(faultproxy.OpPutItem, tt.fault, tt.count)
			if _, outcome := r.visit(t, cb); outcome != tt.first {
				t.Fatalf("first visit: %s, want %s", outcome, tt.first)
			}
			r.Store.Clear()
			if tt.first == authredirect.OutcomeRetry {
				if c := r.calls(); total(c) != 0 {
					t.Fatalf("UpdateParticipantAuthentication requests %v without a claim", c)
				}
				if status, outcome := r.visit(t, cb); status != http.StatusOK || outcome != authredirect.OutcomeSuccess {
					t.Fatalf("the same link after the store recovered: %d %s, want 200 success", status, outcome)
				}
			}
			if s := r.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
				t.Fatalf("session %s, want SUCCEEDED", s.Status)
			}
			if c := r.calls(); c["ok"] != 1 || total(c) != 1 {
				t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
			}
		})
	}
}

// A reload of a used link while the state table fails: the claim fails and the release finds
// the earlier request's claim, so the link is still refused. The page must ask for a new sign-in
// from the chat, not offer "Try again".
func TestReplayDuringAStoreOutageAsksForANewSignIn(t *testing.T) {
	r := newRig(t, rigOptions{})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	if _, outcome := r.visit(t, cb); outcome != authredirect.OutcomeSuccess {
		t.Fatalf("first visit: %s", outcome)
	}
	r.Store.Set(faultproxy.OpPutItem, faultproxy.Internal, 0)
	if status, outcome := r.visit(t, cb); status != http.StatusServiceUnavailable || outcome != authredirect.OutcomeError {
		t.Fatalf("reload during the outage: %d %s, want 503 error", status, outcome)
	}
	if r.Store.Requests(faultproxy.OpDeleteItem) != 1 {
		t.Fatalf("%d DeleteItem requests, want the release attempt", r.Store.Requests(faultproxy.OpDeleteItem))
	}
	r.Store.Clear()
	if status, outcome := r.visit(t, cb); status != http.StatusConflict || outcome != authredirect.OutcomeAlreadyUsed {
		t.Fatalf("after the outage: %d %s, want 409 already_used", status, outcome)
	}
	if c := r.calls(); total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want the first only", c)
	}
}

// A throttled state claim is retried within the call budget and leaves time for Connect. With
// DYNAMODB_MAX_BACKOFF=1s the SDK alone would wait exactly 1s before its retry, the whole budget.
func TestThrottledClaimLeavesTimeForConnect(t *testing.T) {
	r := newRig(t, rigOptions{budget: "1s", env: map[string]string{"DYNAMODB_MAX_BACKOFF": "1s"}})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	r.Store.Set(faultproxy.OpPutItem, faultproxy.Throttling, 1)
	if status, outcome := r.visit(t, cb); status != http.StatusOK || outcome != authredirect.OutcomeSuccess {
		t.Fatalf("got %d %s, want 200 success", status, outcome)
	}
	if n := r.Store.Requests(faultproxy.OpPutItem); n != 3 {
		t.Fatalf("%d PutItem requests, want the throttled claim, its retry and the extension", n)
	}
	if c := r.calls(); c["ok"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
	}
}

// A refusal a retry cannot fix (here: the function configured for an instance Connect does not
// have) is an error page without internal detail, and the state stays used.
func TestConnectRefusalIsAnErrorPage(t *testing.T) {
	r := newRig(t, rigOptions{instanceID: "99999999-2222-4333-8444-555555555555"})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	if status, outcome := r.visit(t, cb); status != http.StatusBadGateway || outcome != authredirect.OutcomeError {
		t.Fatalf("got %d %s, want 502 error", status, outcome)
	}
	if c := r.calls(); c["InvalidParameterException"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one InvalidParameterException", c)
	}
	if status, outcome := r.visit(t, cb); status != http.StatusConflict || outcome != authredirect.OutcomeAlreadyUsed {
		t.Fatalf("second visit: %d %s, want 409 already_used", status, outcome)
	}
	if !strings.Contains(r.logs.String(), `"connect_error":"InvalidParameterException"`) {
		t.Fatalf("the log does not name Connect's error:\n%s", r.logs)
	}
}

func TestBuildRefusesABadEnvironment(t *testing.T) {
	t.Setenv(authredirect.EnvInstanceID, "")
	t.Setenv(authredirect.EnvChatOrigin, "*")
	t.Setenv(authredirect.EnvStateTable, "t")
	if _, err := awsclient.Build(authredirect.FromEnv, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), authredirect.EnvInstanceID) || !strings.Contains(err.Error(), authredirect.EnvChatOrigin) {
		t.Fatalf("build = %v, want an error naming %s and %s", err, authredirect.EnvInstanceID, authredirect.EnvChatOrigin)
	}
}

// Issue 8 item 9, through the function's wiring: the state claim's PutItem reaches DynamoDB only
// after the budget ran out, the release found nothing to delete and the page said "Try again".
// The late write holds the state only for its pending lease (budget plus a margin): meanwhile
// the same link gets "try again" again (not "already used"), and then it completes.
func TestLateClaimWriteDoesNotLockTheLink(t *testing.T) {
	r := newRig(t, rigOptions{budget: "1s"})
	ca := r.startChat(t)
	cb := r.signIn(t, ca)
	r.Store.Delay(faultproxy.OpPutItem, 1500*time.Millisecond, 1)
	if status, outcome := r.visit(t, cb); status != http.StatusServiceUnavailable || outcome != authredirect.OutcomeRetry {
		t.Fatalf("first visit: %d %s, want 503 retry", status, outcome)
	}
	r.Store.WaitDelayed()
	if r.Store.Requests(faultproxy.OpDeleteItem) != 1 {
		t.Fatalf("%d DeleteItem requests, want the release", r.Store.Requests(faultproxy.OpDeleteItem))
	}
	// The lease ends 3s after the first claim; a wall-clock bound far beyond it keeps this test
	// from depending on the machine's speed, while a link locked for AUTH_STATE_TTL (15m) fails.
	deadline := time.Now().Add(30 * time.Second)
	var visits int
	for {
		status, outcome := r.visit(t, cb)
		visits++
		if outcome == authredirect.OutcomeSuccess {
			break
		}
		if status != http.StatusServiceUnavailable || outcome != authredirect.OutcomeRetry {
			t.Fatalf("visit %d after the late write: %d %s, want 503 retry until the lease ends, then success", visits, status, outcome)
		}
		if time.Now().After(deadline) {
			t.Fatal("the late claim write still locks the link 30s later")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if s := r.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
		t.Fatalf("session %s, want SUCCEEDED", s.Status)
	}
	if c := r.calls(); c["ok"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok (none while the state was pending)", c)
	}
	if status, outcome := r.visit(t, cb); status != http.StatusConflict || outcome != authredirect.OutcomeAlreadyUsed {
		t.Fatalf("after success: %d %s, want 409 already_used (the claim was extended)", status, outcome)
	}
}
