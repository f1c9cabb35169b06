package callwindow

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Horizon bounds the search of NextOpening and the answer of Until.
const Horizon = 14 * 24 * time.Hour

// ErrNoOpening is returned by NextOpening when the callee has no common open instant in all
// of their zones within Horizon (every day closed or restricted, or zones too far apart for
// their windows to overlap, as for a toll-free number that phonenumbers places in every
// North American zone from Guam to St John's).
var ErrNoOpening = errors.New("no calling window open in all of the callee's zones within the horizon")

// Calendar is a validated Policy, ready to answer for many callees.
type Calendar struct {
	week       [7][]Interval
	restricted map[Date]bool
	fallback   string
}

// NewCalendar validates p and returns its calendar.
func NewCalendar(p Policy) (*Calendar, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &Calendar{restricted: make(map[Date]bool, len(p.Restricted)), fallback: p.FallbackZone}
	for d, ivs := range p.Week {
		c.week[d] = slices.Clone(ivs)
		slices.SortFunc(c.week[d], func(a, b Interval) int { return int(a.Start - b.Start) })
	}
	for _, d := range p.Restricted {
		c.restricted[d] = true
	}
	return c, nil
}

// Callee is one number (or explicit zone) under a calendar.
type Callee struct {
	cal   *Calendar
	zones Zones
	locs  []*time.Location
}

// Callee resolves the zones of number (E.164) or of explicitZone, which wins when non-empty;
// see ResolveZones.
func (c *Calendar) Callee(number, explicitZone string) (Callee, error) {
	z, locs, err := resolve(number, explicitZone, c.fallback)
	if err != nil {
		return Callee{}, fmt.Errorf("callee zones: %w", err)
	}
	return Callee{cal: c, zones: z, locs: locs}, nil
}

// Zones reports the zones the decisions are made in, and why.
func (k Callee) Zones() Zones { return k.zones }

// Allowed reports whether t is inside an open window in every one of the callee's zones.
//
// A window holds the instants whose local wall-clock reading lies in [start, end) on an open,
// unrestricted local date. So on a spring-forward day a window starting inside the skipped
// hour opens at the first reading after the gap (02:30 becomes 03:00), and on a fall-back day
// both passes through the repeated hour count.
func (k Callee) Allowed(t time.Time) bool {
	spans := k.spans(t, t.Add(time.Nanosecond))
	return len(spans) > 0
}

// NextOpening returns the earliest instant at or after t at which Allowed is true, or
// ErrNoOpening if there is none within Horizon. Instants are returned in UTC.
func (k Callee) NextOpening(t time.Time) (time.Time, error) {
	spans := k.spans(t, t.Add(Horizon))
	if len(spans) == 0 {
		return time.Time{}, ErrNoOpening
	}
	return spans[0].start, nil
}

// Until returns the instant the window open at t closes in at least one of the callee's zones
// (the first instant after t at which Allowed is false), and false if no window is open at t.
// A window still open at t+Horizon is reported as closing at t+Horizon.
func (k Callee) Until(t time.Time) (time.Time, bool) {
	spans := k.spans(t, t.Add(Horizon))
	if len(spans) == 0 || !spans[0].start.Equal(t) {
		return time.Time{}, false
	}
	return spans[0].end, true
}

// span is a half-open interval of instants [start, end).
type span struct{ start, end time.Time }

// spans returns the instants of [from, to) allowed in all zones, sorted and merged.
func (k Callee) spans(from, to time.Time) []span {
	var all []span
	for i, loc := range k.locs {
		s := k.cal.zoneSpans(loc, from, to)
		if i == 0 {
			all = s
		} else {
			all = intersect(all, s)
		}
		if len(all) == 0 {
			return nil
		}
	}
	return all
}

// zoneSpans returns the instants of [from, to) whose wall-clock reading in loc falls in an
// open window. Between two offset changes the reading is the instant plus a constant offset,
// so each such segment maps a window of naive local time back to instants exactly; gaps and
// repeated hours fall out of the segment boundaries.
func (c *Calendar) zoneSpans(loc *time.Location, from, to time.Time) []span {
	var out []span
	for t := from; t.Before(to); {
		lt := t.In(loc)
		_, offSec := lt.Zone()
		off := time.Duration(offSec) * time.Second
		_, segEnd := lt.ZoneBounds()
		if segEnd.IsZero() || segEnd.After(to) {
			segEnd = to
		}
		// The segment [t, segEnd) reads as naive local times [na, nb).
		na, nb := naive(t, off), naive(segEnd, off)
		for day := midnight(na); day.Before(nb); day = day.AddDate(0, 0, 1) {
			if c.restricted[Date{day.Year(), day.Month(), day.Day()}] {
				continue
			}
			for _, iv := range c.week[day.Weekday()] {
				s := day.Add(time.Duration(iv.Start) * time.Minute)
				e := day.Add(time.Duration(iv.End) * time.Minute)
				s, e = later(s, na), earlier(e, nb)
				if s.Before(e) {
					out = append(out, span{s.Add(-off), e.Add(-off)})
				}
			}
		}
		t = segEnd
	}
	return merge(out)
}

// naive is t's wall-clock reading at offset off, as a UTC time (a clock with no zone).
func naive(t time.Time, off time.Duration) time.Time { return t.UTC().Add(off) }

func midnight(n time.Time) time.Time {
	y, m, d := n.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// merge sorts spans and joins those that touch or overlap.
func merge(s []span) []span {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, func(a, b span) int { return a.start.Compare(b.start) })
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if !x.start.After(last.end) {
			last.end = later(last.end, x.end)
			continue
		}
		out = append(out, x)
	}
	return out
}

// intersect returns the instants in both sorted, merged span lists.
func intersect(a, b []span) []span {
	var out []span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		s, e := later(a[i].start, b[j].start), earlier(a[i].end, b[j].end)
		if s.Before(e) {
			out = append(out, span{s, e})
		}
		if a[i].end.Before(b[j].end) {
			i++
		} else {
			j++
		}
	}
	return out
}
