package outbound_test

import (
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
		b.ReportMetric(float64(maxConcurrent(r.sim.Contacts(), nil)), "max-concurrent(cap-400)")
		throttled := r.sim.Stats().Requests[connectsim.OpStartOutboundVoiceContact]["TooManyRequestsException"]
		b.ReportMetric(float64(len(at)), "calls")
		b.ReportMetric(achieved/2, "achieved/configured")
		b.ReportMetric(float64(throttled), "throttled")
		b.ReportMetric(float64(dup), "duplicates")
		b.ReportMetric(float64(lost), "lost")
		b.ReportMetric(elapsed.Seconds(), "wall-s")
	}
}

// BenchmarkDialerProgressive dials a progressive campaign of 600 answered numbers with 10 agents,
// at agent ratios 1.0 and 1.5, through connectsim's queue (the call waits there for a free
// agent, the customer hanging up after connectsim's patience), and reports from connectsim's own
// record: agent occupancy (the share of the agents' time from the first call to the last
// disconnect that they spent connected to a customer), the abandoned share (calls answered that
// never reached an agent, of those answered), and the highest number of the campaign's calls
// ringing or queued at once (dialled, not yet with an agent) against agents × ratio.
// BENCH_PROGRESSIVE_RECIPIENTS sets another count.
func BenchmarkDialerProgressive(b *testing.B) {
	n := 600
	if v, err := strconv.Atoi(os.Getenv("BENCH_PROGRESSIVE_RECIPIENTS")); err == nil && v > 0 {
		n = v
	}
	for _, ratio := range []float64{1.0, 1.5} {
		b.Run(fmt.Sprintf("ratio-%.1f", ratio), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := runProgressive(b, 10, ratio, n)
				b.ReportMetric(float64(p.calls), "calls")
				b.ReportMetric(p.occupancy, "occupancy")
				b.ReportMetric(p.abandonedShare, "abandoned-share")
				b.ReportMetric(float64(p.maxRinging), fmt.Sprintf("max-ringing-or-queued(agents-x-ratio-%d)", int(10*ratio)))
				b.ReportMetric(float64(p.maxInFlight), "max-in-flight")
				b.ReportMetric(float64(p.lost), "lost")
				b.ReportMetric(p.simMinutes, "sim-minutes")
				b.ReportMetric(p.wall.Seconds(), "wall-s")
			}
		})
	}
}

// Defect 9 of issue 17: progressive pacing counted every call in flight against the available
// agents, though AGENTS_AVAILABLE already leaves out the agents on calls: with 10 agents at ratio
// 1.5 only about half of them were ever busy (occupancy 0.516 in BenchmarkDialerProgressive). The
// invariant is: calls ringing or queued at most available agents × ratio.
func TestProgressivePacingKeepsTheAgentsBusy(t *testing.T) {
	p := runProgressive(t, 10, 1.0, 150)
	if p.maxRinging > 10 {
		t.Errorf("%d calls ringing or queued at once, more than 10 agents × 1.0", p.maxRinging)
	}
	// One call per free agent cannot keep an agent busy while the next call rings: with
	// connectsim's default world (talk 30 s-3 min, 105 s on average; 30 s of after-contact work;
	// a few seconds of ringing and flow) the ceiling is about 105/150 = 0.7. The old pacing,
	// counting calls with agents against the free agents, reached 0.43 here.
	if p.occupancy < 0.6 {
		t.Errorf("agent occupancy %.3f, want at least 0.6 with one call per free agent", p.occupancy)
	}
	if p.lost > 0 {
		t.Errorf("%d recipients not final", p.lost)
	}
}

type progressiveRun struct {
	calls, lost, maxRinging, maxInFlight  int
	occupancy, abandonedShare, simMinutes float64
	wall                                  time.Duration
}

// runProgressive runs one progressive campaign of n answered numbers with agents agents at
// ratio, and measures it from connectsim's record.
func runProgressive(tb testing.TB, agents int, ratio float64, n int) progressiveRun {
	world := connectsim.DefaultWorld()
	world.Instances[0].MaxConcurrentCalls = 100
	world.Instances[0].BlockedPrefixes = nil
	world.Instances[0].Agents = nil
	for a := 0; a < agents; a++ {
		world.Instances[0].Agents = append(world.Instances[0].Agents, connectsim.Agent{ID: fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", a+1), Name: fmt.Sprintf("agent%d", a+1), Status: connectsim.AgentAvailable})
	}
	world.Calls.NumberOutcomes = map[string]string{}
	for k := 0; k < n; k++ {
		world.Calls.NumberOutcomes[fmt.Sprintf("+1202%07d", k)] = connectsim.OutcomeAnswered
	}
	world.Throttle = map[string]connectsim.RateLimit{
		connectsim.OpDescribeContact: {Rate: 1000, Burst: 1000}, connectsim.OpGetCurrentMetricData: {Rate: 1000, Burst: 1000},
	}
	r := newRig(tb, rigOptions{world: world, start: wed, throttle: true, seed: 7,
		pacing: pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 100}})
	allDay := map[string]any{}
	for _, d := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
		allDay[d] = []map[string]string{{"start": "00:00", "end": "24:00"}}
	}
	if err := r.send("Campaign Launched", campaign("prog", map[string]any{
		"mode": "progressive", "retry": map[string]any{},
		"pacing":         map[string]any{"maxConcurrentCalls": 100, "agentsRatio": ratio},
		"callingWindows": map[string]any{"weekly": allDay, "enforceUSCallingHours": false},
	})); err != nil {
		tb.Fatal(err)
	}
	for k := 0; k < n; k++ {
		if err := r.send("Call Requested", map[string]any{"requestId": fmt.Sprintf("p%05d", k), "campaignId": "prog", "phone": fmt.Sprintf("+1202%07d", k)}); err != nil {
			tb.Fatal(err)
		}
	}
	start := time.Now()
	c := r.runUntil("prog", 24*60)
	var p progressiveRun
	p.wall = time.Since(start)
	if c.Status != "finished" {
		tb.Fatalf("campaign %s", c.Status)
	}
	var first, last time.Time
	var talk time.Duration
	answered, abandoned := 0, 0
	contacts := r.sim.Contacts()
	for _, ct := range contacts {
		if ct.InitiationMethod != "API" {
			continue
		}
		p.calls++
		if first.IsZero() || ct.InitiationTimestamp.Before(first) {
			first = ct.InitiationTimestamp
		}
		if ct.DisconnectTimestamp.After(last) {
			last = ct.DisconnectTimestamp
		}
		if !ct.ConnectedToSystemTimestamp.IsZero() {
			answered++
			if ct.ConnectedToAgentTimestamp.IsZero() {
				abandoned++
			}
		}
		if !ct.ConnectedToAgentTimestamp.IsZero() {
			talk += ct.DisconnectTimestamp.Sub(ct.ConnectedToAgentTimestamp)
		}
	}
	for _, rec := range r.recipientsOf("prog") {
		if !rec.State.Final() {
			p.lost++
		}
	}
	p.occupancy = talk.Seconds() / (float64(agents) * last.Sub(first).Seconds())
	if answered > 0 {
		p.abandonedShare = float64(abandoned) / float64(answered)
	}
	p.maxInFlight = maxConcurrent(contacts, nil)
	p.maxRinging = maxRingingOrQueued(contacts)
	p.simMinutes = last.Sub(first).Minutes()
	return p
}

// maxRingingOrQueued is the highest number of API-initiated calls at once between their
// initiation and their connection to an agent (or their end, for those no agent took).
func maxRingingOrQueued(contacts []connectsim.ContactView) int {
	var ringing []connectsim.ContactView
	for _, ct := range contacts {
		if !ct.ConnectedToAgentTimestamp.IsZero() {
			ct.DisconnectTimestamp = ct.ConnectedToAgentTimestamp
		}
		ringing = append(ringing, ct)
	}
	return maxConcurrent(ringing, nil)
}

// maxConcurrent is the highest number of API-initiated calls in progress at once in connectsim's
// record (of those keep accepts; nil keeps all): from each call's initiation to its disconnect, an
// end counted before a start at the same instant.
func maxConcurrent(contacts []connectsim.ContactView, keep func(connectsim.ContactView) bool) int {
	type edge struct {
		at time.Time
		d  int
	}
	var edges []edge
	for _, ct := range contacts {
		if ct.InitiationMethod != "API" || keep != nil && !keep(ct) {
			continue
		}
		end := ct.DisconnectTimestamp
		if end.IsZero() {
			end = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // still in progress
		}
		edges = append(edges, edge{ct.InitiationTimestamp, 1}, edge{end, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].d < edges[j].d
	})
	n, most := 0, 0
	for _, e := range edges {
		n += e.d
		most = max(most, n)
	}
	return most
}
