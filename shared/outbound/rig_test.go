package outbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/logcapture"
	"github.com/switchboard-connect/switchboard/local/s3test"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// rig runs the dialer against connectsim (over HTTP, the real SDK client) and dynalite, on
// connectsim's manual clock. The dialer's Sleep advances that clock, after every contact event
// emitted so far has been handled: simulated time moves only while the dialer waits, as a
// discrete-event simulation, so pacing is measured without the machine's speed in it.
type rig struct {
	t     testing.TB
	clock *connectsim.ManualClock
	sim   *simtest.Server
	d     *outbound.Dialer
	store *campaignstore.Store
	dnc   *donotcall.Table
	db    *countingDB
	// logs holds the dialer's JSON log lines.
	logs logcapture.Buffer
	// s3 is the real S3 client on gofakes3 when rigOptions.bucket is set.
	s3 *s3.Client

	events  chan []byte
	pending sync.WaitGroup
	mu      sync.Mutex
	errs    []error
	// eventFailures counts contact events whose handling failed three times.
	eventFailures int
	// drop decides, per contact event, whether the dialer never sees it (best-effort delivery).
	drop func(connectsim.Event) bool
	// hooks run once, in order, when the dialer's sleeps move the clock to their instant (an
	// event handled in the middle of a tick, as another invocation would).
	hooks []hook
}

type hook struct {
	at time.Time
	fn func()
}

// at runs fn when the simulated clock reaches t during one of the dialer's sleeps.
func (r *rig) at(t time.Time, fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(r.hooks, hook{t, fn})
	sort.Slice(r.hooks, func(i, j int) bool { return r.hooks[i].at.Before(r.hooks[j].at) })
}

// nextHook removes and returns the first hook due at or before t.
func (r *rig) nextHook(t time.Time) (hook, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.hooks) == 0 || r.hooks[0].at.After(t) {
		return hook{}, false
	}
	h := r.hooks[0]
	r.hooks = r.hooks[1:]
	return h, true
}

type rigOptions struct {
	world    connectsim.World
	start    time.Time
	pacing   pacing.Config
	throttle bool
	drop     func(connectsim.Event) bool
	seed     int64
	// wrapDB, when set, stands between the store and dynalite (to inject faults).
	wrapDB func(campaignstore.API) campaignstore.API
	// wrapConnect, when set, stands between the dialer and connectsim's client.
	wrapConnect func(*rig, outbound.ConnectAPI) outbound.ConnectAPI
	// bucket, when set, serves it from gofakes3 (local/s3test; rig.s3) as the dialer's
	// recipients bucket, unversioned.
	bucket string
	// importRowsPerTick bounds each tick's import (the dialer's default when 0).
	importRowsPerTick int64
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	db := dynalitetest.Start(t)
	db.CreateTable(t, campaignstore.CreateTableInput("campaigns"))
	db.CreateTable(t, donotcall.CreateTableInput("dnc"))
	r := &rig{t: t, clock: connectsim.NewManualClock(o.start), events: make(chan []byte, 100000), drop: o.drop}
	world := o.world
	if len(world.Instances) == 0 {
		world = connectsim.DefaultWorld()
	}
	r.sim = simtest.Start(t, connectsim.Options{
		World: world, Clock: r.clock, Seed: o.seed, DisableThrottling: !o.throttle,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(ev connectsim.Event) {
			if r.drop != nil && r.drop(ev) {
				return
			}
			b, err := json.Marshal(ev)
			if err != nil {
				r.fail(err)
				return
			}
			r.pending.Add(1)
			r.events <- b
		},
	})
	r.db = &countingDB{Client: db.Client()}
	var api campaignstore.API = r.db
	if o.wrapDB != nil {
		api = o.wrapDB(api)
	}
	r.store = campaignstore.New(api, "campaigns")
	r.dnc = donotcall.NewTable(db.Client(), "dnc")
	if o.pacing.CallsPerSecond == 0 {
		o.pacing = pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 10}
	}
	var connectAPI outbound.ConnectAPI = r.sim.ConnectClient(t)
	if o.wrapConnect != nil {
		connectAPI = o.wrapConnect(r, connectAPI)
	}
	cfg := outbound.Config{
		Store: r.store, Connect: connectAPI, DoNotCall: r.dnc, Clock: (*steppedClock)(r),
		Log: slog.New(slog.NewJSONHandler(&r.logs, nil)), Pacing: o.pacing, Owner: "test", Shards: 4,
		ImportRowsPerTick: o.importRowsPerTick,
	}
	if o.bucket != "" {
		r.s3 = s3test.Start(t, s3test.Options{}).Bucket(t, o.bucket, false)
		cfg.S3, cfg.RecipientsBucket = r.s3, o.bucket
	}
	d, err := outbound.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	ctx, cancel := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for i := 0; i < 4; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case b := <-r.events:
					// As Lambda retries an asynchronous invocation twice, then gives up (the
					// watchdog covers a lost event).
					var err error
					for try := 0; try < 3; try++ {
						if err = r.d.Handle(context.Background(), b); err == nil {
							break
						}
					}
					if err != nil {
						r.mu.Lock()
						r.eventFailures++
						r.mu.Unlock()
					}
					r.pending.Done()
				}
			}
		}()
	}
	t.Cleanup(func() { cancel(); workers.Wait() })
	return r
}

func (r *rig) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// idle waits until every contact event emitted so far has been handled.
func (r *rig) idle() {
	for i := 0; i < 3; i++ { // an event handled may not emit more, but the bus may still hold some
		if !r.sim.Drain(10 * time.Second) {
			r.t.Fatal("connectsim did not drain its events")
		}
		r.pending.Wait()
	}
}

// steppedClock is the rig's clock for the dialer.
type steppedClock rig

func (c *steppedClock) Now() time.Time { return c.clock.Now() }

func (c *steppedClock) Sleep(ctx context.Context, d time.Duration) error {
	r := (*rig)(c)
	r.idle()
	end := r.clock.Now().Add(d)
	for {
		h, ok := r.nextHook(end)
		if !ok {
			break
		}
		if step := h.at.Sub(r.clock.Now()); step > 0 {
			r.clock.Advance(step)
			r.idle()
		}
		h.fn()
		r.idle()
	}
	if step := end.Sub(r.clock.Now()); step > 0 {
		r.clock.Advance(step)
	}
	r.idle()
	return ctx.Err()
}

// send delivers one of Switchboard's own events.
func (r *rig) send(detailType string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		r.t.Fatal(err)
	}
	env, _ := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("test-%d", r.clock.Now().UnixNano()), "detail-type": detailType, "source": "switchboard",
		"account": "123456789012", "time": r.clock.Now().UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{},
		"detail": json.RawMessage(b),
	})
	return r.d.Handle(context.Background(), env)
}

// tick runs one scheduler tick at the current instant, then moves the clock to the next minute.
func (r *rig) tick() {
	r.t.Helper()
	now := r.clock.Now()
	if err := r.send("Dialer Tick", map[string]string{"scheduledTime": now.UTC().Format(time.RFC3339)}); err != nil {
		r.t.Fatalf("tick at %v: %v", now, err)
	}
	r.idle()
	next := now.Truncate(time.Minute).Add(time.Minute)
	if d := next.Sub(r.clock.Now()); d > 0 {
		r.clock.Advance(d)
	}
	r.idle()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.errs {
		r.t.Error(err)
	}
	r.errs = nil
}

// runUntil ticks until the campaign is no longer active or maxTicks ticks have run.
func (r *rig) runUntil(campaignID string, maxTicks int) campaignstore.Campaign {
	r.t.Helper()
	for i := 0; i < maxTicks; i++ {
		r.tick()
		c, err := r.store.Campaign(context.Background(), campaignID)
		if err != nil {
			r.t.Fatal(err)
		}
		if !c.Status.Active() {
			return c
		}
	}
	c, _ := r.store.Campaign(context.Background(), campaignID)
	r.t.Fatalf("campaign %s still %s after %d ticks", campaignID, c.Status, maxTicks)
	return c
}

// recipientsOf returns every recipient of a campaign by ID.
func (r *rig) recipientsOf(campaignID string) map[string]campaignstore.Recipient {
	out := map[string]campaignstore.Recipient{}
	c, err := r.store.Campaign(context.Background(), campaignID)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.store.Recipients(context.Background(), campaignID, c.Shards, func(rec campaignstore.Recipient) error {
		out[rec.RecipientID] = rec
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// counters reads a campaign's counters.
func counters(t testing.TB, r *rig, id string) map[string]int64 {
	t.Helper()
	c, err := r.store.Counters(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
