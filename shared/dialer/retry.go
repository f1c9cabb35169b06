package dialer

import (
	"fmt"
	"time"
)

// RetryRule: at most MaxAttempts attempts that end with this outcome, Delay after each.
type RetryRule struct {
	Delay       time.Duration
	MaxAttempts int
}

// RetryPolicy maps a retryable outcome to its rule. An outcome without a rule is never retried.
type RetryPolicy map[Outcome]RetryRule

// DefaultRetryPolicy is what a campaign gets when it says nothing: busy lines are tried again
// soon, unanswered calls and voicemail later, failures once more; invalid numbers never.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		OutcomeBusy:      {Delay: 30 * time.Minute, MaxAttempts: 3},
		OutcomeNoAnswer:  {Delay: 4 * time.Hour, MaxAttempts: 3},
		OutcomeVoicemail: {Delay: 24 * time.Hour, MaxAttempts: 2},
		OutcomeFailed:    {Delay: time.Hour, MaxAttempts: 2},
		// One more try for an abandoned call, not before 72 hours: Ofcom allows a repeat call
		// within 72 hours of an abandoned one only with a live agent guaranteed.
		OutcomeAbandoned: {Delay: 72 * time.Hour, MaxAttempts: 2},
	}
}

// Validate checks every rule: a retry needs a positive delay and 1-20 attempts.
func (p RetryPolicy) Validate() error {
	for o, r := range p {
		switch o {
		case OutcomeBusy, OutcomeNoAnswer, OutcomeVoicemail, OutcomeFailed, OutcomeInvalidNumber, OutcomeAbandoned:
		default:
			return fmt.Errorf("retry: %q is not a retryable outcome", o)
		}
		if r.MaxAttempts < 1 || r.MaxAttempts > 20 {
			return fmt.Errorf("retry %s: maxAttempts %d, want 1-20", o, r.MaxAttempts)
		}
		if r.Delay < time.Minute || r.Delay > 30*24*time.Hour {
			return fmt.Errorf("retry %s: delay %v, want 1m-720h", o, r.Delay)
		}
	}
	return nil
}

// Decision is what happens to a recipient after an attempt.
type Decision struct {
	State  State
	Reason string
	// NextAttemptAt is set when State is WaitingRetry.
	NextAttemptAt time.Time
}

// Decide applies the policy to an attempt's outcome. outcomes holds the outcomes of every earlier
// attempt of this recipient (not this one). An unknown outcome counts as failed.
func (p RetryPolicy) Decide(o Outcome, outcomes []Outcome, endedAt time.Time) Decision {
	switch o {
	case OutcomeHuman:
		return Decision{State: StateCompleted, Reason: "answered"}
	case OutcomeInvalidNumber:
		if _, retry := p[OutcomeInvalidNumber]; !retry {
			return Decision{State: StateInvalidNumber, Reason: "the network reported an invalid number"}
		}
	}
	as := o
	if o == OutcomeUnknown {
		as = OutcomeFailed
	}
	rule, ok := p[as]
	if !ok {
		return Decision{State: StateExhausted, Reason: fmt.Sprintf("%s, and the policy does not retry %s", o, as)}
	}
	same := 1 // this attempt
	for _, prev := range outcomes {
		if prev == as || (as == OutcomeFailed && prev == OutcomeUnknown) {
			same++
		}
	}
	if same >= rule.MaxAttempts {
		if o == OutcomeInvalidNumber {
			return Decision{State: StateInvalidNumber, Reason: fmt.Sprintf("invalid number on %d of %d attempts", same, rule.MaxAttempts)}
		}
		return Decision{State: StateExhausted, Reason: fmt.Sprintf("%s on %d of %d attempts", o, same, rule.MaxAttempts)}
	}
	return Decision{State: StateWaitingRetry, Reason: fmt.Sprintf("%s (%d of %d)", o, same, rule.MaxAttempts), NextAttemptAt: endedAt.Add(rule.Delay).UTC()}
}
