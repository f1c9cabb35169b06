package pacing

import (
	"math"
	"testing"
	"time"
)

// Throttles halve the rate down to a tenth; each quiet second adds a twentieth back, up to the
// configured rate. The expected rates are worked out by hand from those two rules.
func TestAIMD(t *testing.T) {
	t0 := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	a := NewAIMD(20)
	steps := []struct {
		at       time.Duration
		throttle bool
		want     float64
	}{
		{0, false, 20},
		{0, true, 10},
		{0, true, 5},
		{0, true, 2.5},
		{0, true, 2},            // the floor, 20/10
		{time.Second, false, 3}, // + 20/20 a second
		{5 * time.Second, false, 7},
		{5 * time.Second, true, 3.5},
		{30 * time.Second, false, 20}, // back to the ceiling, never above
		{29 * time.Second, false, 20}, // a clock that steps back changes nothing
	}
	for i, s := range steps {
		var got float64
		if s.throttle {
			got = a.Throttled(t0.Add(s.at))
		} else {
			got = a.Rate(t0.Add(s.at))
		}
		if math.Abs(got-s.want) > 1e-9 {
			t.Errorf("step %d (%v, throttle %v): rate %v, want %v", i, s.at, s.throttle, got, s.want)
		}
	}
}
