package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
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
// the function; the function's page confirms the state with the widget (postMessage), POSTs the
// completion, posts the outcome to the widget and closes the popup.

// widgetSnippet is the code docs/authredirect.md tells the chat widget to add, read from the
// doc so that the doc cannot drift from what is tested.
func widgetSnippet(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/authredirect.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	_, after, ok := strings.Cut(doc, "<!-- widget-snippet:start -->")
	block, _, ok2 := strings.Cut(after, "<!-- widget-snippet:end -->")
	_, code, ok3 := strings.Cut(block, "```js")
	code, _, ok4 := strings.Cut(code, "```")
	if !ok || !ok2 || !ok3 || !ok4 || strings.TrimSpace(code) == "" {
		t.Fatal("docs/authredirect.md has no widget snippet between its markers")
	}
	return code
}

// widgetPage stands in for the chat widget around the documented snippet. It fetches the
// authentication URL as soon as it loads, opens it with openSignIn from a click (a user
// gesture, as popup blockers require), and records every message from the popup's origin
// (received) and every outcome the snippet accepted (accepted).
const widgetPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Chat widget stand-in</title></head>
<body>
<button id="signin" disabled>Sign in</button>
<script>
var p = new URLSearchParams(location.search);
const authenticationParameters = { redirectUri: p.get("redirect") };
window.received = [];
window.accepted = [];
window.authURL = null;
window.fetchError = null;
function onSignInOutcome(outcome) { window.accepted.push({ outcome: outcome, attempt: signInAttempt }); }
window.addEventListener("message", function (e) {
  if (e.origin === new URL(p.get("redirect")).origin) { window.received.push({ origin: e.origin, data: e.data }); }
});
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
document.getElementById("signin").addEventListener("click", function () { openSignIn(window.authURL); });
</script>
<script>
%s
</script>
</body>
</html>
`

// otherOriginPage is a page on another origin that opens a callback URL in a popup (as a
// phishing page would with someone else's link) and keeps sending the popup confirmations for
// the right state.
const otherOriginPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Another site</title></head>
<body>
<button id="open">Open</button>
<script>
var p = new URLSearchParams(location.search);
document.getElementById("open").addEventListener("click", function () {
  window.popup = window.open(p.get("target"), "switchboard-auth", "popup,width=480,height=640");
  window.setInterval(function () {
    try { window.popup.postMessage({ source: "switchboard-auth", type: "confirm", attempt: "", state: p.get("state") }, "*"); } catch (e) {}
  }, 50);
});
</script>
</body>
</html>
`

// message is what the widget received from the popup's origin.
type message struct {
	Origin string `json:"origin"`
	Data   struct {
		Source  string `json:"source"`
		Type    string `json:"type"`
		Attempt string `json:"attempt"`
		Outcome string `json:"outcome"`
	} `json:"data"`
}

// accepted is an outcome the documented snippet passed to onSignInOutcome.
type accepted struct {
	Outcome string `json:"outcome"`
	Attempt string `json:"attempt"`
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
	page := fmt.Sprintf(widgetPage, widgetSnippet(t))
	widget := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/go" {
			// A hop that carries one state in its own URL and sends the popup to a callback
			// with another (the mismatch case).
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
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

// clickForPopup clicks sel on tab and returns the popup it opened.
func clickForPopup(t *testing.T, tab context.Context, sel string) context.Context {
	t.Helper()
	popupID := chromedp.WaitNewTarget(tab, func(info *target.Info) bool { return info.Type == "page" })
	browsertest.Run(t, tab, chromedp.Click(chromedp.CSS(sel)))
	select {
	case id := <-popupID:
		return browsertest.Attach(t, tab, id)
	case <-time.After(20 * time.Second):
		t.Fatal("no popup opened")
		return nil
	}
}

func evaluate[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	raw := browsertest.Run(t, tab, chromedp.Evaluate[[]byte](expr))
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return out
}

// received returns the messages the widget got from the popup's origin, and the outcomes the
// snippet accepted.
func (b *browserRig) received(t *testing.T) ([]message, []accepted) {
	t.Helper()
	return evaluate[[]message](t, b.tab, `window.received`), evaluate[[]accepted](t, b.tab, `window.accepted`)
}

// waitPopupDone waits until the snippet accepted n outcomes and the popup closed itself.
func (b *browserRig) waitPopupDone(t *testing.T, n int) []accepted {
	t.Helper()
	_, err := browsertest.RunWithin(b.tab, 20*time.Second, chromedp.Poll[bool](
		fmt.Sprintf(`window.accepted.length >= %d && !!signInPopup && signInPopup.closed`, n)))
	if err != nil {
		msgs, acc := b.received(t)
		t.Fatalf("the popup did not deliver %d outcome(s) and close: %v; received %+v, accepted %+v; served %v", n, err, msgs, acc, b.servedURLs())
	}
	_, acc := b.received(t)
	return acc
}

func (b *browserRig) callbackOrigin() string {
	u, _ := url.Parse(b.Callback)
	return u.Scheme + "://" + u.Host
}

// wantOutcomes checks the outcomes the snippet accepted, each for the attempt of the challenge
// it answered, and that every outcome message the popup posted carries that attempt.
func (b *browserRig) wantOutcomes(t *testing.T, got []accepted, outcomes ...authredirect.Outcome) {
	t.Helper()
	if len(got) != len(outcomes) {
		t.Fatalf("widget accepted %+v, want outcomes %v", got, outcomes)
	}
	msgs, _ := b.received(t)
	challenges := map[string]bool{}
	for _, m := range msgs {
		if m.Origin != b.callbackOrigin() || m.Data.Source != authredirect.MessageSource {
			t.Fatalf("message %+v is not from the endpoint's page", m)
		}
		if m.Data.Type == authredirect.MessageChallenge {
			challenges[m.Data.Attempt] = true
		}
	}
	for i, a := range got {
		if a.Outcome != string(outcomes[i]) || a.Attempt == "" || !challenges[a.Attempt] {
			t.Fatalf("accepted outcome %d = %+v, want %s for the attempt of a challenge (%v)", i, a, outcomes[i], challenges)
		}
	}
}

// wantStep waits until the page on tab shows the title of a step and checks its text says why.
func wantStep(t *testing.T, tab context.Context, title, why string) {
	t.Helper()
	if _, err := browsertest.RunWithin(tab, 20*time.Second, chromedp.Poll[bool](fmt.Sprintf(`document.title === %q`, title))); err != nil {
		got, _ := browsertest.RunWithin(tab, time.Second, chromedp.Title())
		t.Fatalf("page title %q, want %q: %v", got, title, err)
	}
	text := browsertest.Run(t, tab, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(text, why) {
		t.Fatalf("page says %q, want it to say %q", text, why)
	}
}

// wantNoCall checks that the chat's authentication was left alone: no
// UpdateParticipantAuthentication request, the session still waiting.
func (b *browserRig) wantNoCall(t *testing.T, ca connectsim.ChatAuth) {
	t.Helper()
	if c := b.calls(); total(c) != 0 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want none", c)
	}
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthURLIssued {
		t.Fatalf("connectsim session %s, want it still waiting (URL_ISSUED)", s.Status)
	}
}

func TestBrowserSignInSucceedsAndThePopupCloses(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	b.wantOutcomes(t, b.waitPopupDone(t, 1), authredirect.OutcomeSuccess)

	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
		t.Fatalf("connectsim session %s (%s), want SUCCEEDED", s.Status, s.Error)
	}
	if c := b.calls(); c["ok"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
	}
	served := b.servedURLs()
	if len(served) != 2 || !strings.HasPrefix(served[0], "GET ") || served[1] != "POST "+b.Callback {
		t.Fatalf("the function answered %v, want the page's GET and its POST", served)
	}

	// The same callback URL opened again in a tab of its own in this browser (a replay): no
	// opener, but this browser's start cookie names the state, so the completion is tried and
	// refused as used before Connect; the code is out of the address bar.
	browsertest.Run(t, b.tab, chromedp.Navigate(strings.TrimPrefix(served[0], "GET ")))
	wantStep(t, b.tab, "Sign-in link already used", "was already used")
	loc := browsertest.Run(t, b.tab, chromedp.Location())
	if strings.Contains(loc, "?") || strings.Contains(loc, "code=") {
		t.Fatalf("address bar still holds the query: %s", loc)
	}
	if c := b.calls(); total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v after the replay, want still one", c)
	}
}

// Item 7, no opener: someone else's authentication link, signed in and opened directly.
func TestBrowserLinkOpenedWithoutTheChatNeverCallsConnect(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	ca := b.startChat(t)
	cb := b.signIn(t, ca)
	browsertest.Run(t, b.tab, chromedp.Navigate(cb))
	wantStep(t, b.tab, "Sign-in not started from the chat", "We didn't use this link.")
	b.wantNoCall(t, ca)
	// A reload does not change that.
	browsertest.Run(t, b.tab, chromedp.Reload())
	wantStep(t, b.tab, "Sign-in link incomplete", "ask to sign in again")
	b.wantNoCall(t, ca)
}

// Item 7, opener on another origin: a page elsewhere opens the link in a popup and sends it
// confirmations with the right state; the page hears only the chat origin.
func TestBrowserOpenerOnAnotherOriginNeverCallsConnect(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	ca := b.startChat(t)
	cb := b.signIn(t, ca)
	u, _ := url.Parse(cb)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, otherOriginPage)
	}))
	t.Cleanup(other.Close)
	q := url.Values{"target": {cb}, "state": {u.Query().Get("state")}}
	browsertest.Run(t, b.tab, chromedp.Navigate(other.URL+"/?"+q.Encode()))
	popup := clickForPopup(t, b.tab, "#open")
	wantStep(t, popup, "Sign-in not confirmed", "the window that opened it isn't your chat")
	b.wantNoCall(t, ca)
}

// Item 7, an opener on the chat origin that started another sign-in: the widget's state is not
// the callback's, so the page refuses.
func TestBrowserOpenerWithAnotherStateNeverCallsConnect(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	victim := b.startChat(t) // the chat whose link was passed on
	cb := b.signIn(t, victim)
	own := b.startChat(t) // the chat in this browser
	b.openWidget(t, own)
	ownState := evaluate[string](t, b.tab, `new URL(window.authURL).searchParams.get("state")`)
	if ownState == "" || strings.Contains(cb, url.QueryEscape(ownState)) {
		t.Fatalf("the two chats share a state")
	}
	// The widget opens a URL carrying its own state that ends on the other chat's callback.
	hop := b.widget + "/go?" + url.Values{"state": {ownState}, "to": {cb}}.Encode()
	browsertest.Run(t, b.tab, chromedp.Evaluate[any](fmt.Sprintf(`window.authURL = %q; true`, hop)))
	popup := clickForPopup(t, b.tab, "#signin")
	wantStep(t, popup, "Sign-in belongs to another chat", "We didn't use this link.")
	if c := b.calls(); total(c) != 0 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want none", c)
	}
	for _, ca := range []connectsim.ChatAuth{victim, own} {
		if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthURLIssued {
			t.Fatalf("connectsim session %s, want it still waiting", s.Status)
		}
	}
	if _, acc := b.received(t); len(acc) != 0 {
		t.Fatalf("the widget accepted %+v", acc)
	}
}

func TestBrowserCancelledSignIn(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	b.Sim.SetSignInOutcome(connectsim.SignInOutcome{Error: "access_denied", ErrorDescription: "User cancelled"})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	b.wantOutcomes(t, b.waitPopupDone(t, 1), authredirect.OutcomeCancelled)
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthCancelled {
		t.Fatalf("connectsim session %s, want CANCELLED", s.Status)
	}
}

// A script smuggled into error_description never runs: not in the popup (the description is
// never put on the page, and the CSP would refuse an inline script without the nonce anyway),
// and nothing but the real outcome reaches the widget.
func TestBrowserScriptInErrorDescriptionNeverRuns(t *testing.T) {
	const payload = `<script>window.opener.postMessage({source:"switchboard-auth",type:"outcome",outcome:"pwned"},"*");window.opener.pwned=1</script>` +
		`<img src=x onerror="window.opener.postMessage({source:'switchboard-auth',outcome:'pwned'},'*')">` +
		`"><svg onload="window.opener.pwned=2">`
	b := newBrowserRig(t, rigOptions{})
	b.Sim.SetSignInOutcome(connectsim.SignInOutcome{Error: "server_error", ErrorDescription: payload})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	b.wantOutcomes(t, b.waitPopupDone(t, 1), authredirect.OutcomeError)
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
	b, ca, popup := newRetryPage(t)

	b.Sim.ClearFaults()
	browsertest.Run(t, popup, chromedp.Click(chromedp.CSS("#again")))
	b.wantOutcomes(t, b.waitPopupDone(t, 2), authredirect.OutcomeRetry, authredirect.OutcomeSuccess)
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
		t.Fatalf("connectsim session %s, want SUCCEEDED", s.Status)
	}
}

// newRetryPage starts a chat with a 1 s budget, clicks Sign in while Connect throttles every
// call, and returns the rig, the chat and the popup showing "Please try again". Connect still
// throttles: ClearFaults to let the next try through.
func newRetryPage(t *testing.T) (*browserRig, connectsim.ChatAuth, context.Context) {
	t.Helper()
	b := newBrowserRig(t, rigOptions{budget: "1s"})
	b.Sim.SetFault(connectsim.OpUpdateParticipantAuthentication, connectsim.Fault{Kind: connectsim.FaultThrottle})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	popup := clickForPopup(t, b.tab, "#signin")
	browsertest.Run(t, popup, chromedp.WaitVisible(chromedp.CSS("#again")))
	if title := browsertest.Run(t, popup, chromedp.Title()); title != "Please try again" {
		t.Fatalf("popup title %q", title)
	}
	if search := browsertest.Run(t, popup, chromedp.Evaluate[string](`location.search`)); search != "" {
		t.Fatalf("popup address bar still holds %q", search)
	}
	if _, err := browsertest.RunWithin(b.tab, 10*time.Second, chromedp.Poll[bool](`window.accepted.length >= 1`)); err != nil {
		t.Fatal(err)
	}
	_, acc := b.received(t)
	b.wantOutcomes(t, acc, authredirect.OutcomeRetry)
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthURLIssued {
		t.Fatalf("connectsim session %s, want still URL_ISSUED", s.Status)
	}
	return b, ca, popup
}

// Item 10: reloading the "Please try again" page (F5) tries again with the same link. The query
// left the address bar, so the reload is a bare GET; the page resumes from sessionStorage, as a
// new attempt with a new confirmation. While Connect still throttles the reload says "try again"
// again, and once it is back the reload completes the sign-in.
func TestBrowserReloadingTheRetryPageTriesAgain(t *testing.T) {
	b, ca, popup := newRetryPage(t)

	browsertest.Run(t, popup, chromedp.Reload())
	if _, err := browsertest.RunWithin(b.tab, 20*time.Second, chromedp.Poll[bool](`window.accepted.length >= 2`)); err != nil {
		t.Fatal(err)
	}
	_, acc := b.received(t)
	b.wantOutcomes(t, acc, authredirect.OutcomeRetry, authredirect.OutcomeRetry)
	if acc[0].Attempt == acc[1].Attempt {
		t.Fatal("the reload reused the attempt identifier")
	}
	if title := browsertest.Run(t, popup, chromedp.Title()); title != "Please try again" {
		t.Fatalf("popup title after the reload %q", title)
	}

	b.Sim.ClearFaults()
	browsertest.Run(t, popup, chromedp.Reload())
	b.wantOutcomes(t, b.waitPopupDone(t, 3), authredirect.OutcomeRetry, authredirect.OutcomeRetry, authredirect.OutcomeSuccess)
	if s := b.session(t, ca.SessionID); s.Status != connectsim.AuthSucceeded {
		t.Fatalf("connectsim session %s, want SUCCEEDED", s.Status)
	}
	if c := b.calls(); c["ok"] != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
	}
	var gets int
	for _, s := range b.servedURLs() {
		if s == "GET "+b.Callback {
			gets++
		}
	}
	if gets != 2 {
		t.Fatalf("served %v, want two bare GETs (the reloads)", b.servedURLs())
	}
}

// Item 11: every outcome message carries the attempt it completes, and the documented widget
// code takes an outcome only from its own popup and only for the attempt it confirmed. Here two
// windows on the callback origin post outcomes the widget must not take: another window the
// widget page opened (not its sign-in popup), and its own popup showing a malformed link's error
// page, whose attempt it never confirmed.
func TestBrowserWidgetTakesOutcomesOnlyFromItsOwnPopupsConfirmedAttempt(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	ca := b.startChat(t)
	b.openWidget(t, ca)
	malformed := b.Callback + "?code=c" // no state: the 400 page posts outcome "error" at once
	browsertest.Run(t, b.tab, chromedp.Evaluate[any](fmt.Sprintf(`window.other = window.open(%q, "other", "popup"); true`, malformed)))
	if _, err := browsertest.RunWithin(b.tab, 20*time.Second, chromedp.Poll[bool](
		`window.received.filter(function (m) { return m.data.type === "outcome"; }).length >= 1 && window.other.closed`)); err != nil {
		t.Fatalf("the other window posted no outcome: %v", err)
	}
	browsertest.Run(t, b.tab, chromedp.Evaluate[any](fmt.Sprintf(`openSignIn(%q); true`, malformed)))
	if _, err := browsertest.RunWithin(b.tab, 20*time.Second, chromedp.Poll[bool](
		`window.received.filter(function (m) { return m.data.type === "outcome"; }).length >= 2 && signInPopup.closed`)); err != nil {
		t.Fatalf("the popup posted no outcome: %v", err)
	}
	if _, acc := b.received(t); len(acc) != 0 {
		t.Fatalf("the widget took %+v", acc)
	}

	// The real sign-in afterwards: its outcome names the attempt the widget confirmed.
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	acc := b.waitPopupDone(t, 1)
	b.wantOutcomes(t, acc, authredirect.OutcomeSuccess)
	msgs, _ := b.received(t)
	var outcomes []message
	for _, m := range msgs {
		if m.Data.Type == authredirect.MessageOutcome {
			outcomes = append(outcomes, m)
		}
	}
	if len(outcomes) != 3 || outcomes[2].Data.Attempt != acc[0].Attempt || outcomes[2].Data.Outcome != "success" {
		t.Fatalf("outcome messages %+v, want the last one for attempt %s", outcomes, acc[0].Attempt)
	}
}

// An identity provider whose sign-in page sends Cross-Origin-Opener-Policy: same-origin puts
// the popup in a new browsing context group: when it comes back to the callback, window.opener
// is null, so the page cannot confirm the sign-in with the chat. Public reports say Amazon
// Cognito's hosted sign-in does this (hashicorp/vault#26596, swagger-api/swagger-ui#10786); it is
// not confirmed here. The start cookie still binds the sign-in to this browser's chat: the
// completion goes through, once, and the widget (cut off) gets no outcome message.
func TestBrowserSignInPageWithCOOPCompletesThroughTheStartCookie(t *testing.T) {
	b := newBrowserRig(t, rigOptions{})
	simURL, err := url.Parse(b.Sim.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(simURL)
	proxy.ModifyResponse = func(r *http.Response) error {
		r.Header.Set("Cross-Origin-Opener-Policy", "same-origin")
		return nil
	}
	idp := httptest.NewServer(proxy)
	t.Cleanup(idp.Close)
	ca := b.startChat(t)
	b.openWidget(t, ca)
	// The widget's authentication URL, served by the sign-in stand-in behind the COOP proxy.
	authURL := evaluate[string](t, b.tab, `window.authURL`)
	if !strings.HasPrefix(authURL, b.Sim.URL+"/") {
		t.Fatalf("authentication URL %q is not connectsim's", authURL)
	}
	viaIdP := idp.URL + strings.TrimPrefix(authURL, b.Sim.URL)
	browsertest.Run(t, b.tab, chromedp.Evaluate[any](fmt.Sprintf(`window.authURL = %q; true`, viaIdP)))
	browsertest.Run(t, b.tab, chromedp.Click(chromedp.CSS("#signin")))
	deadline := time.Now().Add(20 * time.Second)
	for b.session(t, ca.SessionID).Status != connectsim.AuthSucceeded {
		if time.Now().After(deadline) {
			t.Fatalf("connectsim session %s, want SUCCEEDED; served %v", b.session(t, ca.SessionID).Status, b.servedURLs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c := b.calls(); c["ok"] != 1 || total(c) != 1 {
		t.Fatalf("UpdateParticipantAuthentication requests %v, want one ok", c)
	}
	if msgs, acc := b.received(t); len(msgs) != 0 || len(acc) != 0 {
		t.Fatalf("the widget heard %+v %+v from a popup COOP cut off", msgs, acc)
	}
}
