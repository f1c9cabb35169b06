package dialer

import (
	"fmt"
	"sort"
	"time"
)

// ContactLimit: at most MaxDials dials to one number in any window of Days days, across every
// campaign (Regulation F presumes more than 7 calls in 7 days about one debt to be harassment,
// 12 CFR 1006.14(b)(2)).
type ContactLimit struct {
	MaxDials int
	Days     int
}

// Validate checks the limit: 1-100 dials in 1-90 days.
func (l ContactLimit) Validate() error {
	if l.MaxDials < 1 || l.MaxDials > 100 || l.Days < 1 || l.Days > 90 {
		return fmt.Errorf("contact limit %d in %d days: want 1-100 dials in 1-90 days", l.MaxDials, l.Days)
	}
	return nil
}

// Window is the limit's sliding window.
func (l ContactLimit) Window() time.Duration { return time.Duration(l.Days) * 24 * time.Hour }

// NextAllowed says when one more dial to a number stays within the limit, given the number's
// earlier dials (any order): now if fewer than MaxDials fall in the window ending now, otherwise
// the moment enough of them have left it.
func (l ContactLimit) NextAllowed(dials []time.Time, now time.Time) time.Time {
	w := l.Window()
	recent := make([]time.Time, 0, len(dials))
	for _, d := range dials {
		if d.After(now.Add(-w)) {
			recent = append(recent, d)
		}
	}
	if len(recent) < l.MaxDials {
		return now
	}
	sort.Slice(recent, func(i, j int) bool { return recent[i].Before(recent[j]) })
	// After the oldest (len-MaxDials+1) recent dials leave the window, MaxDials-1 remain.
	return recent[len(recent)-l.MaxDials].Add(w)
}

// Prune drops dials that can no longer count against the limit at now (for the ledger's size).
func (l ContactLimit) Prune(dials []time.Time, now time.Time) []time.Time {
	out := dials[:0:0]
	for _, d := range dials {
		if d.After(now.Add(-l.Window())) {
			out = append(out, d)
		}
	}
	return out
}
