package predictive_test

import (
	"math"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// noDecay is an infinite memory: 1 − 1/∞ keeps every weight at exactly 1.
var noDecay = math.Inf(1)

func hist(memory float64, ds ...time.Duration) predictive.Hist {
	var h predictive.Hist
	for _, d := range ds {
		h.Observe(d, memory)
	}
	return h
}

func TestDistHandBuilt(t *testing.T) {
	// Three answers in the bin [10 s, 11 s), one in [20 s, 21 s); uniform within a bin.
	d := hist(noDecay, 10500*time.Millisecond, 10200*time.Millisecond, 10900*time.Millisecond, 20500*time.Millisecond).Dist()
	cdf := []struct {
		x    time.Duration
		want float64
	}{
		{0, 0},
		{10 * time.Second, 0},
		{10500 * time.Millisecond, 0.375}, // half of the bin's 3/4
		{11 * time.Second, 0.75},
		{15 * time.Second, 0.75},
		{20500 * time.Millisecond, 0.875},
		{21 * time.Second, 1},
		{time.Hour, 1},
		{-time.Second, 0},
	}
	for _, c := range cdf {
		if got := d.CDF(c.x); !near(got, c.want, 1e-9) {
			t.Errorf("CDF(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	quantiles := []struct {
		q    float64
		want time.Duration
	}{
		{0.375, 10500 * time.Millisecond},
		{0.75, 11 * time.Second}, // the smallest x with CDF(x) ≥ 0.75
		{0.875, 20500 * time.Millisecond},
		{1, 21 * time.Second}, // the top of the last bin with weight
		{1.5, 21 * time.Second},
	}
	for _, c := range quantiles {
		if got := d.Quantile(c.q); (got - c.want).Abs() > time.Microsecond {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	// Mean at the bins' midpoints: 0.75 × 10.5 + 0.25 × 20.5 = 13 s.
	if m := d.Mean(); (m - 13*time.Second).Abs() > time.Microsecond {
		t.Errorf("Mean = %v, want 13s", m)
	}
	if w := d.Weight(); !near(w, 4, 1e-9) {
		t.Errorf("Weight = %v, want 4", w)
	}
}

func TestDistBins(t *testing.T) {
	// 1 s bins to 60 s, 10 s to 600 s, 60 s to an hour, 600 s to four hours, then the last bin.
	tests := []struct {
		obs        time.Duration
		x          time.Duration
		cdf        float64
		lo, hi     time.Duration // the bin: Quantile(0) of a one-observation histogram is its low edge
		descriptor string
	}{
		{59500 * time.Millisecond, 59500 * time.Millisecond, 0.5, 59 * time.Second, 60 * time.Second, "last 1 s bin"},
		{65 * time.Second, 65 * time.Second, 0.5, 60 * time.Second, 70 * time.Second, "first 10 s bin"},
		{599 * time.Second, 595 * time.Second, 0.5, 590 * time.Second, 600 * time.Second, "last 10 s bin"},
		{630 * time.Second, 615 * time.Second, 0.25, 600 * time.Second, 660 * time.Second, "first minute bin"},
		{3700 * time.Second, 3900 * time.Second, 0.5, 3600 * time.Second, 4200 * time.Second, "first 10 minute bin"},
		{10 * time.Hour, 14100 * time.Second, 0.5, 13800 * time.Second, 14400 * time.Second, "past four hours: the last bin"},
		{-time.Second, 500 * time.Millisecond, 0.5, 0, time.Second, "negative: the first bin"},
	}
	for _, tt := range tests {
		d := hist(noDecay, tt.obs).Dist()
		if got := d.CDF(tt.x); !near(got, tt.cdf, 1e-9) {
			t.Errorf("%s: CDF(%v) = %v, want %v", tt.descriptor, tt.x, got, tt.cdf)
		}
		if got := d.Quantile(1); got != tt.hi {
			t.Errorf("%s: Quantile(1) = %v, want %v", tt.descriptor, got, tt.hi)
		}
		if got := d.Quantile(1e-9); (got - tt.lo).Abs() > time.Millisecond {
			t.Errorf("%s: Quantile(0+) = %v, want %v", tt.descriptor, got, tt.lo)
		}
	}
}

func TestHistDecay(t *testing.T) {
	// Memory 2: each observation halves the older weights. 10.5 s then 20.5 s weigh 0.5 and 1,
	// so P(X ≤ 11 s) = 0.5 / 1.5.
	h := hist(2, 10500*time.Millisecond, 20500*time.Millisecond)
	if got := h.Dist().CDF(11 * time.Second); !near(got, 1.0/3, 1e-12) {
		t.Errorf("CDF(11s) = %v, want 1/3", got)
	}
	if h.N != 2 {
		t.Errorf("N = %d, want 2", h.N)
	}
	// Weights below 1e-9 of the total are dropped: after 40 halvings the first is 2⁻⁴⁰ ≈ 9e-13.
	for range 40 {
		h.Observe(30*time.Second, 2)
	}
	if d := h.Dist(); d.CDF(11*time.Second) != 0 || d.CDF(21*time.Second) != 0 {
		t.Errorf("old weights kept: CDF(11s) %v, CDF(21s) %v", d.CDF(11*time.Second), d.CDF(21*time.Second))
	}
}

func TestDistEmpty(t *testing.T) {
	var d predictive.Dist
	if !d.Empty() || d.CDF(time.Minute) != 0 || d.Quantile(0.5) != 0 || d.Mean() != 0 || d.Weight() != 0 {
		t.Error("the zero Dist is not empty")
	}
	if !(predictive.Hist{}).Dist().Empty() {
		t.Error("an empty histogram's distribution is not empty")
	}
}
