// Package latency is a seeded model of how long a service takes to answer each operation: a
// log-normal distribution per operation, given by its median and its 99th percentile. connectsim
// and the DynamoDB fault proxy wait a draw from it on every request, so that a benchmark sees
// the latency of the real services instead of none at all.
//
// Log-normal because service latencies are skewed to the right with a long tail: the median is
// e^μ, and the 99th percentile e^(μ + 2.3263σ), so σ = ln(p99/median)/2.3263.
package latency

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// z99 is the standard normal's 99th percentile.
const z99 = 2.3263478740408408

// Dist is one operation's latency: log-normal with this median and 99th percentile.
type Dist struct {
	Median, P99 time.Duration
}

func (d Dist) String() string { return d.Median.String() + "/" + d.P99.String() }

// sample draws one latency from the standard normal draw z.
func (d Dist) sample(z float64) time.Duration {
	if d.Median <= 0 {
		return 0
	}
	sigma := 0.0
	if d.P99 > d.Median {
		sigma = math.Log(float64(d.P99)/float64(d.Median)) / z99
	}
	return time.Duration(float64(d.Median) * math.Exp(sigma*z))
}

// Model is a latency distribution per operation ("*" for every other one). It is safe for
// concurrent use; for a given seed and order of requests its draws are the same.
type Model struct {
	mu   sync.Mutex
	rng  *rand.Rand
	ops  map[string]Dist
	spec string
}

// New returns a model of ops (an operation name, or "*" for every other one), seeded.
func New(ops map[string]Dist, seed uint64) (*Model, error) {
	var names []string
	for op, d := range ops {
		if d.Median < 0 || d.P99 < 0 || (d.P99 > 0 && d.P99 < d.Median) {
			return nil, fmt.Errorf("latency: %s: median %v, p99 %v: want 0 <= median <= p99", op, d.Median, d.P99)
		}
		if d.Median > time.Minute || d.P99 > 10*time.Minute {
			return nil, fmt.Errorf("latency: %s: median %v, p99 %v: want at most 1m and 10m", op, d.Median, d.P99)
		}
		names = append(names, op+"="+d.String())
	}
	sort.Strings(names)
	return &Model{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ops: ops, spec: strings.Join(names, ",")}, nil
}

// Parse reads a model from "Op=median/p99,...": for example
// "StartOutboundVoiceContact=150ms/600ms,*=30ms/120ms". An empty spec is no latency (nil).
func Parse(spec string, seed uint64) (*Model, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	ops := map[string]Dist{}
	for _, part := range strings.Split(spec, ",") {
		op, rest, ok := strings.Cut(strings.TrimSpace(part), "=")
		med, p99, ok2 := strings.Cut(rest, "/")
		if !ok || !ok2 || op == "" {
			return nil, fmt.Errorf("latency: %q: want Operation=median/p99 (for example StartOutboundVoiceContact=150ms/600ms)", part)
		}
		m, err1 := time.ParseDuration(med)
		p, err2 := time.ParseDuration(p99)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("latency: %q: median and p99 are durations (150ms, 1.2s)", part)
		}
		if _, dup := ops[op]; dup {
			return nil, fmt.Errorf("latency: %s given twice", op)
		}
		ops[op] = Dist{Median: m, P99: p}
	}
	return New(ops, seed)
}

// Sample draws the latency of one request of op. A nil model has none.
func (m *Model) Sample(op string) time.Duration {
	if m == nil {
		return 0
	}
	d, ok := m.ops[op]
	if !ok {
		d = m.ops["*"]
	}
	m.mu.Lock()
	z := m.rng.NormFloat64()
	m.mu.Unlock()
	return d.sample(z)
}

// String is the model as Parse reads it, operations in order.
func (m *Model) String() string {
	if m == nil {
		return "none"
	}
	return m.spec
}
