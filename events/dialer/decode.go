package dialer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// MaxEventBytes is the largest event Decode reads: EventBridge refuses a PutEvents entry of
// 256 KB or more, and the delivered event adds the envelope's keys to the entry
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html), so 8 KiB of
// headroom is kept for the envelope. A campaign with more recipients than fit names a CSV
// object instead.
const MaxEventBytes = 264 * 1024

// Event is a decoded event: its envelope and its detail, one of *CampaignLaunched,
// *CampaignUpdated, *CampaignPaused, *CampaignResumed, *CampaignStopped, *CallRequested,
// *CallStopRequested, *Tick or *ContactEvent.
type Event struct {
	Envelope Envelope
	Detail   any
}

// Reasons a RefusedError gives; stable, for logs and metrics.
const (
	ReasonTooLarge          = "too_large"
	ReasonNotJSON           = "not_json"
	ReasonUnknownSource     = "unknown_source"
	ReasonUnknownDetailType = "unknown_detail_type"
	ReasonMalformedDetail   = "malformed_detail"
	ReasonInvalidDetail     = "invalid_detail"
)

// ErrRefused is wrapped by every RefusedError: such an event can never succeed, so the dialer
// logs it and returns without an error (a retry would only repeat the refusal).
var ErrRefused = errors.New("event refused")

// RefusedError says why an event was refused. Its message quotes no value from the event
// other than the source and the detail-type (shortened), never a phone number.
type RefusedError struct {
	Reason  string
	Message string
	// EventID is the envelope's id when the event has one (shortened, digit runs masked), so a
	// refusal can be matched to the event EventBridge delivered.
	EventID string
}

func (e *RefusedError) Error() string { return "event refused (" + e.Reason + "): " + e.Message }

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

func refuse(reason, format string, args ...any) error {
	return &RefusedError{Reason: reason, Message: phone.Scrub(fmt.Sprintf(format, args...))}
}

// Decode reads one event as the dialer's Lambda receives it.
func Decode(raw []byte) (Event, error) {
	ev, err := decode(raw)
	var re *RefusedError
	if errors.As(err, &re) && len(raw) <= MaxEventBytes {
		var id struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &id) == nil {
			re.EventID = phone.Scrub(safetext.Truncate(id.ID, 64))
		}
	}
	return ev, err
}

func decode(raw []byte) (Event, error) {
	if len(raw) > MaxEventBytes {
		return Event{}, refuse(ReasonTooLarge, "%d bytes, at most %d (name a recipients CSV object instead of inline recipients)", len(raw), MaxEventBytes)
	}
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Event{}, refuse(ReasonNotJSON, "not an EventBridge event: %v", jsonProblem(err))
	}
	ev := Event{Envelope: env}
	switch env.Source {
	case SourceConnect:
		if env.DetailType != TypeContactEvent {
			return Event{}, refuse(ReasonUnknownDetailType, "source %q with detail-type %q: the dialer takes only %q from Amazon Connect", SourceConnect, safetext.Truncate(env.DetailType, 64), TypeContactEvent)
		}
		var d ContactEvent
		if err := json.Unmarshal(detailOrEmpty(env.Detail), &d); err != nil {
			return Event{}, refuse(ReasonMalformedDetail, "%s detail: %v", env.DetailType, jsonProblem(err))
		}
		if err := d.Validate(); err != nil {
			return Event{}, refuse(ReasonInvalidDetail, "%s: %v", env.DetailType, err)
		}
		ev.Detail = &d
		return ev, nil
	case Source:
	case "":
		return Event{}, refuse(ReasonUnknownSource, "no source: the dialer takes EventBridge events from %q and %q", Source, SourceConnect)
	default:
		return Event{}, refuse(ReasonUnknownSource, "source %q: the dialer takes events from %q and %q", safetext.Truncate(env.Source, 64), Source, SourceConnect)
	}
	var d interface{ Validate() error }
	switch env.DetailType {
	case TypeCampaignLaunched:
		d = &CampaignLaunched{}
	case TypeCampaignUpdated:
		d = &CampaignUpdated{}
	case TypeCampaignPaused:
		d = &CampaignPaused{}
	case TypeCampaignResumed:
		d = &CampaignResumed{}
	case TypeCampaignStopped:
		d = &CampaignStopped{}
	case TypeCallRequested:
		d = &CallRequested{}
	case TypeCallStopRequested:
		d = &CallStopRequested{}
	case TypeTick:
		d = &Tick{}
	default:
		return Event{}, refuse(ReasonUnknownDetailType, "detail-type %q from %q: one of %s", safetext.Truncate(env.DetailType, 64), Source, strings.Join(DetailTypes, ", "))
	}
	if err := checkNames(detailOrEmpty(env.Detail), reflect.TypeOf(d)); err != nil {
		return Event{}, refuse(ReasonMalformedDetail, "%s detail: %v", env.DetailType, jsonProblem(err))
	}
	dec := json.NewDecoder(bytes.NewReader(detailOrEmpty(env.Detail)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return Event{}, refuse(ReasonMalformedDetail, "%s detail: %v", env.DetailType, jsonProblem(err))
	}
	if err := d.Validate(); err != nil {
		return Event{}, refuse(ReasonInvalidDetail, "%s: %v", env.DetailType, err)
	}
	ev.Detail = d
	return ev, nil
}

func detailOrEmpty(d json.RawMessage) []byte {
	if len(bytes.TrimSpace(d)) == 0 || string(bytes.TrimSpace(d)) == "null" {
		return []byte("{}")
	}
	return d
}

// jsonProblem reduces a JSON error to what is wrong and where, without the offending value
// (it could be a phone number).
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s: want %s, got JSON %s", field, te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + safetext.Truncate(strings.TrimPrefix(msg, "json: unknown field "), 80)
	}
	if strings.Contains(msg, "duration") {
		return safetext.Truncate(msg, 160)
	}
	if strings.Contains(msg, "parsing time") {
		return "a time must be RFC 3339, such as \"2026-12-01T09:00:00Z\""
	}
	return safetext.Truncate(msg, 160)
}

const maxReason = 256

// RequestRecipientPrefix starts the recipient ID of a Call Requested callback: "req-" + requestId.
const RequestRecipientPrefix = "req-"

// ValidID reports whether s is a valid campaign, recipient or request ID: 1-128 of letters, digits
// and _ . : -, starting with a letter or digit. IDs become DynamoDB keys and part of the
// ClientToken; the CSV import and the dialer check recipient IDs with this rule too.
func ValidID(s string) bool {
	return s != "" && len(s) <= 128 && isAlnum(s[0]) && allBytes(s[1:], isIDByte)
}

func checkID(field, v string) error {
	if v == "" {
		return fmt.Errorf("%s is required", field)
	}
	if !ValidID(v) {
		return fmt.Errorf("%s must be 1-128 characters of letters, digits and _ . : - (starting with a letter or digit)", field)
	}
	return nil
}

func checkReason(v string) error {
	if len(v) > maxReason {
		return fmt.Errorf("reason is %d bytes, at most %d", len(v), maxReason)
	}
	return nil
}

// Validate checks what can be checked without the rest of the system: presence, lengths and
// alphabets. The dialer checks the definition's rules (zones, windows, pacing) on launch.
func (c *CampaignLaunched) Validate() error {
	if err := checkID("campaignId", c.CampaignID); err != nil {
		return err
	}
	if c.InstanceID == "" || c.ContactFlowID == "" {
		return errors.New("instanceId and contactFlowId are required")
	}
	if len(c.InstanceID) > 100 || len(c.ContactFlowID) > 500 || len(c.QueueID) > 500 || len(c.Name) > 256 {
		return errors.New("instanceId at most 100 characters, contactFlowId and queueId at most 500, name at most 256")
	}
	if c.QueueID == "" && c.SourcePhoneNumber == "" {
		return errors.New("queueId or sourcePhoneNumber is required (StartOutboundVoiceContact needs one)")
	}
	if len(c.Recipients) > 0 && c.RecipientsObject != nil {
		return errors.New("recipients and recipientsObject are exclusive: give one")
	}
	if c.RecipientsObject != nil && (c.RecipientsObject.Bucket == "" || c.RecipientsObject.Key == "" || len(c.RecipientsObject.Key) > 1024) {
		return errors.New("recipientsObject needs a bucket and a key of at most 1024 bytes")
	}
	seen := make(map[string]bool, len(c.Recipients))
	for i, r := range c.Recipients {
		if err := checkID(fmt.Sprintf("recipients[%d].recipientId", i), r.RecipientID); err != nil {
			return err
		}
		if seen[r.RecipientID] {
			return fmt.Errorf("recipients[%d].recipientId repeats an earlier recipient", i)
		}
		seen[r.RecipientID] = true
		if r.Phone == "" || len(r.Phone) > 32 {
			return fmt.Errorf("recipients[%d].phone is required, at most 32 characters", i)
		}
	}
	return nil
}

// Validate checks the update's campaign ID and that it changes something.
func (u *CampaignUpdated) Validate() error {
	if err := checkID("campaignId", u.CampaignID); err != nil {
		return err
	}
	if u.CallingWindows == nil && u.Pacing == nil && u.Retry == nil && u.EndTime == nil {
		return errors.New("nothing to update: give callingWindows, pacing, retry or endTime")
	}
	return nil
}

// Validate checks the campaign ID and the reason's length.
func (p *CampaignPaused) Validate() error {
	if err := checkID("campaignId", p.CampaignID); err != nil {
		return err
	}
	return checkReason(p.Reason)
}

// Validate checks the campaign ID and the reason's length.
func (r *CampaignResumed) Validate() error {
	if err := checkID("campaignId", r.CampaignID); err != nil {
		return err
	}
	return checkReason(r.Reason)
}

// Validate checks the campaign ID and the reason's length.
func (s *CampaignStopped) Validate() error {
	if err := checkID("campaignId", s.CampaignID); err != nil {
		return err
	}
	return checkReason(s.Reason)
}

// Validate checks the IDs and the number's presence and length.
func (c *CallRequested) Validate() error {
	if err := checkID("requestId", c.RequestID); err != nil {
		return err
	}
	// The callback's recipient is RequestRecipientPrefix + requestId, itself an ID of at most 128.
	if len(c.RequestID) > 128-len(RequestRecipientPrefix) {
		return fmt.Errorf("requestId must be at most %d characters (its recipient is %q + requestId, at most 128)", 128-len(RequestRecipientPrefix), RequestRecipientPrefix)
	}
	if err := checkID("campaignId", c.CampaignID); err != nil {
		return err
	}
	if c.Phone == "" || len(c.Phone) > 32 {
		return errors.New("phone is required, at most 32 characters")
	}
	return nil
}

// Validate checks that exactly one of contactId and recipientId names the call.
func (s *CallStopRequested) Validate() error {
	if err := checkID("campaignId", s.CampaignID); err != nil {
		return err
	}
	if (s.ContactID == "") == (s.RecipientID == "") {
		return errors.New("give exactly one of contactId and recipientId")
	}
	if s.ContactID != "" && !connectspec.ValidContactID(s.ContactID) {
		return errors.New("contactId must be 1-256 letters, digits and dashes")
	}
	if s.RecipientID != "" {
		if err := checkID("recipientId", s.RecipientID); err != nil {
			return err
		}
	}
	return checkReason(s.Reason)
}

// Validate checks that the tick says when it was scheduled.
func (t *Tick) Validate() error {
	if t.ScheduledTime.IsZero() {
		return errors.New("scheduledTime is required (the schedule's Input sets it from <aws.scheduler.scheduled-time>)")
	}
	if t.Partitions < 0 || t.Partitions > MaxPartitions || t.Partition < 0 || (t.Partition > 0 && t.Partition >= t.Partitions) {
		return fmt.Errorf("partition %d of %d: want 0 <= partition < partitions <= %d", t.Partition, t.Partitions, MaxPartitions)
	}
	return nil
}

// MaxPartitions bounds the executions a tick is spread over (pacing.MaxShares).
const MaxPartitions = 16

// Validate checks the fields every contact event has.
func (c *ContactEvent) Validate() error {
	if c.EventType == "" {
		return errors.New("eventType is missing")
	}
	if !connectspec.ValidContactID(c.ContactID) {
		return errors.New("contactId is missing or not 1-256 letters, digits and dashes")
	}
	return nil
}
