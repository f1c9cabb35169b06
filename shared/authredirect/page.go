package authredirect

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
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

// MessageSource is the "source" field of every message the page posts to the chat widget.
const MessageSource = "switchboard-auth"

// pageText is what the customer reads for an outcome.
type pageText struct {
	Title, Heading, Message string
}

var pageTexts = map[Outcome]pageText{
	// Never "You're signed in": Connect has only acknowledged the code (see OutcomeSuccess).
	OutcomeSuccess: {"Sign-in received", "We received your sign-in",
		"Return to the chat to continue. The chat will tell you when you're signed in."},
	OutcomeCancelled: {"Sign-in cancelled", "Sign-in cancelled",
		"You didn't sign in. Return to the chat to continue."},
	OutcomeExpired: {"Sign-in link expired", "This sign-in link has expired",
		"Return to the chat and ask to sign in again."},
	OutcomeAlreadyUsed: {"Sign-in link already used", "This sign-in link was already used",
		"Return to the chat to continue. If you aren't signed in there, ask to sign in again."},
	OutcomeError: {"Sign-in didn't work", "We couldn't sign you in",
		"Return to the chat and ask to sign in again."},
	OutcomeRetry: {"Please try again", "We couldn't finish signing you in",
		"Something went wrong on our side. Please try again."},
}

// pageData feeds pageTemplate.
type pageData struct {
	pageText
	Nonce      string
	Outcome    Outcome
	ChatOrigin string
	Source     string
	// Retry shows the "Try again" button, which reloads the original callback URL, and keeps
	// the window open.
	Retry bool
}

// The page uses no external resource. Its one script and one style element carry the
// response's nonce; every value is escaped by html/template for its context (the outcome and
// origin inside the script become JavaScript string literals). The script runs once: it takes
// the code out of the address bar and history, tells the opener (the chat widget, at exactly
// ChatOrigin) the outcome, and closes the window. If any of that is blocked, the text still
// tells the customer what to do.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
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
<h1>{{.Heading}}</h1>
<p>{{.Message}}</p>
{{if .Retry}}<p><button type="button" id="again">Try again</button></p>
{{end}}<p class="hint" id="close-hint">You can close this window.</p>
</main>
<script nonce="{{.Nonce}}">
(function () {
  "use strict";
  var outcome = {{.Outcome}};
  var chatOrigin = {{.ChatOrigin}};
  var callbackURL = window.location.href;
  try { window.history.replaceState(null, "", window.location.pathname); } catch (e) {}
  var again = document.getElementById("again");
  if (again) {
    again.addEventListener("click", function () { window.location.replace(callbackURL); });
  }
  try {
    if (window.opener && !window.opener.closed) {
      window.opener.postMessage({ source: {{.Source}}, outcome: outcome }, chatOrigin);
    }
  } catch (e) {}
  if (!again) { window.close(); }
})();
</script>
</body>
</html>
`))

// Page is a rendered response: status, headers and HTML body.
type Page struct {
	Status  int
	Outcome Outcome
	Header  http.Header
	Body    []byte
}

// RenderPage renders the page for an outcome with a fresh nonce. chatOrigin must already be
// validated (see CheckChatOrigin): it is the only window origin the page posts to.
func RenderPage(outcome Outcome, status int, chatOrigin string) (Page, error) {
	text, ok := pageTexts[outcome]
	if !ok {
		return Page{}, fmt.Errorf("render page: unknown outcome %q", outcome)
	}
	nonce, err := newNonce()
	if err != nil {
		return Page{}, fmt.Errorf("render page: %w", err)
	}
	var body bytes.Buffer
	err = pageTemplate.Execute(&body, pageData{
		pageText: text, Nonce: nonce, Outcome: outcome, ChatOrigin: chatOrigin,
		Source: MessageSource, Retry: outcome == OutcomeRetry,
	})
	if err != nil {
		return Page{}, fmt.Errorf("render page: %w", err)
	}
	return Page{Status: status, Outcome: outcome, Header: pageHeader(nonce), Body: body.Bytes()}, nil
}

// pageHeader is the header of every page: nothing but our nonce'd script and style may run, the
// page may not be framed, may not be cached, and leaks no Referer (the URL holds the code).
func pageHeader(nonce string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", fmt.Sprintf(
		"default-src 'none'; script-src 'nonce-%[1]s'; style-src 'nonce-%[1]s'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		nonce))
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	return h
}

// fallbackPage is served when rendering fails (it cannot, short of the system's random source
// failing): a static page without script, under a CSP that allows none.
func fallbackPage() Page {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
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
