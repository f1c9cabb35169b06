package callwindow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Horizon bounds the search of NextOpening and the answer of Until.
const Horizon = 14 * 24 * time.Hour

// ErrNoOpening is returned by NextOpening when the callee has no common open instant in all
// of their zones within Horizon (every day closed or restricted, or zones too far apart for
// their windows to overlap, as for a mobile of a country that spans eleven hours).
var ErrNoOpening = errors.New("no calling window open in all of the callee's zones within the horizon")

// Calendar is a validated Policy, ready to answer for many callees.
type Calendar struct {
	week       [7][]Interval
	restricted map[Date]bool
	resolution resolution
	legal      []legalRule
	weeks      sync.Map // jurisdictions joined by "," -> *[7][]Interval, the week under their rules
}

// NewCalendar validates p and returns its calendar.
func NewCalendar(p Policy) (*Calendar, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &Calendar{restricted: make(map[Date]bool, len(p.Restricted)), resolution: resolutionOf(p), legal: p.Legal.active()}
	for d, ivs := range p.Week {
		c.week[d] = normalise(ivs)
	}
	for _, d := range p.Restricted {
		c.restricted[d] = true
	}
	return c, nil
}

// Callee is one number (or record zone) under a calendar.
type Callee struct {
	cal      *Calendar
	zones    Zones
	readings []reading
}

// reading is one clock a callee's window is checked on: a zone's (as the database has it), a
// zone's newer clock from an instant on (tzChanges), or a statute's own clock.
type reading struct {
	loc        *time.Location
	from       time.Time // zero: always; else the reading holds from this instant on
	week       *[7][]Interval
	restricted map[Date]bool // the campaign's restricted dates; nil on a statute's clock
}

// Callee resolves the zones of number (E.164) and of the recipient record's zone (may be
// empty), under the policy's TrustRecordZone and UnknownZone (see ResolveZones), and applies
// the legal hours of the callee's jurisdictions. The error wraps ErrInvalidNumber,
// ErrUnknownZone (a record zone the database does not know) or ErrNoZoneForNumber.
func (c *Calendar) Callee(number, recordZone string) (Callee, error) {
	z, locs, err := resolve(number, recordZone, c.resolution)
	if err != nil {
		return Callee{}, fmt.Errorf("callee zones: %w", err)
	}
	week := c.weekOf(z.Jurisdictions)
	k := Callee{cal: c, zones: z, readings: make([]reading, 0, len(locs)+1)}
	for i, loc := range locs {
		k.readings = append(k.readings, reading{loc: loc, week: week, restricted: c.restricted})
		changes, err := changeClocksOf(z.Names[i])
		if err != nil {
			return Callee{}, fmt.Errorf("callee zones: %w", err)
		}
		for _, ch := range changes {
			k.readings = append(k.readings, reading{loc: ch.loc, from: ch.from, week: week, restricted: c.restricted})
			k.zones.ExtraClocks = append(k.zones.ExtraClocks, ch.desc)
		}
	}
	for _, r := range c.legal {
		if r.clock != nil && slices.Contains(z.Jurisdictions, r.jurisdiction) {
			k.readings = append(k.readings, reading{loc: r.clock, week: r.ownWeek()})
			k.zones.ExtraClocks = append(k.zones.ExtraClocks, r.jurisdiction+" hours also on "+r.clock.String())
		}
	}
	return k, nil
}

// weekOf returns the campaign's week narrowed by every legal rule of the jurisdictions (on the
// callee's clock), computed once per set of jurisdictions.
func (c *Calendar) weekOf(jurisdictions []string) *[7][]Interval {
	key := strings.Join(jurisdictions, ",")
	if w, ok := c.weeks.Load(key); ok {
		return w.(*[7][]Interval)
	}
	w := c.week
	for _, r := range c.legal {
		if slices.Contains(jurisdictions, r.jurisdiction) {
			r.restrict(&w)
		}
	}
	actual, _ := c.weeks.LoadOrStore(key, &w)
	return actual.(*[7][]Interval)
}

// Zones reports the zones the decisions are made in, and why.
func (k Callee) Zones() Zones { return k.zones }

// Allowed reports whether t is inside an open window in every one of the callee's zones, on
// every clock it is read on, with the legal hours of every jurisdiction of the callee applied.
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

// spans returns the instants of [from, to) allowed on every reading, sorted and merged.
func (k Callee) spans(from, to time.Time) []span {
	var all []span
	for i, r := range k.readings {
		s := r.spans(from, to)
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

// spans returns the instants of [from, to) the reading allows: before its start instant it
// allows everything.
func (r reading) spans(from, to time.Time) []span {
	if r.from.IsZero() || !r.from.After(from) {
		return zoneSpans(r.loc, r.week, r.restricted, from, to)
	}
	if !r.from.Before(to) {
		return []span{{from, to}}
	}
	return merge(append([]span{{from, r.from}}, zoneSpans(r.loc, r.week, r.restricted, r.from, to)...))
}

// zoneSpans returns the instants of [from, to) whose wall-clock reading in loc falls in an
// open window of week on a date not restricted. Between two offset changes the reading is the
// instant plus a constant offset, so each such segment maps a window of naive local time back
// to instants exactly; gaps and repeated hours fall out of the segment boundaries.
func zoneSpans(loc *time.Location, week *[7][]Interval, restricted map[Date]bool, from, to time.Time) []span {
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
			if restricted[Date{day.Year(), day.Month(), day.Day()}] {
				continue
			}
			for _, iv := range week[day.Weekday()] {
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
