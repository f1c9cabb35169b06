package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/local/logcapture"
	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
)

const stateTable = "switchboard-auth-state"

// rig is the function as Lambda would run it (awsclient.Build, as main does, with its environment), with Connect
// played by connectsim and DynamoDB by dynalite behind a fault proxy, served over HTTP at
// Callback.
type rig struct {
	Sim *simtest.Server
	// Store is the proxy between the function and dynalite: set faults on it.
	Store *faultproxy.Server
	// Callback is the redirect URI registered with the Cognito stand-in.
	Callback string
	logs     *logcapture.Buffer
	mu       sync.Mutex
	secrets  []string // every code and state sent, which must never reach the logs
	served   []string // every callback URL the function answered, in order
}

type rigOptions struct {
	sim        connectsim.Options
	chatOrigin string // default https://chat.example.com
	budget     string // AUTH_CALL_BUDGET
	instanceID string // default connectsim.DefaultInstanceID
	// env holds further environment variables (DYNAMODB_MAX_BACKOFF, ...).
	env map[string]string
}

// newRig wires the function through awsclient.Build (what main calls), from the same environment variables Lambda gives
// it, so these tests cover the composition root too. t.Setenv: such tests cannot be parallel.
func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	sim := simtest.Start(t, o.sim)
	ddb := dynalitetest.Start(t)
	ddb.CreateTable(t, authstate.CreateTableInput(stateTable))
	store := faultproxy.StartTest(t, ddb.URL)

	if o.chatOrigin == "" {
		o.chatOrigin = "https://chat.example.com"
	}
	if o.instanceID == "" {
		o.instanceID = connectsim.DefaultInstanceID
	}
	env := map[string]string{
		// Only what the test sets: no shared config, profile or instance metadata.
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ACCESS_KEY_ID":           "AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY":       "local",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  sim.World().Region,
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_CONNECT":    sim.URL,
		"AWS_ENDPOINT_URL_DYNAMODB":   store.URL,
		"AWS_NEW_RETRIES_2026":        "",
		authredirect.EnvInstanceID:    o.instanceID,
		authredirect.EnvChatOrigin:    o.chatOrigin,
		authredirect.EnvStateTable:    stateTable,
		authredirect.EnvStateTTL:      "",
		authredirect.EnvCallBudget:    o.budget,
		authredirect.EnvOriginSecret:  "",
	}
	maps.Copy(env, o.env)
	for k, v := range env {
		t.Setenv(k, v)
	}
	r := &rig{Sim: sim, Store: store, logs: &logcapture.Buffer{}}
	h, err := awsclient.Build(authredirect.FromEnv, slog.New(slog.NewJSONHandler(r.logs, nil)))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(authredirect.StartPath, h)
	mux.Handle("/auth/callback", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		full := "http://" + req.Host + req.URL.RequestURI()
		r.remember(full)
		r.mu.Lock()
		r.served = append(r.served, req.Method+" "+full)
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.Callback = srv.URL + "/auth/callback"
	t.Cleanup(func() { r.checkLogs(t) })
	return r
}

// servedURLs returns the callback URLs the function answered.
func (r *rig) servedURLs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.served...)
}

// checkLogs fails the test if any code or state the rig saw is in the function's logs.
func (r *rig) checkLogs(t *testing.T) {
	logs := r.logs.String()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if len(s) >= 8 && strings.Contains(logs, s) {
			t.Errorf("the function's logs hold a code or state in clear (%s...)", s[:4])
		}
	}
	if strings.TrimSpace(logs) == "" {
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.Contains(line, `"outcome":`) {
			t.Errorf("log line without an outcome: %s", line)
		}
	}
}

// startChat puts a chat contact at an Authenticate Customer block.
func (r *rig) startChat(t *testing.T) connectsim.ChatAuth {
	t.Helper()
	ca, err := r.Sim.StartChatAuthentication("")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// authenticationURL calls the Participant Service's GetAuthenticationUrl as the chat widget
// does, with the rig's callback as redirect URI.
func (r *rig) authenticationURL(t *testing.T, ca connectsim.ChatAuth) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"SessionId": ca.SessionID, "RedirectUri": r.Callback})
	req, err := http.NewRequest(http.MethodPost, r.Sim.URL+"/participant/authentication-url", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Bearer", ca.ParticipantToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct{ AuthenticationUrl string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.AuthenticationUrl == "" {
		t.Fatalf("GetAuthenticationUrl: %d %s", resp.StatusCode, raw)
	}
	return out.AuthenticationUrl
}

// signIn goes through the Cognito stand-in and returns the callback URL it redirects to.
func (r *rig) signIn(t *testing.T, ca connectsim.ChatAuth) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(r.authenticationURL(t, ca))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, r.Callback+"?") {
		t.Fatalf("authorize: %d to %q", resp.StatusCode, loc)
	}
	r.remember(loc)
	return loc
}

func (r *rig) remember(callbackURL string) {
	u, err := url.Parse(callbackURL)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range []string{"code", "state"} {
		if v := u.Query().Get(k); v != "" {
			r.secrets = append(r.secrets, v)
		}
	}
}

var (
	outcomeInPage = regexp.MustCompile(`var outcome = "([a-z_]+)"`)
	attemptInPage = regexp.MustCompile(`var attempt = "([A-Za-z0-9_-]*)"`)
)

// page loads a callback URL as the browser would and returns the status, the outcome the page
// carries (pending for the handshake page) and its attempt identifier.
func (r *rig) page(t *testing.T, callbackURL string) (int, authredirect.Outcome, string) {
	t.Helper()
	r.remember(callbackURL)
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m, a := outcomeInPage.FindSubmatch(body), attemptInPage.FindSubmatch(body)
	if m == nil || a == nil {
		t.Fatalf("no outcome or attempt in the page (%d):\n%s", resp.StatusCode, body)
	}
	return resp.StatusCode, authredirect.Outcome(m[1]), string(a[1])
}

// visit does what the browser does with a callback URL when the chat window confirms it: loads
// the page and, if it is the handshake page, POSTs the query with the page's attempt (binding
// "opener"). It
// returns the final status and outcome.
func (r *rig) visit(t *testing.T, callbackURL string) (int, authredirect.Outcome) {
	t.Helper()
	before := total(r.calls())
	status, outcome, attempt := r.page(t, callbackURL)
	if n := total(r.calls()); n != before {
		t.Fatalf("GET made %d UpdateParticipantAuthentication requests", n-before)
	}
	if outcome != authredirect.OutcomePending {
		return status, outcome
	}
	u, err := url.Parse(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Post(r.Callback, "application/x-www-form-urlencoded", strings.NewReader(u.RawQuery+"&attempt="+attempt+"&binding=opener"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Source, Attempt string
		Outcome         authredirect.Outcome
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || out.Source != authredirect.MessageSource || out.Attempt != attempt {
		t.Fatalf("completion answered %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out.Outcome
}

// session returns connectsim's view of an authentication session.
func (r *rig) session(t *testing.T, id string) connectsim.AuthSessionView {
	t.Helper()
	for _, s := range r.Sim.AuthSessions() {
		if s.SessionID == id {
			return s
		}
	}
	t.Fatalf("connectsim has no session %s", id)
	return connectsim.AuthSessionView{}
}

// calls returns connectsim's count of UpdateParticipantAuthentication requests by outcome
// ("ok" or the error type).
func (r *rig) calls() map[string]int {
	m := r.Sim.Stats().Requests[connectsim.OpUpdateParticipantAuthentication]
	if m == nil {
		m = map[string]int{}
	}
	return m
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
