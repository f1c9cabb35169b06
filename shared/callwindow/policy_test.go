package callwindow

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	good := map[string]Interval{"09:00-20:00": {540, 1200}, "00:00-24:00": {0, 1440}, "08:15-08:45": {495, 525}}
	for s, want := range good {
		if got, err := ParseInterval(s); err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	bad := map[string]string{
		"9:00-20:00":  "want HH:MM",
		"09:00":       "want HH:MM-HH:MM",
		"09:60-20:00": "out of range",
		"24:01-24:30": "out of range",
		"25:00-26:00": "out of range",
		"20:00-09:00": "end is not after start",
		"09:00-09:00": "end is not after start",
		"24:00-24:00": "start out of range",
		"ab:cd-20:00": "digits",
		"+9:00-20:00": "digits",
	}
	for s, want := range bad {
		if _, err := ParseInterval(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseInterval(%q) error = %v; want one containing %q", s, err, want)
		}
	}
	if d, err := ParseDate("2026-12-25"); err != nil || d != (Date{2026, time.December, 25}) {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	for _, s := range []string{"2026-02-30", "25/12/2026", ""} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
}

func TestParseWeekday(t *testing.T) {
	for s, want := range map[string]time.Weekday{"monday": time.Monday, "Sunday": time.Sunday, "SATURDAY": time.Saturday} {
		if got, err := ParseWeekday(s); err != nil || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"mon", "", "lundi", "monday "} {
		if _, err := ParseWeekday(s); err == nil || !strings.Contains(err.Error(), "want monday to sunday") {
			t.Errorf("ParseWeekday(%q) = %v", s, err)
		}
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy("America/New_York")
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(p.Week[time.Sunday]) != 0 || !p.USCallingHours {
		t.Errorf("default: Sunday %v, US hours %v; want closed and on", p.Week[time.Sunday], p.USCallingHours)
	}
	for d := time.Monday; d <= time.Saturday; d++ {
		if len(p.Week[d]) != 1 || p.Week[d][0] != (Interval{540, 1200}) {
			t.Errorf("default %s = %v, want 09:00-20:00", d, p.Week[d])
		}
	}
}

func TestValidateRejects(t *testing.T) {
	base := func() Policy { return DefaultPolicy("UTC") }
	tests := []struct {
		name   string
		change func(*Policy)
		want   string
	}{
		{"no fallback zone", func(p *Policy) { p.FallbackZone = "" }, "fallback zone: unknown time zone: empty"},
		{"unknown fallback zone", func(p *Policy) { p.FallbackZone = "Europe/Atlantis" }, `"Europe/Atlantis"`},
		{"Local fallback", func(p *Policy) { p.FallbackZone = "Local" }, "not a callee zone"},
		{"end before start", func(p *Policy) { p.Week[time.Monday] = []Interval{{1200, 540}} }, "Monday: interval 20:00-09:00: end is not after start"},
		{"bad time", func(p *Policy) { p.Week[time.Tuesday] = []Interval{{-5, 600}} }, "Tuesday"},
		{"past midnight", func(p *Policy) { p.Week[time.Tuesday] = []Interval{{600, 1500}} }, "end out of range"},
		{"overlap", func(p *Policy) {
			p.Week[time.Friday] = []Interval{{13 * 60, 17 * 60}, {9 * 60, 14 * 60}}
		}, "Friday: intervals 09:00-14:00 and 13:00-17:00 overlap"},
		{"all closed", func(p *Policy) { p.Week = [7][]Interval{} }, "no calling interval on any day"},
		{"before 08:00 with US hours", func(p *Policy) { p.Week[time.Monday] = []Interval{{7*60 + 30, 12 * 60}} }, "Monday: interval 07:30-12:00 is outside 08:00-21:00 (USCallingHours is set"},
		{"after 21:00 with US hours", func(p *Policy) { p.Week[time.Saturday] = []Interval{{9 * 60, 21*60 + 1}} }, "Saturday: interval 09:00-21:01 is outside 08:00-21:00"},
		{"not a date", func(p *Policy) { p.Restricted = []Date{{2026, time.February, 29}} }, "restricted date 2026-02-29 is not a calendar date"},
		{"too many intervals", func(p *Policy) {
			p.USCallingHours = false
			p.Week[time.Monday] = nil
			for i := 0; i < 25; i++ {
				p.Week[time.Monday] = append(p.Week[time.Monday], Interval{TimeOfDay(i * 50), TimeOfDay(i*50 + 10)})
			}
		}, "25 intervals, at most 24"},
		{"too many restricted dates", func(p *Policy) { p.Restricted = make([]Date, 1001) }, "1001 restricted dates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.change(&p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v; want ErrInvalidPolicy containing %q", err, tt.want)
			}
			if _, err := NewCalendar(p); err == nil {
				t.Error("NewCalendar accepted the policy")
			}
		})
	}
}

func TestUSHoursIsAnOption(t *testing.T) {
	p := DefaultPolicy("UTC")
	p.Week[time.Monday] = []Interval{{7 * 60, 22 * 60}}
	if err := p.Validate(); err == nil {
		t.Fatal("07:00-22:00 accepted with USCallingHours")
	}
	p.USCallingHours = false
	if err := p.Validate(); err != nil {
		t.Fatalf("without USCallingHours: %v", err)
	}
	// Not clamped: the calendar keeps 07:00 (07:00 UTC on Monday 2026-03-02).
	k, _ := mustCalendar(t, p).Callee("", "UTC")
	check(t, k, []step{{at: "2026-03-02T07:00:00Z", allowed: true, next: "2026-03-02T07:00:00Z", until: "2026-03-02T22:00:00Z"}})
	if err := p.CheckWithin(USHours); err == nil || !strings.Contains(err.Error(), "07:00-22:00") {
		t.Errorf("CheckWithin = %v", err)
	}
}

func TestNoOpening(t *testing.T) {
	p := DefaultPolicy("UTC")
	// Restrict the 16 days from Monday 2026-03-02: nothing opens within the 14-day horizon.
	for i := 0; i < 16; i++ {
		d := time.Date(2026, time.March, 2+i, 0, 0, 0, 0, time.UTC)
		p.Restricted = append(p.Restricted, Date{d.Year(), d.Month(), d.Day()})
	}
	k, _ := mustCalendar(t, p).Callee("", "UTC")
	check(t, k, []step{{at: "2026-03-02T00:00:00Z", noOpeningOK: true}})

	// Merged windows across midnight: 20:00-24:00 Monday and 00:00-02:00 Tuesday are one.
	q := Policy{FallbackZone: "UTC"}
	q.Week[time.Monday] = []Interval{{20 * 60, EndOfDay}}
	q.Week[time.Tuesday] = []Interval{{0, 2 * 60}}
	k, _ = mustCalendar(t, q).Callee("", "UTC")
	check(t, k, []step{{at: "2026-03-02T21:00:00Z", allowed: true, next: "2026-03-02T21:00:00Z", until: "2026-03-03T02:00:00Z"}})

	// Always open: Until reports the horizon.
	var all Policy
	all.FallbackZone = "UTC"
	for d := range all.Week {
		all.Week[d] = []Interval{{0, EndOfDay}}
	}
	k, _ = mustCalendar(t, all).Callee("", "UTC")
	check(t, k, []step{{at: "2026-03-02T00:00:00Z", allowed: true, next: "2026-03-02T00:00:00Z", until: "2026-03-16T00:00:00Z"}})
}
