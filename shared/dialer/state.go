// Package dialer holds the outbound dialer's domain rules, with no AWS imports: the states a
// recipient moves through and the transitions allowed between them, how a finished call is
// classified from what Connect reports, what the retry policy makes of an outcome, the
// ClientToken of an attempt, and the per-number contact limit. The adapters (DynamoDB, Connect)
// and the tick loop build on these rules; every rule here is a pure function of its inputs and of
// an instant passed in (never time.Now), so it runs the same on a simulated clock.
package dialer

import (
	"fmt"
	"time"
)

// State of a recipient.
type State string

// The states. Every recipient ends in one of the final states, with a reason.
const (
	// Pending: due to be dialled at NextAttemptAt (its first attempt, or one whose dial was refused
	// by throttling before any call was placed).
	StatePending State = "pending"
	// Dialing: an attempt is written and StartOutboundVoiceContact is being (or was) called.
	StateDialing State = "dialing"
	// InCall: Connect accepted the call (a contact ID is recorded); waiting for it to end.
	StateInCall State = "in_call"
	// WaitingRetry: the last attempt ended with a retryable outcome; due again at NextAttemptAt.
	StateWaitingRetry State = "waiting_retry"

	StateCompleted     State = "completed"      // a person answered
	StateExhausted     State = "exhausted"      // retryable outcomes, but no attempts left
	StateSuppressedDNC State = "suppressed_dnc" // on the do-not-call list when it was due
	StateContactLimit  State = "contact_limit"  // the per-number limit would be passed before the campaign ends
	StateInvalidNumber State = "invalid_number" // not a dialable number (at import or as the network said)
	// DestinationRefused: Connect refused the destination for good (DestinationNotAllowedException:
	// the instance's outbound calling policy, or a prefix Connect blocks by default such as UK
	// mobiles +447 until a quota increase). The number may be valid: it is not invalid_number.
	StateDestinationRefused State = "destination_refused"
	StateCancelled          State = "cancelled" // the campaign was stopped
	StateExpired            State = "expired"   // the campaign ended before the recipient could be reached
)

// States lists every state, non-final first.
var States = []State{
	StatePending, StateDialing, StateInCall, StateWaitingRetry,
	StateCompleted, StateExhausted, StateSuppressedDNC, StateContactLimit, StateInvalidNumber, StateDestinationRefused, StateCancelled, StateExpired,
}

// Final reports whether no transition leaves s: the recipient is done, with a reason.
func (s State) Final() bool {
	switch s {
	case StateCompleted, StateExhausted, StateSuppressedDNC, StateContactLimit, StateInvalidNumber, StateCancelled, StateExpired, StateDestinationRefused:
		return true
	}
	return false
}

// Open reports whether the recipient still has work to do: due, or in flight. Every state is
// either open or final.
func (s State) Open() bool { return s.Due() || s.InFlight() }

// Due reports whether the recipient waits to be dialled (at its NextAttemptAt): pending or
// waiting for a retry. The store's "due" index holds exactly these.
func (s State) Due() bool { return s == StatePending || s == StateWaitingRetry }

// InFlight reports whether an attempt is under way: dialling, or in a call. The store's
// "inflight" index holds exactly these; each holds one of the instance's concurrent calls.
func (s State) InFlight() bool { return s == StateDialing || s == StateInCall }

// OpenStates lists the open states (Open), due first.
func OpenStates() []State {
	var out []State
	for _, s := range States {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	for _, v := range States {
		if v == s {
			return true
		}
	}
	return false
}

// transitions is the whole state machine: from -> the states it may move to.
var transitions = map[State][]State{
	// A due recipient is claimed for an attempt, or found unreachable before any dial.
	StatePending: {StateDialing, StateSuppressedDNC, StateContactLimit, StateInvalidNumber, StateCancelled, StateExpired, StatePending},
	// The dial: accepted (in call), refused before a call (back to pending, same attempt), or
	// refused for good; an unknown result (a crash, a lost reply) is settled as a failed attempt.
	StateDialing: {StateInCall, StatePending, StateWaitingRetry, StateExhausted, StateInvalidNumber, StateDestinationRefused, StateCompleted, StateCancelled, StateExpired},
	// The call ended: by its outcome.
	StateInCall: {StateCompleted, StateWaitingRetry, StateExhausted, StateInvalidNumber, StateCancelled, StateExpired},
	// Due again.
	StateWaitingRetry: {StatePending, StateDialing, StateSuppressedDNC, StateContactLimit, StateCancelled, StateExpired},
}

// CanMove reports whether the state machine allows from -> to.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition is one recorded move of a recipient, kept in its history.
type Transition struct {
	From    State     `json:"from" dynamodbav:"from"`
	To      State     `json:"to" dynamodbav:"to"`
	At      time.Time `json:"at" dynamodbav:"at"`
	Reason  string    `json:"reason" dynamodbav:"reason"`
	Attempt int       `json:"attempt,omitempty" dynamodbav:"attempt,omitempty"`
}

// ErrTransition is returned for a move the state machine does not allow.
type ErrTransition struct{ From, To State }

func (e *ErrTransition) Error() string {
	return fmt.Sprintf("recipient cannot move from %s to %s", e.From, e.To)
}

// Move checks a transition and returns its record; every transition needs a reason.
func Move(from, to State, at time.Time, reason string, attempt int) (Transition, error) {
	if !CanMove(from, to) {
		return Transition{}, &ErrTransition{From: from, To: to}
	}
	if reason == "" {
		return Transition{}, fmt.Errorf("transition %s -> %s without a reason", from, to)
	}
	if at.IsZero() {
		return Transition{}, fmt.Errorf("transition %s -> %s without a time", from, to)
	}
	return Transition{From: from, To: to, At: at.UTC(), Reason: reason, Attempt: attempt}, nil
}
