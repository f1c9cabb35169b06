package soak_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/local/soak"
)

// seed is SOAK_SEED when set (to replay a run), else def.
func seed(t *testing.T, def uint64) uint64 {
	t.Helper()
	v := os.Getenv("SOAK_SEED")
	if v == "" {
		return def
	}
	s, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("SOAK_SEED=%q is not a whole number", v)
	}
	return s
}

func run(t *testing.T, cfg soak.Config) {
	t.Logf("seed %d: replay with SOAK_SEED=%d", cfg.Seed, cfg.Seed)
	problems, stats := soak.Run(t, cfg)
	t.Logf("figures:\n%s", stats.Format())
	for _, p := range problems {
		t.Error(p)
	}
	// A run must have exercised what it checks, or its silence proves nothing.
	if stats.Calls == 0 || stats.DialerStarts < 3 || stats.OptOuts == 0 || stats.FlowInvocations == 0 {
		t.Errorf("the run did too little to judge: %d calls, %d dialer starts, %d opt-outs, %d contact-flow invocations", stats.Calls, stats.DialerStarts, stats.OptOuts, stats.FlowInvocations)
	}
	if cfg.Executions > 1 && len(stats.CallsByPartition) < cfg.Executions {
		t.Errorf("calls by partition %v: not every one of the %d executions dialled", stats.CallsByPartition, cfg.Executions)
	}
	if stats.DynamoFaults[faultproxy.DropAfter]+stats.DynamoFaults[faultproxy.InternalAfter] == 0 || len(stats.DynamoFaults) < 3 {
		t.Errorf("DynamoDB faults %v: the run did not inject the kinds it claims", stats.DynamoFaults)
	}
	if t.Failed() {
		t.Logf("replay with SOAK_SEED=%d", cfg.Seed)
	}
}

// TestReliabilityShort is the suite's short run inside `make test`: one campaign of 10
// recipients, about a minute.
func TestReliabilityShort(t *testing.T) {
	if testing.Short() {
		t.Skip("reliability suite: processes, dynalite and a minute of wall time")
	}
	cfg := soak.Config{
		Seed: seed(t, 1), Recipients: 10, FaultRate: 0.2,
		KillMin: 3 * time.Second, KillMax: 8 * time.Second, CampaignTimeout: 4 * time.Minute,
		Executions: 2, // each tick spread over two partitions, run at once
	}
	run(t, cfg)
}

// executions is SOAK_EXECUTIONS (default 2): the partitions each tick is spread over.
func executions(t *testing.T) int {
	v := os.Getenv("SOAK_EXECUTIONS")
	if v == "" {
		return 2
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > soak.MaxLive {
		t.Fatalf("SOAK_EXECUTIONS=%q: want 1 to %d", v, soak.MaxLive)
	}
	return n
}

// TestSoak is `make soak`: campaigns of 50 recipients with retries, back to back, for
// SOAK_DURATION (a random seed unless SOAK_SEED is set).
func TestSoak(t *testing.T) {
	v := os.Getenv("SOAK_DURATION")
	if v == "" {
		t.Skip("SOAK_DURATION is not set: run `make soak`")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("SOAK_DURATION=%q is not a positive duration like 10m", v)
	}
	run(t, soak.Config{
		Seed: seed(t, rand.Uint64()%1_000_000), Duration: d, Recipients: 50, FaultRate: 0.2, Retries: true,
		KillMin: 2 * time.Second, KillMax: 8 * time.Second, CampaignTimeout: 15 * time.Minute,
		Executions: executions(t),
	})
}
