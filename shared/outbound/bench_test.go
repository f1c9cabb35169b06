package outbound_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// BenchmarkDialer10k dials 10,000 recipients against connectsim's StartOutboundVoiceContact
// quota (2/s, burst 5, on the simulated clock) with the dialer configured at the same rate, and
// reports the calls per second achieved while recipients were waiting, over the configured rate;
// the dial requests connectsim throttled; ClientTokens used for two contacts (a call placed twice
// for one attempt); and recipients left without a final state. The rig's clock moves only while
// the dialer waits, so the figures are the dialer's, not the machine's.
//
// BENCH_DIALER_RECIPIENTS sets another count (10,000 takes tens of minutes on a busy two-core
// machine: dynalite answers one request at a time).
func BenchmarkDialer10k(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BENCH_DIALER_RECIPIENTS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		world := connectsim.DefaultWorld()
		world.Instances[0].MaxConcurrentCalls = 400
		world.Instances[0].BlockedPrefixes = nil
		// The benchmark measures the dial quota: the other operations get room to spare, because
		// on the rig's clock (time moves only while the dialer waits) a throttled DescribeContact
		// would back off in real time against a bucket whose time stands still.
		world.Throttle = map[string]connectsim.RateLimit{
			connectsim.OpDescribeContact: {Rate: 1000, Burst: 1000}, connectsim.OpGetCurrentMetricData: {Rate: 1000, Burst: 1000},
		}
		r := newRig(b, rigOptions{world: world, start: wed, throttle: true, seed: 5,
			pacing: pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 400}})
		allDay := map[string]any{}
		for _, d := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
			allDay[d] = []map[string]string{{"start": "00:00", "end": "24:00"}}
		}
		if err := r.send("Campaign Launched", campaign("bench", map[string]any{
			"retry": map[string]any{}, "pacing": map[string]any{"maxConcurrentCalls": 400},
			"callingWindows": map[string]any{"weekly": allDay, "enforceUSCallingHours": false},
		})); err != nil {
			b.Fatal(err)
		}
		for k := 0; k < n; k++ {
			if err := r.send("Call Requested", map[string]any{"requestId": fmt.Sprintf("b%05d", k), "campaignId": "bench", "phone": fmt.Sprintf("+1202%07d", k)}); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		c := r.runUntil("bench", 24*60)
		elapsed := time.Since(start)
		if c.Status != "finished" {
			b.Fatalf("campaign %s", c.Status)
		}
		var at []time.Time
		tokens := map[string]bool{}
		dup := 0
		for _, ct := range r.sim.Contacts() {
			if ct.InitiationMethod != "API" {
				continue
			}
			at = append(at, ct.InitiationTimestamp)
			if tokens[ct.ClientToken] {
				dup++
			}
			tokens[ct.ClientToken] = true
		}
		sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
		lost := 0
		for _, rec := range r.recipientsOf("bench") {
			if !rec.State.Final() {
				lost++
				b.Logf("not final: %s %s attempt %d contact %s next %v history %+v", rec.RecipientID, rec.State, rec.Attempt, rec.ContactID, rec.NextAttemptAt, rec.History)
			}
		}
		if len(r.recipientsOf("bench")) != n {
			lost += n - len(r.recipientsOf("bench"))
		}
		achieved := float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
		throttled := r.sim.Stats().Requests[connectsim.OpStartOutboundVoiceContact]["TooManyRequestsException"]
		b.ReportMetric(float64(len(at)), "calls")
		b.ReportMetric(achieved/2, "achieved/configured")
		b.ReportMetric(float64(throttled), "throttled")
		b.ReportMetric(float64(dup), "duplicates")
		b.ReportMetric(float64(lost), "lost")
		b.ReportMetric(elapsed.Seconds(), "wall-s")
		_ = context.Background()
	}
}
