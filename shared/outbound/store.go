package outbound

import (
	"context"
	"time"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// Store is what the dialer keeps in its table: campaigns, recipients, the contact and attempt
// maps, the contact ledger and the tick lease. The dialer declares it so that its rules can be
// exercised against anything that keeps these promises; campaignstore.Store (DynamoDB) is the
// one it runs on.
type Store interface {
	campaigns
	recipientStore
	numberClaims
	callMaps
	ledgerStore
	auditTrail
	pacingState
	AcquireLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

type campaigns interface {
	CreateCampaign(ctx context.Context, c campaignstore.Campaign) (bool, error)
	Campaign(ctx context.Context, id string) (campaignstore.Campaign, error)
	ActiveCampaigns(ctx context.Context) ([]string, error)
	SetStatus(ctx context.Context, id string, version int64, to campaignstore.Status, reason string, at time.Time, endActiveCalls bool) (int64, error)
	SetDefinition(ctx context.Context, id string, version int64, def []byte, at time.Time) (int64, error)
	Touch(ctx context.Context, id string, at time.Time) error
	Checkpoint(ctx context.Context, id string, fromOffset, offset, row int64, done bool) error
	Count(ctx context.Context, id string, deltas map[string]int64) error
	SetQuiet(ctx context.Context, id string, quiet bool, at time.Time) error
	SaveAudit(ctx context.Context, id string, cur campaignstore.AuditCursor) error
	AddReportEntry(ctx context.Context, e campaignstore.ReportEntry) error
}

type recipientStore interface {
	AddRecipient(ctx context.Context, r campaignstore.Recipient) (bool, error)
	Recipient(ctx context.Context, k campaignstore.RecipientKey, shards int) (campaignstore.Recipient, error)
	Apply(ctx context.Context, k campaignstore.RecipientKey, shards int, c campaignstore.Change) (campaignstore.Recipient, error)
	Due(ctx context.Context, campaignID string, shard, shards int, now time.Time, limit int) ([]campaignstore.RecipientKey, error)
	InFlight(ctx context.Context, campaignID string, shards int) ([]campaignstore.InFlightEntry, error)
	Unsettled(ctx context.Context, campaignID string, shards int) (bool, error)
	Audit(ctx context.Context, campaignID string, shards int, cur campaignstore.AuditCursor, more func() bool, fn func(campaignstore.Recipient) error) (campaignstore.AuditCursor, bool, error)
	Reindex(ctx context.Context, r campaignstore.Recipient, at time.Time) error
	MarkAgent(ctx context.Context, k campaignstore.RecipientKey, attempt int, at time.Time) error
	RequestStop(ctx context.Context, k campaignstore.RecipientKey, attempt int) error
}

// numberClaims keep one recipient per number in a campaign (an import's repeated numbers merge).
type numberClaims interface {
	ClaimNumber(ctx context.Context, c campaignstore.NumberClaim) (campaignstore.NumberClaim, error)
	ReplaceNumberClaim(ctx context.Context, prev, next campaignstore.NumberClaim) error
	ReleaseNumber(ctx context.Context, c campaignstore.NumberClaim) error
	AddCallbackReportEntry(ctx context.Context, e campaignstore.ReportEntry) error
}

type callMaps interface {
	MapContact(ctx context.Context, ref campaignstore.ContactRef) error
	LookupContact(ctx context.Context, contactID string) (campaignstore.ContactRef, error)
	MapAttempt(ctx context.Context, k campaignstore.RecipientKey, attempt int, contactID string, placedAt time.Time) error
	LookupAttempt(ctx context.Context, k campaignstore.RecipientKey, attempt int) (string, error)
}

type ledgerStore interface {
	Ledger(ctx context.Context, number string) (campaignstore.Ledger, error)
	SaveLedger(ctx context.Context, l campaignstore.Ledger, dials []time.Time) error
	UnrecordDial(ctx context.Context, number string, at time.Time) error
}

var _ Store = (*campaignstore.Store)(nil)

// auditTrail keeps the dialer's decisions (dialer.AuditRecord) for a regulator.
type auditTrail interface {
	AppendAudit(ctx context.Context, shards int, rec dialer.AuditRecord) error
	AuditTrail(ctx context.Context, campaignID, recipientID string, shards int) ([]dialer.AuditRecord, error)
	ExportAudit(ctx context.Context, campaignID string, shards int, fn func(dialer.AuditRecord) error) error
}

// pacingState keeps a predictive campaign's measures: the abandonment ledger by the hour and the
// controller's estimator.
type pacingState interface {
	AddAbandonment(ctx context.Context, campaignID string, answeredAt time.Time, answeredMilli, abandonedMilli int64) error
	Abandonment(ctx context.Context, campaignID string, from time.Time) ([]campaignstore.HourCount, error)
	PacingState(ctx context.Context, campaignID string) ([]byte, int64, error)
	SavePacingState(ctx context.Context, campaignID string, version int64, state []byte) error
}
