package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/recipients"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

func (d *Dialer) launch(ctx context.Context, log *slog.Logger, def dialerevents.Campaign) error {
	log = log.With("campaign_id", def.CampaignID)
	inline := def.Recipients
	plan, err := d.plan(def)
	if err != nil {
		return refuse("invalid_campaign", "%v", err)
	}
	if o := def.RecipientsObject; o != nil {
		if d.cfg.S3 == nil || d.cfg.RecipientsBucket == "" {
			return refuse("invalid_campaign", "recipientsObject: this dialer has no recipients bucket (%s)", EnvRecipientsBucket)
		}
		if o.Bucket != d.cfg.RecipientsBucket {
			return refuse("invalid_campaign", "recipientsObject: bucket %q is not the dialer's recipients bucket %q", safetext.Truncate(o.Bucket, 64), d.cfg.RecipientsBucket)
		}
		if o.VersionID != "" || o.ETag != "" {
			return refuse("invalid_campaign", "recipientsObject: versionId and etag are the dialer's own (the version it finds at the launch): leave them out")
		}
		pinned, err := d.pinRecipientsObject(ctx, def.CampaignID, *o)
		if err != nil {
			return err
		}
		plan.Def.RecipientsObject = &pinned
	}
	stored, err := plan.definitionJSON()
	if err != nil {
		return err
	}
	now := d.cfg.Clock.Now()
	created, err := d.cfg.Store.CreateCampaign(ctx, campaignstore.Campaign{
		ID: def.CampaignID, Definition: stored, Status: campaignstore.StatusRunning, Reason: "launched",
		CreatedAt: now, Shards: d.cfg.Shards, ImportDone: def.RecipientsObject == nil,
	})
	if errors.Is(err, campaignstore.ErrConflict) {
		return refuse("campaign_exists", "campaign %s was launched before with another definition: choose a new campaignId", def.CampaignID)
	}
	if err != nil {
		return err
	}
	c, err := d.cfg.Store.Campaign(ctx, def.CampaignID)
	if err != nil {
		return err
	}
	rows := make([]recipients.Row, len(inline))
	for i, r := range inline {
		rows[i] = recipients.Row{Number: int64(i + 1), RecipientID: r.RecipientID, Phone: r.Phone, TimeZone: r.TimeZone, Attributes: r.Attributes}
	}
	// Inline recipients are written on every delivery of the launch: the writes are
	// conditional, so a redelivery after a crash completes the list and changes nothing else.
	sink := d.sink(c, plan)
	out, err := sink.Write(ctx, rows)
	if err != nil {
		return err
	}
	log.Info("campaign launched", "created", created, "recipients", len(inline), "merged", countOutcome(out, recipients.Merged), "recipients_object", def.RecipientsObject != nil, "mode", plan.Mode)
	return nil
}

func countOutcome(out []recipients.Outcome, o recipients.Outcome) (n int) {
	for _, x := range out {
		if x == o {
			n++
		}
	}
	return n
}

// pinRecipientsObject returns o with the version of the object every import step of the
// campaign will read: the version the key holds now (HeadObject), or, for a launch delivered
// again, the one its first delivery kept, so that the two definitions are the same one. An
// object that does not exist refuses the launch: the campaign would have nothing to dial. (Any
// other S3 failure fails the invocation, and EventBridge delivers the launch again.)
func (d *Dialer) pinRecipientsObject(ctx context.Context, campaignID string, o dialerevents.S3Object) (dialerevents.S3Object, error) {
	prev, err := d.cfg.Store.Campaign(ctx, campaignID)
	if err == nil {
		var def dialerevents.Campaign
		if json.Unmarshal(prev.Definition, &def) == nil && def.RecipientsObject != nil &&
			def.RecipientsObject.Bucket == o.Bucket && def.RecipientsObject.Key == o.Key {
			return *def.RecipientsObject, nil
		}
		return o, nil // another object: CreateCampaign refuses the other definition
	}
	if !errors.Is(err, campaignstore.ErrNotFound) {
		return o, err
	}
	ver, err := (&recipients.Importer{S3: d.cfg.S3, Bucket: o.Bucket, Key: o.Key}).Current(ctx)
	var missing *recipients.ImportError
	if errors.As(err, &missing) {
		return o, refuse("invalid_campaign", "recipientsObject: s3://%s/%s: %s", o.Bucket, safetext.Truncate(o.Key, 128), missing.Reason)
	}
	if err != nil {
		return o, err
	}
	o.VersionID, o.ETag = ver.VersionID, ver.ETag
	return o, nil
}

func (d *Dialer) update(ctx context.Context, log *slog.Logger, u *dialerevents.CampaignUpdated) error {
	log = log.With("campaign_id", u.CampaignID)
	for try := 0; try < 5; try++ {
		c, err := d.cfg.Store.Campaign(ctx, u.CampaignID)
		if errors.Is(err, campaignstore.ErrNotFound) {
			return refuse("unknown_campaign", "campaign %s does not exist", u.CampaignID)
		}
		if err != nil {
			return err
		}
		if !c.Status.Active() {
			return refuse("campaign_ended", "campaign %s is %s", u.CampaignID, c.Status)
		}
		var def dialerevents.Campaign
		if err := json.Unmarshal(c.Definition, &def); err != nil {
			return fmt.Errorf("stored campaign %s: %w", u.CampaignID, err)
		}
		if u.CallingWindows != nil {
			def.CallingWindows = u.CallingWindows
		}
		if u.Pacing != nil {
			def.Pacing = u.Pacing
		}
		if u.Retry != nil {
			def.Retry = u.Retry
		}
		if u.EndTime != nil {
			def.EndTime = u.EndTime
		}
		plan, err := d.plan(def)
		if err != nil {
			return refuse("invalid_update", "%v", err)
		}
		stored, err := plan.definitionJSON()
		if err != nil {
			return err
		}
		_, err = d.cfg.Store.SetDefinition(ctx, u.CampaignID, c.Version, stored, d.cfg.Clock.Now())
		if errors.Is(err, campaignstore.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		log.Info("campaign updated")
		return nil
	}
	return fmt.Errorf("update campaign %s: too many concurrent changes", u.CampaignID)
}

// allowedStatus says which status changes a control event may make.
var allowedStatus = map[campaignstore.Status][]campaignstore.Status{
	campaignstore.StatusPaused:   {campaignstore.StatusRunning},
	campaignstore.StatusRunning:  {campaignstore.StatusPaused},
	campaignstore.StatusStopping: {campaignstore.StatusRunning, campaignstore.StatusPaused},
}

func (d *Dialer) setStatus(ctx context.Context, log *slog.Logger, id string, to campaignstore.Status, reason string, endCalls bool) error {
	log = log.With("campaign_id", id)
	for try := 0; try < 5; try++ {
		c, err := d.cfg.Store.Campaign(ctx, id)
		if errors.Is(err, campaignstore.ErrNotFound) {
			return refuse("unknown_campaign", "campaign %s does not exist", id)
		}
		if err != nil {
			return err
		}
		if c.Status == to {
			log.Info("campaign status unchanged", "status", to)
			return nil
		}
		ok := false
		for _, from := range allowedStatus[to] {
			ok = ok || c.Status == from
		}
		if !ok {
			return refuse("status_not_allowed", "campaign %s is %s: it cannot become %s", id, c.Status, to)
		}
		_, err = d.cfg.Store.SetStatus(ctx, id, c.Version, to, reason, d.cfg.Clock.Now(), endCalls)
		if errors.Is(err, campaignstore.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		log.Info("campaign status", "from", c.Status, "to", to, "end_active_calls", endCalls)
		return nil
	}
	return fmt.Errorf("campaign %s status: too many concurrent changes", id)
}

// callRequested adds a one-off recipient, "req-<requestId>", to a running campaign: a repeated
// request finds it and changes nothing.
func (d *Dialer) callRequested(ctx context.Context, log *slog.Logger, r *dialerevents.CallRequested) error {
	c, plan, err := d.activeCampaign(ctx, r.CampaignID)
	if err != nil {
		return err
	}
	row := recipients.Row{Number: 0, RecipientID: dialerevents.RequestRecipientPrefix + r.RequestID, Phone: r.Phone, TimeZone: r.TimeZone, Attributes: r.Attributes}
	s := d.sink(c, plan)
	s.callbacks = true
	if r.NotBefore != nil {
		s.notBefore = r.NotBefore.UTC()
	}
	out, err := s.Write(ctx, []recipients.Row{row})
	if err != nil {
		return err
	}
	// The new recipient is work for the campaign: touch it, so that a tick that read it before
	// and is about to end it as finished fails on the version and looks again. A campaign that
	// ended meanwhile takes no callback: the recipient is finalised with the reason.
	err = d.cfg.Store.Touch(ctx, c.ID, d.cfg.Clock.Now())
	if errors.Is(err, campaignstore.ErrConflict) {
		k := campaignstore.Key(c.ID, row.RecipientID, c.Shards)
		rec, rerr := d.cfg.Store.Recipient(ctx, k, c.Shards)
		if rerr == nil && rec.State.Due() {
			_, rerr = d.cfg.Store.Apply(ctx, k, c.Shards, campaignstore.Change{From: rec.State, FromAttempt: rec.Attempt, To: dialer.StateCancelled, At: d.cfg.Clock.Now(), Reason: "the campaign ended before the requested call", Attempt: rec.Attempt})
		}
		if rerr != nil && !errors.Is(rerr, campaignstore.ErrConflict) {
			return rerr
		}
		return refuse("campaign_ended", "campaign %s ended before the call was requested", c.ID)
	}
	if err != nil {
		return err
	}
	// A callback for a number the campaign still has to call, or is calling, is merged into that
	// recipient (the import report says so): never two calls at once to one number.
	log.Info("call requested", "campaign_id", r.CampaignID, "recipient_id", row.RecipientID, "merged", out[0] == recipients.Merged)
	return nil
}

func (d *Dialer) activeCampaign(ctx context.Context, id string) (campaignstore.Campaign, *Plan, error) {
	c, err := d.cfg.Store.Campaign(ctx, id)
	if errors.Is(err, campaignstore.ErrNotFound) {
		return c, nil, refuse("unknown_campaign", "campaign %s does not exist", id)
	}
	if err != nil {
		return c, nil, err
	}
	if !c.Status.Active() || c.Status == campaignstore.StatusStopping {
		return c, nil, refuse("campaign_ended", "campaign %s is %s", id, c.Status)
	}
	plan, err := d.storedPlan(c.Definition)
	if err != nil {
		return c, nil, err
	}
	return c, plan, nil
}

func (d *Dialer) callStopRequested(ctx context.Context, log *slog.Logger, s *dialerevents.CallStopRequested) error {
	c, err := d.cfg.Store.Campaign(ctx, s.CampaignID)
	if errors.Is(err, campaignstore.ErrNotFound) {
		return refuse("unknown_campaign", "campaign %s does not exist", s.CampaignID)
	}
	if err != nil {
		return err
	}
	plan, err := d.storedPlan(c.Definition)
	if err != nil {
		return err
	}
	contactID := s.ContactID
	if contactID == "" {
		r, err := d.cfg.Store.Recipient(ctx, campaignstore.Key(c.ID, s.RecipientID, c.Shards), c.Shards)
		if errors.Is(err, campaignstore.ErrNotFound) {
			return refuse("unknown_recipient", "campaign %s has no recipient %s", c.ID, s.RecipientID)
		}
		if err != nil {
			return err
		}
		if !r.State.InFlight() {
			return refuse("no_call", "recipient %s is %s, not in a call", s.RecipientID, r.State)
		}
		if r.ContactID == "" {
			// Dialling, the contact ID not known yet: the call is ended as soon as it is placed.
			err := d.cfg.Store.RequestStop(ctx, r.RecipientKey, r.Attempt)
			if errors.Is(err, campaignstore.ErrConflict) {
				return d.callStopRequested(ctx, log, s) // it moved meanwhile: look again
			}
			if err != nil {
				return err
			}
			log.Info("call stop requested while dialling: the call ends when placed", "campaign_id", c.ID, "recipient_id", s.RecipientID)
			return nil
		}
		contactID = r.ContactID
	} else {
		ref, err := d.cfg.Store.LookupContact(ctx, contactID)
		if errors.Is(err, campaignstore.ErrNotFound) || (err == nil && ref.Key.CampaignID != c.ID) {
			return refuse("unknown_contact", "contact %s was not placed by campaign %s", contactID, c.ID)
		}
		if err != nil {
			return err
		}
	}
	gone, err := d.stopContact(ctx, plan, contactID)
	if err != nil {
		return err
	}
	log.Info("call stop requested", "campaign_id", c.ID, "contact_id", contactID, "already_ended", gone)
	return nil
}

// stopContact ends a call; a contact that already ended (ContactNotFoundException, 410) is
// success. The attempt is settled by the contact's events or the watchdog.
func (d *Dialer) stopContact(ctx context.Context, plan *Plan, contactID string) (alreadyEnded bool, err error) {
	_, err = d.cfg.Connect.StopContact(ctx, &connect.StopContactInput{InstanceId: aws.String(plan.Def.InstanceID), ContactId: aws.String(contactID)})
	if IsContactGone(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("stop contact %s: %w", contactID, err)
	}
	return false, nil
}
