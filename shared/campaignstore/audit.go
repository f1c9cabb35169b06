package campaignstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// Campaign attributes of the end-of-campaign audit's checkpoint.
const (
	attrAuditShard = "audit_shard"
	attrAuditAfter = "audit_after"
	attrReindexed  = "reindexed_at"
)

// AuditCursor is where a walk of a campaign's recipients resumes: the shard, and the last
// recipient read in it ("" for the start of the shard). The zero value is the start.
type AuditCursor struct {
	Shard int
	After string
}

// Audit walks a campaign's recipients in the table itself (strongly consistent reads, no index)
// from cur on, and calls fn for each one that is not in a final state. The due and inflight
// indexes are eventually consistent (and dynalite's can lose an entry, see the package comment),
// so a campaign ends only when this walk, not an index, finds nothing open.
//
// It reads page by page and asks more() before each page; when more() is false it returns where to
// resume. done is true once the last shard was walked to its end. Only open recipients come back
// over the wire (a filter), but DynamoDB still reads, and bills, every item of the campaign.
func (s *Store) Audit(ctx context.Context, campaignID string, shards int, cur AuditCursor, more func() bool, fn func(Recipient) error) (next AuditCursor, done bool, err error) {
	names := map[string]string{"#st": attrState}
	values := map[string]types.AttributeValue{}
	filter := "#st IN ("
	for i, st := range dialer.OpenStates() {
		if i > 0 {
			filter += ", "
		}
		v := ":s" + strconv.Itoa(i)
		values[v] = str(string(st))
		filter += v
	}
	filter += ")"
	for cur.Shard < shards {
		if !more() {
			return cur, false, nil
		}
		pk := recipientPK(campaignID, cur.Shard)
		var start map[string]types.AttributeValue
		if cur.After != "" {
			start = key(pk, cur.After)
		}
		values[":pk"] = str(pk)
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("pk = :pk"),
			FilterExpression:          aws.String(filter),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
			ExclusiveStartKey:         start,
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return cur, false, fmt.Errorf("audit recipients of campaign %s shard %d: %w", campaignID, cur.Shard, err)
		}
		for _, it := range out.Items {
			r, err := recipientFrom(it, shards)
			if err != nil {
				return cur, false, err
			}
			if err := fn(r); err != nil {
				return cur, false, err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			cur = AuditCursor{Shard: cur.Shard + 1}
		} else {
			cur.After = getS(out.LastEvaluatedKey, attrSK)
		}
	}
	return cur, true, nil
}

// SaveAudit keeps where the campaign's audit resumes on the next tick.
func (s *Store) SaveAudit(ctx context.Context, id string, cur AuditCursor) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: campaignKey(id),
		UpdateExpression:          aws.String("SET #as = :as, #aa = :aa"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#as": attrAuditShard, "#aa": attrAuditAfter},
		ExpressionAttributeValues: map[string]types.AttributeValue{":as": num(int64(cur.Shard)), ":aa": str(cur.After)},
	})
	if err != nil {
		return fmt.Errorf("campaign %s audit checkpoint: %w", id, err)
	}
	return nil
}

// Reindex writes again the index attributes of an open recipient that an index did not list (the
// audit found it), so that the due or inflight index lists it again. It changes nothing else, and
// only if the recipient is still in the state and attempt read (ErrConflict otherwise).
func (s *Store) Reindex(ctx context.Context, r Recipient, at time.Time) error {
	names := map[string]string{"#st": attrState, "#at": attrAttempt, "#rx": attrReindexed}
	values := map[string]types.AttributeValue{":st": str(string(r.State)), ":at": num(int64(r.Attempt)), ":rx": ms(at)}
	set := "#rx = :rx"
	switch {
	case r.due():
		names["#dp"], names["#da"] = attrDuePK, attrDueAt
		values[":dp"], values[":da"] = str(r.duePK()), indexTimeKey(r.NextAttemptAt, r.RecipientID)
		set += ", #dp = :dp, #da = :da"
	case r.inFlight():
		names["#fp"], names["#fa"] = attrFlightPK, attrFlightAt
		values[":fp"], values[":fa"] = str(flightPK(r.CampaignID, !r.AgentAt.IsZero())), indexTimeKey(r.UpdatedAt, r.RecipientID)
		set += ", #fp = :fp, #fa = if_not_exists(#fa, :fa)"
	default:
		return fmt.Errorf("reindex recipient %s: state %s is final", r.RecipientID, r.State)
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(r.pk(), r.RecipientID),
		UpdateExpression:          aws.String("SET " + set),
		ConditionExpression:       aws.String("#st = :st AND #at = :at"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return writeErr(err, "reindex recipient %s", r.RecipientID)
}
