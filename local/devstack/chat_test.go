package devstack

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-connect/switchboard/local/browsertest"
	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/authredirect"
)

// The demo chat page in headless Chromium, with the widget code of docs/authredirect.md: the popup
// opens through POST /auth/start, goes through connectsim's Cognito
// stand-in to the authredirect function behind /auth/callback, which completes the
// authentication in connectsim and posts the outcome back to the page, then closes.
func TestChatPageSignIn(t *testing.T) {
	tab := browsertest.Start(t) // first: a missing browser skips before the stack starts
	st, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	browsertest.Run(t, tab, chromedp.Navigate(st.URLs.Status+"/chat"))
	if state := browsertest.Run(t, tab, chromedp.Poll[string](`window.authURL ? "ready" : window.fetchError`)); state != "ready" {
		t.Fatalf("the chat page could not get the authentication URL: %s", state)
	}
	browsertest.Run(t, tab, chromedp.Click(chromedp.CSS("#signin")))
	if _, err := browsertest.RunWithin(tab, 20*time.Second, chromedp.Poll[bool](`window.received.length >= 1 && !!window.popup && window.popup.closed`)); err != nil {
		popup, _ := browsertest.RunWithin(tab, 5*time.Second, chromedp.Evaluate[string](`(function(){ try { return window.popup ? (window.popup.location.href + " :: " + window.popup.document.body.innerText) : "no popup" } catch (e) { return "cannot read the popup: " + e } })()`))
		t.Fatalf("the popup did not post its outcome and close: %v (popup: %s)", err, popup)
	}
	raw := browsertest.Run(t, tab, chromedp.Evaluate[[]byte](`window.received`))
	var got []struct {
		Origin string
		Data   struct{ Source, Outcome string }
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Origin != st.URLs.Status || got[0].Data.Source != authredirect.MessageSource || got[0].Data.Outcome != string(authredirect.OutcomeSuccess) {
		t.Fatalf("the page received %+v, want one %s success from %s", got, authredirect.MessageSource, st.URLs.Status)
	}
	if out := browsertest.Run(t, tab, chromedp.Text(chromedp.CSS("#outcome"))); out != string(authredirect.OutcomeSuccess) {
		t.Errorf("the page shows %q", out)
	}
	sessions := st.Sim.AuthSessions()
	if len(sessions) != 1 || sessions[0].Status != connectsim.AuthSucceeded {
		t.Fatalf("connectsim's sessions %+v, want one SUCCEEDED", sessions)
	}
	// POST /auth/start (the binding cookie), GET /auth/callback (the page), POST /auth/callback
	// (the completion after the opener confirmed).
	if f := st.Functions.Stats()[FnAuthRedirect]; f.Invocations != 3 || f.Errors != 0 {
		t.Errorf("authredirect stats %+v, want three invocations (start, page, completion)", f)
	}
}
