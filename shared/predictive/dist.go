package predictive

import (
	"math"
	"sort"
	"time"
)

// The bins of every Hist, in seconds: 1 s wide up to a minute (times to answer, 15 to 60 s of
// ringing, and after-contact work), 10 s up to 10 minutes (talk), a minute up to an hour, ten
// minutes up to four hours. A duration at or past the last edge falls in the last bin.
var binEdges = func() []float64 {
	var e []float64
	for s := 0.0; s < 60; s++ {
		e = append(e, s)
	}
	for s := 60.0; s < 600; s += 10 {
		e = append(e, s)
	}
	for s := 600.0; s < 3600; s += 60 {
		e = append(e, s)
	}
	for s := 3600.0; s <= 4*3600; s += 600 {
		e = append(e, s)
	}
	return e
}()

// bins is the number of bins of a Hist.
var bins = len(binEdges) - 1

// binOf returns the bin of x seconds (clamped to the first and the last bin).
func binOf(x float64) int {
	switch {
	case x < 0 || math.IsNaN(x):
		return 0
	case x < 60:
		return int(x)
	case x < 600:
		return 60 + int((x-60)/10)
	case x < 3600:
		return 60 + 54 + int((x-600)/60)
	default:
		return min(60+54+50+int((x-3600)/600), bins-1)
	}
}

// Hist is an exponentially weighted histogram of durations: each observation adds 1 to its
// bin after every bin has been multiplied by 1 − 1/memory, so an observation weighs half as
// much after about 0.69 × memory newer ones, and the total weight tends to memory. It is plain
// data so that the integrator can store it (JSON); change it only with Observe.
type Hist struct {
	// W is the weight of each bin (nil until the first observation).
	W []float64 `json:"w,omitempty"`
	// N counts the observations ever made (not weighted).
	N int `json:"n"`
}

// Observe adds a duration. memory is the number of observations after which an old one weighs
// 1/e as much (at least 1).
func (h *Hist) Observe(d time.Duration, memory float64) {
	if len(h.W) != bins {
		h.W = make([]float64, bins)
	}
	keep := decay(memory)
	total := 0.0
	for i := range h.W {
		h.W[i] *= keep
		total += h.W[i]
	}
	h.W[binOf(d.Seconds())]++
	total++
	// Drop weights too small to matter, so that a long-running histogram stays sparse.
	for i, w := range h.W {
		if w < 1e-9*total {
			h.W[i] = 0
		}
	}
	h.N++
}

func decay(memory float64) float64 {
	if !(memory >= 1) {
		return 0
	}
	return 1 - 1/memory
}

// Dist returns the distribution the histogram describes now.
func (h Hist) Dist() Dist {
	d := Dist{cum: make([]float64, bins+1)}
	for i := 0; i < bins && i < len(h.W); i++ {
		d.cum[i+1] = d.cum[i] + h.W[i]
	}
	d.weight = d.cum[bins]
	if d.weight > 0 {
		for i := range d.cum {
			d.cum[i] /= d.weight
		}
	}
	return d
}

// Dist is a distribution of durations: a histogram's normalised cumulative weights, uniform
// within each bin. The zero Dist is empty: every duration has probability 0.
type Dist struct {
	cum    []float64
	weight float64
}

// Weight is the effective number of observations behind the distribution.
func (d Dist) Weight() float64 { return d.weight }

// Empty reports whether the distribution has no observations.
func (d Dist) Empty() bool { return d.weight <= 0 }

// CDF returns P(X ≤ x).
func (d Dist) CDF(x time.Duration) float64 { return d.cdf(x.Seconds()) }

func (d Dist) cdf(s float64) float64 {
	if d.weight <= 0 || s <= 0 {
		return 0
	}
	if s >= binEdges[bins] {
		return 1
	}
	i := binOf(s)
	lo, hi := binEdges[i], binEdges[i+1]
	return d.cum[i] + (d.cum[i+1]-d.cum[i])*(s-lo)/(hi-lo)
}

// Quantile returns the smallest x with P(X ≤ x) ≥ q (q in [0, 1]); 0 for an empty
// distribution.
func (d Dist) Quantile(q float64) time.Duration {
	return time.Duration(d.quantile(q) * float64(time.Second))
}

func (d Dist) quantile(q float64) float64 {
	if d.weight <= 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	// The first bin whose upper cumulative weight reaches q.
	i := sort.Search(bins, func(i int) bool { return d.cum[i+1] >= q })
	if i >= bins {
		i = bins - 1
	}
	lo, hi := binEdges[i], binEdges[i+1]
	mass := d.cum[i+1] - d.cum[i]
	if mass <= 0 {
		return lo
	}
	return lo + (hi-lo)*(q-d.cum[i])/mass
}

// Mean returns the mean of the distribution (bins taken at their midpoints).
func (d Dist) Mean() time.Duration {
	if d.weight <= 0 {
		return 0
	}
	m := 0.0
	for i := 0; i < bins; i++ {
		m += (d.cum[i+1] - d.cum[i]) * (binEdges[i] + binEdges[i+1]) / 2
	}
	return time.Duration(m * float64(time.Second))
}
