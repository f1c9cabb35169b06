package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"golang.org/x/sync/errgroup"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// contactEvent acts on a contact event of a call the dialer placed: an agent taking the call is
// noted (progressive pacing counts only calls no agent has taken), an ended call is settled.
// Events are best effort, unordered and repeated: a duplicate finds the attempt settled, an early
// one (DescribeContact does not show the end, or not its reason yet) is left to the watchdog, and
// an event of a contact the dialer did not place is ignored.
func (d *Dialer) contactEvent(ctx context.Context, log *slog.Logger, ev *dialerevents.ContactEvent) error {
	agent := ev.EventType == dialerevents.EventConnectedToAgent
	if !agent && !slices.Contains(dialerevents.EndedEventTypes, ev.EventType) {
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
	if agent {
		at := d.cfg.Clock.Now()
		if ev.AgentInfo != nil && ev.AgentInfo.ConnectedToAgentTimestamp != nil {
			at = *ev.AgentInfo.ConnectedToAgentTimestamp
		}
		if err := d.cfg.Store.MarkAgent(ctx, ref.Key, ref.Attempt, at); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
			return err
		}
		return nil
	}
	rec, err := d.cfg.Store.Recipient(ctx, ref.Key, ref.Shards)
	if err != nil {
		return err
	}
	settledBefore := rec.Attempt != ref.Attempt || !rec.State.InFlight()
	completed := ev.EventType == "COMPLETED" && ev.AgentInfo != nil && ev.AgentInfo.ConnectedToAgentTimestamp != nil
	if settledBefore && !completed {
		return nil // a repeated or late event: the attempt is settled
	}
	c, err := d.cfg.Store.Campaign(ctx, ref.Key.CampaignID)
	if err != nil {
		return err
	}
	plan, err := d.storedPlan(c.Definition)
	if err != nil {
		return err
	}
	r := &run{c: c, plan: plan, log: log.With("campaign_id", c.ID)}
	if completed {
		// The end of an agent's call and of its after-contact work: what the estimator learns
		// of a call an agent took (settled at DISCONNECTED, or below).
		acw := time.Duration(0)
		if a := ev.AgentInfo.AfterContactWorkDuration; a != nil {
			acw = time.Duration(*a) * time.Second
		}
		d.observe(ctx, r, callRecord(ev.InitiationTimestamp, ev.ConnectedToSystemTimestamp, ev.AgentInfo.ConnectedToAgentTimestamp, ev.DisconnectTimestamp, acw, false, false))
		if settledBefore {
			return nil
		}
	}
	settled, err := d.settle(ctx, r, rec, ev.ContactID, ev, false)
	if err != nil {
		return err
	}
	log.Info("contact event", "event_type", ev.EventType, "contact_id", ev.ContactID, "campaign_id", c.ID, "recipient_id", ref.Key.RecipientID, "settled", settled)
	return nil
}

// settle reads the ended call of the recipient's current attempt and applies dialer.Settle. It
// reports whether the attempt is settled (now or before). ev, when the settle comes from a
// contact event, adds what the event itself says; giveUp settles an attempt whose contact
// Connect no longer knows as unknown.
func (d *Dialer) settle(ctx context.Context, r *run, rec campaignstore.Recipient, contactID string, ev *dialerevents.ContactEvent, giveUp bool) (bool, error) {
	now := d.cfg.Clock.Now()
	out, err := d.cfg.Connect.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(r.plan.Def.InstanceID), ContactId: aws.String(contactID)})
	var nf *types.ResourceNotFoundException
	var ending dialer.Ending
	var contact *types.Contact
	switch {
	case errors.As(err, &nf) && giveUp:
		ending = dialer.Ending{EndedAt: now, Why: "Connect no longer knows the contact"}
	case err != nil:
		return false, fmt.Errorf("describe contact %s: %w", contactID, err)
	case out.Contact == nil || out.Contact.DisconnectTimestamp == nil:
		return false, nil
	default:
		contact = out.Contact
		ending = dialer.Ending{Report: d.report(r.plan, rec, out.Contact, ev), EndedAt: out.Contact.DisconnectTimestamp.UTC(), AMD: r.plan.amd()}
	}
	sd := dialer.Settle(d.attemptFacts(r, rec), ending, r.plan.Retry, now)
	if sd.ReadAgain {
		return false, nil // the watchdog reads it again
	}
	_, err = d.cfg.Store.Apply(ctx, rec.RecipientKey, r.c.Shards, campaignstore.Change{
		From: rec.State, FromAttempt: rec.Attempt, To: sd.State, At: now, Reason: sd.Reason,
		Attempt: rec.Attempt, NextAttemptAt: sd.NextAttemptAt, Outcome: sd.Outcome, ContactID: contactID,
	})
	if errors.Is(err, campaignstore.ErrConflict) {
		return true, nil // another event or the watchdog settled it first
	}
	if err != nil {
		return false, err
	}
	d.count(ctx, r.c.ID, outcomeCounter(sd.Outcome), 1)
	ar := dialer.AuditRecord{CampaignID: r.c.ID, RecipientID: rec.RecipientID, At: now.UTC(), Attempt: rec.Attempt,
		Kind: dialer.AuditSettle, State: sd.State, Reason: sd.Reason, ContactID: contactID, Outcome: sd.Outcome}
	if rep := ending.Report; rep != nil {
		machine := sd.Outcome == dialer.OutcomeVoicemail
		ar.AnsweredByPerson, ar.Abandoned = r.plan.Rules.Abandoned(*rep, machine)
		if rep.ConnectedToSystem != nil {
			if rep.ConnectedToAgent != nil {
				ar.AgentDelay = rep.ConnectedToAgent.Sub(*rep.ConnectedToSystem)
			}
			d.noteAbandonment(ctx, r, *rep.ConnectedToSystem, ar.AnsweredByPerson, ar.Abandoned)
		}
		// A call an agent took is observed at its COMPLETED event, with the agent's
		// after-contact work; any other now.
		if rep.ConnectedToAgent == nil {
			d.observe(ctx, r, describedRecord(contact, rep, machine, ar.Abandoned > 0, 0))
		}
	}
	d.record(ctx, r, ar)
	return true, nil
}

// report is what Connect says of an ended contact: DescribeContact, completed with the contact
// event's own fields (an event can carry what the record does not show yet, and the reverse).
func (d *Dialer) report(plan *Plan, rec campaignstore.Recipient, ct *types.Contact, ev *dialerevents.ContactEvent) *dialer.Report {
	r := &dialer.Report{
		ConnectedToSystem: ct.ConnectedToSystemTimestamp,
		DisconnectReason:  aws.ToString(ct.DisconnectReason),
		AMDStatus:         string(ct.AnsweringMachineDetectionStatus),
		ExpectsAgent:      plan.expectsAgent(),
	}
	if ct.AgentInfo != nil {
		r.ConnectedToAgent = ct.AgentInfo.ConnectedToAgentTimestamp
	}
	if r.ConnectedToAgent == nil && !rec.AgentAt.IsZero() {
		at := rec.AgentAt
		r.ConnectedToAgent = &at
	}
	if ev != nil {
		if r.ConnectedToSystem == nil {
			r.ConnectedToSystem = ev.ConnectedToSystemTimestamp
		}
		if r.DisconnectReason == "" {
			r.DisconnectReason = ev.DisconnectReason
		}
		if r.ConnectedToAgent == nil && ev.AgentInfo != nil {
			r.ConnectedToAgent = ev.AgentInfo.ConnectedToAgentTimestamp
		}
	}
	return r
}

// amd reports whether the campaign's calls run answering-machine detection.
func (p *Plan) amd() bool {
	return p.Def.AnswerMachineDetection != nil && p.Def.AnswerMachineDetection.Enabled
}

func outcomeCounter(o dialer.Outcome) string {
	if o == dialer.OutcomeHuman {
		return "answered"
	}
	return string(o)
}

// watchdog settles attempts whose contact events never came, and ends calls that run past the
// campaign's maximum duration. It looks at calls in flight for longer than Config.WatchdogAfter,
// a few at once, each look paced by its own DescribeContact budget (Config.WatchdogRate), for at
// most WatchdogShare of a tick and never past by: with hundreds of long calls it looks at some
// each tick, those looked at longest ago first, and leaves the rest of the tick to dialling.
func (d *Dialer) watchdog(ctx context.Context, r *run, by time.Time) error {
	fl, err := d.inFlight(ctx, r)
	if err != nil {
		return err
	}
	now := d.cfg.Clock.Now()
	by = minTime(by, now.Add(WatchdogShare))
	old := slices.DeleteFunc(fl, func(f campaignstore.InFlightEntry) bool { return now.Sub(f.Since) < d.cfg.WatchdogAfter })
	// The calls looked at longest ago first (those never looked at before the rest, then the
	// oldest): what one tick cannot look at, the next one does first.
	looked := d.watched.when(r.c.ID, old, now)
	slices.SortStableFunc(old, func(a, b campaignstore.InFlightEntry) int {
		if c := looked[a.Key.RecipientID].Compare(looked[b.Key.RecipientID]); c != 0 {
			return c
		}
		return a.Since.Compare(b.Since)
	})
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(connectConcurrency)
	for _, f := range old {
		// Each look is paced by the watchdog's own DescribeContact budget.
		at, err := d.watchBudget.Ready(d.cfg.Clock.Now(), 1)
		if err != nil {
			return err
		}
		if at.After(by) || d.past(ctx, by) {
			break
		}
		if err := d.cfg.Clock.Sleep(ctx, at.Sub(d.cfg.Clock.Now())); err != nil {
			break
		}
		d.watchBudget.Take(at, 1)
		d.watched.mark(r.c.ID, f.Key.RecipientID, now)
		g.Go(func() error { return d.watchOne(gctx, r, f, now) })
	}
	return g.Wait()
}

// WatchdogShare is the most of a tick a campaign's watchdog takes.
const WatchdogShare = 10 * time.Second

// watchLog remembers when the watchdog last looked at each recipient's call, per campaign, for
// as long as the process lives (a new one starts with the oldest calls).
type watchLog struct {
	mu sync.Mutex
	at map[string]map[string]time.Time
}

// when returns when each of fl was last looked at (zero: never), and forgets the calls no longer
// in flight.
func (w *watchLog) when(campaignID string, fl []campaignstore.InFlightEntry, now time.Time) map[string]time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at == nil {
		w.at = map[string]map[string]time.Time{}
	}
	kept := make(map[string]time.Time, len(fl))
	for _, f := range fl {
		if t, ok := w.at[campaignID][f.Key.RecipientID]; ok {
			kept[f.Key.RecipientID] = t
		}
	}
	w.at[campaignID] = kept
	out := make(map[string]time.Time, len(kept))
	for k, v := range kept {
		out[k] = v
	}
	return out
}

func (w *watchLog) mark(campaignID, recipientID string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at[campaignID] == nil {
		w.at[campaignID] = map[string]time.Time{}
	}
	w.at[campaignID][recipientID] = at
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// watchOne looks at one call in flight for longer than Config.WatchdogAfter.
func (d *Dialer) watchOne(ctx context.Context, r *run, f campaignstore.InFlightEntry, now time.Time) error {
	age := now.Sub(f.Since)
	rec, err := d.cfg.Store.Recipient(ctx, f.Key, r.c.Shards)
	if err != nil {
		return err
	}
	contactID := rec.ContactID
	if rec.State == dialer.StateDialing && contactID == "" {
		// A dial whose contact ID never reached the recipient (a crash, a lost write): the
		// attempt map may know the call.
		contactID, err = d.cfg.Store.LookupAttempt(ctx, rec.RecipientKey, rec.Attempt)
		switch {
		case errors.Is(err, campaignstore.ErrNotFound):
			// Only the lease holder dials, so once the lease has changed hands (LeaseTTL) the
			// dial is over: its result is unknown, and it is not replayed.
			if age < d.cfg.LeaseTTL+d.cfg.WatchdogAfter {
				return nil
			}
			sd := dialer.Settle(d.attemptFacts(r, rec), dialer.Ending{EndedAt: now, Why: "the dial's result was never recorded"}, r.plan.Retry, now)
			if _, err := d.cfg.Store.Apply(ctx, rec.RecipientKey, r.c.Shards, campaignstore.Change{
				From: rec.State, FromAttempt: rec.Attempt, To: sd.State, At: now, Reason: sd.Reason, Attempt: rec.Attempt, NextAttemptAt: sd.NextAttemptAt, Outcome: sd.Outcome,
			}); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
				return err
			}
			d.count(ctx, r.c.ID, "unknown", 1)
			d.record(ctx, r, dialer.AuditRecord{CampaignID: r.c.ID, RecipientID: rec.RecipientID, At: now.UTC(), Attempt: rec.Attempt,
				Kind: dialer.AuditSettle, State: sd.State, Reason: sd.Reason, Outcome: sd.Outcome})
			r.log.Warn("watchdog: dial result unknown, attempt settled", "recipient_id", rec.RecipientID, "attempt", rec.Attempt)
			return nil
		case err != nil:
			return err
		}
		r.log.Warn("watchdog: a placed call found through its attempt", "recipient_id", rec.RecipientID, "attempt", rec.Attempt, "contact_id", contactID)
	}
	if contactID == "" {
		return nil
	}
	settled, err := d.settle(ctx, r, rec, contactID, nil, age > 24*time.Hour)
	if err != nil {
		r.log.Warn("watchdog: describe contact", "contact_id", contactID, "error", err.Error())
		return nil
	}
	if settled {
		r.log.Info("watchdog: settled an attempt without its contact event", "recipient_id", rec.RecipientID, "contact_id", contactID)
		return nil
	}
	if age > r.plan.MaxCallDuration {
		gone, err := d.stopContact(ctx, r.plan, contactID)
		if err != nil {
			r.log.Warn("watchdog: stop contact", "contact_id", contactID, "error", err.Error())
			return nil
		}
		r.log.Warn("watchdog: call ran past the campaign's maximum, stopped", "contact_id", contactID, "already_ended", gone)
	}
	return nil
}
