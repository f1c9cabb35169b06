package latency

import (
	"slices"
	"testing"
	"time"
)

// The draws' median and 99th percentile are the model's, within sampling error: 20,000 draws put
// the empirical percentiles within a few per cent of the true ones.
func TestSamplePercentiles(t *testing.T) {
	m, err := Parse("StartOutboundVoiceContact=150ms/600ms,*=8ms/40ms", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		op          string
		median, p99 time.Duration
	}{
		{"StartOutboundVoiceContact", 150 * time.Millisecond, 600 * time.Millisecond},
		{"GetItem", 8 * time.Millisecond, 40 * time.Millisecond}, // "*"
	} {
		var xs []time.Duration
		for i := 0; i < 20000; i++ {
			xs = append(xs, m.Sample(c.op))
		}
		slices.Sort(xs)
		if got := xs[len(xs)/2]; !near(got, c.median, 0.05) {
			t.Errorf("%s: median %v, want %v", c.op, got, c.median)
		}
		if got := xs[len(xs)*99/100]; !near(got, c.p99, 0.10) {
			t.Errorf("%s: p99 %v, want %v", c.op, got, c.p99)
		}
	}
}

func near(got, want time.Duration, tol float64) bool {
	d := float64(got-want) / float64(want)
	return d > -tol && d < tol
}

// A seed gives the same draws; another gives others.
func TestSeeded(t *testing.T) {
	draw := func(seed uint64) []time.Duration {
		m, _ := Parse("*=10ms/50ms", seed)
		var out []time.Duration
		for i := 0; i < 5; i++ {
			out = append(out, m.Sample("PutItem"))
		}
		return out
	}
	if a, b := draw(7), draw(7); !slices.Equal(a, b) {
		t.Errorf("seed 7 twice: %v and %v", a, b)
	}
	if a, b := draw(7), draw(8); slices.Equal(a, b) {
		t.Errorf("seeds 7 and 8 drew the same: %v", a)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, spec := range []string{
		"StartOutboundVoiceContact", // no distribution
		"X=10ms",                    // no p99
		"X=ten/20ms",                // not a duration
		"X=50ms/10ms",               // p99 below the median
		"X=10ms/20ms,X=10ms/30ms",   // twice
		"=10ms/20ms",                // no operation
		"X=2m/3m",                   // median over a minute
	} {
		if _, err := Parse(spec, 1); err == nil {
			t.Errorf("Parse(%q) accepted", spec)
		}
	}
	if m, err := Parse("  ", 1); err != nil || m != nil {
		t.Errorf("an empty spec: %v, %v; want no model", m, err)
	}
	var none *Model
	if none.Sample("GetItem") != 0 {
		t.Error("a nil model has latency")
	}
	// An operation with no entry and no "*" has none.
	m, _ := Parse("GetItem=5ms/10ms", 1)
	if got := m.Sample("PutItem"); got != 0 {
		t.Errorf("PutItem: %v, want 0 (not in the model)", got)
	}
}
