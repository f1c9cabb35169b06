package outbound_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// TestACampaignEndsOnlyWhenTheTableSaysEveryRecipientIsFinal: a recipient that the due index does
// not list (as dynalite's index lost one of 10,000 in BenchmarkDialer10k) is found by the audit of
// the table before the campaign ends, put back, dialled, and the campaign ends with it final.
func TestACampaignEndsOnlyWhenTheTableSaysEveryRecipientIsFinal(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Calls.NumberOutcomes = map[string]string{}
	var recips []map[string]any
	for i := 0; i < 6; i++ {
		phone := fmt.Sprintf("+1202555%04d", 300+i)
		world.Calls.NumberOutcomes[phone] = connectsim.OutcomeAnswered
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("r%d", i), "phone": phone})
	}
	r := newRig(t, rigOptions{world: world, start: wed})
	if err := r.send("Campaign Launched", campaign("audited", map[string]any{"recipients": recips})); err != nil {
		t.Fatal(err)
	}
	c, err := r.store.Campaign(context.Background(), "audited")
	if err != nil {
		t.Fatal(err)
	}
	dropDue(t, r, c, "r3")
	c = r.runUntil("audited", 60)
	if c.Status != campaignstore.StatusFinished {
		t.Fatalf("campaign %s", c.Status)
	}
	for id, rec := range r.recipientsOf("audited") {
		if !rec.State.Final() {
			t.Errorf("%s ended %s", id, rec.State)
		}
		if rec.Attempt < 1 {
			t.Errorf("%s ended %s without a call", id, rec.State)
		}
	}
	calls := 0
	for _, ct := range r.sim.Contacts() {
		if ct.InitiationMethod == "API" && ct.CustomerNumber == "+12025550303" {
			calls++
		}
	}
	if calls == 0 {
		t.Error("the recipient missing from the index was never called")
	}
	if counters(t, r, c.ID)["reindexed"] != 1 {
		t.Errorf("reindexed counter %d, want 1", counters(t, r, c.ID)["reindexed"])
	}
	if got := r.recipientsOf("audited")["r3"]; got.State == dialer.StatePending {
		t.Error("still pending")
	}
}

// dropDue removes a pending recipient's due-index attributes behind the store's back: what an
// index that lost the entry leaves.
func dropDue(t *testing.T, r *rig, c campaignstore.Campaign, recipientID string) {
	t.Helper()
	k := campaignstore.Key(c.ID, recipientID, c.Shards)
	if _, err := r.db.Client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String("campaigns"),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "R#" + c.ID + "#" + strconv.Itoa(k.Shard)},
			"sk": &types.AttributeValueMemberS{Value: recipientID},
		},
		UpdateExpression:          aws.String("REMOVE due_pk, due_at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND #st = :p"),
		ExpressionAttributeNames:  map[string]string{"#st": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "pending"}},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAStoppedCampaignCancelsARecipientTheIndexLost: the stop sweep finds waiting recipients
// through the due index; the audit before the campaign ends cancels the one it missed.
func TestAStoppedCampaignCancelsARecipientTheIndexLost(t *testing.T) {
	r := newRig(t, rigOptions{start: wed})
	if err := r.send("Campaign Launched", campaign("stopped", map[string]any{
		// Open from 20:00 in Washington only: nothing is dialled before the stop.
		"callingWindows": map[string]any{"weekly": map[string]any{"wednesday": []map[string]string{{"start": "20:00", "end": "21:00"}}}},
		"recipients": []map[string]any{
			{"recipientId": "kept", "phone": "+12025550401"},
			{"recipientId": "lost", "phone": "+12025550402"},
		},
	})); err != nil {
		t.Fatal(err)
	}
	c, err := r.store.Campaign(context.Background(), "stopped")
	if err != nil {
		t.Fatal(err)
	}
	dropDue(t, r, c, "lost")
	if err := r.send("Campaign Stopped", map[string]any{"campaignId": "stopped", "reason": "wrong script"}); err != nil {
		t.Fatal(err)
	}
	c = r.runUntil("stopped", 10)
	if c.Status != campaignstore.StatusStopped {
		t.Fatalf("campaign %s", c.Status)
	}
	for id, rec := range r.recipientsOf("stopped") {
		if rec.State != dialer.StateCancelled || rec.Reason != "campaign stopped: wrong script" {
			t.Errorf("%s ended %s (%s), want cancelled with the stop's reason", id, rec.State, rec.Reason)
		}
	}
	if counters(t, r, c.ID)["cancelled"] != 2 {
		t.Errorf("cancelled counter %d, want 2", counters(t, r, c.ID)["cancelled"])
	}
}
