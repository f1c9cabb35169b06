package campaignstore

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// Recipient attribute names.
const (
	attrCampaign   = "campaign_id"
	attrRecipient  = "recipient_id"
	attrPhone      = "phone"
	attrTimeZone   = "time_zone"
	attrAttributes = "attributes"
	attrState      = "state"
	attrReason     = "reason"
	attrUpdatedAt  = "updated_at"
	attrAttempt    = "attempt"
	attrNextAt     = "next_at"
	attrContactID  = "contact_id"
	attrOutcomes   = "outcomes"
	attrHistory    = "history"
	attrRow        = "import_row"
	attrRefusals   = "refusals"
	attrAgentAt    = "agent_at"
	attrStopReq    = "stop_requested"
	attrOmitted    = "history_omitted"
)

// RecipientKey addresses a recipient.
type RecipientKey struct {
	CampaignID  string
	RecipientID string
	Shard       int
}

// ShardOf spreads recipient IDs over a campaign's shards.
func ShardOf(recipientID string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(recipientID))
	return int(h.Sum32() % uint32(shards))
}

// Key returns the recipient's key in a campaign of shards shards.
func Key(campaignID, recipientID string, shards int) RecipientKey {
	return RecipientKey{CampaignID: campaignID, RecipientID: recipientID, Shard: ShardOf(recipientID, shards)}
}

func (k RecipientKey) pk() string    { return recipientPK(k.CampaignID, k.Shard) }
func (k RecipientKey) duePK() string { return k.CampaignID + "#" + strconv.Itoa(k.Shard) }
func recipientPK(campaignID string, shard int) string {
	return "R#" + campaignID + "#" + strconv.Itoa(shard)
}

// Recipient is one recipient as stored.
type Recipient struct {
	RecipientKey
	// Phone in E.164 (rows that are not become invalid_number at import and keep the raw value
	// out of the table).
	Phone      string
	TimeZone   string
	Attributes map[string]string
	State      dialer.State
	Reason     string
	UpdatedAt  time.Time
	// Attempt is the number of the latest attempt (0: never dialled).
	Attempt       int
	NextAttemptAt time.Time
	ContactID     string
	// Outcomes of the finished attempts, in order.
	Outcomes []dialer.Outcome
	History  []dialer.Transition
	// Row is the import row the recipient came from (0 for one requested by an event), so a
	// repeated write of a row can be told from another row with the same recipient ID.
	Row int64
	// Refusals counts the dials of the current attempt Connect refused before placing a call
	// (throttled, or the instance's concurrent calls all taken): the back-off grows with it.
	Refusals int
	// AgentAt is when an agent took the current attempt's call (zero: not yet, or never learnt).
	AgentAt time.Time
	// StopRequested: a Call Stop Requested arrived while the attempt was dialling; the call is
	// ended as soon as it is placed.
	StopRequested bool
	// HistoryOmitted counts the transitions dropped from the middle of History to bound the item
	// (the first and the latest are kept).
	HistoryOmitted int
}

func (r Recipient) due() bool { return r.State.Due() }

func (r Recipient) inFlight() bool { return r.State.InFlight() }

// flightPK is the inflight index partition of a recipient in flight: calls not yet taken by an
// agent (dialling, ringing, queued) under the campaign's ID, calls an agent took under
// "<campaign>#agent". Both count against the concurrency cap; progressive pacing counts only the
// first against the agents.
func flightPK(campaignID string, withAgent bool) string {
	if withAgent {
		return campaignID + "#agent"
	}
	return campaignID
}

func (r Recipient) item() (map[string]types.AttributeValue, error) {
	item := key(r.pk(), r.RecipientID)
	item[attrCampaign] = str(r.CampaignID)
	item[attrRecipient] = str(r.RecipientID)
	if r.Phone != "" {
		item[attrPhone] = str(r.Phone)
	}
	if r.TimeZone != "" {
		item[attrTimeZone] = str(r.TimeZone)
	}
	if len(r.Attributes) > 0 {
		item[attrAttributes] = strMap(r.Attributes)
	}
	item[attrState] = str(string(r.State))
	item[attrReason] = str(r.Reason)
	item[attrUpdatedAt] = ms(r.UpdatedAt)
	item[attrAttempt] = num(int64(r.Attempt))
	item[attrRow] = num(r.Row)
	if !r.NextAttemptAt.IsZero() {
		item[attrNextAt] = ms(r.NextAttemptAt)
	}
	if r.due() {
		item[attrDuePK] = str(r.duePK())
		item[attrDueAt] = indexTimeKey(r.NextAttemptAt, r.RecipientID)
	}
	if r.inFlight() {
		item[attrFlightPK] = str(flightPK(r.CampaignID, !r.AgentAt.IsZero()))
		item[attrFlightAt] = indexTimeKey(r.UpdatedAt, r.RecipientID)
	}
	hist, err := historyValue(r.History)
	if err != nil {
		return nil, err
	}
	item[attrHistory] = hist
	outcomes := make([]string, len(r.Outcomes))
	for i, o := range r.Outcomes {
		outcomes[i] = string(o)
	}
	item[attrOutcomes] = strList(outcomes)
	return item, nil
}

func historyValue(h []dialer.Transition) (types.AttributeValue, error) {
	l := make([]string, len(h))
	for i, t := range h {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		l[i] = string(b)
	}
	return strList(l), nil
}

func recipientFrom(item map[string]types.AttributeValue, shards int) (Recipient, error) {
	r := Recipient{
		RecipientKey:   Key(getS(item, attrCampaign), getS(item, attrRecipient), shards),
		Phone:          getS(item, attrPhone),
		TimeZone:       getS(item, attrTimeZone),
		Attributes:     getStrMap(item, attrAttributes),
		State:          dialer.State(getS(item, attrState)),
		Reason:         getS(item, attrReason),
		UpdatedAt:      getTime(item, attrUpdatedAt),
		Attempt:        int(getN(item, attrAttempt)),
		ContactID:      getS(item, attrContactID),
		Row:            getN(item, attrRow),
		Refusals:       int(getN(item, attrRefusals)),
		AgentAt:        getTime(item, attrAgentAt),
		StopRequested:  getBool(item, attrStopReq),
		HistoryOmitted: int(getN(item, attrOmitted)),
	}
	r.NextAttemptAt = getTime(item, attrNextAt)
	for _, o := range getStrList(item, attrOutcomes) {
		r.Outcomes = append(r.Outcomes, dialer.Outcome(o))
	}
	for _, h := range getStrList(item, attrHistory) {
		var t dialer.Transition
		if err := json.Unmarshal([]byte(h), &t); err != nil {
			return r, fmt.Errorf("recipient history: %w", err)
		}
		r.History = append(r.History, t)
	}
	if !r.State.Valid() {
		return r, fmt.Errorf("recipient has unknown state %q", r.State)
	}
	return r, nil
}

// AddRecipient writes a new recipient; it reports false (and changes nothing) when the recipient
// already exists, so an import that resumes after a crash never resets a recipient's progress.
func (s *Store) AddRecipient(ctx context.Context, r Recipient) (bool, error) {
	if len(r.History) == 0 {
		r.History = []dialer.Transition{{To: r.State, At: r.UpdatedAt, Reason: r.Reason}}
	}
	item, err := r.item()
	if err != nil {
		return false, err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("add recipient %s of campaign %s: %w", r.RecipientID, r.CampaignID, err)
	}
	return true, nil
}

// Recipient reads one recipient consistently.
func (s *Store) Recipient(ctx context.Context, k RecipientKey, shards int) (Recipient, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(k.pk(), k.RecipientID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Recipient{}, fmt.Errorf("read recipient %s: %w", k.RecipientID, err)
	}
	if out.Item == nil {
		return Recipient{}, fmt.Errorf("recipient %s of campaign %s: %w", k.RecipientID, k.CampaignID, ErrNotFound)
	}
	return recipientFrom(out.Item, shards)
}

// Change is one transition of a recipient, applied only if the recipient is still in From at
// attempt FromAttempt.
type Change struct {
	From        dialer.State
	FromAttempt int
	To          dialer.State
	At          time.Time
	Reason      string
	// Attempt is the recipient's attempt number after the change (FromAttempt+1 when dialling).
	Attempt int
	// NextAttemptAt: when a pending or waiting recipient is due.
	NextAttemptAt time.Time
	// ContactID of the attempt's call, once known ("" keeps the recorded one).
	ContactID string
	// Outcome of the attempt that ended ("" for none).
	Outcome dialer.Outcome
	// Refusals, when set, replaces the count of refused dials of the attempt (see
	// Recipient.Refusals); a move to dialing or in a call keeps it, any other move without it
	// resets it.
	Refusals *int
}

// Apply moves a recipient with one conditional write and returns it as it is now. ErrConflict
// means the recipient was not in From/FromAttempt any more (another writer moved it).
func (s *Store) Apply(ctx context.Context, k RecipientKey, shards int, c Change) (Recipient, error) {
	tr, err := dialer.Move(c.From, c.To, c.At, c.Reason, c.Attempt)
	if err != nil {
		return Recipient{}, err
	}
	hist, err := historyValue([]dialer.Transition{tr})
	if err != nil {
		return Recipient{}, err
	}
	names := map[string]string{"#st": attrState, "#at": attrAttempt, "#rs": attrReason, "#up": attrUpdatedAt, "#hi": attrHistory}
	values := map[string]types.AttributeValue{
		":from": str(string(c.From)), ":fromAttempt": num(int64(c.FromAttempt)),
		":to": str(string(c.To)), ":attempt": num(int64(c.Attempt)), ":reason": str(c.Reason),
		":up": ms(c.At), ":hist": hist, ":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
	}
	set := "#st = :to, #at = :attempt, #rs = :reason, #up = :up, #hi = list_append(if_not_exists(#hi, :empty), :hist)"
	var remove []string
	probe := Recipient{RecipientKey: k, State: c.To, NextAttemptAt: c.NextAttemptAt, UpdatedAt: c.At}
	if probe.due() {
		if c.NextAttemptAt.IsZero() {
			return Recipient{}, fmt.Errorf("move to %s needs the time it is due", c.To)
		}
		names["#dp"], names["#da"], names["#na"] = attrDuePK, attrDueAt, attrNextAt
		values[":dp"], values[":da"], values[":na"] = str(k.duePK()), indexTimeKey(c.NextAttemptAt, k.RecipientID), ms(c.NextAttemptAt)
		set += ", #dp = :dp, #da = :da, #na = :na"
	} else {
		names["#dp"], names["#da"] = attrDuePK, attrDueAt
		remove = append(remove, "#dp", "#da")
	}
	if probe.inFlight() {
		names["#fa"] = attrFlightAt
		values[":fa"] = indexTimeKey(c.At, k.RecipientID)
		// flight_at keeps the time the attempt started dialling: the watchdog ages calls from it;
		// flight_pk keeps the partition MarkAgent may have moved the call to.
		if c.From.InFlight() {
			names["#fp"] = attrFlightPK
			values[":fp"] = str(flightPK(k.CampaignID, false))
			set += ", #fp = if_not_exists(#fp, :fp), #fa = if_not_exists(#fa, :fa)"
		} else {
			names["#fp"], names["#ag"], names["#sr"] = attrFlightPK, attrAgentAt, attrStopReq
			values[":fp"] = str(flightPK(k.CampaignID, false))
			set += ", #fp = :fp, #fa = :fa"
			remove = append(remove, "#ag", "#sr")
		}
	} else {
		names["#fp"], names["#fa"], names["#ag"], names["#sr"] = attrFlightPK, attrFlightAt, attrAgentAt, attrStopReq
		remove = append(remove, "#fp", "#fa", "#ag", "#sr")
	}
	switch {
	case c.Refusals != nil:
		names["#rf"] = attrRefusals
		values[":rf"] = num(int64(*c.Refusals))
		set += ", #rf = :rf"
	case !probe.inFlight():
		names["#rf"] = attrRefusals
		remove = append(remove, "#rf")
	}
	if c.ContactID != "" {
		names["#ci"] = attrContactID
		values[":ci"] = str(c.ContactID)
		set += ", #ci = :ci"
	} else if c.To == dialer.StateDialing {
		names["#ci"] = attrContactID
		remove = append(remove, "#ci")
	}
	if c.Outcome != "" {
		names["#oc"] = attrOutcomes
		values[":oc"] = strList([]string{string(c.Outcome)})
		set += ", #oc = list_append(if_not_exists(#oc, :empty), :oc)"
	}
	expr := "SET " + set
	if len(remove) > 0 {
		expr += " REMOVE " + join(remove)
	}
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(k.pk(), k.RecipientID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#st = :from AND #at = :fromAttempt"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err := writeErr(err, "move recipient %s %s->%s", k.RecipientID, c.From, c.To); err != nil {
		return Recipient{}, err
	}
	r, err := recipientFrom(out.Attributes, shards)
	if err != nil {
		return r, err
	}
	if len(r.History) > MaxHistory {
		// Best effort: a compaction that loses to another write leaves the next one to do it.
		if cr, err := s.compactHistory(ctx, r); err == nil {
			r = cr
		}
	}
	return r, nil
}

// MaxHistory bounds the transitions a recipient keeps. A move is never refused for its history:
// once the history is longer, the oldest transitions but the first are dropped (counted in
// HistoryOmitted), so an item stays far below DynamoDB's 400 KB whatever the retries and
// refusals.
const MaxHistory = 100

// keepHistory is how many of the latest transitions a compaction keeps (with the first).
const keepHistory = MaxHistory / 2

// compactHistory drops the middle of a recipient's history, if nobody wrote the recipient since
// it was read as r (its history has the same length and its state and attempt are the same).
func (s *Store) compactHistory(ctx context.Context, r Recipient) (Recipient, error) {
	n := len(r.History)
	kept := append([]dialer.Transition{r.History[0]}, r.History[n-keepHistory:]...)
	hist, err := historyValue(kept)
	if err != nil {
		return r, err
	}
	omitted := n - len(kept)
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(r.pk(), r.RecipientID),
		UpdateExpression:         aws.String("SET #hi = :hist ADD #om :om"),
		ConditionExpression:      aws.String("size(#hi) = :n AND #st = :st AND #at = :at"),
		ExpressionAttributeNames: map[string]string{"#hi": attrHistory, "#om": attrOmitted, "#st": attrState, "#at": attrAttempt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":hist": hist, ":om": num(int64(omitted)), ":n": num(int64(n)), ":st": str(string(r.State)), ":at": num(int64(r.Attempt)),
		},
	})
	if err := writeErr(err, "compact the history of recipient %s", r.RecipientID); err != nil {
		return r, err
	}
	r.History = kept
	r.HistoryOmitted += omitted
	return r, nil
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// Due lists up to limit recipients of one shard that are due at now, earliest first. The index
// is eventually consistent: a listed recipient may have moved already, which Apply's condition
// catches. A page may hold fewer items than asked for and still not be the last (DynamoDB stops
// a page at 1 MB read, and dynalite after entries that were removed meanwhile): Due follows
// LastEvaluatedKey until it has limit keys or the index has no more.
func (s *Store) Due(ctx context.Context, campaignID string, shard, shards int, now time.Time, limit int) ([]RecipientKey, error) {
	if limit <= 0 || limit > maxBatchClaims {
		limit = maxBatchClaims
	}
	var keys []RecipientKey
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(IndexDue),
		KeyConditionExpression:    aws.String("#dp = :dp AND #da < :after"),
		ExpressionAttributeNames:  map[string]string{"#dp": attrDuePK, "#da": attrDueAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":dp": str(campaignID + "#" + strconv.Itoa(shard)), ":after": indexTimeBound(now)},
		Limit:                     aws.Int32(int32(limit)),
	}
	err := s.queryPages(ctx, in, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, it := range items {
			keys = append(keys, RecipientKey{CampaignID: campaignID, RecipientID: getS(it, attrSK), Shard: shard})
		}
		in.Limit = aws.Int32(int32(limit - len(keys)))
		return len(keys) < limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("query due recipients of campaign %s shard %d: %w", campaignID, shard, err)
	}
	return keys, nil
}

// InFlight lists the recipients of a campaign that are dialling or in a call, with the time
// their attempt started: first those no agent has taken yet (oldest first), then those an agent
// took. It pages through the whole (small) set.
func (s *Store) InFlight(ctx context.Context, campaignID string, shards int) ([]InFlightEntry, error) {
	var entries []InFlightEntry
	for _, withAgent := range []bool{false, true} {
		err := s.queryPages(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(IndexInFlight),
			KeyConditionExpression:    aws.String("#fp = :fp"),
			ExpressionAttributeNames:  map[string]string{"#fp": attrFlightPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":fp": str(flightPK(campaignID, withAgent))},
		}, func(items []map[string]types.AttributeValue) (bool, error) {
			for _, it := range items {
				entries = append(entries, InFlightEntry{Key: Key(campaignID, getS(it, attrSK), shards), Since: indexTime(it, attrFlightAt), WithAgent: withAgent})
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("query calls in flight of campaign %s: %w", campaignID, err)
		}
	}
	return entries, nil
}

// InFlightEntry is a recipient whose attempt is dialling or in a call.
type InFlightEntry struct {
	Key   RecipientKey
	Since time.Time
	// WithAgent: an agent took the call (MarkAgent).
	WithAgent bool
}

// MarkAgent records that an agent took the call of the recipient's attempt (a
// CONNECTED_TO_AGENT contact event): the call moves to the inflight index's agent partition,
// under the instant the agent took it, so that progressive pacing stops counting it against the
// available agents and predictive pacing knows how long the agent has talked. ErrConflict when the
// recipient is not in that attempt's call any more.
func (s *Store) MarkAgent(ctx context.Context, k RecipientKey, attempt int, at time.Time) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(k.pk(), k.RecipientID),
		UpdateExpression:         aws.String("SET #ag = if_not_exists(#ag, :ag), #fp = :fp, #fa = :fa"),
		ConditionExpression:      aws.String("#st = :st AND #at = :at"),
		ExpressionAttributeNames: map[string]string{"#ag": attrAgentAt, "#fp": attrFlightPK, "#fa": attrFlightAt, "#st": attrState, "#at": attrAttempt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ag": ms(at), ":fp": str(flightPK(k.CampaignID, true)), ":fa": indexTimeKey(at, k.RecipientID),
			":st": str(string(dialer.StateInCall)), ":at": num(int64(attempt)),
		},
	})
	return writeErr(err, "mark recipient %s with an agent", k.RecipientID)
}

// RequestStop marks the recipient's attempt, while it dials, to be ended as soon as its call is
// placed (Call Stop Requested before the contact ID is known): the move to in_call returns the
// mark. ErrConflict when the recipient is not dialling that attempt any more (in a call, its
// contact ID is known: stop that contact instead).
func (s *Store) RequestStop(ctx context.Context, k RecipientKey, attempt int) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(k.pk(), k.RecipientID),
		UpdateExpression:         aws.String("SET #sr = :t"),
		ConditionExpression:      aws.String("#st = :dialing AND #at = :at"),
		ExpressionAttributeNames: map[string]string{"#sr": attrStopReq, "#st": attrState, "#at": attrAttempt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":dialing": str(string(dialer.StateDialing)), ":at": num(int64(attempt)),
		},
	})
	return writeErr(err, "request a stop of recipient %s", k.RecipientID)
}

// Unsettled reports whether any recipient of the campaign is not in a final state: one waiting
// to be dialled (at any time) or one dialling or in a call. Index reads are eventually
// consistent, so a caller that ends a campaign on false checks again on a later tick.
func (s *Store) Unsettled(ctx context.Context, campaignID string, shards int) (bool, error) {
	fl, err := s.InFlight(ctx, campaignID, shards)
	if err != nil || len(fl) > 0 {
		return len(fl) > 0, err
	}
	never := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for shard := 0; shard < shards; shard++ {
		keys, err := s.Due(ctx, campaignID, shard, shards, never, 1)
		if err != nil {
			return false, err
		}
		if len(keys) > 0 {
			return true, nil
		}
	}
	return false, nil
}
