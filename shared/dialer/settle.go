package dialer

import (
	"fmt"
	"time"
)

// ReasonGrace is how long after a contact's disconnection the settle waits for its disconnect
// reason (and, with answering-machine detection, its detection status) to appear before it
// classifies without them: DescribeContact can show the end before the contact record is
// complete.
const ReasonGrace = time.Minute

// Ending is what is known of an attempt that ended, or may have.
type Ending struct {
	// Report is what Connect says of the contact; nil when the result cannot be known (a crash
	// between writing the attempt and recording Connect's answer, a lost reply, a contact
	// Connect no longer knows).
	Report *Report
	// EndedAt is when the contact disconnected (or, unknown, when the dialer gave up on it).
	EndedAt time.Time
	// Why says why the result is unknown (Report nil).
	Why string
	// AMD: answering-machine detection was on for the call.
	AMD bool
}

// AttemptFacts are what the settle needs of the recipient and the campaign.
type AttemptFacts struct {
	// Outcomes of the recipient's earlier attempts (not this one).
	Outcomes []Outcome
	// Stopping: the campaign was stopped; nothing is retried.
	Stopping bool
	// End of the campaign (zero: none); a retry due at or after it expires instead.
	End time.Time
}

// SettleDecision is what an ended attempt means.
type SettleDecision struct {
	// ReadAgain: the contact ended too recently for its record to be complete; classify later.
	ReadAgain bool
	Outcome   Outcome
	Decision
}

// Settle decides what an ended (or unknown) attempt means: its outcome, and whether the
// recipient is final or retried, and when. It is the one owner of that question: the
// classification, the retry policy, the campaign's end and a stop.
func Settle(a AttemptFacts, e Ending, p RetryPolicy, now time.Time) SettleDecision {
	o := OutcomeUnknown
	detail := "result unknown"
	if e.Why != "" {
		detail = "result unknown: " + e.Why
	}
	if e.Report != nil {
		r := *e.Report
		incomplete := r.DisconnectReason == "" || (e.AMD && r.ConnectedToSystem != nil && r.AMDStatus == "")
		if incomplete && now.Sub(e.EndedAt) < ReasonGrace {
			return SettleDecision{ReadAgain: true}
		}
		o = Classify(r)
		detail = fmt.Sprintf("disconnect reason %s, AMD %s", orNone(r.DisconnectReason), orNone(r.AMDStatus))
	}
	dec := p.Decide(o, a.Outcomes, e.EndedAt)
	if dec.State == StateWaitingRetry && !a.End.IsZero() && !dec.NextAttemptAt.Before(a.End) {
		dec = Decision{State: StateExpired, Reason: dec.Reason + "; the campaign ends before the retry"}
	}
	if dec.State == StateWaitingRetry && a.Stopping {
		dec = Decision{State: StateCancelled, Reason: dec.Reason + "; the campaign was stopped"}
	}
	dec.Reason += " (" + detail + ")"
	return SettleDecision{Outcome: o, Decision: dec}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
