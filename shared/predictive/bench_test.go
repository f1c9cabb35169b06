package predictive_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// steadyState is a campaign of agents in the simulation's workload at full pace: two
// available, a tenth of the rest in after-contact work, the others talking, and a quarter of
// a call ringing per agent (the simulation's steady state), with 5 tokens and a large budget.
func steadyState(agents int, est predictive.Estimates) predictive.State {
	rng := rand.New(rand.NewPCG(uint64(agents), 9))
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	s := predictive.State{Now: now, AgentsKnown: true, Available: min(2, agents), MaxStart: 5, Estimates: est}
	for i := 2; i < agents; i++ {
		b := predictive.Busy{Since: now.Add(-secs(360 * rng.Float64()))}
		if i%10 == 0 {
			b = predictive.Busy{Since: now.Add(-secs(300)), WrapUpSince: now.Add(-secs(30 * rng.Float64()))}
		}
		s.Busy = append(s.Busy, b)
	}
	for range agents / 4 {
		s.Waiting = append(s.Waiting, predictive.Call{PlacedAt: now.Add(-secs(25 * rng.Float64()))})
	}
	var b predictive.Budget
	for h := range 24 {
		for range 50 * agents {
			b.Answered(now.Add(-time.Duration(h) * time.Hour))
		}
	}
	s.Allowance = b.Remaining(now, 0.03, predictive.DefaultWindows(now.Add(-48*time.Hour)))
	return s
}

func BenchmarkDecide(b *testing.B) {
	est := trained()
	cfg := predictive.DefaultConfig()
	for _, agents := range []int{5, 20, 50, 200} {
		s := steadyState(agents, est)
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			b.ReportAllocs()
			var d predictive.Decision
			for b.Loop() {
				d = predictive.Decide(s, cfg)
			}
			b.ReportMetric(float64(d.Calls), "calls")
		})
	}
}
