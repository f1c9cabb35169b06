package callwindow

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// TimeOfDay is a local wall-clock time in minutes after midnight, 0 (00:00) to 1440 (24:00).
// 24:00 is allowed only as the end of an interval.
type TimeOfDay int

// EndOfDay is 24:00, the end of an interval that runs to midnight.
const EndOfDay TimeOfDay = 24 * 60

// ParseTimeOfDay reads "HH:MM" (24-hour, two digits each; "24:00" is accepted).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("time of day %q: want HH:MM", safetext.Truncate(s, 32))
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[0] == '-' || s[3] == '+' || s[3] == '-' {
		return 0, fmt.Errorf("time of day %q: want HH:MM with digits", s)
	}
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time of day %q: out of range 00:00–24:00", s)
	}
	return TimeOfDay(h*60 + m), nil
}

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// Interval is a half-open span [Start, End) of local wall-clock time within one day.
type Interval struct {
	Start, End TimeOfDay
}

// ParseInterval reads "HH:MM-HH:MM", for example "09:00-20:00".
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Interval{}, fmt.Errorf("interval %q: want HH:MM-HH:MM", safetext.Truncate(s, 32))
	}
	start, err := ParseTimeOfDay(a)
	if err != nil {
		return Interval{}, fmt.Errorf("interval start: %w", err)
	}
	end, err := ParseTimeOfDay(b)
	if err != nil {
		return Interval{}, fmt.Errorf("interval end: %w", err)
	}
	iv := Interval{start, end}
	return iv, iv.validate()
}

func (iv Interval) String() string { return iv.Start.String() + "-" + iv.End.String() }

func (iv Interval) validate() error {
	switch {
	case iv.Start < 0 || iv.Start >= EndOfDay:
		return fmt.Errorf("interval %s: start out of range 00:00–23:59", iv)
	case iv.End <= 0 || iv.End > EndOfDay:
		return fmt.Errorf("interval %s: end out of range 00:01–24:00", iv)
	case iv.End <= iv.Start:
		return fmt.Errorf("interval %s: end is not after start (an interval cannot cross midnight: split it over two days)", iv)
	}
	return nil
}

// ParseWeekday reads an English weekday name in any case ("monday", "Sunday").
func ParseWeekday(s string) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("weekday %q: want monday to sunday", safetext.Truncate(s, 32))
}

// Date is a calendar date in the callee's local time.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", safetext.Truncate(s, 32))
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

func (d Date) valid() bool {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Year() == d.Year && t.Month() == d.Month && t.Day() == d.Day
}

// Policy says when a campaign may call, in the callee's local time.
type Policy struct {
	// Week holds the calling intervals of each weekday, indexed by time.Weekday
	// (Week[time.Sunday] ...). A day without intervals is closed.
	Week [7][]Interval
	// Restricted dates (holidays) are closed all day, in each zone's own local date.
	Restricted []Date
	// FallbackZone is the IANA zone used when a number's zone is unknown and UnknownZone is
	// UnknownZoneFallback. It must load whatever UnknownZone says.
	FallbackZone string
	// USCallingHours, when set, makes Validate refuse any interval outside 08:00–21:00,
	// the hours of the US Telemarketing Sales Rule (16 CFR 310.4(c)) and the FCC's
	// 47 CFR 64.1200(c)(1). It is a check, not a clamp: a policy that breaks it is refused.
	USCallingHours bool
	// TrustRecordZone, a campaign setting, lets a recipient record's own zone decide alone. By
	// default (false) the record's zone is checked with the number's zones: a 212 number whose
	// record says Los Angeles is called only when the window is open in New York and in Los
	// Angeles. A mobile abroad has every zone of its country as the number's zones, so only this
	// setting lets a record zone narrow them.
	TrustRecordZone bool
	// UnknownZone says what a number that gives no zone, with no record zone, gets:
	// UnknownZoneRefuse (the default, also for ""): Callee fails with ErrNoZoneForNumber, for the
	// caller to finalise the recipient with the reason; UnknownZoneFallback: FallbackZone.
	UnknownZone UnknownZone
	// Legal are the legal calling hours applied on top of Week: a deployment setting
	// (ParseLegalHours), never a campaign's. The zero value is the built-in table.
	Legal LegalRules
}

// UnknownZone is the policy for a number whose zones are unknown.
type UnknownZone string

const (
	// UnknownZoneRefuse refuses to guess: ErrNoZoneForNumber.
	UnknownZoneRefuse UnknownZone = "refuse"
	// UnknownZoneFallback uses the policy's FallbackZone and says so in Zones.Reason.
	UnknownZoneFallback UnknownZone = "fallback"
)

// USHours is the 08:00–21:00 callee-local span of the US rules (TSR and FCC).
var USHours = Interval{Start: 8 * 60, End: 21 * 60}

// MaxRestricted bounds the restricted-date list a policy may carry.
const MaxRestricted = 1000

// MaxIntervalsPerDay bounds the intervals of one weekday.
const MaxIntervalsPerDay = 24

// DefaultPolicy is the safe default: 09:00–20:00 Monday to Saturday, Sunday closed, no
// restricted dates, with the given fallback zone, and the US hours check on.
func DefaultPolicy(fallbackZone string) Policy {
	p := Policy{FallbackZone: fallbackZone, USCallingHours: true}
	for d := time.Monday; d <= time.Saturday; d++ {
		p.Week[d] = []Interval{{9 * 60, 20 * 60}}
	}
	return p
}

// ErrInvalidPolicy wraps every error Validate returns.
var ErrInvalidPolicy = errors.New("invalid calling-window policy")

// Validate checks the policy: each interval in range and non-empty, no overlapping intervals
// on a day, at least one open interval in the week, real restricted dates, a loadable
// fallback zone, a known UnknownZone, and, when USCallingHours is set, every interval inside
// 08:00–21:00. Legal hours that leave no opening are not an error here: NextOpening says so.
func (p Policy) Validate() error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	return nil
}

func (p Policy) validate() error {
	if _, err := loadZone(p.FallbackZone); err != nil {
		return fmt.Errorf("fallback zone: %w", err)
	}
	switch p.UnknownZone {
	case "", UnknownZoneRefuse, UnknownZoneFallback:
	default:
		return fmt.Errorf("unknown-zone policy %q: want %q or %q", safetext.Truncate(string(p.UnknownZone), 32), UnknownZoneRefuse, UnknownZoneFallback)
	}
	open := false
	for d := time.Sunday; d <= time.Saturday; d++ {
		ivs := p.Week[d]
		if len(ivs) > MaxIntervalsPerDay {
			return fmt.Errorf("%s: %d intervals, at most %d", d, len(ivs), MaxIntervalsPerDay)
		}
		for _, iv := range ivs {
			if err := iv.validate(); err != nil {
				return fmt.Errorf("%s: %w", d, err)
			}
		}
		sorted := slices.Clone(ivs)
		slices.SortFunc(sorted, func(a, b Interval) int { return int(a.Start - b.Start) })
		for i := 1; i < len(sorted); i++ {
			if sorted[i].Start < sorted[i-1].End {
				return fmt.Errorf("%s: intervals %s and %s overlap", d, sorted[i-1], sorted[i])
			}
		}
		open = open || len(ivs) > 0
	}
	if !open {
		return errors.New("no calling interval on any day of the week")
	}
	if p.USCallingHours {
		if err := p.CheckWithin(USHours); err != nil {
			return fmt.Errorf("%w (USCallingHours is set: the US TSR/FCC limit is 08:00–21:00 callee-local)", err)
		}
	}
	if len(p.Restricted) > MaxRestricted {
		return fmt.Errorf("%d restricted dates, at most %d", len(p.Restricted), MaxRestricted)
	}
	for _, d := range p.Restricted {
		if !d.valid() {
			return fmt.Errorf("restricted date %s is not a calendar date", d)
		}
	}
	return nil
}

// CheckWithin reports the first interval of the week that is not inside limit.
func (p Policy) CheckWithin(limit Interval) error {
	for d := time.Sunday; d <= time.Saturday; d++ {
		for _, iv := range p.Week[d] {
			if iv.Start < limit.Start || iv.End > limit.End {
				return fmt.Errorf("%s: interval %s is outside %s", d, iv, limit)
			}
		}
	}
	return nil
}
