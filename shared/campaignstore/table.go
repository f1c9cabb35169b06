// Package campaignstore is the outbound dialer's DynamoDB adapter: campaigns, their recipients,
// the map from placed contacts back to recipients, the per-number contact ledger, and the lease
// that lets one dialer tick at a time.
//
// Every write that guards an invariant is a single-item conditional write (dynalite, the local
// DynamoDB, has no transactions): a recipient moves only from the state and attempt the caller
// read, a lease is taken only when free or expired, a contact is mapped once, a ledger entry is
// appended only under the version it was computed from.
//
// # Keys (one table, pk/sk strings)
//
//	C#<campaign>           C            the campaign: definition, status, counters, import checkpoint
//	R#<campaign>#<shard>   <recipient>  a recipient (shard = FNV-1a of the recipient ID mod the campaign's shards)
//	K#<contact>            K            a placed contact -> campaign, recipient, attempt
//	N#<E.164 number>       N            the number's dial ledger (contact limit across campaigns)
//	L#<name>               L            a lease
//
// Recipients are spread over shards (16 by default) so that a campaign of a million recipients
// writes to many partitions. Two sparse global secondary indexes find work without a scan:
// "due" (due_pk = <campaign>#<shard>, due_at) holds only recipients waiting to be dialled,
// "inflight" (flight_pk = <campaign>, flight_at) only those dialling or in a call; a third,
// "active" (active_pk = "ACTIVE"), lists campaigns that are running or paused.
//
// The sort keys of due and inflight are strings, "<epoch ms, 15 digits>#<recipient>", so that no two
// index entries share a key even when thousands of recipients are due at the same instant. Real
// DynamoDB keeps such entries apart anyway; dynalite (the local DynamoDB of the tests and the
// devstack) does not: it keys an index entry by the index key plus the first 6 hex digits of an MD5 of
// the table key (node_modules/dynalite/db/index.js, createIndexKey and hashPrefix), so two entries
// with the same index key collide with odds 1 in 2^24 per pair, and one overwrites the other. With
// 2,500 recipients due at one instant in a shard that is a lost recipient in about one shard of five
// (it was found that way: BenchmarkDialer10k left one recipient pending). A campaign still ends only
// after a consistent walk of the table itself finds every recipient final (Store.Audit).
package campaignstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names.
const (
	attrPK         = "pk"
	attrSK         = "sk"
	attrDuePK      = "due_pk"
	attrDueAt      = "due_at"
	attrFlightPK   = "flight_pk"
	attrFlightAt   = "flight_at"
	attrActivePK   = "active_pk"
	IndexDue       = "due"
	IndexInFlight  = "inflight"
	IndexActive    = "active"
	activePartKey  = "ACTIVE"
	DefaultShards  = 16
	MaxShards      = 256
	maxBatchClaims = 100
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store is the dialer's table.
type Store struct {
	api   API
	table string
}

// New returns the store kept in table.
func New(api API, table string) *Store { return &Store{api: api, table: table} }

// ErrConflict: the item is no longer what the caller read (another writer moved it first).
var ErrConflict = errors.New("conditional write lost: the item changed")

// ErrNotFound: no such item.
var ErrNotFound = errors.New("not found")

func isConditionFailed(err error) bool {
	var c *types.ConditionalCheckFailedException
	return errors.As(err, &c)
}

// CreateTableInput describes the table for tests and the local stack; the CDK construct creates
// the deployed one with the same keys and indexes.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	gsi := func(name, hash, rng string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName: aws.String(name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			s(attrPK), s(attrSK), s(attrDuePK), s(attrDueAt), s(attrFlightPK), s(attrFlightAt), s(attrActivePK),
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(IndexDue, attrDuePK, attrDueAt),
			gsi(IndexInFlight, attrFlightPK, attrFlightAt),
			gsi(IndexActive, attrActivePK, attrPK),
		},
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

// queryPages runs in page by page, following LastEvaluatedKey, and hands each page's items to
// page, until the query has no more pages or page says to stop. page may change in (its Limit)
// for the next page.
func (s *Store) queryPages(ctx context.Context, in *dynamodb.QueryInput, page func(items []map[string]types.AttributeValue) (more bool, err error)) error {
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return err
		}
		more, err := page(out.Items)
		if err != nil || !more || len(out.LastEvaluatedKey) == 0 {
			return err
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// writeErr names a conditional write's failure: ErrConflict when its condition failed, the
// error itself otherwise; nil when it succeeded.
func writeErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if isConditionFailed(err) {
		err = ErrConflict
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
