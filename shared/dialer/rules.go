package dialer

import (
	"fmt"
	"time"
)

// RuleSet is the abandoned-call rules a campaign is held to: how an abandoned call is measured,
// the ceiling on the abandonment rate and the windows it is measured over, the least ring time,
// and when a number may be called again after an abandoned or machine-answered call.
type RuleSet struct {
	// Name is "us", "uk" or "custom".
	Name string `json:"name"`
	// Ceiling is the highest share of calls answered by a person that may be abandoned, over
	// each of Windows (0.03: 3 %).
	Ceiling float64 `json:"ceiling"`
	// Windows are the rolling windows the ceiling holds over (the US: 30 days; the UK: 24 hours).
	// Predictive pacing holds the ceiling over every window of every rule set it knows at once:
	// these are the ones the compliance report shows as the rule's.
	Windows []time.Duration `json:"windows"`
	// Threshold: a call answered by a person and not connected to an agent within it is
	// abandoned, measured from StartPoint.
	Threshold  time.Duration `json:"threshold"`
	StartPoint StartPoint    `json:"startPoint"`
	// MinRing is the least ring time before a call is given up (RingTimeoutInSeconds at least).
	MinRing time.Duration `json:"minRing"`
	// RedialAfterAbandoned is how long a number whose call was abandoned waits before it is
	// called again (the UK's 72 hours, unless a live agent is guaranteed, which a dialer cannot
	// promise).
	RedialAfterAbandoned time.Duration `json:"redialAfterAbandoned"`
	// MachineCountsAsAbandoned: a call answering-machine detection hung up on counts, at
	// MachineFalsePositiveRate, as a person's call abandoned (Ofcom counts detection's false
	// positives as abandoned calls).
	MachineCountsAsAbandoned bool    `json:"machineCountsAsAbandoned"`
	MachineFalsePositiveRate float64 `json:"machineFalsePositiveRate"`
}

// StartPoint is where the connection threshold is measured from (the terms of Amazon Connect's
// AbandonmentRatePacingConfig.connectionStartPoint).
type StartPoint string

// Start points. The dialer sees the answer (ConnectedToSystemTimestamp) and the agent
// (AgentInfo.ConnectedToAgentTimestamp), not the greeting: the answer is the only point it can
// measure from, and the earliest, so the strictest (the rules measure from the completed
// greeting).
const (
	StartConnectedToSystem StartPoint = "CONNECTED_TO_SYSTEM"
)

// The rule sets Switchboard knows.
//
//   - "us": FTC Telemarketing Sales Rule, 16 CFR 310.4(b)(4)(i) (safe harbour: no more than 3 % of
//     the calls answered by a person abandoned, measured over a 30-day period per campaign) and
//     310.4(b)(1)(iv) (a call not connected to a sales representative within 2 seconds of the
//     completed greeting is abandoned); 310.4(b)(4)(ii) (ring at least 15 seconds or four
//     rings); FCC 47 CFR 64.1200(a)(7) likewise.
//   - "uk": Ofcom, "Revised statement of policy on the persistent misuse of an electronic
//     communications network or service" (2016): abandoned calls at most 3 % of live calls per
//     campaign per 24 hours, answering-machine detection's false positives included (Ofcom
//     expects a reasoned estimate; 10 % of machine detections is assumed here unless set), a call
//     not connected to an agent within 2 seconds abandoned, ring at least 15 seconds, and a
//     number whose call was abandoned called again within 72 hours only with a live agent
//     guaranteed.
var ruleSets = map[string]RuleSet{
	"us": {Name: "us", Ceiling: 0.03, Windows: []time.Duration{30 * 24 * time.Hour}, Threshold: 2 * time.Second,
		StartPoint: StartConnectedToSystem, MinRing: 15 * time.Second},
	"uk": {Name: "uk", Ceiling: 0.03, Windows: []time.Duration{24 * time.Hour}, Threshold: 2 * time.Second,
		StartPoint: StartConnectedToSystem, MinRing: 15 * time.Second, RedialAfterAbandoned: 72 * time.Hour,
		MachineCountsAsAbandoned: true, MachineFalsePositiveRate: 0.1},
}

// DefaultRuleSet is what a campaign gets when it names none: the US and UK rules at once (the
// stricter of each: 3 % over 24 hours and over 30 days, machine false positives counted, 72 hours
// before a redial after an abandoned call).
func DefaultRuleSet() RuleSet {
	r := ruleSets["uk"]
	r.Name = "us+uk"
	r.Windows = []time.Duration{24 * time.Hour, 30 * 24 * time.Hour}
	return r
}

// NamedRuleSet returns a known rule set ("us", "uk", "us+uk").
func NamedRuleSet(name string) (RuleSet, error) {
	if name == "us+uk" || name == "" {
		return DefaultRuleSet(), nil
	}
	r, ok := ruleSets[name]
	if !ok {
		return RuleSet{}, fmt.Errorf("rule set %q: want us, uk, us+uk or a custom one", name)
	}
	r.Windows = append([]time.Duration(nil), r.Windows...)
	return r, nil
}

// Validate checks a rule set: a ceiling in (0, 5 %], windows of 1 hour to 30 days, a threshold
// of 1 to 10 seconds, a ring time of at least 15 seconds (every rule Switchboard knows asks for it)
// and at most 60 (Connect's RingTimeoutInSeconds), a redial delay of at most 30 days, and a
// false-positive rate in [0, 1].
func (r RuleSet) Validate() error {
	switch {
	case !(r.Ceiling > 0 && r.Ceiling <= 0.05):
		return fmt.Errorf("rule set %s: ceiling %v, want more than 0 and at most 0.05", r.Name, r.Ceiling)
	case len(r.Windows) == 0 || len(r.Windows) > 4:
		return fmt.Errorf("rule set %s: 1 to 4 windows", r.Name)
	case r.Threshold < time.Second || r.Threshold > 10*time.Second:
		return fmt.Errorf("rule set %s: threshold %v, want 1s-10s", r.Name, r.Threshold)
	case r.StartPoint != StartConnectedToSystem:
		return fmt.Errorf("rule set %s: start point %q, want %s (the dialer sees the answer, not the greeting)", r.Name, r.StartPoint, StartConnectedToSystem)
	case r.MinRing < 15*time.Second || r.MinRing > 60*time.Second:
		return fmt.Errorf("rule set %s: minimum ring %v, want 15s-60s", r.Name, r.MinRing)
	case r.RedialAfterAbandoned < 0 || r.RedialAfterAbandoned > 30*24*time.Hour:
		return fmt.Errorf("rule set %s: redial after abandoned %v, want 0-720h", r.Name, r.RedialAfterAbandoned)
	case r.MachineFalsePositiveRate < 0 || r.MachineFalsePositiveRate > 1:
		return fmt.Errorf("rule set %s: machine false-positive rate %v, want 0-1", r.Name, r.MachineFalsePositiveRate)
	}
	for _, w := range r.Windows {
		if w < time.Hour || w > 30*24*time.Hour {
			return fmt.Errorf("rule set %s: window %v, want 1h-720h", r.Name, w)
		}
	}
	return nil
}

// Abandoned reports whether a call abandoned the person who answered it, as the rule set
// measures it: answered by a person (connected, and not a machine detection), and no agent
// within the threshold of the answer. A machine detection counts as the false-positive share of
// an abandoned call when the rule set says so (weight): the count is a sum of weights.
func (r RuleSet) Abandoned(rep Report, amdMachine bool) (answeredByPerson, abandoned float64) {
	if rep.ConnectedToSystem == nil {
		return 0, 0
	}
	if amdMachine {
		if r.MachineCountsAsAbandoned {
			return r.MachineFalsePositiveRate, r.MachineFalsePositiveRate
		}
		return 0, 0
	}
	if rep.ConnectedToAgent != nil && rep.ConnectedToAgent.Sub(*rep.ConnectedToSystem) <= r.Threshold {
		return 1, 0
	}
	if !rep.ExpectsAgent {
		return 1, 0 // an agentless flow connects no agent by design: nothing is abandoned
	}
	return 1, 1
}
