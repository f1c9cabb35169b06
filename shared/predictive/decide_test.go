package predictive_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// controlled returns estimates whose arithmetic can be done by hand: calls in tens, 3 answered
// by a person 10.5 s after the dial (the bin [10 s, 11 s), inside the forecast's slot [10 s,
// 12 s)), 1 by a machine after 3.5 s, 6 not answered; agents talk 200.5 s and wrap up 30.5 s.
// Nothing is forgotten (infinite memories), so p_person is exactly 0.3 and p_machine 0.1.
func controlled(tens int) predictive.Estimates {
	e := predictive.NewEstimator(predictive.Prior{}, math.Inf(1), math.Inf(1))
	for range tens {
		for i := range 10 {
			switch {
			case i < 3:
				e.Observe(predictive.CallRecord{Answer: predictive.Person, TimeToAnswer: 10500 * time.Millisecond,
					AgentTook: true, Talk: 200500 * time.Millisecond, AfterWork: 30500 * time.Millisecond})
			case i == 3:
				e.Observe(predictive.CallRecord{Answer: predictive.Machine, TimeToAnswer: 3500 * time.Millisecond})
			default:
				e.Observe(predictive.CallRecord{})
			}
		}
	}
	return e.Estimates()
}

var now = time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)

// allowance returns what the windows allow after answered live calls, abandoned of them,
// three hours ago: slack 0.03 × answered − abandoned in both windows.
func allowance(answered, abandoned int) predictive.Allowance {
	var b predictive.Budget
	times(now.Add(-3*time.Hour), answered, b.Answered)
	times(now.Add(-3*time.Hour), abandoned, b.Abandoned)
	return b.Remaining(now, 0.03, predictive.DefaultWindows(time.Time{}))
}

func ringing(ago ...float64) []predictive.Call {
	var c []predictive.Call
	for _, a := range ago {
		c = append(c, predictive.Call{PlacedAt: now.Add(-secs(a))})
	}
	return c
}

// handCfg is the default configuration with z = 0, so that p_person's bound is the estimate
// itself (0.3) and the figures below can be worked by hand.
func handCfg(mod func(*predictive.Config)) predictive.Config {
	c := predictive.DefaultConfig()
	c.Z = 0
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestDecide(t *testing.T) {
	est := controlled(100) // 1,000 calls
	few := controlled(10)  // 100 calls: fewer than MinObservations
	big := allowance(1000, 0)
	state := func(mod func(*predictive.State)) predictive.State {
		s := predictive.State{Now: now, AgentsKnown: true, MaxStart: 5, Estimates: est, Allowance: big}
		mod(&s)
		return s
	}
	// X ~ Binomial(n, 0.3) person answers, all in one slot, A idle agents: abandoned E[(X − A)+].
	//   A = 1, n = 2: P(X = 2) = 0.09, over 0.6 answers 15 %.
	//   A = 3, n = 4: P(X = 4) = 0.3⁴ = 0.0081, over 1.2 answers 0.675 %;
	//   A = 3, n = 5: 1 × P(X = 4) + 2 × P(X = 5) = 5 × 0.0081 × 0.7 + 2 × 0.00243 = 0.03321,
	//                 over 1.5 answers 2.214 %;
	//   A = 3, n = 6: P(4) + 2 P(5) + 3 P(6) = 0.059535 + 0.020412 + 0.002187 = 0.082134,
	//                 over 1.8 answers 4.563 %.
	tests := []struct {
		name      string
		s         predictive.State
		cfg       predictive.Config
		calls     int
		mode      predictive.Mode
		fallback  predictive.Fallback
		limit     predictive.Limit
		answers   float64 // expected answers of the plan (-1: not checked)
		abandoned float64
	}{
		{"agents unknown: nothing", state(func(s *predictive.State) { s.AgentsKnown, s.Available = false, 4 }), handCfg(nil),
			0, predictive.ProgressiveFallback, predictive.FallbackAgentsUnknown, predictive.LimitAgents, -1, 0},
		{"invalid configuration: nothing", state(func(s *predictive.State) { s.Available = 4 }), handCfg(func(c *predictive.Config) { c.Target = 0 }),
			0, predictive.ProgressiveFallback, predictive.FallbackInvalidConfig, "", -1, 0},
		{"100 calls observed: progressive, 3 available less 1 waiting", state(func(s *predictive.State) { s.Estimates, s.Available, s.Waiting = few, 3, ringing(1) }), handCfg(nil),
			2, predictive.ProgressiveFallback, predictive.FallbackTooFewObservations, predictive.LimitAgents, -1, 0},
		{"100 calls observed, 2 tokens: progressive within the caps", state(func(s *predictive.State) { s.Estimates, s.Available, s.MaxStart = few, 5, 2 }), handCfg(nil),
			2, predictive.ProgressiveFallback, predictive.FallbackTooFewObservations, predictive.LimitCaps, -1, 0},
		{"slack 1.5, 3 waiting on 1 agent: 2 could be abandoned, budget spent", state(func(s *predictive.State) {
			s.Allowance, s.Available, s.Waiting = allowance(50, 0), 1, ringing(1, 1, 1)
		}), handCfg(nil), 0, predictive.ProgressiveFallback, predictive.FallbackBudgetSpent, predictive.LimitAgents, -1, 0},
		{"nothing measured (zero allowance): progressive", state(func(s *predictive.State) { s.Allowance, s.Available = predictive.Allowance{}, 2 }), handCfg(nil),
			2, predictive.ProgressiveFallback, predictive.FallbackBudgetSpent, predictive.LimitAgents, -1, 0},
		{"an allowance measured at 5 % is read at the configured 3 %: slack 1.5 − 2 beyond, spent", state(func(s *predictive.State) {
			var b predictive.Budget
			times(now.Add(-3*time.Hour), 50, b.Answered)
			s.Allowance, s.Available, s.Waiting = b.Remaining(now, 0.05, predictive.DefaultWindows(time.Time{})), 1, ringing(1, 1, 1)
		}), handCfg(nil), 0, predictive.ProgressiveFallback, predictive.FallbackBudgetSpent, predictive.LimitAgents, -1, 0},
		{"slack 5 all taken by 5 unsettled calls: progressive", state(func(s *predictive.State) { s.Allowance, s.Unsettled, s.Available = allowance(500, 10), 5, 2 }), handCfg(nil),
			2, predictive.ProgressiveFallback, predictive.FallbackBudgetSpent, predictive.LimitAgents, -1, 0},
		{"no agent at all: nothing", state(func(s *predictive.State) {}), handCfg(nil),
			0, predictive.Predictive, "", predictive.LimitDialLevel, 0, 0},
		{"1 idle agent: 1 call (2 would lose 15 %)", state(func(s *predictive.State) { s.Available = 1 }), handCfg(nil),
			1, predictive.Predictive, "", predictive.LimitModel, 0.3, 0},
		{"3 idle agents: 4 calls at 0.675 % (5 would be 2.214 %)", state(func(s *predictive.State) { s.Available = 3 }), handCfg(nil),
			4, predictive.Predictive, "", predictive.LimitModel, 1.2, 0.0081},
		{"3 idle agents, plan 3 %: 5 calls at 2.214 % (6 would be 4.563 %)", state(func(s *predictive.State) { s.Available, s.MaxStart = 3, 10 }), handCfg(func(c *predictive.Config) { c.PlanRate = 0.03 }),
			5, predictive.Predictive, "", predictive.LimitModel, 1.5, 0.03321},
		{"3 idle agents, 3 tokens: the caps", state(func(s *predictive.State) { s.Available, s.MaxStart = 3, 3 }), handCfg(nil),
			3, predictive.Predictive, "", predictive.LimitCaps, 0.9, 0},
		{"3 idle agents, dial level 1: 3 calls", state(func(s *predictive.State) { s.Available = 3 }), handCfg(func(c *predictive.Config) { c.MaxDialLevel = 1 }),
			3, predictive.Predictive, "", predictive.LimitDialLevel, 0.9, 0},
		{"3 idle agents, plan 3 %, slack 1.2: the guard allows 3 + 1", state(func(s *predictive.State) {
			s.Available, s.MaxStart, s.Allowance = 3, 10, allowance(40, 0)
		}), handCfg(func(c *predictive.Config) { c.PlanRate = 0.03 }), 4, predictive.Predictive, "", predictive.LimitBudget, 1.2, 0.0081},
		{"1 idle agent and 1 answered call queued for it: nothing (1 more loses 0.3 of 1.3)", state(func(s *predictive.State) {
			s.Available = 1
			s.Waiting = []predictive.Call{{PlacedAt: now.Add(-12 * time.Second), AnsweredAt: now.Add(-time.Second)}}
		}), handCfg(nil), 0, predictive.Predictive, "", predictive.LimitModel, 1, 0},
		{"an agent in after-contact work frees in 3-4 s: 1 call", state(func(s *predictive.State) {
			s.Busy = []predictive.Busy{{Since: now.Add(-240 * time.Second), WrapUpSince: now.Add(-27 * time.Second)}}
		}), handCfg(nil), 1, predictive.Predictive, "", predictive.LimitModel, 0.3, 0},
		{"an agent 10 s into a 200 s talk: nothing soon free, nothing", state(func(s *predictive.State) {
			s.Busy = []predictive.Busy{{Since: now.Add(-10 * time.Second)}}
		}), handCfg(nil), 0, predictive.Predictive, "", predictive.LimitDialLevel, 0, 0},
		{"1 idle agent, a call ringing 12 s, past every answer: it no longer counts, 1 call", state(func(s *predictive.State) {
			s.Available, s.Waiting = 1, ringing(12)
		}), handCfg(nil), 1, predictive.Predictive, "", predictive.LimitModel, 0.3, 0},
		{"1 idle agent, a call ringing 5 s, past the machines: it is a person's with 0.3/0.9, nothing more", state(func(s *predictive.State) {
			s.Available, s.Waiting = 1, ringing(5)
		}), handCfg(nil), 0, predictive.Predictive, "", predictive.LimitModel, 1.0 / 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := predictive.Decide(tt.s, tt.cfg)
			if d.Calls != tt.calls || d.Mode != tt.mode || d.Fallback != tt.fallback || d.Limit != tt.limit {
				t.Errorf("Decide = %d calls, %s, %q, limit %q; want %d, %s, %q, %q\n%s", d.Calls, d.Mode, d.Fallback, d.Limit, tt.calls, tt.mode, tt.fallback, tt.limit, d.Reason)
			}
			if tt.answers >= 0 && (!near(d.ExpectedAnswers, tt.answers, 1e-9) || !near(d.ExpectedAbandoned, tt.abandoned, 1e-9)) {
				t.Errorf("expected answers %.6f, abandoned %.6f; want %.6f, %.6f", d.ExpectedAnswers, d.ExpectedAbandoned, tt.answers, tt.abandoned)
			}
			if !strings.HasPrefix(d.Reason, string(tt.mode)+": ") {
				t.Errorf("reason %q", d.Reason)
			}
		})
	}
}

func TestForecastHand(t *testing.T) {
	est := controlled(100)
	cfg := handCfg(nil)
	acw := func(ago float64) predictive.Busy {
		return predictive.Busy{Since: now.Add(-240 * time.Second), WrapUpSince: now.Add(-secs(ago))}
	}
	tests := []struct {
		name               string
		available          int
		busy               []predictive.Busy
		waiting            []predictive.Call
		n                  int
		answers, abandoned float64
		tol                float64 // 0: exact to 1e-9; else the forecast may exceed the truth by this much, never fall below it
	}{
		// The binomial tail, not a Poisson one: with Y ~ Poisson(0.9), E[(Y − 1)+] = e^−0.9 − 0.1 = 0.3066.
		{"A = 1, n = 3: E[(X − 1)+] = 3 × 0.09 × 0.7 + 2 × 0.027 = 0.243", 1, nil, nil, 3, 0.9, 0.243, 0},
		{"A = 2, n = 5: P(3) + 2 P(4) + 3 P(5) = 0.1323 + 0.0567 + 0.00729", 2, nil, nil, 5, 1.5, 0.19629, 0},
		{"A = 0, n = 1: every answer is lost", 0, nil, nil, 1, 0.3, 0.3, 0},
		{"an agent freeing in 3-4 s, n = 2: E[(X − 1)+] = 0.09", 0, []predictive.Busy{acw(27)}, nil, 2, 0.6, 0.09, 0},
		{"two agents freeing in 3-4 s and 8-9 s, n = 3: E[(X − 2)+] = 0.3³ = 0.027", 0, []predictive.Busy{acw(27), acw(22)}, nil, 3, 0.9, 0.027, 0},
		// Agents count as free θ − slot/2 = 1 s early. Freeing at 13-14 s, the agent counts from
		// 12-13 s, the slot after the answers' [10 s, 12 s): the answer is lost, as it is in
		// truth (it waits 2 to 4 s). Freeing at 12-13 s, it counts from 11-12 s, in the answers'
		// slot: the answer is served, as it is in truth half the time (a wait of 1 to 3 s): the
		// lead centres the slot's error, the Monte Carlo test measures what is left.
		{"an agent freeing in 13-14 s, n = 1: the answer at 10-11 s is lost", 0, []predictive.Busy{acw(17)}, nil, 1, 0.3, 0.3, 0},
		{"an agent freeing in 12-13 s, n = 1: the answer at 10-11 s counts as served", 0, []predictive.Busy{acw(18)}, nil, 1, 0.3, 0, 0},
		{"a queued call takes the idle agent: the new call is lost if answered", 1, nil,
			[]predictive.Call{{PlacedAt: now.Add(-12 * time.Second), AnsweredAt: now}}, 1, 1.3, 0.3, 0},
		// Unequal calls: the exact loss is P(ringing answers) × P(new answers) = (1/3)(0.3) = 0.1;
		// treated as exchangeable, the forecast gives 0.10028, a little more.
		{"a ringing call and a new one on 1 agent", 1, nil, ringing(5), 1, 1.0/3 + 0.3, 0.1, 0.005},
	}
	for _, tt := range tests {
		s := predictive.State{Now: now, AgentsKnown: true, Available: tt.available, Busy: tt.busy, Waiting: tt.waiting, Estimates: est}
		a, b := predictive.ForecastForTest(s, cfg, tt.n)
		okAb := near(b, tt.abandoned, 1e-9)
		if tt.tol > 0 {
			okAb = b >= tt.abandoned-1e-9 && b <= tt.abandoned+tt.tol
		}
		if !near(a, tt.answers, 1e-9) || !okAb {
			t.Errorf("%s: answers %.6f abandoned %.6f; want %.6f, %.6f", tt.name, a, b, tt.answers, tt.abandoned)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := predictive.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*predictive.Config){
		"target 0:":                     func(c *predictive.Config) { c.Target = 0 },
		"target 1:":                     func(c *predictive.Config) { c.Target = 1 },
		"target NaN":                    func(c *predictive.Config) { c.Target = math.NaN() },
		"plan rate 0.04":                func(c *predictive.Config) { c.PlanRate = 0.04 },
		"plan rate 0:":                  func(c *predictive.Config) { c.PlanRate = 0 },
		"connection threshold 100ms":    func(c *predictive.Config) { c.ConnectThreshold = 100 * time.Millisecond },
		"connection threshold 11s":      func(c *predictive.Config) { c.ConnectThreshold = 11 * time.Second },
		"z -1":                          func(c *predictive.Config) { c.Z = -1 },
		"minimum observations -1":       func(c *predictive.Config) { c.MinObservations = -1 },
		"max dial level 0.5":            func(c *predictive.Config) { c.MaxDialLevel = 0.5 },
		"max dial level 11":             func(c *predictive.Config) { c.MaxDialLevel = 11 },
		"minimum observations 0, timed": func(c *predictive.Config) { c.MinObservations, c.MinTimed = 0, math.NaN() },
	}
	for want, mod := range bad {
		c := predictive.DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

func TestMoreAgentsMoreCalls(t *testing.T) {
	est := trained()
	cfg := predictive.DefaultConfig()
	prev := -1
	for avail := 0; avail <= 12; avail++ {
		s := predictive.State{Now: now, AgentsKnown: true, Available: avail, Waiting: ringing(2, 6, 9, 14, 20),
			MaxStart: 50, Estimates: est, Allowance: allowance(2000, 0)}
		d := predictive.Decide(s, cfg)
		if d.Calls < prev {
			t.Errorf("%d available: %d calls, fewer than the %d of one agent less", avail, d.Calls, prev)
		}
		if avail == 12 && d.Calls <= 7 {
			t.Errorf("12 available, 5 ringing: %d calls, want more than the 7 of progressive", d.Calls)
		}
		prev = d.Calls
	}
	// An agent about to finish after-contact work adds to the calls, one just starting a talk
	// does not take any away.
	base := predictive.State{Now: now, AgentsKnown: true, Available: 1, Waiting: ringing(3), MaxStart: 50, Estimates: est, Allowance: allowance(2000, 0)}
	d0 := predictive.Decide(base, cfg)
	withACW := base
	withACW.Busy = []predictive.Busy{{Since: now.Add(-300 * time.Second), WrapUpSince: now.Add(-25 * time.Second)}}
	withTalk := base
	withTalk.Busy = []predictive.Busy{{Since: now}}
	if d1, d2 := predictive.Decide(withACW, cfg), predictive.Decide(withTalk, cfg); d1.Calls <= d0.Calls || d2.Calls != d0.Calls {
		t.Errorf("calls %d alone, %d with an agent freeing, %d with an agent starting a talk", d0.Calls, d1.Calls, d2.Calls)
	}
}

func TestHigherZFewerCalls(t *testing.T) {
	// 300 calls: p_person's bound is wide enough for z to matter.
	rng := rand.New(rand.NewPCG(5, 5))
	e := predictive.NewEstimator(predictive.Prior{}, 0, 0)
	for range 300 {
		e.Observe(synthetic(rng, 0.3, 0.1, 0))
	}
	s := predictive.State{Now: now, AgentsKnown: true, Available: 6, MaxStart: 50, Estimates: e.Estimates(), Allowance: allowance(2000, 0)}
	prev, first := math.MaxInt, 0
	for i, z := range []float64{0, 1, predictive.DefaultZ, 2.326, 3} {
		cfg := predictive.DefaultConfig()
		cfg.Z = z
		d := predictive.Decide(s, cfg)
		if d.Calls > prev {
			t.Errorf("z %v: %d calls, more than %d at a lower z", z, d.Calls, prev)
		}
		if i == 0 {
			first = d.Calls
		}
		prev = d.Calls
	}
	if prev >= first {
		t.Errorf("z from 0 to 3 left the calls at %d", first)
	}
}

// TestStaffHalved: half of a 20-agent team logs out; the next decision sees fewer available
// agents and fewer busy ones, and cuts back at once.
func TestStaffHalved(t *testing.T) {
	est := trained()
	cfg := predictive.DefaultConfig()
	busy := func(n int) []predictive.Busy {
		var b []predictive.Busy
		for i := range n {
			if i%3 == 0 { // a third in after-contact work, freeing over the next 10 to 30 s
				b = append(b, predictive.Busy{Since: now.Add(-200 * time.Second), WrapUpSince: now.Add(-secs(20 - float64(i)))})
				continue
			}
			b = append(b, predictive.Busy{Since: now.Add(-secs(float64(10 * i)))})
		}
		return b
	}
	before := predictive.State{Now: now, AgentsKnown: true, Available: 3, Busy: busy(17), Waiting: ringing(4, 12),
		MaxStart: 5, Estimates: est, Allowance: allowance(3000, 20)}
	after := before
	after.Available, after.Busy = 1, busy(8)
	d1, d2 := predictive.Decide(before, cfg), predictive.Decide(after, cfg)
	t.Logf("before: %s", d1.Reason)
	t.Logf("after: %s", d2.Reason)
	if d1.Calls == 0 || d2.Calls >= d1.Calls {
		t.Errorf("calls %d before the halving, %d after; want fewer after", d1.Calls, d2.Calls)
	}
	if d2.SoonFree >= d1.SoonFree {
		t.Errorf("agents soon free %.2f before, %.2f after", d1.SoonFree, d2.SoonFree)
	}
}
