package callwindow

import (
	"fmt"
	"sync"
	"time"
)

// tzChange is a change of a zone's clock that the time zone database the process runs with may
// not have: Go 1.26 embeds tzdata 2025c ($GOROOT/lib/time/update.bash), and a Lambda image's
// /usr/share/zoneinfo may be older still. From the instant from on, a callee in the zone must be
// inside the window both on the database's reading and on the new clock: the same rule as for
// a callee who may be in several zones. With a database that already has the change the two
// readings agree and nothing is lost.
type tzChange struct {
	zone    string    // the zone, or a link name (a change of a link's target applies to the link too)
	from    time.Time // the new clock applies from this instant
	offset  int       // the new fixed UTC offset, seconds east, when alt is ""
	alt     string    // or: a zone whose rules (in tzdata 2025c and later) are the new clock
	release string    // the tz release whose NEWS says so
	why     string
}

// tzChanges lists every change to future timestamps in the tz releases after 2025c (2026a,
// 2026b, 2026c; NEWS of github.com/eggert/tz at commit b9bc7a8, 2026-07-21) and the one its
// commentary expects. Creston, Dawson Creek and Fort Nelson (British Columbia) have kept UTC-07
// all year since before 2026 and need no entry; the East Kootenay is in America/Edmonton.
var tzChanges = []tzChange{
	{
		zone: "America/Vancouver", from: time.Date(2026, time.March, 9, 7, 0, 0, 0, time.UTC), offset: -7 * 3600, release: "2026b",
		why: "British Columbia moved to permanent -07 on 2026-03-09 (00:00 PDT = 07:00Z); tz models it from 2026-11-01 02:00 PDT, the readings agree in between",
	},
	{
		zone: "America/Edmonton", from: time.Date(2026, time.June, 18, 6, 0, 0, 0, time.UTC), offset: -6 * 3600, release: "2026c",
		why: "Alberta moved to permanent -06 on 2026-06-18 (00:00 MDT = 06:00Z); tz models it from 2026-11-01 02:00 MDT; the link America/Yellowknife follows",
	},
	{
		zone: "America/Inuvik", from: time.Date(2026, time.November, 1, 8, 0, 0, 0, time.UTC), offset: -6 * 3600, release: "2026c (commentary)",
		why: "Northwest Territories is expected to move to permanent -06 before 2026-11-01 02:00 MDT (08:00Z); 2026c has it only as commented-out data",
	},
	{
		zone: "America/Yellowknife", from: time.Date(2026, time.November, 1, 8, 0, 0, 0, time.UTC), alt: "America/Denver", release: "2026c (commentary)",
		why: "a database of 2026c or later reads Yellowknife (a link to America/Edmonton) as Alberta, -06 all year; until Northwest Territories' move is law the old Mountain clock (MST/MDT on the rules America/Denver has had since 2007) is read too",
	},
	{
		zone: "Africa/Casablanca", from: time.Date(2026, time.September, 20, 1, 0, 0, 0, time.UTC), offset: 0, release: "2026c",
		why: "Morocco moves to permanent +00 on 2026-09-20 02:00 (+01 = 01:00Z)",
	},
	{
		zone: "Africa/El_Aaiun", from: time.Date(2026, time.September, 20, 1, 0, 0, 0, time.UTC), offset: 0, release: "2026c",
		why: "Western Sahara follows Morocco to permanent +00 on 2026-09-20",
	},
	{
		zone: "Europe/Chisinau", from: time.Date(2022, time.January, 1, 0, 0, 0, 0, time.UTC), alt: "Europe/Athens", release: "2026a",
		why: "since 2022 Moldova has changed clocks at the EU's instants (03:00 and 04:00 local, not 02:00 and 03:00); 2026a notes it now agrees with Europe/Athens for future timestamps",
	},
}

// changesOf returns the changes that apply to a zone name: its own and its link target's.
func changesOf(name string) []tzChange {
	var out []tzChange
	canon := canonicalZone(name)
	for _, c := range tzChanges {
		if c.zone == name || c.zone == canon {
			out = append(out, c)
		}
	}
	return out
}

// clock returns the location of the change's new clock.
func (c tzChange) clock() (*time.Location, error) {
	if c.alt != "" {
		return loadZone(c.alt)
	}
	return time.FixedZone(c.label(), c.offset), nil
}

// label names the new clock: "UTC-07:00" or the alternative zone.
func (c tzChange) label() string {
	if c.alt != "" {
		return c.alt
	}
	sign, off := '+', c.offset
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off%3600/60)
}

// describe says, for Zones.ExtraClocks, which clock is read besides the database's and why.
func (c tzChange) describe(zone string) string {
	return fmt.Sprintf("%s also on %s from %s (tz %s)", zone, c.label(), c.from.UTC().Format(time.RFC3339), c.release)
}

// changeClock is a change ready to read: its clock, its instant, and its description.
type changeClock struct {
	loc  *time.Location
	from time.Time
	desc string
}

var changeClocks sync.Map // zone name -> []changeClock

// changeClocksOf returns the changes of a zone ready to read, built once per name.
func changeClocksOf(name string) ([]changeClock, error) {
	if cc, ok := changeClocks.Load(name); ok {
		return cc.([]changeClock), nil
	}
	var out []changeClock
	for _, ch := range changesOf(name) {
		loc, err := ch.clock()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ch.describe(name), err)
		}
		out = append(out, changeClock{loc: loc, from: ch.from, desc: ch.describe(name)})
	}
	changeClocks.Store(name, out)
	return out, nil
}
