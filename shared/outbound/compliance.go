package outbound

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// Compliance is a campaign's compliance report, computed from its audit trail: the abandonment
// its rule set measures, per calendar day (UTC) and over the worst rolling window of each length
// the rule set names; the calls by callee-local hour; the contact-limit hits; the opt-outs
// honoured.
type Compliance struct {
	CampaignID string         `json:"campaignId"`
	Rules      dialer.RuleSet `json:"rules"`
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Dials      int            `json:"dials"`
	// Days: each UTC day's calls answered by a person and abandoned (rule-set weights).
	Days []ComplianceDay `json:"days"`
	// Windows: for each window of the rule set, the worst trailing window of that length (ending
	// at a settled call; the one with the highest abandoned share of the calls answered by a
	// person in it).
	Windows []ComplianceWindow `json:"windows"`
	// Overall: the whole campaign.
	Overall ComplianceWindow `json:"overall"`
	// LocalHours counts the dials by the callee-local hour ("00"-"23") in each zone the callee
	// may be in (a callee of two zones counts in both).
	LocalHours map[string]int `json:"localHours"`
	// ContactLimitHits counts the dials the contact limit deferred or refused; OptOutsHonoured
	// the recipients found on the do-not-call list (never dialled after); DialsAfterOptOut must
	// be 0.
	ContactLimitHits int `json:"contactLimitHits"`
	OptOutsHonoured  int `json:"optOutsHonoured"`
	DialsAfterOptOut int `json:"dialsAfterOptOut"`
}

// ComplianceDay is one UTC day's abandonment.
type ComplianceDay struct {
	Day       string  `json:"day"`
	Answered  float64 `json:"answeredByPerson"`
	Abandoned float64 `json:"abandoned"`
	Rate      float64 `json:"rate"`
}

// ComplianceWindow is the abandonment over one window.
type ComplianceWindow struct {
	Length    time.Duration `json:"length"`
	From      time.Time     `json:"from"`
	Answered  float64       `json:"answeredByPerson"`
	Abandoned float64       `json:"abandoned"`
	Rate      float64       `json:"rate"`
	Ceiling   float64       `json:"ceiling"`
	Within    bool          `json:"withinCeiling"`
}

// auditExporter is what the compliance report reads.
type auditExporter interface {
	ExportAudit(ctx context.Context, campaignID string, shards int, fn func(dialer.AuditRecord) error) error
}

// BuildCompliance computes a campaign's compliance report from its audit trail.
func BuildCompliance(ctx context.Context, store interface {
	auditExporter
	campaigns
}, campaignID string) (Compliance, error) {
	c, err := store.Campaign(ctx, campaignID)
	if err != nil {
		return Compliance{}, err
	}
	plan, err := planFromStored(c.Definition)
	if err != nil {
		return Compliance{}, err
	}
	var recs []dialer.AuditRecord
	if err := store.ExportAudit(ctx, campaignID, c.Shards, func(r dialer.AuditRecord) error { recs = append(recs, r); return nil }); err != nil {
		return Compliance{}, err
	}
	return compliance(campaignID, plan.Rules, recs), nil
}

// compliance is the report's arithmetic over a campaign's audit records.
func compliance(campaignID string, rules dialer.RuleSet, recs []dialer.AuditRecord) Compliance {
	slices.SortStableFunc(recs, func(a, b dialer.AuditRecord) int { return a.At.Compare(b.At) })
	out := Compliance{CampaignID: campaignID, Rules: rules, LocalHours: map[string]int{}}
	days := map[string]*ComplianceDay{}
	var settled []dialer.AuditRecord
	optedOut := map[string]time.Time{}
	for _, r := range recs {
		if out.From.IsZero() || r.At.Before(out.From) {
			out.From = r.At
		}
		if r.At.After(out.To) {
			out.To = r.At
		}
		switch r.Kind {
		case dialer.AuditDial:
			out.Dials++
			for _, lt := range r.LocalTimes {
				if t, err := time.Parse(time.RFC3339, lt); err == nil {
					out.LocalHours[fmt.Sprintf("%02d", t.Hour())]++
				}
			}
			if at, ok := optedOut[r.RecipientID]; ok && r.At.After(at) {
				out.DialsAfterOptOut++
			}
		case dialer.AuditSettle:
			if r.AnsweredByPerson > 0 || r.Abandoned > 0 {
				settled = append(settled, r)
				day := r.At.UTC().Format(time.DateOnly)
				if days[day] == nil {
					days[day] = &ComplianceDay{Day: day}
				}
				days[day].Answered += r.AnsweredByPerson
				days[day].Abandoned += r.Abandoned
				out.Overall.Answered += r.AnsweredByPerson
				out.Overall.Abandoned += r.Abandoned
			}
		case dialer.AuditWait, dialer.AuditFinal:
			switch r.Rule {
			case "contact_limit", "deferred_limit":
				out.ContactLimitHits++
			case "suppressed":
				out.OptOutsHonoured++
				optedOut[r.RecipientID] = r.At
			}
		}
	}
	for _, d := range days {
		d.Rate = rate(d.Abandoned, d.Answered)
		out.Days = append(out.Days, *d)
	}
	slices.SortFunc(out.Days, func(a, b ComplianceDay) int { return compareStrings(a.Day, b.Day) })
	out.Overall.Length, out.Overall.From, out.Overall.Ceiling = out.To.Sub(out.From), out.From, rules.Ceiling
	out.Overall.Rate = rate(out.Overall.Abandoned, out.Overall.Answered)
	out.Overall.Within = out.Overall.Rate <= rules.Ceiling
	for _, w := range rules.Windows {
		out.Windows = append(out.Windows, worstWindow(settled, w, rules.Ceiling))
	}
	return out
}

// worstWindow finds the trailing window of length w (ending at a settled call, as the dialer
// holds the ceiling at every instant over the window behind it) with the highest abandoned share.
func worstWindow(settled []dialer.AuditRecord, w time.Duration, ceiling float64) ComplianceWindow {
	worst := ComplianceWindow{Length: w, Ceiling: ceiling}
	start := 0
	var ans, ab float64
	for end := range settled {
		ans += settled[end].AnsweredByPerson
		ab += settled[end].Abandoned
		for ; !settled[start].At.After(settled[end].At.Add(-w)); start++ {
			ans -= settled[start].AnsweredByPerson
			ab -= settled[start].Abandoned
		}
		if r := rate(ab, ans); end == 0 || r > worst.Rate {
			worst.From, worst.Answered, worst.Abandoned, worst.Rate = settled[end].At.Add(-w), ans, ab, r
		}
	}
	worst.Within = worst.Rate <= ceiling
	return worst
}

func rate(abandoned, answered float64) float64 {
	if answered <= 0 {
		return 0
	}
	return abandoned / answered
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// WriteCSV writes the report as CSV: one row per day, then one per window, then the totals.
func (c Compliance) WriteCSV(w io.Writer) error {
	out := csv.NewWriter(w)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	rows := [][]string{{"kind", "from", "length", "answered_by_person", "abandoned", "rate", "ceiling", "within"}}
	for _, d := range c.Days {
		rows = append(rows, []string{"day", d.Day, "24h", f(d.Answered), f(d.Abandoned), f(d.Rate), f(c.Rules.Ceiling), strconv.FormatBool(d.Rate <= c.Rules.Ceiling)})
	}
	for _, w := range append(slices.Clone(c.Windows), c.Overall) {
		kind := "worst_window"
		if w == c.Overall {
			kind = "overall"
		}
		rows = append(rows, []string{kind, w.From.UTC().Format(time.RFC3339), w.Length.String(), f(w.Answered), f(w.Abandoned), f(w.Rate), f(w.Ceiling), strconv.FormatBool(w.Within)})
	}
	rows = append(rows, []string{"dials", "", "", strconv.Itoa(c.Dials), "", "", "", ""},
		[]string{"contact_limit_hits", "", "", strconv.Itoa(c.ContactLimitHits), "", "", "", ""},
		[]string{"opt_outs_honoured", "", "", strconv.Itoa(c.OptOutsHonoured), "", "", "", ""},
		[]string{"dials_after_opt_out", "", "", strconv.Itoa(c.DialsAfterOptOut), "", "", "", ""})
	for h := 0; h < 24; h++ {
		k := fmt.Sprintf("%02d", h)
		if n := c.LocalHours[k]; n > 0 {
			rows = append(rows, []string{"local_hour", k, "", strconv.Itoa(n), "", "", "", ""})
		}
	}
	if err := out.WriteAll(rows); err != nil {
		return fmt.Errorf("write compliance report: %w", err)
	}
	return nil
}
