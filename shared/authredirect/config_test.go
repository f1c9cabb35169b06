package authredirect

import (
	"strings"
	"testing"
	"time"
)

func TestCheckChatOrigin(t *testing.T) {
	tests := []struct {
		origin string
		ok     bool
	}{
		{"https://chat.example.com", true},
		{"https://chat.example.com:8443", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:3000", true},
		{"http://[::1]:3000", true},
		{"", false},
		{"*", false},
		{"/", false},
		{"null", false},
		{"chat.example.com", false},
		{"http://chat.example.com", false},
		{"https://chat.example.com/", false},
		{"https://chat.example.com/widget", false},
		{"https://chat.example.com?x", false},
		{"https://chat.example.com#x", false},
		{"https://user@chat.example.com", false},
		{"https://Chat.Example.com", false},
		{"ftp://chat.example.com", false},
		{"javascript:alert(1)", false},
	}
	for _, tt := range tests {
		err := CheckChatOrigin(tt.origin)
		if (err == nil) != tt.ok {
			t.Errorf("CheckChatOrigin(%q) = %v, want ok=%v", tt.origin, err, tt.ok)
		}
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		EnvInstanceID: "11111111-2222-4333-8444-555555555555",
		EnvChatOrigin: "https://chat.example.com",
		EnvStateTable: "auth-state",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.StateTTL != DefaultStateTTL || c.CallBudget.Total != DefaultCallBudget {
		t.Fatalf("defaults = %s, %s", c.StateTTL, c.CallBudget.Total)
	}
}

func TestConfigFromEnvOverrides(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{
		EnvInstanceID: "i", EnvChatOrigin: "http://127.0.0.1:9000", EnvStateTable: "t",
		EnvStateTTL: "1h", EnvCallBudget: "1500ms", EnvOriginSecret: "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.StateTTL != time.Hour || c.CallBudget.Total != 1500*time.Millisecond || c.OriginSecret != "AbCdEfGhIjKlMnOpQrStUvWxYz012345" {
		t.Fatalf("got %s, %s, %q", c.StateTTL, c.CallBudget.Total, c.OriginSecret)
	}
}

func TestConfigOriginSecretIsChecked(t *testing.T) {
	for _, bad := range []string{"short", strings.Repeat("a", MaxOriginSecretLen+1), "with a space in it 0123", "tab\tinside0123456789", "café-0123456789abcdef"} {
		_, err := ConfigFromEnv(env(map[string]string{
			EnvInstanceID: "i", EnvChatOrigin: "https://chat.example.com", EnvStateTable: "t", EnvOriginSecret: bad,
		}))
		if err == nil || !strings.Contains(err.Error(), EnvOriginSecret) {
			t.Errorf("secret %.20q: %v, want an error naming %s", bad, err, EnvOriginSecret)
		}
		if err != nil && strings.Contains(err.Error(), bad) {
			t.Errorf("the error shows the secret")
		}
	}
}

func TestConfigFromEnvReportsEveryProblem(t *testing.T) {
	_, err := ConfigFromEnv(env(map[string]string{EnvChatOrigin: "*", EnvStateTTL: "soon", EnvCallBudget: "20s"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{EnvStateTTL, EnvCallBudget} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	_, err = ConfigFromEnv(env(map[string]string{EnvChatOrigin: "*", EnvCallBudget: "20s", EnvStateTTL: "1s"}))
	for _, want := range []string{EnvInstanceID, EnvChatOrigin, EnvStateTable, EnvStateTTL, EnvCallBudget} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}
