package authredirect

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchboard-connect/switchboard/shared/authstate"
)

// The reasons a log line may give, written out here (not taken from the code): a reason that
// is none of these quotes something of the request, or is a refusal nobody specified.
var (
	callbackReasons = `query string is \d+ bytes, more than 16384|query string does not decode|` +
		`(state|code|error|error_description) is given \d+ times|state is missing|state is longer than 1000 characters|` +
		`state has characters outside printable ASCII|both code and error are given|neither code nor error is given|` +
		`code is empty|code is longer than 2048 characters|code has characters outside printable ASCII|` +
		`error_description is given with a code|error is empty|error is longer than 2048 characters|` +
		`error has characters Connect does not accept`
	pageReasons = regexp.MustCompile(`^(` + callbackReasons + `|page served; completes after the chat window confirms|` +
		`page served without a query; resumes from the browser's session storage)$`)
	completionReasons = regexp.MustCompile(`^(` + callbackReasons + `|body is not application/x-www-form-urlencoded|` +
		`body is more than 16640 bytes|body is not valid base64|body does not decode|attempt is missing|` +
		`attempt is given \d+ times|attempt is not 22 characters of base64url|binding must be given once, as opener or cookie|` +
		`no opener confirmed the state and no start cookie names it|Connect accepted the code|` +
		`sign-in cancelled; Connect was told|sign-in failed; Connect was told)$`)
	startReasons = regexp.MustCompile(`^(Origin is not the chat origin|body is not application/x-www-form-urlencoded|` +
		`body is more than 8192 bytes|body is not valid base64|authentication_url must be given once|` +
		`authentication_url is longer than 4096 characters|authentication_url is not an https URL|` +
		`authentication_url has no single valid state|binding cookie set; on to the sign-in)$`)
	callbackReason = regexp.MustCompile(`^(` + callbackReasons + `)$`)
)

// catalogSeeds adds the catalog's requests that pick (the route a target fuzzes) as seeds.
func catalogSeeds(f *testing.F, pick func(events.APIGatewayV2HTTPRequest) bool, add func(events.APIGatewayV2HTTPRequest)) {
	n := 0
	for _, e := range loadHostileRequests(f) {
		if pick(e.Request) {
			add(e.Request)
			n++
		}
	}
	if n == 0 {
		f.Fatal("no catalog entry for this target")
	}
}

var (
	logAttempt   = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)
	logStateHash = regexp.MustCompile(`^[0-9a-f]{12}$`)
)

// checkLogLine asserts that a request made one JSON log line of known keys only, each with a
// value from a closed vocabulary (the reason from reasons, the standard OAuth errors, ...) or of
// a fixed shape (a hash prefix, an attempt): no room for a value of the request in clear.
func checkLogLine(t *testing.T, logs *bytes.Buffer, reasons *regexp.Regexp) {
	t.Helper()
	var line map[string]any
	if strings.Count(logs.String(), "\n") != 1 || json.Unmarshal(logs.Bytes(), &line) != nil {
		t.Fatalf("want one JSON log line, got:\n%s", logs)
	}
	for k, v := range line {
		s, _ := v.(string)
		ok := true
		switch k {
		case "time", "level", "duration_ms", "status":
		case "msg":
			ok = s == "auth callback"
		case "request_id":
			ok = s == "req-1"
		case "reason":
			ok = reasons.MatchString(s)
		case "outcome":
			_, known := pageTexts[Outcome(s)]
			ok = known || Outcome(s) == OutcomePending
		case "step":
			ok = s == StepPage || s == StepComplete || s == StepStart
		case "attempt":
			ok = logAttempt.MatchString(s)
		case "state_hash":
			ok = logStateHash.MatchString(s)
		case "binding":
			ok = s == bindingOpener || s == bindingCookie
		case "oauth_error":
			ok = s == "other" || standardOAuthError(s) == s
		case "state_extended":
			_, ok = v.(bool)
		default:
			ok = false
		}
		if !ok {
			t.Fatalf("log line field %s = %.80q is not one the log line may hold:\n%s", k, v, logs)
		}
	}
}

var attemptInBody = regexp.MustCompile(`var attempt = "([A-Za-z0-9_-]*)";`)

// pageSkeleton is a page with its nonce and attempt (fresh on each response) taken out: two
// pages of one outcome have the same skeleton unless a request value got into one of them.
func pageSkeleton(p Page) string {
	body := string(p.Body)
	if m := nonceInCSP.FindStringSubmatch(p.Header.Get("Content-Security-Policy")); m != nil {
		body = strings.ReplaceAll(body, m[1], "NONCE")
	}
	if m := attemptInBody.FindStringSubmatch(body); m != nil && m[1] != "" {
		body = strings.ReplaceAll(body, m[1], "ATTEMPT")
	}
	return body
}

// FuzzCallbackQuery: ParseCallback never panics, refuses with an *InvalidCallbackError whose
// reason is one of the specified ones (so it quotes nothing of the query), and what it accepts
// holds Connect's limits and parses again, re-encoded, to the same callback. GET with the query
// serves the handshake page exactly when ParseCallback accepts it (or it is empty), a 400 page
// otherwise, never calls Connect or claims the state, logs no value of the query, and puts
// nothing of the query in the page: its skeleton is the same as for a fixed query.
func FuzzCallbackQuery(f *testing.F) {
	catalogSeeds(f, func(r events.APIGatewayV2HTTPRequest) bool { return r.RequestContext.HTTP.Method == http.MethodGet },
		func(r events.APIGatewayV2HTTPRequest) { f.Add(r.RawQueryString) })
	ref := newRig(f)
	skeleton := map[int]string{
		http.StatusOK:         pageSkeleton(ref.get(query("code", "reference-code", "state", "reference-state"))),
		http.StatusBadRequest: pageSkeleton(ref.get("code=reference-code")),
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cb, err := ParseCallback(raw)
		var ice *InvalidCallbackError
		switch {
		case err != nil && !errors.As(err, &ice):
			t.Fatalf("ParseCallback error %T %v, want an *InvalidCallbackError", err, err)
		case err != nil && !callbackReason.MatchString(ice.Reason):
			t.Fatalf("reason %q is none of the specified ones", ice.Reason)
		case err == nil:
			checkCallback(t, cb)
			again, err := ParseCallback(encodeCallback(cb))
			if err != nil || again != cb {
				t.Fatalf("the accepted callback %+v re-encoded parses to %+v, %v", cb, again, err)
			}
		}

		r := newRig(t)
		p := r.get(raw)
		wantStatus, wantOutcome := http.StatusOK, OutcomePending
		if err != nil && raw != "" {
			wantStatus, wantOutcome = http.StatusBadRequest, OutcomeError
		}
		if p.Status != wantStatus || p.Outcome != wantOutcome {
			t.Fatalf("GET answered %d %s, want %d %s (ParseCallback: %v)", p.Status, p.Outcome, wantStatus, wantOutcome, err)
		}
		if r.connect.calls() != 0 || r.claims.n != 0 {
			t.Fatalf("GET made %d Connect calls and %d claims", r.connect.calls(), r.claims.n)
		}
		checkLogLine(t, r.logs, pageReasons)
		if got := pageSkeleton(p); got != skeleton[p.Status] {
			t.Fatalf("the page differs from the reference page of status %d: the query got into it", p.Status)
		}
	})
}

// checkCallback asserts what ParseCallback promises of an accepted callback: Connect's limits.
func checkCallback(t *testing.T, cb Callback) {
	t.Helper()
	switch {
	case cb.State == "" || len(cb.State) > MaxStateLen || !printableASCII(cb.State):
		t.Fatalf("accepted state %q", cb.State)
	case (cb.Code == "") == (cb.Error == ""):
		t.Fatalf("accepted a callback with code %q and error %q", cb.Code, cb.Error)
	case len(cb.Code) > MaxCodeLen || !printableASCII(cb.Code):
		t.Fatalf("accepted code of %d bytes", len(cb.Code))
	case len(cb.Error) > MaxErrorLen || strings.ContainsAny(cb.Error, "\"\\") || !printableASCII(cb.Error):
		t.Fatalf("accepted error %q", cb.Error)
	case cb.Code != "" && cb.ErrorDescription != "":
		t.Fatal("an error description with a code")
	case len(cb.ErrorDescription) > MaxErrorDescriptionLen || strings.ContainsAny(cb.ErrorDescription, "\"\\") || !printableASCII(cb.ErrorDescription):
		t.Fatalf("error description %q is not what Connect accepts", cb.ErrorDescription)
	}
}

func encodeCallback(cb Callback) string {
	v := url.Values{paramState: {cb.State}}
	if cb.Code != "" {
		v.Set(paramCode, cb.Code)
	} else {
		v.Set(paramError, cb.Error)
		if cb.ErrorDescription != "" {
			v.Set(paramErrorDescription, cb.ErrorDescription)
		}
	}
	return v.Encode()
}

var completionAnswer = regexp.MustCompile(`^\{"source":"switchboard-auth",("attempt":"[A-Za-z0-9_-]{22}",)?"outcome":"(success|cancelled|error)"\}$`)

// FuzzCompletionBody: a POST /auth/callback, as API Gateway delivers it (content type, body,
// base64 or not, cookies), never panics and is answered with the completion's JSON and nothing
// else (the attempt, if any, in its own alphabet); the log line holds only known fields (checkLogLine). Connect is called at most once, only for a body whose callback
// ParseCallback accepts, with exactly that callback's state and code or error, and only when
// the page's binding holds (an opener, or the start cookie naming the state).
func FuzzCompletionBody(f *testing.F) {
	catalogSeeds(f, func(r events.APIGatewayV2HTTPRequest) bool {
		return r.RequestContext.HTTP.Method == http.MethodPost && r.RawPath == "/auth/callback"
	}, func(r events.APIGatewayV2HTTPRequest) {
		f.Add(r.Headers["content-type"], r.Body, r.IsBase64Encoded, strings.Join(r.Cookies, "; "))
	})
	f.Add(formContentType, query("code", "c0de-value", "state", "state-value")+testTail, false, "")
	f.Add(formContentType, query("error", "access_denied", "error_description", "no", "state", "state-value")+"&attempt="+testAttempt+"&binding=cookie",
		false, BindingCookie+"="+authstate.Hash("state-value"))
	f.Fuzz(func(t *testing.T, contentType, body string, base64Body bool, cookie string) {
		req := events.APIGatewayV2HTTPRequest{RawPath: "/auth/callback", Headers: map[string]string{"content-type": contentType},
			Body: body, IsBase64Encoded: base64Body}
		if cookie != "" {
			req.Cookies = []string{cookie}
		}
		req.RequestContext.HTTP.Method = http.MethodPost
		r := newRig(t)
		resp, err := r.h.HandleAPIGateway(context.Background(), req)
		if err != nil {
			t.Fatalf("HandleAPIGateway: %v", err)
		}
		if !completionAnswer.MatchString(resp.Body) || resp.Headers["Content-Type"] != "application/json" {
			t.Fatalf("answer %d %.200q (%s) is not the completion's JSON", resp.StatusCode, resp.Body, resp.Headers["Content-Type"])
		}
		checkLogLine(t, r.logs, completionReasons)

		calls := r.connect.calls()
		if calls == 0 {
			if resp.StatusCode < 400 {
				t.Fatalf("status %d without a call to Connect", resp.StatusCode)
			}
			return
		}
		decoded := body
		if base64Body {
			b, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				t.Fatalf("Connect was called for a body that is not base64")
			}
			decoded = string(b)
		}
		cb, err := ParseCallback(decoded)
		if calls != 1 || err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%d Connect calls (status %d) for a body ParseCallback refuses with %v", calls, resp.StatusCode, err)
		}
		in := r.connect.inputs[0]
		if aws.ToString(in.State) != cb.State || aws.ToString(in.Code) != cb.Code || aws.ToString(in.Error) != cb.Error ||
			aws.ToString(in.ErrorDescription) != cb.ErrorDescription || aws.ToString(in.InstanceId) != testInstance {
			t.Fatalf("Connect was sent %+v for %+v", in, cb)
		}
		binding, _ := url.ParseQuery(decoded)
		if b := binding[paramBinding]; len(b) != 1 || (b[0] == bindingCookie && !bindingCookieNames(cookie, authstate.Hash(cb.State))) || (b[0] != bindingCookie && b[0] != bindingOpener) {
			t.Fatalf("Connect was called without the binding holding (binding %q)", b)
		}
	})
}

// FuzzStartBody: POST /auth/start never panics; it sets the binding cookie and redirects only
// for a form from exactly the chat origin whose authentication_url is an https URL (no user
// info) with one printable state of 1-1000 characters: the cookie is then the state's hash,
// Secure, HttpOnly, SameSite=Lax, for the whole host, and the redirect goes to that URL. Any
// other form gets a page and neither a cookie nor a Location. The log line gives a specified
// reason and no value of the form; Connect and the state store are never used.
func FuzzStartBody(f *testing.F) {
	catalogSeeds(f, func(r events.APIGatewayV2HTTPRequest) bool {
		return r.RawPath == StartPath && r.RequestContext.HTTP.Method == http.MethodPost
	},
		func(r events.APIGatewayV2HTTPRequest) { f.Add(r.Headers["origin"], r.Headers["content-type"], r.Body) })
	f.Add("https://chat.example.com", formContentType, paramAuthenticationURL+"="+url.QueryEscape("https://auth.example.com/oauth2/authorize?client_id=a&state=state-value"))
	f.Fuzz(func(t *testing.T, origin, contentType, body string) {
		r := newRig(t)
		p := r.h.Handle(context.Background(), Request{Method: http.MethodPost, Path: StartPath, Origin: origin, ContentType: contentType, Body: body})
		if r.connect.calls() != 0 || r.claims.n != 0 {
			t.Fatal("the start used Connect or the state store")
		}
		checkLogLine(t, r.logs, startReasons)
		if p.Status != http.StatusSeeOther {
			if p.Header.Get("Set-Cookie") != "" || p.Header.Get("Location") != "" || p.Status < 400 {
				t.Fatalf("a refused start (%d) set a cookie or a Location", p.Status)
			}
			return
		}
		if origin != testConfig().ChatOrigin {
			t.Fatalf("a start from %q was accepted", origin)
		}
		u, err := url.Parse(p.Header.Get("Location"))
		if err != nil || u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) || u.Host == "" {
			t.Fatalf("redirect to %q", p.Header.Get("Location"))
		}
		states := u.Query()["state"]
		if len(states) != 1 || states[0] == "" || len(states[0]) > MaxStateLen || !printableASCII(states[0]) {
			t.Fatalf("redirect to a URL with states %q", states)
		}
		c, err := http.ParseSetCookie(p.Header.Get("Set-Cookie"))
		if err != nil || c.Name != BindingCookie || c.Value != authstate.Hash(states[0]) || !c.Secure || !c.HttpOnly ||
			c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Fatalf("binding cookie %q (%v)", p.Header.Get("Set-Cookie"), err)
		}
	})
}
