package outbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/local/latency"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// The latency model of BenchmarkDialRate (docs/performance.md, "Dialling at real latency", says
// why these figures). DynamoDB: "single-digit millisecond" reads and writes in the Region
// (DynamoDB Developer Guide), taken at a median of 8 ms with a tail to 40 ms, worse than its
// usual figures. Connect publishes no latency; a control-plane call across the Region's API
// front door is taken at a median of 150 ms with a tail to 600 ms for StartOutboundVoiceContact,
// and 80/300 ms for the rest.
const (
	benchDynamoLatency  = "*=8ms/40ms"
	benchConnectLatency = "StartOutboundVoiceContact=150ms/600ms,*=80ms/300ms"
)

// BenchmarkDialRate dials at 2, 20 and 50 calls a second with caps of 10, 200 and 1,000 concurrent
// calls, on the real clock, with every DynamoDB and Connect request delayed by the latency model
// above (faultproxy in front of dynalite, connectsim's own model), and reports the calls a second
// achieved over the configured rate, from connectsim's record of the calls it was asked to place;
// the ClientTokens and numbers dialled twice; and the recipients left without a final state once
// the campaign is stopped. Unlike the pacing benchmarks, time here is real: a dial costs what its
// requests cost.
//
// BENCH_RATE_SECONDS sets how long each rate is dialled (default 30, at most 55);
// BENCH_DIAL_CONCURRENCY the dials under way at once (default outbound.DefaultDialConcurrency).
func BenchmarkDialRate(b *testing.B) {
	secs := 30
	if v, err := strconv.Atoi(os.Getenv("BENCH_RATE_SECONDS")); err == nil && v >= 5 && v <= 55 {
		secs = v
	}
	for _, c := range []struct {
		rate float64
		cap  int
	}{{2, 10}, {20, 200}, {50, 1000}} {
		b.Run(fmt.Sprintf("%g-per-s/cap-%d", c.rate, c.cap), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				res := dialAtRate(b, c.rate, c.cap, time.Duration(secs)*time.Second)
				b.ReportMetric(res.achieved/c.rate, "achieved/configured")
				b.ReportMetric(res.achieved, "calls/s")
				b.ReportMetric(float64(res.dials), "dials")
				b.ReportMetric(float64(res.duplicates), "duplicates")
				b.ReportMetric(float64(res.lost), "lost")
				b.ReportMetric(float64(res.peakLive), "peak-live")
				b.ReportMetric(float64(res.throttled), "throttled")
				b.ReportMetric(res.dynamoPerDial, "dynamodb-req/dial")
				b.ReportMetric(res.rru/float64(max(res.dials, 1)), "RRU/dial")
				b.ReportMetric(res.wru/float64(max(res.dials, 1)), "WRU/dial")
				b.ReportMetric(res.eventSeconds/float64(max(res.dials, 1)), "event-s/dial")
			}
		})
	}
}

type rateResult struct {
	achieved                float64
	dials, duplicates, lost int
	peakLive, throttled     int
	dynamoPerDial, rru, wru float64
	eventSeconds            float64
}

// simClock is connectsim's clock as the dialer's: it runs in real time here (scale 1).
type simClock struct{ c connectsim.Clock }

func (s simClock) Now() time.Time { return s.c.Now() }
func (s simClock) Sleep(ctx context.Context, d time.Duration) error {
	return outbound.RealClock{}.Sleep(ctx, d)
}

func dialAtRate(b *testing.B, rate float64, cap int, dialFor time.Duration) rateResult {
	b.Helper()
	ctx := context.Background()
	db := dynalitetest.Start(b)
	db.CreateTable(b, campaignstore.CreateTableInput("campaigns"))
	db.CreateTable(b, donotcall.CreateTableInput("dnc"))
	dynModel, err := latency.Parse(benchDynamoLatency, 1)
	if err != nil {
		b.Fatal(err)
	}
	proxy, err := faultproxy.Start(faultproxy.Config{Target: db.URL, Latency: dynModel})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { proxy.Close() })
	conf := db.AWSConfig()
	conf.BaseEndpoint = aws.String(proxy.URL)
	viaProxy := dynamodb.NewFromConfig(conf, func(o *dynamodb.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, outbound.DynamoMaxBackoff)
	})
	counted := &capacityDB{countingDB: countingDB{Client: viaProxy}}

	burst := max(int(rate), 5)
	world := shortCallWorld(rate, burst, cap)
	connectModel, err := latency.Parse(benchConnectLatency, 2)
	if err != nil {
		b.Fatal(err)
	}
	clock := connectsim.NewScaledClock(wed, 1)
	events := make(chan []byte, 100000)
	var pending sync.WaitGroup
	sim := simtest.Start(b, connectsim.Options{
		World: world, Clock: clock, Seed: 3, Latency: connectModel,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(ev connectsim.Event) {
			raw, err := json.Marshal(ev)
			if err != nil {
				b.Error(err)
				return
			}
			pending.Add(1)
			events <- raw
		},
	})
	newDialer := func(store *campaignstore.Store, dnc *donotcall.Table, owner string) *outbound.Dialer {
		d, err := outbound.New(outbound.Config{
			Store: store, Connect: sim.ConnectClient(b), DoNotCall: dnc, Clock: simClock{clock},
			Log:    benchLog(),
			Pacing: pacing.Config{CallsPerSecond: rate, Burst: burst, MaxLive: cap}, Owner: owner, Shards: 8,
			TickBudget: dialFor, QuietFor: 2 * time.Second, DialConcurrency: benchDialConcurrency(),
		})
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	d := newDialer(campaignstore.New(counted, "campaigns"), donotcall.NewTable(counted, "dnc"), "bench")

	// Contact events go to the dialer as Lambda would run them: concurrently, each retried.
	evTime := deliver(b, events, &pending, 16, func(_ int, raw []byte) error { return d.Handle(ctx, raw) })

	// The campaign and its recipients are written without the latency model (setup, not measured).
	n := int(rate*dialFor.Seconds()*1.3) + 50
	var recips []map[string]any
	for k := 0; k < n; k++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("r%06d", k), "phone": fmt.Sprintf("+1202%07d", k)})
	}
	setup := newDialer(campaignstore.New(db.Client(), "campaigns"), donotcall.NewTable(db.Client(), "dnc"), "setup")
	if err := setup.Handle(ctx, envelope(b, "Campaign Launched", campaign("rate", map[string]any{
		"retry": map[string]any{}, "pacing": map[string]any{"maxConcurrentCalls": cap}, "recipients": recips,
	}), clock.Now())); err != nil {
		b.Fatal(err)
	}
	before := counted.total()
	start := clock.Now()
	b.ResetTimer()
	if err := d.Handle(ctx, envelope(b, "Dialer Tick", map[string]string{"scheduledTime": start.UTC().Format(time.RFC3339)}, start)); err != nil {
		b.Fatal(err)
	}
	end := clock.Now()
	b.StopTimer()
	requests, rru, wru := counted.total()-before, counted.rru, counted.wru

	// Stop the campaign and tick until it is over: every recipient must reach a final state.
	if err := d.Handle(ctx, envelope(b, "Campaign Stopped", map[string]any{"campaignId": "rate", "reason": "benchmark over"}, clock.Now())); err != nil {
		b.Fatal(err)
	}
	store := campaignstore.New(db.Client(), "campaigns")
	for i := 0; ; i++ {
		c, err := store.Campaign(ctx, "rate")
		if err != nil {
			b.Fatal(err)
		}
		if !c.Status.Active() {
			break
		}
		if i == 90 {
			b.Fatalf("the stopped campaign is still %s after 90 ticks", c.Status)
		}
		time.Sleep(time.Second)
		now := clock.Now()
		if err := d.Handle(ctx, envelope(b, "Dialer Tick", map[string]string{"scheduledTime": now.UTC().Format(time.RFC3339)}, now)); err != nil {
			b.Fatal(err)
		}
	}
	pending.Wait()

	var res rateResult
	tokens, numbers := map[string]int{}, map[string]int{}
	from, to := start.Add(2*time.Second), end.Add(-time.Second)
	inWindow := 0
	for _, ct := range sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		res.dials++
		tokens[ct.ClientToken]++
		numbers[ct.CustomerNumber]++
		if !ct.InitiationTimestamp.Before(from) && ct.InitiationTimestamp.Before(to) {
			inWindow++
		}
	}
	res.peakLive = simtest.PeakLive(sim.Contacts())
	for _, m := range []map[string]int{tokens, numbers} {
		for _, c := range m {
			if c > 1 {
				res.duplicates += c - 1
			}
		}
	}
	if err := store.Recipients(ctx, "rate", 8, func(rec campaignstore.Recipient) error {
		if !rec.State.Final() {
			res.lost++
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	res.achieved = float64(inWindow) / to.Sub(from).Seconds()
	res.throttled = sim.Stats().Requests[connectsim.OpStartOutboundVoiceContact]["ThrottlingException"] + sim.Stats().Requests[connectsim.OpStartOutboundVoiceContact]["TooManyRequestsException"]
	res.dynamoPerDial = float64(requests) / float64(max(res.dials, 1))
	res.rru, res.wru = rru, wru
	res.eventSeconds = evTime().Seconds()
	if res.duplicates > 0 || res.lost > 0 {
		b.Errorf("%d dialled twice, %d recipients without a final state", res.duplicates, res.lost)
	}
	return res
}

// envelope is an EventBridge event as the dialer receives it.
func envelope(b testing.TB, detailType string, detail any, at time.Time) json.RawMessage {
	raw, err := json.Marshal(detail)
	if err != nil {
		b.Fatal(err)
	}
	env, err := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("bench-%d", time.Now().UnixNano()), "detail-type": detailType, "source": "switchboard",
		"account": "123456789012", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{},
		"detail": json.RawMessage(raw),
	})
	if err != nil {
		b.Fatal(err)
	}
	return env
}

// capacityDB counts the request units of the store's DynamoDB requests: each request asks for
// its ConsumedCapacity (TOTAL), which dynalite computes for the table as DynamoDB does (a write
// unit a KB, a read unit 4 KB, halved for an eventually consistent read). DynamoDB also charges
// a write to each global secondary index whose key attributes a write sets, changes or removes;
// dynalite does not count those, so they are added here as an upper bound: two units (the old
// entry deleted, the new one put) for every index whose key attribute the write names, one for a
// delete. The table's indexes project keys only, so an entry is well under a KB.
type capacityDB struct {
	countingDB
	mu       sync.Mutex
	rru, wru float64
	n        int
}

func (c *capacityDB) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *capacityDB) note(cc *types.ConsumedCapacity, read bool, indexWrites int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	units := 0.0
	if cc != nil {
		units = aws.ToFloat64(cc.CapacityUnits)
	}
	if read {
		c.rru += units
	} else {
		c.wru += units + float64(indexWrites)
	}
}

// indexKeys are the key attributes of the table's global secondary indexes, one set per index.
var indexKeys = func() [][]string {
	var out [][]string
	for _, gsi := range campaignstore.CreateTableInput("x").GlobalSecondaryIndexes {
		var keys []string
		for _, k := range gsi.KeySchema {
			keys = append(keys, aws.ToString(k.AttributeName))
		}
		out = append(out, keys)
	}
	return out
}()

// indexWrites is the upper bound above for a write that names these attributes.
func indexWrites(named func(string) bool) int {
	n := 0
	for _, keys := range indexKeys {
		if slices.ContainsFunc(keys, named) {
			n += 2
		}
	}
	return n
}

func namesIn(expr *string, names map[string]string) func(string) bool {
	return func(a string) bool {
		for _, v := range names {
			if v == a {
				return true
			}
		}
		return strings.Contains(aws.ToString(expr), a)
	}
}

func (c *capacityDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.countingDB.GetItem(ctx, &cp, o...)
	if err == nil {
		c.note(out.ConsumedCapacity, true, 0)
	}
	return out, err
}

func (c *capacityDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.countingDB.Query(ctx, &cp, o...)
	if err == nil {
		c.note(out.ConsumedCapacity, true, 0)
	}
	return out, err
}

func (c *capacityDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.countingDB.PutItem(ctx, &cp, o...)
	if err == nil {
		c.note(out.ConsumedCapacity, false, indexWrites(func(a string) bool { _, ok := in.Item[a]; return ok }))
	}
	return out, err
}

func (c *capacityDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.countingDB.UpdateItem(ctx, &cp, o...)
	if err == nil {
		c.note(out.ConsumedCapacity, false, indexWrites(namesIn(in.UpdateExpression, in.ExpressionAttributeNames)))
	}
	return out, err
}

func (c *capacityDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.countingDB.Client.DeleteItem(ctx, &cp, o...)
	if err == nil {
		c.note(out.ConsumedCapacity, false, len(indexKeys))
	}
	return out, err
}

// deliver hands each contact event to handle on one of n workers, as Lambda runs asynchronous
// invocations: concurrently, each retried twice after a failure. It returns the time spent
// handling events so far; the workers stop when the test ends.
func deliver(tb testing.TB, events <-chan []byte, pending *sync.WaitGroup, n int, handle func(worker int, raw []byte) error) func() time.Duration {
	var mu sync.Mutex
	var spent time.Duration
	ctx, stop := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for i := 0; i < n; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case raw := <-events:
					start := time.Now()
					for try := 0; try < 3; try++ {
						if handle(i, raw) == nil {
							break
						}
					}
					mu.Lock()
					spent += time.Since(start)
					mu.Unlock()
					pending.Done()
				}
			}
		}()
	}
	tb.Cleanup(func() { stop(); workers.Wait() })
	return func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return spent
	}
}

// shortCallWorld is connectsim's default world with the account's StartOutboundVoiceContact
// quota at rate and burst (on the wall clock), the instance's cap at cap, the other operations
// with room to spare, and short calls, so that the cap is not what limits the rate: a second or
// two of ringing, then an agentless message of a second (the default flow queues an answered
// call for an agent, and with none it waits out the callee's patience), a busy line or a short
// voicemail. No call rings out unanswered: the shortest ring timeout Connect takes is 15 s.
func shortCallWorld(rate float64, burst, cap int) connectsim.World {
	world := connectsim.DefaultWorld()
	world.Instances[0].MaxConcurrentCalls = cap
	world.Instances[0].BlockedPrefixes = nil
	world.Instances[0].ContactFlows[0].Type = connectsim.FlowAgentless
	world.Instances[0].ContactFlows[0].MessageDuration = connectsim.Duration(time.Second)
	world.ThrottleClock = connectsim.ThrottleWall
	world.Throttle = map[string]connectsim.RateLimit{
		connectsim.OpStartOutboundVoiceContact: {Rate: rate, Burst: burst},
		connectsim.OpDescribeContact:           {Rate: 1000, Burst: 1000},
		connectsim.OpGetCurrentMetricData:      {Rate: 1000, Burst: 1000},
		connectsim.OpStopContact:               {Rate: 1000, Burst: 1000},
	}
	world.Calls.Outcomes = map[string]float64{connectsim.OutcomeAnswered: 0.7, connectsim.OutcomeBusy: 0.15, connectsim.OutcomeVoicemail: 0.15}
	world.Calls.RingMin, world.Calls.RingMax = connectsim.Duration(500*time.Millisecond), connectsim.Duration(1500*time.Millisecond)
	world.Calls.TalkMin, world.Calls.TalkMax = connectsim.Duration(500*time.Millisecond), connectsim.Duration(1500*time.Millisecond)
	world.Calls.VoicemailMin, world.Calls.VoicemailMax = connectsim.Duration(500*time.Millisecond), connectsim.Duration(1500*time.Millisecond)
	world.Calls.FlowDelay = 0
	return world
}

// benchDialConcurrency is BENCH_DIAL_CONCURRENCY (the dialer's default when unset): 1 dials one
// call after another, as the dialer did before issue 20.
func benchDialConcurrency() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_DIAL_CONCURRENCY"))
	return n
}

// benchLog discards the dialer's log unless BENCH_LOG is set (then it goes to stderr).
func benchLog() *slog.Logger {
	if os.Getenv("BENCH_LOG") != "" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}
