// Package pacing is the arithmetic of how many outbound calls may start now, and for which
// campaign.
//
// Three limits hold at once: the API rate of StartOutboundVoiceContact (a token bucket,
// Bucket, whose tokens come back whole when a grant places no call), the cap on live calls of the instance, and in
// progressive mode the available agents times the campaign's ratio, less its calls in flight
// (Capacity and Campaign). Campaigns running at once share the rate and the cap by weight
// (Scheduler: weighted max-min shares of the cap, stride scheduling of the tokens), and a
// campaign with nothing to dial leaves its share to the others. Pacer ties the three together.
//
// The quotas are per account and Region and shared with every other caller, so every number
// here is configuration, never a constant, and nothing reads the clock: each function takes
// the instant, so the dialer can run on a simulated clock.
package pacing
