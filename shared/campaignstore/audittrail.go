package campaignstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// The audit trail: one item per decision of the dialer (dialer.AuditRecord), keyed
// D#<campaign>#<shard> / <recipient>#<epoch ms, 15 digits>#<kind>#<attempt>, so that one
// recipient's trail is one query (begins_with) and a campaign's is one query per shard. Items
// carry expires_at (epoch seconds, the table's TTL attribute) AuditRetention after the decision.
const (
	attrAudit     = "audit"
	attrExpiresAt = "expires_at"
)

// AuditRetention is how long an audit record is kept: the FTC's Telemarketing Sales Rule asks
// sellers and telemarketers to keep call detail records for five years (16 CFR 310.5(a)(2) and
// (b), as amended in 2024).
const AuditRetention = 5 * 365 * 24 * time.Hour

func auditPK(campaignID string, shard int) string {
	return "D#" + campaignID + "#" + strconv.Itoa(shard)
}

// AppendAudit keeps one audit record. Writing the same record again (a retried invocation)
// overwrites it with itself.
func (s *Store) AppendAudit(ctx context.Context, shards int, rec dialer.AuditRecord) error {
	k := Key(rec.CampaignID, rec.RecipientID, shards)
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	item := key(auditPK(rec.CampaignID, k.Shard), fmt.Sprintf("%s#%015d#%s#%d", rec.RecipientID, rec.At.UnixMilli(), rec.Kind, rec.Attempt))
	item[attrAudit] = str(string(b))
	item[attrExpiresAt] = num(rec.At.Add(AuditRetention).Unix())
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("audit record of recipient %s: %w", rec.RecipientID, err)
	}
	return nil
}

// AuditTrail returns one recipient's audit records, oldest first.
func (s *Store) AuditTrail(ctx context.Context, campaignID, recipientID string, shards int) ([]dialer.AuditRecord, error) {
	k := Key(campaignID, recipientID, shards)
	var out []dialer.AuditRecord
	err := s.auditQuery(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(auditPK(campaignID, k.Shard)), ":r": str(recipientID + "#"),
		},
		ConsistentRead: aws.Bool(true),
	}, func(r dialer.AuditRecord) error {
		// begins_with("r1#") would also match a recipient named "r1#x": IDs cannot hold '#'
		// (events/dialer.ValidID), but check anyway.
		if r.RecipientID == recipientID {
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit trail of recipient %s: %w", recipientID, err)
	}
	return out, nil
}

// ExportAudit calls fn with every audit record of a campaign, shard by shard (within a shard by
// recipient, then time).
func (s *Store) ExportAudit(ctx context.Context, campaignID string, shards int, fn func(dialer.AuditRecord) error) error {
	for shard := 0; shard < shards; shard++ {
		err := s.auditQuery(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(auditPK(campaignID, shard))},
		}, fn)
		if err != nil {
			return fmt.Errorf("audit trail of campaign %s shard %d: %w", campaignID, shard, err)
		}
	}
	return nil
}

func (s *Store) auditQuery(ctx context.Context, in *dynamodb.QueryInput, fn func(dialer.AuditRecord) error) error {
	var stop error
	err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, it := range items {
			var r dialer.AuditRecord
			if err := json.Unmarshal([]byte(getS(it, attrAudit)), &r); err != nil {
				stop = fmt.Errorf("audit record %s: %w", strings.SplitN(getS(it, attrSK), "#", 2)[0], err)
				return false, nil
			}
			if err := fn(r); err != nil {
				stop = err
				return false, nil
			}
		}
		return true, nil
	})
	if stop != nil {
		return stop
	}
	return err
}
