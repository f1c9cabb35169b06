package outbound

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/recipients"
)

// TestPlanChunk: rows sharing a number go to one writer in row order; invalid rows (no number)
// each to their own; a recipient ID repeated inside the chunk is a repeat, whatever its number.
func TestPlanChunk(t *testing.T) {
	type row struct{ id, number string }
	for _, tc := range []struct {
		name     string
		rows     []row
		groups   string
		repeated string
	}{
		{"distinct", []row{{"a", "+1"}, {"b", "+2"}, {"c", "+3"}}, "[[0] [1] [2]]", "[]"},
		{"one number three times", []row{{"a", "+1"}, {"b", "+2"}, {"c", "+1"}, {"d", "+1"}}, "[[0 2 3] [1]]", "[]"},
		{"invalid rows are never grouped", []row{{"a", ""}, {"b", ""}, {"c", "+1"}}, "[[0] [1] [2]]", "[]"},
		{"a repeated ID is no claimant", []row{{"a", "+1"}, {"a", "+2"}, {"b", "+2"}, {"a", "+1"}}, "[[0] [2]]", "[1 3]"},
		{"a repeated ID of an invalid row", []row{{"a", ""}, {"a", "+1"}, {"b", "+1"}}, "[[0] [2]]", "[1]"},
	} {
		rows := make([]recipients.Row, len(tc.rows))
		judged := make([]campaignstore.Recipient, len(tc.rows))
		for i, r := range tc.rows {
			rows[i] = recipients.Row{Number: int64(i + 1), RecipientID: r.id}
			judged[i] = campaignstore.Recipient{Phone: r.number}
		}
		p := planChunk(rows, judged)
		if got := fmt.Sprint(p.groups); got != tc.groups {
			t.Errorf("%s: groups %s, want %s", tc.name, got, tc.groups)
		}
		if got := fmt.Sprint(append([]int{}, p.repeated...)); got != tc.repeated {
			t.Errorf("%s: repeated %s, want %s", tc.name, got, tc.repeated)
		}
	}
}

// TestDecideHolder: what a row or a callback does with a number another claim holds, from the
// holder's recipient as read.
func TestDecideHolder(t *testing.T) {
	now := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	held := campaignstore.NumberClaim{CampaignID: "c", Number: "+12025559999", RecipientID: "row-1", Row: 1, At: now.Add(-time.Minute)}
	rec := func(row int64, phone string, state dialer.State) campaignstore.Recipient {
		return campaignstore.Recipient{RecipientKey: campaignstore.RecipientKey{CampaignID: "c", RecipientID: "row-1"}, Row: row, Phone: phone, State: state}
	}
	old := held
	old.At = now.Add(-5 * time.Minute)
	for _, tc := range []struct {
		name     string
		held     campaignstore.NumberClaim
		rec      campaignstore.Recipient
		found    bool
		callback bool
		want     holderAction
	}{
		{"holder waiting: a row merges", held, rec(1, "+12025559999", dialer.StatePending), true, false, mergeInto},
		{"holder in a call: a row merges", held, rec(1, "+12025559999", dialer.StateInCall), true, false, mergeInto},
		{"holder called: a row merges (the number was called)", held, rec(1, "+12025559999", dialer.StateCompleted), true, false, mergeInto},
		{"holder waiting: a callback merges", held, rec(1, "+12025559999", dialer.StateWaitingRetry), true, true, mergeInto},
		{"holder dialling: a callback merges", held, rec(1, "+12025559999", dialer.StateDialing), true, true, mergeInto},
		{"holder's calls over: a callback takes the number", held, rec(1, "+12025559999", dialer.StateExhausted), true, true, takeOver},
		{"holder cancelled: a callback takes the number", held, rec(1, "+12025559999", dialer.StateCancelled), true, true, takeOver},
		{"the holder's ID is another row's", held, rec(4, "+12025550104", dialer.StatePending), true, false, takeOver},
		{"the holder's recipient has another number", held, rec(1, "+12025550101", dialer.StatePending), true, true, takeOver},
		{"no recipient yet, claimed a minute ago", held, campaignstore.Recipient{}, false, false, waitForHolder},
		{"no recipient yet, a callback", held, campaignstore.Recipient{}, false, true, waitForHolder},
		{"no recipient five minutes after the claim", old, campaignstore.Recipient{}, false, false, takeOver},
	} {
		if got := decideHolder(tc.held, tc.rec, tc.found, now, tc.callback); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
