package authredirect

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Outcome is what the customer's sign-in came to, as the page shows it and posts it to the chat
// widget. The values are part of the contract with the widget (docs/authredirect.md).
type Outcome string

const (
	// OutcomeSuccess: Connect acknowledged the code. It is no sign-in yet: Connect exchanges the
	// code with Cognito afterwards, on its own, and only the chat learns how that ended
	// (UpdateParticipantAuthentication "returns a success response to acknowledge the request";
	// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdateParticipantAuthentication.html).
	OutcomeSuccess Outcome = "success"
	// OutcomeCancelled: the customer cancelled the sign-in (error=access_denied); Connect was told.
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeExpired: Connect no longer knows the state (InvalidRequestException).
	OutcomeExpired Outcome = "expired"
	// OutcomeAlreadyUsed: this state was used before, here (replay) or at Connect (Conflict).
	OutcomeAlreadyUsed Outcome = "already_used"
	// OutcomeError: the sign-in failed, the link was malformed, Connect refused the call for a
	// reason a new attempt will not fix, or the state store or Connect was unavailable and the
	// state could not be released (the same link would be refused): sign in again from the chat.
	OutcomeError Outcome = "error"
	// OutcomeRetry: Connect (or the state store) was unavailable within the time budget; the
	// state was released, so the customer can try the same link again.
	OutcomeRetry Outcome = "retry"
)

// OutcomePending is the outcome of the page GET /auth/callback serves: the sign-in is not
// completed yet, the page first confirms it with the chat window. It is never posted to the
// widget.
const OutcomePending Outcome = "pending"

// MessageSource is the "source" field of every message between the page and the chat widget.
const MessageSource = "switchboard-auth"

// The "type" field of those messages (docs/authredirect.md).
const (
	// MessageChallenge (page to widget): {source, type, attempt}, asking which state the chat
	// started.
	MessageChallenge = "challenge"
	// MessageConfirm (widget to page): {source, type, attempt, state}, the answer.
	MessageConfirm = "confirm"
	// MessageOutcome (page to widget): {source, type, attempt, outcome}, after the completion.
	MessageOutcome = "outcome"
)

// ConfirmWait is how long the page waits for the chat window's answer before it says it could
// not confirm the sign-in. The widget answers at once; silence means the opener is on another
// origin (the challenge never reached it) or does not take part.
const ConfirmWait = 5 * time.Second

// pageText is what the customer reads for an outcome or a step of the page.
type pageText struct {
	Title   string `json:"title"`
	Heading string `json:"heading"`
	Message string `json:"message"`
	// Retry shows the "Try again" button and keeps the window open.
	Retry bool `json:"retry"`
}

var pageTexts = map[Outcome]pageText{
	// Never "You're signed in": Connect has only acknowledged the code (see OutcomeSuccess).
	OutcomeSuccess: {"Sign-in received", "We received your sign-in",
		"Return to the chat to continue: the chat shows whether the sign-in worked.", false},
	OutcomeCancelled: {"Sign-in cancelled", "Sign-in cancelled",
		"You didn't sign in. Return to the chat to continue.", false},
	OutcomeExpired: {"Sign-in link expired", "This sign-in link has expired",
		"Return to the chat and ask to sign in again.", false},
	OutcomeAlreadyUsed: {"Sign-in link already used", "This sign-in link was already used",
		"Return to the chat to continue. If you aren't signed in there, ask to sign in again.", false},
	OutcomeError: {"Sign-in didn't work", "We couldn't sign you in",
		"Return to the chat and ask to sign in again.", false},
	OutcomeRetry: {"Please try again", "We couldn't finish signing you in",
		"Something went wrong on our side. Please try again.", true},
}

// Steps of the page before (or instead of) the completion, shown by its script. The keys are
// the page's own; only Outcome values are posted to the widget.
const (
	stepChecking    = "checking"
	stepNoOpener    = "no_opener"
	stepUnconfirmed = "unconfirmed"
	stepMismatch    = "mismatch"
	stepIncomplete  = "incomplete"
)

var stepTexts = map[string]pageText{
	stepChecking: {"Finishing sign-in", "Finishing your sign-in",
		"Checking with your chat window\u2026", false},
	stepNoOpener: {"Sign-in not started from the chat", "This sign-in didn't start from your chat",
		"We didn't use this link. To sign in, select Sign in in your chat window. If someone sent you this link, don't use it.", false},
	stepUnconfirmed: {"Sign-in not confirmed", "We couldn't confirm this sign-in with your chat",
		"We didn't use this link: the window that opened it isn't your chat. Return to the chat and select Sign in there.", false},
	stepMismatch: {"Sign-in belongs to another chat", "This sign-in link belongs to another chat",
		"We didn't use this link. Return to your chat and select Sign in again.", false},
	stepIncomplete: {"Sign-in link incomplete", "This sign-in link is incomplete",
		"Return to the chat and ask to sign in again.", false},
}

// pageData fills the holes of pageSource.
type pageData struct {
	pageText
	Nonce      string
	Outcome    Outcome
	ChatOrigin string
	Source     string
	Attempt    string
	// Handshake runs the confirmation with the chat window and the completion (the page of a
	// GET with a valid callback, or of a reload); otherwise the page shows Outcome as final.
	Handshake      bool
	Outcomes       map[Outcome]pageText
	Steps          map[string]pageText
	ConfirmWaitMS  int64
	Challenge      string
	Confirm        string
	OutcomeMessage string
}

// pageSource is the page, written in html/template's syntax. The page uses no external
// resource. Its one script and one style element carry the response's nonce; every value is
// escaped for its context, as html/template would escape it (values inside the script become
// JavaScript literals). See docs/authredirect.md for the protocol.
//
// The function does not execute it with html/template: text/template looks fields and methods
// up by a name known only at run time (reflect.Value.MethodByName), which turns off the
// linker's removal of unused methods, and every operation of every SDK client then stays in the
// bootstrap (29 MB instead of 11; docs/performance.md). renderBody fills its few holes with
// escapers that do what html/template does in each hole's context, and the tests render the
// same source with html/template and require the same bytes (TestPageIsWhatHTMLTemplateRenders,
// FuzzPageIsWhatHTMLTemplateRenders).
//
// The script takes the callback's query out of the address bar into sessionStorage (so that a
// reload, or "Try again", resumes it) and POSTs it to the same path, saying how the sign-in is
// bound to the chat: "opener" once window.opener, answering from exactly ChatOrigin, confirmed
// that it started a sign-in with this state; "cookie" when no opener confirmed (none, or no
// answer), and then the function requires the start cookie (StartPath). A chat window that
// answers with another state stops it. It shows the outcome, tells the opener, and closes the
// window unless the outcome is retry. Without an opener to confirm with (the link was opened
// directly, or a sign-in page's Cross-Origin-Opener-Policy cut the popup off), only the start
// cookie can bind the sign-in to this browser's chat: the function checks it. complete(binding,
// refused) POSTs the callback; refused is what to show when the function finds no binding (its
// own 403 with an outcome: a WAF's 403 is no answer of ours).
//
// The script holds no comment: html/template removes comments from scripts, and the page must
// be what it renders.
const pageSource = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style nonce="{{.Nonce}}">
html { color: #1b1b1b; background: #ffffff; font: 1.125rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 32rem; margin: 4rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.5rem; margin: 0 0 0.75rem; }
p { margin: 0 0 1rem; }
.hint { color: #404040; }
button { font: inherit; color: #ffffff; background: #0b57d0; border: 0; border-radius: 0.375rem; padding: 0.5rem 1.25rem; cursor: pointer; }
button:focus-visible { outline: 3px solid #1b1b1b; outline-offset: 2px; }
</style>
</head>
<body>
<main>
<h1 id="heading">{{.Heading}}</h1>
<p id="message">{{.Message}}</p>
<p id="again-row"{{if not .Retry}} hidden{{end}}><button type="button" id="again">Try again</button></p>
{{if .Handshake}}<noscript><p>This page needs JavaScript to finish your sign-in.</p></noscript>
{{end}}<p class="hint" id="close-hint">You can close this window.</p>
</main>
<script nonce="{{.Nonce}}">
(function () {
  "use strict";
  var outcome = {{.Outcome}};
  var chatOrigin = {{.ChatOrigin}};
  var source = {{.Source}};
  var attempt = {{.Attempt}};
  var outcomes = {{.Outcomes}};
  var steps = {{.Steps}};
  var key = "switchboard-auth-callback";
  var opener = window.opener;
  function show(t) {
    document.title = t.title;
    document.getElementById("heading").textContent = t.heading;
    document.getElementById("message").textContent = t.message;
    document.getElementById("again-row").hidden = !t.retry;
  }
  function forget() { try { window.sessionStorage.removeItem(key); } catch (e) {} }
  function finish(o) {
    if (!Object.prototype.hasOwnProperty.call(outcomes, o)) { o = "error"; }
    show(outcomes[o]);
    try {
      if (opener && !opener.closed) {
        opener.postMessage({ source: source, type: {{.OutcomeMessage}}, attempt: attempt, outcome: o }, chatOrigin);
      }
    } catch (e) {}
    if (!outcomes[o].retry) { forget(); window.close(); }
  }
  document.getElementById("again").addEventListener("click", function () { window.location.reload(); });
  var params = window.location.search.slice(1);
  if (params) {
    try {
      window.sessionStorage.setItem(key, params);
      window.history.replaceState(null, "", window.location.pathname);
    } catch (e) {}
  }
  if (outcome !== "pending") { finish(outcome); return; }
  if (!params) {
    try { params = window.sessionStorage.getItem(key) || ""; } catch (e) {}
  }
  if (!params) { show(steps.incomplete); return; }
  if (!opener || opener.closed) { complete("cookie", steps.no_opener); return; }
  var state = new URLSearchParams(params).get("state");
  var timer = window.setTimeout(function () {
    window.removeEventListener("message", onMessage);
    complete("cookie", steps.unconfirmed);
  }, {{.ConfirmWaitMS}});
  function onMessage(event) {
    if (event.origin !== chatOrigin || event.source !== opener) { return; }
    var m = event.data;
    if (!m || m.source !== source || m.type !== {{.Confirm}} || m.attempt !== attempt) { return; }
    window.clearTimeout(timer);
    window.removeEventListener("message", onMessage);
    if (typeof m.state !== "string" || m.state !== state) { forget(); show(steps.mismatch); return; }
    complete("opener", null);
  }
  function complete(binding, refused) {
    var retryable = function (status) { return status === 429 || status >= 500; };
    window.fetch(window.location.pathname, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: params + "&attempt=" + encodeURIComponent(attempt) + "&binding=" + binding,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error"
    }).then(function (r) {
      return r.json().then(function (j) { return j && j.attempt === attempt ? j.outcome : ""; }, function () { return ""; })
        .then(function (o) {
          if (r.status === 403 && o && refused) { forget(); show(refused); return; }
          finish(o || (retryable(r.status) ? "retry" : "error"));
        });
    }, function () { finish("retry"); });
  }
  window.addEventListener("message", onMessage);
  opener.postMessage({ source: source, type: {{.Challenge}}, attempt: attempt }, chatOrigin);
})();
</script>
</body>
</html>
`

// Page is a rendered response: status, headers and body (the HTML page, or the JSON answer
// of a completion).
type Page struct {
	Status  int
	Outcome Outcome
	// Attempt identifies the page's attempt (GET) or the completion's (POST).
	Attempt string
	Header  http.Header
	Body    []byte
}

// RenderPage renders the page of a final outcome (a refused GET) with a fresh nonce.
// chatOrigin must already be validated (see CheckChatOrigin): it is the only window origin the
// page posts to.
func RenderPage(outcome Outcome, status int, chatOrigin string) (Page, error) {
	text, ok := pageTexts[outcome]
	if !ok {
		return Page{}, fmt.Errorf("render page: unknown outcome %q", outcome)
	}
	return renderPage(pageData{pageText: text, Outcome: outcome, ChatOrigin: chatOrigin}, status)
}

// RenderHandshakePage renders the page of GET /auth/callback for a valid callback (or for none,
// when a reload resumes from sessionStorage): it confirms the sign-in with the chat window and
// completes it with POST under the attempt identifier attempt.
func RenderHandshakePage(chatOrigin, attempt string) (Page, error) {
	return renderPage(pageData{pageText: stepTexts[stepChecking], Outcome: OutcomePending, ChatOrigin: chatOrigin,
		Attempt: attempt, Handshake: true}, http.StatusOK)
}

func renderPage(d pageData, status int) (Page, error) {
	nonce, err := newNonce()
	if err != nil {
		return Page{}, fmt.Errorf("render page: %w", err)
	}
	d = d.withConstants(nonce)
	body, err := renderBody(d)
	if err != nil {
		return Page{}, fmt.Errorf("render page: %w", err)
	}
	return Page{Status: status, Outcome: d.Outcome, Attempt: d.Attempt, Header: pageHeader(nonce), Body: body}, nil
}

// withConstants adds to d the nonce and what every page carries.
func (d pageData) withConstants(nonce string) pageData {
	d.Nonce, d.Source = nonce, MessageSource
	d.Outcomes, d.Steps, d.ConfirmWaitMS = pageTexts, stepTexts, ConfirmWait.Milliseconds()
	d.Challenge, d.Confirm, d.OutcomeMessage = MessageChallenge, MessageConfirm, MessageOutcome
	return d
}

// completion is the JSON answer of POST /auth/callback.
type completion struct {
	Source  string  `json:"source"`
	Attempt string  `json:"attempt,omitempty"`
	Outcome Outcome `json:"outcome"`
}

// renderCompletion is the answer of a completion: JSON the page's script reads.
func renderCompletion(outcome Outcome, status int, attempt string) Page {
	body, _ := json.Marshal(completion{Source: MessageSource, Attempt: attempt, Outcome: outcome}) // cannot fail
	h := baseHeader()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	return Page{Status: status, Outcome: outcome, Attempt: attempt, Header: h, Body: body}
}

// hsts is the Strict-Transport-Security of every response: the endpoint is HTTPS only (API
// Gateway serves no plain HTTP), and a browser that saw it once never sends a code over plain
// HTTP to this host for a year. Browsers ignore it over plain HTTP (local runs).
const hsts = "max-age=31536000; includeSubDomains"

// renderStart is the answer of POST /auth/start: the binding cookie, and 303 to the sign-in.
func renderStart(location, stateHash string) Page {
	h := baseHeader()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Location", location)
	h.Set("Set-Cookie", (&http.Cookie{
		Name:     BindingCookie,
		Value:    stateHash,
		Path:     "/",
		MaxAge:   int(bindingCookieMaxAge.Seconds()),
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteLaxMode, // sent on Cognito's redirect back (a top-level GET)
	}).String())
	return Page{Status: http.StatusSeeOther, Outcome: OutcomePending, Header: h}
}

// baseHeader is what every response carries: HTTPS only, no caching, no referrer (the URL holds
// the code), no sniffing, no framing.
func baseHeader() http.Header {
	h := http.Header{}
	h.Set("Strict-Transport-Security", hsts)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	return h
}

// pageHeader is the header of every page: nothing but our nonce'd script and style may run, the
// script may only fetch from the page's own origin (the completion), and see baseHeader.
func pageHeader(nonce string) http.Header {
	h := baseHeader()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", fmt.Sprintf(
		"default-src 'none'; script-src 'nonce-%[1]s'; style-src 'nonce-%[1]s'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		nonce))
	return h
}

// fallbackPage is served when rendering fails (it cannot, short of the system's random source
// failing): a static page without script, under a CSP that allows none.
func fallbackPage() Page {
	h := baseHeader()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	body := `<!doctype html><html lang="en"><meta charset="utf-8"><title>Please try again</title>` +
		`<h1>We couldn't finish signing you in</h1><p>Please return to the chat and try again. You can close this window.</p></html>`
	return Page{Status: http.StatusServiceUnavailable, Outcome: OutcomeRetry, Header: h, Body: []byte(body)}
}

// newNonce returns 128 random bits, base64url-encoded without padding for the CSP nonce-source (no '+' or '=' that
// attribute escaping would rewrite).
func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
