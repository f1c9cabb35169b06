package outbound_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

const (
	instanceID = connectsim.DefaultInstanceID
	flowID     = connectsim.DefaultContactFlowID
	queueID    = connectsim.DefaultQueueID
)

// Wednesday 10 March 2027, 15:00 UTC: 10:00 in Washington (EST), 07:00 in San Francisco (PST).
var wed = time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)

func campaign(id string, extra map[string]any) map[string]any {
	c := map[string]any{
		"campaignId": id, "instanceId": instanceID, "contactFlowId": flowID, "queueId": queueID,
		"mode": "agentless", "defaultRegion": "US",
		"retry": map[string]any{
			"busy":     map[string]any{"delay": "30m", "maxAttempts": 2},
			"noAnswer": map[string]any{"delay": "1h", "maxAttempts": 2},
			"failed":   map[string]any{"delay": "1h", "maxAttempts": 2},
		},
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func TestCampaignOutcomesWindowsAndDoNotCall(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Calls.NumberOutcomes = map[string]string{
		"+12025550101": connectsim.OutcomeAnswered,
		"+12025550102": connectsim.OutcomeBusy,
		"+12025550103": connectsim.OutcomeNoAnswer,
		"+14155550106": connectsim.OutcomeAnswered,
	}
	r := newRig(t, rigOptions{world: world, start: wed})
	if _, err := r.dnc.Record(context.Background(), donotcall.Entry{PhoneNumber: "+12025550104", Source: donotcall.SourceImport, RecordedAt: wed}); err != nil {
		t.Fatal(err)
	}
	err := r.send("Campaign Launched", campaign("c1", map[string]any{"recipients": []map[string]any{
		{"recipientId": "answers", "phone": "+12025550101"},
		{"recipientId": "busy", "phone": "(202) 555-0102"},
		{"recipientId": "no-answer", "phone": "+12025550103"},
		{"recipientId": "opted-out", "phone": "+12025550104"},
		{"recipientId": "invalid", "phone": "12345"},
		{"recipientId": "pacific", "phone": "+14155550106"},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	c := r.runUntil("c1", 6*60)
	if c.Status != "finished" {
		t.Fatalf("campaign %s: %s", c.Status, c.Reason)
	}
	got := r.recipientsOf("c1")
	// The campaign ends only when two looks at least 30 s apart found nothing waiting or in flight.
	var last time.Time
	for _, rec := range got {
		if rec.UpdatedAt.After(last) {
			last = rec.UpdatedAt
		}
	}
	if c.UpdatedAt.Sub(last) < 30*time.Second {
		t.Errorf("finished at %v, %v after the last recipient's move: want two quiet looks 30 s apart", c.UpdatedAt, c.UpdatedAt.Sub(last))
	}
	want := map[string]struct {
		state    dialer.State
		attempts int
	}{
		"answers": {dialer.StateCompleted, 1}, "busy": {dialer.StateExhausted, 2}, "no-answer": {dialer.StateExhausted, 2},
		"opted-out": {dialer.StateSuppressedDNC, 0}, "invalid": {dialer.StateInvalidNumber, 0}, "pacific": {dialer.StateCompleted, 1},
	}
	for id, w := range want {
		rec := got[id]
		if rec.State != w.state || rec.Attempt != w.attempts {
			t.Errorf("%s: %s after %d attempts (%s), want %s after %d", id, rec.State, rec.Attempt, rec.Reason, w.state, w.attempts)
		}
		if rec.Reason == "" {
			t.Errorf("%s: final state without a reason", id)
		}
	}
	// connectsim's own record: one contact per attempt, none for the opted-out and invalid numbers,
	// the Pacific number not before 09:00 in San Francisco (17:00 UTC).
	calls := map[string][]connectsim.ContactView{}
	tokens := map[string]bool{}
	for _, ct := range r.sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		calls[ct.CustomerNumber] = append(calls[ct.CustomerNumber], ct)
		if tokens[ct.ClientToken] {
			t.Errorf("ClientToken used for two contacts: %s", ct.ClientToken)
		}
		tokens[ct.ClientToken] = true
	}
	for number, n := range map[string]int{"+12025550101": 1, "+12025550102": 2, "+12025550103": 2, "+12025550104": 0, "+14155550106": 1} {
		if len(calls[number]) != n {
			t.Errorf("%s: %d calls in connectsim, want %d", phone.Mask(number), len(calls[number]), n)
		}
	}
	if p := calls["+14155550106"]; len(p) == 1 && p[0].InitiationTimestamp.Before(time.Date(2027, 3, 10, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("the Pacific number was called at %v, before 09:00 local", p[0].InitiationTimestamp)
	}
	// The final report: one row per recipient with its state and reason, numbers masked.
	var report strings.Builder
	n, err := outbound.WriteReport(context.Background(), r.store, "c1", &report)
	if err != nil || n != 6 {
		t.Fatalf("report: %d rows, %v", n, err)
	}
	rows, err := csv.NewReader(strings.NewReader(report.String())).ReadAll()
	if err != nil || len(rows) != 7 || strings.Join(rows[0], ",") != "recipient_id,number,state,reason,attempts,outcomes,updated_at,import_row" {
		t.Fatalf("report %q: %v", report.String(), err)
	}
	for _, row := range rows[1:] {
		if w := want[row[0]]; row[2] != string(w.state) || row[4] != fmt.Sprint(w.attempts) || row[3] == "" {
			t.Errorf("report row %v, want %s after %d", row, w.state, w.attempts)
		}
		if row[0] == "busy" && (row[1] != "+1******0102" || row[5] != "busy busy") {
			t.Errorf("busy row %v", row)
		}
	}
	if strings.Contains(report.String(), "2025550102") {
		t.Error("the report holds a number in clear")
	}
	// The logs: embedded metrics per campaign, and no number in clear.
	dialed := int64(0)
	for _, line := range r.logs.Lines() {
		for _, n := range []string{"2025550101", "2025550102", "2025550103", "2025550104", "4155550106"} {
			if strings.Contains(line, n) {
				t.Errorf("a log line holds a number in clear: %s", line)
			}
		}
		var m struct {
			AWS *struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
			CampaignID string `json:"CampaignId"`
			Dialed     int64
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.AWS != nil {
			cw := m.AWS.CloudWatchMetrics
			if len(cw) != 1 || cw[0].Namespace != "Switchboard/Dialer" || fmt.Sprint(cw[0].Dimensions) != "[[CampaignId]]" || m.CampaignID != "c1" {
				t.Errorf("embedded metrics line %s", line)
			}
			dialed += m.Dialed
		}
	}
	if dialed != 6 {
		t.Errorf("embedded metrics count %d dials, want 6 (1+2+2+1)", dialed)
	}
	if b := calls["+12025550102"]; len(b) == 2 && b[1].InitiationTimestamp.Sub(b[0].DisconnectTimestamp) < 30*time.Minute {
		t.Errorf("busy retry after %v, want at least the 30m delay", b[1].InitiationTimestamp.Sub(b[0].DisconnectTimestamp))
	}
}

// TestNothingIsDialledAfterTheCampaignEnds: a tick that started before the campaign's end stops
// dialling CloseGuard (2 minutes by default) before the end, so that no call rings into it; the
// recipients still waiting expire.
func TestNothingIsDialledAfterTheCampaignEnds(t *testing.T) {
	r := newRig(t, rigOptions{start: wed})
	end := wed.Add(3*time.Minute + 30*time.Second)
	lastDial := end.Add(-2 * time.Minute)
	var recips []map[string]any
	for i := 0; i < 20; i++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("r%02d", i), "phone": fmt.Sprintf("+1202555%04d", 200+i)})
	}
	if err := r.send("Campaign Launched", campaign("short", map[string]any{
		"recipients": recips, "endTime": end.Format(time.RFC3339), "pacing": map[string]any{"maxConcurrentCalls": 2},
	})); err != nil {
		t.Fatal(err)
	}
	c := r.runUntil("short", 60)
	if c.Status != "finished" {
		t.Fatalf("campaign %s", c.Status)
	}
	placed := 0
	for _, ct := range r.sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		placed++
		if !ct.InitiationTimestamp.Before(lastDial) {
			t.Errorf("call at %v, less than 2 minutes before the campaign's end %v", ct.InitiationTimestamp, end)
		}
	}
	expired := 0
	for _, rec := range r.recipientsOf("short") {
		if rec.State == dialer.StateExpired {
			expired++
		}
		if !rec.State.Final() {
			t.Errorf("%s: %s", rec.RecipientID, rec.State)
		}
	}
	if placed == 0 || expired == 0 || placed+expired < 20 {
		t.Errorf("%d calls placed, %d expired of 20", placed, expired)
	}
}
