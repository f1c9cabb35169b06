package campaignstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Status of a campaign.
type Status string

// Campaign statuses. Running, paused and stopping campaigns are "active" (the tick works on
// them: a stopping one until every recipient is final); stopped and finished are final.
const (
	StatusRunning  Status = "running"
	StatusPaused   Status = "paused"
	StatusStopping Status = "stopping"
	StatusStopped  Status = "stopped"
	StatusFinished Status = "finished"
)

// Active reports whether ticks still work on a campaign in this status.
func (s Status) Active() bool {
	return s == StatusRunning || s == StatusPaused || s == StatusStopping
}

// Campaign attribute names.
const (
	attrDefinition   = "definition"
	attrDefHash      = "definition_hash"
	attrStatus       = "status"
	attrStatusReason = "status_reason"
	attrCreatedAt    = "created_at"
	attrShards       = "shards"
	attrVersion      = "version"
	attrImportDone   = "import_done"
	attrImportOffset = "import_offset"
	attrImportRow    = "import_row"
	attrEndCalls     = "end_active_calls"
	attrQuietAt      = "quiet_at"
	counterPrefix    = "n_"
)

// Campaign is a campaign as stored: the definition (JSON of events/dialer.Campaign without its
// inline recipients), its status and bookkeeping.
type Campaign struct {
	ID         string
	Definition []byte
	Status     Status
	Reason     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Shards     int
	// Version grows with every change of the definition or status (optimistic concurrency).
	Version int64
	// Import checkpoint: ImportDone once every recipient is written; otherwise the byte offset and
	// the row number of the CSV to resume from.
	ImportDone   bool
	ImportOffset int64
	ImportRow    int64
	// EndActiveCalls: a stop asked to end calls in progress.
	EndActiveCalls bool
	// QuietAt is when a tick first found no recipient waiting or in flight (zero: not quiet).
	QuietAt time.Time
	// Audit is where the end-of-campaign audit (Store.Audit) resumes; it restarts whenever the
	// campaign stops being quiet.
	Audit AuditCursor
}

func campaignKey(id string) map[string]types.AttributeValue { return key("C#"+id, "C") }

// DefinitionHash identifies a definition, to tell a repeated launch from a conflicting one.
func DefinitionHash(def []byte) string {
	h := sha256.Sum256(def)
	return hex.EncodeToString(h[:16])
}

// CreateCampaign writes a new campaign. A second launch with the same definition reports
// created=false and no error; another definition under the same ID is ErrConflict.
func (s *Store) CreateCampaign(ctx context.Context, c Campaign) (created bool, err error) {
	if c.Shards < 1 || c.Shards > MaxShards {
		return false, fmt.Errorf("campaign %s: shards %d, want 1-%d", c.ID, c.Shards, MaxShards)
	}
	item := campaignKey(c.ID)
	item[attrDefinition] = str(string(c.Definition))
	item[attrDefHash] = str(DefinitionHash(c.Definition))
	item[attrStatus] = str(string(c.Status))
	item[attrStatusReason] = str(c.Reason)
	item[attrCreatedAt] = ms(c.CreatedAt)
	item[attrUpdatedAt] = ms(c.CreatedAt)
	item[attrShards] = num(int64(c.Shards))
	item[attrVersion] = num(1)
	item[attrImportDone] = &types.AttributeValueMemberBOOL{Value: c.ImportDone}
	item[attrImportOffset] = num(0)
	item[attrImportRow] = num(0)
	if c.Status.Active() {
		item[attrActivePK] = str(activePartKey)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err == nil {
		return true, s.ensureStats(ctx, c.ID)
	}
	if !isConditionFailed(err) {
		return false, fmt.Errorf("create campaign %s: %w", c.ID, err)
	}
	prev, err := s.Campaign(ctx, c.ID)
	if err != nil {
		return false, err
	}
	if DefinitionHash(prev.Definition) != DefinitionHash(c.Definition) {
		return false, fmt.Errorf("campaign %s exists with another definition: %w", c.ID, ErrConflict)
	}
	// A launch delivered again after a crash between the two writes makes the counters item.
	return false, s.ensureStats(ctx, c.ID)
}

// Campaign reads a campaign consistently.
func (s *Store) Campaign(ctx context.Context, id string) (Campaign, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: campaignKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Campaign{}, fmt.Errorf("read campaign %s: %w", id, err)
	}
	if out.Item == nil {
		return Campaign{}, fmt.Errorf("campaign %s: %w", id, ErrNotFound)
	}
	return campaignFrom(out.Item), nil
}

func campaignFrom(it map[string]types.AttributeValue) Campaign {
	c := Campaign{
		ID:             getS(it, attrPK)[2:],
		Definition:     []byte(getS(it, attrDefinition)),
		Status:         Status(getS(it, attrStatus)),
		Reason:         getS(it, attrStatusReason),
		CreatedAt:      getTime(it, attrCreatedAt),
		UpdatedAt:      getTime(it, attrUpdatedAt),
		Shards:         int(getN(it, attrShards)),
		Version:        getN(it, attrVersion),
		ImportDone:     getBool(it, attrImportDone),
		ImportOffset:   getN(it, attrImportOffset),
		ImportRow:      getN(it, attrImportRow),
		EndActiveCalls: getBool(it, attrEndCalls),
		QuietAt:        getTime(it, attrQuietAt),
		Audit:          AuditCursor{Shard: int(getN(it, attrAuditShard)), After: getS(it, attrAuditAfter)},
	}
	return c
}

// SetStatus moves a campaign to status to if it is at version (and returns the new version).
func (s *Store) SetStatus(ctx context.Context, id string, version int64, to Status, reason string, at time.Time, endActiveCalls bool) (int64, error) {
	names := map[string]string{"#st": attrStatus, "#rs": attrStatusReason, "#up": attrUpdatedAt, "#v": attrVersion, "#ap": attrActivePK, "#ec": attrEndCalls}
	values := map[string]types.AttributeValue{
		":st": str(string(to)), ":rs": str(reason), ":up": ms(at), ":v": num(version), ":one": num(1),
		":ec": &types.AttributeValueMemberBOOL{Value: endActiveCalls},
	}
	expr := "SET #st = :st, #rs = :rs, #up = :up, #ec = :ec ADD #v :one"
	if to.Active() {
		values[":ap"] = str(activePartKey)
		expr = "SET #st = :st, #rs = :rs, #up = :up, #ec = :ec, #ap = :ap ADD #v :one"
	} else {
		expr += " REMOVE #ap"
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: campaignKey(id), UpdateExpression: aws.String(expr),
		ConditionExpression:      aws.String("#v = :v"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err := writeErr(err, "campaign %s status -> %s", id, to); err != nil {
		return 0, err
	}
	return version + 1, nil
}

// SetDefinition replaces a campaign's definition (a Campaign Updated event) at version.
func (s *Store) SetDefinition(ctx context.Context, id string, version int64, def []byte, at time.Time) (int64, error) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: campaignKey(id),
		UpdateExpression:         aws.String("SET #d = :d, #up = :up ADD #v :one"),
		ConditionExpression:      aws.String("#v = :v"),
		ExpressionAttributeNames: map[string]string{"#d": attrDefinition, "#up": attrUpdatedAt, "#v": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": str(string(def)), ":up": ms(at), ":v": num(version), ":one": num(1),
		},
	})
	if err := writeErr(err, "update campaign %s", id); err != nil {
		return 0, err
	}
	return version + 1, nil
}

// Checkpoint records import progress: it moves only forward from the offset the caller read.
func (s *Store) Checkpoint(ctx context.Context, id string, fromOffset, offset, row int64, done bool) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: campaignKey(id),
		UpdateExpression:         aws.String("SET #o = :o, #r = :r, #d = :d"),
		ConditionExpression:      aws.String("#o = :from AND #d = :false"),
		ExpressionAttributeNames: map[string]string{"#o": attrImportOffset, "#r": attrImportRow, "#d": attrImportDone},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o": num(offset), ":r": num(row), ":d": &types.AttributeValueMemberBOOL{Value: done},
			":from": num(fromOffset), ":false": &types.AttributeValueMemberBOOL{Value: false},
		},
	})
	return writeErr(err, "import checkpoint of campaign %s", id)
}

// Count adds deltas to the campaign's counters. Counters are for dashboards: they are added after
// the conditional write they count succeeded, so a crash in between can leave one uncounted,
// never counted twice. The final report is computed from the recipients themselves. They live in
// an item of their own (S#<campaign>), made with the campaign: a write is billed by the whole
// item's size, and the campaign item holds the definition (up to 256 KB).
func (s *Store) Count(ctx context.Context, id string, deltas map[string]int64) error {
	if len(deltas) == 0 {
		return nil
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	expr := "ADD "
	i := 0
	for name, d := range deltas {
		if i > 0 {
			expr += ", "
		}
		n, v := fmt.Sprintf("#c%d", i), fmt.Sprintf(":c%d", i)
		names[n], values[v] = counterPrefix+name, num(d)
		expr += n + " " + v
		i++
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: statsKey(id), UpdateExpression: aws.String(expr),
		ConditionExpression:      aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("count for campaign %s: %w", id, err)
	}
	return nil
}

func statsKey(id string) map[string]types.AttributeValue { return key("S#"+id, "S") }

// ensureStats makes the campaign's counters item if it is missing.
func (s *Store) ensureStats(ctx context.Context, id string) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: statsKey(id), ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("counters of campaign %s: %w", id, err)
	}
	return nil
}

// Counters reads the campaign's counters by name ("dialed", "answered", ...).
func (s *Store) Counters(ctx context.Context, id string) (map[string]int64, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: statsKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("counters of campaign %s: %w", id, err)
	}
	c := map[string]int64{}
	for k, v := range out.Item {
		if n, ok := v.(*types.AttributeValueMemberN); ok && len(k) > len(counterPrefix) && k[:len(counterPrefix)] == counterPrefix {
			var x int64
			fmt.Sscan(n.Value, &x)
			c[k[len(counterPrefix):]] = x
		}
	}
	return c, nil
}

// ActiveCampaigns lists the IDs of running and paused campaigns.
func (s *Store) ActiveCampaigns(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.queryPages(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(IndexActive),
		KeyConditionExpression:    aws.String("#ap = :ap"),
		ExpressionAttributeNames:  map[string]string{"#ap": attrActivePK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ap": str(activePartKey)},
	}, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, it := range items {
			ids = append(ids, getS(it, attrPK)[2:])
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list active campaigns: %w", err)
	}
	return ids, nil
}

// Recipients pages through every recipient of a campaign, shard by shard (for the final report
// and the end-of-campaign sweep). fn returning an error stops the walk.
func (s *Store) Recipients(ctx context.Context, campaignID string, shards int, fn func(Recipient) error) error {
	for shard := 0; shard < shards; shard++ {
		var stop error // fn's or the decoding's, returned as it is
		err := s.queryPages(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(recipientPK(campaignID, shard))},
			ConsistentRead:            aws.Bool(true),
		}, func(items []map[string]types.AttributeValue) (bool, error) {
			for _, it := range items {
				r, err := recipientFrom(it, shards)
				if err == nil {
					err = fn(r)
				}
				if err != nil {
					stop = err
					return false, nil
				}
			}
			return true, nil
		})
		if stop != nil {
			return stop
		}
		if err != nil {
			return fmt.Errorf("list recipients of campaign %s shard %d: %w", campaignID, shard, err)
		}
	}
	return nil
}

// SetQuiet records (quiet) or clears (not quiet, which also restarts the audit) the instant a tick
// found nothing waiting or in flight. A campaign ends only when two looks at least a while apart agree: the indexes that say
// so are eventually consistent.
func (s *Store) SetQuiet(ctx context.Context, id string, quiet bool, at time.Time) error {
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: campaignKey(id),
		ExpressionAttributeNames: map[string]string{"#q": attrQuietAt},
		ConditionExpression:      aws.String("attribute_exists(pk)"),
	}
	if quiet {
		in.UpdateExpression = aws.String("SET #q = if_not_exists(#q, :at)")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":at": ms(at)}
	} else {
		in.UpdateExpression = aws.String("REMOVE #q, #as, #aa")
		in.ExpressionAttributeNames["#as"], in.ExpressionAttributeNames["#aa"] = attrAuditShard, attrAuditAfter
	}
	if _, err := s.api.UpdateItem(ctx, in); err != nil {
		return fmt.Errorf("campaign %s quiet mark: %w", id, err)
	}
	return nil
}

// Touch adds one to the campaign's version if it is running or paused (ErrConflict otherwise,
// also for a campaign that does not exist). A write that adds work to a campaign (a
// callback's recipient) touches it afterwards: a tick that read the campaign before then and
// decided it was finished fails its SetStatus on the version, and looks again.
func (s *Store) Touch(ctx context.Context, id string, at time.Time) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: campaignKey(id),
		UpdateExpression:         aws.String("SET #up = :up ADD #v :one"),
		ConditionExpression:      aws.String("#st IN (:running, :paused)"),
		ExpressionAttributeNames: map[string]string{"#up": attrUpdatedAt, "#v": attrVersion, "#st": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":up": ms(at), ":one": num(1), ":running": str(string(StatusRunning)), ":paused": str(string(StatusPaused)),
		},
	})
	return writeErr(err, "touch campaign %s", id)
}
