package predictive_test

import (
	"math/rand/v2"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// trained returns the estimates of 5,000 calls of the simulation's workload (person 0.3 and
// machine 0.1, answered after 5-25 s, talk 2-6 min, after-contact work 30 s), without prior.
func trained() predictive.Estimates {
	e := predictive.NewEstimator(predictive.Prior{}, 0, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		u := rng.Float64()
		r := predictive.CallRecord{}
		switch {
		case u < 0.3:
			r = predictive.CallRecord{Answer: predictive.Person, TimeToAnswer: secs(5 + 20*rng.Float64()), AgentTook: true, Talk: secs(120 + 240*rng.Float64()), AfterWork: 30 * time.Second}
		case u < 0.4:
			r = predictive.CallRecord{Answer: predictive.Machine, TimeToAnswer: secs(5 + 20*rng.Float64())}
		}
		e.Observe(r)
	}
	return e.Estimates()
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
