// Package dialer holds the Go types of every event the outbound dialer (functions/dialer)
// accepts, and their samples (the *.json files beside this file, each decoded by a test):
//
//   - Switchboard's own control events on the custom bus (source "switchboard"): Campaign
//     Launched, Updated, Paused, Resumed, Stopped, Call Requested and Call Stop Requested;
//   - the scheduler's tick (source "switchboard", detail-type "Dialer Tick"), the Input that
//     EventBridge Scheduler sends every minute;
//   - Amazon Connect's contact events (source "aws.connect", detail-type "Amazon Connect
//     Contact Event").
//
// Decode classifies an event and decodes its detail. Our own details are decoded strictly (an
// unknown field is an error naming it, so a typo in a campaign never goes unnoticed); Connect's
// are decoded tolerantly (unknown fields ignored, field names case-insensitive), because the
// service adds fields and samples differ in casing.
package dialer

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// Source of Switchboard's own events (control events and the scheduler's tick).
const Source = "switchboard"

// SourceConnect is the source of Amazon Connect's contact events.
const SourceConnect = "aws.connect"

// Detail-types the dialer accepts.
const (
	TypeCampaignLaunched  = "Campaign Launched"
	TypeCampaignUpdated   = "Campaign Updated"
	TypeCampaignPaused    = "Campaign Paused"
	TypeCampaignResumed   = "Campaign Resumed"
	TypeCampaignStopped   = "Campaign Stopped"
	TypeCallRequested     = "Call Requested"
	TypeCallStopRequested = "Call Stop Requested"
	TypeTick              = "Dialer Tick"
	TypeContactEvent      = "Amazon Connect Contact Event"
)

// DetailTypes lists every Switchboard detail-type the dialer accepts, in documentation order.
var DetailTypes = []string{
	TypeCampaignLaunched, TypeCampaignUpdated, TypeCampaignPaused, TypeCampaignResumed,
	TypeCampaignStopped, TypeCallRequested, TypeCallStopRequested, TypeTick,
}

// ControlDetailTypes are the detail-types of the dialer bus's rule: every Switchboard detail-type
// but the tick, which the scheduler sends to the function directly.
func ControlDetailTypes() []string {
	var out []string
	for _, dt := range DetailTypes {
		if dt != TypeTick {
			out = append(out, dt)
		}
	}
	return out
}

// EndedEventTypes are the contact event types the dialer acts on (a call ended), and
// InitiationMethodAPI the initiation method of the calls it places: the contact-event rule lets
// only those through, and the dialer ignores anything else that reaches it.
var EndedEventTypes = []string{"DISCONNECTED", "COMPLETED"}

// EventConnectedToAgent is the event of an agent taking a call: progressive pacing stops counting
// the call against the available agents.
const EventConnectedToAgent = "CONNECTED_TO_AGENT"

// ContactEventTypes are every contact event type the dialer acts on: the rule that delivers
// contact events to it matches these.
var ContactEventTypes = append([]string{EventConnectedToAgent}, EndedEventTypes...)

// InitiationMethodAPI is the initiationMethod of contacts placed by StartOutboundVoiceContact.
const InitiationMethodAPI = "API"

// Envelope is the EventBridge event envelope
// (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html).
type Envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Duration is a Go duration string in JSON ("90s", "4h", "48h").
type Duration time.Duration

// UnmarshalJSON reads a duration string; numbers are refused (nanoseconds are never meant).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"30m\" or \"48h\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %v", safetext.Truncate(s, 40), err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Campaign is the definition a Campaign Launched event carries. Fields left out take the
// documented safe defaults (docs/dialer.md); the dialer validates the whole definition before it
// accepts it and refuses it with every problem named.
type Campaign struct {
	CampaignID        string `json:"campaignId"`
	Name              string `json:"name,omitempty"`
	InstanceID        string `json:"instanceId"`
	ContactFlowID     string `json:"contactFlowId"`
	QueueID           string `json:"queueId,omitempty"`
	SourcePhoneNumber string `json:"sourcePhoneNumber,omitempty"`
	// Mode is "agentless" (the flow plays a message) or "progressive" (paced by available agents).
	Mode string `json:"mode"`
	// DefaultRegion (ISO 3166, "US") reads recipients' numbers written without a country code.
	DefaultRegion  string          `json:"defaultRegion,omitempty"`
	CallingWindows *CallingWindows `json:"callingWindows,omitempty"`
	Pacing         *Pacing         `json:"pacing,omitempty"`
	Retry          *RetryPolicy    `json:"retry,omitempty"`
	// ContactLimit caps dials per number across every campaign (for example 7 in 7 days).
	ContactLimit *ContactLimit `json:"contactLimit,omitempty"`
	StartTime    *time.Time    `json:"startTime,omitempty"`
	EndTime      *time.Time    `json:"endTime,omitempty"`
	// Attributes are passed to the flow with every call (a recipient's own win on a clash).
	Attributes             map[string]string       `json:"attributes,omitempty"`
	AnswerMachineDetection *AnswerMachineDetection `json:"answerMachineDetection,omitempty"`
	RingTimeoutSeconds     int                     `json:"ringTimeoutSeconds,omitempty"`
	// MaxCallDuration is when the watchdog ends a call with StopContact.
	MaxCallDuration *Duration `json:"maxCallDuration,omitempty"`
	// Rules are the abandoned-call rules the campaign is held to (default: the US and UK rules at
	// once).
	Rules *RuleSet `json:"rules,omitempty"`
	// SafeHarbourMessage is what the outbound safe-harbour flow (the CDK app's OutboundFlow) plays
	// when no agent takes an answered call within the rule set's threshold: the seller's name
	// and a number to call back (16 CFR 310.4(b)(4)(iii)). Passed as the contact attribute
	// safe_harbour_message.
	SafeHarbourMessage string `json:"safeHarbourMessage,omitempty"`
	// Recipients inline (small campaigns) or a CSV object in S3 (any size); not both.
	Recipients       []Recipient `json:"recipients,omitempty"`
	RecipientsObject *S3Object   `json:"recipientsObject,omitempty"`
}

// RuleSet names a rule set ("us", "uk", "us+uk") or, with name "custom", gives one.
type RuleSet struct {
	Name string `json:"name"`
	// The fields of a custom rule set (shared/dialer.RuleSet); a named one takes none.
	Ceiling                  float64    `json:"ceiling,omitempty"`
	Windows                  []Duration `json:"windows,omitempty"`
	Threshold                *Duration  `json:"threshold,omitempty"`
	MinRing                  *Duration  `json:"minRing,omitempty"`
	RedialAfterAbandoned     *Duration  `json:"redialAfterAbandoned,omitempty"`
	MachineCountsAsAbandoned bool       `json:"machineCountsAsAbandoned,omitempty"`
	MachineFalsePositiveRate float64    `json:"machineFalsePositiveRate,omitempty"`
}

// CallingWindows says when a recipient may be called, in the recipient's local time.
type CallingWindows struct {
	// Weekly maps a lower-case English weekday ("monday") to its intervals; a day left out is closed.
	Weekly map[string][]Interval `json:"weekly,omitempty"`
	// RestrictedDates are local dates (YYYY-MM-DD) with no calls: holidays.
	RestrictedDates []string `json:"restrictedDates,omitempty"`
	// FallbackTimeZone (IANA) is used when neither the recipient nor the number gives a zone.
	FallbackTimeZone string `json:"fallbackTimeZone,omitempty"`
	// EnforceUSCallingHours (default true) refuses windows outside 08:00-21:00 local time, the
	// hours of the US Telemarketing Sales Rule; set false only for campaigns outside its reach.
	EnforceUSCallingHours *bool `json:"enforceUSCallingHours,omitempty"`
	// TrustRecordZone: a recipient's own time_zone decides alone. By default (false) it is
	// checked with the zones of the number: every zone must be open.
	TrustRecordZone bool `json:"trustRecordZone,omitempty"`
	// UnknownZone is what a number whose zones are unknown gets (an area code in no table, a
	// toll-free number, without a time_zone of its own): "refuse" (default: invalid_number with
	// the reason, at import) or "fallback" (FallbackTimeZone).
	UnknownZone string `json:"unknownZone,omitempty"`
}

// Interval is a local-time interval "HH:MM"–"HH:MM" (end exclusive).
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Pacing bounds how fast and how many calls a campaign places.
type Pacing struct {
	// CallsPerSecond and Burst: the campaign's share of the account's StartOutboundVoiceContact quota.
	CallsPerSecond float64 `json:"callsPerSecond,omitempty"`
	Burst          int     `json:"burst,omitempty"`
	// MaxConcurrentCalls caps the campaign's live calls.
	MaxConcurrentCalls int `json:"maxConcurrentCalls,omitempty"`
	// AgentsRatio (progressive mode): calls in flight per available agent.
	AgentsRatio float64 `json:"agentsRatio,omitempty"`
	// Weight shares the rate and the cap with campaigns running at the same time.
	Weight float64 `json:"weight,omitempty"`
}

// RetryPolicy says, per outcome, whether and when a recipient is called again.
type RetryPolicy struct {
	Busy      *RetryRule `json:"busy,omitempty"`
	NoAnswer  *RetryRule `json:"noAnswer,omitempty"`
	Voicemail *RetryRule `json:"voicemail,omitempty"`
	Failed    *RetryRule `json:"failed,omitempty"`
	// InvalidNumber: a number the network refused as invalid; by default never retried.
	InvalidNumber *RetryRule `json:"invalidNumber,omitempty"`
	// Abandoned: a call that connected and no agent took (progressive campaigns); by default
	// one more try, 72 hours later (Ofcom's rule for a repeat call after an abandoned one).
	Abandoned *RetryRule `json:"abandoned,omitempty"`
}

// RetryRule: at most MaxAttempts attempts in all for this outcome, Delay after each.
type RetryRule struct {
	Delay       Duration `json:"delay"`
	MaxAttempts int      `json:"maxAttempts"`
}

// ContactLimit: at most MaxDials dials to one number in any Days days, across all campaigns.
type ContactLimit struct {
	MaxDials int `json:"maxDials"`
	Days     int `json:"days"`
}

// AnswerMachineDetection asks Connect for answering-machine detection (TrafficType CAMPAIGN).
type AnswerMachineDetection struct {
	Enabled                  bool `json:"enabled"`
	AwaitAnswerMachinePrompt bool `json:"awaitAnswerMachinePrompt,omitempty"`
}

// S3Object names a CSV of recipients.
type S3Object struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// VersionID and ETag are stored-only: the dialer sets them at the launch to the version of
	// the object it found then (HeadObject), keeps them in the stored definition, and reads
	// exactly that version at every import step (docs/dialer.md, "The CSV format"). A launch
	// event that sets them is refused.
	VersionID string `json:"versionId,omitempty"`
	ETag      string `json:"etag,omitempty"`
}

// Recipient is one person to call.
type Recipient struct {
	// RecipientID is unique within the campaign (a CSV row without one gets its row number).
	RecipientID string `json:"recipientId"`
	// Phone in E.164, or national with the campaign's default region.
	Phone string `json:"phone"`
	// TimeZone (IANA), when the number's own zones are not to be trusted.
	TimeZone   string            `json:"timeZone,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// CampaignLaunched starts a campaign (idempotent by campaignId: a second launch of the same
// definition changes nothing; another definition under a used ID is refused).
type CampaignLaunched struct {
	Campaign
}

// CampaignUpdated changes a running or paused campaign; fields left out stay as they are.
type CampaignUpdated struct {
	CampaignID     string          `json:"campaignId"`
	CallingWindows *CallingWindows `json:"callingWindows,omitempty"`
	Pacing         *Pacing         `json:"pacing,omitempty"`
	Retry          *RetryPolicy    `json:"retry,omitempty"`
	EndTime        *time.Time      `json:"endTime,omitempty"`
}

// CampaignPaused stops placing new calls; calls in progress go on.
type CampaignPaused struct {
	CampaignID string `json:"campaignId"`
	Reason     string `json:"reason,omitempty"`
}

// CampaignResumed lets a paused campaign dial again.
type CampaignResumed struct {
	CampaignID string `json:"campaignId"`
	Reason     string `json:"reason,omitempty"`
}

// CampaignStopped ends a campaign: every recipient not yet final becomes cancelled, and with
// EndActiveCalls its calls in progress are ended with StopContact.
type CampaignStopped struct {
	CampaignID     string `json:"campaignId"`
	EndActiveCalls bool   `json:"endActiveCalls,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// CallRequested asks for one call (a callback) in an existing campaign, idempotent by RequestID.
type CallRequested struct {
	RequestID  string            `json:"requestId"`
	CampaignID string            `json:"campaignId"`
	Phone      string            `json:"phone"`
	TimeZone   string            `json:"timeZone,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// NotBefore: not dialled before this instant (and, as always, only inside the window).
	NotBefore *time.Time `json:"notBefore,omitempty"`
}

// CallStopRequested ends one call in progress: by its contact, or by the recipient whose call it is.
type CallStopRequested struct {
	CampaignID  string `json:"campaignId"`
	ContactID   string `json:"contactId,omitempty"`
	RecipientID string `json:"recipientId,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Tick is the scheduler's minute tick. The schedule's Input fills the fields from EventBridge
// Scheduler's context attributes <aws.scheduler.scheduled-time>, <aws.scheduler.execution-id>
// and <aws.scheduler.attempt-number>
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html).
type Tick struct {
	ScheduledTime time.Time `json:"scheduledTime"`
	ExecutionID   string    `json:"executionId,omitempty"`
	AttemptNumber string    `json:"attemptNumber,omitempty"`
	// Partition and Partitions spread a tick over several executions, one schedule each
	// (infra/dialer.go, dialExecutions): this one is Partition of Partitions (0 of 1 when unset).
	Partition  int `json:"partition,omitempty"`
	Partitions int `json:"partitions,omitempty"`
}

// ContactEvent is the detail of an Amazon Connect contact event, with the fields the dialer reads
// (https://docs.aws.amazon.com/connect/latest/adminguide/contact-events.html). Delivery is best
// effort, unordered and may repeat: the dialer never relies on one arriving.
type ContactEvent struct {
	EventType                  string     `json:"eventType"`
	ContactID                  string     `json:"contactId"`
	InitialContactID           string     `json:"initialContactId"`
	PreviousContactID          string     `json:"previousContactId"`
	Channel                    string     `json:"channel"`
	InstanceARN                string     `json:"instanceArn"`
	InitiationMethod           string     `json:"initiationMethod"`
	InitiationTimestamp        *time.Time `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp *time.Time `json:"connectedToSystemTimestamp"`
	DisconnectTimestamp        *time.Time `json:"disconnectTimestamp"`
	DisconnectReason           string     `json:"disconnectReason"`
	QueueInfo                  *struct {
		QueueARN         string     `json:"queueArn"`
		QueueType        string     `json:"queueType"`
		EnqueueTimestamp *time.Time `json:"enqueueTimestamp"`
	} `json:"queueInfo"`
	AgentInfo *struct {
		AgentARN                  string     `json:"agentArn"`
		ConnectedToAgentTimestamp *time.Time `json:"connectedToAgentTimestamp"`
		// AfterContactWorkDuration (seconds) and its timestamps come with COMPLETED, once the
		// agent's after-contact work is over.
		AfterContactWorkDuration       *int       `json:"afterContactWorkDuration"`
		AfterContactWorkStartTimestamp *time.Time `json:"afterContactWorkStartTimestamp"`
		AfterContactWorkEndTimestamp   *time.Time `json:"afterContactWorkEndTimestamp"`
	} `json:"agentInfo"`
	Tags map[string]string `json:"tags"`
}
