package connectsim_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/safeharbour"
)

const (
	safeHarbourFlowID = "55555555-3333-4444-8555-666666666666"
	campaignMessage   = "This is Acme Insurance. Sorry we missed you: please call us on 1-800-555-0100."
)

// safeHarbourWorld is callWorld with a SAFE_HARBOUR flow (default threshold 2 s, message 8 s)
// working on the default queue.
func safeHarbourWorld(f connectsim.ContactFlow) connectsim.World {
	w := callWorld()
	f.ID, f.Type = safeHarbourFlowID, connectsim.FlowSafeHarbour
	w.Instances[0].ContactFlows = append(w.Instances[0].ContactFlows, f)
	return w
}

func viaSafeHarbour(in *connect.StartOutboundVoiceContactInput) {
	in.ContactFlowId = aws.String(safeHarbourFlowID)
	in.CampaignId = aws.String("campaign-1")
	in.Attributes = map[string]string{safeharbour.AttrMessage: campaignMessage}
}

func attributes(t *testing.T, cl *connect.Client, id string) map[string]string {
	t.Helper()
	out, err := cl.GetContactAttributes(context.Background(), &connect.GetContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func historyHas(c connectsim.ContactView, event, detail string) bool {
	for _, h := range c.History {
		if h.Event == event && strings.Contains(h.Detail, detail) {
			return true
		}
	}
	return false
}

// Issue 19: the answered call waits in the queue; no agent takes it within 2 s, so it hears the
// campaign's message for 8 s and is hung up by the flow, with no agent in its record or events.
func TestSafeHarbourFlowPlaysTheMessageWhenNoAgentTakesTheCall(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, safeHarbourWorld(connectsim.ContactFlow{}))
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 0); err != nil {
		t.Fatal(err)
	}
	id, err := dial(cl, numAnswer, viaSafeHarbour)
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Advance(10*time.Second + 1999*time.Millisecond) // answered at 10 s and queued at once
	if c, _ := srv.Contact(id); c.Status != "QUEUED" || !c.SafeHarbourTimestamp.IsZero() || !c.EnqueueTimestamp.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("within the threshold: %s, safe harbour at %v, queued at %v", c.Status, c.SafeHarbourTimestamp, c.EnqueueTimestamp)
	}
	_ = srv.Advance(time.Millisecond)
	c, _ := srv.Contact(id)
	if !c.SafeHarbourTimestamp.Equal(t0.Add(12*time.Second)) || !historyHas(c, "SAFE_HARBOUR", safeharbour.OutcomeThreshold+", campaign message") {
		t.Fatalf("at the threshold: safe harbour at %v, history %+v", c.SafeHarbourTimestamp, c.History)
	}
	if a := attributes(t, cl, id); a[safeharbour.AttrOutcome] != safeharbour.OutcomeThreshold {
		t.Fatalf("attributes %v, want %s=%s", a, safeharbour.AttrOutcome, safeharbour.OutcomeThreshold)
	}
	_ = srv.Advance(8*time.Second - time.Millisecond)
	if c, _ := srv.Contact(id); c.Status == "DISCONNECTED" {
		t.Fatal("hung up before the message ended")
	}
	_ = srv.Advance(time.Millisecond)
	d := describe(t, cl, id)
	if aws.ToString(d.DisconnectReason) != "CONTACT_FLOW_DISCONNECT" || d.AgentInfo != nil || d.QueueInfo == nil || !d.DisconnectTimestamp.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("DescribeContact: reason %s, agent %+v, queue %+v, disconnected %v", aws.ToString(d.DisconnectReason), d.AgentInfo, d.QueueInfo, d.DisconnectTimestamp)
	}
	evs := rec.forContact(id)
	if types_(evs) != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,DISCONNECTED,COMPLETED" {
		t.Fatalf("events: %s", types_(evs))
	}
	if dis := evs[3].Detail; dis.AgentInfo != nil || dis.QueueInfo == nil || dis.DisconnectReason != "" {
		t.Fatalf("DISCONNECTED: agent %+v, queue %+v, reason %q (ordinary calls carry none)", dis.AgentInfo, dis.QueueInfo, dis.DisconnectReason)
	}
	c, _ = srv.Contact(id)
	if c.AnsweredBy != connectsim.AnsweredByPerson || !c.FlowStartTimestamp.Equal(t0.Add(10*time.Second)) || c.AgentID != "" {
		t.Fatalf("record: answered by %q, flow start %v, agent %q", c.AnsweredBy, c.FlowStartTimestamp, c.AgentID)
	}
}

// An agent who is free takes the call at once; one who is free only after the threshold still
// takes it while the message plays (the contact stays in the queue), and the call counts as
// abandoned all the same.
func TestSafeHarbourFlowConnectsAnAgentInTimeOrLate(t *testing.T) {
	t.Parallel()
	srv, cl, _ := startCalls(t, safeHarbourWorld(connectsim.ContactFlow{Threshold: connectsim.Duration(3 * time.Second)}))
	inTime, _ := dial(cl, numAnswer, viaSafeHarbour)
	_ = srv.Advance(10 * time.Second)
	if c, _ := srv.Contact(inTime); c.Status != "CONNECTED_TO_AGENT" || !c.ConnectedToAgentTimestamp.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("an agent was free: %s at %v", c.Status, c.ConnectedToAgentTimestamp)
	}

	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 1); err != nil { // the one on the call
		t.Fatal(err)
	}
	late, _ := dial(cl, numAnswer, viaSafeHarbour)
	_ = srv.Advance(10*time.Second + 3*time.Second + 2*time.Second) // queued at 20 s, message from 23 s
	if c, _ := srv.Contact(late); c.SafeHarbourTimestamp.IsZero() || c.Status != "QUEUED" {
		t.Fatalf("the late call: %s, safe harbour at %v", c.Status, c.SafeHarbourTimestamp)
	}
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 2); err != nil { // at 25 s, during the message
		t.Fatal(err)
	}
	c, _ := srv.Contact(late)
	if c.Status != "CONNECTED_TO_AGENT" || !c.ConnectedToAgentTimestamp.Equal(t0.Add(25*time.Second)) {
		t.Fatalf("an agent free during the message: %s at %v", c.Status, c.ConnectedToAgentTimestamp)
	}
	_ = srv.Advance(10 * time.Second) // past the message's end: the agent's call goes on
	if r := describeReason(t, cl, late); r != "" {
		t.Fatalf("the message's end hung up the agent's call: %s", r)
	}

	rep, err := srv.Abandonment(connectsim.AbandonmentQuery{Threshold: 3 * time.Second, Contacts: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Calls != 2 || rep.AnsweredByPerson != 2 || rep.ConnectedInTime != 1 || rep.Abandoned != 1 || rep.SafeHarbourMessages != 1 || rep.Rate != 0.5 {
		t.Fatalf("report: %+v", rep)
	}
	for _, row := range rep.Contacts {
		want := row.ContactID == late
		if row.Abandoned == nil || *row.Abandoned != want || row.SecondsToAgent == nil {
			t.Errorf("row %+v", row)
		}
		if row.ContactID == late && *row.SecondsToAgent != 5 {
			t.Errorf("late call reached its agent after %v s, want 5", *row.SecondsToAgent)
		}
	}
}

// A call that cannot be queued (no queue: the transfer fails) hears the default message at once;
// the flow's queue delay and message length are the world's.
func TestSafeHarbourFlowWithoutAQueuePlaysTheDefaultAtOnce(t *testing.T) {
	t.Parallel()
	w := safeHarbourWorld(connectsim.ContactFlow{QueueDelay: connectsim.Duration(500 * time.Millisecond), MessageDuration: connectsim.Duration(6 * time.Second)})
	srv, cl, rec := startCalls(t, w)
	id, err := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
		in.ContactFlowId = aws.String(safeHarbourFlowID)
		in.QueueId = nil
		in.SourcePhoneNumber = aws.String(connectsim.DefaultPhoneNumber)
		in.Attributes = map[string]string{safeharbour.AttrMessage: "x"} // one word: the default plays
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Advance(10*time.Second + 500*time.Millisecond)
	c, _ := srv.Contact(id)
	if !c.SafeHarbourTimestamp.Equal(t0.Add(10500*time.Millisecond)) || !historyHas(c, "SAFE_HARBOUR", safeharbour.OutcomeNotQueued+", default message") {
		t.Fatalf("not queued: safe harbour at %v, history %+v", c.SafeHarbourTimestamp, c.History)
	}
	_ = srv.Advance(6 * time.Second)
	d := describe(t, cl, id)
	if aws.ToString(d.DisconnectReason) != "CONTACT_FLOW_DISCONNECT" || d.QueueInfo != nil || !d.DisconnectTimestamp.Equal(t0.Add(16500*time.Millisecond)) {
		t.Fatalf("DescribeContact: %s, queue %+v, at %v", aws.ToString(d.DisconnectReason), d.QueueInfo, d.DisconnectTimestamp)
	}
	if types_(rec.forContact(id)) != "INITIATED,CONNECTED_TO_SYSTEM,DISCONNECTED,COMPLETED" {
		t.Fatalf("events: %s", types_(rec.forContact(id)))
	}
	if a := attributes(t, cl, id); a[safeharbour.AttrOutcome] != safeharbour.OutcomeNotQueued {
		t.Fatalf("attributes %v", a)
	}
}

func TestSafeHarbourFlowInTheWorldFile(t *testing.T) {
	w, err := connectsim.ParseWorld([]byte(`{"instances": [{"id": "i", "queues": [{"id": "q"}],
		"contactFlows": [{"id": "f", "type": "SAFE_HARBOUR", "queueId": "q", "threshold": "3s", "messageDuration": "10s", "queueDelay": "250ms"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if f := w.Instances[0].ContactFlows[0]; f.Threshold.D() != 3*time.Second || f.QueueDelay.D() != 250*time.Millisecond {
		t.Fatalf("flow %+v", f)
	}
	for flows, want := range map[string]string{
		`[{"id": "f", "type": "SAFE_HARBOUR", "threshold": "1500ms"}]`: "whole seconds",
		`[{"id": "f", "type": "SAFE_HARBOUR", "threshold": "61s"}]`:    "whole seconds",
		`[{"id": "f", "threshold": "2s"}]`:                             "for SAFE_HARBOUR flows",
		`[{"id": "f", "type": "AGENTLESS", "queueDelay": "1s"}]`:       "for SAFE_HARBOUR flows",
		`[{"id": "f", "type": "SAFE_HARBOUR", "queueDelay": "-1s"}]`:   "queueDelay must not be negative",
		`[{"id": "f", "type": "SAFEHARBOUR"}]`:                         "QUEUE, AGENTLESS or SAFE_HARBOUR",
	} {
		_, err := connectsim.ParseWorld([]byte(`{"instances": [{"id": "i", "contactFlows": ` + flows + `}]}`))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", flows, err, want)
		}
	}
}

// The admin API measures abandonment from connectsim's own record: by who answered (not what
// detection said), per campaign and initiation window, from the answer or from the flow's start.
func TestAbandonmentFromTheRecord(t *testing.T) {
	t.Parallel()
	w := safeHarbourWorld(connectsim.ContactFlow{})
	const numVoicemail, numFalsePositive = "+15555550115", "+15555550116"
	w.Calls.NumberOutcomes[numVoicemail] = "VOICEMAIL"
	w.Calls.NumberOutcomes[numFalsePositive] = "ANSWERED"
	srv, cl, _ := startCalls(t, w)
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 1); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	ids["inTime"], _ = dial(cl, numAnswer, viaSafeHarbour)       // the agent at 10 s
	ids["abandoned"], _ = dial(cl, numAnswer, viaSafeHarbour)    // no agent: message at 12 s
	ids["voicemail"], _ = dial(cl, numVoicemail, viaSafeHarbour) // a machine: message too, not counted
	ids["unanswered"], _ = dial(cl, numNoAnswer, viaSafeHarbour)
	ids["other"], _ = dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
		viaSafeHarbour(in)
		in.CampaignId = aws.String("campaign-2")
	})
	_ = srv.Advance(11 * time.Second)
	// Within the threshold the waiting calls are undecided.
	var rep connectsim.AbandonmentReport
	if resp, b := doJSON(t, http.MethodGet, srv.URL+"/_connectsim/abandonment?campaignId=campaign-1", nil, nil, &rep); resp.StatusCode != 200 {
		t.Fatalf("GET abandonment: %d %s", resp.StatusCode, b)
	}
	if rep.Calls != 4 || rep.AnsweredByPerson != 2 || rep.AnsweredByMachine != 1 || rep.ConnectedInTime != 1 || rep.Undecided != 1 || rep.Abandoned != 0 || !rep.Complete {
		t.Fatalf("at 11 s: %+v", rep)
	}
	_ = srv.Advance(2 * time.Minute)
	// A person the dialer hangs up on (as after a detection that took them for a machine) is
	// abandoned too.
	before := srv.Contacts()
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 0); err != nil {
		t.Fatal(err)
	}
	fp, _ := dial(cl, numFalsePositive, viaSafeHarbour)
	_ = srv.Advance(10 * time.Second)
	if _, err := cl.StopContact(context.Background(), &connect.StopContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(fp)}); err != nil {
		t.Fatal(err)
	}

	q := url.Values{"threshold": {"2s"}, "campaignId": {"campaign-1"}, "contacts": {"true"}}
	if resp, b := doJSON(t, http.MethodGet, srv.URL+"/_connectsim/abandonment?"+q.Encode(), nil, nil, &rep); resp.StatusCode != 200 {
		t.Fatalf("GET abandonment: %d %s", resp.StatusCode, b)
	}
	if rep.Calls != 5 || rep.AnsweredByPerson != 3 || rep.AnsweredByMachine != 1 || rep.ConnectedInTime != 1 || rep.Abandoned != 2 ||
		rep.Undecided != 0 || rep.SafeHarbourMessages != 2 || rep.Rate != 2.0/3 || len(rep.Contacts) != 5 || rep.Threshold.D() != 2*time.Second {
		t.Fatalf("campaign-1: %+v", rep)
	}
	for _, row := range rep.Contacts {
		switch row.ContactID {
		case ids["voicemail"]:
			if row.AnsweredBy != connectsim.AnsweredByMachine || row.Abandoned != nil || row.SafeHarbourTimestamp.IsZero() {
				t.Errorf("voicemail row %+v", row)
			}
		case ids["unanswered"]:
			if row.AnsweredBy != "" || row.Abandoned != nil || !row.AnsweredTimestamp.IsZero() {
				t.Errorf("unanswered row %+v", row)
			}
		case fp:
			if row.Abandoned == nil || !*row.Abandoned || row.DisconnectReason != "OTHER" {
				t.Errorf("stopped person row %+v", row)
			}
		}
	}
	// The window is by initiation: the later call alone.
	later := before[len(before)-1].InitiationTimestamp.Add(time.Second)
	q = url.Values{"from": {later.Format(time.RFC3339)}, "to": {later.Add(time.Hour).Format(time.RFC3339)}}
	if resp, _ := doJSON(t, http.MethodGet, srv.URL+"/_connectsim/abandonment?"+q.Encode(), nil, nil, &rep); resp.StatusCode != 200 || rep.Calls != 1 || rep.Abandoned != 1 || rep.Rate != 1 {
		t.Fatalf("window: %+v", rep)
	}
	for _, bad := range []string{"threshold=soon", "threshold=0", "from=yesterday", "startPoint=greeting", "contacts=maybe", "campaign=x",
		"from=2025-03-10T15:00:00Z&to=2025-03-10T14:00:00Z"} {
		if resp, _ := doJSON(t, http.MethodGet, srv.URL+"/_connectsim/abandonment?"+bad, nil, nil, nil); resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}

// With answering machine detection the flow starts at the detection's result: measured from the
// answer every such call misses 2 s, measured from the flow's start it does not.
func TestAbandonmentStartPoint(t *testing.T) {
	t.Parallel()
	w := safeHarbourWorld(connectsim.ContactFlow{})
	w.Calls.AMD = connectsim.AMDProfile{DetectionDelay: connectsim.Duration(3 * time.Second)}
	srv, cl, _ := startCalls(t, w)
	id, err := dial(cl, numAnswer, viaSafeHarbour, func(in *connect.StartOutboundVoiceContactInput) {
		in.TrafficType = types.TrafficTypeCampaign
		in.AnswerMachineDetectionConfig = &types.AnswerMachineDetectionConfig{EnableAnswerMachineDetection: true}
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Advance(11 * time.Second) // answered at 10 s, detection until 13 s
	rep, _ := srv.Abandonment(connectsim.AbandonmentQuery{StartPoint: connectsim.StartFlow})
	if rep.Undecided != 1 {
		t.Fatalf("during detection, from the flow's start: %+v", rep)
	}
	_ = srv.Advance(2 * time.Second)
	c, _ := srv.Contact(id)
	if !c.FlowStartTimestamp.Equal(t0.Add(13*time.Second)) || !c.ConnectedToAgentTimestamp.Equal(t0.Add(13*time.Second)) {
		t.Fatalf("flow start %v, agent %v", c.FlowStartTimestamp, c.ConnectedToAgentTimestamp)
	}
	fromAnswer, _ := srv.Abandonment(connectsim.AbandonmentQuery{})
	fromFlow, _ := srv.Abandonment(connectsim.AbandonmentQuery{StartPoint: connectsim.StartFlow})
	if fromAnswer.Abandoned != 1 || fromFlow.Abandoned != 0 || fromFlow.ConnectedInTime != 1 || fromAnswer.StartPoint != "answer" {
		t.Fatalf("from the answer %+v; from the flow %+v", fromAnswer, fromFlow)
	}
}

// A report over forgotten contacts says it is incomplete.
func TestAbandonmentSaysWhenTheRecordForgot(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{World: safeHarbourWorld(connectsim.ContactFlow{}), DisableThrottling: true, RetainContacts: 4})
	for range 6 {
		if _, err := dial(cl, numBusy, viaSafeHarbour); err != nil {
			t.Fatal(err)
		}
		_ = srv.Advance(5 * time.Second)
	}
	all, _ := srv.Abandonment(connectsim.AbandonmentQuery{})
	recent, _ := srv.Abandonment(connectsim.AbandonmentQuery{From: t0.Add(26 * time.Second)})
	if all.Complete || !recent.Complete || recent.Calls != 0 {
		t.Fatalf("all %+v; recent %+v", all, recent)
	}
}
