package campaignstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
)

var t0 = time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)

func newStore(t *testing.T) *campaignstore.Store {
	t.Helper()
	srv := dynalitetest.Start(t)
	srv.CreateTable(t, campaignstore.CreateTableInput("campaigns"))
	return campaignstore.New(srv.Client(), "campaigns")
}

const shards = 4

func addPending(t *testing.T, s *campaignstore.Store, cid, rid string, due time.Time) campaignstore.RecipientKey {
	t.Helper()
	k := campaignstore.Key(cid, rid, shards)
	added, err := s.AddRecipient(context.Background(), campaignstore.Recipient{
		RecipientKey: k, Phone: "+12025550143", TimeZone: "America/New_York", Attributes: map[string]string{"a": "b"},
		State: dialer.StatePending, Reason: "imported", UpdatedAt: t0, NextAttemptAt: due,
	})
	if err != nil || !added {
		t.Fatalf("add %s: %v %v", rid, added, err)
	}
	return k
}

func dueKeys(t *testing.T, s *campaignstore.Store, cid string, now time.Time) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for shard := 0; shard < shards; shard++ {
		keys, err := s.Due(context.Background(), cid, shard, shards, now, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.Shard != shard || k.CampaignID != cid {
				t.Errorf("key %+v from shard %d", k, shard)
			}
			got[k.RecipientID] = true
		}
	}
	return got
}

func TestRecipientLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	k := addPending(t, s, "c1", "r1", t0)
	addPending(t, s, "c1", "r2", t0.Add(time.Hour))
	// Adding again changes nothing.
	again, err := s.AddRecipient(ctx, campaignstore.Recipient{RecipientKey: k, State: dialer.StateCancelled, Reason: "x", UpdatedAt: t0})
	if err != nil || again {
		t.Fatalf("re-add: %v %v", again, err)
	}
	if got := dueKeys(t, s, "c1", t0); len(got) != 1 || !got["r1"] {
		t.Fatalf("due at t0: %v", got)
	}
	if got := dueKeys(t, s, "c1", t0.Add(time.Hour)); len(got) != 2 {
		t.Fatalf("due an hour later: %v", got)
	}
	// Claim: pending/0 -> dialing/1.
	r, err := s.Apply(ctx, k, shards, campaignstore.Change{From: dialer.StatePending, FromAttempt: 0, To: dialer.StateDialing, At: t0.Add(time.Second), Reason: "claimed", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != dialer.StateDialing || r.Attempt != 1 || r.Phone != "+12025550143" || r.Attributes["a"] != "b" || len(r.History) != 2 {
		t.Fatalf("after claim: %+v", r)
	}
	// The same claim again loses.
	_, err = s.Apply(ctx, k, shards, campaignstore.Change{From: dialer.StatePending, FromAttempt: 0, To: dialer.StateDialing, At: t0.Add(time.Second), Reason: "claimed", Attempt: 1})
	if !errors.Is(err, campaignstore.ErrConflict) {
		t.Fatalf("second claim: %v", err)
	}
	if got := dueKeys(t, s, "c1", t0.Add(time.Hour)); got["r1"] {
		t.Fatalf("a dialing recipient is still due: %v", got)
	}
	fl, err := s.InFlight(ctx, "c1", shards)
	if err != nil || len(fl) != 1 || fl[0].Key != k || !fl[0].Since.Equal(t0.Add(time.Second)) {
		t.Fatalf("in flight: %+v %v", fl, err)
	}
	// The state machine refuses a move it does not allow, before any write.
	if _, err := s.Apply(ctx, k, shards, campaignstore.Change{From: dialer.StateDialing, FromAttempt: 1, To: dialer.StateSuppressedDNC, At: t0, Reason: "x", Attempt: 1}); err == nil {
		t.Fatal("dialing -> suppressed_dnc was accepted")
	}
	r, err = s.Apply(ctx, k, shards, campaignstore.Change{From: dialer.StateDialing, FromAttempt: 1, To: dialer.StateInCall, At: t0.Add(2 * time.Second), Reason: "accepted", Attempt: 1, ContactID: "contact-1"})
	if err != nil || r.ContactID != "contact-1" {
		t.Fatalf("in call: %+v %v", r, err)
	}
	fl, _ = s.InFlight(ctx, "c1", shards)
	if len(fl) != 1 || !fl[0].Since.Equal(t0.Add(time.Second)) {
		t.Fatalf("in flight keeps the dial time: %+v", fl)
	}
	// Busy: waiting to retry in 30 minutes.
	next := t0.Add(31 * time.Minute)
	r, err = s.Apply(ctx, k, shards, campaignstore.Change{From: dialer.StateInCall, FromAttempt: 1, To: dialer.StateWaitingRetry, At: t0.Add(time.Minute), Reason: "busy (1 of 3)", Attempt: 1, NextAttemptAt: next, Outcome: dialer.OutcomeBusy})
	if err != nil || len(r.Outcomes) != 1 || r.Outcomes[0] != dialer.OutcomeBusy || !r.NextAttemptAt.Equal(next) {
		t.Fatalf("waiting: %+v %v", r, err)
	}
	if fl, _ := s.InFlight(ctx, "c1", shards); len(fl) != 0 {
		t.Fatalf("still in flight: %+v", fl)
	}
	if got := dueKeys(t, s, "c1", next.Add(-time.Second)); got["r1"] {
		t.Fatal("due before its retry time")
	}
	if got := dueKeys(t, s, "c1", next); !got["r1"] {
		t.Fatal("not due at its retry time")
	}
	// Read back: the whole history, in order, each with a time and a reason.
	r, err = s.Recipient(ctx, k, shards)
	if err != nil {
		t.Fatal(err)
	}
	want := []dialer.State{dialer.StatePending, dialer.StateDialing, dialer.StateInCall, dialer.StateWaitingRetry}
	if len(r.History) != len(want) {
		t.Fatalf("history %+v", r.History)
	}
	for i, h := range r.History {
		if h.To != want[i] || h.Reason == "" || h.At.IsZero() {
			t.Errorf("history[%d] = %+v, want to %s", i, h, want[i])
		}
	}
	if _, err := s.Recipient(ctx, campaignstore.Key("c1", "nobody", shards), shards); !errors.Is(err, campaignstore.ErrNotFound) {
		t.Errorf("missing recipient: %v", err)
	}
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	k := addPending(t, s, "c1", "r1", t0)
	var wins, conflicts int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Apply(ctx, k, shards, campaignstore.Change{From: dialer.StatePending, To: dialer.StateDialing, At: t0, Reason: "claimed", Attempt: 1})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, campaignstore.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Fatalf("%d wins, %d conflicts", wins, conflicts)
	}
}

func TestCampaigns(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := campaignstore.Campaign{ID: "c1", Definition: []byte(`{"campaignId":"c1"}`), Status: campaignstore.StatusRunning, Reason: "launched", CreatedAt: t0, Shards: shards}
	if created, err := s.CreateCampaign(ctx, c); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if created, err := s.CreateCampaign(ctx, c); err != nil || created {
		t.Fatalf("same launch again: %v %v", created, err)
	}
	other := c
	other.Definition = []byte(`{"campaignId":"c1","mode":"x"}`)
	if _, err := s.CreateCampaign(ctx, other); !errors.Is(err, campaignstore.ErrConflict) {
		t.Fatalf("other definition: %v", err)
	}
	paused := c
	paused.ID, paused.Status = "c2", campaignstore.StatusPaused
	stopped := c
	stopped.ID, stopped.Status = "c3", campaignstore.StatusStopped
	for _, x := range []campaignstore.Campaign{paused, stopped} {
		if _, err := s.CreateCampaign(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.ActiveCampaigns(ctx)
	if err != nil || fmt.Sprint(ids) != "[c1 c2]" {
		t.Fatalf("active: %v %v", ids, err)
	}
	got, err := s.Campaign(ctx, "c1")
	if err != nil || got.Version != 1 || got.Shards != shards || got.Status != campaignstore.StatusRunning || string(got.Definition) != `{"campaignId":"c1"}` {
		t.Fatalf("read: %+v %v", got, err)
	}
	v, err := s.SetStatus(ctx, "c1", 1, campaignstore.StatusStopped, "operator", t0.Add(time.Hour), true)
	if err != nil || v != 2 {
		t.Fatalf("stop: %v %v", v, err)
	}
	if _, err := s.SetStatus(ctx, "c1", 1, campaignstore.StatusRunning, "stale", t0, false); !errors.Is(err, campaignstore.ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if ids, _ := s.ActiveCampaigns(ctx); fmt.Sprint(ids) != "[c2]" {
		t.Fatalf("active after stop: %v", ids)
	}
	got, _ = s.Campaign(ctx, "c1")
	if !got.EndActiveCalls || got.Reason != "operator" {
		t.Errorf("after stop: %+v", got)
	}
	if _, err := s.SetDefinition(ctx, "c1", 2, []byte(`{"campaignId":"c1","v":2}`), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Count(ctx, "c1", map[string]int64{"dialed": 2, "busy": 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Count(ctx, "c1", map[string]int64{"dialed": 1}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Campaign(ctx, "c1")
	counters, err := s.Counters(ctx, "c1")
	if err != nil || counters["dialed"] != 3 || counters["busy"] != 1 || got.Version != 3 {
		t.Errorf("counters %+v (%v) version %d", counters, err, got.Version)
	}
	if err := s.Count(ctx, "nope", map[string]int64{"dialed": 1}); err == nil {
		t.Error("counting for a missing campaign created it")
	}
	// The quiet mark keeps its first instant, and is cleared.
	if err := s.SetQuiet(ctx, "c2", true, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetQuiet(ctx, "c2", true, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Campaign(ctx, "c2"); !got.QuietAt.Equal(t0) {
		t.Errorf("quiet at %v, want the first mark %v", got.QuietAt, t0)
	}
	if err := s.SetQuiet(ctx, "c2", false, t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Campaign(ctx, "c2"); !got.QuietAt.IsZero() {
		t.Errorf("quiet mark not cleared: %v", got.QuietAt)
	}
	if err := s.SetQuiet(ctx, "nope", true, t0); err == nil {
		t.Error("a quiet mark created a campaign")
	}
	// Checkpoints only move forward from what was read, and stop once done.
	if err := s.Checkpoint(ctx, "c2", 0, 4096, 100, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx, "c2", 0, 8192, 200, false); !errors.Is(err, campaignstore.ErrConflict) {
		t.Fatalf("checkpoint from a stale offset: %v", err)
	}
	if err := s.Checkpoint(ctx, "c2", 4096, 9000, 230, true); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Campaign(ctx, "c2")
	if !got.ImportDone || got.ImportOffset != 9000 || got.ImportRow != 230 {
		t.Errorf("checkpoint %+v", got)
	}
	if err := s.Checkpoint(ctx, "c2", 9000, 9500, 240, true); !errors.Is(err, campaignstore.ErrConflict) {
		t.Errorf("checkpoint after done: %v", err)
	}
}

func TestRecipientsWalkEveryShard(t *testing.T) {
	s := newStore(t)
	seenShards := map[int]bool{}
	for i := 0; i < 40; i++ {
		k := addPending(t, s, "c1", fmt.Sprintf("r%02d", i), t0)
		seenShards[k.Shard] = true
	}
	addPending(t, s, "c2", "other", t0)
	if len(seenShards) != shards {
		t.Fatalf("40 recipients landed in %d of %d shards", len(seenShards), shards)
	}
	n := 0
	err := s.Recipients(context.Background(), "c1", shards, func(r campaignstore.Recipient) error {
		if r.CampaignID != "c1" || r.State != dialer.StatePending {
			t.Errorf("walked %+v", r)
		}
		n++
		return nil
	})
	if err != nil || n != 40 {
		t.Fatalf("walked %d: %v", n, err)
	}
}

func TestContactsLeasesLedger(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	ref := campaignstore.ContactRef{ContactID: "contact-1", Key: campaignstore.Key("c1", "r1", shards), Shards: shards, Attempt: 2, PlacedAt: t0}
	if err := s.MapContact(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if err := s.MapContact(ctx, ref); err != nil {
		t.Fatalf("same mapping again: %v", err)
	}
	other := ref
	other.Attempt = 3
	if err := s.MapContact(ctx, other); !errors.Is(err, campaignstore.ErrConflict) {
		t.Fatalf("other mapping: %v", err)
	}
	got, err := s.LookupContact(ctx, "contact-1")
	if err != nil || got.Key != ref.Key || got.Shards != shards || got.Attempt != 2 || !got.PlacedAt.Equal(t0) {
		t.Fatalf("lookup %+v %v", got, err)
	}
	if _, err := s.LookupContact(ctx, "contact-2"); !errors.Is(err, campaignstore.ErrNotFound) {
		t.Fatalf("unknown contact: %v", err)
	}

	ok, err := s.AcquireLease(ctx, "tick", "a", t0, time.Minute)
	if err != nil || !ok {
		t.Fatalf("a acquires: %v %v", ok, err)
	}
	if ok, _ := s.AcquireLease(ctx, "tick", "b", t0.Add(30*time.Second), time.Minute); ok {
		t.Fatal("b took a held lease")
	}
	if ok, _ := s.AcquireLease(ctx, "tick", "a", t0.Add(30*time.Second), time.Minute); !ok {
		t.Fatal("a could not renew")
	}
	if ok, _ := s.AcquireLease(ctx, "tick", "b", t0.Add(80*time.Second), time.Minute); ok {
		t.Fatal("b took the lease before the renewal expired")
	}
	if ok, _ := s.AcquireLease(ctx, "tick", "b", t0.Add(91*time.Second), time.Minute); !ok {
		t.Fatal("b could not take an expired lease")
	}
	if err := s.ReleaseLease(ctx, "tick", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLease(ctx, "tick", "c", t0.Add(92*time.Second), time.Minute); ok {
		t.Fatal("a released a lease it no longer held")
	}
	if err := s.ReleaseLease(ctx, "tick", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLease(ctx, "tick", "c", t0.Add(92*time.Second), time.Minute); !ok {
		t.Fatal("c could not take a released lease")
	}

	l, err := s.Ledger(ctx, "+12025550143")
	if err != nil || l.Version != 0 || len(l.Dials) != 0 {
		t.Fatalf("empty ledger %+v %v", l, err)
	}
	if err := s.SaveLedger(ctx, l, []time.Time{t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLedger(ctx, l, []time.Time{t0.Add(time.Hour)}); !errors.Is(err, campaignstore.ErrConflict) {
		t.Fatalf("second save from version 0: %v", err)
	}
	l, _ = s.Ledger(ctx, "+12025550143")
	if l.Version != 1 || len(l.Dials) != 1 || !l.Dials[0].Equal(t0) {
		t.Fatalf("ledger %+v", l)
	}
	if err := s.SaveLedger(ctx, l, append(l.Dials, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if l, _ = s.Ledger(ctx, "+12025550143"); l.Version != 2 || len(l.Dials) != 2 {
		t.Fatalf("ledger %+v", l)
	}
}
