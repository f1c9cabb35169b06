package connectsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safeharbour"
)

// Identifiers of the default world. They are fixed so that configuration,
// tests and documentation can name them.
const (
	DefaultRegion           = "us-east-1"
	DefaultAccountID        = "123456789012"
	DefaultInstanceID       = "11111111-2222-4333-8444-555555555555"
	DefaultContactFlowID    = "22222222-3333-4444-8555-666666666666"
	DefaultQueueID          = "33333333-4444-4555-8666-777777777777"
	DefaultPhoneNumber      = "+15555550100"
	DefaultCognitoClientID  = "switchboardlocal"
	DefaultRoutingProfileID = "44444444-5555-4666-8777-888888888888"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("90s", "2m"), so that config files stay readable.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration must be a string like \"30s\" or a number of seconds")
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// World is everything connectsim knows about the AWS account it pretends to
// be: instances with their flows, queues, numbers and agents, the Cognito app
// clients of the hosted sign-in stand-in, quotas and the call model.
type World struct {
	Region         string               `json:"region"`
	AccountID      string               `json:"accountId"`
	Instances      []Instance           `json:"instances"`
	CognitoClients []CognitoClient      `json:"cognitoClients"`
	Throttle       map[string]RateLimit `json:"throttle,omitempty"`
	// ThrottleClock is the clock the quotas' token buckets run on: "simulated" (default; a
	// run at -time-scale 60 allows 60 times the requests per wall second, and a manual clock
	// refills buckets only when it is advanced) or "wall".
	ThrottleClock string      `json:"throttleClock,omitempty"`
	Calls         CallProfile `json:"calls"`
	Auth          AuthProfile `json:"auth"`
	// ClientTokenAfterEnd is what a StartOutboundVoiceContact replay with a ClientToken does
	// once the token's contact has ended: TokenNewContact (default) places a new call, as the
	// older API reference says ("If the contact is disconnected, a new contact is started";
	// the current one is silent), which is the worse case a dialer must survive;
	// TokenSameContact answers the ended contact's ID. While the contact is active a replay
	// always answers its ID, whatever the other parameters (the operation's error list has no
	// idempotency-mismatch error); they are ignored.
	ClientTokenAfterEnd string `json:"clientTokenAfterEnd,omitempty"`
	// Delivery is how best-effort contact event delivery is: loss, duplicates, delays and
	// reordering. The zero value delivers every event once, in order.
	Delivery EventDelivery `json:"delivery,omitzero"`
	// Start is the simulated instant the clock starts from (RFC 3339, e.g.
	// "2027-03-13T08:00:00-05:00"), so that a run can begin on a daylight-saving weekend or
	// just before a calling window opens. Empty: now.
	Start time.Time `json:"start,omitzero"`
	// Attachments are the limits of chat attachments (default: 20 MB, 35 a chat, the documented
	// file types).
	Attachments AttachmentProfile `json:"attachments,omitzero"`
	// Faults are in force from the start (and again after a reset), by operation or "*", as
	// SetFault and PUT /_connectsim/faults/{operation} set them.
	Faults map[string]Fault `json:"faults,omitempty"`
}

// ThrottleClock values.
const (
	ThrottleSimulated = "simulated"
	ThrottleWall      = "wall"
)

// ClientTokenAfterEnd values.
const (
	TokenNewContact  = "new-contact"
	TokenSameContact = "same-contact"
)

// Instance is one Amazon Connect instance.
type Instance struct {
	ID    string `json:"id"`
	Alias string `json:"alias,omitempty"`
	// MaxConcurrentCalls is the "concurrent active calls per instance" quota.
	MaxConcurrentCalls int `json:"maxConcurrentCalls"`
	// OutboundDisabled makes StartOutboundVoiceContact fail with
	// OutboundContactNotPermittedException, as an instance without outbound
	// calling enabled does.
	OutboundDisabled bool `json:"outboundDisabled,omitempty"`
	// BlockedPrefixes are E.164 prefixes that answer
	// DestinationNotAllowedException (Connect blocks +447 by default).
	BlockedPrefixes []string      `json:"blockedPrefixes,omitempty"`
	ContactFlows    []ContactFlow `json:"contactFlows"`
	Queues          []Queue       `json:"queues"`
	PhoneNumbers    []string      `json:"phoneNumbers"`
	// Agents are who is staffed at the start: anonymous agents, or users named by their ID.
	Agents []Agent `json:"agents"`
	// RefuseCampaignCalls answers StartOutboundVoiceContact with TrafficType=CAMPAIGN with
	// LimitExceededException, as Connect does until the account's "Amazon Connect campaigns"
	// quota is raised ("Campaign calls are not allowed by default"). Off in the default world.
	RefuseCampaignCalls bool `json:"refuseCampaignCalls,omitempty"`
	// The directory (directory.go): users, routing and security profiles, the agent hierarchy.
	// IdentityManagementType is CONNECT_MANAGED (default), SAML or EXISTING_DIRECTORY; MaxUsers
	// the "Users per instance" quota (default 500). An instance without routing or security
	// profiles gets Connect's defaults (Basic Routing Profile; Admin, Agent, CallCenterManager,
	// QualityAnalyst).
	IdentityManagementType string            `json:"identityManagementType,omitempty"`
	MaxUsers               int               `json:"maxUsers,omitempty"`
	Users                  []User            `json:"users,omitempty"`
	RoutingProfiles        []RoutingProfile  `json:"routingProfiles,omitempty"`
	SecurityProfiles       []SecurityProfile `json:"securityProfiles,omitempty"`
	Hierarchy              *Hierarchy        `json:"hierarchy,omitempty"`
}

// ContactFlow is a flow that StartOutboundVoiceContact can name. QueueID is
// the queue its "Set working queue" block would pick when the request names
// none.
type ContactFlow struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	QueueID string `json:"queueId,omitempty"`
	// Type is FlowQueue (default: answered calls wait in the queue for an agent; with no
	// queue at all the flow plays its message and hangs up), FlowAgentless (plays a message
	// for MessageDuration and hangs up, CONTACT_FLOW_DISCONNECT, whatever the queue) or
	// FlowSafeHarbour (Switchboard's outbound flow, infra/outboundflow.go: the answered call is
	// queued, and if no agent takes it within Threshold it hears the safe-harbour message for
	// MessageDuration and is hung up, CONTACT_FLOW_DISCONNECT).
	Type string `json:"type,omitempty"`
	// MessageDuration is how long an agentless flow talks (default: flowDelay plus a talk
	// time), or how long a safe-harbour flow's message plays (default
	// DefaultSafeHarbourMessageDuration).
	MessageDuration Duration `json:"messageDuration,omitempty"`
	// Threshold is how long a safe-harbour flow lets an answered call wait in the queue for an
	// agent: the deployed queue flow's InterruptFrequencySeconds, so whole seconds from 1 s to
	// 1 min (default safeharbour.DefaultThreshold, 2 s). Only for FlowSafeHarbour.
	Threshold Duration `json:"threshold,omitempty"`
	// QueueDelay is how long a safe-harbour flow takes from the start of the flow to the queue
	// (default 0: its actions before the transfer, which set logging and the queue flow, are
	// assumed to take no time; the other flows take calls.flowDelay). Only for FlowSafeHarbour.
	QueueDelay Duration `json:"queueDelay,omitempty"`
}

// Flow types.
const (
	FlowQueue       = "QUEUE"
	FlowAgentless   = "AGENTLESS"
	FlowSafeHarbour = "SAFE_HARBOUR"
)

// DefaultSafeHarbourMessageDuration is how long a safe-harbour flow's message plays unless the
// flow sets messageDuration. Assumed: two sentences naming the seller and a number to call back,
// read by text-to-speech.
const DefaultSafeHarbourMessageDuration = 8 * time.Second

// threshold is the flow's queue-wait limit (safe-harbour flows).
func (f ContactFlow) threshold() time.Duration {
	if f.Threshold == 0 {
		return safeharbour.DefaultThreshold
	}
	return f.Threshold.D()
}

// messageDuration is how long the flow's message plays; 0 for an agentless flow that has none
// (it then talks for flowDelay plus a talk time).
func (f ContactFlow) messageDuration() time.Duration {
	if f.MessageDuration == 0 && f.Type == FlowSafeHarbour {
		return DefaultSafeHarbourMessageDuration
	}
	return f.MessageDuration.D()
}

// Queue is a standard queue. OutboundCallerID is the number shown to the
// callee when a call names this queue.
type Queue struct {
	ID               string `json:"id"`
	Name             string `json:"name,omitempty"`
	OutboundCallerID string `json:"outboundCallerId,omitempty"`
}

// Agent statuses accepted by the world file and SetAgents.
const (
	AgentAvailable = "AVAILABLE"
	AgentOffline   = "OFFLINE"
	// AgentBreak is a non-productive status: online and staffed, not routable.
	AgentBreak = "BREAK"
)

// Agent is a user who takes contacts from the queues it serves.
type Agent struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Queues []string `json:"queues,omitempty"` // empty: every queue of the instance
	Status string   `json:"status,omitempty"` // AVAILABLE (default), BREAK or OFFLINE
}

// CognitoClient is an app client of the hosted sign-in stand-in.
type CognitoClient struct {
	ClientID     string   `json:"clientId"`
	RedirectURIs []string `json:"redirectUris,omitempty"`
	// AllowLoopbackAnyPort accepts http://127.0.0.1:<any port>/<any path> and
	// http://localhost:<any port>/<any path>, which local tools need because
	// their ports are chosen at run time.
	AllowLoopbackAnyPort bool `json:"allowLoopbackAnyPort,omitempty"`
}

// RateLimit is a token bucket: Rate tokens per second, at most Burst. ErrorType is the error
// answered over it (ThrottlingException, TooManyRequestsException or LimitExceededException);
// empty keeps the operation's default.
type RateLimit struct {
	Rate      float64 `json:"rate"`
	Burst     int     `json:"burst"`
	ErrorType string  `json:"errorType,omitempty"`
}

// CallProfile is how simulated outbound calls behave.
type CallProfile struct {
	// Outcomes are the shares of the call outcomes (OutcomeAnswered, OutcomeVoicemail,
	// OutcomeNoAnswer, OutcomeBusy, OutcomeInvalidNumber, OutcomeFailed, OutcomeBlocked). They
	// are weights: they need not add up to 1. Empty: the legacy weights below, or the defaults.
	Outcomes map[string]float64 `json:"outcomes,omitempty"`
	// Legacy weights (answered, no answer, busy, failed), kept for world files written before
	// Outcomes; give either these or Outcomes.
	AnswerWeight   float64 `json:"answerWeight,omitempty"`
	NoAnswerWeight float64 `json:"noAnswerWeight,omitempty"`
	BusyWeight     float64 `json:"busyWeight,omitempty"`
	FailWeight     float64 `json:"failWeight,omitempty"`
	// RingMin/RingMax bound the uniform time until a person or a voicemail picks up; a call
	// not picked up within the ring timeout is unanswered.
	RingMin Duration `json:"ringMin"`
	RingMax Duration `json:"ringMax"`
	// NoAnswerReason is the DisconnectReason of an unanswered call: TELECOM_TIMEOUT (default),
	// TELECOM_ORIGINATOR_CANCEL or TELECOM_UNANSWERED, all three documented for it.
	NoAnswerReason string `json:"noAnswerReason,omitempty"`
	// FlowDelay is the time the outbound flow takes between
	// CONNECTED_TO_SYSTEM and QUEUED.
	FlowDelay Duration `json:"flowDelay"`
	TalkMin   Duration `json:"talkMin"`
	TalkMax   Duration `json:"talkMax"`
	// AgentHangupShare is the share of conversations the agent ends (AGENT_DISCONNECT); the
	// customer ends the rest (CUSTOMER_DISCONNECT).
	AgentHangupShare float64 `json:"agentHangupShare,omitempty"`
	// VoicemailMin/VoicemailMax bound how long a voicemail keeps the line before it hangs up
	// (CUSTOMER_DISCONNECT); default 30 s to 2 min.
	VoicemailMin Duration `json:"voicemailMin,omitempty"`
	VoicemailMax Duration `json:"voicemailMax,omitempty"`
	// AgentVoicemailTime is how long an agent connected to a voicemail listens before hanging
	// up (AGENT_DISCONNECT); default 5 s.
	AgentVoicemailTime Duration `json:"agentVoicemailTime,omitempty"`
	// AfterContactWork is how long an agent stays in ACW after a contact.
	AfterContactWork Duration `json:"afterContactWork"`
	// QueueTimeout disconnects a queued contact nobody answered (CONTACT_FLOW_DISCONNECT); 0
	// waits forever.
	QueueTimeout Duration `json:"queueTimeout"`
	// Patience is how long a person waits in the queue before hanging up (CUSTOMER_DISCONNECT,
	// no agent): the abandonment a dialer's pacing must keep low.
	Patience Patience `json:"patience"`
	// AMD is answering machine detection, for TrafficType=CAMPAIGN calls that enable it.
	AMD AMDProfile `json:"amd"`
	// NumberOutcomes forces the outcome for a destination number (any of the outcome names).
	// Tests use it for determinism.
	NumberOutcomes map[string]string `json:"numberOutcomes,omitempty"`
}

// Patience is a distribution of queue waiting times.
type Patience struct {
	// Distribution is "exponential" (Mean), "uniform" (Min to Max) or "none" (never hangs up).
	Distribution string   `json:"distribution"`
	Mean         Duration `json:"mean,omitempty"`
	Min          Duration `json:"min,omitempty"`
	Max          Duration `json:"max,omitempty"`
}

// Patience distributions.
const (
	PatienceExponential = "exponential"
	PatienceUniform     = "uniform"
	PatienceNone        = "none"
)

// AMDProfile is how answering machine detection classifies a call that media connected.
type AMDProfile struct {
	// DetectionDelay is the time from media connect until the status is known (default 3 s):
	// CONNECTED_TO_SYSTEM is emitted then, and DescribeContact reports the status from then on.
	DetectionDelay Duration `json:"detectionDelay"`
	// FalsePositiveRate is the share of people reported as a voicemail (VOICEMAIL_NO_BEEP):
	// the calls Ofcom counts as abandoned. Default 0.03.
	FalsePositiveRate float64 `json:"falsePositiveRate"`
	// FalseNegativeRate is the share of voicemails reported as HUMAN_ANSWERED. Default 0.05.
	FalseNegativeRate float64 `json:"falseNegativeRate"`
	// UnresolvedRate is the share of media-connected calls reported AMD_UNRESOLVED. Default 0.02.
	UnresolvedRate float64 `json:"unresolvedRate"`
	// BeepShare is the share of (detected) voicemails with a beep: VOICEMAIL_BEEP, the rest
	// VOICEMAIL_NO_BEEP. Default 0.6.
	BeepShare float64 `json:"beepShare"`
}

// Call outcomes: what the callee's side does with a call. Each maps to the DisconnectReason
// the contact records data model documents for it (see outcomeReason).
const (
	// OutcomeAnswered: a person answers (media connects).
	OutcomeAnswered = "ANSWERED"
	// OutcomeVoicemail: a voicemail answers (media connects, connectedToSystemTimestamp set).
	OutcomeVoicemail = "VOICEMAIL"
	// OutcomeNoAnswer: rings until the ring timeout (TELECOM_TIMEOUT by default).
	OutcomeNoAnswer = "NO_ANSWER"
	// OutcomeBusy: TELECOM_BUSY.
	OutcomeBusy = "BUSY"
	// OutcomeInvalidNumber: TELECOM_NUMBER_INVALID.
	OutcomeInvalidNumber = "INVALID_NUMBER"
	// OutcomeFailed: a network failure, TELECOM_PROBLEM.
	OutcomeFailed = "FAILED"
	// OutcomeBlocked: carrier blocking, TELECOM_POTENTIAL_BLOCKING.
	OutcomeBlocked = "CARRIER_BLOCKED"
)

// AllOutcomes lists the outcomes in the fixed order in which shares are drawn, so that a seed
// always gives the same calls.
var AllOutcomes = []string{OutcomeAnswered, OutcomeVoicemail, OutcomeNoAnswer, OutcomeBusy, OutcomeInvalidNumber, OutcomeFailed, OutcomeBlocked}

// DefaultOutcomes are the default shares. TELECOM_PROBLEM (2 %) and TELECOM_POTENTIAL_BLOCKING
// (1 %) are the rates the contact records data model says Amazon Connect expects; the others
// are assumptions of a consumer campaign.
func DefaultOutcomes() map[string]float64 {
	return map[string]float64{
		OutcomeAnswered: 0.45, OutcomeVoicemail: 0.20, OutcomeNoAnswer: 0.22, OutcomeBusy: 0.07,
		OutcomeInvalidNumber: 0.03, OutcomeFailed: 0.02, OutcomeBlocked: 0.01,
	}
}

// AuthProfile configures chat customer authentication sessions.
type AuthProfile struct {
	// SessionTTL is how long (sim clock) an authentication session accepts
	// UpdateParticipantAuthentication.
	SessionTTL Duration `json:"sessionTtl"`
	// URLWindow is how long after the session starts (the authenticationInitiated event) the
	// chat may call GetAuthenticationUrl: one minute in Amazon Connect.
	URLWindow Duration `json:"urlWindow"`
}

// DefaultWorld is one instance in us-east-1 with a flow, a queue, an
// outbound caller ID, three available agents (users agent1 to agent3 of the
// basic routing profile, in a five-level hierarchy) and a Cognito client that
// accepts loopback redirect URIs on any port.
func DefaultWorld() World {
	w := World{
		Region:    DefaultRegion,
		AccountID: DefaultAccountID,
		Instances: []Instance{{
			ID:                 DefaultInstanceID,
			Alias:              "switchboard-local",
			MaxConcurrentCalls: 10,
			BlockedPrefixes:    []string{"+447"},
			ContactFlows:       []ContactFlow{{ID: DefaultContactFlowID, Name: "Outbound reminder", QueueID: DefaultQueueID}},
			Queues:             []Queue{{ID: DefaultQueueID, Name: "BasicQueue", OutboundCallerID: DefaultPhoneNumber}},
			PhoneNumbers:       []string{DefaultPhoneNumber},
			Agents: []Agent{
				{ID: "aaaaaaaa-0000-4000-8000-000000000001", Name: "agent1", Status: AgentAvailable},
				{ID: "aaaaaaaa-0000-4000-8000-000000000002", Name: "agent2", Status: AgentAvailable},
				{ID: "aaaaaaaa-0000-4000-8000-000000000003", Name: "agent3", Status: AgentAvailable},
			},
		}},
		CognitoClients: []CognitoClient{{
			ClientID:             DefaultCognitoClientID,
			RedirectURIs:         []string{"http://127.0.0.1/auth/callback"},
			AllowLoopbackAnyPort: true,
		}},
		Calls: DefaultCallProfile(),
		Auth:  AuthProfile{SessionTTL: Duration(10 * time.Minute), URLWindow: Duration(time.Minute)},
	}
	defaultDirectory(&w.Instances[0])
	return w
}

// DefaultCallProfile has the DefaultOutcomes, picks up after 5–20 s of ringing, talks for
// 30 s to 3 min and keeps agents in ACW for 30 s.
func DefaultCallProfile() CallProfile {
	return CallProfile{
		Outcomes: DefaultOutcomes(),
		RingMin:  Duration(5 * time.Second), RingMax: Duration(20 * time.Second),
		NoAnswerReason: ReasonTimeout,
		FlowDelay:      Duration(2 * time.Second),
		TalkMin:        Duration(30 * time.Second), TalkMax: Duration(3 * time.Minute),
		VoicemailMin: Duration(30 * time.Second), VoicemailMax: Duration(2 * time.Minute),
		AgentVoicemailTime: Duration(5 * time.Second),
		AfterContactWork:   Duration(30 * time.Second),
		QueueTimeout:       Duration(5 * time.Minute),
		// Assumed: people wait a minute on average for an agent after answering.
		Patience: Patience{Distribution: PatienceExponential, Mean: Duration(time.Minute)},
		AMD:      DefaultAMDProfile(),
	}
}

// DefaultAMDProfile detects in 3 s, mistakes 3 % of people for voicemails and 5 % of
// voicemails for people, and leaves 2 % unresolved. These rates are assumptions (no
// published figure): nonzero so that a dialer meets each case.
func DefaultAMDProfile() AMDProfile {
	return AMDProfile{DetectionDelay: Duration(3 * time.Second), FalsePositiveRate: 0.03, FalseNegativeRate: 0.05, UnresolvedRate: 0.02, BeepShare: 0.6}
}

// LoadWorld reads a JSON world file. Fields left out keep the defaults of
// DefaultWorld only where a zero value would be unusable (region, account,
// quotas, call timings); the instance list, if given, replaces the default
// one entirely.
func LoadWorld(path string) (World, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return World{}, fmt.Errorf("read world config: %w", err)
	}
	return ParseWorld(b)
}

// ParseWorld decodes and validates a JSON world. Unknown fields are an error
// so that a typo in a config file does not go unnoticed.
func ParseWorld(b []byte) (World, error) {
	var w World
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return World{}, fmt.Errorf("parse world config: %w", err)
	}
	w = w.withDefaults()
	if err := w.Validate(); err != nil {
		return World{}, err
	}
	return w, nil
}

func (w World) withDefaults() World {
	def := DefaultWorld()
	if w.Region == "" {
		w.Region = def.Region
	}
	if w.AccountID == "" {
		w.AccountID = def.AccountID
	}
	if len(w.Instances) == 0 {
		w.Instances = def.Instances
	}
	for i := range w.Instances {
		if w.Instances[i].MaxConcurrentCalls == 0 {
			w.Instances[i].MaxConcurrentCalls = 10
		}
		for j := range w.Instances[i].Agents {
			if w.Instances[i].Agents[j].Status == "" {
				w.Instances[i].Agents[j].Status = AgentAvailable
			}
		}
		w.Instances[i].directoryDefaults()
	}
	c := &w.Calls
	legacy := c.AnswerWeight + c.NoAnswerWeight + c.BusyWeight + c.FailWeight
	if len(c.Outcomes) == 0 && legacy > 0 {
		c.Outcomes = map[string]float64{OutcomeAnswered: c.AnswerWeight, OutcomeNoAnswer: c.NoAnswerWeight, OutcomeBusy: c.BusyWeight, OutcomeFailed: c.FailWeight}
		c.AnswerWeight, c.NoAnswerWeight, c.BusyWeight, c.FailWeight = 0, 0, 0, 0
	}
	if len(c.Outcomes) == 0 {
		c.Outcomes = def.Calls.Outcomes
	}
	if c.RingMin == 0 && c.RingMax == 0 {
		c.RingMin, c.RingMax = def.Calls.RingMin, def.Calls.RingMax
	}
	if c.TalkMin == 0 && c.TalkMax == 0 {
		c.TalkMin, c.TalkMax = def.Calls.TalkMin, def.Calls.TalkMax
	}
	if c.VoicemailMin == 0 && c.VoicemailMax == 0 {
		c.VoicemailMin, c.VoicemailMax = def.Calls.VoicemailMin, def.Calls.VoicemailMax
	}
	if c.AgentVoicemailTime == 0 {
		c.AgentVoicemailTime = def.Calls.AgentVoicemailTime
	}
	if c.NoAnswerReason == "" {
		c.NoAnswerReason = def.Calls.NoAnswerReason
	}
	if c.AMD == (AMDProfile{}) {
		c.AMD = def.Calls.AMD
	}
	if c.Patience == (Patience{}) {
		c.Patience = def.Calls.Patience
	}
	if w.Auth.SessionTTL == 0 {
		w.Auth.SessionTTL = def.Auth.SessionTTL
	}
	if w.ThrottleClock == "" {
		w.ThrottleClock = ThrottleSimulated
	}
	if w.ClientTokenAfterEnd == "" {
		w.ClientTokenAfterEnd = TokenNewContact
	}
	if w.Auth.URLWindow == 0 {
		w.Auth.URLWindow = def.Auth.URLWindow
	}
	w.Attachments = w.Attachments.withDefaults()
	return w
}

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	accountPattern = regexp.MustCompile(`^\d{12}$`)
)

// Validate reports every problem of a world at once, with the JSON path of
// each, so a config file can be fixed in one go.
func (w World) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !regionPattern.MatchString(w.Region) {
		bad("region %q is not a Region name like us-east-1", w.Region)
	}
	if !accountPattern.MatchString(w.AccountID) {
		bad("accountId %q must be 12 digits", w.AccountID)
	}
	if len(w.Instances) == 0 {
		bad("instances: at least one instance is needed")
	}
	seen := map[string]bool{}
	for i, in := range w.Instances {
		p := fmt.Sprintf("instances[%d]", i)
		if in.ID == "" || len(in.ID) > 100 {
			bad("%s.id must be 1-100 characters", p)
		}
		if seen[in.ID] {
			bad("%s.id %q is duplicated", p, in.ID)
		}
		seen[in.ID] = true
		if in.MaxConcurrentCalls < 1 {
			bad("%s.maxConcurrentCalls must be at least 1", p)
		}
		queues := map[string]bool{}
		for j, q := range in.Queues {
			if q.ID == "" {
				bad("%s.queues[%d].id is empty", p, j)
			}
			queues[q.ID] = true
			if q.OutboundCallerID != "" && !e164.MatchString(q.OutboundCallerID) {
				bad("%s.queues[%d].outboundCallerId must be E.164", p, j)
			}
		}
		for j, f := range in.ContactFlows {
			if f.ID == "" {
				bad("%s.contactFlows[%d].id is empty", p, j)
			}
			if f.QueueID != "" && !queues[f.QueueID] {
				bad("%s.contactFlows[%d].queueId %q is not a queue of the instance", p, j, f.QueueID)
			}
			if f.Type != "" && f.Type != FlowQueue && f.Type != FlowAgentless && f.Type != FlowSafeHarbour {
				bad("%s.contactFlows[%d].type %q must be QUEUE, AGENTLESS or SAFE_HARBOUR", p, j, f.Type)
			}
			if f.MessageDuration < 0 {
				bad("%s.contactFlows[%d].messageDuration must not be negative", p, j)
			}
			if f.Type != FlowSafeHarbour && (f.Threshold != 0 || f.QueueDelay != 0) {
				bad("%s.contactFlows[%d]: threshold and queueDelay are for SAFE_HARBOUR flows", p, j)
			}
			if f.Threshold != 0 {
				if err := safeharbour.CheckThreshold(f.Threshold.D()); err != nil {
					bad("%s.contactFlows[%d].threshold: %v", p, j, err)
				}
			}
			if f.QueueDelay < 0 {
				bad("%s.contactFlows[%d].queueDelay must not be negative", p, j)
			}
		}
		for j, n := range in.PhoneNumbers {
			if !e164.MatchString(n) {
				bad("%s.phoneNumbers[%d] must be E.164", p, j)
			}
		}
		errs = append(errs, in.validateDirectory(p)...)
		for j, a := range in.Agents {
			if a.ID == "" {
				bad("%s.agents[%d].id is empty", p, j)
			}
			switch a.Status {
			case AgentAvailable, AgentOffline, AgentBreak:
			default:
				bad("%s.agents[%d].status %q must be AVAILABLE, BREAK or OFFLINE", p, j, a.Status)
			}
			for _, q := range a.Queues {
				if !queues[q] {
					bad("%s.agents[%d].queues: %q is not a queue of the instance", p, j, q)
				}
			}
		}
	}
	for i, c := range w.CognitoClients {
		if c.ClientID == "" {
			bad("cognitoClients[%d].clientId is empty", i)
		}
	}
	for op, rl := range w.Throttle {
		if _, ok := knownOps[op]; !ok {
			bad("throttle: unknown operation %q", op)
		}
		if rl.Rate <= 0 || rl.Burst < 1 {
			bad("throttle.%s: rate must be > 0 and burst >= 1", op)
		}
		if rl.ErrorType != "" && !slices.Contains(throttleErrorTypes, rl.ErrorType) {
			bad("throttle.%s.errorType %q must be one of %s", op, rl.ErrorType, strings.Join(throttleErrorTypes, ", "))
		}
	}
	if w.ThrottleClock != ThrottleSimulated && w.ThrottleClock != ThrottleWall {
		bad("throttleClock %q must be %s or %s", w.ThrottleClock, ThrottleSimulated, ThrottleWall)
	}
	c := w.Calls
	if c.AnswerWeight < 0 || c.NoAnswerWeight < 0 || c.BusyWeight < 0 || c.FailWeight < 0 {
		bad("calls: weights must not be negative")
	}
	if len(c.Outcomes) > 0 && c.AnswerWeight+c.NoAnswerWeight+c.BusyWeight+c.FailWeight > 0 {
		bad("calls: give outcomes or the legacy answerWeight/noAnswerWeight/busyWeight/failWeight, not both")
	}
	var total float64
	for o, share := range c.Outcomes {
		if !slices.Contains(AllOutcomes, o) {
			bad("calls.outcomes: %q is not one of %s", o, strings.Join(AllOutcomes, ", "))
		}
		if share < 0 {
			bad("calls.outcomes.%s: a share must not be negative", o)
		}
		total += share
	}
	if len(c.Outcomes) > 0 && total <= 0 {
		bad("calls.outcomes: at least one share must be positive")
	}
	switch c.NoAnswerReason {
	case ReasonTimeout, ReasonOriginatorCancel, ReasonUnanswered:
	default:
		bad("calls.noAnswerReason %q must be TELECOM_TIMEOUT, TELECOM_ORIGINATOR_CANCEL or TELECOM_UNANSWERED", c.NoAnswerReason)
	}
	if c.AgentHangupShare < 0 || c.AgentHangupShare > 1 {
		bad("calls.agentHangupShare must be within [0, 1]")
	}
	if c.VoicemailMin < 0 || c.VoicemailMax < c.VoicemailMin {
		bad("calls: need 0 <= voicemailMin <= voicemailMax")
	}
	a := c.AMD
	for name, r := range map[string]float64{"falsePositiveRate": a.FalsePositiveRate, "falseNegativeRate": a.FalseNegativeRate, "unresolvedRate": a.UnresolvedRate, "beepShare": a.BeepShare} {
		if r < 0 || r > 1 {
			bad("calls.amd.%s must be within [0, 1]", name)
		}
	}
	if a.FalsePositiveRate+a.UnresolvedRate > 1 || a.FalseNegativeRate+a.UnresolvedRate > 1 {
		bad("calls.amd: unresolvedRate plus a false rate must not exceed 1")
	}
	switch pt := c.Patience; pt.Distribution {
	case PatienceNone:
	case PatienceExponential:
		if pt.Mean <= 0 {
			bad("calls.patience: an exponential distribution needs a positive mean")
		}
	case PatienceUniform:
		if pt.Min < 0 || pt.Max < pt.Min {
			bad("calls.patience: need 0 <= min <= max")
		}
	default:
		bad("calls.patience.distribution %q must be exponential, uniform or none", pt.Distribution)
	}
	if a.DetectionDelay < 0 || c.AgentVoicemailTime < 0 {
		bad("calls: durations must not be negative")
	}
	if c.RingMin < 0 || c.RingMax < c.RingMin {
		bad("calls: need 0 <= ringMin <= ringMax")
	}
	if c.TalkMin < 0 || c.TalkMax < c.TalkMin {
		bad("calls: need 0 <= talkMin <= talkMax")
	}
	if c.FlowDelay < 0 || c.AfterContactWork < 0 || c.QueueTimeout < 0 {
		bad("calls: durations must not be negative")
	}
	for n, o := range c.NumberOutcomes {
		if !slices.Contains(AllOutcomes, o) {
			bad("calls.numberOutcomes[%s]: %q must be one of %s", phone.Mask(n), o, strings.Join(AllOutcomes, ", "))
		}
	}
	if w.ClientTokenAfterEnd != TokenNewContact && w.ClientTokenAfterEnd != TokenSameContact {
		bad("clientTokenAfterEnd %q must be %s or %s", w.ClientTokenAfterEnd, TokenNewContact, TokenSameContact)
	}
	if err := w.Attachments.Validate(); err != nil {
		errs = append(errs, err)
	}
	for op, f := range w.Faults {
		if err := checkFault(op, f); err != nil {
			bad("faults.%s: %v", op, err)
		}
	}
	if err := w.Delivery.Validate(); err != nil {
		errs = append(errs, err)
	}
	if w.Auth.SessionTTL <= 0 {
		bad("auth.sessionTtl must be positive")
	}
	if w.Auth.URLWindow < 0 {
		bad("auth.urlWindow must not be negative")
	}
	return errors.Join(errs...)
}

func (w World) instance(id string) *Instance {
	for i := range w.Instances {
		if w.Instances[i].ID == id {
			return &w.Instances[i]
		}
	}
	return nil
}

func (in *Instance) queue(id string) *Queue {
	for i := range in.Queues {
		if in.Queues[i].ID == id {
			return &in.Queues[i]
		}
	}
	return nil
}

func (in *Instance) flow(id string) *ContactFlow {
	for i := range in.ContactFlows {
		if in.ContactFlows[i].ID == id {
			return &in.ContactFlows[i]
		}
	}
	return nil
}

func (in *Instance) hasNumber(n string) bool {
	for _, x := range in.PhoneNumbers {
		if x == n {
			return true
		}
	}
	return false
}
