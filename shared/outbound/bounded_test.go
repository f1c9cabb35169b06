package outbound_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// slowDB stands between the store and dynalite and moves the rig's simulated clock by per for
// every request while on: DynamoDB's latency on a clock that otherwise moves only while the
// dialer sleeps. Requests under way at once each add their own latency (no overlap is modelled:
// the worse case for a deadline).
type slowDB struct {
	campaignstore.API
	clock *connectsim.ManualClock
	per   time.Duration
	on    atomic.Bool
}

func (s *slowDB) wait() {
	if s.on.Load() {
		s.clock.Advance(s.per)
	}
}

func (s *slowDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.wait()
	return s.API.GetItem(ctx, in, o...)
}

func (s *slowDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	s.wait()
	return s.API.PutItem(ctx, in, o...)
}

func (s *slowDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.wait()
	return s.API.UpdateItem(ctx, in, o...)
}

func (s *slowDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	s.wait()
	return s.API.DeleteItem(ctx, in, o...)
}

func (s *slowDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	s.wait()
	return s.API.Query(ctx, in, o...)
}

// Issue 20: a stopped campaign's sweep had no deadline. With 2,000 waiting recipients and 20 ms a
// DynamoDB request, one tick swept them all and lasted about 80 s, past the next tick and the
// lease; a million would hold the lease for hours. Now each tick sweeps until the middle of its
// budget and the next goes on from what is left: every tick ends within its budget, and every
// recipient is cancelled in the end.
func TestAStopSweepStopsWithinTheTickAndGoesOn(t *testing.T) {
	var slow *slowDB
	r := newRig(t, rigOptions{start: wed, wrapDB: func(api campaignstore.API) campaignstore.API {
		slow = &slowDB{API: api, per: 20 * time.Millisecond}
		return slow
	}})
	slow.clock = r.clock
	const n = 2000
	var recips []map[string]any
	for k := 0; k < n; k++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("r%05d", k), "phone": fmt.Sprintf("+1202%07d", k)})
	}
	if err := r.send("Campaign Launched", campaign("big", map[string]any{"recipients": recips})); err != nil {
		t.Fatal(err)
	}
	if err := r.send("Campaign Stopped", map[string]any{"campaignId": "big", "reason": "test"}); err != nil {
		t.Fatal(err)
	}
	slow.on.Store(true)
	ticks := 0
	for ; ticks < 20; ticks++ {
		start := r.clock.Now()
		r.tick()
		// tick() moves the clock on to the next minute: a tick that lasted past it shows as
		// an end more than a minute after its start.
		if took := r.clock.Now().Sub(start); took > time.Minute {
			t.Fatalf("tick %d lasted until %s after it started (the next tick was due a minute after it)", ticks+1, took)
		}
		c, err := r.store.Campaign(context.Background(), "big")
		if err != nil {
			t.Fatal(err)
		}
		if !c.Status.Active() {
			if c.Status != campaignstore.StatusStopped {
				t.Fatalf("campaign %s, want stopped", c.Status)
			}
			break
		}
	}
	slow.on.Store(false)
	if ticks < 2 {
		t.Errorf("the sweep of %d recipients at 20 ms a request took %d tick(s): it was not bounded", n, ticks+1)
	}
	if len(r.sim.Contacts()) != 0 {
		t.Errorf("%d calls placed for a stopped campaign", len(r.sim.Contacts()))
	}
	got := r.recipientsOf("big")
	if len(got) != n {
		t.Fatalf("%d recipients, want %d", len(got), n)
	}
	for id, rec := range got {
		if rec.State != dialer.StateCancelled {
			t.Fatalf("%s is %s, want cancelled", id, rec.State)
		}
	}
	t.Logf("%d recipients cancelled over %d ticks", n, ticks+1)
}

// describeRecorder records the contacts the dialer describes, with the simulated instant.
type describeRecorder struct {
	outbound.ConnectAPI
	r    *rig
	mu   sync.Mutex
	seen map[string][]time.Time
}

func (d *describeRecorder) DescribeContact(ctx context.Context, in *connect.DescribeContactInput, o ...func(*connect.Options)) (*connect.DescribeContactOutput, error) {
	d.mu.Lock()
	d.seen[aws.ToString(in.ContactId)] = append(d.seen[aws.ToString(in.ContactId)], d.r.clock.Now())
	d.mu.Unlock()
	return d.ConnectAPI.DescribeContact(ctx, in, o...)
}

func (d *describeRecorder) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, v := range d.seen {
		n += len(v)
	}
	return n
}

// Issue 20: the watchdog called DescribeContact for every call in flight longer than two minutes,
// one after another, before any dialling: 120 long calls whose events were all lost meant 120
// requests in the first second of a tick, over DescribeContact's quota. Now it has a budget of its
// own (5 a second, at most 10 s of a tick: 55 with its burst), looks first at the calls it looked
// at longest ago, and so reaches every call over a few ticks.
func TestTheWatchdogKeepsToItsBudgetAndReachesEveryCall(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Instances[0].MaxConcurrentCalls = 500
	world.Instances[0].BlockedPrefixes = nil
	world.Instances[0].ContactFlows[0].Type = connectsim.FlowAgentless
	world.Instances[0].ContactFlows[0].MessageDuration = connectsim.Duration(20 * time.Minute)
	world.Calls.Outcomes = map[string]float64{connectsim.OutcomeAnswered: 1}
	world.Calls.RingMin, world.Calls.RingMax = connectsim.Duration(time.Second), connectsim.Duration(2*time.Second)
	rec := &describeRecorder{seen: map[string][]time.Time{}}
	r := newRig(t, rigOptions{world: world, start: wed,
		pacing: pacing.Config{CallsPerSecond: 50, Burst: 50, MaxLive: 500},
		drop:   func(connectsim.Event) bool { return true }, // every contact event lost
		wrapConnect: func(r *rig, api outbound.ConnectAPI) outbound.ConnectAPI {
			rec.ConnectAPI, rec.r = api, r
			return rec
		}})
	const n = 120
	var recips []map[string]any
	for k := 0; k < n; k++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("w%03d", k), "phone": fmt.Sprintf("+1202555%04d", k)})
	}
	if err := r.send("Campaign Launched", campaign("long", map[string]any{"recipients": recips, "pacing": map[string]any{"maxConcurrentCalls": 500}})); err != nil {
		t.Fatal(err)
	}
	r.tick() // places the calls
	if got := len(r.sim.Contacts()); got != n {
		t.Fatalf("%d calls placed, want %d", got, n)
	}
	r.tick()
	r.tick() // the calls are two minutes old from here on
	perTick := []int{}
	for i := 0; i < 3; i++ {
		before := rec.total()
		r.tick()
		perTick = append(perTick, rec.total()-before)
	}
	for i, got := range perTick {
		if got > 55 {
			t.Errorf("tick %d: %d DescribeContact requests from the watchdog, want at most 55 (5/s for 10 s, burst 5)", i+1, got)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) != n {
		t.Errorf("the watchdog looked at %d of %d calls over three ticks (%v a tick)", len(rec.seen), n, perTick)
	}
	t.Logf("DescribeContact per tick: %v", perTick)
}
