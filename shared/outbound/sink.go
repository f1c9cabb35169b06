package outbound

import (
	"context"
	"time"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/recipients"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// recipientSink writes imported rows as recipients of one campaign: a dialable row becomes a
// pending recipient, any other an invalid_number recipient with the reason; a row whose ID is
// taken goes to the import report.
type recipientSink struct {
	d         *Dialer
	c         campaignstore.Campaign
	plan      *Plan
	notBefore time.Time
	workers   int
}

func (d *Dialer) sink(c campaignstore.Campaign, plan *Plan) *recipientSink {
	return &recipientSink{d: d, c: c, plan: plan, workers: 8}
}

// recipient judges one row.
func (s *recipientSink) recipient(row recipients.Row, now time.Time) campaignstore.Recipient {
	r := campaignstore.Recipient{
		RecipientKey: campaignstore.Key(s.c.ID, row.RecipientID, s.c.Shards),
		TimeZone:     row.TimeZone,
		Attributes:   row.Attributes,
		UpdatedAt:    now,
		Row:          row.Number,
	}
	invalid := func(reason string) campaignstore.Recipient {
		r.State, r.Reason, r.Phone, r.TimeZone = dialer.StateInvalidNumber, reason, "", ""
		return r
	}
	if row.Problem != "" {
		return invalid(row.Problem)
	}
	if !dialerevents.ValidID(row.RecipientID) {
		return invalid("recipientId must be 1-128 of letters, digits and _ . : -")
	}
	phone, err := phone.Normalize(row.Phone, s.plan.Def.DefaultRegion)
	if err != nil {
		return invalid("not a dialable number: " + err.Error())
	}
	if err := checkAttributes(s.plan.Def.Attributes, row.Attributes); err != nil {
		return invalid("attributes: " + err.Error())
	}
	if row.TimeZone != "" {
		if _, err := time.LoadLocation(row.TimeZone); err != nil || row.TimeZone == "Local" {
			return invalid("time zone " + safetext.Truncate(row.TimeZone, 40) + " is not an IANA zone")
		}
	}
	r.Phone = phone
	r.State, r.Reason = dialer.StatePending, "imported"
	r.NextAttemptAt = now
	if s.plan.Start.After(now) {
		r.NextAttemptAt = s.plan.Start
	}
	if s.notBefore.After(r.NextAttemptAt) {
		r.NextAttemptAt = s.notBefore
	}
	return r
}

// Write adds the rows' recipients (conditionally, so a repeated chunk changes nothing).
func (s *recipientSink) Write(ctx context.Context, rows []recipients.Row) ([]bool, error) {
	now := s.d.cfg.Clock.Now()
	judged := make([]campaignstore.Recipient, len(rows))
	for i, row := range rows {
		judged[i] = s.recipient(row, now)
	}
	fresh, err := recipients.ParallelWrite(ctx, rows, s.workers, func(ctx context.Context, i int, _ recipients.Row) (bool, error) {
		r := judged[i]
		added, err := s.d.cfg.Store.AddRecipient(ctx, r)
		if err != nil || added {
			return added, err
		}
		// Taken: the same row written before (a repeated chunk) is not a duplicate.
		prev, err := s.d.cfg.Store.Recipient(ctx, r.RecipientKey, s.c.Shards)
		if err != nil {
			return false, err
		}
		return sameRow(prev, r), nil
	})
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for i, f := range fresh {
		if f {
			// Counted on every write of the row: a repeated chunk can count a row twice here, so
			// "imported" is a progress figure; the report counts recipients.
			if judged[i].State == dialer.StateInvalidNumber {
				counts["invalid_number"]++
			} else {
				counts["imported"]++
			}
		}
	}
	for name, n := range counts {
		s.d.metrics.add(s.c.ID, name, n)
	}
	if err := s.d.cfg.Store.Count(ctx, s.c.ID, counts); err != nil {
		s.d.log.Warn("campaign counters", "campaign_id", s.c.ID, "error", err.Error())
	}
	return fresh, nil
}

// sameRow tells a repeated write of one row from another row with the same ID.
func sameRow(prev, r campaignstore.Recipient) bool { return prev.Row == r.Row }

// Duplicate keeps a row whose ID an earlier row took in the import report.
func (s *recipientSink) Duplicate(ctx context.Context, row recipients.Row) error {
	return s.d.cfg.Store.AddReportEntry(ctx, campaignstore.ReportEntry{
		CampaignID: s.c.ID, Row: row.Number, RecipientID: row.RecipientID,
		Reason: "recipient_id repeats an earlier row: this row was not imported", At: s.d.cfg.Clock.Now(),
	})
}
