package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-connect/switchboard/local/browsertest"
	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/authredirect"
)

// The whole chat authentication in headless Chromium: a page standing in for the chat widget
// (its own origin, CHAT_ORIGIN) asks connectsim's Participant Service for the authentication
// URL and opens it in a popup on a click; connectsim's Cognito stand-in redirects the popup to
// the function; the function's page posts the outcome to the widget and closes the popup.

// widgetPage stands in for the chat widget. It fetches the authentication URL as soon as it
// loads, opens it from a click (a user gesture, as popup blockers require), and records every
// message it receives.
const widgetPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Chat widget stand-in</title></head>
<body>
<button id="signin" disabled>Sign in</button>
<script>
window.received = [];
window.authURL = null;
window.fetchError = null;
window.addEventListener("message", function (e) {
  window.received.push({ origin: e.origin, data: e.data });
});
var p = new URLSearchParams(location.search);
fetch(p.get("sim") + "/participant/authentication-url", {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-Amz-Bearer": p.get("token") },
  body: JSON.stringify({ SessionId: p.get("session"), RedirectUri: p.get("redirect") })
}).then(function (r) {
  if (!r.ok) { throw new Error("GetAuthenticationUrl answered " + r.status); }
  return r.json();
}).then(function (j) {
  window.authURL = j.AuthenticationUrl;
  document.getElementById("signin").disabled = false;
}).catch(function (e) { window.fetchError = String(e); });
document.getElementById("signin").addEventListener("click", function () {
  window.popup = window.open(window.authURL, "switchboard-auth", "popup,width=480,height=640");
});
</script>
</body>
</html>
`

// message is what the widget received.
type message struct {
	Origin string `json:"origin"`
	Data   struct {
		Source  string `json:"source"`
		Outcome string `json:"outcome"`
	} `json:"data"`
}

// browserRig is a rig whose chat origin is a local widget page, and a browser.
type browserRig struct {
	*rig
	widget string // the widget page's origin
	tab    context.Context
}

func newBrowserRig(t *testing.T, o rigOptions) *browserRig {
	t.Helper()
	tab := browsertest.Start(t) // first, so that a missing browser skips before any set-up
	widget := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, widgetPage)
	}))
	t.Cleanup(widget.Close)
	o.chatOrigin = widget.URL
	return &browserRig{rig: newRig(t, o), widget: widget.URL, tab: tab}
}

// openWidget loads the widget page for a chat and waits until it holds the authentication URL.
func (b *browserRig) openWidget(t *testing.T, ca connectsim.ChatAuth) {
	t.Helper()
	q := url.Values{"sim": {b.Sim.URL}, "token": {ca.ParticipantToken}, "session": {ca.SessionID}, "redirect": {b.Callback}}
	browsertest.Run(t, b.tab, chromedp.Navigate(b.widget+"/chat?"+q.Encode()))
	state := browsertest.Run(t, b.tab, chromedp.Poll[string](`window.authURL ? "ready" : window.fetchError`))
	if state != "ready" {
		t.Fatalf("the widget could not get the authentication URL: %s", state)
	}
}

// received returns the messages the widget got.
func (b *browserRig) received(t *testing.T) []message {
	t.Helper()
	raw := browsertest.Run(t, b.tab, chromedp.Evaluate[[]byte](`window.received`))
	var out []message
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return out
}

// waitPopupDone waits until the widget has n messages and its popup closed itself.
func (b *browserRig) waitPopupDone(t *testing.T, n int) []message {
	t.Helper()
	_, err := browsertest.RunWithin(b.tab, 20*time.Second, chromedp.Poll[bool](
		fmt.Sprintf(`window.received.length >= %d && !!window.popup && window.popup.closed`, n)))
	if err != nil {
		t.Fatalf("the popup did not post %d message(s) and close: %v; received %+v; served %v", n, err, b.received(t), len(b.servedURLs()))
	}
	return b.received(t)
}

func (b *browserRig) callbackOrigin() string {
	u, _ := url.Parse(b.Callback)
	return u.Scheme + "://" + u.Host
}

func (b *browserRig) wantMessages(t *testing.T, got []message, outcomes ...authredirect.Outcome) {
	t.Helper()
	if len(got) != len(outcomes) {
		t.Fatalf("widget received %+v, want outcomes %v", got, outcomes)
	}
	for i, m := range got {
		if m.Origin != b.callbackOrigin() || m.Data.Source != authredirect.MessageSource || m.Data.Outcome != string(outcomes[i]) {
			t.Fatalf("message %d = %+v, want {source %s, outcome %s} from %s", i, m, authredirect.MessageSource, outcomes[i], b.callbackOrigin())
		}
	}
}

func TestBrowserSignInSucceedsAndThePopupCloses(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	b.wantMessages(t, b.waitPopupDone(t, 1), authredirect.OutcomeSuccess)

	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
		t.Fatalf("connectsim session %s (%s), want SUCCEEDED", s.Status, s.Error)
	}
	if c := b.calls(); c["ok"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
	}

	// A replay of the same callback URL in the browser: refused, no second call, and the code
	// is taken out of the address bar.
	served := b.servedURLs()
	if len(served) != 1 {
		t.Fatalf("the function answered %d requests, want 1", len(served))
	}
	browsertest.Run(t, b.tab, chromedp.Navigate(served[0]))
	if title := browsertest.Run(t, b.tab, chromedp.Title()); title != "Sign-in link already used" {
		t.Fatalf("replay page title %q", title)
	}
	text := browsertest.Run(t, b.tab, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(text, "already used") || !strings.Contains(text, "You can close this window.") {
		t.Fatalf("replay page says %q", text)
	}
	loc := browsertest.Run(t, b.tab, chromedp.Location())
	if strings.Contains(loc, "?") || strings.Contains(loc, "code=") {
		t.Fatalf("address bar still holds the query: %s", loc)
	}
	if c := b.calls(); total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v after the replay, want still one", c)
	}
}

func TestBrowserCancelledSignIn(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	b.Sim.SetSignInOutcome(connectsim.SignInOutcome{Error: "access_denied", ErrorDescription: "User cancelled"})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	b.wantMessages(t, b.waitPopupDone(t, 1), authredirect.OutcomeCancelled)
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthCancelled {
		t.Fatalf("connectsim session %s, want CANCELLED", s.Status)
	}
}

// A script smuggled into error_description never runs: not in the popup (the description is
// never put on the page, and the CSP would refuse an inline script without the nonce anyway),
// and nothing but the real outcome reaches the widget.
func TestBrowserScriptInErrorDescriptionNeverRuns(t *testing.T) {
	const payload = `<script>window.opener.postMessage({source:"switchboard-auth",outcome:"pwned"},"*");window.opener.pwned=1</script>` +
		`<img src=x onerror="window.opener.postMessage({source:'switchboard-auth',outcome:'pwned'},'*')">` +
		`"><svg onload="window.opener.pwned=2">`
	b := newBrowserRig(t, rigOptions{})
	b.Sim.SetSignInOutcome(connectsim.SignInOutcome{Error: "server_error", ErrorDescription: payload})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	b.wantMessages(t, b.waitPopupDone(t, 1), authredirect.OutcomeError)
	if pwned := browsertest.Run(t, b.tab, chromedp.Evaluate[bool](`typeof window.pwned !== "undefined"`)); pwned {
		t.Fatal("the injected script ran")
	}
	// Connect got the reduced description, as text.
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthFailed || !strings.Contains(s.Error, "<script>window.opener.postMessage") || strings.Contains(s.Error, `"`) {
		t.Fatalf("connectsim session %s %q", s.Status, s.Error)
	}

	// The same payload straight in the address bar, in every parameter: whatever the outcome,
	// the page shows none of it and runs none of it.
	for _, q := range []url.Values{
		{"error": {"server_error"}, "error_description": {payload}, "state": {"s-" + fmt.Sprint(time.Now().UnixNano())}},
		{"code": {payload}, "state": {"s2-" + fmt.Sprint(time.Now().UnixNano())}},
		{"code": {"c"}, "state": {payload}},
		{"error": {payload}, "state": {"s3"}},
	} {
		browsertest.Run(t, b.tab, chromedp.Navigate(b.Callback+"?"+q.Encode()))
		html := browsertest.Run(t, b.tab, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		if strings.Contains(html, "pwned") || strings.Contains(html, "<img") || strings.Contains(html, "<svg") {
			t.Fatalf("the page reflects the payload:\n%s", html)
		}
		if ran := browsertest.Run(t, b.tab, chromedp.Evaluate[bool](`typeof window.pwned !== "undefined"`)); ran {
			t.Fatal("the payload ran")
		}
		scripts := browsertest.Run(t, b.tab, chromedp.Evaluate[int](`document.scripts.length`))
		if scripts != 1 {
			t.Fatalf("%d scripts on the page, want only the page's own", scripts)
		}
	}
}

// Connect throttles beyond the budget: the popup stays open with "Try again", the code is out
// of the address bar, and the button completes the sign-in once Connect is back.
func TestBrowserRetryButtonCompletesTheSignIn(t *testing.T) {
	b := newBrowserRig(t, rigOptions{budget: "1s"})
	b.Sim.SetFault(connectsim.OpUpdateParticipantAuthentication, connectsim.Fault{Kind: connectsim.FaultThrottle})
	ca := b.startChat(t)
	b.openWidget(t, ca)

	popupID := chromedp.WaitNewTarget(b.tab, func(info *target.Info) bool { return info.Type == "page" })
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	var id target.ID
	select {
	case id = <-popupID:
	case <-time.After(20 * time.Second):
		t.Fatal("no popup opened")
	}
	popup := browsertest.Attach(t, b.tab, id)
	browsertest.Run(t, popup, chromedp.WaitVisible(chromedp.CSS("#again")))
	if title := browsertest.Run(t, popup, chromedp.Title()); title != "Please try again" {
		t.Fatalf("popup title %q", title)
	}
	if search := browsertest.Run(t, popup, chromedp.Evaluate[string](`location.search`)); search != "" {
		t.Fatalf("popup address bar still holds %q", search)
	}
	if _, err := browsertest.RunWithin(b.tab, 10*time.Second, chromedp.Poll[bool](`window.received.length >= 1`)); err != nil {
		t.Fatal(err)
	}
	b.wantMessages(t, b.received(t), authredirect.OutcomeRetry)
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthURLIssued {
		t.Fatalf("connectsim session %s, want still URL_ISSUED", s.Status)
	}

	b.Sim.ClearFaults()
	browsertest.Run(t, popup, chromedp.Click(chromedp.CSS("#again")))
	b.wantMessages(t, b.waitPopupDone(t, 2), authredirect.OutcomeRetry, authredirect.OutcomeSuccess)
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
		t.Fatalf("connectsim session %s, want SUCCEEDED", s.Status)
	}
}
