// Package authstate remembers which OAuth states of chat customer authentication were used, in
// DynamoDB, so that the redirect endpoint accepts each state once.
//
// The table is keyed by state_hash, the hex SHA-256 of the state: the state is a bearer value
// for the sign-in in progress and is never stored. Each item carries expires_at (epoch seconds),
// registered as the table's TTL attribute. TTL deletion is lazy (and dynalite, used in tests,
// has none), so every write and read compares expires_at with the clock itself.
//
// A claim is one conditional PutItem: DynamoDB serializes writes to an item, so of any number
// of concurrent claims of a state exactly one succeeds. A claim first holds the state for a
// short pending lease (the caller's time budget plus a margin, marked pending), and is extended
// to the store's full lifetime only once the caller's work is done (Extend): a claim write that
// reaches DynamoDB late, after the caller gave up and told the customer to try again, then
// holds the state only until its lease ends, never for the full lifetime. Its expiry was fixed
// when the write was made, so however late it lands it cannot hold longer. The condition also accepts an item that
// already holds this claim's own random claim_id: a PutItem that DynamoDB applied but whose
// reply was lost (a timeout, a 5xx) is retried by the SDK, and the retry must find its own claim,
// not a replay. A claim that failed or turned out useless (the store or Connect was unavailable)
// is released with a DeleteItem conditioned on its own claim_id, so the customer can use the same
// link again without ever freeing another request's claim.
package authstate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the table.
const (
	AttrStateHash = "state_hash" // partition key (S)
	AttrExpiresAt = "expires_at" // epoch seconds (N), the table's TTL attribute
	AttrClaimID   = "claim_id"   // random ID of the claim that wrote the item (S)
	AttrClaimedAt = "claimed_at" // epoch seconds (N)
	AttrPending   = "pending"    // true while the claim holds only its lease (BOOL)
)

// ErrAlreadyUsed is returned by Claim when the state was claimed before and the claim has not
// expired.
var ErrAlreadyUsed = errors.New("state already used")

// ErrPending is returned by Claim when the state is held by another claim's pending lease: a
// request is completing it right now, or a claim write landed late; either way the state is
// free again when that lease ends, unless that claim is extended.
var ErrPending = errors.New("state held by a pending claim")

// ErrNotHeld is returned by Release and Extend when the state is held by another claim (or, for
// Extend, by none): nothing was changed.
var ErrNotHeld = errors.New("state held by another claim")

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the table of used states.
type Store struct {
	client API
	table  string
	ttl    time.Duration
	now    func() time.Time
}

// New returns a store on table whose claims last ttl.
func New(client API, table string, ttl time.Duration) (*Store, error) {
	if table == "" {
		return nil, errors.New("authstate: table name is required")
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("authstate: claim lifetime %s is shorter than a second", ttl)
	}
	return &Store{client: client, table: table, ttl: ttl, now: time.Now}, nil
}

// WithClock returns a copy of the store that reads time from now (for tests).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Claim is a state accepted by this store.
type Claim struct {
	// Hash is the hex SHA-256 of the state, the item's key.
	Hash string
	// ID tells this claim from a later one of the same state.
	ID        string
	ExpiresAt time.Time
	// Pending is true while the claim holds only its lease (see Extend).
	Pending bool
}

// Hash returns the hex SHA-256 of a state: the table key, and (a prefix of it) what logs show.
func Hash(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// Claim accepts state once, for lease (at least a second, at most the store's lifetime): it
// returns ErrPending if another claim's lease holds the state and ErrAlreadyUsed if an extended
// claim does. Call Extend once the work the claim guards is done.
//
// On any other error the outcome is unknown (DynamoDB may have applied the write and lost the
// reply), and Claim returns the attempted claim along with the error: give it to Release, so that
// a write that did happen does not lock the state (and if the write lands after the release, its
// lease still ends it).
func (s *Store) Claim(ctx context.Context, state string, lease time.Duration) (Claim, error) {
	if lease < time.Second || lease > s.ttl {
		return Claim{}, fmt.Errorf("claim state: lease %s must be between 1s and the claim lifetime %s", lease, s.ttl)
	}
	now := s.now()
	c := Claim{Hash: Hash(state), ID: newClaimID(), ExpiresAt: now.Add(lease).Truncate(time.Second), Pending: true}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item:      c.item(now),
		// An expired item that TTL has not deleted yet does not count. An item holding this
		// claim's ID was written by an earlier attempt of this call whose reply was lost.
		ConditionExpression:      aws.String("attribute_not_exists(#h) OR #e <= :now OR #c = :id"),
		ExpressionAttributeNames: map[string]string{"#h": AttrStateHash, "#e": AttrExpiresAt, "#c": AttrClaimID},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": epoch(now),
			":id":  &types.AttributeValueMemberS{Value: c.ID},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return Claim{}, s.heldBy(ctx, c.Hash)
	case err != nil:
		return c, fmt.Errorf("claim state %s: %w", c.Hash[:12], err)
	}
	return c, nil
}

// heldBy tells a pending claim from a used state after a refused claim. If the item cannot be
// read, the state counts as used: the refusal stands either way.
func (s *Store) heldBy(ctx context.Context, hash string) error {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(hash),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return ErrAlreadyUsed
	}
	if p, ok := out.Item[AttrPending].(*types.AttributeValueMemberBOOL); ok && p.Value {
		return ErrPending
	}
	return ErrAlreadyUsed
}

// Extend turns a pending claim into a used state for the store's full lifetime, from now. It
// returns ErrNotHeld if the state no longer holds this claim (its lease ended and another claim
// took it over, or it was released): then nothing is written.
func (s *Store) Extend(ctx context.Context, c Claim) (Claim, error) {
	if len(c.Hash) != sha256.Size*2 || c.ID == "" {
		return Claim{}, errors.New("extend state: not a claim of this store")
	}
	now := s.now()
	ext := Claim{Hash: c.Hash, ID: c.ID, ExpiresAt: now.Add(s.ttl).Truncate(time.Second)}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      ext.item(now),
		ConditionExpression:       aws.String("#c = :id"),
		ExpressionAttributeNames:  map[string]string{"#c": AttrClaimID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: c.ID}},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return c, ErrNotHeld
	case err != nil:
		return c, fmt.Errorf("extend state %s: %w", c.Hash[:12], err)
	}
	return ext, nil
}

// item is the table item of a claim made (or extended) at now.
func (c Claim) item(now time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrStateHash: &types.AttributeValueMemberS{Value: c.Hash},
		AttrExpiresAt: epoch(c.ExpiresAt),
		AttrClaimID:   &types.AttributeValueMemberS{Value: c.ID},
		AttrClaimedAt: epoch(now),
		AttrPending:   &types.AttributeValueMemberBOOL{Value: c.Pending},
	}
}

// Release gives a claim up, so that the same state can be claimed again. It deletes the item
// only if it still holds this claim. It returns nil when the state is free afterwards: deleted
// now, or absent already (a claim whose write never happened, or a release repeated after a lost
// reply). It returns ErrNotHeld when another claim holds the state (a claim that expired and was
// taken over, or a failed claim of a state used before): that item is left alone, and the state
// stays refused.
func (s *Store) Release(ctx context.Context, c Claim) error {
	if len(c.Hash) != sha256.Size*2 || c.ID == "" {
		return errors.New("release state: not a claim of this store")
	}
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(c.Hash),
		ConditionExpression:       aws.String("attribute_not_exists(#h) OR #c = :id"),
		ExpressionAttributeNames:  map[string]string{"#h": AttrStateHash, "#c": AttrClaimID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: c.ID}},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return ErrNotHeld
	case err != nil:
		return fmt.Errorf("release state %s: %w", c.Hash[:12], err)
	}
	return nil
}

// Used reports whether state holds an unexpired claim (a strongly consistent read).
func (s *Store) Used(ctx context.Context, state string) (bool, error) {
	h := Hash(state)
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(h),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("read state %s: %w", h[:12], err)
	}
	if out.Item == nil {
		return false, nil
	}
	n, ok := out.Item[AttrExpiresAt].(*types.AttributeValueMemberN)
	if !ok {
		return false, fmt.Errorf("read state %s: %s is not a number", h[:12], AttrExpiresAt)
	}
	exp, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return false, fmt.Errorf("read state %s: %s: %w", h[:12], AttrExpiresAt, err)
	}
	return s.now().Unix() < exp, nil
}

// CreateTableInput describes the table for tests and local stacks (the CDK construct creates
// the deployed one, with the same key and expires_at as its TTL attribute).
func CreateTableInput(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(AttrStateHash), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(AttrStateHash), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
}

func key(hash string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrStateHash: &types.AttributeValueMemberS{Value: hash}}
}

func epoch(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func newClaimID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
