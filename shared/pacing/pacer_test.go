package pacing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPacerPlan(t *testing.T) {
	p, err := NewPacer(Config{CallsPerSecond: 2, Burst: 5, MaxLive: 10})
	if err != nil {
		t.Fatal(err)
	}
	one := func(want, live int) []Demand { return []Demand{{ID: "a", Weight: 1, Want: want, Live: live}} }
	steps := []struct {
		at         time.Duration
		want, live int
		grant      int
	}{
		{0, 100, 0, 5},                      // the burst
		{0, 100, 5, 0},                      // tokens spent
		{time.Second, 100, 5, 2},            // 2 a second
		{10 * time.Second, 100, 7, 3},       // 5 tokens, 3 places under the cap
		{20 * time.Second, 2, 0, 2},         // wants only 2
		{20 * time.Second, 100, 2, 3},       // the other 3 tokens are still there
		{21 * time.Second, 100, 10, 0},      // cap full
		{30 * time.Second, 100, 12, 0},      // above the cap: nothing, never negative
		{30 * time.Second, 100, 0, 5},       // the burst again
		{30*time.Second + 100, 100, 0, 0},   // 100 ns later: no new token
		{30*time.Second + 500e6, 100, 0, 1}, // 0.5 s later: one
	}
	for _, s := range steps {
		g, err := p.Plan(at(s.at), one(s.want, s.live))
		if err != nil {
			t.Fatal(err)
		}
		if g[0] != s.grant {
			t.Errorf("Plan(t0+%v, want %d, live %d) = %d, want %d", s.at, s.want, s.live, g[0], s.grant)
		}
	}
	if next := p.NextToken(at(30*time.Second + 500e6)); !next.Equal(at(31 * time.Second)) {
		t.Errorf("NextToken = %v, want t0+31s", next)
	}
	if _, err := p.Plan(t0, []Demand{{ID: "a", Weight: 0}}); err == nil {
		t.Error("Plan accepted weight 0")
	}
}

func TestPacerUpdate(t *testing.T) {
	p, _ := NewPacer(Config{CallsPerSecond: 2, Burst: 5, MaxLive: 10})
	p.Plan(t0, []Demand{{ID: "a", Weight: 1, Want: 5}})
	if err := p.Update(at(time.Second), Config{CallsPerSecond: 10, Burst: 20, MaxLive: 4}); err != nil {
		t.Fatal(err)
	}
	// 2 tokens earned before the update, 10 in the next second; the cap is now 4.
	g, _ := p.Plan(at(2*time.Second), []Demand{{ID: "a", Weight: 1, Want: 100, Live: 1}})
	if g[0] != 3 || p.Config().MaxLive != 4 {
		t.Errorf("after Update: granted %d (want 3), cap %d", g[0], p.Config().MaxLive)
	}
	for want, c := range map[string]Config{
		"calls per second 0":     {CallsPerSecond: 0, Burst: 5, MaxLive: 10},
		"burst 0":                {CallsPerSecond: 2, Burst: 0, MaxLive: 10},
		"concurrency cap 0":      {CallsPerSecond: 2, Burst: 5, MaxLive: 0},
		"concurrency cap 100001": {CallsPerSecond: 2, Burst: 5, MaxLive: 100001},
	} {
		if err := p.Update(t0, c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Update(%+v) = %v, want an error containing %q", c, err, want)
		}
		if _, err := NewPacer(c); err == nil {
			t.Errorf("NewPacer(%+v) accepted", c)
		}
	}
}

// TestSimulatedCampaigns runs campaigns on a simulated clock with random demand, call lengths,
// agents and rates (seeded), places every granted call, and checks from the record of starts
// that: in every interval [a, b] between two starts at most burst + rate × (b − a) calls
// started; live calls never exceeded the cap; a progressive campaign never had more calls in
// flight than floor(agents × ratio) of the moment; unknown agents meant no call.
func TestSimulatedCampaigns(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { simulate(t, seed) })
	}
}

type simCampaign struct {
	id     string
	weight int
	c      Campaign
	ends   []time.Time // end instants of its live calls
	starts int
}

func simulate(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	cfg := Config{CallsPerSecond: 0.5 + 10*rng.Float64(), Burst: 1 + rng.IntN(10), MaxLive: 1 + rng.IntN(30)}
	p, err := NewPacer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var camps []*simCampaign
	for i := range 1 + rng.IntN(5) {
		c := &simCampaign{id: fmt.Sprint("c", i), weight: 1 + rng.IntN(5), c: Campaign{Mode: Agentless}}
		if rng.IntN(2) == 0 {
			c.c = Campaign{Mode: Progressive, AgentRatio: 0.5 + 2*rng.Float64()}
		}
		camps = append(camps, c)
	}
	var starts []time.Time
	now := t0
	for step := 0; step < 3000; step++ {
		now = now.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		var demands []Demand
		live := 0
		for _, c := range camps {
			c.ends = slices.DeleteFunc(c.ends, func(e time.Time) bool { return !e.After(now) })
			live += len(c.ends)
			c.c.InFlight = len(c.ends)
			if c.c.Mode == Progressive {
				if rng.IntN(10) == 0 {
					c.c.Agents = UnknownAgents
				} else {
					c.c.Agents = AvailableAgents(rng.IntN(8))
				}
			}
			want := rng.IntN(6) * rng.IntN(2) // often nothing to dial
			if h, limited := c.c.AgentHeadroom(); limited {
				want = min(want, h)
			}
			demands = append(demands, Demand{ID: c.id, Weight: c.weight, Want: want, Live: len(c.ends)})
		}
		if live > cfg.MaxLive {
			t.Fatalf("step %d: %d live calls, cap %d", step, live, cfg.MaxLive)
		}
		grants, err := p.Plan(now, demands)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range camps {
			for range grants[i] {
				c.ends = append(c.ends, now.Add(time.Duration(1+rng.IntN(40))*time.Second))
				starts = append(starts, now)
				c.starts++
			}
			if c.c.Mode == Progressive {
				n, known := c.c.Agents.Count()
				limit := int(float64(n) * c.c.AgentRatio * 1.000001) // generous float floor, checked independently
				if !known && grants[i] > 0 {
					t.Fatalf("step %d: %s dialed %d with unknown agents", step, c.id, grants[i])
				}
				if known && len(c.ends) > max(limit, c.c.InFlight) {
					t.Fatalf("step %d: %s has %d in flight, agents %d × ratio %.3f", step, c.id, len(c.ends), n, c.c.AgentRatio)
				}
			}
		}
		live = 0
		for _, c := range camps {
			live += len(c.ends)
		}
		if live > cfg.MaxLive {
			t.Fatalf("step %d: %d live calls after starting, cap %d", step, live, cfg.MaxLive)
		}
	}
	// The rate, from the record: any window [starts[i], starts[j]] holds j−i+1 starts.
	for i := range starts {
		for j := i; j < len(starts) && j < i+400; j++ {
			allowed := float64(cfg.Burst) + cfg.CallsPerSecond*starts[j].Sub(starts[i]).Seconds() + 1e-9
			if float64(j-i+1) > allowed {
				t.Fatalf("%d calls started in %v at %.3f/s burst %d", j-i+1, starts[j].Sub(starts[i]), cfg.CallsPerSecond, cfg.Burst)
			}
		}
	}
	if len(starts) < 100 {
		t.Errorf("only %d calls started: the simulation does not exercise the limits", len(starts))
	}
}

// A throttle halves the pacer's rate at once, and it grows back while none comes.
func TestPacerBacksOffOnThrottles(t *testing.T) {
	t0 := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	p, err := NewPacer(Config{CallsPerSecond: 10, Burst: 10, MaxLive: 100})
	if err != nil {
		t.Fatal(err)
	}
	p.Throttled(t0)
	if got := p.Rate(t0); got != 5 {
		t.Errorf("after a throttle: %v a second, want 5", got)
	}
	p.Throttled(t0)
	if got := p.Rate(t0.Add(2 * time.Second)); got != 3.5 { // 2.5 + 2 s x 10/20
		t.Errorf("two throttles, then 2 s: %v, want 3.5", got)
	}
	if got := p.Rate(t0.Add(time.Minute)); got != 10 {
		t.Errorf("a minute later: %v, want the configured 10", got)
	}
}
