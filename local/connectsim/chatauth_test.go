package connectsim_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
)

const callback = "http://127.0.0.1:8765/auth/callback"

// authURL calls GetAuthenticationUrl over plain HTTP.
func authURL(t *testing.T, srv *simtest.Server, ca connectsim.ChatAuth, redirect string) (*http.Response, string) {
	t.Helper()
	var out struct{ AuthenticationUrl string }
	resp, body := doJSON(t, http.MethodPost, srv.URL+"/participant/authentication-url",
		map[string]string{"X-Amz-Bearer": ca.ParticipantToken},
		map[string]string{"SessionId": ca.SessionID, "RedirectUri": redirect}, &out)
	if resp.StatusCode == 200 && out.AuthenticationUrl == "" {
		t.Fatalf("no AuthenticationUrl in %s", body)
	}
	return resp, out.AuthenticationUrl
}

// signIn follows an AuthenticationUrl to the Cognito stand-in and returns
// the query of the redirect.
func signIn(t *testing.T, authenticationURL string) url.Values {
	t.Helper()
	resp, body := doJSON(t, http.MethodGet, authenticationURL, nil, nil, nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Scheme+"://"+loc.Host+loc.Path != callback {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

func sessionStatus(t *testing.T, srv *simtest.Server, id string) connectsim.AuthSessionView {
	t.Helper()
	for _, a := range srv.AuthSessions() {
		if a.SessionID == id {
			return a
		}
	}
	t.Fatalf("no session %s", id)
	return connectsim.AuthSessionView{}
}

func TestChatAuthenticationHappyPath(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{})
	ca, err := srv.StartChatAuthentication("")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := srv.Contact(ca.ContactID)
	if !ok || c.Channel != "CHAT" {
		t.Fatalf("contact = %+v", c)
	}
	if s := sessionStatus(t, srv, ca.SessionID); s.Status != "PENDING" || s.ContactID != ca.ContactID {
		t.Fatalf("session = %+v", s)
	}
	resp, au := authURL(t, srv, ca, callback)
	if resp.StatusCode != 200 {
		t.Fatalf("GetAuthenticationUrl: %d", resp.StatusCode)
	}
	u, _ := url.Parse(au)
	q := u.Query()
	if !strings.HasPrefix(au, srv.URL+"/oauth2/authorize?") || q.Get("response_type") != "code" ||
		q.Get("client_id") != connectsim.DefaultCognitoClientID || q.Get("redirect_uri") != callback ||
		q.Get("scope") != "openid" || q.Get("state") == "" {
		t.Fatalf("AuthenticationUrl = %s", au)
	}
	if s := sessionStatus(t, srv, ca.SessionID); s.Status != "URL_ISSUED" || s.RedirectURI != callback {
		t.Fatalf("session = %+v", s)
	}
	back := signIn(t, au)
	if back.Get("state") != q.Get("state") || back.Get("code") == "" || back.Get("error") != "" {
		t.Fatalf("redirect query = %v", back)
	}
	_, err = cl.UpdateParticipantAuthentication(context.Background(), &connect.UpdateParticipantAuthenticationInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), State: aws.String(back.Get("state")), Code: aws.String(back.Get("code")),
	})
	if err != nil {
		t.Fatalf("UpdateParticipantAuthentication: %v", err)
	}
	if s := sessionStatus(t, srv, ca.SessionID); s.Status != "SUCCEEDED" || s.Error != "" {
		t.Fatalf("session = %+v", s)
	}
	// The session is complete: a replay conflicts.
	_, err = cl.UpdateParticipantAuthentication(context.Background(), &connect.UpdateParticipantAuthenticationInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), State: aws.String(back.Get("state")), Code: aws.String(back.Get("code")),
	})
	mustAs[*types.ConflictException](t, err)
}

func TestChatAuthenticationPublicURLAndErrors(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{PublicURL: "https://sim.example.test/", DisableThrottling: true})
	ctx := context.Background()
	ca, _ := srv.StartChatAuthentication(connectsim.DefaultInstanceID)
	_, au := authURL(t, srv, ca, callback)
	if !strings.HasPrefix(au, "https://sim.example.test/oauth2/authorize?") {
		t.Fatalf("AuthenticationUrl ignores PublicURL: %s", au)
	}
	state := func(au string) string { u, _ := url.Parse(au); return u.Query().Get("state") }
	upa := func(in *connect.UpdateParticipantAuthenticationInput) error {
		if in.InstanceId == nil {
			in.InstanceId = aws.String(connectsim.DefaultInstanceID)
		}
		_, err := cl.UpdateParticipantAuthentication(ctx, in)
		return err
	}

	t.Run("participant errors", func(t *testing.T) {
		resp, body := doJSON(t, http.MethodPost, srv.URL+"/participant/authentication-url", nil,
			map[string]string{"SessionId": ca.SessionID, "RedirectUri": callback}, nil)
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
			t.Fatalf("no bearer: %d %s", resp.StatusCode, body)
		}
		bad := ca
		bad.ParticipantToken = "not-a-token"
		resp, _ = authURL(t, srv, bad, callback)
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
			t.Fatalf("bad bearer: %d", resp.StatusCode)
		}
		resp, _ = authURL(t, srv, ca, "https://evil.example/cb")
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
			t.Fatalf("unregistered redirect: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
		other, _ := srv.StartChatAuthentication("")
		wrong := ca
		wrong.SessionID = other.SessionID
		resp, _ = authURL(t, srv, wrong, callback)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
			t.Fatalf("someone else's session: %d", resp.StatusCode)
		}
		srv.SetFault("GetAuthenticationUrl", connectsim.Fault{Kind: connectsim.FaultInternal, Count: 1})
		resp, _ = authURL(t, srv, ca, callback)
		if resp.StatusCode != 500 || resp.Header.Get("X-Amzn-ErrorType") != "InternalServerException" {
			t.Fatalf("internal fault: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
	})

	t.Run("authorize errors", func(t *testing.T) {
		base := srv.URL + "/oauth2/authorize?"
		resp, _ := doJSON(t, http.MethodGet, base+url.Values{"client_id": {"nope"}, "redirect_uri": {callback}, "response_type": {"code"}}.Encode(), nil, nil, nil)
		if resp.StatusCode != 400 {
			t.Fatalf("unknown client: %d", resp.StatusCode)
		}
		resp, _ = doJSON(t, http.MethodGet, base+url.Values{"client_id": {connectsim.DefaultCognitoClientID}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}}.Encode(), nil, nil, nil)
		if resp.StatusCode != 400 {
			t.Fatalf("redirect mismatch: %d", resp.StatusCode)
		}
		resp, _ = doJSON(t, http.MethodGet, base+url.Values{"client_id": {connectsim.DefaultCognitoClientID}, "redirect_uri": {callback}, "response_type": {"token"}, "state": {"s1"}}.Encode(), nil, nil, nil)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc.Query().Get("error") != "unsupported_response_type" || loc.Query().Get("state") != "s1" {
			t.Fatalf("response_type token: %d %s", resp.StatusCode, loc)
		}
	})

	t.Run("validation", func(t *testing.T) {
		st := aws.String(state(au))
		mustAs[*types.InvalidRequestException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: st, Code: aws.String("c"), Error: aws.String("e")}))
		mustAs[*types.InvalidRequestException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: st}))
		mustAs[*types.InvalidRequestException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: st, Error: aws.String("x"), ErrorDescription: aws.String(`has "quote"`)}))
		mustAs[*types.InvalidRequestException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: st, Error: aws.String(`back\slash`)}))
		mustAs[*types.InvalidRequestException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: aws.String(strings.Repeat("s", 1001)), Code: aws.String("c")}))
		mustAs[*types.InvalidRequestException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: st, Code: aws.String(strings.Repeat("c", 2049))}))
		mustAs[*types.InvalidRequestException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: aws.String("never-issued"), Code: aws.String("c")}))
		mustAs[*types.InvalidParameterException](t, upa(&connect.UpdateParticipantAuthenticationInput{InstanceId: aws.String("no-such-instance"), State: st, Code: aws.String("c")}))
		// None of these touched the session.
		if s := sessionStatus(t, srv, ca.SessionID); s.Status != "URL_ISSUED" {
			t.Fatalf("session = %+v", s)
		}
	})

	t.Run("wrong code fails the session", func(t *testing.T) {
		ca2, _ := srv.StartChatAuthentication("")
		_, au2 := authURL(t, srv, ca2, callback)
		back := signIn(t, strings.Replace(au2, "https://sim.example.test", srv.URL, 1))
		if err := upa(&connect.UpdateParticipantAuthenticationInput{State: aws.String(back.Get("state")), Code: aws.String("forged")}); err != nil {
			t.Fatal(err)
		}
		if s := sessionStatus(t, srv, ca2.SessionID); s.Status != "FAILED" || s.Error == "" {
			t.Fatalf("session = %+v", s)
		}
	})

	t.Run("sign-in error", func(t *testing.T) {
		srv.SetSignInOutcome(connectsim.SignInOutcome{Error: "access_denied", ErrorDescription: "user cancelled"})
		defer srv.SetSignInOutcome(connectsim.SignInOutcome{})
		ca3, _ := srv.StartChatAuthentication("")
		_, au3 := authURL(t, srv, ca3, callback)
		back := signIn(t, strings.Replace(au3, "https://sim.example.test", srv.URL, 1))
		if back.Get("error") != "access_denied" || back.Get("error_description") != "user cancelled" || back.Get("code") != "" || back.Get("state") != state(au3) {
			t.Fatalf("error redirect = %v", back)
		}
		if err := upa(&connect.UpdateParticipantAuthenticationInput{State: aws.String(back.Get("state")), Error: aws.String("access_denied"), ErrorDescription: aws.String("user cancelled")}); err != nil {
			t.Fatal(err)
		}
		if s := sessionStatus(t, srv, ca3.SessionID); s.Status != "CANCELLED" || !strings.Contains(s.Error, "access_denied") {
			t.Fatalf("session = %+v", s)
		}
		ca4, _ := srv.StartChatAuthentication("")
		_, au4 := authURL(t, srv, ca4, callback)
		if err := upa(&connect.UpdateParticipantAuthenticationInput{State: aws.String(state(au4)), Error: aws.String("server_error")}); err != nil {
			t.Fatal(err)
		}
		if s := sessionStatus(t, srv, ca4.SessionID); s.Status != "FAILED" || s.Error != "server_error" {
			t.Fatalf("session = %+v", s)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		ca5, _ := srv.StartChatAuthentication("")
		_, au5 := authURL(t, srv, ca5, callback)
		resp, body := doJSON(t, http.MethodPost, srv.URL+"/participant/cancel-authentication",
			map[string]string{"X-Amz-Bearer": ca5.ParticipantToken}, map[string]string{"SessionId": ca5.SessionID}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("cancel: %d %s", resp.StatusCode, body)
		}
		if s := sessionStatus(t, srv, ca5.SessionID); s.Status != "CANCELLED" {
			t.Fatalf("session = %+v", s)
		}
		mustAs[*types.ConflictException](t, upa(&connect.UpdateParticipantAuthenticationInput{State: aws.String(state(au5)), Code: aws.String("c")}))
		resp, _ = doJSON(t, http.MethodPost, srv.URL+"/participant/cancel-authentication", nil, map[string]string{"SessionId": ca5.SessionID}, nil)
		if resp.StatusCode != 403 {
			t.Fatalf("cancel without bearer: %d", resp.StatusCode)
		}
	})
}

func TestChatAuthenticationExpiry(t *testing.T) {
	t.Parallel()
	clock := connectsim.NewManualClock(t0)
	srv, cl := start(t, connectsim.Options{Clock: clock})
	ca, _ := srv.StartChatAuthentication("")
	_, au := authURL(t, srv, ca, callback)
	back := signIn(t, au)
	if err := srv.Advance(10*time.Minute + time.Second); err != nil {
		t.Fatal(err)
	}
	_, err := cl.UpdateParticipantAuthentication(context.Background(), &connect.UpdateParticipantAuthenticationInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), State: aws.String(back.Get("state")), Code: aws.String(back.Get("code")),
	})
	mustAs[*types.InvalidRequestException](t, err)
	if s := sessionStatus(t, srv, ca.SessionID); s.Status != "EXPIRED" {
		t.Fatalf("session = %+v", s)
	}
	resp, _ := authURL(t, srv, ca, callback)
	if resp.StatusCode != 400 {
		t.Fatalf("GetAuthenticationUrl on an expired session: %d", resp.StatusCode)
	}
}

// Amazon Connect accepts GetAuthenticationUrl only within one minute of the
// authenticationInitiated event.
func TestAuthenticationURLWindow(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{Clock: connectsim.NewManualClock(t0)})
	early, _ := srv.StartChatAuthentication("")
	late, _ := srv.StartChatAuthentication("")
	if err := srv.Advance(59 * time.Second); err != nil {
		t.Fatal(err)
	}
	if resp, _ := authURL(t, srv, early, callback); resp.StatusCode != 200 {
		t.Fatalf("GetAuthenticationUrl after 59 s: %d, want 200", resp.StatusCode)
	}
	if err := srv.Advance(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	resp, _ := authURL(t, srv, late, callback)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
		t.Fatalf("GetAuthenticationUrl after 61 s: %d %s, want 400 ValidationException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

func TestAdminChatAuthentication(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{})
	var ca connectsim.ChatAuth
	resp, body := doJSON(t, http.MethodPost, srv.URL+"/_connectsim/chat-authentication", nil, map[string]string{}, &ca)
	if resp.StatusCode != 201 || ca.SessionID == "" || ca.ParticipantToken == "" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, _ = doJSON(t, http.MethodPut, srv.URL+"/_connectsim/sign-in-outcome", nil, map[string]string{"error": "access_denied"}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in-outcome: %d", resp.StatusCode)
	}
	_, au := authURL(t, srv, ca, callback)
	if back := signIn(t, au); back.Get("error") != "access_denied" {
		t.Fatalf("redirect = %v", back)
	}
	var sessions []connectsim.AuthSessionView
	doJSON(t, http.MethodGet, srv.URL+"/_connectsim/auth-sessions", nil, nil, &sessions)
	if len(sessions) != 1 || sessions[0].Status != "URL_ISSUED" {
		t.Fatalf("sessions = %+v", sessions)
	}
}

// Chat widgets call the Participant Service from a browser page: preflight and answers carry
// CORS headers for the page's origin, and the Connect API does not.
func TestParticipantServiceSpeaksCORS(t *testing.T) {
	srv := simtest.Start(t, connectsim.Options{})
	const origin = "http://127.0.0.1:5173"

	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/participant/authentication-url", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-bearer")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Amz-Bearer") ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}

	ca, err := srv.StartChatAuthentication(connectsim.DefaultInstanceID)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = doJSON(t, http.MethodPost, srv.URL+"/participant/authentication-url",
		map[string]string{"X-Amz-Bearer": ca.ParticipantToken, "Origin": origin},
		map[string]string{"SessionId": ca.SessionID, "RedirectUri": callback}, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("GetAuthenticationUrl from %s: %d, Access-Control-Allow-Origin %q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	req, _ = http.NewRequest(http.MethodOptions, srv.URL+"/contact/attributes", nil)
	req.Header.Set("Origin", origin)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("the Connect API answered CORS for %s: %q", origin, got)
	}
}
