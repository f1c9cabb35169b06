package predictive

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Mode is how Decide paced the calls.
type Mode string

const (
	// Predictive: calls placed ahead of the agents, as many as the forecast and the budget
	// allow.
	Predictive Mode = "predictive"
	// ProgressiveFallback: at most one call waiting per available agent (Fallback says why).
	ProgressiveFallback Mode = "progressive-fallback"
)

// Fallback says why Decide did not dial predictively.
type Fallback string

const (
	// FallbackAgentsUnknown: GetCurrentMetricData gave no agent count; nothing is dialled (a
	// blind guess could leave a callee with no agent, as pacing.UnknownAgents).
	FallbackAgentsUnknown Fallback = "agents unknown"
	// FallbackTooFewObservations: fewer than MinObservations finished calls, or fewer than
	// MinTimed timed answers or agent contacts, to forecast from.
	FallbackTooFewObservations Fallback = "too few observations"
	// FallbackBudgetSpent: the abandonment budget (the least slack of the windows) does not
	// cover one more call than the agents available now, if every call waiting beyond them
	// and every unsettled one were abandoned.
	FallbackBudgetSpent Fallback = "budget spent"
	// FallbackInvalidConfig: the configuration does not validate; nothing is dialled.
	FallbackInvalidConfig Fallback = "invalid config"
)

// Limit names what bounded a decision's calls.
type Limit string

const (
	LimitAgents    Limit = "agents"     // progressive: the available agents less the calls waiting
	LimitCaps      Limit = "caps"       // the rate tokens and the concurrency cap (State.MaxStart)
	LimitBudget    Limit = "budget"     // the abandonment budget's worst case
	LimitDialLevel Limit = "dial level" // MaxDialLevel calls waiting per agent free or soon free
	LimitModel     Limit = "model"      // the forecast's predicted abandonment reached PlanRate
)

// Defaults and bounds of Config, each with its source.
const (
	// DefaultTarget is the ceiling of both rules: the FTC's safe harbour (16 CFR
	// 310.4(b)(4)(i): abandonment of no more than three percent of the calls answered by a
	// person) and the UK's 3 % of live calls per 24 hours as DESIGN.md gives Ofcom's persistent
	// misuse policy (its statement in force since March 2017 calculates the rate in Annex 3;
	// confirm the ceiling there).
	DefaultTarget = 0.03
	// DefaultPlanRate is the abandonment the forecast may predict for the calls in flight: a
	// third of the target. The forecast sees only the calls already placed, and the decisions
	// that follow add calls that take some of the agents it counted on, so the realised rate
	// runs above the plan: 1.25 to 1.5 times it at 20 and 50 agents in TestSimulation (its
	// workload), under it at 5. A third keeps the realised rate under half the target, the
	// budget growing and the guard idle, at a cost of under 0.01 of occupancy against a plan of
	// half the target (0.904 against 0.911 with 20 agents, 0.941 against 0.946 with 50, for
	// 1.3 % abandoned against 2.0 %).
	DefaultPlanRate = 0.01
	// DefaultConnectThreshold is the FTC's two seconds: a call not connected to a sales
	// representative within two seconds of the person's completed greeting is abandoned (16 CFR
	// 310.4(b)(1)(iv)); Outbound Campaigns calls it connectionThresholdSeconds.
	DefaultConnectThreshold = 2 * time.Second
	// DefaultZ is the one-sided 95 % normal quantile (Φ⁻¹(0.95) = 1.6449): the bound is at or
	// above the true p_person at least 19 times in 20. One-sided, because only under-estimating
	// it causes abandonment.
	DefaultZ = 1.6449
	// DefaultMinObservations finished calls before the forecast is trusted: with the prior's
	// 20 pseudo-calls, 200 calls make the data weigh ten times the prior.
	DefaultMinObservations = 200
	// DefaultMinTimed timed answers and agent contacts (effective weight) before the time
	// distributions are trusted.
	DefaultMinTimed = 30
	// DefaultMaxDialLevel is VICIdial's cap on its adaptive modes' dial level (3.0 calls per
	// agent).
	DefaultMaxDialLevel = 3.0
)

// Config is a campaign's predictive pacing.
type Config struct {
	// Target is the ceiling on abandoned live calls (a share, 0.03 for 3 %); the guard reads the
	// budget's counts with it, whatever target the allowance was measured for.
	Target float64
	// PlanRate is the predicted abandonment (expected abandoned per expected person answer of the
	// calls in flight) that a plan may reach: at most Target.
	PlanRate float64
	// ConnectThreshold is how long after the answer an agent must take the call.
	ConnectThreshold time.Duration
	// Z is the normal quantile of the upper confidence bound on p_person.
	Z float64
	// MinObservations and MinTimed gate the forecast (FallbackTooFewObservations).
	MinObservations int
	MinTimed        float64
	// MaxDialLevel caps the calls waiting per agent available or expected free within the
	// forecast's horizon.
	MaxDialLevel float64
}

// DefaultConfig returns the defaults above.
func DefaultConfig() Config {
	return Config{
		Target:           DefaultTarget,
		PlanRate:         DefaultPlanRate,
		ConnectThreshold: DefaultConnectThreshold,
		Z:                DefaultZ,
		MinObservations:  DefaultMinObservations,
		MinTimed:         DefaultMinTimed,
		MaxDialLevel:     DefaultMaxDialLevel,
	}
}

// Validate checks every field.
func (c Config) Validate() error {
	switch {
	case !(c.Target > 0 && c.Target < 1):
		return fmt.Errorf("predictive: target %v: want more than 0 and less than 1", c.Target)
	case !(c.PlanRate > 0 && c.PlanRate <= c.Target):
		return fmt.Errorf("predictive: plan rate %v: want more than 0 and at most the target %v", c.PlanRate, c.Target)
	case c.ConnectThreshold < 500*time.Millisecond || c.ConnectThreshold > 10*time.Second:
		return fmt.Errorf("predictive: connection threshold %v: want 0.5 s to 10 s", c.ConnectThreshold)
	case !(c.Z >= 0 && c.Z <= 5):
		return fmt.Errorf("predictive: z %v: want 0 to 5", c.Z)
	case c.MinObservations < 0 || !(c.MinTimed >= 0):
		return fmt.Errorf("predictive: minimum observations %d, timed %v: want at least 0", c.MinObservations, c.MinTimed)
	case !(c.MaxDialLevel >= 1 && c.MaxDialLevel <= 10):
		return fmt.Errorf("predictive: max dial level %v: want 1 to 10", c.MaxDialLevel)
	}
	return nil
}

// Busy is an agent on one of the campaign's contacts.
type Busy struct {
	// Since is when the agent took the call (CONNECTED_TO_AGENT).
	Since time.Time
	// WrapUpSince is when the conversation ended and after-contact work began (the contact's
	// DISCONNECTED); zero while the agent talks.
	WrapUpSince time.Time
}

// Call is one of the campaign's calls placed and not yet with an agent.
type Call struct {
	// PlacedAt is when StartOutboundVoiceContact placed it.
	PlacedAt time.Time
	// AnsweredAt is when a person answered it (connectedToSystemTimestamp) if it waits in the
	// queue for an agent; zero while it rings.
	AnsweredAt time.Time
}

// State is what the dialer knows of a campaign at one instant.
type State struct {
	Now time.Time
	// AgentsKnown: Connect gave an agent count (GetCurrentMetricData AGENTS_AVAILABLE, see
	// pacing.AgentsFromMetric); Available is that count for the campaign's queue.
	AgentsKnown bool
	Available   int
	// Busy lists the agents on the campaign's calls; agents busy with anything else are left
	// out (their free times are unknown: leaving them out can only lower the dialling).
	Busy []Busy
	// Waiting lists the calls placed and not yet taken by an agent: ringing, or answered and
	// queued.
	Waiting []Call
	// Unsettled counts answered calls that left Waiting without an agent known to have taken
	// them (ended, their abandonment not yet in the Budget): the guard counts each as abandoned.
	Unsettled int
	// MaxStart is how many calls the rate and the concurrency cap let start now (for one
	// campaign, pacing.Capacity of an agentless campaign; with several, the Scheduler's grant).
	MaxStart int
	// Estimates are the campaign's (Estimator.Estimates).
	Estimates Estimates
	// Allowance is what the abandonment windows allow now (Budget.Remaining); the guard reads
	// its counts with Config.Target.
	Allowance Allowance
}

// Decision is how many calls to start now, and why.
type Decision struct {
	Calls    int
	Mode     Mode
	Fallback Fallback // empty when Mode is Predictive
	Limit    Limit
	// PredictedAbandonment is ExpectedAbandoned / ExpectedAnswers: the forecast's share of the
	// person answers of every call in flight, the new ones included, finding no agent (0 when
	// the forecast was not run).
	PredictedAbandonment float64
	ExpectedAnswers      float64
	ExpectedAbandoned    float64
	// PPersonUpper is the upper confidence bound of p_person the forecast used.
	PPersonUpper float64
	// SoonFree is the expected number of busy agents free within the forecast's horizon.
	SoonFree float64
	// Reason is one line for the audit trail.
	Reason string
}

// Decide returns how many calls the campaign should start now.
//
// In order: no agent count, no calls; too few observations, progressive; then the budget's
// guard: the worst case (every unsettled call and every call waiting beyond the agents
// available now abandoned, each costing one abandoned call) must fit in the least slack of the
// windows, or the campaign dials progressive; then predictive: the largest number of new calls,
// from the progressive headroom up to the caps, the guard and the dial level, whose forecast
// predicts at most PlanRate abandonment.
func Decide(s State, cfg Config) Decision {
	if err := cfg.Validate(); err != nil {
		return Decision{Mode: ProgressiveFallback, Fallback: FallbackInvalidConfig, Reason: "progressive-fallback: 0 calls: " + err.Error()}
	}
	if !s.AgentsKnown || s.Available < 0 {
		return Decision{Mode: ProgressiveFallback, Fallback: FallbackAgentsUnknown, Limit: LimitAgents,
			Reason: "progressive-fallback: 0 calls: agents unknown"}
	}
	waiting := len(s.Waiting)
	maxStart := max(0, s.MaxStart)
	headroom := max(0, s.Available-waiting)
	progressive := min(headroom, maxStart)
	fallback := func(why Fallback, detail string) Decision {
		limit := LimitAgents
		if progressive < headroom {
			limit = LimitCaps
		}
		return Decision{Calls: progressive, Mode: ProgressiveFallback, Fallback: why, Limit: limit,
			Reason: fmt.Sprintf("progressive-fallback: %d calls (%s): %s; %s", progressive, limit, why, detail)}
	}
	agents := fmt.Sprintf("%d available, %d busy, %d waiting, %d unsettled", s.Available, len(s.Busy), waiting, s.Unsettled)

	est := s.Estimates
	if est.Observed < cfg.MinObservations || est.PersonAnswer.Weight() < cfg.MinTimed ||
		est.Talk.Weight() < cfg.MinTimed || est.AfterWork.Weight() < cfg.MinTimed {
		return fallback(FallbackTooFewObservations, fmt.Sprintf("%d calls observed (need %d), %.0f answers and %.0f contacts timed (need %.0f); %s",
			est.Observed, cfg.MinObservations, est.PersonAnswer.Weight(), est.Talk.Weight(), cfg.MinTimed, agents))
	}

	// The guard: unsettled + max(0, waiting + n − available) ≤ slack.
	slack := guardSlack(s.Allowance, cfg.Target)
	beyond := math.Floor(slack-float64(max(0, s.Unsettled))+1e-9) - float64(max(0, waiting-s.Available))
	budget := budgetText(s.Allowance)
	if beyond < 1 {
		return fallback(FallbackBudgetSpent, fmt.Sprintf("%s; %s", budget, agents))
	}
	guardCap := headroom + int(math.Min(beyond, float64(math.MaxInt32)))

	pUp := WilsonUpper(est.PPerson*est.Dials, est.Dials, cfg.Z)
	f := newForecast(s, cfg.ConnectThreshold, pUp, est.PMachine)
	levelCap := int(math.Floor(cfg.MaxDialLevel*(float64(s.Available)+f.soonFree)+1e-9)) - waiting

	upper, limit := maxStart, LimitCaps
	if guardCap < upper {
		upper, limit = guardCap, LimitBudget
	}
	if levelCap < upper {
		upper, limit = levelCap, LimitDialLevel
	}
	n := progressive
	if upper < n {
		upper = n
	}
	ans, ab := f.run(n)
	for n < upper {
		a, b := f.run(n + 1)
		if b > cfg.PlanRate*a {
			limit = LimitModel
			break
		}
		n, ans, ab = n+1, a, b
	}
	d := Decision{
		Calls: n, Mode: Predictive, Limit: limit,
		ExpectedAnswers: ans, ExpectedAbandoned: ab, PPersonUpper: pUp, SoonFree: f.soonFree,
	}
	if ans > 0 {
		d.PredictedAbandonment = ab / ans
	}
	d.Reason = fmt.Sprintf("predictive: %d calls (%s): predicted abandonment %.2f%% of %.2f answers (plan %.2f%%), p_person <= %.3f; %s, %.1f soon free; %s",
		n, limit, 100*d.PredictedAbandonment, ans, 100*cfg.PlanRate, pUp, agents, f.soonFree, budget)
	return d
}

// guardSlack is the least slack of the windows for the configured target, worked out again
// from their counts so that an allowance measured for another target cannot loosen the guard;
// 0 with no window (nothing measured) or a count that is not a number.
func guardSlack(a Allowance, target float64) float64 {
	slack := math.Inf(1)
	for _, w := range a.Windows {
		slack = math.Min(slack, target*float64(w.Answered)-float64(w.Abandoned))
	}
	if math.IsInf(slack, 1) || math.IsNaN(slack) {
		return 0
	}
	return slack
}

func budgetText(a Allowance) string {
	if len(a.Windows) == 0 {
		return "budget: no window measured"
	}
	var b strings.Builder
	b.WriteString("budget:")
	for i, w := range a.Windows {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s %d/%d %.2f%% slack %.1f", w.Window.Name, w.Abandoned, w.Answered, 100*w.Rate, w.Slack)
	}
	return b.String()
}
