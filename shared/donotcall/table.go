// Package donotcall is the do-not-call list: the phone numbers, in E.164, that Switchboard must
// never dial. The contact-flow function records a caller's opt-out here; the dialer reads it just
// before every dial.
//
// The list is a DynamoDB table keyed by the number (attribute phone_number, a string). An item
// also keeps where the opt-out came from, why, when, and the contact that recorded it. A number is
// recorded once: a repeated opt-out keeps the first record.
package donotcall

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// Attribute names of a do-not-call item. The dialer and list imports use the same names.
const (
	AttrPhoneNumber = "phone_number"
	AttrSource      = "source"
	AttrReason      = "reason"
	AttrRecordedAt  = "recorded_at"
	AttrContactID   = "contact_id"
)

// Sources of an entry.
const (
	SourceContactFlow = "contact-flow"
	SourceImport      = "import"
)

// MaxReasonLength bounds the reason kept with an entry, in characters.
const MaxReasonLength = 256

// Entry is one number on the list.
type Entry struct {
	// PhoneNumber in E.164 (see phone.Normalize).
	PhoneNumber string
	Source      string
	// Reason is optional free text from the flow or the import.
	Reason     string
	RecordedAt time.Time
	// ContactID is the contact that recorded the opt-out, if any.
	ContactID string
}

// API is the part of the DynamoDB client the table uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Table is the do-not-call list in one DynamoDB table.
type Table struct {
	api  API
	name string
}

// NewTable returns the list kept in the table called name.
func NewTable(api API, name string) *Table {
	return &Table{api: api, name: name}
}

// Name is the table's name.
func (t *Table) Name() string { return t.name }

// Record adds e to the list unless its number is already there. It reports whether this call
// added it; a number already on the list is not an error, and its first record is kept.
func (t *Table) Record(ctx context.Context, e Entry) (added bool, err error) {
	if !phone.IsE164(e.PhoneNumber) {
		return false, errors.New("record opt-out: number is not in E.164 form")
	}
	if e.Source == "" {
		return false, errors.New("record opt-out: source is required")
	}
	if e.RecordedAt.IsZero() {
		return false, errors.New("record opt-out: time is required")
	}
	item := map[string]types.AttributeValue{
		AttrPhoneNumber: &types.AttributeValueMemberS{Value: e.PhoneNumber},
		AttrSource:      &types.AttributeValueMemberS{Value: e.Source},
		AttrRecordedAt:  &types.AttributeValueMemberS{Value: e.RecordedAt.UTC().Format(time.RFC3339)},
	}
	// DynamoDB refuses empty strings in key attributes only, but absent reads better than empty.
	if e.Reason != "" {
		item[AttrReason] = &types.AttributeValueMemberS{Value: safetext.PrefixRunes(e.Reason, MaxReasonLength)}
	}
	if e.ContactID != "" {
		item[AttrContactID] = &types.AttributeValueMemberS{Value: e.ContactID}
	}
	_, err = t.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(t.name),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pn)"),
		ExpressionAttributeNames: map[string]string{"#pn": AttrPhoneNumber},
	})
	var exists *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &exists):
		return false, nil
	case err != nil:
		// The number stays out of the message: it ends up in logs.
		return false, fmt.Errorf("record opt-out in %s: %w", t.name, err)
	}
	return true, nil
}

// Lookup returns the entry of number (E.164), and whether the number is on the list. It reads
// consistently: a dial must never miss an opt-out recorded a moment before.
func (t *Table) Lookup(ctx context.Context, number string) (Entry, bool, error) {
	if !phone.IsE164(number) {
		return Entry{}, false, errors.New("look up do-not-call entry: number is not in E.164 form")
	}
	out, err := t.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.name),
		Key:            map[string]types.AttributeValue{AttrPhoneNumber: &types.AttributeValueMemberS{Value: number}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("look up do-not-call entry in %s: %w", t.name, err)
	}
	if out.Item == nil {
		return Entry{}, false, nil
	}
	e := Entry{
		PhoneNumber: stringAttr(out.Item, AttrPhoneNumber),
		Source:      stringAttr(out.Item, AttrSource),
		Reason:      stringAttr(out.Item, AttrReason),
		ContactID:   stringAttr(out.Item, AttrContactID),
	}
	if at := stringAttr(out.Item, AttrRecordedAt); at != "" {
		if e.RecordedAt, err = time.Parse(time.RFC3339, at); err != nil {
			return e, true, fmt.Errorf("do-not-call entry in %s: %s %q is not RFC 3339", t.name, AttrRecordedAt, at)
		}
	}
	return e, true, nil
}

// CreateTableInput describes the table for tests and the local stack; the CDK construct in
// infra/contactflow.go creates the deployed one with the same key.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(AttrPhoneNumber), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(AttrPhoneNumber), KeyType: types.KeyTypeHash}},
	}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
