package outbound_test

import (
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSettingsFromEnv(t *testing.T) {
	s, err := outbound.SettingsFromEnv(env(map[string]string{"CAMPAIGNS_TABLE": "c", "DO_NOT_CALL_TABLE": "d"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Pacing != (pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 10}) || s.TickBudget != 57*time.Second || s.RecipientsBucket != "" {
		t.Errorf("defaults %+v", s)
	}
	s, err = outbound.SettingsFromEnv(env(map[string]string{"CAMPAIGNS_TABLE": "c", "DO_NOT_CALL_TABLE": "d", "RECIPIENTS_BUCKET": "b",
		"DIAL_CALLS_PER_SECOND": "7.5", "DIAL_BURST": "10", "DIAL_MAX_CONCURRENT_CALLS": "40", "TICK_BUDGET": "40s", "DIALER_LEASE_TTL": "5s", "DIALER_WATCHDOG_AFTER": "10s"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Pacing != (pacing.Config{CallsPerSecond: 7.5, Burst: 10, MaxLive: 40}) || s.TickBudget != 40*time.Second || s.RecipientsBucket != "b" || s.LeaseTTL != 5*time.Second || s.WatchdogAfter != 10*time.Second {
		t.Errorf("set %+v", s)
	}
	_, err = outbound.SettingsFromEnv(env(map[string]string{"DIAL_CALLS_PER_SECOND": "fast", "DIAL_BURST": "0", "TICK_BUDGET": "1h", "DIALER_LEASE_TTL": "1s"}))
	for _, want := range []string{"CAMPAIGNS_TABLE is required", "DO_NOT_CALL_TABLE is required", `DIAL_CALLS_PER_SECOND: "fast"`, "DIAL_BURST", `TICK_BUDGET: "1h"`, `DIALER_LEASE_TTL: "1s"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// What main does (awsclient.Build over FromLambdaEnv) names the AWS environment's problems, the
// clients' settings' and the dialer's own at once, before any client is built.
func TestBuildNamesEveryProblemAtOnce(t *testing.T) {
	for k, v := range map[string]string{
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"CAMPAIGNS_TABLE": "", "DO_NOT_CALL_TABLE": "d", "DIAL_BURST": "0", "CONNECT_MAX_ATTEMPTS": "many",
	} {
		t.Setenv(k, v)
	}
	_, err := awsclient.Build(outbound.FromLambdaEnv, slog.New(slog.DiscardHandler))
	for _, want := range []string{"AWS_REGION is not set", "AWS_ACCESS_KEY_ID", "CAMPAIGNS_TABLE is required", "DIAL_BURST", "CONNECT_MAX_ATTEMPTS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// The deployment's legal hours: the built-in table unless set, and no way to switch them off
// by accident ("none" is refused; only the explicit LegalHoursOff spec turns them off).
func TestLegalHoursSetting(t *testing.T) {
	base := map[string]string{"CAMPAIGNS_TABLE": "c", "DO_NOT_CALL_TABLE": "d"}
	s, err := outbound.SettingsFromEnv(env(base))
	if err != nil || s.Legal.String() != callwindow.DefaultLegalHours {
		t.Errorf("default legal hours %q, %v; want %q", s.Legal.String(), err, callwindow.DefaultLegalHours)
	}
	for _, bad := range []string{"none", "off", "false", "US-NY mon-fri 09:00-20:00"} {
		m := maps.Clone(base)
		m[outbound.EnvLegalHours] = bad
		if _, err := outbound.SettingsFromEnv(env(m)); err == nil || !strings.Contains(err.Error(), outbound.EnvLegalHours) {
			t.Errorf("%s=%q: %v, want refused", outbound.EnvLegalHours, bad, err)
		}
	}
}
