package outbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/recipients"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// recipientSink writes imported rows as recipients of one campaign: a dialable row becomes a
// pending recipient, any other an invalid_number recipient with the reason. A row whose
// recipient ID an earlier row took, or whose number an earlier row's recipient holds (merged:
// the number is called once, for that recipient), goes to the import report instead.
type recipientSink struct {
	d         *Dialer
	c         campaignstore.Campaign
	plan      *Plan
	notBefore time.Time
	workers   int
	// callbacks: the rows are Call Requested callbacks (row 0), which take a number over from a
	// recipient whose calls are over (a deliberate second call) instead of merging into it.
	callbacks bool
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
	if err := checkAttributes(s.plan.attributes(), row.Attributes); err != nil {
		return invalid("attributes: " + err.Error())
	}
	if row.TimeZone != "" {
		if _, err := time.LoadLocation(row.TimeZone); err != nil || row.TimeZone == "Local" {
			return invalid("time zone " + safetext.Truncate(row.TimeZone, 40) + " is not an IANA zone")
		}
	}
	// The callee's zones, now: a number whose zones nobody knows (an area code in no table, a
	// toll-free number) is final at import with the reason, not found out at its first dial.
	if _, err := s.plan.Calendar.Callee(phone, row.TimeZone); err != nil {
		return invalid("no time zone for the number: " + err.Error())
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

// chunkPlan orders one chunk's writes so that their outcome does not depend on which parallel
// writer runs first: a row repeating a recipient ID of an earlier row of the chunk is a repeat
// without any write, and rows sharing a number go to one writer, in row order, so the first of
// them claims it. Rows come in row order.
type chunkPlan struct {
	// groups of row indexes: one per number (dialable rows), one per row otherwise.
	groups [][]int
	// repeated rows take a recipient ID an earlier row of the chunk took.
	repeated []int
}

func planChunk(rows []recipients.Row, judged []campaignstore.Recipient) chunkPlan {
	var p chunkPlan
	ids := make(map[string]bool, len(rows))
	byNumber := map[string]int{}
	for i := range rows {
		if ids[rows[i].RecipientID] {
			p.repeated = append(p.repeated, i)
			continue
		}
		ids[rows[i].RecipientID] = true
		number := judged[i].Phone
		if g, ok := byNumber[number]; ok && number != "" {
			p.groups[g] = append(p.groups[g], i)
			continue
		}
		if number != "" {
			byNumber[number] = len(p.groups)
		}
		p.groups = append(p.groups, []int{i})
	}
	return p
}

// claimGrace is how old a number's claim must be before a row takes it over from a holder whose
// recipient was never written: far longer than any invocation that could still be writing it
// (the dialer's function times out after 75 s).
const claimGrace = 5 * time.Minute

// holderAction is what a row does with a number another recipient's claim holds.
type holderAction int

const (
	// mergeInto: the holder is the number's recipient; the row adds no call.
	mergeInto holderAction = iota
	// takeOver: the holder no longer stands for a call to come (no recipient of its own, or, for
	// a callback, its calls are over); the row claims the number from it.
	takeOver
	// waitForHolder: the holder's recipient may still be being written; try again later.
	waitForHolder
)

// decideHolder decides, from the claim and the holder's recipient as read (found false: there
// is none), what a row or callback does with a number already claimed.
func decideHolder(held campaignstore.NumberClaim, rec campaignstore.Recipient, found bool, now time.Time, callback bool) holderAction {
	live := found && rec.Row == held.Row && rec.Phone == held.Number
	switch {
	case live && callback && rec.State.Final():
		// A callback asked for after the campaign's calls to the number ended is a deliberate
		// second call; it is never a second call at once, since the holder's is over.
		return takeOver
	case live:
		return mergeInto
	case found:
		// The recipient ID is another row's (the holder only repeated it, and its writer died
		// before it gave the number back), or a callback repeated with another number.
		return takeOver
	case now.Sub(held.At) >= claimGrace:
		return takeOver // the writer died between the claim and the recipient
	}
	return waitForHolder
}

// Write adds the rows' recipients (conditionally, so a repeated chunk changes nothing), one per
// number: the first row with a number claims it (campaignstore.ClaimNumber) before its
// recipient is written, and the rows after it are merged into it. Rows that do not become
// recipients are put in the import report here.
func (s *recipientSink) Write(ctx context.Context, rows []recipients.Row) ([]recipients.Outcome, error) {
	now := s.d.cfg.Clock.Now()
	judged := make([]campaignstore.Recipient, len(rows))
	for i, row := range rows {
		judged[i] = s.recipient(row, now)
	}
	plan := planChunk(rows, judged)
	out := make([]recipients.Outcome, len(rows))
	for _, i := range plan.repeated {
		out[i] = recipients.RepeatedID
	}
	err := recipients.ParallelWrite(ctx, len(plan.groups)+len(plan.repeated), s.workers, func(ctx context.Context, g int) error {
		if g >= len(plan.groups) {
			i := plan.repeated[g-len(plan.groups)]
			return s.report(ctx, rows[i], recipients.RepeatedID, campaignstore.NumberClaim{}, now)
		}
		var holder *campaignstore.NumberClaim // once a row of the group holds the number or found its holder
		for _, i := range plan.groups[g] {
			o, held := recipients.Merged, campaignstore.NumberClaim{}
			if holder != nil {
				held = *holder
			} else {
				var err error
				if o, held, err = s.place(ctx, judged[i], now); err != nil {
					return err
				}
				if o != recipients.RepeatedID && judged[i].Phone != "" {
					holder = &held
				}
			}
			out[i] = o
			if o != recipients.Written {
				if err := s.report(ctx, rows[i], o, held, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for i, o := range out {
		// Counted on every write of the row: a repeated chunk can count a row twice here, so
		// "imported" is a progress figure; the report counts recipients.
		switch {
		case o == recipients.Merged:
			counts["merged"]++
		case o != recipients.Written:
		case judged[i].State == dialer.StateInvalidNumber:
			counts["invalid_number"]++
		default:
			counts["imported"]++
		}
	}
	for name, n := range counts {
		s.d.metrics.add(s.c.ID, name, n)
	}
	if err := s.d.cfg.Store.Count(ctx, s.c.ID, counts); err != nil {
		s.d.log.Warn("campaign counters", "campaign_id", s.c.ID, "error", err.Error())
	}
	return out, nil
}

// place writes one row's recipient: a dialable one only once it holds its number. It returns
// the outcome and the number's holder (the row's own claim when it was written).
func (s *recipientSink) place(ctx context.Context, r campaignstore.Recipient, now time.Time) (recipients.Outcome, campaignstore.NumberClaim, error) {
	if r.Phone == "" {
		o, err := s.add(ctx, r, nil)
		return o, campaignstore.NumberClaim{}, err
	}
	me := campaignstore.NumberClaim{CampaignID: s.c.ID, Number: r.Phone, RecipientID: r.RecipientID, Row: r.Row, At: now}
	for try := 0; try < 3; try++ {
		held, err := s.d.cfg.Store.ClaimNumber(ctx, me)
		if err != nil {
			return 0, me, err
		}
		if held.Holds(me) {
			o, err := s.add(ctx, r, &me)
			return o, me, err
		}
		rec, err := s.d.cfg.Store.Recipient(ctx, campaignstore.Key(s.c.ID, held.RecipientID, s.c.Shards), s.c.Shards)
		found := err == nil
		if err != nil && !errors.Is(err, campaignstore.ErrNotFound) {
			return 0, held, err
		}
		switch decideHolder(held, rec, found, now, s.callbacks) {
		case mergeInto:
			if held.RecipientID == r.RecipientID {
				// The row repeats the holder's ID as well as its number: a repeated ID, as
				// inside a chunk (planChunk).
				return recipients.RepeatedID, held, nil
			}
			return recipients.Merged, held, nil
		case waitForHolder:
			return 0, held, fmt.Errorf("recipient %s: its number is claimed by recipient %s, not written yet: try again", r.RecipientID, held.RecipientID)
		}
		err = s.d.cfg.Store.ReplaceNumberClaim(ctx, held, me)
		if errors.Is(err, campaignstore.ErrConflict) {
			continue // the claim changed since it was read: look again
		}
		if err != nil {
			return 0, held, err
		}
		s.d.log.Info("number claim taken over", "campaign_id", s.c.ID, "recipient_id", r.RecipientID, "from_recipient_id", held.RecipientID, "from_row", held.Row)
		o, err := s.add(ctx, r, &me)
		return o, me, err
	}
	return 0, me, fmt.Errorf("recipient %s: its number's claim kept changing", r.RecipientID)
}

// add writes the recipient; claim, if set, is the number's claim the row holds, given back when
// the recipient ID turns out to be another row's.
func (s *recipientSink) add(ctx context.Context, r campaignstore.Recipient, claim *campaignstore.NumberClaim) (recipients.Outcome, error) {
	added, err := s.d.cfg.Store.AddRecipient(ctx, r)
	if err != nil || added {
		return recipients.Written, err
	}
	// Taken: the same row written before (a repeated chunk, a repeated callback) is no repeat.
	prev, err := s.d.cfg.Store.Recipient(ctx, r.RecipientKey, s.c.Shards)
	if err != nil {
		return 0, err
	}
	same := sameRow(prev, r)
	if claim != nil && (!same || prev.Phone != r.Phone) {
		// The claim names a recipient that is not this number's: give it back. (A callback
		// repeated with another number keeps its first, as a repeated request changes nothing.)
		if err := s.d.cfg.Store.ReleaseNumber(ctx, *claim); err != nil {
			return 0, err
		}
	}
	if same {
		return recipients.Written, nil
	}
	return recipients.RepeatedID, nil
}

// sameRow tells a repeated write of one row from another row with the same ID.
func sameRow(prev, r campaignstore.Recipient) bool { return prev.Row == r.Row }

// report keeps a row that did not become a recipient in the import report, with the reason: the
// holder of its number for a merged row, never the number itself.
func (s *recipientSink) report(ctx context.Context, row recipients.Row, o recipients.Outcome, holder campaignstore.NumberClaim, now time.Time) error {
	e := campaignstore.ReportEntry{CampaignID: s.c.ID, Row: row.Number, RecipientID: row.RecipientID, At: now}
	switch o {
	case recipients.RepeatedID:
		e.Reason = "recipient_id repeats an earlier row: this row was not imported"
	case recipients.Merged:
		held := fmt.Sprintf("row %d", holder.Row)
		if holder.Row == 0 {
			held = "a callback"
		}
		e.Reason = fmt.Sprintf("merged: recipient %s (%s) has the same number and is the one called; this row was not imported", holder.RecipientID, held)
		if s.callbacks {
			e.Reason = fmt.Sprintf("merged: recipient %s (%s) has the same number and is still to be called or in a call; this callback adds no call", holder.RecipientID, held)
		}
	}
	if s.callbacks {
		return s.d.cfg.Store.AddCallbackReportEntry(ctx, e)
	}
	return s.d.cfg.Store.AddReportEntry(ctx, e)
}
