package pacing

import "time"

// AIMD adapts the rate the dialer asks of Connect to what Connect grants: every throttle
// (ThrottlingException, TooManyRequestsException: the account's quota is shared with every other
// caller, and another caller may be using it) halves the rate; every second without one adds back
// a twentieth of the configured rate, up to it (additive increase, multiplicative decrease, as
// TCP's congestion control and the AWS SDKs' adaptive retry mode do). It is pure: instants are
// passed in.
type AIMD struct {
	// Configured is the rate the dialer is configured for (the ceiling); Floor the least it
	// falls to (a tenth of it).
	Configured, Floor float64
	rate              float64
	at                time.Time
}

// NewAIMD starts at the configured rate.
func NewAIMD(configured float64) *AIMD {
	return &AIMD{Configured: configured, Floor: configured / 10, rate: configured}
}

// aimdRecovery is the share of the configured rate regained per second without a throttle: from
// the floor to the full rate in 18 s.
const aimdRecovery = 1.0 / 20

// Rate is the rate to use at now.
func (a *AIMD) Rate(now time.Time) float64 {
	a.advance(now)
	return a.rate
}

// Throttled halves the rate at now (not below the floor).
func (a *AIMD) Throttled(now time.Time) float64 {
	a.advance(now)
	a.rate = max(a.Floor, a.rate/2)
	return a.rate
}

func (a *AIMD) advance(now time.Time) {
	if !a.at.IsZero() && now.After(a.at) {
		a.rate = min(a.Configured, a.rate+now.Sub(a.at).Seconds()*aimdRecovery*a.Configured)
	}
	if now.After(a.at) {
		a.at = now
	}
}
