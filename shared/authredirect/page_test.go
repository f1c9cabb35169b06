package authredirect

import (
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var allOutcomes = []Outcome{OutcomeSuccess, OutcomeCancelled, OutcomeExpired, OutcomeAlreadyUsed, OutcomeError, OutcomeRetry}

func TestRenderPageEveryOutcome(t *testing.T) {
	const origin = "https://chat.example.com"
	for _, o := range allOutcomes {
		t.Run(string(o), func(t *testing.T) {
			p, err := RenderPage(o, http.StatusOK, origin)
			if err != nil {
				t.Fatal(err)
			}
			body := string(p.Body)
			nonce := nonceOf(t, p.Header)
			for _, want := range []string{
				`<html lang="en">`,
				"<title>" + template.HTMLEscapeString(pageTexts[o].Title) + "</title>",
				`<style nonce="` + nonce + `">`,
				`<script nonce="` + nonce + `">`,
				`var outcome = "` + string(o) + `";`,
				`var chatOrigin = "https://chat.example.com";`,
				`var source = "switchboard-auth";`,
				"history.replaceState(null, \"\", window.location.pathname)",
				"You can close this window.",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
			if o == OutcomeRetry {
				if !strings.Contains(body, `<p id="again-row"><button type="button" id="again">`) {
					t.Error("retry page lacks the Try again button")
				}
			} else if !strings.Contains(body, `<p id="again-row" hidden>`) {
				t.Error("a final page shows a Try again button")
			}
			if strings.Contains(body, `"*"`) || strings.Contains(body, "'*'") {
				t.Error("page posts to any origin")
			}
			// No external resource of any kind.
			if m := regexp.MustCompile(`(?i)(src|href)\s*=|@import|url\(`).FindString(body); m != "" {
				t.Errorf("page references an external resource: %q", m)
			}
			if n := strings.Count(body, "<script"); n != 1 {
				t.Errorf("%d script elements, want 1", n)
			}
		})
	}
}

func TestRenderPageHeaders(t *testing.T) {
	p, err := RenderPage(OutcomeSuccess, http.StatusOK, "https://chat.example.com")
	if err != nil {
		t.Fatal(err)
	}
	nonce := nonceOf(t, p.Header)
	want := map[string]string{
		"Content-Type": "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce +
			"'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		// Issue 8 item 12.
		"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
	}
	for k, v := range want {
		if got := p.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// Every other response too: the handshake page, the completion's answer, the fallback.
	hp, err := RenderHandshakePage("https://chat.example.com", "AbCdEfGhIjKlMnOpQrStUv")
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Header{"handshake": hp.Header, "completion": renderCompletion(OutcomeSuccess, 200, "").Header, "fallback": fallbackPage().Header} {
		if got := h.Get("Strict-Transport-Security"); got != want["Strict-Transport-Security"] {
			t.Errorf("%s: Strict-Transport-Security = %q", name, got)
		}
	}
	// Cross-Origin-Opener-Policy would cut the page off from window.opener.
	if p.Header.Get("Cross-Origin-Opener-Policy") != "" {
		t.Error("COOP set: the page could no longer post to the chat widget")
	}
}

func TestRenderPageNonceIsFreshEachTime(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p, err := RenderPage(OutcomeSuccess, http.StatusOK, "https://chat.example.com")
		if err != nil {
			t.Fatal(err)
		}
		n := nonceOf(t, p.Header)
		if len(n) < 22 {
			t.Fatalf("nonce %q is shorter than 128 bits", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

// The origin is configuration, validated at start-up; even so the template must keep it a
// JavaScript string.
func TestRenderPageEscapesTheOrigin(t *testing.T) {
	p, err := RenderPage(OutcomeSuccess, http.StatusOK, `https://x.example"</script><script>alert(1)//`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(p.Body), "<script") != 1 || strings.Contains(string(p.Body), "</script><script>") {
		t.Fatalf("origin broke out of its string:\n%s", p.Body)
	}
}

func TestRenderPageUnknownOutcome(t *testing.T) {
	if _, err := RenderPage("bogus", http.StatusOK, "https://chat.example.com"); err == nil {
		t.Fatal("rendered an unknown outcome")
	}
}

func TestFallbackPageHasNoScript(t *testing.T) {
	p := fallbackPage()
	if strings.Contains(string(p.Body), "<script") || !strings.Contains(p.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("fallback page: %s %v", p.Body, p.Header)
	}
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("fallback page may be cached")
	}
}

var nonceInCSP = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]+)'`)

func nonceOf(t *testing.T, h http.Header) string {
	t.Helper()
	m := nonceInCSP.FindStringSubmatch(h.Get("Content-Security-Policy"))
	if m == nil {
		t.Fatalf("no script nonce in CSP %q", h.Get("Content-Security-Policy"))
	}
	return m[1]
}

// UpdateParticipantAuthentication only acknowledges the code: Connect exchanges it later, and a
// wrong code is acknowledged too. The success page must not claim a sign-in it cannot know of.
func TestSuccessPageDoesNotClaimASignIn(t *testing.T) {
	p, err := RenderPage(OutcomeSuccess, http.StatusOK, "https://chat.example.com")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.ToLower(string(p.Body))
	for _, claim := range []string{"you're signed in", "you are signed in", "signed in</title>", "<title>signed in"} {
		if strings.Contains(body, claim) {
			t.Errorf("the success page claims a sign-in: %q", claim)
		}
	}
	for _, want := range []string{"<title>sign-in received</title>", ">we received your sign-in</h1>", "return to the chat"} {
		if !strings.Contains(body, want) {
			t.Errorf("the success page lacks %q", want)
		}
	}
}

// The handshake page talks to exactly the chat origin and carries its attempt; it holds no
// request value (the script reads the callback from the address bar).
func TestRenderHandshakePage(t *testing.T) {
	const attempt = "AbCdEfGhIjKlMnOpQrStUv"
	p, err := RenderHandshakePage("https://chat.example.com", attempt)
	if err != nil {
		t.Fatal(err)
	}
	body := string(p.Body)
	for _, want := range []string{
		`var outcome = "pending";`,
		`var attempt = "` + attempt + `";`,
		`var chatOrigin = "https://chat.example.com";`,
		`type: "challenge", attempt: attempt }, chatOrigin);`,
		`event.origin !== chatOrigin || event.source !== opener`,
		`m.type !== "confirm" || m.attempt !== attempt`,
		`m.state !== state`,
		`<title>Finishing sign-in</title>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("handshake page lacks %q", want)
		}
	}
	if strings.Contains(body, `"*"`) || strings.Contains(body, "'*'") {
		t.Error("page posts to any origin")
	}
	if p.Status != http.StatusOK || p.Outcome != OutcomePending || p.Attempt != attempt {
		t.Errorf("page %d %s %q", p.Status, p.Outcome, p.Attempt)
	}
	if !strings.Contains(p.Header.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Error("the CSP does not let the page POST its completion")
	}
}
