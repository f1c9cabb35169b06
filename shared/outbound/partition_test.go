package outbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// Issue 20: a tick spread over three executions (three dialer processes, each its own partition
// and lease) dials one campaign at once, on the real clock. From connectsim's record: nobody is
// called twice (ClientToken or number), each partition dialled, the account's rate was never
// exceeded (connectsim's wall-clock quota throttled nothing), the instance's cap held (connectsim
// refused no call for it, and never had more live), and once stopped every recipient is final.
func TestThreeExecutionsShareTheRateAndTheCap(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	ctx := context.Background()
	db := dynalitetest.Start(t)
	db.CreateTable(t, campaignstore.CreateTableInput("campaigns"))
	db.CreateTable(t, donotcall.CreateTableInput("dnc"))
	const rate, cap, parts = 12.0, 12, 3
	world := shortCallWorld(rate, 6, cap)
	clock := connectsim.NewScaledClock(wed, 1)
	events := make(chan []byte, 10000)
	var pending sync.WaitGroup
	sim := simtest.Start(t, connectsim.Options{World: world, Clock: clock, Seed: 5,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(ev connectsim.Event) {
			raw, err := json.Marshal(ev)
			if err != nil {
				t.Error(err)
				return
			}
			pending.Add(1)
			events <- raw
		}})
	store := campaignstore.New(db.Client(), "campaigns")
	var dialers []*outbound.Dialer
	for i := 0; i < parts; i++ {
		d, err := outbound.New(outbound.Config{
			Store: store, Connect: sim.ConnectClient(t), DoNotCall: donotcall.NewTable(db.Client(), "dnc"), Clock: simClock{clock},
			Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Owner: fmt.Sprintf("exec-%d", i), Shards: 6,
			Pacing: pacing.Config{CallsPerSecond: rate, Burst: 6, MaxLive: cap}, TickBudget: 6 * time.Second, QuietFor: 2 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		dialers = append(dialers, d)
	}
	// Contact events go to any of the executions, concurrently.
	deliver(t, events, &pending, 6, func(worker int, raw []byte) error { return dialers[worker%parts].Handle(ctx, raw) })

	const n = 90
	var recips []map[string]any
	for k := 0; k < n; k++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("p%03d", k), "phone": fmt.Sprintf("+1202555%04d", k)})
	}
	if err := dialers[0].Handle(ctx, envelope(t, "Campaign Launched", campaign("parts", map[string]any{
		"retry": map[string]any{}, "pacing": map[string]any{"maxConcurrentCalls": cap}, "recipients": recips,
	}), clock.Now())); err != nil {
		t.Fatal(err)
	}
	tickAll := func() {
		var wg sync.WaitGroup
		now := clock.Now()
		for i, d := range dialers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				detail := map[string]any{"scheduledTime": now.UTC().Format(time.RFC3339), "partition": i, "partitions": parts}
				if err := d.Handle(ctx, envelope(t, "Dialer Tick", detail, now)); err != nil {
					t.Errorf("partition %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
	}
	for i := 0; i < 4; i++ {
		tickAll()
	}
	if err := dialers[1].Handle(ctx, envelope(t, "Campaign Stopped", map[string]any{"campaignId": "parts", "reason": "test over"}, clock.Now())); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		c, err := store.Campaign(ctx, "parts")
		if err != nil {
			t.Fatal(err)
		}
		if !c.Status.Active() {
			break
		}
		if i == 30 {
			t.Fatalf("the stopped campaign is still %s after 30 rounds of ticks", c.Status)
		}
		time.Sleep(500 * time.Millisecond)
		tickAll()
	}
	pending.Wait()

	tokens, numbers := map[string]int{}, map[string]int{}
	byShard := map[int]int{}
	recs := map[string]campaignstore.Recipient{}
	if err := store.Recipients(ctx, "parts", 6, func(rec campaignstore.Recipient) error {
		recs[rec.Phone] = rec
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, ct := range sim.Contacts() {
		tokens[ct.ClientToken]++
		numbers[ct.CustomerNumber]++
		byShard[recs[ct.CustomerNumber].Shard%parts]++
	}
	for k, c := range tokens {
		if c > 1 {
			t.Errorf("ClientToken %s used for %d calls", k, c)
		}
	}
	for k, c := range numbers {
		if c > 1 {
			t.Errorf("a number was called %d times (%s)", c, k[:5])
		}
	}
	for p := 0; p < parts; p++ {
		if byShard[p] == 0 {
			t.Errorf("partition %d placed no call (calls by partition: %v)", p, byShard)
		}
	}
	if peak := simtest.PeakLive(sim.Contacts()); peak > cap {
		t.Errorf("%d calls live at once, cap %d", peak, cap)
	}
	st := sim.Stats().Requests[connectsim.OpStartOutboundVoiceContact]
	for code, c := range st {
		if code != "ok" && c > 0 {
			t.Errorf("connectsim answered %d dials with %s", c, code)
		}
	}
	for _, rec := range recs {
		if !rec.State.Final() {
			t.Errorf("%s left %s", rec.RecipientID, rec.State)
		}
	}
	if len(recs) != n {
		t.Errorf("%d recipients, want %d", len(recs), n)
	}
	t.Logf("%d calls, by partition %v, peak live %d, connectsim %v", len(sim.Contacts()), byShard, simtest.PeakLive(sim.Contacts()), st)
}
