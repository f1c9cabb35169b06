package connectsim

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safeharbour"
)

// Disconnect reasons the simulation reports: values of DisconnectReason in the contact records
// data model (admin guide, "Contact records data model", ContactTraceRecord.DisconnectReason),
// which DescribeContact answers.
const (
	ReasonCustomerDisconnect = "CUSTOMER_DISCONNECT"
	ReasonAgentDisconnect    = "AGENT_DISCONNECT"
	// ReasonUnanswered: "the system cannot deliver the call at this time".
	ReasonUnanswered = "TELECOM_UNANSWERED"
	// ReasonTimeout: "reaches 60 seconds of ringing"; the default for an unanswered call.
	ReasonTimeout = "TELECOM_TIMEOUT"
	// ReasonOriginatorCancel: "the agent/API user cancels the call before connecting, or ...
	// the call remains unanswered after 60 seconds".
	ReasonOriginatorCancel  = "TELECOM_ORIGINATOR_CANCEL"
	ReasonBusy              = "TELECOM_BUSY"
	ReasonNumberInvalid     = "TELECOM_NUMBER_INVALID"
	ReasonPotentialBlocking = "TELECOM_POTENTIAL_BLOCKING"
	ReasonTelecomProblem    = "TELECOM_PROBLEM"
	ReasonFlowDisconnect    = "CONTACT_FLOW_DISCONNECT"
	// ReasonOther covers "disconnections that API calls initiate": StopContact on a connected
	// voice contact.
	ReasonOther = "OTHER"
	// ReasonAPI is the reason of a chat (or task) ended by StopContact; voice contacts never
	// get it.
	ReasonAPI = "API"
)

// campaignReasons are the outbound-campaign disconnect reasons: the only ones a DISCONNECTED
// contact event carries ("available for the contacts of outbound campaigns in which the media
// connection failed", admin guide "Amazon Connect contact events"), and the only codes
// StopContact accepts in DisconnectReason ("Only Amazon Connect outbound campaigns can provide
// this field").
var campaignReasons = map[string]bool{
	"OUTBOUND_DESTINATION_ENDPOINT_ERROR": true,
	"OUTBOUND_RESOURCE_ERROR":             true,
	"OUTBOUND_ATTEMPT_FAILED":             true,
	"OUTBUND_PREVIEW_DISCARDED":           true, // sic: the data model spells it so
	"EXPIRED":                             true,
}

// clientTokenTTL is how long a ClientToken stays bound to its contact.
const clientTokenTTL = 7 * 24 * time.Hour

// defaultRingTimeout is the dialing timeout when RingTimeoutInSeconds is
// not given.
const defaultRingTimeout = 60 * time.Second

type answerMachineDetectionConfig struct {
	EnableAnswerMachineDetection *bool
	AwaitAnswerMachinePrompt     *bool
}

type startOutboundVoiceContactInput struct {
	DestinationPhoneNumber       *string
	ContactFlowId                *string
	InstanceId                   *string
	ClientToken                  *string
	SourcePhoneNumber            *string
	QueueId                      *string
	Attributes                   map[string]string
	AnswerMachineDetectionConfig *answerMachineDetectionConfig
	CampaignId                   *string
	TrafficType                  *string
	Name                         *string
	Description                  *string
	RelatedContactId             *string
	RingTimeoutInSeconds         *int64
}

func (s *Sim) startOutboundVoiceContact(c *call) (any, *apiError) {
	var in startOutboundVoiceContactInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.required("DestinationPhoneNumber", in.DestinationPhoneNumber != nil)
	ck.required("ContactFlowId", in.ContactFlowId != nil)
	ck.required("InstanceId", in.InstanceId != nil)
	ck.length("ContactFlowId", in.ContactFlowId, 0, connectspec.MaxContactFlowIDLength)
	ck.length("InstanceId", in.InstanceId, 1, connectspec.MaxInstanceIDLength)
	ck.length("ClientToken", in.ClientToken, 0, connectspec.MaxClientTokenLength)
	ck.length("CampaignId", in.CampaignId, 1, connectspec.MaxCampaignIDLength)
	ck.length("Name", in.Name, 0, connectspec.MaxNameLength)
	ck.length("Description", in.Description, 0, connectspec.MaxDescriptionLength)
	ck.length("RelatedContactId", in.RelatedContactId, 1, connectspec.MaxContactIDLength)
	ck.enum("TrafficType", in.TrafficType, "GENERAL", "CAMPAIGN")
	ck.intRange("RingTimeoutInSeconds", in.RingTimeoutInSeconds, 15, 60)
	checkAttributeShapes(&ck, "attributes", in.Attributes)
	if e := ck.err(); e != nil {
		return nil, e
	}
	dest := *in.DestinationPhoneNumber
	if !e164.MatchString(dest) {
		return nil, newErr(errInvalidParameter, "DestinationPhoneNumber must be in E.164 format")
	}
	if in.SourcePhoneNumber != nil && !e164.MatchString(*in.SourcePhoneNumber) {
		return nil, newErr(errInvalidParameter, "SourcePhoneNumber must be in E.164 format")
	}
	if in.AnswerMachineDetectionConfig != nil && (in.TrafficType == nil || *in.TrafficType != "CAMPAIGN") {
		return nil, newErr(errInvalidRequest, "AnswerMachineDetectionConfig can only be used when TrafficType is CAMPAIGN")
	}
	if e := checkAttributes(nil, in.Attributes); e != nil {
		return nil, e
	}
	inst, e := s.instanceOrErr(*in.InstanceId)
	if e != nil {
		return nil, e
	}
	flow := inst.flow(*in.ContactFlowId)
	if flow == nil {
		return nil, newErr(errResourceNotFound, "Contact flow %s not found in instance %s", *in.ContactFlowId, inst.ID)
	}
	queueID := flow.QueueID
	if in.QueueId != nil {
		if inst.queue(*in.QueueId) == nil {
			return nil, newErr(errResourceNotFound, "Queue %s not found in instance %s", *in.QueueId, inst.ID)
		}
		queueID = *in.QueueId
	}
	var source string
	switch {
	case in.SourcePhoneNumber != nil:
		if !inst.hasNumber(*in.SourcePhoneNumber) {
			return nil, newErr(errResourceNotFound, "Phone number %s is not claimed by instance %s", phone.Mask(*in.SourcePhoneNumber), inst.ID)
		}
		source = *in.SourcePhoneNumber
	case in.QueueId != nil:
		source = inst.queue(*in.QueueId).OutboundCallerID
		if source == "" {
			return nil, newErr(errInvalidParameter, "Queue %s has no outbound caller ID number; give SourcePhoneNumber", *in.QueueId)
		}
	default:
		return nil, newErr(errInvalidRequest, "Either QueueId or SourcePhoneNumber must be given")
	}

	s.mu.Lock()
	defer s.unlockAndFlush()
	now := s.clock.Now()
	var tokenKey string
	if in.ClientToken != nil && *in.ClientToken != "" {
		tokenKey = inst.ID + "\x00" + *in.ClientToken
		if te, ok := s.tokens[tokenKey]; ok && now.Sub(te.created) < clientTokenTTL {
			// A forgotten contact (RetainContacts) had ended: only ended ones are pruned.
			prev := s.contacts[te.contactID]
			if (prev != nil && prev.active()) || s.world.ClientTokenAfterEnd == TokenSameContact {
				if prev != nil {
					s.noteLocked(prev, "IDEMPOTENT_REPLAY", "ClientToken replayed; no call placed")
				}
				s.log.Info("idempotent replay", "contact_id", te.contactID)
				return map[string]string{"ContactId": te.contactID}, nil
			}
			s.log.Info("ClientToken replayed after its contact ended: new call", "previous_contact_id", te.contactID)
		}
	}
	if inst.OutboundDisabled {
		return nil, newErr(errOutboundNotPermitted, "Outbound calls are not enabled for instance %s", inst.ID)
	}
	if inst.RefuseCampaignCalls && in.TrafficType != nil && *in.TrafficType == "CAMPAIGN" {
		// "Campaign calls are not allowed by default. Before you can make a call with
		// TrafficType = CAMPAIGN, you must submit a service quota increase request."
		return nil, newErr(errLimitExceeded, "Campaign calls are not allowed by default: TrafficType CAMPAIGN needs a raised Amazon Connect campaigns quota")
	}
	for _, p := range inst.BlockedPrefixes {
		if strings.HasPrefix(dest, p) {
			return nil, newErr(errDestinationNotAllowd, "Outbound calls to %s are not allowed", phone.Mask(dest))
		}
	}
	if n := s.activeCallsLocked(inst.ID); n >= inst.MaxConcurrentCalls {
		return nil, newErr(errLimitExceeded, "The concurrent active calls quota of %d for instance %s is reached", inst.MaxConcurrentCalls, inst.ID)
	}

	id := newUUID()
	ct := &contact{
		id: id, initialID: id, instanceID: inst.ID, channel: ChannelVoice, method: "API",
		status: StatusInitiated, attrs: maps.Clone(in.Attributes), customer: dest, system: source,
		flowID: flow.ID, queueID: queueID, initiated: now, agentless: flow.Type == FlowAgentless,
		messageDuration: flow.messageDuration(),
		safeHarbour:     flow.Type == FlowSafeHarbour, threshold: flow.threshold(), queueDelay: flow.QueueDelay.D(),
		ringTimeout: defaultRingTimeout, simulated: true,
	}
	if ct.attrs == nil {
		ct.attrs = map[string]string{}
	}
	if in.RingTimeoutInSeconds != nil {
		ct.ringTimeout = time.Duration(*in.RingTimeoutInSeconds) * time.Second
	}
	if in.CampaignId != nil {
		ct.campaignID = *in.CampaignId
	}
	if in.ClientToken != nil {
		ct.clientToken = *in.ClientToken
	}
	if in.Name != nil {
		ct.name = *in.Name
	}
	if in.Description != nil {
		ct.description = *in.Description
	}
	if in.TrafficType != nil {
		ct.trafficType = *in.TrafficType
	}
	ct.amd = in.AnswerMachineDetectionConfig != nil && in.AnswerMachineDetectionConfig.EnableAnswerMachineDetection != nil && *in.AnswerMachineDetectionConfig.EnableAnswerMachineDetection
	ct.outcome = s.pickOutcomeLocked(dest)
	s.addContactLocked(ct)
	if tokenKey != "" {
		s.tokens[tokenKey] = tokenEntry{contactID: id, created: now}
	}
	s.trackActiveLocked(inst.ID)
	s.noteLocked(ct, EventInitiated, fmt.Sprintf("to=%s outcome=%s", phone.Mask(dest), ct.outcome))
	s.emitLocked(ct, EventInitiated)
	s.planCallLocked(ct)
	s.log.Info("outbound call placed", "contact_id", id, "to", phone.Mask(dest), "outcome", ct.outcome)
	return map[string]string{"ContactId": id}, nil
}

// pickOutcomeLocked decides how a call ends: forced per number, else drawn from the shares in
// the fixed order of AllOutcomes.
func (s *Sim) pickOutcomeLocked(dest string) string {
	if o, ok := s.world.Calls.NumberOutcomes[dest]; ok {
		return o
	}
	shares := s.world.Calls.Outcomes
	var total float64
	last := OutcomeAnswered
	for _, o := range AllOutcomes {
		total += shares[o]
		if shares[o] > 0 {
			last = o
		}
	}
	x := s.rng.Float64() * total
	for _, o := range AllOutcomes {
		if x < shares[o] {
			return o
		}
		x -= shares[o]
	}
	return last // rounding
}

func (s *Sim) uniformLocked(min, max time.Duration) time.Duration {
	if max <= min {
		return min
	}
	return min + time.Duration(s.rng.Int64N(int64(max-min)+1))
}

// failDelay is how long a call that never connects media takes to fail. Assumed: the
// network answers a busy line, an invalid number or a block within seconds.
var failDelay = map[string]time.Duration{
	OutcomeBusy:          3 * time.Second,
	OutcomeInvalidNumber: 2 * time.Second,
	OutcomeFailed:        1 * time.Second,
	OutcomeBlocked:       2 * time.Second,
}

// failReason is the contact-record DisconnectReason of an outcome that never connects media.
func (s *Sim) failReason(outcome string) string {
	switch outcome {
	case OutcomeBusy:
		return ReasonBusy
	case OutcomeInvalidNumber:
		return ReasonNumberInvalid
	case OutcomeFailed:
		return ReasonTelecomProblem
	case OutcomeBlocked:
		return ReasonPotentialBlocking
	}
	return s.world.Calls.NoAnswerReason
}

// Answering machine detection statuses (DescribeContact AnsweringMachineDetectionStatus, contact
// records data model).
const (
	AMDHuman          = "HUMAN_ANSWERED"
	AMDVoicemailBeep  = "VOICEMAIL_BEEP"
	AMDVoicemailNoBep = "VOICEMAIL_NO_BEEP"
	AMDUnanswered     = "AMD_UNANSWERED"
	AMDUnresolved     = "AMD_UNRESOLVED"
	AMDNotApplicable  = "AMD_NOT_APPLICABLE"
	AMDSitBusy        = "SIT_TONE_BUSY"
	AMDSitInvalid     = "SIT_TONE_INVALID_NUMBER"
	AMDSitDetected    = "SIT_TONE_DETECTED"
)

// failAMD is the detection status of a call that never connected media: the data model's
// statuses for a busy line, an invalid number, a call that kept ringing and one that
// "disconnected before ringing"; a blocked call is assumed to meet a special information tone.
var failAMD = map[string]string{
	OutcomeNoAnswer:      AMDUnanswered,
	OutcomeBusy:          AMDSitBusy,
	OutcomeInvalidNumber: AMDSitInvalid,
	OutcomeFailed:        AMDNotApplicable,
	OutcomeBlocked:       AMDSitDetected,
}

// detectLocked classifies a media-connected AMD call.
func (s *Sim) detectLocked(c *contact) string {
	a := s.world.Calls.AMD
	if s.rng.Float64() < a.UnresolvedRate {
		return AMDUnresolved
	}
	x := s.rng.Float64()
	if c.outcome == OutcomeAnswered {
		if x < a.FalsePositiveRate {
			return AMDVoicemailNoBep
		}
		return AMDHuman
	}
	if x < a.FalseNegativeRate {
		return AMDHuman
	}
	if s.rng.Float64() < a.BeepShare {
		return AMDVoicemailBeep
	}
	return AMDVoicemailNoBep
}

// stepLocked schedules f for the contact's current step; it does nothing
// if the contact moved on meanwhile (StopContact, reset).
func (s *Sim) stepLocked(c *contact, d time.Duration, f func()) {
	step := c.step
	c.timer = s.schedule(d, func() {
		if c.step != step || !c.active() {
			return
		}
		c.timer = 0
		f()
	})
}

func (s *Sim) setStatusLocked(c *contact, status string) {
	if c.timer != 0 {
		s.cancel(c.timer)
		c.timer = 0
	}
	c.step++
	c.status = status
}

func (s *Sim) planCallLocked(c *contact) {
	p := s.world.Calls
	switch c.outcome {
	case OutcomeAnswered, OutcomeVoicemail:
		ring := s.uniformLocked(p.RingMin.D(), p.RingMax.D())
		if ring >= c.ringTimeout {
			// Nobody picked up within the dialing timeout.
			c.outcome = OutcomeNoAnswer
			s.stepLocked(c, c.ringTimeout, func() { s.failLocked(c) })
			return
		}
		s.stepLocked(c, ring, func() { s.answerLocked(c) })
	case OutcomeNoAnswer:
		s.stepLocked(c, c.ringTimeout, func() { s.failLocked(c) })
	default:
		s.stepLocked(c, min(failDelay[c.outcome], c.ringTimeout), func() { s.failLocked(c) })
	}
}

// failLocked ends a call that never connected media.
func (s *Sim) failLocked(c *contact) {
	if c.amd {
		c.amdStatus = failAMD[c.outcome]
	}
	s.disconnectLocked(c, s.failReason(c.outcome))
}

// answerLocked connects media: a person or a voicemail picked up. With answering machine
// detection, CONNECTED_TO_SYSTEM waits for the detection result ("generated for any of the
// AnsweringMachineDetectionStatus codes"); connectedToSystemTimestamp is the pick-up.
func (s *Sim) answerLocked(c *contact) {
	s.setStatusLocked(c, StatusConnectedToSystem)
	c.connectedToSystem = s.clock.Now()
	p := s.world.Calls
	if c.outcome == OutcomeVoicemail {
		// The voicemail hangs up after its recording time unless an agent is on the line.
		c.hangupTimer = s.schedule(s.uniformLocked(p.VoicemailMin.D(), p.VoicemailMax.D()), func() {
			c.hangupTimer = 0
			if c.active() && c.status != StatusConnectedToAgent {
				s.disconnectLocked(c, ReasonCustomerDisconnect)
			}
		})
	}
	if c.amd {
		s.stepLocked(c, p.AMD.DetectionDelay.D(), func() {
			c.amdStatus = s.detectLocked(c)
			s.connectedLocked(c)
		})
		return
	}
	s.connectedLocked(c)
}

// connectedLocked emits CONNECTED_TO_SYSTEM and runs the flow.
func (s *Sim) connectedLocked(c *contact) {
	c.flowStarted = s.clock.Now()
	s.noteLocked(c, EventConnectedToSystem, c.amdStatus)
	s.emitLocked(c, EventConnectedToSystem)
	p := s.world.Calls
	if c.safeHarbour {
		// infra/outboundflow.go: set the customer queue flow, transfer to the contact's queue;
		// a call without a queue fails the transfer and hears the message at once.
		next := func() { s.enqueueLocked(c) }
		if c.queueID == "" {
			next = func() { s.safeHarbourLocked(c, safeharbour.OutcomeNotQueued) }
		}
		if c.queueDelay == 0 {
			next()
			return
		}
		s.stepLocked(c, c.queueDelay, next)
		return
	}
	if c.agentless || c.queueID == "" {
		// The flow plays its message and hangs up.
		msg := c.messageDuration
		if msg == 0 {
			msg = p.FlowDelay.D() + s.uniformLocked(p.TalkMin.D(), p.TalkMax.D())
		}
		s.stepLocked(c, msg, func() { s.disconnectLocked(c, ReasonFlowDisconnect) })
		return
	}
	s.stepLocked(c, p.FlowDelay.D(), func() { s.enqueueLocked(c) })
}

// patienceLocked draws how long a person waits in the queue; ok is false when they never hang up.
func (s *Sim) patienceLocked() (d time.Duration, ok bool) {
	pt := s.world.Calls.Patience
	switch pt.Distribution {
	case PatienceExponential:
		return time.Duration(s.rng.ExpFloat64() * float64(pt.Mean)), true
	case PatienceUniform:
		return s.uniformLocked(pt.Min.D(), pt.Max.D()), true
	}
	return 0, false
}

func (s *Sim) enqueueLocked(c *contact) {
	s.setStatusLocked(c, StatusQueued)
	c.enqueued = s.clock.Now()
	s.noteLocked(c, EventQueued, "queue="+c.queueID)
	s.emitLocked(c, EventQueued)
	if c.safeHarbour {
		// The customer queue flow's Loop prompts is interrupted after the threshold: the
		// flow's own limit takes the place of calls.queueTimeout.
		s.stepLocked(c, c.threshold, func() { s.safeHarbourLocked(c, safeharbour.OutcomeThreshold) })
	} else if qt := s.world.Calls.QueueTimeout.D(); qt > 0 {
		s.stepLocked(c, qt, func() { s.disconnectLocked(c, ReasonFlowDisconnect) })
	}
	if c.outcome == OutcomeAnswered {
		// A person hangs up after their patience unless an agent took the call: abandoned.
		if wait, ok := s.patienceLocked(); ok {
			c.hangupTimer = s.schedule(wait, func() {
				c.hangupTimer = 0
				if c.status == StatusQueued {
					s.noteLocked(c, "ABANDONED", "")
					s.disconnectLocked(c, ReasonCustomerDisconnect)
				}
			})
		}
	}
	s.routeQueuedLocked(c.instanceID)
}

// safeHarbourLocked is the end of a SAFE_HARBOUR flow (infra/outboundflow.go): no agent took the
// answered call within the threshold (outcome safeharbour.OutcomeThreshold), or it could not be
// queued (OutcomeNotQueued). Like the deployed flow it marks the contact (the attribute
// safeharbour.AttrOutcome, unless the contact's attributes are full: the flow's error branch
// goes on to the message), plays the campaign's message or the default for messageDuration and
// hangs up with CONTACT_FLOW_DISCONNECT. A queued call stays in the queue while the customer
// queue flow plays the message, as in Connect, so an agent who becomes free meanwhile still takes
// it (and ends the message); the person's patience no longer applies: they hear the message.
func (s *Sim) safeHarbourLocked(c *contact, outcome string) {
	c.safeHarbourAt = s.clock.Now()
	attrs := s.attrsLocked(c)
	mark := map[string]string{safeharbour.AttrOutcome: outcome}
	marked := connectspec.MergedAttributeBytes(attrs, mark) <= connectspec.MaxAttributeBytes
	if marked {
		attrs[safeharbour.AttrOutcome] = outcome
	}
	which := "default"
	if safeharbour.UsesCampaignMessage(attrs[safeharbour.AttrMessage]) {
		which = "campaign"
	}
	s.noteLocked(c, "SAFE_HARBOUR", fmt.Sprintf("%s, %s message, marked=%t", outcome, which, marked))
	if c.outcome == OutcomeAnswered && c.hangupTimer != 0 {
		s.cancel(c.hangupTimer)
		c.hangupTimer = 0
	}
	s.stepLocked(c, c.messageDuration, func() { s.disconnectLocked(c, ReasonFlowDisconnect) })
}

func (s *Sim) connectToAgentLocked(c *contact, a *agentState) {
	s.setStatusLocked(c, StatusConnectedToAgent)
	now := s.clock.Now()
	c.agentID, c.routingProfileID = a.ID, a.routingProfileID
	c.connectedToAgent = now
	a.activity, a.contactID, a.since = activityOnContact, c.id, now
	a.epoch++
	a.mark(now)
	s.noteLocked(c, EventConnectedToAgent, "agent="+a.ID)
	s.emitLocked(c, EventConnectedToAgent)
	p := s.world.Calls
	if c.outcome == OutcomeVoicemail {
		// The agent hears a greeting and hangs up.
		s.stepLocked(c, p.AgentVoicemailTime.D(), func() { s.disconnectLocked(c, ReasonAgentDisconnect) })
		return
	}
	reason := ReasonCustomerDisconnect
	if p.AgentHangupShare > 0 && s.rng.Float64() < p.AgentHangupShare {
		reason = ReasonAgentDisconnect
	}
	s.stepLocked(c, s.uniformLocked(p.TalkMin.D(), p.TalkMax.D()), func() { s.disconnectLocked(c, reason) })
}

func (s *Sim) disconnectLocked(c *contact, reason string) {
	wasWithAgent := c.status == StatusConnectedToAgent
	s.setStatusLocked(c, StatusDisconnected)
	delete(s.active, c.id)
	if c.hangupTimer != 0 {
		s.cancel(c.hangupTimer)
		c.hangupTimer = 0
	}
	c.disconnected = s.clock.Now()
	c.disconnectReason = reason
	s.noteLocked(c, EventDisconnected, "reason="+reason)
	s.emitLocked(c, EventDisconnected)
	if wasWithAgent && c.agentID != "" && s.releaseAgentLocked(c) {
		return // COMPLETED follows the agent's after-contact work
	}
	// No after-contact work: "the COMPLETED event is published immediately after the
	// DISCONNECT event with the same data."
	s.emitLocked(c, EventCompleted)
}

// emitLocked queues a contact event for delivery.
func (s *Sim) emitLocked(c *contact, eventType string) {
	if !c.simulated {
		return
	}
	now := s.clock.Now()
	d := EventDetail{
		EventType: eventType, ContactID: c.id, InitialContactID: c.initialID, Channel: c.channel,
		InstanceARN: s.InstanceARN(c.instanceID), InitiationMethod: c.method,
		InitiationTimestamp:        eventTime(c.initiated),
		ConnectedToSystemTimestamp: eventTime(c.connectedToSystem),
		DisconnectTimestamp:        eventTime(c.disconnected),
		// Assumed casing: the data model names the field AnsweringMachineDetectionStatus and
		// the samples write detail fields in camelCase.
		AnsweringMachineDetectionStatus: c.amdStatus,
	}
	if eventType == EventDisconnected && c.campaignID != "" && campaignReasons[c.disconnectReason] {
		d.DisconnectReason = c.disconnectReason
	}
	if !c.enqueued.IsZero() {
		d.QueueInfo = &EventQueueInfo{QueueARN: s.queueARN(c.instanceID, c.queueID), QueueType: "STANDARD", EnqueueTimestamp: eventTime(c.enqueued)}
	}
	if c.agentID != "" {
		d.AgentInfo = &EventAgentInfo{AgentARN: s.agentARN(c.instanceID, c.agentID), ConnectedToAgentTimestamp: eventTime(c.connectedToAgent)}
		if eventType == EventCompleted && !c.acwEnd.IsZero() {
			secs := int(c.acwEnd.Sub(c.acwStart) / time.Second)
			d.AgentInfo.AfterContactWorkStartTimestamp = eventTime(c.acwStart)
			d.AgentInfo.AfterContactWorkEndTimestamp = eventTime(c.acwEnd)
			d.AgentInfo.AfterContactWorkDuration = &secs
		}
	}
	if eventType == EventContactDataUpdated {
		d.UpdatedProperties = []string{"UserDefinedAttributes"}
	}
	d.Tags = map[string]string{"aws:connect:instanceId": c.instanceID}
	if c.channel == ChannelVoice && c.system != "" {
		d.Tags["aws:connect:systemEndpoint"] = c.system
	}
	if c.campaignID != "" {
		d.Campaign = &EventCampaign{CampaignID: c.campaignID}
	}
	s.pending = append(s.pending, Event{
		Version: "0", ID: newUUID(), DetailType: "Amazon Connect Contact Event", Source: "aws.connect",
		Account: s.world.AccountID, Time: now.UTC().Format("2006-01-02T15:04:05Z"), Region: s.world.Region,
		// The samples of the admin guide list the contact ARN, then the instance ARN.
		Resources: []string{s.contactARN(c.instanceID, c.id), s.InstanceARN(c.instanceID)},
		Detail:    d,
	})
	s.stats.eventsEmitted++
}

type stopContactInput struct {
	ContactId        *string
	InstanceId       *string
	DisconnectReason *struct{ Code *string }
}

func (s *Sim) stopContact(c *call) (any, *apiError) {
	var in stopContactInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.required("ContactId", in.ContactId != nil)
	ck.required("InstanceId", in.InstanceId != nil)
	ck.length("ContactId", in.ContactId, 1, connectspec.MaxContactIDLength)
	ck.length("InstanceId", in.InstanceId, 1, connectspec.MaxInstanceIDLength)
	if in.DisconnectReason != nil {
		ck.length("DisconnectReason.Code", in.DisconnectReason.Code, 1, 256)
	}
	if e := ck.err(); e != nil {
		return nil, e
	}
	if _, e := s.instanceOrErr(*in.InstanceId); e != nil {
		return nil, e
	}
	var code string
	if in.DisconnectReason != nil && in.DisconnectReason.Code != nil {
		code = *in.DisconnectReason.Code
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	ct := s.contacts[*in.ContactId]
	if ct == nil || ct.instanceID != *in.InstanceId || !ct.active() {
		return nil, newErr(errContactNotFound, "Contact %s is not active or does not exist", *in.ContactId)
	}
	if ct.channel == ChannelVoice {
		switch ct.method {
		case "DISCONNECT", "TRANSFER", "QUEUE_TRANSFER", "EXTERNAL_OUTBOUND", "MONITOR":
			return nil, newErr(errInvalidRequest, "StopContact does not work for voice contacts initiated by %s", ct.method)
		}
	}
	// StopContactRequest.DisconnectReason: "Only Amazon Connect outbound campaigns can provide
	// this field." Elsewhere, and for codes outside the campaign list, refuse it rather than
	// record a reason the service would not.
	if code != "" && ct.campaignID == "" {
		return nil, newErr(errInvalidRequest, "DisconnectReason can only be given for an outbound campaign contact")
	}
	if code != "" && !campaignReasons[code] {
		return nil, newErr(errInvalidParameter, "DisconnectReason.Code %q is not an outbound campaign disconnect reason", code)
	}
	reason := stopReason(ct)
	if code != "" {
		reason = code
	}
	s.noteLocked(ct, OpStopContact, "")
	s.disconnectLocked(ct, reason)
	return struct{}{}, nil
}

// stopReason is the contact-record reason of a contact ended by StopContact: for voice,
// TELECOM_ORIGINATOR_CANCEL before the callee answered ("the agent/API user cancels the call
// before connecting") and OTHER after ("disconnections that API calls initiate"); for chat and
// tasks, API ("The StopContact API was called").
func stopReason(c *contact) string {
	if c.channel != ChannelVoice {
		return ReasonAPI
	}
	if c.connectedToSystem.IsZero() {
		return ReasonOriginatorCancel
	}
	return ReasonOther
}
