package connectsim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

const agentlessFlowID = "99999999-3333-4444-8555-666666666666"

func TestAgentlessFlowPlaysItsMessageAndHangsUp(t *testing.T) {
	t.Parallel()
	w := callWorld()
	w.Instances[0].ContactFlows = append(w.Instances[0].ContactFlows, connectsim.ContactFlow{ID: agentlessFlowID, Type: "AGENTLESS", MessageDuration: connectsim.Duration(25 * time.Second)})
	srv, cl, rec := startCalls(t, w)
	id, err := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.ContactFlowId = aws.String(agentlessFlowID) })
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Advance(10*time.Second + 24*time.Second)
	if c, _ := srv.Contact(id); c.Status != "CONNECTED_TO_SYSTEM" {
		t.Fatalf("during the message: %s", c.Status)
	}
	_ = srv.Advance(time.Second)
	d := describe(t, cl, id)
	if aws.ToString(d.DisconnectReason) != "CONTACT_FLOW_DISCONNECT" || d.QueueInfo != nil || d.AgentInfo != nil || !d.DisconnectTimestamp.Equal(t0.Add(35*time.Second)) {
		t.Fatalf("agentless call: %+v", d)
	}
	if types_(rec.forContact(id)) != "INITIATED,CONNECTED_TO_SYSTEM,DISCONNECTED,COMPLETED" {
		t.Fatalf("events: %s", types_(rec.forContact(id)))
	}
	if _, err := connectsim.ParseWorld([]byte(`{"instances": [{"id": "i", "contactFlows": [{"id": "f", "type": "IVR"}]}]}`)); err == nil {
		t.Fatal("a bad flow type was accepted")
	}
}

func TestQueuedPersonAbandonsAfterPatience(t *testing.T) {
	t.Parallel()
	w := callWorld()
	w.Calls.Patience = connectsim.Patience{Distribution: "uniform", Min: connectsim.Duration(40 * time.Second), Max: connectsim.Duration(40 * time.Second)}
	srv, cl, _ := startCalls(t, w)
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 0); err != nil {
		t.Fatal(err)
	}
	id, _ := dial(cl, numAnswer)
	_ = srv.Advance(12*time.Second + 39*time.Second) // queued at 12 s
	if m := metrics(t, cl, types.CurrentMetricNameContactsInQueue); m["CONTACTS_IN_QUEUE"] != 1 {
		t.Fatalf("before the patience runs out: %v", m)
	}
	_ = srv.Advance(time.Second)
	d := describe(t, cl, id)
	if aws.ToString(d.DisconnectReason) != "CUSTOMER_DISCONNECT" || d.AgentInfo != nil || d.QueueInfo == nil || !d.DisconnectTimestamp.Equal(t0.Add(52*time.Second)) {
		t.Fatalf("abandoned call: %+v", d)
	}
	// With an agent free, the person reaches the agent and the timestamp gives the time to agent.
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 1); err != nil {
		t.Fatal(err)
	}
	id2, _ := dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	d2 := describe(t, cl, id2)
	if d2.AgentInfo == nil || d2.AgentInfo.ConnectedToAgentTimestamp == nil || !d2.AgentInfo.ConnectedToAgentTimestamp.Equal(t0.Add(52*time.Second+12*time.Second)) {
		t.Fatalf("connected to agent: %+v", d2.AgentInfo)
	}
	_ = srv.Advance(2 * time.Minute) // past the patience: no effect once with an agent
	if r := describeReason(t, cl, id2); r != "CUSTOMER_DISCONNECT" {
		t.Fatalf("talk ended with %q", r)
	}
}

// Agents go from on call to after-contact work to available, and the admin API changes how many
// are staffed in the middle of a run; the agent metrics follow at every step.
func TestStaffedAgentsChangeDuringARun(t *testing.T) {
	t.Parallel()
	srv, cl, _ := startCalls(t, callWorld())
	agentMetrics := func() map[types.CurrentMetricName]float64 {
		return metrics(t, cl, types.CurrentMetricNameAgentsAvailable, types.CurrentMetricNameAgentsOnCall, types.CurrentMetricNameAgentsAfterContactWork,
			types.CurrentMetricNameAgentsStaffed, types.CurrentMetricNameAgentsOnline, types.CurrentMetricNameContactsInQueue)
	}
	a, _ := dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	var agents []connectsim.AgentView
	resp, _ := doJSON(t, http.MethodPut, srv.URL+"/_connectsim/agents/"+connectsim.DefaultInstanceID+"/staffed", nil, map[string]int{"count": 5}, &agents)
	if resp.StatusCode != 200 || len(agents) != 5 {
		t.Fatalf("PUT staffed 5: %d, %d agents", resp.StatusCode, len(agents))
	}
	if m := agentMetrics(); m["AGENTS_ON_CALL"] != 1 || m["AGENTS_AVAILABLE"] != 4 || m["AGENTS_STAFFED"] != 5 {
		t.Fatalf("5 staffed, one on call: %v", m)
	}
	// Down to one: the agent on the call keeps it; the others go offline.
	if resp, _ := doJSON(t, http.MethodPut, srv.URL+"/_connectsim/agents/"+connectsim.DefaultInstanceID+"/staffed", nil, map[string]int{"count": 1}, nil); resp.StatusCode != 200 {
		t.Fatalf("PUT staffed 1: %d", resp.StatusCode)
	}
	if m := agentMetrics(); m["AGENTS_ON_CALL"] != 1 || m["AGENTS_AVAILABLE"] != 0 || m["AGENTS_ONLINE"] != 1 {
		t.Fatalf("1 staffed: %v", m)
	}
	b, _ := dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	if m := agentMetrics(); m["CONTACTS_IN_QUEUE"] != 1 {
		t.Fatalf("second call waits: %v", m)
	}
	_ = srv.Advance(48 * time.Second) // the first call ends at 72 s: ACW until 102 s
	if m := agentMetrics(); m["AGENTS_AFTER_CONTACT_WORK"] != 1 || m["AGENTS_ON_CALL"] != 0 || m["CONTACTS_IN_QUEUE"] != 1 {
		t.Fatalf("in ACW: %v", m)
	}
	_ = srv.Advance(30 * time.Second)
	if m := agentMetrics(); m["AGENTS_ON_CALL"] != 1 || m["CONTACTS_IN_QUEUE"] != 0 {
		t.Fatalf("after ACW the agent takes the waiting call: %v", m)
	}
	if c, _ := srv.Contact(b); c.AgentID == "" || c.AgentID != mustContact(t, srv.Contacts(), a).AgentID {
		t.Fatalf("the second call went to %q", c.AgentID)
	}
	for _, bad := range []map[string]any{{"count": -1}, {}} {
		if resp, _ := doJSON(t, http.MethodPut, srv.URL+"/_connectsim/agents/"+connectsim.DefaultInstanceID+"/staffed", nil, bad, nil); resp.StatusCode != 400 {
			t.Errorf("PUT staffed %v: %d", bad, resp.StatusCode)
		}
	}
}

func mustContact(t *testing.T, cs []connectsim.ContactView, id string) connectsim.ContactView {
	t.Helper()
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no contact %s", id)
	return connectsim.ContactView{}
}

func TestContactDataUpdatedAfterUpdateContactAttributes(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, callWorld())
	id, _ := dial(cl, numAnswer)
	_, err := cl.UpdateContactAttributes(context.Background(), &connect.UpdateContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(id), Attributes: map[string]string{"outcome": "confirmed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Drain(5 * time.Second)
	evs := rec.forContact(id)
	if types_(evs) != "INITIATED,CONTACT_DATA_UPDATED" {
		t.Fatalf("events: %s", types_(evs))
	}
	d := evs[1].Detail
	if len(d.UpdatedProperties) != 1 || d.UpdatedProperties[0] != "UserDefinedAttributes" || d.ContactID != id || d.Tags["aws:connect:instanceId"] != connectsim.DefaultInstanceID {
		t.Fatalf("CONTACT_DATA_UPDATED: %+v", d)
	}
	b, _ := json.Marshal(evs[1])
	if !strings.Contains(string(b), `"updatedProperties":["UserDefinedAttributes"]`) || !strings.Contains(string(b), `"tags":{`) {
		t.Fatalf("JSON: %s", b)
	}
	// Inbound contacts made with CreateContact emit no events, as before.
	c, _ := srv.CreateContact(connectsim.NewContact{})
	_, _ = cl.UpdateContactAttributes(context.Background(), &connect.UpdateContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID), Attributes: map[string]string{"a": "b"},
	})
	srv.Drain(5 * time.Second)
	if n := len(rec.forContact(c.ID)); n != 0 {
		t.Fatalf("%d events for a CreateContact contact", n)
	}
}
