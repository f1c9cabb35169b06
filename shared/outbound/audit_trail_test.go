package outbound_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

// Issue 19: every dial and every skip leaves one audit record with its reason and what it was
// decided from, queryable per recipient and exportable per campaign.
func TestEveryDialAndSkipIsAudited(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Calls.NumberOutcomes = map[string]string{"+12025550101": connectsim.OutcomeAnswered}
	r := newRig(t, rigOptions{world: world, start: wed}) // 10:00 in Washington, 07:00 in San Francisco
	if _, err := r.dnc.Record(context.Background(), donotcall.Entry{PhoneNumber: "+12025550104", Source: donotcall.SourceImport, RecordedAt: wed}); err != nil {
		t.Fatal(err)
	}
	if err := r.send("Campaign Launched", campaign("c1", map[string]any{"recipients": []map[string]any{
		{"recipientId": "answers", "phone": "+12025550101"},
		{"recipientId": "listed", "phone": "+12025550104"},
		{"recipientId": "pacific", "phone": "+14155550106"},
	}})); err != nil {
		t.Fatal(err)
	}
	r.tick()
	r.tick()
	c, err := r.store.Campaign(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	trail := func(id string) []dialer.AuditRecord {
		recs, err := r.store.AuditTrail(context.Background(), "c1", id, c.Shards)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	// The answered number: a dial (zones, local time, window, do-not-call lookup), then its settle.
	a := trail("answers")
	if len(a) != 2 || a[0].Kind != dialer.AuditDial || a[1].Kind != dialer.AuditSettle {
		t.Fatalf("answers: %+v", a)
	}
	d := a[0]
	if len(d.Zones) != 1 || d.Zones[0] != "America/New_York" || len(d.LocalTimes) != 1 || !strings.HasPrefix(d.LocalTimes[0], "2027-03-10T10:00") ||
		d.WindowOpenUntil == nil || d.DoNotCallCheckedAt == nil || d.Listed || d.ContactID == "" || d.Attempt != 1 {
		t.Errorf("dial record %+v", d)
	}
	if s := a[1]; s.Outcome != dialer.OutcomeHuman || s.AnsweredByPerson != 1 || s.Abandoned != 0 || s.State != dialer.StateCompleted || s.ContactID != d.ContactID {
		t.Errorf("settle record %+v", s)
	}
	// The listed number: a final move, with the lookup that found it.
	if l := trail("listed"); len(l) != 1 || l[0].Kind != dialer.AuditFinal || l[0].State != dialer.StateSuppressedDNC || !l[0].Listed || l[0].DoNotCallCheckedAt == nil {
		t.Errorf("listed: %+v", l)
	}
	// The Pacific number at 07:00: a wait until 09:00 its time, decided without a lookup.
	p := trail("pacific")
	if len(p) == 0 || p[0].Kind != dialer.AuditWait || p[0].DoNotCallCheckedAt != nil || !strings.Contains(p[0].Reason, "2027-03-10T17:00:00Z") ||
		len(p[0].LocalTimes) != 1 || !strings.HasPrefix(p[0].LocalTimes[0], "2027-03-10T07:00") {
		t.Errorf("pacific: %+v", p)
	}
	// The export holds them all, and no number in clear.
	n := 0
	if err := r.store.ExportAudit(context.Background(), "c1", c.Shards, func(rec dialer.AuditRecord) error {
		n++
		if strings.Contains(rec.Reason, "2025550") {
			t.Errorf("a number in clear: %+v", rec)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := len(a) + 1 + len(p); n != want {
		t.Errorf("export: %d records, want %d", n, want)
	}
}
