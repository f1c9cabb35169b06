// Package predictive decides how many calls an outbound campaign places ahead of its agents.
// Abandoned calls stay at or under the legal ceilings by construction, and agents are kept as
// busy as that allows.
//
// The rules: in the US, at most 3 % of the calls answered by a person abandoned, per
// campaign, over 30 days (the FTC's safe harbour, 16 CFR 310.4(b)(4)(i)); in the UK, as
// DESIGN.md gives Ofcom's persistent misuse policy, at most 3 % of live calls per campaign over
// 24 hours, an answering-machine detection false positive counting as abandoned. A call is
// abandoned when no agent takes it within 2 seconds (16 CFR 310.4(b)(1)(iv): of the person's
// completed greeting; here, of the answer the dialer sees). Amazon Connect's Outbound Campaigns holds a target over 1 to 24 hours only; this
// package holds a rolling 24 hours and a rolling 30 days at once, plus the FTC's successive
// 30-day periods.
//
// Everything here is pure: no AWS, no I/O, no clock. Every function takes the instant it
// decides at, so the dialer can run it on a simulated clock and tests can work it out by hand.
//
// # What it measures: Estimator
//
// One CallRecord per finished call: who answered (a person, a machine, nobody), how long after
// the dial (or, unanswered, when the call ended), and for a call an agent took, the talk and
// the after-contact work. From these it keeps the share of dials answered by a person and by
// a machine, exponentially weighted over the last thousand or so dials, and the distributions
// of the times (Hist: fixed bins, weighted over the last 300 or so). A prior of 20 pseudo-calls
// half answered by a person fades with the data: it makes the first plans cautious.
// Decide takes the upper end of the one-sided 95 % Wilson interval of the person share
// (WilsonUpper, z = 1.645): fewer calls measured, a wider interval, fewer calls dialled. That
// is what keeps a small team's first hours cautious.
//
// # What it may lose: Budget
//
// The ledger of the campaign's live calls and abandoned calls, by the hour, for 30 days and
// an hour (at most 721 buckets, JSON for the integrator to store). Remaining says, for each
// window, how many abandoned calls it still takes: its slack, target × live − abandoned. The
// counts overstate the rate of every window ending within the next hour. A bucket's abandoned
// calls count if it reaches into the window; its live calls count only if it stays inside it
// for the next hour. A window of successive periods (the FTC's) starts from nothing at each
// period, and allows nothing in the last hour of one.
//
// # What it decides: Decide
//
// Given the agents available now, the busy agents (since when they talk, or wrap up), the
// calls placed and not yet with an agent, the calls answered whose fate is not yet in the
// budget, the rate and concurrency allowance, the estimates and the budget's allowance:
//
//  1. No agent count from Connect: nothing is dialled.
//  2. Fewer than 200 calls observed (or fewer than 30 timed): progressive, at most one call
//     waiting per available agent (available − waiting).
//  3. The guard. The worst case is that every call waiting beyond the agents available now, and
//     every unsettled one, is abandoned. It must fit in the least slack of the windows. New
//     calls beyond progressive are limited to what keeps it so; if not even one fits, the
//     campaign dials progressive ("budget spent").
//  4. The forecast: the largest number of new calls, within the caps, the guard and a dial level
//     of 3 calls waiting per agent available or soon free (VICIdial's ceiling), whose forecast
//     loses at most PlanRate (1 %) of the answers of every call in flight.
//
// # Why the rules hold whatever the forecast says
//
// A progressive call always has an idle agent of its own. Every other call is covered by
// slack that the windows still have, as if it were abandoned. So no window can go over the
// target, provided that:
//   - the ledger counts what a regulator counts;
//   - the agents available now stay for the few seconds a call rings;
//   - every call is settled within an hour.
//
// The forecast only buys occupancy. TestSimulationMisledEstimator gives the controller
// estimates that expect half the answers that come, for a whole run. Every rolling 24-hour
// window still ends at or under 3 %.
//
// # The forecast
//
// The next seconds are cut into slots of the connection threshold (2 s). The forecast covers as
// many slots as the longest time to answer measured.
//
// Answers come from two kinds of call:
//   - A call ringing for τ seconds is answered by a person in a slot with the chance of that,
//     among the outcomes still possible after τ. Machines that answer sooner, and unanswered
//     calls that end sooner, are out.
//   - A call dialled now is answered with the upper bound of p_person, at the measured times.
//
// A busy agent frees when its remaining talk (given the talk so far) and its after-contact
// work are over. It counts as free θ − slot/2 earlier, θ being the connection threshold.
// First-come-first-served answers that never return within the horizon lose sup over s of
// (N(s) − S(s + θ))⁺ calls, so waiting up to θ is the same as agents free θ earlier; the half
// slot corrects the frees-first order within a slot. An agent sure to free within two slots
// frees in one.
//
// The forecast then follows, slot by slot, the joint distribution of idle agents and calls
// answered so far. Frees in a slot are a Poisson binomial sum. The calls are treated as
// exchangeable: each unanswered call is answered in the slot with the mean hazard, so no call
// is answered twice. The count is binomial, at least as spread as the truth. An answer finding
// no idle agent is abandoned. This is exact for a binomial tail (E[(X − A)+] with X ~
// Binomial(n, p): TestForecastHand). Against an independent Monte Carlo of the same situation
// (TestForecastAgainstMonteCarlo) it errs on the side of abandonment: within 15 % for small
// teams, up to 1.3 times the truth at 20 to 50 agents.
//
// The forecast does not see the calls that the next seconds' decisions will add, which take
// some of the agents it counted on. In simulation the realised rate runs at 1.25 to 1.5 times
// the plan at 20 and 50 agents, and under it at 5. PlanRate is a third of the target for that
// reason.
//
// # Figures
//
// TestSimulation's workload: a person answers 30 % of the dials and a machine 10 %, 5-25 s
// after the dial. Agents talk 2-6 minutes and wrap up for 30 s. Connect's default rate of 2
// calls a second with a burst of 5. Over 26 simulated hours and three seeds:
//
//	agents  occupancy  talk min/agent-hour  abandoned (overall, worst rolling 24 h)
//	  5     0.84-0.85  45                   0.27-0.68 %, 0.38-0.74 %
//	 20     0.904      48                   1.25-1.35 %, 1.41-1.62 %
//	 50     0.94       50                   1.23-1.47 %, 1.49-1.58 %
//
// Progressive 1:1 on the same workload: occupancy 0.80 (42.6 talk minutes an agent-hour), no
// abandoned call. The ceiling at full occupancy is 53.3 (talk is 240 of every 270 seconds).
// Occupancy is Amazon Connect's: time on contact, after-contact work included, over that time
// plus idle time.
//
// Decide costs about 6 µs for 5 agents, 10 µs for 20 and 70-80 µs for 50. With 5 s of
// after-contact work, where talking agents enter the forecast, it costs 150-220 µs for 50.
// For 200 agents it costs 0.15 ms (BenchmarkDecide, a shared 2-core machine). It runs once a
// second per campaign.
package predictive
