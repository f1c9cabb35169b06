package dialer

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Window is what the gate asks of a callee's calling window: the campaign's hours and the
// legal hours in every zone the callee may be in (callwindow.Callee satisfies it).
type Window interface {
	Allowed(t time.Time) bool
	Until(t time.Time) (time.Time, bool)
	NextOpening(t time.Time) (time.Time, error)
}

// Facts are what the dialer knows about one recipient when it considers a dial. A fact that
// costs a read (DoNotCall, Ledger) stays nil until read: the gate asks for it (Decision.Need)
// only once every cheaper rule lets the dial through, so a recipient outside its window costs
// no do-not-call lookup.
type Facts struct {
	State         State
	Attempt       int
	NextAttemptAt time.Time

	// Running: the campaign is running (not paused, stopping or ended), as read at most
	// CampaignFreshness before the decision.
	Running bool
	// Start and End of the campaign (zero: none).
	Start, End time.Time

	// Window is the callee's calling window; WindowErr says why there is none (no zone known
	// for the number).
	Window    Window
	WindowErr error
	// CloseGuard: no call starts when the window or the campaign closes within it (a call
	// placed then would ring into the closing time).
	CloseGuard time.Duration

	// DoNotCall is the do-not-call list's answer, read just before the dial (nil: not read).
	DoNotCall *DoNotCallFact
	// Limit is the contact limit across campaigns (nil: none); Ledger the number's earlier
	// dials (nil: not read; read only when Limit is set).
	Limit  *ContactLimit
	Ledger *[]time.Time
}

// DoNotCallFact is one lookup of the do-not-call list.
type DoNotCallFact struct {
	Listed    bool
	CheckedAt time.Time
}

// Verdict is what the gate says of a recipient.
type Verdict int

const (
	// Skip: nothing to do now and nothing to write (not due any more: the due index was
	// behind; or the campaign is not running).
	Skip Verdict = iota
	// Need: a fact is missing (Decision.Need); read it and ask again.
	Need
	// Wait: not now; the recipient stays pending and is due again at Decision.Until.
	Wait
	// Final: the recipient can never be dialled; it moves to Decision.To.
	Final
	// Dial: every rule lets the dial through.
	Dial
)

func (v Verdict) String() string {
	return [...]string{"skip", "need", "wait", "final", "dial"}[v]
}

// Fact names a fact the gate needs.
type Fact string

// Facts the gate may ask for.
const (
	NeedDoNotCall Fact = "do_not_call"
	NeedLedger    Fact = "ledger"
)

// GateDecision is the gate's answer, with the reason the audit trail keeps.
type GateDecision struct {
	Verdict Verdict
	// To is the state a Final or Wait verdict moves the recipient to.
	To State
	// Reason says why (never a phone number).
	Reason string
	// Counter names the campaign counter the decision adds to (Final and Wait).
	Counter string
	// Until is when a waiting recipient is due again.
	Until time.Time
	// Need is the fact to read (Verdict Need).
	Need Fact
}

// Gate decides whether a recipient may be dialled at now, and if not, why and until when. It is
// the one owner of that question: the campaign's state and end, the callee's window in every
// zone, the do-not-call list and the contact limit, in that order (cheapest first).
func Gate(f Facts, now time.Time) GateDecision {
	switch {
	case !f.State.Due():
		return GateDecision{Verdict: Skip, Reason: fmt.Sprintf("recipient is %s, not due", f.State)}
	case f.NextAttemptAt.After(now):
		return GateDecision{Verdict: Skip, Reason: "not due until " + stamp(f.NextAttemptAt)}
	case !f.Running:
		return GateDecision{Verdict: Skip, Reason: "the campaign is not running"}
	}
	tooLate := func(t time.Time) bool { return !f.End.IsZero() && !t.Before(f.End.Add(-f.CloseGuard)) }
	final := func(to State, counter, reason string) GateDecision {
		return GateDecision{Verdict: Final, To: to, Counter: counter, Reason: reason}
	}
	wait := func(until time.Time, counter, reason string) GateDecision {
		return GateDecision{Verdict: Wait, To: StatePending, Until: until.UTC(), Counter: counter, Reason: reason}
	}
	if tooLate(now) {
		return final(StateExpired, "expired", "campaign ended before the recipient was reached")
	}
	if now.Before(f.Start) {
		return wait(f.Start, "deferred_start", "the campaign starts at "+stamp(f.Start))
	}
	if f.WindowErr != nil {
		return final(StateInvalidNumber, "invalid_number", "no time zone for the number: "+f.WindowErr.Error())
	}
	if f.Window == nil {
		return final(StateInvalidNumber, "invalid_number", "no calling window for the number")
	}
	until, open := f.Window.Until(now)
	if !open || until.Sub(now) < f.CloseGuard {
		from := now
		if open {
			from = until
		}
		next, err := f.Window.NextOpening(from)
		switch {
		case err != nil:
			return final(StateExpired, "expired", "no calling window opens: "+err.Error())
		case tooLate(next):
			return final(StateExpired, "expired", "the campaign ends before the callee's next calling window")
		}
		return wait(next, "deferred_window", "outside the callee's calling window until "+stamp(next))
	}
	if f.DoNotCall == nil {
		return GateDecision{Verdict: Need, Need: NeedDoNotCall}
	}
	if f.DoNotCall.Listed {
		return final(StateSuppressedDNC, "suppressed", "on the do-not-call list (checked "+stamp(f.DoNotCall.CheckedAt)+")")
	}
	if f.Limit != nil {
		if f.Ledger == nil {
			return GateDecision{Verdict: Need, Need: NeedLedger}
		}
		if next := f.Limit.NextAllowed(*f.Ledger, now); next.After(now) {
			if tooLate(next) {
				return final(StateContactLimit, "contact_limit", fmt.Sprintf("%d dials in %d days reached; the campaign ends first", f.Limit.MaxDials, f.Limit.Days))
			}
			return wait(next, "deferred_limit", fmt.Sprintf("%d dials in %d days reached until %s", f.Limit.MaxDials, f.Limit.Days, stamp(next)))
		}
	}
	return GateDecision{Verdict: Dial, Reason: "window open until " + stamp(until) + ", not on the do-not-call list"}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Back-off after refused dials (throttled, or the instance's concurrent calls all taken).
const (
	RefusalBackoffBase = 10 * time.Second
	RefusalBackoffMax  = 10 * time.Minute
)

// RefusalBackoff is how long a recipient waits after its n-th refused dial in a row (n ≥ 1):
// RefusalBackoffBase doubled per refusal, capped at RefusalBackoffMax, with "equal jitter" (half
// of it fixed, half spread by a hash of key and n, so the wait is reproducible and recipients
// refused together do not come back together).
func RefusalBackoff(n int, key string) time.Duration {
	if n < 1 {
		n = 1
	}
	d := RefusalBackoffMax
	if n <= 16 && RefusalBackoffBase<<(n-1) < RefusalBackoffMax {
		d = RefusalBackoffBase << (n - 1)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d", key, n)
	half := d / 2
	return half + time.Duration(h.Sum64()%uint64(half+1))
}
