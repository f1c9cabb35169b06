package devstack

import (
	"context"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// dialerClock is connectsim's clock as the dialer's outbound.Clock: the dialer's windows, pacing
// and sleeps run on simulated time.
type dialerClock struct{ c connectsim.Clock }

func (d dialerClock) Now() time.Time { return d.c.Now() }

func (d dialerClock) Sleep(ctx context.Context, dur time.Duration) error {
	return sleepSim(ctx, d.c, dur)
}
