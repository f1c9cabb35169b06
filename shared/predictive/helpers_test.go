package predictive_test

import (
	"math/rand/v2"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// trained returns the estimates of 5,000 calls of the simulation's workload (see workload:
// person 0.3 and machine 0.1, answered after 5-25 s; 0.45 ring out after 30 s, 0.15 end after
// 2-6 s; talk 2-6 min, after-contact work 30 s), without prior.
func trained() predictive.Estimates { return trainedOn(realistic) }

// trainedOn returns the estimates of 5,000 calls of workload w, without prior.
func trainedOn(w workload) predictive.Estimates {
	e := predictive.NewEstimator(predictive.Prior{}, 0, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		e.Observe(callOf(rng, w))
	}
	return e.Estimates()
}

// workloadCall is one finished call of the simulation's workload, no call abandoned.
func workloadCall(rng *rand.Rand) predictive.CallRecord { return callOf(rng, realistic) }

// callOf is one finished call of workload w, no call abandoned.
func callOf(rng *rand.Rand, w workload) predictive.CallRecord {
	u := rng.Float64()
	switch {
	case u < w.pPerson:
		return predictive.CallRecord{Answer: predictive.Person, TimeToAnswer: secs(w.answerMin + (w.answerMax-w.answerMin)*rng.Float64()),
			AgentTook: true, Talk: secs(w.talkMin + (w.talkMax-w.talkMin)*rng.Float64()), AfterWork: secs(w.acw)}
	case u < w.pPerson+w.pMachine:
		return predictive.CallRecord{Answer: predictive.Machine, TimeToAnswer: secs(w.answerMin + (w.answerMax-w.answerMin)*rng.Float64())}
	case u < w.pPerson+w.pMachine+w.pRingOut:
		return predictive.CallRecord{TimeToAnswer: secs(w.ringTimeout)}
	}
	return predictive.CallRecord{TimeToAnswer: secs(w.failMin + (w.failMax-w.failMin)*rng.Float64())}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
