package dialer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

func TestRuleSets(t *testing.T) {
	us, err := dialer.NamedRuleSet("us")
	if err != nil || us.Ceiling != 0.03 || len(us.Windows) != 1 || us.Windows[0] != 30*24*time.Hour || us.Threshold != 2*time.Second || us.MinRing != 15*time.Second || us.MachineCountsAsAbandoned {
		t.Errorf("us = %+v, %v", us, err)
	}
	uk, err := dialer.NamedRuleSet("uk")
	if err != nil || uk.Windows[0] != 24*time.Hour || uk.RedialAfterAbandoned != 72*time.Hour || !uk.MachineCountsAsAbandoned {
		t.Errorf("uk = %+v, %v", uk, err)
	}
	def := dialer.DefaultRuleSet()
	if len(def.Windows) != 2 || def.RedialAfterAbandoned != 72*time.Hour || !def.MachineCountsAsAbandoned {
		t.Errorf("default = %+v", def)
	}
	if _, err := dialer.NamedRuleSet("fr"); err == nil {
		t.Error("an unknown rule set was accepted")
	}
	for _, r := range []dialer.RuleSet{us, uk, def} {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
	for name, mod := range map[string]func(*dialer.RuleSet){
		"ceiling 0":      func(r *dialer.RuleSet) { r.Ceiling = 0 },
		"ceiling 6 %":    func(r *dialer.RuleSet) { r.Ceiling = 0.06 },
		"no window":      func(r *dialer.RuleSet) { r.Windows = nil },
		"window 10 min":  func(r *dialer.RuleSet) { r.Windows = []time.Duration{10 * time.Minute} },
		"threshold 0.5s": func(r *dialer.RuleSet) { r.Threshold = 500 * time.Millisecond },
		"ring 10 s":      func(r *dialer.RuleSet) { r.MinRing = 10 * time.Second },
		"start point":    func(r *dialer.RuleSet) { r.StartPoint = "GREETING_END" },
		"fp rate 2":      func(r *dialer.RuleSet) { r.MachineFalsePositiveRate = 2 },
	} {
		r := dialer.DefaultRuleSet()
		mod(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "rule set") {
			t.Errorf("%s: %v, want refused", name, err)
		}
	}
}

// How a settled call counts under the rules (16 CFR 310.4(b)(1)(iv): not connected to a
// representative within 2 s; Ofcom: detection's false positives count).
func TestRuleSetAbandoned(t *testing.T) {
	answer := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := answer.Add(d); return &x }
	us, _ := dialer.NamedRuleSet("us")
	uk, _ := dialer.NamedRuleSet("uk")
	tests := []struct {
		name                string
		r                   dialer.RuleSet
		rep                 dialer.Report
		machine             bool
		answered, abandoned float64
	}{
		{"not answered", us, dialer.Report{ExpectsAgent: true}, false, 0, 0},
		{"agent at 1.5 s", us, dialer.Report{ConnectedToSystem: at(0), ConnectedToAgent: at(1500 * time.Millisecond), ExpectsAgent: true}, false, 1, 0},
		{"agent at exactly 2 s", us, dialer.Report{ConnectedToSystem: at(0), ConnectedToAgent: at(2 * time.Second), ExpectsAgent: true}, false, 1, 0},
		{"agent at 2.5 s: abandoned though talked", us, dialer.Report{ConnectedToSystem: at(0), ConnectedToAgent: at(2500 * time.Millisecond), ExpectsAgent: true}, false, 1, 1},
		{"no agent", us, dialer.Report{ConnectedToSystem: at(0), ExpectsAgent: true}, false, 1, 1},
		{"agentless flow", us, dialer.Report{ConnectedToSystem: at(0)}, false, 1, 0},
		{"machine, us", us, dialer.Report{ConnectedToSystem: at(0), ExpectsAgent: true}, true, 0, 0},
		{"machine, uk: its false-positive share", uk, dialer.Report{ConnectedToSystem: at(0), ExpectsAgent: true}, true, 0.1, 0.1},
	}
	for _, tt := range tests {
		a, b := tt.r.Abandoned(tt.rep, tt.machine)
		if a != tt.answered || b != tt.abandoned {
			t.Errorf("%s: answered %v abandoned %v, want %v %v", tt.name, a, b, tt.answered, tt.abandoned)
		}
	}
}
