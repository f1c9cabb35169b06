package pacing

import (
	"cmp"
	"fmt"
	"slices"
)

// MaxWeight bounds a campaign's weight.
const MaxWeight = 10000

// maxIDLen bounds a campaign ID in a Demand.
const maxIDLen = 256

// strideUnit is the pass a campaign of weight 1 advances per call. A multiple of every
// weight up to MaxWeight would make strides exact; 10^12 keeps the rounding error of a
// stride below 10^-8 of it, far below one call over any campaign's life.
const strideUnit = 1_000_000_000_000

// Demand is one running campaign in one allocation round.
type Demand struct {
	// ID names the campaign; unique within a round.
	ID string
	// Weight is the campaign's share of the rate and the cap, 1 to MaxWeight.
	Weight int
	// Want is the calls the campaign could start now: its due recipients, already limited by
	// its own agent headroom (Campaign.AgentHeadroom) in progressive mode.
	Want int
	// Live is the campaign's live calls, which hold part of the shared cap.
	Live int
	// MaxLive, when more than 0, is the campaign's own cap on its live calls, under the
	// shared one.
	MaxLive int
}

// Scheduler shares new calls between campaigns running at once. It keeps a stride-scheduling
// pass per campaign between rounds, so that over many rounds of few tokens each campaign with
// something to dial gets calls in proportion to its weight, and none starves. It is not safe
// for concurrent use (Pacer locks it).
type Scheduler struct {
	pass map[string]uint64
	vt   uint64 // virtual time: the pass of the last campaign served
}

// NewScheduler returns a scheduler with no history.
func NewScheduler() *Scheduler { return &Scheduler{pass: map[string]uint64{}} }

// Allocate hands out at most min(tokens, maxLive − Σ live) new calls and returns each
// campaign's grant, in the order of demands. A campaign never gets more than it wants, nor
// more than its share of the cap less its live calls: the cap is shared by weighted max-min
// fairness over live + want, so a campaign that needs less than its share leaves the rest to
// the others, and one above its share (after others arrived) starts nothing until its calls
// end. Tokens go one at a time to the eligible campaign with the lowest pass, which then
// advances by strideUnit / weight. A campaign that had nothing to dial rejoins one stride
// after the current virtual time: it is not owed the calls it did not want. Campaigns absent
// from demands are forgotten.
//
// Every live call of the instance must be counted: a paused campaign's calls as a Demand with
// Want 0, calls outside any campaign (one-off callbacks) by lowering maxLive by their number.
func (s *Scheduler) Allocate(tokens, maxLive int, demands []Demand) ([]int, error) {
	if tokens < 0 || maxLive < 0 {
		return nil, fmt.Errorf("tokens %d, cap %d: negative", tokens, maxLive)
	}
	seen := make(map[string]bool, len(demands))
	live := 0
	for _, d := range demands {
		switch {
		case d.ID == "" || len(d.ID) > maxIDLen:
			return nil, fmt.Errorf("campaign ID of %d bytes: want 1 to %d", len(d.ID), maxIDLen)
		case seen[d.ID]:
			return nil, fmt.Errorf("campaign %s twice in one round", d.ID)
		case d.Weight < 1 || d.Weight > MaxWeight:
			return nil, fmt.Errorf("campaign %s: weight %d, want 1 to %d", d.ID, d.Weight, MaxWeight)
		case d.Want < 0 || d.Live < 0 || d.MaxLive < 0:
			return nil, fmt.Errorf("campaign %s: want %d, live %d, own cap %d: negative", d.ID, d.Want, d.Live, d.MaxLive)
		}
		seen[d.ID] = true
		live += d.Live
	}
	for id := range s.pass {
		if !seen[id] {
			delete(s.pass, id)
		}
	}

	// A campaign new, or back after a time with nothing to dial, joins as if it had just
	// been served: one stride after the virtual time, owed nothing.
	for _, d := range demands {
		if p, ok := s.pass[d.ID]; d.Want > 0 && (!ok || p < s.vt) {
			s.pass[d.ID] = s.vt + stride(d)
		}
	}
	demands = slices.Clone(demands)
	for i, d := range demands {
		if d.MaxLive > 0 {
			// The campaign's own cap only lowers what it can use of the shared one.
			demands[i].Want = max(0, min(d.Want, d.MaxLive-d.Live))
		}
	}
	shares := s.capShares(maxLive, demands)
	eligible := make([]int, len(demands))
	for i, d := range demands {
		eligible[i] = max(0, min(d.Want, shares[i]-d.Live))
	}
	grants := make([]int, len(demands))
	for free := max(0, min(tokens, maxLive-live)); free > 0; free-- {
		best := -1
		for i, d := range demands {
			if grants[i] >= eligible[i] {
				continue
			}
			if best < 0 || s.before(d, demands[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		d := demands[best]
		grants[best]++
		s.vt = s.pass[d.ID]
		s.pass[d.ID] += stride(d)
	}
	s.rebase()
	return grants, nil
}

func stride(d Demand) uint64 { return strideUnit / uint64(d.Weight) }

// before orders campaigns by pass, then ID, so rounds are deterministic.
func (s *Scheduler) before(a, b Demand) bool {
	if c := cmp.Compare(s.pass[a.ID], s.pass[b.ID]); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// capShares splits maxLive by weight among the campaigns that need part of it (need = live +
// want), never giving one more than it needs and passing the surplus on to the others
// (weighted water-filling). The whole-call remainder goes to the campaigns with the largest
// fractions, ties to the lowest pass, so no campaign is always the one left out.
func (s *Scheduler) capShares(maxLive int, demands []Demand) []int {
	shares := make([]int, len(demands))
	var active []int
	for i, d := range demands {
		if d.Live+d.Want > 0 {
			active = append(active, i)
		}
	}
	remaining := int64(maxLive)
	for len(active) > 0 && remaining > 0 {
		var weights int64
		for _, i := range active {
			weights += int64(demands[i].Weight)
		}
		// Campaigns whose need is within their fair part keep their need; the others share
		// what is left in the next pass.
		var rest []int
		satisfied := int64(0)
		for _, i := range active {
			d := demands[i]
			if need := int64(d.Live + d.Want); need*weights <= remaining*int64(d.Weight) {
				shares[i] = int(need)
				satisfied += need
			} else {
				rest = append(rest, i)
			}
		}
		if len(rest) < len(active) {
			remaining -= satisfied
			active = rest
			continue
		}
		// Everyone needs more than their fair part: split remaining by weight.
		type frac struct {
			i   int
			rem int64
		}
		fracs := make([]frac, 0, len(active))
		given := int64(0)
		for _, i := range active {
			q := remaining * int64(demands[i].Weight)
			shares[i] = int(q / weights)
			given += q / weights
			fracs = append(fracs, frac{i, q % weights})
		}
		slices.SortFunc(fracs, func(a, b frac) int {
			if c := cmp.Compare(b.rem, a.rem); c != 0 {
				return c
			}
			if s.before(demands[a.i], demands[b.i]) {
				return -1
			}
			return 1
		})
		for k := int64(0); k < remaining-given; k++ {
			shares[fracs[k].i]++
		}
		break
	}
	return shares
}

// rebase keeps passes far from overflow: a weight-1 campaign advances 10^12 a call, so 2^62
// is reached after 4.6 million calls. Order is kept; campaigns below the virtual time would be
// raised to it on their next eligible round anyway.
func (s *Scheduler) rebase() {
	if s.vt < 1<<62 {
		return
	}
	for id, p := range s.pass {
		s.pass[id] = max(p, s.vt) - s.vt
	}
	s.vt = 0
}
