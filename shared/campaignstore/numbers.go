package campaignstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Number claims keep one recipient per number in a campaign (issue #17: the same person in two
// rows, written two ways, was called twice). One item per campaign and number,
//
//	P#<campaign>#<E.164>   P   the recipient (ID and import row) that holds the number
//
// is written with a single-item conditional put before the recipient it names, so a second row
// with the number finds it taken, whatever the order in which writers run ("If the condition
// expression evaluates to true, the operation succeeds; otherwise, the operation fails",
// Condition expressions, DynamoDB Developer Guide; the put of one item is checked against the
// item as it is then, and TestConcurrentClaimsHaveOneHolder shows dynalite does the same).
// The claim names its holder's row as well as its ID, so the same row written again (a chunk
// repeated after a crash) finds its own claim, and a row that only repeats the ID finds another's.

const attrClaimedAt = "claimed_at"

// NumberClaim names the recipient that holds a number in a campaign.
type NumberClaim struct {
	CampaignID string
	// Number in E.164.
	Number      string
	RecipientID string
	// Row is the holder's import row (0 for a callback, whose recipient ID is unique).
	Row int64
	// At is when the holder last wrote the claim: a claim whose recipient was never written
	// (its writer died) is told from one still being written by its age.
	At time.Time
}

// Holds reports whether c and o name the same holder (recipient and row).
func (c NumberClaim) Holds(o NumberClaim) bool {
	return c.RecipientID == o.RecipientID && c.Row == o.Row
}

func numberKey(campaignID, number string) map[string]types.AttributeValue {
	return key("P#"+campaignID+"#"+number, "P")
}

func (c NumberClaim) item() map[string]types.AttributeValue {
	item := numberKey(c.CampaignID, c.Number)
	item[attrCampaign] = str(c.CampaignID)
	item[attrRecipient] = str(c.RecipientID)
	item[attrRow] = num(c.Row)
	item[attrClaimedAt] = ms(c.At)
	return item
}

// holderCondition is true when the claim item is held by :r at row :row.
const holderCondition = "#r = :r AND #row = :row"

func holderValues(c NumberClaim) (map[string]string, map[string]types.AttributeValue) {
	return map[string]string{"#r": attrRecipient, "#row": attrRow},
		map[string]types.AttributeValue{":r": str(c.RecipientID), ":row": num(c.Row)}
}

// ClaimNumber makes c the holder of its number unless another recipient holds it, and returns
// the holder: c itself when the number was free or already c's (the put is repeated harmlessly,
// as a chunk is after a crash), otherwise the claim that holds it, read consistently.
func (s *Store) ClaimNumber(ctx context.Context, c NumberClaim) (NumberClaim, error) {
	names, values := holderValues(c)
	for try := 0; try < 3; try++ {
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: c.item(),
			ConditionExpression:      aws.String("attribute_not_exists(pk) OR (" + holderCondition + ")"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
		if err == nil {
			return c, nil
		}
		if !isConditionFailed(err) {
			return NumberClaim{}, fmt.Errorf("claim a number for recipient %s of campaign %s: %w", c.RecipientID, c.CampaignID, err)
		}
		held, err := s.numberClaim(ctx, c.CampaignID, c.Number)
		if errors.Is(err, ErrNotFound) {
			continue // released between the put and the read: try again
		}
		return held, err
	}
	return NumberClaim{}, fmt.Errorf("claim a number for recipient %s of campaign %s: released and taken again too often", c.RecipientID, c.CampaignID)
}

func (s *Store) numberClaim(ctx context.Context, campaignID, number string) (NumberClaim, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: numberKey(campaignID, number), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return NumberClaim{}, fmt.Errorf("read a number's claim in campaign %s: %w", campaignID, err)
	}
	if out.Item == nil {
		return NumberClaim{}, fmt.Errorf("number claim in campaign %s: %w", campaignID, ErrNotFound)
	}
	return NumberClaim{
		CampaignID: campaignID, Number: number,
		RecipientID: getS(out.Item, attrRecipient), Row: getN(out.Item, attrRow), At: getTime(out.Item, attrClaimedAt),
	}, nil
}

// ReplaceNumberClaim hands the number from prev, as read (At included), to next: for a claim
// whose holder never became a recipient, or a callback after the holder's last call. ErrConflict
// when prev no longer holds the number as read.
func (s *Store) ReplaceNumberClaim(ctx context.Context, prev, next NumberClaim) error {
	if prev.CampaignID != next.CampaignID || prev.Number != next.Number {
		return errors.New("replace a number claim: another campaign or number")
	}
	names, values := holderValues(prev)
	names["#at"] = attrClaimedAt
	values[":at"] = ms(prev.At)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: next.item(),
		ConditionExpression:      aws.String(holderCondition + " AND #at = :at"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	return writeErr(err, "hand a number of campaign %s from recipient %s to %s", prev.CampaignID, prev.RecipientID, next.RecipientID)
}

// ReleaseNumber removes c's claim if c still holds the number (a row whose recipient ID turned out
// to be taken); it leaves another holder's claim alone.
func (s *Store) ReleaseNumber(ctx context.Context, c NumberClaim) error {
	names, values := holderValues(c)
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: numberKey(c.CampaignID, c.Number),
		ConditionExpression:      aws.String(holderCondition),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release a number of campaign %s held by recipient %s: %w", c.CampaignID, c.RecipientID, err)
	}
	return nil
}

// AddCallbackReportEntry keeps a callback (a Call Requested, row 0) that did not become a
// recipient in the import report, keyed by its recipient ID (idempotent): keyed by row, as
// AddReportEntry keys import rows, every callback would land on row 0, the object's own entry.
// Report lists it with Row 0 after that entry.
func (s *Store) AddCallbackReportEntry(ctx context.Context, e ReportEntry) error {
	if e.Row != 0 || e.RecipientID == "" {
		return errors.New("a callback's report entry has row 0 and a recipient ID")
	}
	item := key("I#"+e.CampaignID, fmt.Sprintf("%012d#%s", 0, e.RecipientID))
	item[attrRecipient] = str(e.RecipientID)
	item[attrReason] = str(e.Reason)
	item[attrUpdatedAt] = ms(e.At)
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("import report of campaign %s, callback %s: %w", e.CampaignID, e.RecipientID, err)
	}
	return nil
}
