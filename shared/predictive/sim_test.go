package predictive_test

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/pacing"
	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// The simulation's workload, one seeded campaign with an endless list of numbers:
//
//   - a dial is answered by a person with probability 0.30 and by a machine with 0.10
//     (answering-machine detection hears it; no agent needed); 0.45 ring out at the ring
//     timeout of 30 s (at least the 15 s both rules ask for), 0.15 are busy or fail after
//     2-6 s;
//   - a person or a machine answers 5-25 s after the dial (uniform);
//   - an agent talks 2-6 minutes (uniform) and then does 30 s of after-contact work;
//   - an answer not taken by an agent within 2 s is abandoned (the flow plays the
//     safe-harbour message and hangs up);
//   - the dialer decides once a second, within Connect's default rate for
//     StartOutboundVoiceContact (2 a second, burst 5) and a concurrency cap of 3 calls per
//     agent plus 10 (the default quota of 10 would hold 20 agents back: raise it);
//   - an abandoned call reaches the budget 30 s after its abandonment (the dialer settles it
//     from DescribeContact), and counts as unsettled until then;
//   - agents are all available at the start; in the halving runs, half of them log out at the
//     middle of the run: the idle ones at once, the busy ones when they finish their call (the
//     dialer does not know which busy agents will leave, and counts on them).
//
// Occupancy is Amazon Connect's: time on contact, after-contact work included, over that time
// plus idle time ("Occupancy is the percentage of time that agents actively worked on
// contacts. For example, an agent spent six minutes on a contact (work), and one minute on
// after contact (work). They then spent three minutes" idle: occupancy 70 %; AWS Contact
// Center blog, "Routing contacts based on performance objectives in Amazon Connect: Agent
// Occupancy (part 2)").
type workload struct {
	pPerson, pMachine, pRingOut float64
	ringTimeout                 float64
	answerMin, answerMax        float64
	failMin, failMax            float64
	talkMin, talkMax, acw       float64
	threshold                   float64
	settleDelay                 float64
	rate                        float64
	burst                       int
}

var realistic = workload{
	pPerson: 0.30, pMachine: 0.10, pRingOut: 0.45,
	ringTimeout: 30, answerMin: 5, answerMax: 25, failMin: 2, failMax: 6,
	talkMin: 120, talkMax: 360, acw: 30,
	threshold: 2, settleDelay: 30, rate: 2, burst: 5,
}

type simRun struct {
	agents  int
	hours   float64
	seed    uint64
	halveAt float64 // seconds; 0: never
	cfg     predictive.Config
	work    workload
}

type simResult struct {
	occupancy        float64
	talkPerAgentHour float64 // minutes
	dials            int
	answers          int
	abandoned        int
	maxRolling24     float64 // the highest abandonment of any window (t − 24 h, t] of the run
	maxRolling24At   float64 // its end, seconds
	firstDay         float64 // [0, 24 h)
	lastPortion      float64 // [24 h, end)
	overall          float64
	predictiveTicks  float64 // share of decisions in predictive mode
	fallbacks        map[predictive.Fallback]int
	limits           map[predictive.Limit]int // what bound predictive decisions
	meanPredicted    float64                  // mean PredictedAbandonment of predictive decisions that dialled
	// Around the halving: abandoned calls within 10 minutes after it, and dials in the 5
	// minutes before and after it.
	abandonedAfterHalving   int
	dialsBefore, dialsAfter int
}

const (
	evTick = iota
	evAnswer
	evEnd // ring out, busy, failure
	evTalkEnd
	evFree
	evDeadline
	evSettle
	evHalve
)

type event struct {
	t    float64
	kind int
	id   int
	seq  int
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].t != q[j].t {
		return q[i].t < q[j].t
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type simCall struct {
	placed, answerAt float64
	answer           predictive.Answer
	waiting          bool // ringing or queued
	queued           bool
	agent            int
}

type simAgent struct {
	online, busy, leaving bool
	since, wrapSince      float64
	inACW                 bool
	call                  int
	talk                  float64
	lastChange            float64
}

func simulate(r simRun) simResult {
	w := r.work
	rng := rand.New(rand.NewPCG(r.seed, 0x5eed))
	base := time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return base.Add(time.Duration(s * float64(time.Second))) }
	end := r.hours * 3600

	est := predictive.NewEstimator(predictive.DefaultPrior, 0, 0)
	var budget predictive.Budget
	windows := predictive.DefaultWindows(base)
	bucket, err := pacing.NewBucket(w.rate, w.burst)
	if err != nil {
		panic(err)
	}
	maxLive := 3*r.agents + 10

	agents := make([]simAgent, r.agents)
	for i := range agents {
		agents[i].online = true
	}
	var calls []simCall
	var queue []int // queued call ids, FIFO
	q := &eventQueue{}
	seq := 0
	push := func(t float64, kind, id int) {
		seq++
		heap.Push(q, event{t: t, kind: kind, id: id, seq: seq})
	}
	push(0, evTick, 0)
	if r.halveAt > 0 {
		push(r.halveAt, evHalve, 0)
	}

	var busyTime, idleTime, talkTime float64
	account := func(a *simAgent, now float64) {
		if a.online {
			if a.busy {
				busyTime += now - a.lastChange
			} else {
				idleTime += now - a.lastChange
			}
		}
		a.lastChange = now
	}
	type answered struct {
		t         float64
		abandoned bool
	}
	var answers []answered
	unsettled := 0
	res := simResult{fallbacks: map[predictive.Fallback]int{}, limits: map[predictive.Limit]int{}}
	var ticks, predictiveTicks, predictedN int
	var predictedSum float64

	assign := func(id int, now float64) bool {
		for i := range agents {
			a := &agents[i]
			if a.online && !a.busy && !a.leaving {
				account(a, now)
				a.busy, a.inACW, a.since, a.call = true, false, now, id
				a.talk = w.talkMin + rng.Float64()*(w.talkMax-w.talkMin)
				calls[id].waiting, calls[id].queued, calls[id].agent = false, false, i
				push(now+a.talk, evTalkEnd, i)
				return true
			}
		}
		return false
	}

	for q.Len() > 0 {
		e := heap.Pop(q).(event)
		if e.t > end {
			break
		}
		now := e.t
		switch e.kind {
		case evTick:
			live := 0
			var waiting []predictive.Call
			for i := range calls {
				c := &calls[i]
				if c.waiting {
					live++
					pc := predictive.Call{PlacedAt: at(c.placed)}
					if c.queued {
						pc.AnsweredAt = at(c.answerAt)
					}
					waiting = append(waiting, pc)
				}
			}
			var busy []predictive.Busy
			avail := 0
			for i := range agents {
				a := &agents[i]
				switch {
				case !a.online:
				case a.busy:
					if !a.inACW {
						live++
					}
					b := predictive.Busy{Since: at(a.since)}
					if a.inACW {
						b.WrapUpSince = at(a.wrapSince)
					}
					busy = append(busy, b)
				case !a.leaving:
					avail++
				}
			}
			nowT := at(now)
			st := predictive.State{
				Now: nowT, AgentsKnown: true, Available: avail, Busy: busy, Waiting: waiting,
				Unsettled: unsettled,
				MaxStart:  min(bucket.Available(nowT), max(0, maxLive-live)),
				Estimates: est.Estimates(),
				Allowance: budget.Remaining(nowT, r.cfg.Target, windows),
			}
			d := predictive.Decide(st, r.cfg)
			ticks++
			if d.Mode == predictive.Predictive {
				predictiveTicks++
				res.limits[d.Limit]++
				if d.Calls > 0 {
					predictedSum += d.PredictedAbandonment
					predictedN++
				}
			} else {
				res.fallbacks[d.Fallback]++
			}
			if d.Calls > 0 && !bucket.Take(nowT, d.Calls) {
				panic(fmt.Sprintf("decision %d calls over the %d tokens", d.Calls, st.MaxStart))
			}
			for range d.Calls {
				id := len(calls)
				c := simCall{placed: now, waiting: true, agent: -1}
				u := rng.Float64()
				switch {
				case u < w.pPerson:
					c.answer = predictive.Person
				case u < w.pPerson+w.pMachine:
					c.answer = predictive.Machine
				}
				calls = append(calls, c)
				res.dials++
				if r.halveAt > 0 && now >= r.halveAt-300 && now < r.halveAt {
					res.dialsBefore++
				}
				if r.halveAt > 0 && now >= r.halveAt && now < r.halveAt+300 {
					res.dialsAfter++
				}
				switch {
				case c.answer != predictive.NotAnswered:
					push(now+w.answerMin+rng.Float64()*(w.answerMax-w.answerMin), evAnswer, id)
				case u < w.pPerson+w.pMachine+w.pRingOut:
					push(now+w.ringTimeout, evEnd, id)
				default:
					push(now+w.failMin+rng.Float64()*(w.failMax-w.failMin), evEnd, id)
				}
			}
			push(now+1, evTick, 0)
		case evAnswer:
			c := &calls[e.id]
			c.answerAt = now
			if c.answer == predictive.Machine {
				c.waiting = false
				est.Observe(predictive.CallRecord{Answer: predictive.Machine, TimeToAnswer: secs(now - c.placed)})
				break
			}
			res.answers++
			budget.Answered(at(now))
			if !assign(e.id, now) {
				c.queued = true
				queue = append(queue, e.id)
				push(now+w.threshold, evDeadline, e.id)
			}
		case evEnd:
			calls[e.id].waiting = false
			est.Observe(predictive.CallRecord{Answer: predictive.NotAnswered})
		case evTalkEnd:
			a := &agents[e.id]
			a.inACW, a.wrapSince = true, now
			push(now+w.acw, evFree, e.id)
		case evFree:
			a := &agents[e.id]
			account(a, now)
			c := &calls[a.call]
			talkTime += a.talk
			est.Observe(predictive.CallRecord{Answer: predictive.Person, TimeToAnswer: secs(c.answerAt - c.placed),
				AgentTook: true, Talk: secs(a.talk), AfterWork: secs(w.acw)})
			answers = append(answers, answered{t: c.answerAt})
			a.busy, a.inACW = false, false
			if a.leaving {
				a.online = false
				break
			}
			for len(queue) > 0 && !calls[queue[0]].queued {
				queue = queue[1:]
			}
			if len(queue) > 0 {
				id := queue[0]
				queue = queue[1:]
				assign(id, now)
			}
		case evDeadline:
			c := &calls[e.id]
			if !c.queued {
				break
			}
			c.queued, c.waiting = false, false
			res.abandoned++
			unsettled++
			answers = append(answers, answered{t: c.answerAt, abandoned: true})
			if r.halveAt > 0 && now >= r.halveAt && now < r.halveAt+600 {
				res.abandonedAfterHalving++
			}
			est.Observe(predictive.CallRecord{Answer: predictive.Person, TimeToAnswer: secs(c.answerAt - c.placed), Abandoned: true})
			push(now+w.settleDelay, evSettle, e.id)
		case evSettle:
			unsettled--
			budget.Abandoned(at(calls[e.id].answerAt))
		case evHalve:
			for i := len(agents) / 2; i < len(agents); i++ {
				a := &agents[i]
				a.leaving = true
				if !a.busy {
					account(a, now)
					a.online = false
				}
			}
		}
	}
	for i := range agents {
		account(&agents[i], end)
	}
	res.occupancy = busyTime / (busyTime + idleTime)
	res.talkPerAgentHour = talkTime / 60 / ((busyTime + idleTime) / 3600)
	res.predictiveTicks = float64(predictiveTicks) / float64(ticks)
	if predictedN > 0 {
		res.meanPredicted = predictedSum / float64(predictedN)
	}

	// Every rolling window (t − 24 h, t]: its rate rises only when an abandoned call enters
	// (t = its answer) or a call that was not abandoned leaves (t just past its answer + 24 h),
	// so those instants are every window's worst.
	sort.Slice(answers, func(i, j int) bool { return answers[i].t < answers[j].t })
	n := len(answers)
	ts := make([]float64, n)
	cumAb := make([]int, n+1)
	for i, a := range answers {
		ts[i] = a.t
		cumAb[i+1] = cumAb[i]
		if a.abandoned {
			cumAb[i+1]++
		}
	}
	rate := func(from, to float64) float64 { // calls answered in (from, to]
		i := sort.Search(n, func(i int) bool { return ts[i] > from })
		j := sort.Search(n, func(i int) bool { return ts[i] > to })
		if j <= i {
			return 0
		}
		return float64(cumAb[j]-cumAb[i]) / float64(j-i)
	}
	const day = 24 * 3600.0
	for _, a := range answers {
		for _, t := range []float64{a.t, a.t + day + 1e-6} {
			if (a.abandoned || t > a.t) && t <= end {
				if x := rate(t-day, t); x > res.maxRolling24 {
					res.maxRolling24, res.maxRolling24At = x, t
				}
			}
		}
	}
	res.firstDay = rate(-1, day)
	res.lastPortion = rate(day, end)
	res.overall = rate(-1, end)
	return res
}

func (r simResult) String() string {
	var fb []string
	for k, v := range r.fallbacks {
		fb = append(fb, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(fb)
	return fmt.Sprintf("occupancy %.3f, talk %.1f min/agent-h, %d dials, %d answers, %d abandoned: overall %.2f%%, worst rolling 24 h %.2f%% (at %.1f h), first day %.2f%%, last portion %.2f%%; predictive %.0f%% of decisions (fallbacks: %s), mean predicted %.2f%%",
		r.occupancy, r.talkPerAgentHour, r.dials, r.answers, r.abandoned, 100*r.overall, 100*r.maxRolling24, r.maxRolling24At/3600,
		100*r.firstDay, 100*r.lastPortion, 100*r.predictiveTicks, strings.Join(fb, ", "), 100*r.meanPredicted)
}
