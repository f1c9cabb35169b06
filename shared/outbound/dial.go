package outbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safeharbour"
)

// CampaignFreshness is the oldest copy of a campaign a dial may rely on: the dial loop reads the
// campaign again when its copy is older, so that a pause, a stop, an update (new windows, a new
// end) or the end itself, handled by another invocation, holds for the next dial. No call starts
// more than CampaignFreshness, plus the reads of one dial, after such an event was handled.
const CampaignFreshness = time.Second

// The dial's answer and its replay. A StartOutboundVoiceContact that fails without a clear
// refusal (a 5xx, a dropped connection) may have placed a call: the same request, with the same
// ClientToken, is sent again at once, and Connect answers with the contact it started ("if a
// contact is already started, the contact ID is returned", API reference). Only while that contact
// cannot have ended: older API docs add "if the contact is disconnected, a new contact is
// started", and a busy line or a refused number ends a call within seconds. So there is one
// replay, sent at once, and only when the failure came back within ReplayWithin of the first send
// (the call, if any, is younger than that); a slower failure, a timeout above all, is settled as
// unknown. (The reliability suite found the earlier rule, replays for up to 10 s, calling one
// attempt twice when a short call had ended before a later replay.)
const (
	// DialTimeout bounds one request: far above the latency of an answer (Connect starts the
	// call asynchronously and answers with its ID), so that a slow answer is not taken for none.
	// The client's default of 5 s (awsclient.DefaultSettings) is for the contact flow's budget.
	DialTimeout = 6 * time.Second
	// ReplayWithin: a failure that came back later than this after the send is not replayed.
	ReplayWithin = 250 * time.Millisecond
)

// dialed says what became of one granted dial.
type dialed struct {
	// sent: StartOutboundVoiceContact was sent (the grant's token was used); placed: Connect
	// answered with a contact; refused: Connect refused it before placing a call; moved: the
	// recipient was deferred or finished without a call; throttled: the refusal was the rate's
	// (the pacer slows down), not the concurrent calls'.
	sent, placed, refused, moved, throttled bool
	// paused: Connect refused the dial for the whole campaign, and the dial paused it.
	paused bool
}

// dialOne considers one due recipient: the gate decides, with the facts read as it asks for them,
// and the dial, a wait or a final move is applied.
func (d *Dialer) dialOne(ctx context.Context, r *run, k campaignstore.RecipientKey) (dialed, error) {
	if err := d.fresh(ctx, r); err != nil {
		return dialed{}, err
	}
	now := d.cfg.Clock.Now()
	rec, err := d.cfg.Store.Recipient(ctx, k, r.c.Shards)
	if err != nil {
		return dialed{}, err
	}
	f := d.facts(r, rec)
	ar := d.auditBase(r, rec, f, now)
	var g dialer.GateDecision
	for {
		g = dialer.Gate(f, now)
		if g.Verdict != dialer.Need {
			break
		}
		switch g.Need {
		case dialer.NeedDoNotCall:
			_, listed, err := d.cfg.DoNotCall.Lookup(ctx, rec.Phone)
			if err != nil {
				return dialed{}, err
			}
			f.DoNotCall = &dialer.DoNotCallFact{Listed: listed, CheckedAt: d.cfg.Clock.Now()}
			ar.DoNotCallCheckedAt, ar.Listed = &f.DoNotCall.CheckedAt, listed
		case dialer.NeedLedger:
			l, err := d.cfg.Store.Ledger(ctx, rec.Phone)
			if err != nil {
				return dialed{}, err
			}
			f.Ledger = &l.Dials
			r.ledger = l
			ar.LimitMax = r.plan.Limit.MaxDials
			ar.LimitDials = len(r.plan.Limit.Prune(l.Dials, now))
		default:
			return dialed{}, fmt.Errorf("the gate needs %q, which the dialer cannot read", g.Need)
		}
	}
	switch g.Verdict {
	case dialer.Skip:
		return dialed{}, nil
	case dialer.Wait, dialer.Final:
		return dialed{moved: true}, d.moveWithoutCall(ctx, r, rec, g, now, ar)
	}
	if until, ok := f.Window.Until(now); ok {
		ar.WindowOpenUntil = &until
	}
	return d.dial(ctx, r, rec, g.Reason, now, ar)
}

// auditBase starts the audit record of a decision about rec: the callee's zones and the local
// time in each.
func (d *Dialer) auditBase(r *run, rec campaignstore.Recipient, f dialer.Facts, now time.Time) dialer.AuditRecord {
	ar := dialer.AuditRecord{CampaignID: r.c.ID, RecipientID: rec.RecipientID, At: now.UTC(), Attempt: rec.Attempt}
	if callee, ok := f.Window.(callwindow.Callee); ok {
		ar.Zones = callee.Zones().Names
		for _, z := range ar.Zones {
			if loc, err := time.LoadLocation(z); err == nil {
				ar.LocalTimes = append(ar.LocalTimes, now.In(loc).Format(time.RFC3339))
			}
		}
	}
	return ar
}

// record keeps a decision's audit record. It is best effort: the decision was taken and applied; a lost
// record is logged (and counted), never a reason to undo it.
func (d *Dialer) record(ctx context.Context, r *run, ar dialer.AuditRecord) {
	if err := d.cfg.Store.AppendAudit(context.WithoutCancel(ctx), r.c.Shards, ar); err != nil {
		d.metrics.add(r.c.ID, "audit_lost", 1)
		r.log.Warn("audit record not kept", "recipient_id", ar.RecipientID, "kind", ar.Kind, "error", phone.Scrub(err.Error()))
	}
}

// facts are what the gate needs of a recipient that costs no read.
func (d *Dialer) facts(r *run, rec campaignstore.Recipient) dialer.Facts {
	f := dialer.Facts{
		State: rec.State, Attempt: rec.Attempt, NextAttemptAt: rec.NextAttemptAt,
		Running: r.c.Status == campaignstore.StatusRunning, Start: r.plan.Start, End: r.plan.End,
		CloseGuard: d.cfg.CloseGuard, Limit: r.plan.Limit,
	}
	callee, err := r.plan.Calendar.Callee(rec.Phone, rec.TimeZone)
	if err != nil {
		f.WindowErr = err
	} else {
		f.Window = callee
	}
	return f
}

// moveWithoutCall applies a wait or a final verdict of the gate.
func (d *Dialer) moveWithoutCall(ctx context.Context, r *run, rec campaignstore.Recipient, g dialer.GateDecision, now time.Time, ar dialer.AuditRecord) error {
	_, err := d.cfg.Store.Apply(ctx, rec.RecipientKey, r.c.Shards, campaignstore.Change{
		From: rec.State, FromAttempt: rec.Attempt, To: g.To, At: now, Reason: g.Reason, Attempt: rec.Attempt, NextAttemptAt: g.Until,
	})
	if errors.Is(err, campaignstore.ErrConflict) {
		return nil // moved by someone else meanwhile
	}
	if err == nil {
		d.count(context.WithoutCancel(ctx), r.c.ID, g.Counter, 1)
		ar.Kind, ar.State, ar.Reason, ar.Rule = dialer.AuditWait, g.To, g.Reason, g.Counter
		if g.Verdict == dialer.Final {
			ar.Kind = dialer.AuditFinal
		}
		d.record(ctx, r, ar)
	}
	return err
}

// dial places the attempt the gate let through: the attempt is written first (whatever happens
// next, it exists), the contact ledger reserves the dial, the campaign is looked at again with a
// fresh clock, and StartOutboundVoiceContact is sent (and replayed while its result is unknown).
func (d *Dialer) dial(ctx context.Context, r *run, rec campaignstore.Recipient, gate string, now time.Time, ar dialer.AuditRecord) (dialed, error) {
	k := rec.RecipientKey
	attempt := rec.Attempt + 1
	claimed, err := d.cfg.Store.Apply(ctx, k, r.c.Shards, campaignstore.Change{
		From: rec.State, FromAttempt: rec.Attempt, To: dialer.StateDialing, At: now, Reason: fmt.Sprintf("dialing attempt %d: %s", attempt, gate), Attempt: attempt,
	})
	if errors.Is(err, campaignstore.ErrConflict) {
		return dialed{}, nil
	}
	if err != nil {
		return dialed{}, err
	}
	// back undoes the claim of a dial that placed no call: due again at once, or after a back-off.
	back := func(reason string, refusals *int, at time.Time) error {
		_, err := d.cfg.Store.Apply(context.WithoutCancel(ctx), k, r.c.Shards, campaignstore.Change{
			From: dialer.StateDialing, FromAttempt: attempt, To: dialer.StatePending, At: d.cfg.Clock.Now(), Reason: reason, Attempt: rec.Attempt, NextAttemptAt: at, Refusals: refusals,
		})
		return err
	}
	if r.plan.Limit != nil {
		if err := d.cfg.Store.SaveLedger(ctx, r.ledger, r.plan.Limit.Prune(append(r.ledger.Dials, now), now)); err != nil {
			// Another campaign dialled the number meanwhile (or the store failed): no call now.
			return dialed{}, errors.Join(err, back("contact ledger changed before the dial; the recipient is due again", nil, d.cfg.Clock.Now()))
		}
	}
	unreserve := func() {
		if r.plan.Limit == nil {
			return
		}
		// The ledger counts placed calls: a dial refused before any call gives its count back. If
		// this fails, the dial stays counted, which only errs on the safe side.
		if err := d.cfg.Store.UnrecordDial(context.WithoutCancel(ctx), rec.Phone, now); err != nil {
			r.log.Warn("contact ledger: a refused dial stays counted", "recipient_id", k.RecipientID, "error", err.Error())
		}
	}
	// Look again, with a fresh clock: the reads and writes since the gate took time, and the
	// campaign may have been paused, stopped or changed meanwhile.
	if err := d.fresh(ctx, r); err != nil {
		unreserve()
		return dialed{}, errors.Join(err, back("the campaign could not be read again before the dial; due again", nil, d.cfg.Clock.Now()))
	}
	if at := d.cfg.Clock.Now(); r.c.Status != campaignstore.StatusRunning || d.tooLate(r.plan, at) {
		unreserve()
		return dialed{}, back(fmt.Sprintf("the campaign became %s before the dial; due again", r.c.Status), nil, at)
	}
	contactID, result, why := d.place(ctx, r, claimed, attempt)
	log := r.log.With("recipient_id", k.RecipientID, "attempt", attempt)
	ar.Attempt, ar.Pacing, ar.AbandonmentLeft = attempt, r.pacingNote, r.budgetNote
	if result != placedCall {
		if result != Unknown {
			unreserve()
		}
		ar.Kind, ar.Reason = dialer.AuditRefused, fmt.Sprintf("Connect refused the dial before placing a call (%s: %s)", result, why)
		if result == Unknown {
			ar.Kind, ar.Outcome, ar.Reason = dialer.AuditSettle, dialer.OutcomeUnknown, "the dial's result stayed unknown after its replays ("+why+"): a call may have been placed"
		}
		d.record(ctx, r, ar)
		err := d.dialFailed(ctx, r, claimed, attempt, result, why, back)
		return dialed{sent: true, refused: result == NotPlaced, throttled: result == NotPlaced && isRateThrottle(why), paused: result == CampaignBroken && err == nil}, err
	}
	ar.Kind, ar.State, ar.Reason, ar.ContactID = dialer.AuditDial, dialer.StateInCall, gate, contactID
	d.record(ctx, r, ar)
	d.count(context.WithoutCancel(ctx), r.c.ID, "dialed", 1)
	log.Info("dial", "contact_id", contactID, "number", phone.Mask(rec.Phone), "gate", gate)
	inCall, err := d.recordPlaced(ctx, r, claimed, attempt, contactID, now)
	if err != nil {
		// The attempt map (if it was written) lets the watchdog find the call; nothing replays it.
		return dialed{sent: true, placed: true}, err
	}
	if inCall.StopRequested {
		if _, err := d.stopContact(ctx, r.plan, contactID); err != nil {
			log.Warn("stop requested while dialling: stop contact", "contact_id", contactID, "error", err.Error())
		}
	}
	return dialed{sent: true, placed: true}, nil
}

// placedCall extends DialResult: Connect answered with a contact.
const placedCall DialResult = -1

// place sends the attempt's StartOutboundVoiceContact, without the SDK's retries (a retry of a
// request whose call ended would start a second one), with DialTimeout, and replays it once, at
// once, when its result is unknown and came back within ReplayWithin.
func (d *Dialer) place(ctx context.Context, r *run, rec campaignstore.Recipient, attempt int) (string, DialResult, string) {
	in := r.plan.startInput(rec, attempt)
	opts := func(o *connect.Options) {
		o.Retryer = aws.NopRetryer{}
		o.APIOptions = append(o.APIOptions, awsclient.CallTimeout(DialTimeout))
	}
	sent := d.cfg.Clock.Now()
	out, err := d.cfg.Connect.StartOutboundVoiceContact(ctx, in, opts)
	if err == nil {
		return aws.ToString(out.ContactId), placedCall, ""
	}
	result, why := ClassifyDialError(err)
	if result != Unknown || d.cfg.Clock.Now().Sub(sent) >= ReplayWithin {
		return "", result, why
	}
	out, err = d.cfg.Connect.StartOutboundVoiceContact(ctx, in, opts)
	if err == nil {
		d.count(context.WithoutCancel(ctx), r.c.ID, "replayed", 1)
		return aws.ToString(out.ContactId), placedCall, ""
	}
	// Connect refused the same request for a reason it checks before placing any call: the first
	// was refused too. A throttle, or another unknown, says nothing of the first.
	if res, w := ClassifyDialError(err); res != Unknown && res != NotPlaced {
		return "", res, w
	}
	return "", Unknown, why
}

// recordPlaced writes down a placed call: the attempt map (so that the watchdog finds the call
// from the attempt alone), the contact map (so that contact events find the attempt), and the
// recipient's move to in_call. Each write is idempotent, and the three are tried again for a
// while before giving up: a lost write here must not turn a placed call into an unknown one.
func (d *Dialer) recordPlaced(ctx context.Context, r *run, rec campaignstore.Recipient, attempt int, contactID string, placedAt time.Time) (campaignstore.Recipient, error) {
	ctx = context.WithoutCancel(ctx) // the call exists: record it even if the tick is ending
	k := rec.RecipientKey
	var err error
	for try, wait := 0, 200*time.Millisecond; try < 5; try, wait = try+1, wait*2 {
		if try > 0 {
			if d.cfg.Clock.Sleep(ctx, wait) != nil {
				break
			}
		}
		if err = d.cfg.Store.MapAttempt(ctx, k, attempt, contactID, placedAt); err != nil {
			continue
		}
		if err = d.cfg.Store.MapContact(ctx, campaignstore.ContactRef{ContactID: contactID, Key: k, Shards: r.c.Shards, Attempt: attempt, PlacedAt: placedAt}); err != nil {
			continue
		}
		var in campaignstore.Recipient
		in, err = d.cfg.Store.Apply(ctx, k, r.c.Shards, campaignstore.Change{
			From: dialer.StateDialing, FromAttempt: attempt, To: dialer.StateInCall, At: d.cfg.Clock.Now(), Reason: "call placed", Attempt: attempt, ContactID: contactID,
		})
		if errors.Is(err, campaignstore.ErrConflict) {
			return rec, nil // moved on already (the call's end was settled first)
		}
		if err == nil {
			return in, nil
		}
	}
	return rec, fmt.Errorf("record placed call %s: %w", contactID, err)
}

// tooLate: a dial at t would start at or after the campaign's end, or within CloseGuard of it.
func (d *Dialer) tooLate(p *Plan, t time.Time) bool {
	return !p.End.IsZero() && !t.Before(p.End.Add(-d.cfg.CloseGuard))
}

// dialFailed settles an attempt whose StartOutboundVoiceContact placed no call, or whose result
// stayed unknown.
func (d *Dialer) dialFailed(ctx context.Context, r *run, rec campaignstore.Recipient, attempt int, result DialResult, why string, back func(string, *int, time.Time) error) error {
	ctx = context.WithoutCancel(ctx)
	now := d.cfg.Clock.Now()
	log := r.log.With("recipient_id", rec.RecipientID, "attempt", attempt, "result", result.String(), "code", why)
	switch result {
	case NotPlaced:
		d.count(ctx, r.c.ID, "throttled", 1)
		if isRateThrottle(why) {
			// The account's rate is shared: someone else may be using it. Ask for less (AIMD).
			r.pacer.Throttled(now)
		}
		n := rec.Refusals + 1
		at := now.Add(dialer.RefusalBackoff(n, rec.CampaignID+"/"+rec.RecipientID))
		log.Warn("dial refused before any call; due again after a back-off", "refusals", n, "due_at", at)
		return back(fmt.Sprintf("Connect refused the dial before placing a call (%s, %d in a row); due again at %s", why, n, at.UTC().Format(time.RFC3339)), &n, at)
	case CampaignBroken:
		log.Error("dial refused for the whole campaign: pausing it")
		if err := back("the campaign was paused: "+why, nil, now); err != nil {
			return err
		}
		c, err := d.cfg.Store.Campaign(ctx, r.c.ID)
		if err != nil {
			return err
		}
		if _, err := d.cfg.Store.SetStatus(ctx, r.c.ID, c.Version, campaignstore.StatusPaused, "paused by the dialer: Connect refused every dial ("+why+"); fix the campaign's instance, flow, queue or permissions and resume it", now, false); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
			return err
		}
		r.c.Status = campaignstore.StatusPaused
		r.queue = nil
		return nil
	case RecipientRefused, RequestRefused:
		to, reason := dialer.StateDestinationRefused, "Connect refused the destination: "+why
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
		// A call may have been placed and its ID never reached the dialer, even after the
		// replays: the attempt is settled as unknown and never replayed again.
		sd := dialer.Settle(d.attemptFacts(r, rec), dialer.Ending{EndedAt: now, Why: "dial result unknown after its replays (" + why + ")"}, r.plan.Retry, now)
		_, err := d.cfg.Store.Apply(ctx, rec.RecipientKey, r.c.Shards, campaignstore.Change{From: dialer.StateDialing, FromAttempt: attempt, To: sd.State, At: now, Reason: sd.Reason, Attempt: attempt, NextAttemptAt: sd.NextAttemptAt, Outcome: sd.Outcome})
		log.Warn("dial result unknown: attempt settled, not replayed")
		if err == nil {
			d.count(ctx, r.c.ID, "unknown", 1)
		}
		return err
	}
}

// attemptFacts are what the settle needs of a recipient's attempt and its campaign.
func (d *Dialer) attemptFacts(r *run, rec campaignstore.Recipient) dialer.AttemptFacts {
	return dialer.AttemptFacts{
		Outcomes: rec.Outcomes, End: r.plan.End,
		Stopping: r.c.Status == campaignstore.StatusStopping || r.c.Status == campaignstore.StatusStopped,
	}
}

// startInput is the StartOutboundVoiceContact request of one attempt.
func (p *Plan) startInput(rec campaignstore.Recipient, attempt int) *connect.StartOutboundVoiceContactInput {
	def := p.Def
	in := &connect.StartOutboundVoiceContactInput{
		InstanceId:             aws.String(def.InstanceID),
		ContactFlowId:          aws.String(def.ContactFlowID),
		DestinationPhoneNumber: aws.String(rec.Phone),
		ClientToken:            aws.String(dialer.ClientToken(def.CampaignID, rec.RecipientID, attempt)),
		Attributes:             mergeAttributes(p.attributes(), rec.Attributes),
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

// attributes are the campaign's contact attributes, with its safe-harbour message.
func (p *Plan) attributes() map[string]string {
	if p.Def.SafeHarbourMessage == "" {
		return p.Def.Attributes
	}
	out := map[string]string{safeharbour.AttrMessage: p.Def.SafeHarbourMessage}
	for k, v := range p.Def.Attributes {
		out[k] = v
	}
	return out
}

// isRateThrottle reports a refusal of the request rate (ThrottlingException,
// TooManyRequestsException), as against LimitExceededException (the concurrent calls).
func isRateThrottle(code string) bool {
	return code == "ThrottlingException" || code == "TooManyRequestsException"
}
