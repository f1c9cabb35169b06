package devstack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// The sample S3 campaign with a CSV of recipients in five zones and two rows that are not
// numbers: it finishes, every call starts inside the default window (09:00-20:00 callee-local),
// and the report names why each recipient not reached was not, by ID only.
func TestRehearseSampleCampaignWithCSV(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dynalite and connectsim")
	}
	campaign, err := os.ReadFile("../../events/dialer/campaign-launched-s3.json")
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	csv.WriteString("recipient_id,phone,first_name\n")
	prefixes := []string{"+1212555", "+1312555", "+1415555", "+1808555", "+1907555"}
	const n = 30
	for i := 0; i < n; i++ {
		phone := fmt.Sprintf("%s%04d", prefixes[i%len(prefixes)], i)
		if i == 7 || i == 21 {
			phone = "not-a-number"
		}
		fmt.Fprintf(&csv, "r%02d,%s,Pat\n", i, phone)
	}
	start := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC) // Wednesday, 07:00 in New York
	r, err := Rehearse(context.Background(), RehearsalOptions{Campaign: campaign, Recipients: csv.Bytes(), Start: start, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Finished || r.Status != "finished" {
		t.Fatalf("not finished: %+v", r)
	}
	total := 0
	for s, c := range r.States {
		if !s.Final() {
			t.Errorf("%d recipients %s", c, s)
		}
		total += c
	}
	if total != n || r.States[dialer.StateInvalidNumber] < 2 {
		t.Errorf("states %v, want %d recipients, at least 2 invalid", r.States, n)
	}
	// The two rows that are not numbers make one group of their own (connectsim may also
	// answer INVALID_NUMBER for a dialled one: another reason).
	found := false
	for _, g := range r.NotReached {
		ex := append([]string(nil), g.Examples...)
		sort.Strings(ex)
		if g.State == dialer.StateInvalidNumber && g.Count == 2 && strings.Join(ex, ",") == "r07,r21" && g.Reason != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("no not-reached group for r07 and r21: %+v", r.NotReached)
	}
	calls := 0
	for h, c := range r.CallsByLocalHour {
		calls += c
		if c > 0 && (h < 9 || h >= 20) {
			t.Errorf("%d calls in callee-local hour %02d", c, h)
		}
	}
	if calls != r.Calls || calls == 0 {
		t.Errorf("%d calls by hour, %d calls", calls, r.Calls)
	}
	// Nobody dials before 09:00 in New York (13:00 UTC) or Honolulu (19:00 UTC): the first
	// call is not before 13:00 UTC, so the campaign cannot end before that.
	if !r.End.After(start.Add(time.Hour)) {
		t.Errorf("finished at %v", r.End)
	}
	var out bytes.Buffer
	r.Write(&out)
	report := out.String()
	for _, want := range []string{"would finish", "adjusted: recipientsObject: the CSV file instead", "adjusted: contactFlowId", "invalid_number"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	for _, p := range prefixes {
		if strings.Contains(report, p) {
			t.Errorf("the report shows a phone number (%s...):\n%s", p, report)
		}
	}
}

func TestRehearseRefusesAnS3CampaignWithoutItsCSV(t *testing.T) {
	campaign, err := os.ReadFile("../../events/dialer/campaign-launched-s3.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Rehearse(context.Background(), RehearsalOptions{Campaign: campaign}); err == nil || !strings.Contains(err.Error(), "pass the CSV file") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Rehearse(context.Background(), RehearsalOptions{Campaign: []byte(`{"detail-type":"Campaign Paused","detail":{}}`)}); err == nil || !strings.Contains(err.Error(), `want "Campaign Launched"`) {
		t.Fatalf("err = %v", err)
	}
}
