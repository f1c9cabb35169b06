package pacing

import (
	"math"
	"strings"
	"testing"
)

func ptr(f float64) *float64 { return &f }

func TestCapacity(t *testing.T) {
	agentless := Campaign{Mode: Agentless}
	prog := func(agents Agents, ratio float64, inFlight int) Campaign {
		return Campaign{Mode: Progressive, AgentRatio: ratio, Agents: agents, InFlight: inFlight}
	}
	tests := []struct {
		name                  string
		tokens, maxLive, live int
		c                     Campaign
		want                  int
	}{
		{"rate binds", 3, 10, 4, agentless, 3},
		{"cap binds", 8, 10, 4, agentless, 6},
		{"at the cap", 8, 10, 10, agentless, 0},
		{"over a lowered cap: never negative", 8, 10, 12, agentless, 0},
		{"no tokens", 0, 10, 0, agentless, 0},
		{"agents bind: floor(4 x 1.5) - 2", 5, 10, 2, prog(AvailableAgents(4), 1.5, 2), 4},
		{"agents x ratio rounds down: floor(3 x 1.5) = 4", 10, 10, 0, prog(AvailableAgents(3), 1.5, 0), 4},
		{"1.15 x 100 agents is 115, not float's 114", 200, 1000, 0, prog(AvailableAgents(100), 1.15, 0), 115},
		{"in flight above agents x ratio: never negative", 5, 10, 0, prog(AvailableAgents(2), 1, 5), 0},
		{"no agents", 5, 10, 0, prog(AvailableAgents(0), 2, 0), 0},
		{"unknown agents: progressive dials nothing", 5, 10, 0, prog(UnknownAgents, 2, 0), 0},
		{"rate binds a progressive campaign", 1, 10, 0, prog(AvailableAgents(10), 1, 0), 1},
		{"cap binds a progressive campaign", 9, 10, 7, prog(AvailableAgents(10), 1, 0), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Capacity(tt.tokens, tt.maxLive, tt.live, tt.c); got != tt.want {
				t.Errorf("Capacity(%d, %d, %d, %+v) = %d, want %d", tt.tokens, tt.maxLive, tt.live, tt.c, got, tt.want)
			}
		})
	}
	if h, limited := agentless.AgentHeadroom(); limited || h != 0 {
		t.Errorf("agentless headroom = %d, %v; want no limit", h, limited)
	}
}

func TestAgentsFromMetric(t *testing.T) {
	tests := []struct {
		v     *float64
		n     int
		known bool
	}{
		{nil, 0, false}, // Value null: insufficient data
		{ptr(math.NaN()), 0, false},
		{ptr(math.Inf(1)), 0, false},
		{ptr(-1), 0, false},
		{ptr(0), 0, true},
		{ptr(3), 3, true},
		{ptr(3.7), 3, true},
	}
	for _, tt := range tests {
		n, known := AgentsFromMetric(tt.v).Count()
		if n != tt.n || known != tt.known {
			t.Errorf("AgentsFromMetric(%v) = %d, %v; want %d, %v", tt.v, n, known, tt.n, tt.known)
		}
	}
	if AvailableAgents(-2) != UnknownAgents || UnknownAgents.String() != "unknown" || AvailableAgents(4).String() != "4" {
		t.Error("AvailableAgents / String")
	}
}

func TestCampaignValidate(t *testing.T) {
	good := []Campaign{
		{Mode: Agentless},
		{Mode: Progressive, AgentRatio: 1},
		{Mode: Progressive, AgentRatio: 0.001},
		{Mode: Progressive, AgentRatio: 10},
	}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := map[string]Campaign{
		`pacing mode "preview"`: {Mode: "preview"}, // (predictive became a mode in issue 19)
		`pacing mode ""`:        {},
		"agent ratio 0:":        {Mode: Progressive},
		"agent ratio -1":        {Mode: Progressive, AgentRatio: -1},
		"agent ratio 11":        {Mode: Progressive, AgentRatio: 11},
		"agent ratio 0.0004":    {Mode: Progressive, AgentRatio: 0.0004},
		"agent ratio NaN":       {Mode: Progressive, AgentRatio: math.NaN()},
		"calls in flight -1":    {Mode: Agentless, InFlight: -1},
	}
	for want, c := range bad {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v; want an error containing %q", c, err, want)
		}
	}
}
