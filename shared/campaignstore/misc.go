package campaignstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ContactRef maps a placed contact back to the attempt that placed it.
type ContactRef struct {
	ContactID string
	Key       RecipientKey
	// Shards of the campaign (fixed at launch), so a contact event reaches its recipient
	// without reading the campaign.
	Shards   int
	Attempt  int
	PlacedAt time.Time
}

const (
	attrOwner   = "owner"
	attrExpires = "expires_at"
	attrDials   = "dials"
	attrPlaced  = "placed_at"
)

// MapContact records which attempt placed a contact. Writing the same mapping again is fine;
// another mapping for the same contact is ErrConflict.
func (s *Store) MapContact(ctx context.Context, ref ContactRef) error {
	item := key("K#"+ref.ContactID, "K")
	item[attrCampaign] = str(ref.Key.CampaignID)
	item[attrRecipient] = str(ref.Key.RecipientID)
	item[attrAttempt] = num(int64(ref.Attempt))
	item[attrPlaced] = ms(ref.PlacedAt)
	item[attrShards] = num(int64(ref.Shards))
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#c = :c AND #r = :r AND #a = :a)"),
		ExpressionAttributeNames: map[string]string{"#c": attrCampaign, "#r": attrRecipient, "#a": attrAttempt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": str(ref.Key.CampaignID), ":r": str(ref.Key.RecipientID), ":a": num(int64(ref.Attempt)),
		},
	})
	return writeErr(err, "map contact %s", ref.ContactID)
}

// LookupContact finds the attempt that placed a contact; ErrNotFound for a contact the dialer
// did not place (another application's API call).
func (s *Store) LookupContact(ctx context.Context, contactID string) (ContactRef, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key("K#"+contactID, "K"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ContactRef{}, fmt.Errorf("look up contact %s: %w", contactID, err)
	}
	if out.Item == nil {
		return ContactRef{}, fmt.Errorf("contact %s: %w", contactID, ErrNotFound)
	}
	cid := getS(out.Item, attrCampaign)
	shards := int(getN(out.Item, attrShards))
	return ContactRef{
		Shards:    shards,
		ContactID: contactID,
		Key:       Key(cid, getS(out.Item, attrRecipient), shards),
		Attempt:   int(getN(out.Item, attrAttempt)),
		PlacedAt:  getTime(out.Item, attrPlaced),
	}, nil
}

// AcquireLease takes (or renews) the lease name for owner until now+ttl, if it is free, expired or
// already owner's. It reports whether owner holds it now.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	item := key("L#"+name, "L")
	item[attrOwner] = str(owner)
	item[attrExpires] = ms(now.Add(ttl))
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #e < :now OR #o = :me"),
		ExpressionAttributeNames:  map[string]string{"#e": attrExpires, "#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": ms(now), ":me": str(owner)},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return true, nil
}

// ReleaseLease gives the lease up if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key("L#"+name, "L"),
		ConditionExpression:       aws.String("#o = :me"),
		ExpressionAttributeNames:  map[string]string{"#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": str(owner)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// Ledger is one number's recent dials across every campaign.
type Ledger struct {
	Number  string
	Dials   []time.Time
	Version int64
}

// Ledger reads a number's ledger (an empty one at version 0 if none).
func (s *Store) Ledger(ctx context.Context, number string) (Ledger, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key("N#"+number, "N"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Ledger{}, fmt.Errorf("read dial ledger: %w", err)
	}
	l := Ledger{Number: number}
	if out.Item == nil {
		return l, nil
	}
	l.Version = getN(out.Item, attrVersion)
	for _, n := range getNumList(out.Item, attrDials) {
		l.Dials = append(l.Dials, time.UnixMilli(n).UTC())
	}
	return l, nil
}

// SaveLedger writes the ledger's dials if it is still at the version read (ErrConflict otherwise).
func (s *Store) SaveLedger(ctx context.Context, l Ledger, dials []time.Time) error {
	item := key("N#"+l.Number, "N")
	ns := make([]int64, len(dials))
	for i, d := range dials {
		ns[i] = d.UnixMilli()
	}
	item[attrDials] = numList(ns)
	item[attrVersion] = num(l.Version + 1)
	cond := "attribute_not_exists(pk)"
	values := map[string]types.AttributeValue{}
	names := map[string]string{}
	if l.Version > 0 {
		cond = "#v = :v"
		names["#v"] = attrVersion
		values[":v"] = num(l.Version)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String(cond)}
	if len(names) > 0 {
		in.ExpressionAttributeNames, in.ExpressionAttributeValues = names, values
	}
	_, err := s.api.PutItem(ctx, in)
	return writeErr(err, "save dial ledger")
}

// ReportEntry is a row of an import that did not become a recipient of its own (its recipient ID
// was taken by an earlier row), kept so that no row goes unaccounted for.
type ReportEntry struct {
	CampaignID  string
	Row         int64
	RecipientID string
	Reason      string
	At          time.Time
}

// AddReportEntry keeps one import report entry (idempotent by row).
func (s *Store) AddReportEntry(ctx context.Context, e ReportEntry) error {
	item := key("I#"+e.CampaignID, fmt.Sprintf("%012d", e.Row))
	item[attrRecipient] = str(e.RecipientID)
	item[attrReason] = str(e.Reason)
	item[attrUpdatedAt] = ms(e.At)
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("import report of campaign %s row %d: %w", e.CampaignID, e.Row, err)
	}
	return nil
}

// Report lists a campaign's import report, by row.
func (s *Store) Report(ctx context.Context, campaignID string) ([]ReportEntry, error) {
	var out []ReportEntry
	err := s.queryPages(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("I#" + campaignID)},
	}, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, it := range items {
			var row int64
			fmt.Sscan(getS(it, attrSK), &row)
			out = append(out, ReportEntry{CampaignID: campaignID, Row: row, RecipientID: getS(it, attrRecipient), Reason: getS(it, attrReason), At: getTime(it, attrUpdatedAt)})
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("import report of campaign %s: %w", campaignID, err)
	}
	return out, nil
}

// attemptPK is the key of an attempt's map item: the contact an attempt placed, found from the
// attempt alone (a dial whose contact ID never reached the recipient: a crash or a failed write
// right after Connect answered).
func attemptPK(k RecipientKey, attempt int) string {
	return fmt.Sprintf("A#%s#%s#%d", k.CampaignID, k.RecipientID, attempt)
}

// MapAttempt records the contact an attempt placed, keyed by the attempt. Writing the same
// contact again is fine; another contact for the same attempt is ErrConflict (an attempt places
// at most one call).
func (s *Store) MapAttempt(ctx context.Context, k RecipientKey, attempt int, contactID string, placedAt time.Time) error {
	item := key(attemptPK(k, attempt), "A")
	item[attrContactID] = str(contactID)
	item[attrPlaced] = ms(placedAt)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #c = :c"),
		ExpressionAttributeNames:  map[string]string{"#c": attrContactID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(contactID)},
	})
	return writeErr(err, "map attempt %d of recipient %s", attempt, k.RecipientID)
}

// LookupAttempt returns the contact an attempt placed; ErrNotFound when none was recorded.
func (s *Store) LookupAttempt(ctx context.Context, k RecipientKey, attempt int) (string, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(attemptPK(k, attempt), "A"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("look up attempt %d of recipient %s: %w", attempt, k.RecipientID, err)
	}
	if out.Item == nil {
		return "", fmt.Errorf("attempt %d of recipient %s: %w", attempt, k.RecipientID, ErrNotFound)
	}
	return getS(out.Item, attrContactID), nil
}

// UnrecordDial takes one dial at the instant at out of a number's ledger (a dial Connect refused
// before placing any call), if it is there: the ledger counts placed calls only. It reads the
// ledger again and retries when another writer changed it meanwhile.
func (s *Store) UnrecordDial(ctx context.Context, number string, at time.Time) error {
	for try := 0; ; try++ {
		l, err := s.Ledger(ctx, number)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(l.Dials, func(d time.Time) bool { return d.Equal(at.Truncate(time.Millisecond)) })
		if i < 0 {
			return nil
		}
		err = s.SaveLedger(ctx, l, slices.Delete(slices.Clone(l.Dials), i, i+1))
		if err == nil || !errors.Is(err, ErrConflict) || try >= 4 {
			return err
		}
	}
}
