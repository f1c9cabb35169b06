package campaignstore_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// TestRecipientsDueAtOneInstantNeverShareAnIndexEntry: dynalite keys an index entry by the index
// key and the first 6 hex digits of md5("Outliers" + pk + sk) (node_modules/dynalite/db/index.js,
// createIndexKey, hashPrefix). r005762 and r008491 of campaign "collide" (one shard) have the same
// 6 digits (8ea347, found by a search over recipient IDs): with the same due instant, one index entry
// overwrote the other and the recipient was never listed (how BenchmarkDialer10k lost one of
// 10,000). Both must be listed as due, and both as in flight when they dial at one instant.
func TestRecipientsDueAtOneInstantNeverShareAnIndexEntry(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var keys []campaignstore.RecipientKey
	for _, id := range []string{"r005762", "r008491"} {
		k := campaignstore.Key("collide", id, 1)
		if _, err := s.AddRecipient(ctx, campaignstore.Recipient{RecipientKey: k, Phone: "+12025550143", State: dialer.StatePending, Reason: "imported", UpdatedAt: t0, NextAttemptAt: t0}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	due, err := s.Due(ctx, "collide", 0, 1, t0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 {
		t.Fatalf("due: %v, want both recipients", due)
	}
	for _, k := range keys {
		if _, err := s.Apply(ctx, k, 1, campaignstore.Change{From: dialer.StatePending, To: dialer.StateDialing, At: t0, Reason: "dialling", Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	fl, err := s.InFlight(ctx, "collide", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(fl) != 2 {
		t.Fatalf("in flight: %v, want both recipients", fl)
	}
	for _, f := range fl {
		if !f.Since.Equal(t0) {
			t.Errorf("%s in flight since %v, want %v", f.Key.RecipientID, f.Since, t0)
		}
	}
}

// TestDueListsOnlyRecipientsDueByNow: the string sort key keeps "due at or before now".
func TestDueListsOnlyRecipientsDueByNow(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for id, due := range map[string]int64{"early": -1000, "exact": 0, "one-ms-late": 1, "later": 3600_000} {
		k := campaignstore.Key("c", id, 1)
		at := t0.Add(time.Duration(due) * time.Millisecond)
		if _, err := s.AddRecipient(ctx, campaignstore.Recipient{RecipientKey: k, Phone: "+12025550143", State: dialer.StatePending, Reason: "imported", UpdatedAt: t0, NextAttemptAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := s.Due(ctx, "c", 0, 1, t0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.RecipientID)
	}
	if len(got) != 2 || got[0] != "early" || got[1] != "exact" {
		t.Errorf("due at t0: %v, want [early exact] in that order", got)
	}
}

func newStoreAndDB(t *testing.T) (*campaignstore.Store, *dynamodb.Client) {
	t.Helper()
	srv := dynalitetest.Start(t)
	srv.CreateTable(t, campaignstore.CreateTableInput("campaigns"))
	return campaignstore.New(srv.Client(), "campaigns"), srv.Client()
}

// dropFromIndexes removes a recipient's index attributes behind the store's back: the state an
// index that lost the entry leaves.
func dropFromIndexes(t *testing.T, db *dynamodb.Client, campaignID, recipientID string, shards int) {
	t.Helper()
	k := campaignstore.Key(campaignID, recipientID, shards)
	_, err := db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String("campaigns"),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "R#" + campaignID + "#" + strconv.Itoa(k.Shard)},
			"sk": &types.AttributeValueMemberS{Value: recipientID},
		},
		UpdateExpression:    aws.String("REMOVE due_pk, due_at, flight_pk, flight_at"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuditFindsOpenRecipientsTheIndexesLost(t *testing.T) {
	s, db := newStoreAndDB(t)
	ctx := context.Background()
	add := func(id string) campaignstore.RecipientKey {
		k := campaignstore.Key("c", id, 2)
		if _, err := s.AddRecipient(ctx, campaignstore.Recipient{RecipientKey: k, Phone: "+12025550143", State: dialer.StatePending, Reason: "imported", UpdatedAt: t0, NextAttemptAt: t0}); err != nil {
			t.Fatal(err)
		}
		return k
	}
	add("waiting")
	lost := add("lost")
	calling := add("calling")
	done := add("done")
	if _, err := s.Apply(ctx, calling, 2, campaignstore.Change{From: dialer.StatePending, To: dialer.StateDialing, At: t0, Reason: "dialling", Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, done, 2, campaignstore.Change{From: dialer.StatePending, To: dialer.StateInvalidNumber, At: t0, Reason: "invalid"}); err != nil {
		t.Fatal(err)
	}
	dropFromIndexes(t, db, "c", "lost", 2)
	dropFromIndexes(t, db, "c", "calling", 2)
	if listed(t, s, "c", 2)["lost"] {
		t.Fatal("the lost recipient is still listed as due: the test would prove nothing")
	}

	var open []string
	cur, walked, err := s.Audit(ctx, "c", 2, campaignstore.AuditCursor{}, func() bool { return true }, func(r campaignstore.Recipient) error {
		open = append(open, r.RecipientID+":"+string(r.State))
		if r.RecipientID != "waiting" {
			return s.Reindex(ctx, r, t0)
		}
		return nil
	})
	if err != nil || !walked || cur != (campaignstore.AuditCursor{Shard: 2}) {
		t.Fatalf("audit: %v walked=%v cursor=%+v", err, walked, cur)
	}
	sort.Strings(open)
	if want := []string{"calling:dialing", "lost:pending", "waiting:pending"}; !slices.Equal(open, want) {
		t.Errorf("open recipients %v, want %v", open, want)
	}
	if !listed(t, s, "c", 2)["lost"] {
		t.Error("reindexed, but still not listed as due")
	}
	fl, err := s.InFlight(ctx, "c", 2)
	if err != nil || len(fl) != 1 || fl[0].Key.RecipientID != "calling" {
		t.Errorf("in flight after reindex: %v %v", fl, err)
	}
	r, err := s.Recipient(ctx, lost, 2)
	if err != nil || r.State != dialer.StatePending || !r.NextAttemptAt.Equal(t0) || len(r.History) != 1 {
		t.Errorf("reindex changed the recipient: %+v %v", r, err)
	}
	// A recipient that moved since it was read is not touched.
	stale := r
	stale.State = dialer.StateWaitingRetry
	if err := s.Reindex(ctx, stale, t0); !errors.Is(err, campaignstore.ErrConflict) {
		t.Errorf("reindex of a stale read: %v, want ErrConflict", err)
	}
	final := r
	final.State = dialer.StateCompleted
	if err := s.Reindex(ctx, final, t0); err == nil {
		t.Error("a final recipient was reindexed")
	}
}

func TestAuditResumesFromItsCursor(t *testing.T) {
	s, _ := newStoreAndDB(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.AddRecipient(ctx, campaignstore.Recipient{RecipientKey: campaignstore.Key("c", id, 1), Phone: "+12025550143", State: dialer.StatePending, Reason: "imported", UpdatedAt: t0, NextAttemptAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	cur, walked, err := s.Audit(ctx, "c", 1, campaignstore.AuditCursor{}, func() bool { return false }, func(campaignstore.Recipient) error { seen++; return nil })
	if err != nil || walked || seen != 0 || cur != (campaignstore.AuditCursor{}) {
		t.Fatalf("audit with no budget: %v walked=%v seen=%d cursor=%+v", err, walked, seen, cur)
	}
	var got []string
	_, walked, err = s.Audit(ctx, "c", 1, campaignstore.AuditCursor{After: "a"}, func() bool { return true }, func(r campaignstore.Recipient) error {
		got = append(got, r.RecipientID)
		return nil
	})
	if err != nil || !walked || !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("resumed after a: %v walked=%v err=%v", got, walked, err)
	}

	if _, err := s.CreateCampaign(ctx, campaignstore.Campaign{ID: "c", Definition: []byte(`{}`), Status: campaignstore.StatusRunning, CreatedAt: t0, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAudit(ctx, "c", campaignstore.AuditCursor{Shard: 0, After: "b"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Campaign(ctx, "c"); err != nil || c.Audit != (campaignstore.AuditCursor{After: "b"}) {
		t.Errorf("saved cursor: %+v %v", c.Audit, err)
	}
	if err := s.SetQuiet(ctx, "c", false, t0); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Campaign(ctx, "c"); err != nil || c.Audit != (campaignstore.AuditCursor{}) {
		t.Errorf("cursor after the campaign stopped being quiet: %+v %v, want the start", c.Audit, err)
	}
}

func TestOpenStatesAreExactlyTheStatesThatAreNotFinal(t *testing.T) {
	open := map[dialer.State]bool{}
	for _, s := range dialer.OpenStates() {
		open[s] = true
	}
	for _, s := range dialer.States {
		if s.Final() == open[s] {
			t.Errorf("%s: final=%v, listed as open=%v", s, s.Final(), open[s])
		}
	}
	if len(open) != len(dialer.OpenStates()) {
		t.Error("a state is listed twice")
	}
}

func listed(t *testing.T, s *campaignstore.Store, cid string, shards int) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for shard := 0; shard < shards; shard++ {
		keys, err := s.Due(context.Background(), cid, shard, shards, t0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			out[k.RecipientID] = true
		}
	}
	return out
}
