package connectsim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
)

// epoch renders a timestamp the way REST-JSON Connect does: epoch seconds
// as a JSON number with millisecond precision.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(fmt.Sprintf("%d.%03d", ms/1000, ms%1000)), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// instanceLocked finds an instance or answers ResourceNotFoundException.
func (s *Sim) instanceOrErr(id string) (*Instance, *apiError) {
	in := s.world.instance(id)
	if in == nil {
		return nil, newErr(errResourceNotFound, "Instance %s not found", id)
	}
	return in, nil
}

// contactLocked finds a contact of an instance or answers
// ResourceNotFoundException.
func (s *Sim) contactLocked(instanceID, contactID string) (*contact, *apiError) {
	c := s.contacts[contactID]
	if c == nil || c.instanceID != instanceID {
		return nil, newErr(errResourceNotFound, "Contact %s not found in instance %s", contactID, instanceID)
	}
	return c, nil
}

func checkAttributeShapes(ck *check, member string, attrs map[string]string) {
	for k, v := range attrs {
		if n := utf8.RuneCountInString(k); n < 1 || n > 32767 {
			ck.fail(member+".key", quoteValue(k), "Member must have length between 1 and 32767")
		}
		if utf8.RuneCountInString(v) > 32767 {
			ck.fail(member+".value", quoteValue(v), "Member must have length less than or equal to 32767")
		}
	}
}

type updateContactAttributesInput struct {
	InstanceId       *string
	InitialContactId *string
	Attributes       map[string]string
}

func (s *Sim) updateContactAttributes(c *call) (any, *apiError) {
	var in updateContactAttributesInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.required("InitialContactId", in.InitialContactId != nil)
	ck.required("InstanceId", in.InstanceId != nil)
	ck.required("Attributes", in.Attributes != nil)
	ck.length("InitialContactId", in.InitialContactId, 1, connectspec.MaxContactIDLength)
	ck.length("InstanceId", in.InstanceId, 1, connectspec.MaxInstanceIDLength)
	checkAttributeShapes(&ck, "attributes", in.Attributes)
	if e := ck.err(); e != nil {
		return nil, e
	}
	if _, e := s.instanceOrErr(*in.InstanceId); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	ct, e := s.contactLocked(*in.InstanceId, *in.InitialContactId)
	if e != nil {
		return nil, e
	}
	attrs := s.attrsLocked(ct)
	if e := checkAttributes(attrs, in.Attributes); e != nil {
		return nil, e
	}
	for k, v := range in.Attributes {
		if v == "" {
			// "You can remove an attribute by setting its value to an empty string."
			delete(attrs, k)
		} else {
			attrs[k] = v
		}
	}
	s.noteLocked(ct, OpUpdateContactAttributes, "keys="+strings.Join(slices.Sorted(maps.Keys(in.Attributes)), ","))
	s.emitLocked(ct, EventContactDataUpdated)
	return struct{}{}, nil
}

// withPathContact validates the {InstanceId}/{<idParam>} path parameters of an operation on
// one contact, finds the contact and answers f(contact), under s.mu.
func (s *Sim) withPathContact(c *call, idParam string, f func(*contact) any) (any, *apiError) {
	inst, id := c.params["InstanceId"], c.params[idParam]
	var ck check
	ck.length("InstanceId", &inst, 1, connectspec.MaxInstanceIDLength)
	ck.length(idParam, &id, 1, connectspec.MaxContactIDLength)
	if e := ck.err(); e != nil {
		return nil, e
	}
	if _, e := s.instanceOrErr(inst); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ct, e := s.contactLocked(inst, id)
	if e != nil {
		return nil, e
	}
	return f(ct), nil
}

func (s *Sim) getContactAttributes(c *call) (any, *apiError) {
	return s.withPathContact(c, "InitialContactId", func(ct *contact) any {
		return map[string]any{"Attributes": maps.Clone(s.attrsLocked(ct))}
	})
}

type endpointInfo struct {
	Type    string `json:"Type"`
	Address string `json:"Address"`
}

type describedContact struct {
	Arn                        string             `json:"Arn"`
	Id                         string             `json:"Id"`
	InitialContactId           string             `json:"InitialContactId"`
	Channel                    string             `json:"Channel"`
	InitiationMethod           string             `json:"InitiationMethod"`
	Name                       string             `json:"Name,omitempty"`
	Description                string             `json:"Description,omitempty"`
	InitiationTimestamp        *epoch             `json:"InitiationTimestamp,omitempty"`
	ConnectedToSystemTimestamp *epoch             `json:"ConnectedToSystemTimestamp,omitempty"`
	DisconnectTimestamp        *epoch             `json:"DisconnectTimestamp,omitempty"`
	LastUpdateTimestamp        *epoch             `json:"LastUpdateTimestamp,omitempty"`
	DisconnectReason           string             `json:"DisconnectReason,omitempty"`
	AMDStatus                  string             `json:"AnsweringMachineDetectionStatus,omitempty"`
	QueueInfo                  *describedQueue    `json:"QueueInfo,omitempty"`
	AgentInfo                  *describedAgent    `json:"AgentInfo,omitempty"`
	CustomerEndpoint           *endpointInfo      `json:"CustomerEndpoint,omitempty"`
	SystemEndpoint             *endpointInfo      `json:"SystemEndpoint,omitempty"`
	Campaign                   *describedCampaign `json:"Campaign,omitempty"`
	Attributes                 map[string]string  `json:"Attributes,omitempty"`
}

type describedQueue struct {
	Id               string `json:"Id"`
	EnqueueTimestamp *epoch `json:"EnqueueTimestamp,omitempty"`
}

type describedAgent struct {
	Id                        string `json:"Id"`
	ConnectedToAgentTimestamp *epoch `json:"ConnectedToAgentTimestamp,omitempty"`
}

type describedCampaign struct {
	CampaignId string `json:"CampaignId"`
}

func (s *Sim) describeContact(c *call) (any, *apiError) {
	return s.withPathContact(c, "ContactId", s.describedLocked)
}

func (s *Sim) describedLocked(ct *contact) any {
	d := describedContact{
		Arn: s.contactARN(ct.instanceID, ct.id), Id: ct.id, InitialContactId: ct.initialID,
		Channel: ct.channel, InitiationMethod: ct.method, Name: ct.name, Description: ct.description,
		InitiationTimestamp:        epochPtr(ct.initiated),
		ConnectedToSystemTimestamp: epochPtr(ct.connectedToSystem),
		DisconnectTimestamp:        epochPtr(ct.disconnected),
		LastUpdateTimestamp:        epochPtr(ct.lastUpdate),
		DisconnectReason:           ct.disconnectReason,
		AMDStatus:                  ct.amdStatus,
		Attributes:                 maps.Clone(s.attrsLocked(ct)),
	}
	if ct.queueID != "" && !ct.enqueued.IsZero() {
		d.QueueInfo = &describedQueue{Id: ct.queueID, EnqueueTimestamp: epochPtr(ct.enqueued)}
	}
	if ct.agentID != "" {
		d.AgentInfo = &describedAgent{Id: ct.agentID, ConnectedToAgentTimestamp: epochPtr(ct.connectedToAgent)}
	}
	if ct.channel == ChannelVoice {
		if ct.customer != "" {
			d.CustomerEndpoint = &endpointInfo{Type: "TELEPHONE_NUMBER", Address: ct.customer}
		}
		if ct.system != "" {
			d.SystemEndpoint = &endpointInfo{Type: "TELEPHONE_NUMBER", Address: ct.system}
		}
	}
	if ct.campaignID != "" {
		d.Campaign = &describedCampaign{CampaignId: ct.campaignID}
	}
	return map[string]any{"Contact": d}
}
