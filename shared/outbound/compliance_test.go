package outbound

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// The compliance report's arithmetic on a hand-built trail: the expected figures are counted by
// hand from the records below.
func TestComplianceReport(t *testing.T) {
	t0 := time.Date(2027, 3, 10, 14, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	settle := func(at time.Time, answered, abandoned float64) dialer.AuditRecord {
		return dialer.AuditRecord{RecipientID: "r", At: at, Kind: dialer.AuditSettle, AnsweredByPerson: answered, Abandoned: abandoned}
	}
	recs := []dialer.AuditRecord{
		{RecipientID: "a", At: h(0), Kind: dialer.AuditDial, LocalTimes: []string{"2027-03-10T09:00:00-05:00"}},
		{RecipientID: "b", At: h(1), Kind: dialer.AuditDial, LocalTimes: []string{"2027-03-10T10:00:00-05:00", "2027-03-10T09:00:00-06:00"}},
		settle(h(0.1), 1, 0), settle(h(1.1), 1, 1), settle(h(2), 1, 0), settle(h(3), 0.1, 0.1), // day 1: 3.1 answered, 1.1 abandoned
		settle(h(30), 1, 0), settle(h(31), 1, 0), // day 2 (11 March, 20:00 and 21:00 UTC)
		{RecipientID: "x", At: h(5), Kind: dialer.AuditFinal, Rule: "suppressed", State: dialer.StateSuppressedDNC},
		{RecipientID: "x", At: h(6), Kind: dialer.AuditDial}, // must not happen: counted
		{RecipientID: "y", At: h(7), Kind: dialer.AuditWait, Rule: "deferred_limit"},
		{RecipientID: "y", At: h(8), Kind: dialer.AuditFinal, Rule: "contact_limit"},
		{RecipientID: "z", At: h(9), Kind: dialer.AuditWait, Rule: "deferred_window"},
	}
	rules := dialer.DefaultRuleSet() // 24 h and 30 d, 3 %
	c := compliance("c1", rules, recs)
	if len(c.Days) != 2 || c.Days[0].Day != "2027-03-10" || !near(c.Days[0].Answered, 3.1) || !near(c.Days[0].Abandoned, 1.1) || c.Days[1].Day != "2027-03-11" || c.Days[1].Answered != 2 {
		t.Errorf("days %+v", c.Days)
	}
	if !near(c.Overall.Answered, 5.1) || !near(c.Overall.Abandoned, 1.1) || c.Overall.Within {
		t.Errorf("overall %+v", c.Overall)
	}
	// The worst trailing 24 h window ends at the second settled call (1.1 h): 2 answered, 1
	// abandoned, rate 0.5 (at 2 h: 1 of 3; at 3 h: 1.1 of 3.1; at 30 h and 31 h: none).
	for i, w := range c.Windows {
		if !w.From.Equal(h(1.1).Add(-w.Length)) || w.Answered != 2 || w.Abandoned != 1 || w.Rate != 0.5 || w.Within {
			t.Errorf("worst window %d %+v", i, w)
		}
	}
	if c.Dials != 3 || c.LocalHours["09"] != 2 || c.LocalHours["10"] != 1 || c.ContactLimitHits != 2 || c.OptOutsHonoured != 1 || c.DialsAfterOptOut != 1 {
		t.Errorf("dials %d, hours %v, limit %d, opt-outs %d, after opt-out %d", c.Dials, c.LocalHours, c.ContactLimitHits, c.OptOutsHonoured, c.DialsAfterOptOut)
	}
	var b bytes.Buffer
	if err := c.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"day,2027-03-10,24h,3.1000,1.1000,0.3548,0.0300,false", "worst_window,2027-03-09T15:06:00Z,24h0m0s,2.0000,1.0000,0.5000", "dials_after_opt_out,,,1", "local_hour,09,,2"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("CSV lacks %q:\n%s", want, b.String())
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
