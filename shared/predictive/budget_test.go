package predictive_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

func at(day, h, m int) time.Time { return time.Date(2027, 3, day, h, m, 0, 0, time.UTC) }

func times(t time.Time, n int, f func(time.Time)) {
	for range n {
		f(t)
	}
}

func TestBudgetWindows(t *testing.T) {
	now := at(10, 12, 30)
	var b predictive.Budget
	times(at(10, 11, 10), 100, b.Answered) // 1 h 20 min ago
	b.Abandoned(at(10, 11, 10))            // one of them
	b.Abandoned(at(9, 11, 29))             // 25 h 01 min ago: in 30 days, not in 24 hours
	times(at(9, 12, 10), 50, b.Answered)   // 24 h 20 min ago: outside 24 hours
	times(at(9, 13, 40), 40, b.Answered)   // 22 h 50 min ago: in the bucket 13:00, which leaves the window in the next hour
	times(at(9, 14, 0), 30, b.Answered)    // 22 h 30 min ago: the bucket 14:00 stays in every window of the next hour
	times(at(1, 6, 0), 1000, b.Answered)   // 9 days ago
	b.Abandoned(at(1, 6, 0))
	times(time.Date(2027, 2, 1, 6, 0, 0, 0, time.UTC), 500, b.Answered) // 37 days ago: in no window
	b.Abandoned(time.Date(2027, 2, 1, 6, 0, 0, 0, time.UTC))

	windows := predictive.DefaultWindows(at(1, 0, 0))
	a := b.Remaining(now, 0.03, windows)
	// By hand, with the counting rule of Remaining (live calls of buckets starting at or after
	// now + 1 h − length; abandoned calls of buckets ending after now − length):
	//   24h: live 100 + 30 = 130 (12:00 and 13:00 yesterday start before 13:30 yesterday);
	//        abandoned 1 (11:00 yesterday ends at 12:00, before 12:30 yesterday).
	//        Slack 0.03 × 130 − 1 = 2.9; allowed floor(2.9 / 0.97) = floor(2.9897) = 2.
	//   30d: live 100 + 50 + 40 + 30 + 1000 = 1220; abandoned 1 + 1 + 1 = 3.
	//        Slack 36.6 − 3 = 33.6; allowed floor(33.6 / 0.97) = floor(34.639) = 34.
	//   30d-period from 1 March 00:00: the same calls as 30d (none before 1 March counts).
	want := []struct {
		name                string
		answered, abandoned int
		slack               float64
		allowed             int
	}{
		{"24h", 130, 1, 2.9, 2},
		{"30d", 1220, 3, 33.6, 34},
		{"30d-period", 1220, 3, 33.6, 34},
	}
	if len(a.Windows) != len(want) {
		t.Fatalf("%d windows, want %d: %+v", len(a.Windows), len(want), a.Windows)
	}
	for i, w := range want {
		g := a.Windows[i]
		if g.Window.Name != w.name || g.Answered != w.answered || g.Abandoned != w.abandoned || !near(g.Slack, w.slack, 1e-9) || g.Allowed != w.allowed {
			t.Errorf("window %d: %s %d/%d slack %v allowed %d; want %s %d/%d slack %v allowed %d",
				i, g.Window.Name, g.Abandoned, g.Answered, g.Slack, g.Allowed, w.name, w.abandoned, w.answered, w.slack, w.allowed)
		}
		if !near(g.Rate, float64(w.abandoned)/float64(w.answered), 1e-12) {
			t.Errorf("%s: rate %v", w.name, g.Rate)
		}
	}
	if a.Binding != 0 || a.Slack() != a.Windows[0].Slack || a.Allowed() != 2 {
		t.Errorf("binding %d slack %v allowed %d; want the 24h window, 2.9, 2", a.Binding, a.Slack(), a.Allowed())
	}
	if !a.Windows[0].From.Equal(at(9, 12, 30)) || !a.Windows[2].From.Equal(at(1, 0, 0)) {
		t.Errorf("window starts %v, %v", a.Windows[0].From, a.Windows[2].From)
	}

	// Pruning keeps 30 days and two hours: the 1 February bucket goes, the rest stays.
	n := len(b.Buckets)
	b.Prune(now, predictive.DefaultRetention)
	if len(b.Buckets) != n-1 || b.Buckets[0].Hour != at(1, 6, 0).Unix()/3600 {
		t.Errorf("after pruning: %d buckets (was %d), first %+v", len(b.Buckets), n, b.Buckets[0])
	}
	if again := b.Remaining(now, 0.03, windows); again.Windows[1].Answered != 1220 {
		t.Errorf("pruning changed the 30d window: %+v", again.Windows[1])
	}
	// Pruning to an hour keeps only the bucket of 11:00 today (it ends after 11:30).
	b.Prune(now, time.Hour)
	if len(b.Buckets) != 1 || b.Buckets[0].Answered != 100 {
		t.Errorf("after pruning to an hour: %+v", b.Buckets)
	}
}

func TestBudgetOverTarget(t *testing.T) {
	// 4 of 100 abandoned: 4 % is over 3 %; slack 3 − 4 = −1, nothing allowed.
	var b predictive.Budget
	times(at(10, 9, 0), 100, b.Answered)
	times(at(10, 9, 0), 4, b.Abandoned)
	a := b.Remaining(at(10, 12, 0), 0.03, predictive.DefaultWindows(time.Time{}))
	if len(a.Windows) != 2 {
		t.Fatalf("a zero campaign start leaves out the periods: %d windows", len(a.Windows))
	}
	for _, w := range a.Windows {
		if w.Allowed != 0 || !near(w.Slack, -1, 1e-12) || !near(w.Rate, 0.04, 1e-12) {
			t.Errorf("%s: slack %v allowed %d rate %v; want -1, 0, 0.04", w.Window.Name, w.Slack, w.Allowed, w.Rate)
		}
	}
}

func TestBudgetPeriods(t *testing.T) {
	start := at(1, 0, 0)
	month := []predictive.Window{{Name: "30d-period", Length: predictive.Month, Anchor: start}}
	var b predictive.Budget
	times(at(30, 12, 0), 1000, b.Answered) // in the first period
	end := start.Add(predictive.Month)     // 31 March 00:00, the second period's start

	// In the last hour of a period, the next period counts too, and allows nothing.
	a := b.Remaining(end.Add(-30*time.Minute), 0.03, month)
	if len(a.Windows) != 2 || a.Windows[0].Answered != 1000 || a.Windows[1].Answered != 0 || a.Allowed() != 0 || a.Binding != 1 || !a.Windows[1].From.Equal(end) {
		t.Errorf("last half hour of the period: %+v", a)
	}
	// Two hours before the end, only the current period.
	if a := b.Remaining(end.Add(-2*time.Hour), 0.03, month); len(a.Windows) != 1 || a.Allowed() != 30 {
		t.Errorf("two hours before the end: %+v", a)
	}
	// In the new period the old calls do not count: it starts from nothing ...
	a = b.Remaining(end.Add(10*time.Minute), 0.03, month)
	if len(a.Windows) != 1 || a.Windows[0].Answered != 0 || a.Allowed() != 0 {
		t.Errorf("the new period: %+v", a)
	}
	// ... and its own calls count from its first bucket.
	times(end.Add(5*time.Minute), 100, b.Answered)
	if a := b.Remaining(end.Add(10*time.Minute), 0.03, month); a.Windows[0].Answered != 100 || a.Allowed() != 3 {
		t.Errorf("the new period's calls: %+v", a.Windows[0])
	}
	// An anchor inside an hour: the bucket holding it mixes two periods, so its live calls are
	// not counted for the later period, and its abandoned calls are.
	mid := []predictive.Window{{Name: "mid", Length: 2 * time.Hour, Anchor: at(10, 8, 30)}}
	var c predictive.Budget
	times(at(10, 10, 10), 10, c.Answered) // bucket 10:00 holds the period start 10:30
	c.Abandoned(at(10, 10, 10))
	times(at(10, 11, 10), 20, c.Answered)
	if a := c.Remaining(at(10, 11, 20), 0.03, mid); a.Windows[0].Answered != 20 || a.Windows[0].Abandoned != 1 {
		t.Errorf("anchor inside an hour: %+v", a.Windows[0])
	}
}

func TestBudgetOrderAndJSON(t *testing.T) {
	var b predictive.Budget
	b.Answered(at(10, 12, 5))
	b.Answered(at(10, 9, 59)) // out of order: a late record
	b.Abandoned(at(10, 12, 59))
	b.Answered(at(10, 12, 0))
	// 2027-03-10 12:00 UTC is 1,804,680,000 s after the epoch (date -u -d ... +%s), hour 501,300.
	want := `{"buckets":[{"h":501297,"n":1},{"h":501300,"n":2,"a":1}]}`
	got, err := json.Marshal(b)
	if err != nil || string(got) != want {
		t.Fatalf("JSON %s, %v; want %s", got, err, want)
	}
	var back predictive.Budget
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	x := b.Remaining(at(10, 13, 0), 0.03, predictive.DefaultWindows(time.Time{}))
	y := back.Remaining(at(10, 13, 0), 0.03, predictive.DefaultWindows(time.Time{}))
	if x.Windows[0].Answered != y.Windows[0].Answered || x.Windows[0].Abandoned != y.Windows[0].Abandoned {
		t.Errorf("round trip changed the counts: %+v vs %+v", x, y)
	}
	// Thirty days around the clock, 200 live calls and a few abandoned an hour: the stored size.
	var month predictive.Budget
	for h := range 30 * 24 {
		at := at(1, 0, 0).Add(time.Duration(h) * time.Hour)
		times(at, 200, month.Answered)
		times(at, h%7, month.Abandoned)
	}
	if j, _ := json.Marshal(month); len(j) > 22000 {
		t.Errorf("30 days of buckets: %d bytes of JSON, want at most 22,000", len(j))
	} else {
		t.Logf("30 days of buckets: %d bytes of JSON", len(j))
	}
	// Before the epoch, an hour is still the floor: 23:30 on 31 December 1969 is hour -1.
	var e predictive.Budget
	e.Answered(time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC))
	if e.Buckets[0].Hour != -1 {
		t.Errorf("hour %d, want -1", e.Buckets[0].Hour)
	}
}

func TestAllowanceZero(t *testing.T) {
	var a predictive.Allowance
	if a.Slack() != 0 || a.Allowed() != 0 {
		t.Errorf("the zero allowance allows %v, %d; want nothing", a.Slack(), a.Allowed())
	}
	var b predictive.Budget
	if r := b.Remaining(at(10, 12, 0), 0.03, nil); r.Binding != -1 || r.Allowed() != 0 {
		t.Errorf("no window: %+v", r)
	}
}

func TestWindowValidate(t *testing.T) {
	for _, w := range predictive.DefaultWindows(at(1, 0, 0)) {
		if err := w.Validate(); err != nil {
			t.Errorf("%s: %v", w.Name, err)
		}
	}
	for _, l := range []time.Duration{0, time.Hour, 90 * time.Minute, -predictive.Day} {
		if err := (predictive.Window{Name: "x", Length: l}).Validate(); err == nil || !strings.Contains(err.Error(), "whole hours") {
			t.Errorf("length %v: %v", l, err)
		}
	}
}
