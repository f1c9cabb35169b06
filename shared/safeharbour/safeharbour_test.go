package safeharbour

import (
	"strings"
	"testing"
	"time"
)

func TestCheckThreshold(t *testing.T) {
	for _, d := range []time.Duration{time.Second, DefaultThreshold, 20 * time.Second, time.Minute} {
		if err := CheckThreshold(d); err != nil {
			t.Errorf("CheckThreshold(%v) = %v", d, err)
		}
	}
	for _, d := range []time.Duration{0, -time.Second, 1500 * time.Millisecond, 61 * time.Second, 500 * time.Millisecond} {
		if err := CheckThreshold(d); err == nil {
			t.Errorf("CheckThreshold(%v) accepted", d)
		}
	}
}

func TestCheckMessage(t *testing.T) {
	good := []string{
		"This is Acme Insurance calling. Please call us back on 1-800-555-0100. Goodbye.",
		"Acme Ltd tried to call you, telephone 020 7946 0018.",
		"Acme (+44) 20 7946 0018",
	}
	for _, m := range good {
		if err := CheckMessage(m); err != nil {
			t.Errorf("CheckMessage(%q) = %v", m, err)
		}
	}
	bad := map[string]string{
		"":                      "empty",
		"   ":                   "empty",
		"Sorry we missed you":   "telephone number",
		"Call 555 01":           "telephone number",
		"Acme 1-800-555-0100\n": "control character",
		strings.Repeat("a", MaxMessageLength-8) + " 5550100x": "more than",
		"Acme $.Attributes.x 5550100":                         "JSONPath",
		"Acme \xff 5550100":                                   "UTF-8",
	}
	for m, want := range bad {
		err := CheckMessage(m)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckMessage(%q) = %v, want an error about %q", m, err, want)
		}
	}
}

func TestUsesCampaignMessage(t *testing.T) {
	for v, want := range map[string]bool{
		"":                                 false,
		"x":                                false,
		"Acme, 1-800-555-0100":             true,
		"This is Acme calling on 5550100.": true,
	} {
		if got := UsesCampaignMessage(v); got != want {
			t.Errorf("UsesCampaignMessage(%q) = %v, want %v", v, got, want)
		}
	}
}
