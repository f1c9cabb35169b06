package predictive

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// BucketWidth is the resolution of the abandonment ledger: 720 buckets hold 30 days.
const BucketWidth = time.Hour

// Day and Month are the lengths of the regulators' windows: the UK's 24 hours (DESIGN.md:
// 3 % of live calls per campaign per 24 hours, Ofcom's persistent misuse policy) and the FTC's
// 30 days (16 CFR 310.4(b)(4)(i): "measured over the duration of a single calling campaign, if
// less than 30 days, or separately over each successive 30-day period or portion thereof that
// the campaign continues", as the FTC quotes its rule).
const (
	Day   = 24 * time.Hour
	Month = 30 * Day
)

// DefaultRetention is how long the ledger keeps a bucket: the longest default window and the
// look-ahead bucket, and one more for a clock slightly behind.
const DefaultRetention = Month + 2*BucketWidth

// Bucket counts one hour of a campaign's live calls, by the instant each was answered.
type Bucket struct {
	// Hour is the bucket's start in hours since the Unix epoch.
	Hour int64 `json:"h"`
	// Answered counts every call answered by a person (abandoned or not); Abandoned those of
	// them abandoned.
	Answered  int `json:"n"`
	Abandoned int `json:"a,omitempty"`
}

func (b Bucket) start() time.Time { return time.Unix(b.Hour*3600, 0) }

func hourOf(t time.Time) int64 {
	s := t.Unix()
	h := s / 3600
	if s%3600 < 0 {
		h--
	}
	return h
}

// Budget is a campaign's abandonment ledger: live calls and abandoned calls per hour, for as
// long as the longest window needs. It is plain data so that the integrator can store it as
// JSON (about 30 bytes a bucket, 20 KB for 30 days of dialling around the clock; less for a
// campaign that sleeps at night: DynamoDB bills a write by the KB of the whole item, so write
// it once a decision, not once an event); change it only with its methods. It is not safe for
// concurrent use.
type Budget struct {
	// Buckets in ascending Hour, no two with the same Hour.
	Buckets []Bucket `json:"buckets"`
}

// Answered counts a call answered by a person at at: every live call, including those later
// abandoned (the regulators' denominator: the FTC's "calls answered by a person", Ofcom's "live
// calls", where an answering-machine detection false positive is a live call too).
func (b *Budget) Answered(at time.Time) { b.add(at, 1, 0) }

// Abandoned counts the abandonment of a call answered at at (which Answered has counted too):
// no agent took it within the connection threshold, or (Ofcom) answering-machine detection
// hung up on a person.
func (b *Budget) Abandoned(at time.Time) { b.add(at, 0, 1) }

func (b *Budget) add(at time.Time, answered, abandoned int) {
	h := hourOf(at)
	i := sort.Search(len(b.Buckets), func(i int) bool { return b.Buckets[i].Hour >= h })
	if i == len(b.Buckets) || b.Buckets[i].Hour != h {
		b.Buckets = append(b.Buckets, Bucket{})
		copy(b.Buckets[i+1:], b.Buckets[i:])
		b.Buckets[i] = Bucket{Hour: h}
	}
	b.Buckets[i].Answered += answered
	b.Buckets[i].Abandoned += abandoned
}

// Prune drops the buckets that ended keep or more before now.
func (b *Budget) Prune(now time.Time, keep time.Duration) {
	cut := now.Add(-keep)
	n := 0
	for _, k := range b.Buckets {
		if k.start().Add(BucketWidth).After(cut) {
			b.Buckets[n] = k
			n++
		}
	}
	clear(b.Buckets[n:])
	b.Buckets = b.Buckets[:n]
}

// Window is one span over which abandonment must stay at or under the target.
type Window struct {
	Name string
	// Length of the window: whole hours, at least two.
	Length time.Duration
	// Anchor, when set, makes the window the current one of successive periods of Length from
	// Anchor (the FTC's "each successive 30-day period or portion thereof"): its count starts
	// again at each period. Zero: the window rolls, ending now.
	Anchor time.Time
}

// Validate checks the length.
func (w Window) Validate() error {
	if w.Length < 2*BucketWidth || w.Length%BucketWidth != 0 {
		return fmt.Errorf("window %q: length %v: want whole hours, at least 2", w.Name, w.Length)
	}
	return nil
}

// DefaultWindows are the three windows that hold the US and the UK rules at once: a rolling
// 24 hours (Ofcom), a rolling 30 days, and the successive 30-day periods from the campaign's
// start (the FTC counts "each successive 30-day period or portion thereof", and a portion at
// the campaign's end is no rolling window). A zero start leaves out the periods.
func DefaultWindows(campaignStart time.Time) []Window {
	w := []Window{{Name: "24h", Length: Day}, {Name: "30d", Length: Month}}
	if !campaignStart.IsZero() {
		w = append(w, Window{Name: "30d-period", Length: Month, Anchor: campaignStart})
	}
	return w
}

// WindowAllowance is one window's count and what it still allows.
type WindowAllowance struct {
	Window Window
	// From is the window's start.
	From time.Time
	// Answered and Abandoned are the window's live and abandoned calls, counted so that the
	// figures hold for every window ending within the next BucketWidth (see Remaining).
	Answered, Abandoned int
	// Rate is Abandoned / Answered (0 with no live call).
	Rate float64
	// Slack is target × Answered − Abandoned: the abandoned calls the window could still take
	// if they were not live calls too; negative when the window is over its target.
	Slack float64
	// Allowed is how many more live calls may be abandoned now, each counting as a live call
	// too: the largest k with (Abandoned + k) ≤ target × (Answered + k), that is
	// floor(Slack / (1 − target)), at least 0.
	Allowed int
}

// Allowance is what the windows allow, for Decide.
type Allowance struct {
	Target  float64
	Windows []WindowAllowance
	// Binding is the index of the window with the least slack, -1 with no window.
	Binding int
}

// Slack is the least slack of the windows; with no window (the zero Allowance: nothing was
// measured), 0, so that Decide dials nothing ahead of the agents.
func (a Allowance) Slack() float64 {
	if a.Binding < 0 || a.Binding >= len(a.Windows) {
		return 0
	}
	return a.Windows[a.Binding].Slack
}

// Allowed is the binding window's Allowed (0 with no window).
func (a Allowance) Allowed() int {
	if a.Binding < 0 || a.Binding >= len(a.Windows) {
		return 0
	}
	return a.Windows[a.Binding].Allowed
}

// Remaining says what each window allows at now, for a target share of abandoned live calls.
//
// The ledger counts by the hour, so a window's edges fall inside buckets. The counts are taken
// so that they can only overstate the rate of every window ending between now and one bucket
// later (a decision's calls end well within the hour): a bucket's abandoned calls count if the
// bucket reaches into the window; its live calls count only if the bucket lies wholly within
// every one of those windows (a rolling window of 24 hours counts the live calls of the 23 whole
// hours before the current one and the current one's, and the abandoned calls of up to 25). A
// window of periods counts from the period's start, and in the last bucket of a period it is
// also taken from the start of the next one, which allows nothing: the guard of Decide then holds
// the campaign to progressive dialing across a period's end until the new period has live calls.
func (b *Budget) Remaining(now time.Time, target float64, windows []Window) Allowance {
	a := Allowance{Target: target, Binding: -1}
	nowH := hourOf(now)
	for _, w := range windows {
		var starts []time.Time
		if w.Anchor.IsZero() {
			starts = []time.Time{now.Add(-w.Length)}
		} else {
			k := math.Floor(float64(now.Sub(w.Anchor)) / float64(w.Length))
			ps := w.Anchor.Add(time.Duration(k) * w.Length)
			starts = []time.Time{ps}
			if next := ps.Add(w.Length); !now.Add(BucketWidth).Before(next) {
				starts = append(starts, next)
			}
		}
		for _, from := range starts {
			// Rolling: live calls count from buckets that will still be inside the window in one
			// bucket's time; periods: from buckets starting at or after the period's start.
			liveFrom := from
			if w.Anchor.IsZero() {
				liveFrom = from.Add(BucketWidth)
			}
			// A bucket reaches into the window if it ends after from: its hour is from's or later.
			// It starts at or after liveFrom if its hour is liveFrom's, liveFrom on the hour, or
			// later.
			abFrom, liveH := hourOf(from), hourOf(liveFrom)
			if liveFrom.After(time.Unix(liveH*3600, 0)) {
				liveH++
			}
			wa := WindowAllowance{Window: w, From: from}
			for _, k := range b.Buckets {
				if k.Hour >= abFrom {
					wa.Abandoned += k.Abandoned
				}
				if k.Hour >= liveH && k.Hour <= nowH {
					wa.Answered += k.Answered
				}
			}
			if wa.Answered > 0 {
				wa.Rate = float64(wa.Abandoned) / float64(wa.Answered)
			}
			wa.Slack = target*float64(wa.Answered) - float64(wa.Abandoned)
			if wa.Slack > 0 && target < 1 {
				wa.Allowed = int(math.Floor(wa.Slack/(1-target) + 1e-9))
			}
			a.Windows = append(a.Windows, wa)
			if a.Binding < 0 || wa.Slack < a.Windows[a.Binding].Slack {
				a.Binding = len(a.Windows) - 1
			}
		}
	}
	return a
}
