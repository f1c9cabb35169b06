package authredirect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// decode reads a sample strictly: a field the Go type lacks fails the test, so a sample cannot
// carry something the function silently ignores.
func decode(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var req events.APIGatewayV2HTTPRequest
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	m := req.RequestContext.HTTP.Method
	switch {
	case req.Version != "2.0" || req.RouteKey != m+" /auth/callback":
		t.Fatalf("%s: not a payload 2.0 request of /auth/callback: %+v", name, req)
	case m == "GET" && (req.RawQueryString == "" || req.Body != ""):
		t.Fatalf("%s: a GET sample carries the callback in its query and no body", name)
	case m == "POST" && (req.RawQueryString != "" || !req.IsBase64Encoded || req.Headers["content-type"] != "application/x-www-form-urlencoded"):
		// HTTP APIs deliver a form body base64-encoded (see shared/authredirect/adapters.go).
		t.Fatalf("%s: a POST sample carries a base64-encoded form body and no query", name)
	case m != "GET" && m != "POST":
		t.Fatalf("%s: method %s", name, m)
	}
	return req
}

func TestEverySampleIsDecoded(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{"callback.json": true, "complete.json": true, "error.json": true, "replay.json": true, "malformed.json": true}
	if len(files) != len(tested) {
		t.Fatalf("samples %v, want exactly %d (add a case to TestSamplesThroughTheHandler for a new one)", files, len(tested))
	}
	for _, f := range files {
		if !tested[f] {
			t.Errorf("%s is not exercised by TestSamplesThroughTheHandler", f)
		}
		decode(t, f)
	}
}

type recordingConnect struct {
	inputs []*connect.UpdateParticipantAuthenticationInput
}

func (r *recordingConnect) UpdateParticipantAuthentication(_ context.Context, in *connect.UpdateParticipantAuthenticationInput, _ ...func(*connect.Options)) (*connect.UpdateParticipantAuthenticationOutput, error) {
	r.inputs = append(r.inputs, in)
	return &connect.UpdateParticipantAuthenticationOutput{}, nil
}

type memoryClaims map[string]bool

func (m memoryClaims) Claim(_ context.Context, state string, _ time.Duration) (authstate.Claim, error) {
	h := authstate.Hash(state)
	if m[h] {
		return authstate.Claim{}, authstate.ErrAlreadyUsed
	}
	m[h] = true
	return authstate.Claim{Hash: h, ID: "1"}, nil
}

func (m memoryClaims) Extend(_ context.Context, c authstate.Claim) (authstate.Claim, error) {
	return c, nil
}

func (m memoryClaims) Release(_ context.Context, c authstate.Claim) error {
	delete(m, c.Hash)
	return nil
}

func TestSamplesThroughTheHandler(t *testing.T) {
	cc := &recordingConnect{}
	h, err := authredirect.NewHandler(authredirect.Config{
		InstanceID: "11111111-2222-4333-8444-555555555555",
		ChatOrigin: "https://chat.example.com",
		StateTable: "auth-state",
		StateTTL:   authredirect.DefaultStateTTL,
		CallBudget: flowbudget.Default(),
	}, cc, memoryClaims{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// In order: callback.json is the redirect (a page, no call), complete.json the page's POST
	// of the same callback, replay.json that POST again.
	steps := []struct {
		file    string
		status  int
		outcome authredirect.Outcome
		calls   int
	}{
		{"callback.json", 200, authredirect.OutcomePending, 0},
		{"complete.json", 200, authredirect.OutcomeSuccess, 1},
		{"replay.json", 409, authredirect.OutcomeAlreadyUsed, 1},
		{"error.json", 200, authredirect.OutcomeCancelled, 2},
		{"malformed.json", 400, authredirect.OutcomeError, 2},
	}
	for _, s := range steps {
		req := decode(t, s.file)
		resp, err := h.HandleAPIGateway(context.Background(), req)
		if err != nil {
			t.Fatalf("%s: %v", s.file, err)
		}
		want := `var outcome = "` + string(s.outcome) + `"`
		if req.RequestContext.HTTP.Method == "POST" {
			want = `"attempt":"q3Vh1mZ0S7yWc2x9LkR4aA","outcome":"` + string(s.outcome) + `"}`
		}
		if resp.StatusCode != s.status || !strings.Contains(resp.Body, want) {
			t.Errorf("%s: status %d %.200s, want %d with %s", s.file, resp.StatusCode, resp.Body, s.status, want)
		}
		if len(cc.inputs) != s.calls {
			t.Errorf("after %s: %d Connect calls, want %d", s.file, len(cc.inputs), s.calls)
		}
		if strings.Contains(resp.Body, "alert(") {
			t.Errorf("%s: the page shows the error description", s.file)
		}
	}
	if got := aws.ToString(cc.inputs[0].Code); got != "9f2c7a4e-1b3d-4c5e-8f6a-0d1e2f3a4b5c" {
		t.Errorf("complete.json sent Code %q", got)
	}
	if got := aws.ToString(cc.inputs[1].ErrorDescription); got != "User cancelled the sign-in <script>alert('x')</script>" {
		t.Errorf("error.json sent ErrorDescription %q", got)
	}
}
