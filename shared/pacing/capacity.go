package pacing

import (
	"fmt"
	"math"
)

// Mode is how a campaign paces its calls.
type Mode string

const (
	// Agentless campaigns play a message or run a flow without agents: only the rate and the
	// cap limit them.
	Agentless Mode = "agentless"
	// Progressive campaigns dial at most the available agents times the ratio, less the
	// calls already in flight.
	Progressive Mode = "progressive"
	// Predictive campaigns dial ahead of the agents as far as shared/predictive allows under
	// the abandonment budget; they fall back to progressive (ratio 1) when it says so.
	Predictive Mode = "predictive"
)

// MaxAgentRatio bounds the calls per available agent of a progressive campaign.
const MaxAgentRatio = 10

// Agents is a count of available agents, or unknown.
//
// GetCurrentMetricData answers with an empty MetricResults list when it "cannot find any
// data", and a metric's Value is null when "the calculation cannot be performed due to divide
// by zero or insufficient data" (Connect API reference, GetCurrentMetricData). Both are
// Unknown, never zero-by-default and never the last value seen.
type Agents struct {
	n     int
	known bool
}

// UnknownAgents is the count when Connect gave none.
var UnknownAgents = Agents{}

// AvailableAgents is a known count; a negative n is unknown.
func AvailableAgents(n int) Agents {
	if n < 0 {
		return UnknownAgents
	}
	return Agents{n: n, known: true}
}

// AgentsFromMetric reads the Value of an AGENTS_AVAILABLE metric (a *float64 in the SDK): nil,
// NaN, infinite or negative is unknown; a fraction is rounded down.
func AgentsFromMetric(v *float64) Agents {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0 || *v > math.MaxInt32 {
		return UnknownAgents
	}
	return AvailableAgents(int(math.Floor(*v)))
}

// Count returns the count and whether it is known.
func (a Agents) Count() (int, bool) { return a.n, a.known }

func (a Agents) String() string {
	if !a.known {
		return "unknown"
	}
	return fmt.Sprint(a.n)
}

// Campaign is what one campaign contributes to its own limit.
type Campaign struct {
	Mode Mode
	// AgentRatio is the calls per available agent (progressive only), more than 0 and at most
	// MaxAgentRatio; it is taken to three decimals, so that 1.15 × 100 agents is 115 calls and
	// not the 114 of floating point.
	AgentRatio float64
	// Agents available for the campaign's queue (progressive only).
	Agents Agents
	// InFlight is the campaign's calls dialing or connected.
	InFlight int
}

// Validate checks the mode, and the ratio of a progressive campaign.
func (c Campaign) Validate() error {
	switch c.Mode {
	case Agentless, Predictive:
	case Progressive:
		if math.IsNaN(c.AgentRatio) || c.AgentRatio <= 0 || c.AgentRatio > MaxAgentRatio || ratioMilli(c.AgentRatio) == 0 {
			return fmt.Errorf("agent ratio %v: want at least 0.001 and at most %d", c.AgentRatio, MaxAgentRatio)
		}
	default:
		return fmt.Errorf("pacing mode %q: want %q, %q or %q", c.Mode, Agentless, Progressive, Predictive)
	}
	if c.InFlight < 0 {
		return fmt.Errorf("calls in flight %d: negative", c.InFlight)
	}
	return nil
}

func ratioMilli(r float64) int64 { return int64(math.Round(r * 1000)) }

// AgentHeadroom returns how many more calls the campaign's agents allow: for a progressive
// campaign floor(agents × ratio) − in flight, at least 0, and 0 when the agent count is
// unknown (a progressive campaign dials nothing blind); limited is false for an agentless
// campaign, which has no agent limit.
func (c Campaign) AgentHeadroom() (headroom int, limited bool) {
	if c.Mode != Progressive {
		return 0, false
	}
	n, known := c.Agents.Count()
	if !known {
		return 0, true
	}
	allowed := int64(n) * ratioMilli(c.AgentRatio) / 1000
	return int(max(0, allowed-int64(c.InFlight))), true
}

// Capacity is how many calls one campaign may start now when it runs alone:
// min(tokens, maxLive − live, and in progressive mode floor(agents × ratio) − in flight),
// never negative. live counts every live call of the instance, the campaign's included.
// With several campaigns use a Scheduler, which shares tokens and cap by weight.
func Capacity(tokens, maxLive, live int, c Campaign) int {
	n := min(tokens, maxLive-live)
	if h, limited := c.AgentHeadroom(); limited {
		n = min(n, h)
	}
	return max(0, n)
}
