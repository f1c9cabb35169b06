package outbound

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/connectspec"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/pacing"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safeharbour"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// Defaults of a campaign that leaves a setting out (docs/dialer.md).
const (
	DefaultMaxConcurrent   = 5
	DefaultAgentsRatio     = 1.0
	DefaultWeight          = 1
	DefaultMaxCallDuration = 30 * time.Minute
	DefaultFallbackZone    = "America/New_York"
)

// Plan is a validated campaign: the definition with its defaults applied and its rules built.
type Plan struct {
	Def      dialerevents.Campaign
	Mode     pacing.Mode
	Calendar *callwindow.Calendar
	Retry    dialer.RetryPolicy
	Limit    *dialer.ContactLimit
	// MaxConcurrent caps the campaign's live calls; Weight shares the instance's rate and cap.
	MaxConcurrent int
	AgentsRatio   float64
	Weight        int
	// Rate is the campaign's own ceiling (nil: only the instance's rate applies). The dialer
	// keeps one bucket per campaign across ticks (Dialer.campaignRate), built from it.
	Rate            *RateLimit
	MaxCallDuration time.Duration
	Start, End      time.Time
	// Rules are the abandoned-call rules the campaign is held to.
	Rules dialer.RuleSet
}

// modePredictive is pacing.Predictive.
const modePredictive = pacing.Predictive

// expectsAgent reports whether the campaign's answered calls go to agents (so a connected call no
// agent takes is abandoned).
func (p *Plan) expectsAgent() bool {
	return p.Mode == pacing.Progressive || p.Mode == pacing.Predictive
}

// RateLimit is a campaign's own call rate.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// PlanError lists every problem of a definition.
type PlanError struct{ Problems []string }

func (e *PlanError) Error() string {
	return "campaign definition refused: " + strings.Join(e.Problems, "; ")
}

// NewPlan validates a definition and applies the defaults, under the built-in legal hours. The
// recipients are not part of the plan (they are imported as rows).
func NewPlan(def dialerevents.Campaign) (*Plan, error) {
	return NewPlanWith(def, callwindow.LegalRules{})
}

// NewPlanWith is NewPlan under the deployment's legal hours.
func NewPlanWith(def dialerevents.Campaign, legal callwindow.LegalRules) (*Plan, error) {
	def.Recipients = nil
	p := &Plan{Def: def, MaxConcurrent: DefaultMaxConcurrent, AgentsRatio: DefaultAgentsRatio, Weight: DefaultWeight, MaxCallDuration: DefaultMaxCallDuration}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	switch def.Mode {
	case "", string(pacing.Agentless):
		p.Mode = pacing.Agentless
	case string(pacing.Progressive), string(pacing.Predictive):
		p.Mode = pacing.Mode(def.Mode)
		if def.QueueID == "" {
			bad("mode %s needs queueId (its agents pace the calls)", def.Mode)
		}
	default:
		bad("mode %q: want agentless, progressive or predictive", safetext.Truncate(def.Mode, 40))
	}
	if def.DefaultRegion != "" && !phone.IsValidRegion(def.DefaultRegion) {
		bad("defaultRegion %q is not an ISO 3166 region code Switchboard knows", safetext.Truncate(def.DefaultRegion, 8))
	}
	if cal, err := calendarOf(def.CallingWindows, legal); err != nil {
		bad("callingWindows: %v", err)
	} else {
		p.Calendar = cal
	}
	if pc := def.Pacing; pc != nil {
		if pc.MaxConcurrentCalls < 0 || pc.MaxConcurrentCalls > pacing.MaxLiveCalls {
			bad("pacing.maxConcurrentCalls %d: want 1-%d", pc.MaxConcurrentCalls, pacing.MaxLiveCalls)
		} else if pc.MaxConcurrentCalls > 0 {
			p.MaxConcurrent = pc.MaxConcurrentCalls
		}
		if pc.AgentsRatio != 0 {
			p.AgentsRatio = pc.AgentsRatio
		}
		if pc.Weight != 0 {
			if pc.Weight < 1 || pc.Weight > pacing.MaxWeight || pc.Weight != float64(int(pc.Weight)) {
				bad("pacing.weight %v: want a whole number 1-%d", pc.Weight, pacing.MaxWeight)
			} else {
				p.Weight = int(pc.Weight)
			}
		}
		if pc.CallsPerSecond != 0 || pc.Burst != 0 {
			burst := pc.Burst
			if burst == 0 {
				burst = 1
			}
			if _, err := pacing.NewBucket(pc.CallsPerSecond, burst); err != nil {
				bad("pacing: %v", err)
			} else {
				p.Rate = &RateLimit{PerSecond: pc.CallsPerSecond, Burst: burst}
			}
		}
	}
	if p.Mode == pacing.Progressive {
		if err := (pacing.Campaign{Mode: p.Mode, AgentRatio: p.AgentsRatio}).Validate(); err != nil {
			bad("pacing.agentsRatio: %v", err)
		}
	}
	p.Retry = dialer.DefaultRetryPolicy()
	if rp := def.Retry; rp != nil {
		p.Retry = dialer.RetryPolicy{}
		for o, r := range map[dialer.Outcome]*dialerevents.RetryRule{
			dialer.OutcomeBusy: rp.Busy, dialer.OutcomeNoAnswer: rp.NoAnswer, dialer.OutcomeVoicemail: rp.Voicemail,
			dialer.OutcomeFailed: rp.Failed, dialer.OutcomeInvalidNumber: rp.InvalidNumber, dialer.OutcomeAbandoned: rp.Abandoned,
		} {
			if r != nil {
				p.Retry[o] = dialer.RetryRule{Delay: r.Delay.Std(), MaxAttempts: r.MaxAttempts}
			}
		}
		if err := p.Retry.Validate(); err != nil {
			bad("%v", err)
		}
	}
	if cl := def.ContactLimit; cl != nil {
		l := dialer.ContactLimit{MaxDials: cl.MaxDials, Days: cl.Days}
		if err := l.Validate(); err != nil {
			bad("%v", err)
		}
		p.Limit = &l
	}
	if def.StartTime != nil {
		p.Start = def.StartTime.UTC()
	}
	if def.EndTime != nil {
		p.End = def.EndTime.UTC()
		if !p.Start.IsZero() && !p.End.After(p.Start) {
			bad("endTime must be after startTime")
		}
	}
	if err := checkAttributes(p.attributes(), nil); err != nil {
		bad("attributes: %v", err)
	}
	if def.RingTimeoutSeconds != 0 && (def.RingTimeoutSeconds < 15 || def.RingTimeoutSeconds > 60) {
		// StartOutboundVoiceContact's RingTimeoutInSeconds is 15-60; the FTC and Ofcom rules ask
		// for at least 15 s of ringing.
		bad("ringTimeoutSeconds %d: want 15-60", def.RingTimeoutSeconds)
	}
	if def.MaxCallDuration != nil {
		d := def.MaxCallDuration.Std()
		if d < time.Minute || d > 24*time.Hour {
			bad("maxCallDuration %v: want 1m-24h", d)
		} else {
			p.MaxCallDuration = d
		}
	}
	if m := def.SafeHarbourMessage; m != "" {
		if err := safeharbour.CheckMessage(m); err != nil {
			bad("safeHarbourMessage: %v", err)
		}
	}
	if rules, err := ruleSetOf(def.Rules); err != nil {
		bad("rules: %v", err)
	} else {
		p.Rules = rules
		if def.RingTimeoutSeconds != 0 && time.Duration(def.RingTimeoutSeconds)*time.Second < rules.MinRing {
			bad("ringTimeoutSeconds %d: the %s rules ask for at least %v of ringing", def.RingTimeoutSeconds, rules.Name, rules.MinRing)
		}
		// A number whose call was abandoned waits RedialAfterAbandoned before it is called again.
		if ab, ok := p.Retry[dialer.OutcomeAbandoned]; ok && ab.Delay < rules.RedialAfterAbandoned {
			ab.Delay = rules.RedialAfterAbandoned
			p.Retry[dialer.OutcomeAbandoned] = ab
		}
	}
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}
	return p, nil
}

// ruleSetOf reads a campaign's rule set: a named one, or a custom one with every field given.
func ruleSetOf(r *dialerevents.RuleSet) (dialer.RuleSet, error) {
	if r == nil {
		return dialer.DefaultRuleSet(), nil
	}
	if r.Name != "custom" {
		if r.Ceiling != 0 || len(r.Windows) > 0 || r.Threshold != nil || r.MinRing != nil || r.RedialAfterAbandoned != nil || r.MachineCountsAsAbandoned || r.MachineFalsePositiveRate != 0 {
			return dialer.RuleSet{}, fmt.Errorf("rule set %q takes no fields: name it \"custom\" to give your own", safetext.Truncate(r.Name, 20))
		}
		return dialer.NamedRuleSet(r.Name)
	}
	rs := dialer.RuleSet{Name: "custom", Ceiling: r.Ceiling, StartPoint: dialer.StartConnectedToSystem,
		MachineCountsAsAbandoned: r.MachineCountsAsAbandoned, MachineFalsePositiveRate: r.MachineFalsePositiveRate}
	for _, w := range r.Windows {
		rs.Windows = append(rs.Windows, w.Std())
	}
	for _, f := range []struct {
		d   *dialerevents.Duration
		dst *time.Duration
	}{{r.Threshold, &rs.Threshold}, {r.MinRing, &rs.MinRing}, {r.RedialAfterAbandoned, &rs.RedialAfterAbandoned}} {
		if f.d != nil {
			*f.dst = f.d.Std()
		}
	}
	return rs, rs.Validate()
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// calendarOf builds the calling calendar: the safe default (09:00-20:00 Monday to Saturday) for
// a campaign that gives no weekly windows.
func calendarOf(w *dialerevents.CallingWindows, legal callwindow.LegalRules) (*callwindow.Calendar, error) {
	zone := DefaultFallbackZone
	if w != nil && w.FallbackTimeZone != "" {
		zone = w.FallbackTimeZone
	}
	pol := callwindow.DefaultPolicy(zone)
	pol.Legal = legal
	if w != nil {
		pol.TrustRecordZone = w.TrustRecordZone
		pol.UnknownZone = callwindow.UnknownZone(w.UnknownZone)
		if w.EnforceUSCallingHours != nil {
			pol.USCallingHours = *w.EnforceUSCallingHours
		}
		if len(w.Weekly) > 0 {
			pol.Week = [7][]callwindow.Interval{}
			for name, ivs := range w.Weekly {
				day, ok := weekdays[name]
				if !ok {
					return nil, fmt.Errorf("weekly: %q is not a lower-case English weekday", safetext.Truncate(name, 20))
				}
				for _, iv := range ivs {
					parsed, err := callwindow.ParseInterval(iv.Start + "-" + iv.End)
					if err != nil {
						return nil, fmt.Errorf("weekly.%s: %v", name, err)
					}
					pol.Week[day] = append(pol.Week[day], parsed)
				}
			}
		}
		for _, d := range w.RestrictedDates {
			date, err := callwindow.ParseDate(d)
			if err != nil {
				return nil, fmt.Errorf("restrictedDates: %v", err)
			}
			pol.Restricted = append(pol.Restricted, date)
		}
	}
	return callwindow.NewCalendar(pol)
}

// checkAttributes checks the keys and the total size of the campaign's attributes merged with a
// recipient's (which win on a clash), as Connect counts them: UTF-8 bytes of keys and values.
func checkAttributes(campaign, recipient map[string]string) error {
	size := 0
	for k, v := range mergeAttributes(campaign, recipient) {
		if !dialerevents.ValidAttributeKey(k) {
			return fmt.Errorf("key %q: letters, digits, _ and - only, 1-128", safetext.Truncate(k, 40))
		}
		size += len(k) + len(v)
	}
	if size > connectspec.MaxAttributeBytes {
		return fmt.Errorf("%d bytes of attributes, Connect allows %d", size, connectspec.MaxAttributeBytes)
	}
	return nil
}

// mergeAttributes returns the campaign's attributes overlaid with the recipient's.
func mergeAttributes(campaign, recipient map[string]string) map[string]string {
	if len(campaign)+len(recipient) == 0 {
		return nil
	}
	out := make(map[string]string, len(campaign)+len(recipient))
	for k, v := range campaign {
		out[k] = v
	}
	for k, v := range recipient {
		out[k] = v
	}
	return out
}

// definitionJSON is the stored form of a plan's definition (without recipients).
func (p *Plan) definitionJSON() ([]byte, error) { return json.Marshal(p.Def) }

// planFromStored decodes a stored definition, under the built-in legal hours.
func planFromStored(def []byte) (*Plan, error) {
	return planFromStoredWith(def, callwindow.LegalRules{})
}

func planFromStoredWith(def []byte, legal callwindow.LegalRules) (*Plan, error) {
	var c dialerevents.Campaign
	if err := json.Unmarshal(def, &c); err != nil {
		return nil, fmt.Errorf("stored campaign definition: %w", err)
	}
	return NewPlanWith(c, legal)
}

// plan and storedPlan are NewPlan and planFromStored under the dialer's legal hours.
func (d *Dialer) plan(def dialerevents.Campaign) (*Plan, error) { return NewPlanWith(def, d.cfg.Legal) }

func (d *Dialer) storedPlan(def []byte) (*Plan, error) { return planFromStoredWith(def, d.cfg.Legal) }
