package campaignstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
)

func claim(cid, number, rid string, row int64, at time.Time) campaignstore.NumberClaim {
	return campaignstore.NumberClaim{CampaignID: cid, Number: number, RecipientID: rid, Row: row, At: at}
}

// TestANumberHasOneHolderPerCampaign: the first claim holds the number; the same row claiming
// again (a chunk repeated after a crash, before or after its recipient was written) still holds
// it; another row, or the same recipient ID from another row, gets the holder back; another
// campaign has its own claim.
func TestANumberHasOneHolderPerCampaign(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	first := claim("c1", "+12025559999", "row-1", 1, t0)
	for i, c := range []campaignstore.NumberClaim{
		first,
		claim("c1", "+12025559999", "row-1", 1, t0.Add(time.Minute)), // the same row again
		claim("c1", "+12025559999", "row-2", 2, t0),
		claim("c1", "+12025559999", "row-1", 4, t0), // row 4 repeating row-1's ID
		claim("c1", "+12025559999", "req-a", 0, t0), // a callback
	} {
		held, err := s.ClaimNumber(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if held.RecipientID != "row-1" || held.Row != 1 || held.CampaignID != "c1" || held.Number != "+12025559999" {
			t.Errorf("claim %d (%s row %d): holder %+v, want row-1 at row 1", i, c.RecipientID, c.Row, held)
		}
	}
	other, err := s.ClaimNumber(ctx, claim("c2", "+12025559999", "row-7", 7, t0))
	if err != nil || other.RecipientID != "row-7" {
		t.Errorf("another campaign: %+v %v", other, err)
	}
	// The repeated claim refreshed the time: a holder still writing is not taken for dead.
	held, err := s.ClaimNumber(ctx, claim("c1", "+12025559999", "row-9", 9, t0))
	if err != nil || !held.At.Equal(t0.Add(time.Minute)) {
		t.Errorf("holder %+v %v: want its claim as last written, at %v", held, err, t0.Add(time.Minute))
	}
}

// TestAClaimChangesHandsOnlyFromTheHolderRead: ReplaceNumberClaim succeeds from the claim as it
// was read and fails (ErrConflict) from a stale one; ReleaseNumber removes only its own claim.
func TestAClaimChangesHandsOnlyFromTheHolderRead(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	orphan := claim("c1", "+12025559999", "row-1", 4, t0) // row 4 repeating row-1's ID, died before releasing
	if _, err := s.ClaimNumber(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	next := claim("c1", "+12025559999", "row-5", 5, t0.Add(10*time.Minute))
	stale := orphan
	stale.At = t0.Add(-time.Minute)
	if err := s.ReplaceNumberClaim(ctx, stale, next); !errors.Is(err, campaignstore.ErrConflict) {
		t.Errorf("replace from a stale read: %v, want ErrConflict", err)
	}
	if err := s.ReplaceNumberClaim(ctx, orphan, next); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceNumberClaim(ctx, orphan, claim("c1", "+12025559999", "row-6", 6, t0)); !errors.Is(err, campaignstore.ErrConflict) {
		t.Errorf("a second replace from the same read: %v, want ErrConflict", err)
	}
	if err := s.ReleaseNumber(ctx, orphan); err != nil { // not the holder: nothing happens
		t.Fatal(err)
	}
	if held, err := s.ClaimNumber(ctx, claim("c1", "+12025559999", "row-8", 8, t0)); err != nil || !held.Holds(next) {
		t.Errorf("holder %+v %v, want row-5", held, err)
	}
	if err := s.ReleaseNumber(ctx, next); err != nil {
		t.Fatal(err)
	}
	if held, err := s.ClaimNumber(ctx, claim("c1", "+12025559999", "row-8", 8, t0)); err != nil || held.RecipientID != "row-8" {
		t.Errorf("after the release: holder %+v %v, want row-8", held, err)
	}
}

// TestConcurrentClaimsHaveOneHolder: 24 writers (three per row, as a chunk repeated while
// it is still being written would) claim one number at once: exactly one row holds it, and every
// writer is told the same holder.
func TestConcurrentClaimsHaveOneHolder(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for round := 0; round < 5; round++ {
		number := fmt.Sprintf("+1202555%04d", round)
		helds := make([]campaignstore.NumberClaim, 24)
		errs := make([]error, len(helds))
		var wg sync.WaitGroup
		for i := range helds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				row := int64(i%8 + 1)
				helds[i], errs[i] = s.ClaimNumber(ctx, claim("c1", number, fmt.Sprintf("row-%d", row), row, t0))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("writer %d: %v", i, err)
			}
			if !helds[i].Holds(helds[0]) {
				t.Errorf("round %d: writer %d was told %s holds the number, writer 0 %s", round, i, helds[i].RecipientID, helds[0].RecipientID)
			}
		}
		winners := 0
		for i, h := range helds {
			if h.RecipientID == fmt.Sprintf("row-%d", i%8+1) {
				winners++
			}
		}
		if winners != 3 { // the holder's three writers, and no other
			t.Errorf("round %d: %d writers hold the number, want the 3 of one row", round, winners)
		}
	}
}

// TestCallbackReportEntriesKeepTheirOwnPlace: callbacks' entries are kept by recipient ID, so two
// of them and the object's own row-0 entry all stay, and Report lists them with row 0.
func TestCallbackReportEntriesKeepTheirOwnPlace(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.AddReportEntry(ctx, campaignstore.ReportEntry{CampaignID: "c1", Row: 0, Reason: "object", At: t0}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"req-a", "req-b", "req-a"} {
		if err := s.AddCallbackReportEntry(ctx, campaignstore.ReportEntry{CampaignID: "c1", RecipientID: id, Reason: "merged " + id, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddReportEntry(ctx, campaignstore.ReportEntry{CampaignID: "c1", Row: 3, RecipientID: "row-3", Reason: "row", At: t0}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Report(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, e := range rep {
		got += fmt.Sprintf("%d:%s:%s;", e.Row, e.RecipientID, e.Reason)
	}
	if want := "0::object;0:req-a:merged req-a;0:req-b:merged req-b;3:row-3:row;"; got != want {
		t.Errorf("report %s\nwant   %s", got, want)
	}
	if err := s.AddCallbackReportEntry(ctx, campaignstore.ReportEntry{CampaignID: "c1", Row: 2, RecipientID: "row-2"}); err == nil {
		t.Error("an import row's entry was taken as a callback's")
	}
}
