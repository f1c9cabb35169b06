package predictive

import (
	"fmt"
	"math"
	"time"
)

// Answer is who answered a call, as the dialer classifies Connect's record.
type Answer int

const (
	// NotAnswered: no answer, busy, failed, invalid number (no media connected).
	NotAnswered Answer = iota
	// Person: media connected and the call goes to an agent. Without answering-machine detection
	// every connected call is one: Connect cannot tell a machine from a person, and the call goes
	// to the queue like a person's (dialer.Classify counts it so too).
	Person
	// Machine: answering-machine detection heard a machine; the call does not go to an agent.
	Machine
)

func (a Answer) String() string {
	switch a {
	case NotAnswered:
		return "not_answered"
	case Person:
		return "person"
	case Machine:
		return "machine"
	}
	return fmt.Sprintf("Answer(%d)", int(a))
}

// CallRecord is what the estimator learns from one finished call of the campaign.
type CallRecord struct {
	Answer Answer
	// TimeToAnswer is from the dial (StartOutboundVoiceContact) to the answer (the contact's
	// connectedToSystemTimestamp) of an answered call, and to the end (its disconnection) of a
	// call not answered: it rang out, was busy or failed. The second tells the forecast how
	// many of the calls still ringing after a while are calls that can no longer fail fast;
	// without it (zero) a call still ringing looks less likely to be answered than it is.
	TimeToAnswer time.Duration
	// AgentTook: an agent took the call (CONNECTED_TO_AGENT); then Talk is from the agent's
	// connection to the end of the conversation and AfterWork the agent's after-contact work
	// (AgentInfo.AfterContactWorkDuration).
	AgentTook       bool
	Talk, AfterWork time.Duration
	// Abandoned: a person answered and no agent took the call within the connection threshold.
	Abandoned bool
}

// Prior is what the estimator assumes before any call, as pseudo-calls that fade like real
// ones. The default is deliberately pessimistic for abandonment: a person answers half the
// calls (the simulation's workload has 30 %), so the first predictive plans dial less than the
// truth would allow. Times have no prior: until MinTimed calls have been timed, Decide dials
// progressive.
type Prior struct {
	Calls       float64 `json:"calls"`
	PersonRate  float64 `json:"person_rate"`
	MachineRate float64 `json:"machine_rate"`
}

// DefaultPrior: 20 pseudo-calls, half answered by a person, a tenth by a machine.
var DefaultPrior = Prior{Calls: 20, PersonRate: 0.5, MachineRate: 0.1}

// Memories of the estimator, in observations: a record weighs 1/e as much after this many
// newer ones. A memory of a thousand dials gives p_person a standard error of about one point
// at 0.3 (the weights' effective count, (Σw)²/Σw², is about twice the memory), and follows a
// change of answer rate within an hour or two at 20 agents (about 800 dials an hour);
// 300 timed calls place a distribution's quartiles within a second or two of answer time and
// 5 % of talk time (TestEstimatorConverges), and follow a change of script.
const (
	DefaultRateMemory = 1000
	DefaultTimeMemory = 300
)

// Estimator keeps the campaign's measured answer rates and durations, exponentially weighted
// by call count (not by time: a quiet night keeps what the day taught). It is plain data so
// that the integrator can store it as JSON between invocations; change it only with Observe.
type Estimator struct {
	RateMemory float64 `json:"rate_memory"`
	TimeMemory float64 `json:"time_memory"`

	// Weighted counts of dials, person answers, machine answers, and abandoned person answers
	// (the prior included).
	Dials       float64 `json:"dials"`
	Persons     float64 `json:"persons"`
	Machines    float64 `json:"machines"`
	Abandons    float64 `json:"abandons"`
	AbandonBase float64 `json:"abandon_base"` // person answers, weighted like Abandons
	// Observed counts the records ever observed.
	Observed int `json:"observed"`

	PersonAnswer  Hist `json:"person_answer"`
	MachineAnswer Hist `json:"machine_answer"`
	Unanswered    Hist `json:"unanswered"`
	Talk          Hist `json:"talk"`
	AfterWork     Hist `json:"after_work"`
	// Handle time (talk + after-contact work) moments in seconds: weighted sums of 1, x, x².
	HandleW  float64 `json:"handle_w"`
	HandleS  float64 `json:"handle_s"`
	HandleS2 float64 `json:"handle_s2"`
}

// NewEstimator returns an estimator holding only the prior. Memories below 1 take the
// defaults.
func NewEstimator(p Prior, rateMemory, timeMemory float64) *Estimator {
	if !(rateMemory >= 1) {
		rateMemory = DefaultRateMemory
	}
	if !(timeMemory >= 1) {
		timeMemory = DefaultTimeMemory
	}
	c := math.Max(0, p.Calls)
	return &Estimator{
		RateMemory: rateMemory,
		TimeMemory: timeMemory,
		Dials:      c,
		Persons:    c * clamp01(p.PersonRate),
		Machines:   c * clamp01(p.MachineRate),
	}
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return math.Max(0, math.Min(1, x))
}

// Observe learns from one finished call. Durations that cannot be (negative) are ignored.
func (e *Estimator) Observe(r CallRecord) {
	keep := decay(e.RateMemory)
	e.Dials = e.Dials*keep + 1
	e.Persons *= keep
	e.Machines *= keep
	e.Observed++
	switch r.Answer {
	case Person:
		e.Persons++
		if r.TimeToAnswer >= 0 {
			e.PersonAnswer.Observe(r.TimeToAnswer, e.TimeMemory)
		}
		tk := decay(e.TimeMemory)
		e.AbandonBase = e.AbandonBase*tk + 1
		e.Abandons *= tk
		if r.Abandoned {
			e.Abandons++
		}
	case Machine:
		e.Machines++
		if r.TimeToAnswer >= 0 {
			e.MachineAnswer.Observe(r.TimeToAnswer, e.TimeMemory)
		}
	case NotAnswered:
		if r.TimeToAnswer > 0 {
			e.Unanswered.Observe(r.TimeToAnswer, e.TimeMemory)
		}
	}
	if r.AgentTook && r.Talk >= 0 && r.AfterWork >= 0 {
		e.Talk.Observe(r.Talk, e.TimeMemory)
		e.AfterWork.Observe(r.AfterWork, e.TimeMemory)
		tk := decay(e.TimeMemory)
		x := (r.Talk + r.AfterWork).Seconds()
		e.HandleW = e.HandleW*tk + 1
		e.HandleS = e.HandleS*tk + x
		e.HandleS2 = e.HandleS2*tk + x*x
	}
}

// Estimates are the estimator's figures at one instant: what Decide reads.
type Estimates struct {
	// Observed is the number of records observed; Dials the weighted number of dials behind the
	// rates, prior included (the sum of the weights: about half their effective count, so the
	// Wilson bound Decide draws from it is wider than it need be, which errs on the safe side).
	Observed int
	Dials    float64
	// PPerson and PMachine are the weighted shares of dials answered by a person and by a
	// machine.
	PPerson, PMachine float64
	// PersonAnswer and MachineAnswer are the distributions of the time from dial to answer,
	// Unanswered of the time from dial to the end of a call not answered.
	PersonAnswer, MachineAnswer, Unanswered Dist
	// Talk and AfterWork are the distributions of an agent's talk and after-contact work.
	Talk, AfterWork Dist
	// HandleMean and HandleStdDev describe talk + after-contact work.
	HandleMean, HandleStdDev time.Duration
	// Abandonment is the measured share of person answers abandoned (weighted like the
	// times): a check of the plans' predictions, not an input of the decision.
	Abandonment float64
}

// Estimates returns the current estimates.
func (e *Estimator) Estimates() Estimates {
	est := Estimates{
		Observed:      e.Observed,
		Dials:         e.Dials,
		PersonAnswer:  e.PersonAnswer.Dist(),
		MachineAnswer: e.MachineAnswer.Dist(),
		Unanswered:    e.Unanswered.Dist(),
		Talk:          e.Talk.Dist(),
		AfterWork:     e.AfterWork.Dist(),
	}
	if e.Dials > 0 {
		est.PPerson = e.Persons / e.Dials
		est.PMachine = e.Machines / e.Dials
	}
	if e.AbandonBase > 0 {
		est.Abandonment = e.Abandons / e.AbandonBase
	}
	if e.HandleW > 0 {
		m := e.HandleS / e.HandleW
		v := math.Max(0, e.HandleS2/e.HandleW-m*m)
		est.HandleMean = time.Duration(m * float64(time.Second))
		est.HandleStdDev = time.Duration(math.Sqrt(v) * float64(time.Second))
	}
	return est
}

// WilsonUpper is the upper end of the Wilson score interval for a proportion: successes out
// of n trials at z standard normal deviates (Wilson, "Probable inference, the law of
// succession, and statistical inference", JASA 22 (1927) 209-212; Agresti & Coull, "Approximate
// is better than exact", The American Statistician 52 (1998) 119-126):
//
//	(p̂ + z²/2n + z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n),  p̂ = successes/n.
//
// Unlike the normal (Wald) interval it stays inside [0, 1] and is not zero-width at p̂ = 0 or
// 1, which matters for a campaign's first calls. successes and n may be weighted counts; n ≤ 0
// gives 1 (nothing is known).
func WilsonUpper(successes, n, z float64) float64 {
	if !(n > 0) {
		return 1
	}
	p := math.Max(0, math.Min(1, successes/n))
	z2 := z * z
	centre := p + z2/(2*n)
	spread := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return math.Min(1, (centre+spread)/(1+z2/n))
}
