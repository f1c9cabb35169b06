package predictive_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestWilsonUpper(t *testing.T) {
	// Expected values from the formula in WilsonUpper's comment, worked by hand and checked
	// with Python's floats (not with this package); 3/10 and 0/10 at z = 1.96 are also the
	// published 95 % Wilson intervals (0.1078, 0.6032) and (0, 0.2775) of Newcombe, "Two-sided
	// confidence intervals for the single proportion", Statistics in Medicine 17 (1998) 857-872,
	// table I; 0/n has the closed form z²/(n + z²).
	tests := []struct {
		name        string
		successes   float64
		n, z, upper float64
	}{
		{"3 of 10 at 95 % two-sided", 3, 10, 1.96, 0.603227},
		{"0 of 10: z²/(n + z²) = 3.8416/13.8416", 0, 10, 1.96, 0.277540},
		{"10 of 10: the upper end is 1", 10, 10, 1.96, 1},
		{"300 of 1,000 at one-sided 95 %", 300, 1000, 1.6449, 0.324350},
		{"15 of 50 (a 5-agent campaign's first hour)", 15, 50, 1.6449, 0.414603},
		{"weighted counts: 1.5 of 5", 1.5, 5, 1.6449, 0.650706},
		{"z = 0 is the point estimate", 3, 10, 0, 0.3},
		{"no trials: nothing is known", 0, 0, 1.96, 1},
	}
	for _, tt := range tests {
		if got := predictive.WilsonUpper(tt.successes, tt.n, tt.z); !near(got, tt.upper, 5e-7) {
			t.Errorf("%s: WilsonUpper(%v, %v, %v) = %.7f, want %.6f", tt.name, tt.successes, tt.n, tt.z, got, tt.upper)
		}
	}
}

func TestEstimatorPrior(t *testing.T) {
	e := predictive.NewEstimator(predictive.DefaultPrior, 1000, 300)
	est := e.Estimates()
	if est.PPerson != 0.5 || est.PMachine != 0.1 || est.Dials != 20 || est.Observed != 0 {
		t.Fatalf("fresh estimator: p_person %v p_machine %v dials %v observed %d; want the prior 0.5, 0.1, 20, 0", est.PPerson, est.PMachine, est.Dials, est.Observed)
	}
	if !est.PersonAnswer.Empty() || !est.Talk.Empty() || est.HandleMean != 0 {
		t.Error("a fresh estimator has no times")
	}
	// One unanswered call: every weight × 0.999, then the dial adds 1.
	// p_person = 10 × 0.999 / (20 × 0.999 + 1) = 9.99 / 20.98; p_machine = 1.998 / 20.98.
	e.Observe(predictive.CallRecord{Answer: predictive.NotAnswered})
	est = e.Estimates()
	if !near(est.PPerson, 9.99/20.98, 1e-12) || !near(est.PMachine, 1.998/20.98, 1e-12) || !near(est.Dials, 20.98, 1e-12) {
		t.Errorf("after one unanswered call: p_person %v p_machine %v dials %v; want %v, %v, 20.98", est.PPerson, est.PMachine, est.Dials, 9.99/20.98, 1.998/20.98)
	}
	// Memories below 1 take the defaults.
	d := predictive.NewEstimator(predictive.DefaultPrior, 0, -1)
	if d.RateMemory != predictive.DefaultRateMemory || d.TimeMemory != predictive.DefaultTimeMemory {
		t.Errorf("memories %v, %v; want the defaults", d.RateMemory, d.TimeMemory)
	}
}

// synthetic is a call of a workload with known truth.
func synthetic(rng *rand.Rand, pPerson, pMachine, pAbandon float64) predictive.CallRecord {
	u := rng.Float64()
	switch {
	case u < pPerson:
		r := predictive.CallRecord{Answer: predictive.Person, TimeToAnswer: secs(5 + 20*rng.Float64())}
		if rng.Float64() < pAbandon {
			r.Abandoned = true
		} else {
			r.AgentTook, r.Talk, r.AfterWork = true, secs(120+240*rng.Float64()), 30*time.Second
		}
		return r
	case u < pPerson+pMachine:
		return predictive.CallRecord{Answer: predictive.Machine, TimeToAnswer: secs(5 + 20*rng.Float64())}
	}
	return predictive.CallRecord{}
}

func TestEstimatorConverges(t *testing.T) {
	// Truth: person 0.3, machine 0.1; answers uniform on 5-25 s (median 15, 90th percentile
	// 23); talk uniform on 120-360 s (median 240) and 30 s of after-contact work, so handle
	// time has mean 120 + 240/2 + 30 = 270 s and standard deviation 240/√12 = 69.28 s; 2 % of
	// person answers abandoned. Tolerances are about 3 standard errors of the weighted
	// estimates (rates: √(p(1−p)/2000) with a memory of 1,000; quantiles: √(q(1−q)/600) over
	// the density), widened by a bin for the histogram's resolution.
	rng := rand.New(rand.NewPCG(7, 11))
	e := predictive.NewEstimator(predictive.DefaultPrior, 1000, 300)
	for range 20000 {
		e.Observe(synthetic(rng, 0.3, 0.1, 0.02))
	}
	est := e.Estimates()
	checks := []struct {
		name           string
		got, want, tol float64
	}{
		{"p_person", est.PPerson, 0.3, 0.03},
		{"p_machine", est.PMachine, 0.1, 0.02},
		{"dials: the weights sum to the memory, 1/(1 − 0.999)", est.Dials, 1000, 0.5},
		{"answer median (s)", est.PersonAnswer.Quantile(0.5).Seconds(), 15, 1.5},
		{"answer 90th percentile (s)", est.PersonAnswer.Quantile(0.9).Seconds(), 23, 1.5},
		{"machine answer median (s)", est.MachineAnswer.Quantile(0.5).Seconds(), 15, 1.5},
		{"talk median (s)", est.Talk.Quantile(0.5).Seconds(), 240, 15},
		{"after-contact work: 30 s is the bin [30, 31), median 30.5 (s)", est.AfterWork.Quantile(0.5).Seconds(), 30.5, 1e-9},
		{"handle mean (s)", est.HandleMean.Seconds(), 270, 10},
		{"handle standard deviation (s)", est.HandleStdDev.Seconds(), 69.28, 8},
		{"measured abandonment", est.Abandonment, 0.02, 0.015},
		{"Wilson upper bound above the estimate", predictive.WilsonUpper(est.PPerson*est.Dials, est.Dials, predictive.DefaultZ) - est.PPerson, 0.0244, 0.003},
	}
	for _, c := range checks {
		t.Logf("%s: %.4f (truth %v)", c.name, c.got, c.want)
		if !near(c.got, c.want, c.tol) {
			t.Errorf("%s = %.4f, want %v ± %v", c.name, c.got, c.want, c.tol)
		}
	}
	if est.Observed != 20000 {
		t.Errorf("observed %d, want 20000", est.Observed)
	}
}

func TestEstimatorForgets(t *testing.T) {
	// The answer rate halves (an afternoon list after a morning one): after 5,000 calls, five
	// memories, the old rate weighs e⁻⁵ < 1 %.
	rng := rand.New(rand.NewPCG(3, 5))
	e := predictive.NewEstimator(predictive.DefaultPrior, 1000, 300)
	for range 5000 {
		e.Observe(synthetic(rng, 0.3, 0.1, 0))
	}
	for range 5000 {
		e.Observe(synthetic(rng, 0.15, 0.1, 0))
	}
	if p := e.Estimates().PPerson; !near(p, 0.15, 0.03) {
		t.Errorf("p_person %.4f after the change, want 0.15 ± 0.03", p)
	}
}

func TestEstimatorIgnoresImpossibleDurations(t *testing.T) {
	e := predictive.NewEstimator(predictive.Prior{}, 0, 0)
	e.Observe(predictive.CallRecord{Answer: predictive.Person, TimeToAnswer: -time.Second, AgentTook: true, Talk: -time.Second, AfterWork: time.Second})
	if e.PersonAnswer.N != 0 || e.Talk.N != 0 || e.AfterWork.N != 0 || e.HandleW != 0 {
		t.Errorf("negative durations were learnt: %+v", e)
	}
	if e.Persons != 1 || e.Dials != 1 {
		t.Errorf("the answer itself counts: persons %v dials %v, want 1 and 1", e.Persons, e.Dials)
	}
}

func TestEstimatorJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	e := predictive.NewEstimator(predictive.DefaultPrior, 0, 0)
	for range 3000 {
		e.Observe(synthetic(rng, 0.3, 0.1, 0.02))
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back predictive.Estimator
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	x, y := e.Estimates(), back.Estimates()
	if x.PPerson != y.PPerson || x.Dials != y.Dials || x.HandleMean != y.HandleMean ||
		x.PersonAnswer.Quantile(0.9) != y.PersonAnswer.Quantile(0.9) || x.Talk.Quantile(0.5) != y.Talk.Quantile(0.5) {
		t.Errorf("estimates changed through JSON: %+v vs %+v", x, y)
	}
	// The stored form is what the integrator writes per campaign: keep it a few kilobytes.
	if len(b) > 8000 {
		t.Errorf("estimator JSON is %d bytes, want at most 8,000", len(b))
	}
	t.Logf("estimator JSON: %d bytes", len(b))
}

func TestAnswerString(t *testing.T) {
	for a, want := range map[predictive.Answer]string{predictive.NotAnswered: "not_answered", predictive.Person: "person", predictive.Machine: "machine", 7: "Answer(7)"} {
		if a.String() != want {
			t.Errorf("%d: %q, want %q", int(a), a.String(), want)
		}
	}
}
