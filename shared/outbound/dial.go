package outbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// dialOne places the next attempt of one due recipient, or moves it on without a call (outside
// its window, on the do-not-call list, over its contact limit, past the campaign's end). It
// reports whether a call was placed.
func (d *Dialer) dialOne(ctx context.Context, r *run, k campaignstore.RecipientKey) (bool, error) {
	now := d.cfg.Clock.Now()
	rec, err := d.cfg.Store.Recipient(ctx, k, r.c.Shards)
	if err != nil {
		return false, err
	}
	if (rec.State != dialer.StatePending && rec.State != dialer.StateWaitingRetry) || rec.NextAttemptAt.After(now) {
		return false, nil // the index was behind: someone moved it already
	}
	// move records a move made without a call, counted under counter.
	move := func(to dialer.State, counter, reason string, next time.Time) error {
		_, err := d.cfg.Store.Apply(ctx, k, r.c.Shards, campaignstore.Change{
			From: rec.State, FromAttempt: rec.Attempt, To: to, At: now, Reason: reason, Attempt: rec.Attempt, NextAttemptAt: next,
		})
		if errors.Is(err, campaignstore.ErrConflict) {
			return nil
		}
		if err == nil {
			d.count(ctx, r.c.ID, counter, 1)
		}
		return err
	}
	// The campaign's end: nothing is dialled at or after it, whatever the tick's budget says, nor
	// within CloseGuard of it (a call placed then would ring into the end, as into a closing
	// window; and the reads below take time between this look at the clock and the dial).
	if d.tooLate(r.plan, now) {
		return false, move(dialer.StateExpired, "expired", "campaign ended before the recipient was reached", time.Time{})
	}
	// The callee's window, in all of the number's zones.
	callee, err := r.plan.Calendar.Callee(rec.Phone, rec.TimeZone)
	if err != nil {
		return false, move(dialer.StateInvalidNumber, "invalid_number", "no time zone for the number: "+err.Error(), time.Time{})
	}
	if !callee.Allowed(now) || closesSoon(callee, now, d.cfg.CloseGuard) {
		from := now
		if until, ok := callee.Until(now); ok && callee.Allowed(now) {
			from = until
		}
		next, err := callee.NextOpening(from)
		if err != nil {
			return false, move(dialer.StateExpired, "expired", "no calling window opens: "+err.Error(), time.Time{})
		}
		if d.tooLate(r.plan, next) {
			return false, move(dialer.StateExpired, "expired", "the campaign ends before the callee's next calling window", time.Time{})
		}
		return false, move(dialer.StatePending, "deferred_window", "outside the callee's calling window until "+next.UTC().Format(time.RFC3339), next)
	}
	// The do-not-call list, read just before the dial.
	if _, listed, err := d.cfg.DoNotCall.Lookup(ctx, rec.Phone); err != nil {
		return false, err
	} else if listed {
		return false, move(dialer.StateSuppressedDNC, "suppressed", "on the do-not-call list", time.Time{})
	}
	// The contact limit across campaigns.
	var ledger campaignstore.Ledger
	if r.plan.Limit != nil {
		if ledger, err = d.cfg.Store.Ledger(ctx, rec.Phone); err != nil {
			return false, err
		}
		if next := r.plan.Limit.NextAllowed(ledger.Dials, now); next.After(now) {
			if d.tooLate(r.plan, next) {
				return false, move(dialer.StateContactLimit, "contact_limit", fmt.Sprintf("%d dials in %d days reached; the campaign ends first", r.plan.Limit.MaxDials, r.plan.Limit.Days), time.Time{})
			}
			return false, move(dialer.StatePending, "deferred_limit", fmt.Sprintf("%d dials in %d days reached until %s", r.plan.Limit.MaxDials, r.plan.Limit.Days, next.UTC().Format(time.RFC3339)), next)
		}
	}
	// The attempt is written before the dial: whatever happens next, it exists.
	attempt := rec.Attempt + 1
	claimed, err := d.cfg.Store.Apply(ctx, k, r.c.Shards, campaignstore.Change{
		From: rec.State, FromAttempt: rec.Attempt, To: dialer.StateDialing, At: now, Reason: fmt.Sprintf("dialing attempt %d", attempt), Attempt: attempt,
	})
	if errors.Is(err, campaignstore.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	back := func(reason string) error {
		_, err := d.cfg.Store.Apply(ctx, k, r.c.Shards, campaignstore.Change{
			From: dialer.StateDialing, FromAttempt: attempt, To: dialer.StatePending, At: d.cfg.Clock.Now(), Reason: reason, Attempt: rec.Attempt, NextAttemptAt: d.cfg.Clock.Now(),
		})
		return err
	}
	if r.plan.Limit != nil {
		if err := d.cfg.Store.SaveLedger(ctx, ledger, r.plan.Limit.Prune(append(ledger.Dials, now), now)); err != nil {
			// Another campaign dialled the number meanwhile (or the store failed): no call now.
			return false, errors.Join(err, back("contact ledger changed before the dial; the recipient is due again"))
		}
	}
	// Look at the clock again: the reads and writes since the first look took time.
	if d.tooLate(r.plan, d.cfg.Clock.Now()) {
		return false, back("the campaign's end came before the dial; the recipient is due again")
	}
	in := r.plan.startInput(claimed, attempt)
	// No SDK retries for the dial: a retry after a 5xx or a timeout reuses the ClientToken, which
	// starts a second call if the first one already ended. A refusal is requeued and an unknown
	// result settled by dialFailed instead.
	out, err := d.cfg.Connect.StartOutboundVoiceContact(ctx, in, func(o *connect.Options) { o.Retryer = aws.NopRetryer{} })
	if err != nil {
		return false, d.dialFailed(ctx, r, claimed, attempt, err, back)
	}
	contactID := aws.ToString(out.ContactId)
	if err := d.cfg.Store.MapContact(ctx, campaignstore.ContactRef{ContactID: contactID, Key: k, Shards: r.c.Shards, Attempt: attempt, PlacedAt: now}); err != nil {
		return true, err // the watchdog settles the attempt (it has no contact ID yet)
	}
	if _, err := d.cfg.Store.Apply(ctx, k, r.c.Shards, campaignstore.Change{
		From: dialer.StateDialing, FromAttempt: attempt, To: dialer.StateInCall, At: d.cfg.Clock.Now(), Reason: "call placed", Attempt: attempt, ContactID: contactID,
	}); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
		return true, err
	}
	d.count(ctx, r.c.ID, "dialed", 1)
	r.log.Info("dial", "recipient_id", k.RecipientID, "attempt", attempt, "contact_id", contactID, "number", phone.Mask(rec.Phone))
	return true, nil
}

// tooLate: a dial at t would start at or after the campaign's end, or within CloseGuard of it.
func (d *Dialer) tooLate(p *Plan, t time.Time) bool {
	return !p.End.IsZero() && !t.Before(p.End.Add(-d.cfg.CloseGuard))
}

// closesSoon: the window is open but closes within guard (a call placed now would ring into the
// closing time).
func closesSoon(c interface {
	Until(time.Time) (time.Time, bool)
}, now time.Time, guard time.Duration) bool {
	until, ok := c.Until(now)
	return ok && until.Sub(now) < guard
}

// dialFailed settles an attempt whose StartOutboundVoiceContact failed.
func (d *Dialer) dialFailed(ctx context.Context, r *run, rec campaignstore.Recipient, attempt int, dialErr error, back func(string) error) error {
	result, why := ClassifyDialError(dialErr)
	now := d.cfg.Clock.Now()
	log := r.log.With("recipient_id", rec.RecipientID, "attempt", attempt, "result", result.String(), "code", why)
	switch result {
	case NotPlaced:
		d.count(ctx, r.c.ID, "throttled", 1)
		log.Warn("dial refused before any call; due again")
		return back("Connect refused the dial before placing a call (" + why + "); due again")
	case CampaignBroken:
		log.Error("dial refused for the whole campaign: pausing it")
		if err := back("the campaign was paused: " + why); err != nil {
			return err
		}
		c, err := d.cfg.Store.Campaign(ctx, r.c.ID)
		if err != nil {
			return err
		}
		if _, err := d.cfg.Store.SetStatus(ctx, r.c.ID, c.Version, "paused", "paused by the dialer: Connect refused every dial ("+why+"); fix the campaign's instance, flow, queue or permissions and resume it", now, false); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
			return err
		}
		r.c.Status = campaignstore.StatusPaused
		r.queue = nil
		return nil
	case RecipientRefused, RequestRefused:
		to, reason := dialer.StateInvalidNumber, "Connect refused the number: "+why
		if result == RequestRefused {
			to, reason = dialer.StateExhausted, "Connect refused the request: "+why
		}
		_, err := d.cfg.Store.Apply(ctx, rec.RecipientKey, r.c.Shards, campaignstore.Change{From: dialer.StateDialing, FromAttempt: attempt, To: to, At: now, Reason: reason, Attempt: attempt, Outcome: dialer.OutcomeFailed})
		log.Warn("dial refused for this recipient")
		if err == nil {
			d.count(ctx, r.c.ID, string(to), 1)
		}
		return err
	default:
		// A call may have been placed: the attempt is settled as unknown and never replayed.
		dec := r.plan.Retry.Decide(dialer.OutcomeUnknown, rec.Outcomes, now)
		dec = r.plan.bound(dec)
		_, err := d.cfg.Store.Apply(ctx, rec.RecipientKey, r.c.Shards, campaignstore.Change{From: dialer.StateDialing, FromAttempt: attempt, To: dec.State, At: now, Reason: "dial result unknown (" + why + "); " + dec.Reason, Attempt: attempt, NextAttemptAt: dec.NextAttemptAt, Outcome: dialer.OutcomeUnknown})
		log.Warn("dial result unknown: attempt settled, not replayed")
		if err == nil {
			d.count(ctx, r.c.ID, "unknown", 1)
		}
		return err
	}
}

// bound turns a retry that would fall after the campaign's end into expired.
func (p *Plan) bound(dec dialer.Decision) dialer.Decision {
	if dec.State == dialer.StateWaitingRetry && !p.End.IsZero() && !dec.NextAttemptAt.Before(p.End) {
		return dialer.Decision{State: dialer.StateExpired, Reason: dec.Reason + "; the campaign ends before the retry"}
	}
	return dec
}

// startInput is the StartOutboundVoiceContact request of one attempt.
func (p *Plan) startInput(rec campaignstore.Recipient, attempt int) *connect.StartOutboundVoiceContactInput {
	def := p.Def
	in := &connect.StartOutboundVoiceContactInput{
		InstanceId:             aws.String(def.InstanceID),
		ContactFlowId:          aws.String(def.ContactFlowID),
		DestinationPhoneNumber: aws.String(rec.Phone),
		ClientToken:            aws.String(dialer.ClientToken(def.CampaignID, rec.RecipientID, attempt)),
		Attributes:             mergeAttributes(def.Attributes, rec.Attributes),
	}
	if def.QueueID != "" {
		in.QueueId = aws.String(def.QueueID)
	}
	if def.SourcePhoneNumber != "" {
		in.SourcePhoneNumber = aws.String(def.SourcePhoneNumber)
	}
	if def.RingTimeoutSeconds > 0 {
		in.RingTimeoutInSeconds = aws.Int32(int32(def.RingTimeoutSeconds))
	}
	if amd := def.AnswerMachineDetection; amd != nil && amd.Enabled {
		// Answering-machine detection needs TrafficType CAMPAIGN (API reference).
		in.TrafficType = types.TrafficTypeCampaign
		in.AnswerMachineDetectionConfig = &types.AnswerMachineDetectionConfig{
			EnableAnswerMachineDetection: true,
			AwaitAnswerMachinePrompt:     amd.AwaitAnswerMachinePrompt,
		}
	}
	return in
}
