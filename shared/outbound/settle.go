package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// contactEvent settles the attempt of a contact that ended. Events are best effort, unordered
// and repeated: a duplicate finds the attempt settled, an early one (DescribeContact does not
// show the end yet) is left to the watchdog, and an event of a contact the dialer did not place
// is ignored.
func (d *Dialer) contactEvent(ctx context.Context, log *slog.Logger, ev *dialerevents.ContactEvent) error {
	if !slices.Contains(dialerevents.EndedEventTypes, ev.EventType) {
		return nil // INITIATED, CONNECTED_TO_SYSTEM, QUEUED, ... and types added later
	}
	if ev.InitiationMethod != "" && ev.InitiationMethod != dialerevents.InitiationMethodAPI {
		return nil
	}
	ref, err := d.cfg.Store.LookupContact(ctx, ev.ContactID)
	if errors.Is(err, campaignstore.ErrNotFound) {
		log.Debug("contact event for a contact the dialer did not place", "contact_id", ev.ContactID)
		return nil
	}
	if err != nil {
		return err
	}
	rec, err := d.cfg.Store.Recipient(ctx, ref.Key, ref.Shards)
	if err != nil {
		return err
	}
	if settledAlready(rec, ref.Attempt) {
		return nil // a repeated or late event: the attempt is settled
	}
	c, err := d.cfg.Store.Campaign(ctx, ref.Key.CampaignID)
	if err != nil {
		return err
	}
	plan, err := planFromStored(c.Definition)
	if err != nil {
		return err
	}
	settled, err := d.settle(ctx, c, plan, rec, ev.ContactID, false)
	if err != nil {
		return err
	}
	log.Info("contact event", "event_type", ev.EventType, "contact_id", ev.ContactID, "campaign_id", c.ID, "recipient_id", ref.Key.RecipientID, "settled", settled)
	return nil
}

// settledAlready: the recipient has moved past the attempt (a later attempt, or not dialling
// nor in a call any more).
func settledAlready(rec campaignstore.Recipient, attempt int) bool {
	return rec.Attempt != attempt || (rec.State != dialer.StateInCall && rec.State != dialer.StateDialing)
}

// settle classifies the ended call of the recipient's current attempt and moves the recipient. It reports whether the
// attempt is settled (now or before). giveUp settles an attempt whose contact Connect no longer
// knows as unknown.
func (d *Dialer) settle(ctx context.Context, c campaignstore.Campaign, plan *Plan, rec campaignstore.Recipient, contactID string, giveUp bool) (bool, error) {
	out, err := d.cfg.Connect.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(plan.Def.InstanceID), ContactId: aws.String(contactID)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf) && giveUp:
		return d.finish(ctx, c, plan, rec, dialer.OutcomeUnknown, d.cfg.Clock.Now(), "Connect no longer knows the contact", contactID)
	case err != nil:
		return false, fmt.Errorf("describe contact %s: %w", contactID, err)
	}
	ct := out.Contact
	if ct == nil || ct.DisconnectTimestamp == nil {
		return false, nil
	}
	report := dialer.Report{ConnectedToSystem: ct.ConnectedToSystemTimestamp, DisconnectReason: aws.ToString(ct.DisconnectReason), AMDStatus: string(ct.AnsweringMachineDetectionStatus)}
	o := dialer.Classify(report)
	return d.finish(ctx, c, plan, rec, o, ct.DisconnectTimestamp.UTC(), fmt.Sprintf("disconnect reason %s, AMD %s", orNone(report.DisconnectReason), orNone(report.AMDStatus)), contactID)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// finish moves an attempt's recipient by the attempt's outcome.
func (d *Dialer) finish(ctx context.Context, c campaignstore.Campaign, plan *Plan, rec campaignstore.Recipient, o dialer.Outcome, endedAt time.Time, detail, contactID string) (bool, error) {
	dec := plan.Retry.Decide(o, rec.Outcomes, endedAt)
	dec = plan.bound(dec)
	if dec.State == dialer.StateWaitingRetry && (c.Status == campaignstore.StatusStopping || c.Status == campaignstore.StatusStopped) {
		dec = dialer.Decision{State: dialer.StateCancelled, Reason: dec.Reason + "; the campaign was stopped"}
	}
	now := d.cfg.Clock.Now()
	_, err := d.cfg.Store.Apply(ctx, rec.RecipientKey, c.Shards, campaignstore.Change{
		From: rec.State, FromAttempt: rec.Attempt, To: dec.State, At: now, Reason: dec.Reason + " (" + detail + ")",
		Attempt: rec.Attempt, NextAttemptAt: dec.NextAttemptAt, Outcome: o, ContactID: contactID,
	})
	if errors.Is(err, campaignstore.ErrConflict) {
		return true, nil // another event or the watchdog settled it first
	}
	if err != nil {
		return false, err
	}
	d.count(ctx, c.ID, outcomeCounter(o), 1)
	return true, nil
}

func outcomeCounter(o dialer.Outcome) string {
	if o == dialer.OutcomeHuman {
		return "answered"
	}
	return string(o)
}

// watchdog settles attempts whose contact events never came, and ends calls that run past the
// campaign's maximum duration.
func (d *Dialer) watchdog(ctx context.Context, r *run) error {
	fl, err := d.cfg.Store.InFlight(ctx, r.c.ID, r.c.Shards)
	if err != nil {
		return err
	}
	now := d.cfg.Clock.Now()
	for _, f := range fl {
		age := now.Sub(f.Since)
		if age < d.cfg.WatchdogAfter {
			continue
		}
		rec, err := d.cfg.Store.Recipient(ctx, f.Key, r.c.Shards)
		if err != nil {
			return err
		}
		switch {
		case rec.State == dialer.StateDialing && rec.ContactID == "":
			// A dial that never recorded its answer (a crash, a lost reply). Only the lease holder
			// dials, so once the lease has changed hands (LeaseTTL) the dial is over: its result
			// is unknown, and it is not replayed.
			if age < d.cfg.LeaseTTL+d.cfg.WatchdogAfter {
				continue
			}
			if _, err := d.finish(ctx, r.c, r.plan, rec, dialer.OutcomeUnknown, now, "the dial's result was never recorded", ""); err != nil {
				return err
			}
			r.log.Warn("watchdog: dial result unknown, attempt settled", "recipient_id", rec.RecipientID, "attempt", rec.Attempt)
		case rec.ContactID != "":
			settled, err := d.settle(ctx, r.c, r.plan, rec, rec.ContactID, age > 24*time.Hour)
			if err != nil {
				r.log.Warn("watchdog: describe contact", "contact_id", rec.ContactID, "error", err.Error())
				continue
			}
			if settled {
				r.log.Info("watchdog: settled an attempt without its contact event", "recipient_id", rec.RecipientID, "contact_id", rec.ContactID)
				continue
			}
			if age > r.plan.MaxCallDuration {
				gone, err := d.stopContact(ctx, r.plan, rec.ContactID)
				if err != nil {
					r.log.Warn("watchdog: stop contact", "contact_id", rec.ContactID, "error", err.Error())
					continue
				}
				r.log.Warn("watchdog: call ran past the campaign's maximum, stopped", "contact_id", rec.ContactID, "already_ended", gone)
			}
		}
	}
	return nil
}
