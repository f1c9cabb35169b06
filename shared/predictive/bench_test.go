package predictive_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// steadyState is a campaign of agents in the simulation's workload at full pace: two
// available, a tenth of the rest in after-contact work, the others talking, and an eighth of a
// call ringing per agent, with 5 tokens and a large budget: the forecast runs for every call
// Decide considers, up to the one it refuses.
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
	for range agents / 8 {
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
	for _, agents := range []int{5, 20, 50, 200} { // 200: beyond the sizes
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
	// With 5 s of after-contact work, talking agents free within the horizon and enter the
	// forecast: every agent talking, one available.
	quick := realistic
	quick.acw = 5
	estQuick := trainedOn(quick)
	rng := rand.New(rand.NewPCG(50, 9))
	s := predictive.State{Now: now, AgentsKnown: true, Available: 1, MaxStart: 5, Estimates: estQuick, Allowance: allowance(5000, 0)}
	for range 49 {
		s.Busy = append(s.Busy, predictive.Busy{Since: now.Add(-secs(360 * rng.Float64()))})
	}
	for range 6 {
		s.Waiting = append(s.Waiting, predictive.Call{PlacedAt: now.Add(-secs(25 * rng.Float64()))})
	}
	b.Run("agents=50,wrap-up=5s", func(b *testing.B) {
		b.ReportAllocs()
		var d predictive.Decision
		for b.Loop() {
			d = predictive.Decide(s, cfg)
		}
		b.ReportMetric(float64(d.Calls), "calls")
	})
}

func BenchmarkRemaining(b *testing.B) {
	// A campaign dialling around the clock for 30 days: 721 buckets, three windows.
	var bud predictive.Budget
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	for h := range 30 * 24 {
		at := start.Add(time.Duration(h) * time.Hour)
		for range 200 {
			bud.Answered(at)
		}
		bud.Abandoned(at)
	}
	now := start.Add(30*predictive.Day + 30*time.Minute)
	w := predictive.DefaultWindows(start)
	b.ReportAllocs()
	for b.Loop() {
		bud.Remaining(now, 0.03, w)
	}
}

func BenchmarkObserve(b *testing.B) {
	e := predictive.NewEstimator(predictive.DefaultPrior, 0, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	for b.Loop() {
		e.Observe(workloadCall(rng))
	}
}
