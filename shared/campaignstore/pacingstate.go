package campaignstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A predictive campaign's measures, kept apart from the campaign item (whose definition a write
// would rewrite): the abandonment ledger, one small item per hour (B#<campaign> / <hour since the
// epoch, 10 digits>) counted with atomic ADDs, and the controller's estimator, one item
// (E#<campaign> / E) written under a version.
const (
	attrAnsweredMilli  = "answered_milli"
	attrAbandonedMilli = "abandoned_milli"
	attrPacingState    = "pacing_state"
)

// HourCount is one hour of a campaign's calls answered by a person and abandoned, in thousandths
// of a call (a machine detection counts as its false-positive share under the UK rules).
type HourCount struct {
	Hour                          int64
	AnsweredMilli, AbandonedMilli int64
}

// abandonmentRetention keeps an hour's counts for the longest window (30 days) and a day more.
const abandonmentRetention = 31 * 24 * time.Hour

// AddAbandonment adds a settled call to the hour it was answered in.
func (s *Store) AddAbandonment(ctx context.Context, campaignID string, answeredAt time.Time, answeredMilli, abandonedMilli int64) error {
	hour := answeredAt.Unix() / 3600
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key("B#"+campaignID, fmt.Sprintf("%010d", hour)),
		UpdateExpression:         aws.String("ADD #an :an, #ab :ab SET #ex = :ex"),
		ExpressionAttributeNames: map[string]string{"#an": attrAnsweredMilli, "#ab": attrAbandonedMilli, "#ex": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":an": num(answeredMilli), ":ab": num(abandonedMilli), ":ex": num(answeredAt.Add(abandonmentRetention).Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("abandonment ledger of campaign %s: %w", campaignID, err)
	}
	return nil
}

// Abandonment reads a campaign's hours from the one holding from on.
func (s *Store) Abandonment(ctx context.Context, campaignID string, from time.Time) ([]HourCount, error) {
	var out []HourCount
	err := s.queryPages(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk >= :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("B#" + campaignID), ":from": str(fmt.Sprintf("%010d", from.Unix()/3600)),
		},
		ConsistentRead: aws.Bool(true),
	}, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, it := range items {
			h, err := strconv.ParseInt(getS(it, attrSK), 10, 64)
			if err != nil {
				continue
			}
			out = append(out, HourCount{Hour: h, AnsweredMilli: getN(it, attrAnsweredMilli), AbandonedMilli: getN(it, attrAbandonedMilli)})
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("abandonment ledger of campaign %s: %w", campaignID, err)
	}
	return out, nil
}

// PacingState reads a campaign's controller state (nil and version 0 when none).
func (s *Store) PacingState(ctx context.Context, campaignID string) ([]byte, int64, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key("E#"+campaignID, "E"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, 0, fmt.Errorf("pacing state of campaign %s: %w", campaignID, err)
	}
	if out.Item == nil {
		return nil, 0, nil
	}
	return []byte(getS(out.Item, attrPacingState)), getN(out.Item, attrVersion), nil
}

// SavePacingState writes a campaign's controller state if it is still at version (ErrConflict
// otherwise).
func (s *Store) SavePacingState(ctx context.Context, campaignID string, version int64, state []byte) error {
	item := key("E#"+campaignID, "E")
	item[attrPacingState] = str(string(state))
	item[attrVersion] = num(version + 1)
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if version > 0 {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	}
	_, err := s.api.PutItem(ctx, in)
	return writeErr(err, "pacing state of campaign %s", campaignID)
}
