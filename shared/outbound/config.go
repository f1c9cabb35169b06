package outbound

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// Environment variables of the dialer function (set by the CDK construct).
const (
	EnvCampaignsTable   = "CAMPAIGNS_TABLE"
	EnvDoNotCallTable   = "DO_NOT_CALL_TABLE"
	EnvRecipientsBucket = "RECIPIENTS_BUCKET"
	EnvCallsPerSecond   = "DIAL_CALLS_PER_SECOND"
	EnvBurst            = "DIAL_BURST"
	EnvMaxLive          = "DIAL_MAX_CONCURRENT_CALLS"
	EnvTickBudget       = "TICK_BUDGET"
	// EnvDialConcurrency is how many dials a tick has under way at once (Config.DialConcurrency);
	// EnvWatchdogRate the watchdog's DescribeContact requests a second (Config.WatchdogRate).
	EnvDialConcurrency = "DIAL_CONCURRENCY"
	EnvWatchdogRate    = "DIALER_WATCHDOG_RATE"
	// EnvLeaseTTL and EnvWatchdogAfter are for tests and the local stack; the defaults suit a
	// one-minute schedule.
	EnvLeaseTTL      = "DIALER_LEASE_TTL"
	EnvWatchdogAfter = "DIALER_WATCHDOG_AFTER"
	EnvQuietFor      = "DIALER_QUIET_FOR"
	// EnvLegalHours is the deployment's legal calling hours (callwindow.ParseLegalHours): empty
	// or "default" is the built-in table of federal and state or provincial hours; no campaign
	// can weaken them.
	EnvLegalHours = "DIALER_LEGAL_HOURS"
)

// Settings is the dialer function's configuration from its environment.
type Settings struct {
	CampaignsTable   string
	DoNotCallTable   string
	RecipientsBucket string
	Pacing           pacing.Config
	TickBudget       time.Duration
	LeaseTTL         time.Duration
	WatchdogAfter    time.Duration
	QuietFor         time.Duration
	Legal            callwindow.LegalRules
	DialConcurrency  int
	WatchdogRate     float64
}

// DefaultPacing is Connect's default StartOutboundVoiceContact quota (2/s, burst 5) and 10
// concurrent calls per instance: set the account's own quotas, less what other callers use.
func DefaultPacing() pacing.Config { return pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 10} }

// SettingsFromEnv reads and checks the settings; every problem is named.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{Pacing: DefaultPacing(), TickBudget: 57 * time.Second}
	var errs []error
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	s.CampaignsTable, s.DoNotCallTable, s.RecipientsBucket = get(EnvCampaignsTable), get(EnvDoNotCallTable), get(EnvRecipientsBucket)
	if s.CampaignsTable == "" {
		errs = append(errs, fmt.Errorf("%s is required: the DynamoDB table of the campaigns", EnvCampaignsTable))
	}
	if s.DoNotCallTable == "" {
		errs = append(errs, fmt.Errorf("%s is required: the DynamoDB table of the do-not-call list", EnvDoNotCallTable))
	}
	if v := get(EnvCallsPerSecond); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a number", EnvCallsPerSecond, v))
		}
		s.Pacing.CallsPerSecond = f
	}
	for _, n := range []struct {
		key string
		dst *int
	}{{EnvBurst, &s.Pacing.Burst}, {EnvMaxLive, &s.Pacing.MaxLive}} {
		if v := get(n.key); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", n.key, v))
			}
			*n.dst = i
		}
	}
	if err := s.Pacing.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s/%s/%s: %w", EnvCallsPerSecond, EnvBurst, EnvMaxLive, err))
	}
	if v := get(EnvTickBudget); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 5*time.Second || d > 14*time.Minute {
			errs = append(errs, fmt.Errorf("%s: %q, want a duration from 5s to 14m (below the function's timeout)", EnvTickBudget, v))
		}
		s.TickBudget = d
	}
	for _, x := range []struct {
		key      string
		dst      *time.Duration
		min, max time.Duration
	}{{EnvLeaseTTL, &s.LeaseTTL, 2 * time.Second, 15 * time.Minute}, {EnvWatchdogAfter, &s.WatchdogAfter, time.Second, time.Hour}, {EnvQuietFor, &s.QuietFor, time.Second, 10 * time.Minute}} {
		if v := get(x.key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < x.min || d > x.max {
				errs = append(errs, fmt.Errorf("%s: %q, want a duration from %v to %v", x.key, v, x.min, x.max))
			}
			*x.dst = d
		}
	}
	if v := get(EnvDialConcurrency); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 1 || i > MaxDialConcurrency {
			errs = append(errs, fmt.Errorf("%s: %q, want a whole number from 1 to %d", EnvDialConcurrency, v, MaxDialConcurrency))
		}
		s.DialConcurrency = i
	}
	if v := get(EnvWatchdogRate); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0.1 && f <= 1000) {
			errs = append(errs, fmt.Errorf("%s: %q, want requests a second from 0.1 to 1000", EnvWatchdogRate, v))
		}
		s.WatchdogRate = f
	}
	legal, err := callwindow.ParseLegalHours(get(EnvLegalHours))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvLegalHours, err))
	}
	s.Legal = legal
	return s, errors.Join(errs...)
}

// RealClock is the wall clock, for the deployed function.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
