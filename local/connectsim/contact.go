package connectsim

import (
	"fmt"
	"maps"
	"time"
)

// Contact statuses reported by ContactView.Status. A voice contact goes
// through the contact event types; a contact made with CreateContact starts
// CONNECTED_TO_SYSTEM (it is in a flow).
const (
	StatusInitiated         = EventInitiated
	StatusConnectedToSystem = EventConnectedToSystem
	StatusQueued            = EventQueued
	StatusConnectedToAgent  = EventConnectedToAgent
	StatusDisconnected      = EventDisconnected
)

// Channels.
const (
	ChannelVoice = "VOICE"
	ChannelChat  = "CHAT"
)

// contact is the Sim's record of one contact. Guarded by Sim.mu.
type contact struct {
	id, initialID, instanceID string
	channel, method           string
	status                    string
	attrs                     map[string]string
	customer, system          string
	flowID, queueID           string
	campaignID, clientToken   string
	name, description         string
	trafficType               string
	amd                       bool   // answering machine detection enabled (TrafficType=CAMPAIGN)
	amdStatus                 string // set once detection has a result
	simulated                 bool   // placed by StartOutboundVoiceContact: emits events
	outcome                   string
	agentID, routingProfileID string // the agent who took it, and the agent's routing profile
	ringTimeout               time.Duration
	agentless                 bool          // the flow plays a message and hangs up
	messageDuration           time.Duration // of an agentless flow (0: flowDelay plus a talk time) or a safe-harbour flow
	safeHarbour               bool          // the flow is SAFE_HARBOUR
	threshold, queueDelay     time.Duration // of a safe-harbour flow
	flowStarted               time.Time     // the flow began: the pick-up, or the AMD result
	safeHarbourAt             time.Time     // a safe-harbour flow gave up on the call and began its message

	initiated, connectedToSystem, enqueued, connectedToAgent, disconnected, lastUpdate time.Time
	disconnectReason                                                                   string
	acwStart, acwEnd                                                                   time.Time
	acwPending                                                                         bool // the agent's after-contact work has not ended

	timer       int // pending lifecycle timer, 0 when none
	hangupTimer int // a voicemail's own hang-up, 0 when none
	step        int // bumped on every status change; stale timers check it
	seq         int // creation order
	history     []HistoryEntry
}

// HistoryEntry is one thing that happened to a contact: a lifecycle step
// (the contact event type) or an API operation that touched it.
type HistoryEntry struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Detail string    `json:"detail,omitempty"`
}

// NewContact describes a contact to create with CreateContact: a contact
// that already exists in a flow (an inbound call or a chat), for tests of
// contact-flow functions and attribute operations.
type NewContact struct {
	// InstanceID defaults to DefaultInstanceID.
	InstanceID string `json:"instanceId,omitempty"`
	// Channel is VOICE (default) or CHAT.
	Channel string `json:"channel,omitempty"`
	// InitiationMethod defaults to INBOUND.
	InitiationMethod string `json:"initiationMethod,omitempty"`
	// CustomerNumber is the caller's number (E.164), for voice contacts.
	CustomerNumber string            `json:"customerNumber,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
}

// ContactView is a snapshot of a contact.
type ContactView struct {
	ID               string            `json:"id"`
	ARN              string            `json:"arn"`
	InitialContactID string            `json:"initialContactId"`
	InstanceID       string            `json:"instanceId"`
	Channel          string            `json:"channel"`
	InitiationMethod string            `json:"initiationMethod"`
	Status           string            `json:"status"`
	Attributes       map[string]string `json:"attributes"`
	CustomerNumber   string            `json:"customerNumber,omitempty"`
	SystemNumber     string            `json:"systemNumber,omitempty"`
	ContactFlowID    string            `json:"contactFlowId,omitempty"`
	QueueID          string            `json:"queueId,omitempty"`
	AgentID          string            `json:"agentId,omitempty"`
	CampaignID       string            `json:"campaignId,omitempty"`
	ClientToken      string            `json:"clientToken,omitempty"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	TrafficType      string            `json:"trafficType,omitempty"`
	// Outcome is the simulated result of an outbound call (one of AllOutcomes), decided when
	// the call is placed.
	Outcome string `json:"outcome,omitempty"`
	// AMDStatus is the answering machine detection status, once known.
	AMDStatus                  string    `json:"answeringMachineDetectionStatus,omitempty"`
	InitiationTimestamp        time.Time `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp time.Time `json:"connectedToSystemTimestamp,omitzero"`
	EnqueueTimestamp           time.Time `json:"enqueueTimestamp,omitzero"`
	ConnectedToAgentTimestamp  time.Time `json:"connectedToAgentTimestamp,omitzero"`
	DisconnectTimestamp        time.Time `json:"disconnectTimestamp,omitzero"`
	DisconnectReason           string    `json:"disconnectReason,omitempty"`
	// AnsweredBy is who picked up, from the simulated outcome: AnsweredByPerson or
	// AnsweredByMachine, empty when media never connected. The real service cannot know it (AMD
	// guesses); a regulator's count of calls answered by a live person needs it.
	AnsweredBy string `json:"answeredBy,omitempty"`
	// FlowStartTimestamp is when the contact's flow began: the pick-up, or, with answering
	// machine detection, the detection's result (CONNECTED_TO_SYSTEM is emitted then).
	FlowStartTimestamp time.Time `json:"flowStartTimestamp,omitzero"`
	// SafeHarbourTimestamp is when a SAFE_HARBOUR flow gave up on the call (no agent within its
	// threshold, or no queue) and began the safe-harbour message.
	SafeHarbourTimestamp time.Time      `json:"safeHarbourTimestamp,omitzero"`
	History              []HistoryEntry `json:"history"`
}

// AnsweredBy values.
const (
	AnsweredByPerson  = "PERSON"
	AnsweredByMachine = "MACHINE"
)

// answeredBy is who picked up a call that connected media, from its simulated outcome.
func (c *contact) answeredBy() string {
	if c.connectedToSystem.IsZero() || !c.simulated {
		return ""
	}
	switch c.outcome {
	case OutcomeAnswered:
		return AnsweredByPerson
	case OutcomeVoicemail:
		return AnsweredByMachine
	}
	return ""
}

func (s *Sim) viewLocked(c *contact) ContactView {
	return ContactView{
		ID: c.id, ARN: s.contactARN(c.instanceID, c.id), InitialContactID: c.initialID, InstanceID: c.instanceID,
		Channel: c.channel, InitiationMethod: c.method, Status: c.status,
		Attributes:     maps.Clone(s.attrsLocked(c)),
		CustomerNumber: c.customer, SystemNumber: c.system, ContactFlowID: c.flowID, QueueID: c.queueID,
		AgentID: c.agentID, CampaignID: c.campaignID, ClientToken: c.clientToken, Name: c.name,
		Description: c.description, TrafficType: c.trafficType, Outcome: c.outcome, AMDStatus: c.amdStatus,
		InitiationTimestamp: c.initiated, ConnectedToSystemTimestamp: c.connectedToSystem,
		EnqueueTimestamp: c.enqueued, ConnectedToAgentTimestamp: c.connectedToAgent,
		DisconnectTimestamp: c.disconnected, DisconnectReason: c.disconnectReason,
		AnsweredBy: c.answeredBy(), FlowStartTimestamp: c.flowStarted, SafeHarbourTimestamp: c.safeHarbourAt,
		History: append([]HistoryEntry(nil), c.history...),
	}
}

// attrsLocked returns the attribute map of the contact's initial contact,
// where Connect keeps the attributes of the whole contact chain.
func (s *Sim) attrsLocked(c *contact) map[string]string {
	if c.initialID != c.id {
		if ic := s.contacts[c.initialID]; ic != nil {
			return ic.attrs
		}
	}
	return c.attrs
}

func (s *Sim) noteLocked(c *contact, event, detail string) {
	now := s.clock.Now()
	c.lastUpdate = now
	c.history = append(c.history, HistoryEntry{At: now, Event: event, Detail: detail})
}

func (s *Sim) addContactLocked(c *contact) {
	s.seq++
	c.seq = s.seq
	s.contacts[c.id] = c
	s.order = append(s.order, c.id)
	if c.active() {
		s.active[c.id] = c
	}
	// Tokens live their 7 days, so their count is bounded by a week of calls, not by retain:
	// prune them when they doubled since the last pruning, not on every call.
	if retain := s.retainContacts(); len(s.order) > retain || len(s.tokens) > max(retain, s.tokensAfterPrune*2) {
		s.pruneLocked(retain)
	}
}

func (s *Sim) retainContacts() int {
	if s.opts.RetainContacts > 0 {
		return s.opts.RetainContacts
	}
	return 20000
}

// pruneLocked forgets the oldest ended contacts until at most 90% of retain are left (so that
// pruning runs once per many contacts, not on each), and every ClientToken past its validity.
func (s *Sim) pruneLocked(retain int) {
	target := retain * 9 / 10
	drop := len(s.order) - target
	kept := s.order[:0]
	for _, id := range s.order {
		if c := s.contacts[id]; drop > 0 && c != nil && !c.active() {
			if c.simulated && c.initiated.After(s.stats.forgottenUpTo) {
				s.stats.forgottenUpTo = c.initiated
			}
			delete(s.contacts, id)
			drop--
			continue
		}
		kept = append(kept, id)
	}
	clear(s.order[len(kept):])
	s.order = kept
	now := s.clock.Now()
	for k, te := range s.tokens {
		if now.Sub(te.created) >= clientTokenTTL {
			delete(s.tokens, k)
		}
	}
	s.tokensAfterPrune = len(s.tokens)
}

// CreateContact adds a contact that is already in a flow, as an inbound
// call or a chat would be. It emits no contact events and does not run a
// call simulation; StopContact ends it.
func (s *Sim) CreateContact(nc NewContact) (ContactView, error) {
	if nc.InstanceID == "" {
		nc.InstanceID = DefaultInstanceID
	}
	if nc.Channel == "" {
		nc.Channel = ChannelVoice
	}
	if nc.InitiationMethod == "" {
		nc.InitiationMethod = "INBOUND"
	}
	in := s.world.instance(nc.InstanceID)
	if in == nil {
		return ContactView{}, fmt.Errorf("connectsim: unknown instance %q", nc.InstanceID)
	}
	switch nc.Channel {
	case ChannelVoice, ChannelChat:
	default:
		return ContactView{}, fmt.Errorf("connectsim: channel %q must be VOICE or CHAT", nc.Channel)
	}
	switch nc.InitiationMethod {
	case "INBOUND", "OUTBOUND", "TRANSFER", "QUEUE_TRANSFER", "CALLBACK", "API", "DISCONNECT", "MONITOR", "EXTERNAL_OUTBOUND", "WEBRTC_API", "AGENT_REPLY", "FLOW":
	default:
		return ContactView{}, fmt.Errorf("connectsim: initiation method %q is not a Connect initiation method", nc.InitiationMethod)
	}
	if nc.CustomerNumber != "" && !e164.MatchString(nc.CustomerNumber) {
		return ContactView{}, fmt.Errorf("connectsim: customer number must be E.164")
	}
	if err := checkAttributes(nil, nc.Attributes); err != nil {
		return ContactView{}, fmt.Errorf("connectsim: %s", err.Message)
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	now := s.clock.Now()
	id := newUUID()
	c := &contact{
		id: id, initialID: id, instanceID: in.ID, channel: nc.Channel, method: nc.InitiationMethod,
		status: StatusConnectedToSystem, attrs: maps.Clone(nc.Attributes), customer: nc.CustomerNumber,
		initiated: now, connectedToSystem: now,
	}
	if c.attrs == nil {
		c.attrs = map[string]string{}
	}
	if len(in.PhoneNumbers) > 0 && nc.Channel == ChannelVoice {
		c.system = in.PhoneNumbers[0]
	}
	if len(in.ContactFlows) > 0 {
		c.flowID = in.ContactFlows[0].ID
	}
	s.addContactLocked(c)
	s.noteLocked(c, "CREATED", fmt.Sprintf("channel=%s method=%s", c.channel, c.method))
	s.trackActiveLocked(in.ID)
	return s.viewLocked(c), nil
}

// Contact returns a snapshot of one contact.
func (s *Sim) Contact(id string) (ContactView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[id]
	if c == nil {
		return ContactView{}, false
	}
	return s.viewLocked(c), true
}

// Contacts returns snapshots of every contact, oldest first.
func (s *Sim) Contacts() []ContactView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ContactView, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.viewLocked(s.contacts[id]))
	}
	return out
}

func (c *contact) active() bool { return c.status != StatusDisconnected }

// activeCallsLocked counts active voice contacts of an instance: the
// "concurrent active calls" quota counts them all, inbound or outbound.
func (s *Sim) activeCallsLocked(instanceID string) int {
	n := 0
	for _, c := range s.active {
		if c.instanceID == instanceID && c.channel == ChannelVoice {
			n++
		}
	}
	return n
}

// trackActiveLocked records the highest concurrency seen.
func (s *Sim) trackActiveLocked(instanceID string) {
	if n := s.activeCallsLocked(instanceID); n > s.stats.maxActiveCalls[instanceID] {
		s.stats.maxActiveCalls[instanceID] = n
	}
}

// activeLocked returns the contacts of an instance that have not ended, from the index of
// active contacts (a long run keeps thousands of ended ones).
func (s *Sim) activeLocked(instanceID string) []*contact {
	var out []*contact
	for _, c := range s.active {
		if c.instanceID == instanceID {
			out = append(out, c)
		}
	}
	return out
}
