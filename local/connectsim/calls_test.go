package connectsim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
)

const (
	numAnswer   = "+15555550111"
	numNoAnswer = "+15555550112"
	numBusy     = "+15555550113"
	numFail     = "+15555550114"
)

// callWorld is the default world with fixed timings, forced outcomes and people who never
// abandon the queue.
func callWorld() connectsim.World {
	w := connectsim.DefaultWorld()
	w.Calls.RingMin, w.Calls.RingMax = connectsim.Duration(10*time.Second), connectsim.Duration(10*time.Second)
	w.Calls.FlowDelay = connectsim.Duration(2 * time.Second)
	w.Calls.TalkMin, w.Calls.TalkMax = connectsim.Duration(60*time.Second), connectsim.Duration(60*time.Second)
	w.Calls.AfterContactWork = connectsim.Duration(30 * time.Second)
	w.Calls.NumberOutcomes = map[string]string{numAnswer: "ANSWERED", numNoAnswer: "NO_ANSWER", numBusy: "BUSY", numFail: "FAILED"}
	w.Calls.Patience = connectsim.Patience{Distribution: connectsim.PatienceNone}
	return w
}

// recorder collects events from OnEvent.
type recorder struct {
	mu  sync.Mutex
	evs []connectsim.Event
}

func (r *recorder) on(ev connectsim.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) forContact(id string) []connectsim.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []connectsim.Event
	for _, e := range r.evs {
		if e.Detail.ContactID == id {
			out = append(out, e)
		}
	}
	return out
}

func types_(evs []connectsim.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Detail.EventType)
	}
	return strings.Join(s, ",")
}

func startCalls(t *testing.T, w connectsim.World) (*simtest.Server, *connect.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv, cl := start(t, connectsim.Options{World: w, OnEvent: rec.on, DisableThrottling: true, Seed: 7})
	return srv, cl, rec
}

func dial(cl *connect.Client, to string, mod ...func(*connect.StartOutboundVoiceContactInput)) (string, error) {
	in := &connect.StartOutboundVoiceContactInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), ContactFlowId: aws.String(connectsim.DefaultContactFlowID),
		QueueId: aws.String(connectsim.DefaultQueueID), DestinationPhoneNumber: aws.String(to),
	}
	for _, m := range mod {
		m(in)
	}
	out, err := cl.StartOutboundVoiceContact(context.Background(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ContactId), nil
}

func metrics(t *testing.T, cl *connect.Client, names ...types.CurrentMetricName) map[types.CurrentMetricName]float64 {
	t.Helper()
	var ms []types.CurrentMetric
	for _, n := range names {
		ms = append(ms, types.CurrentMetric{Name: n})
	}
	out, err := cl.GetCurrentMetricData(context.Background(), &connect.GetCurrentMetricDataInput{
		InstanceId:     aws.String(connectsim.DefaultInstanceID),
		Filters:        &types.Filters{Queues: []string{connectsim.DefaultQueueID}},
		CurrentMetrics: ms,
	})
	if err != nil {
		t.Fatalf("GetCurrentMetricData: %v", err)
	}
	if len(out.MetricResults) != 1 {
		t.Fatalf("%d metric results", len(out.MetricResults))
	}
	v := map[types.CurrentMetricName]float64{}
	for _, c := range out.MetricResults[0].Collections {
		v[c.Metric.Name] = aws.ToFloat64(c.Value)
	}
	return v
}

func TestAnsweredCallLifecycle(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, callWorld())
	id, err := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
		in.Attributes = map[string]string{"campaign": "reminder"}
		in.CampaignId = aws.String("camp-1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Drain(5 * time.Second) {
		t.Fatal("drain timed out")
	}
	if got := types_(rec.forContact(id)); got != "INITIATED" {
		t.Fatalf("events after dialing: %s", got)
	}
	c, _ := srv.Contact(id)
	if c.Status != "INITIATED" || c.InitiationMethod != "API" || c.Attributes["campaign"] != "reminder" || c.SystemNumber != connectsim.DefaultPhoneNumber {
		t.Fatalf("contact = %+v", c)
	}
	_ = srv.Advance(10 * time.Second)
	if got := types_(rec.forContact(id)); got != "INITIATED,CONNECTED_TO_SYSTEM" {
		t.Fatalf("after ringing: %s", got)
	}
	_ = srv.Advance(2 * time.Second)
	if got := types_(rec.forContact(id)); got != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,CONNECTED_TO_AGENT" {
		t.Fatalf("after the flow: %s", got)
	}
	m := metrics(t, cl, types.CurrentMetricNameAgentsOnCall, types.CurrentMetricNameAgentsAvailable, types.CurrentMetricNameAgentsOnline, types.CurrentMetricNameSlotsActive)
	if m["AGENTS_ON_CALL"] != 1 || m["AGENTS_AVAILABLE"] != 2 || m["AGENTS_ONLINE"] != 3 || m["SLOTS_ACTIVE"] != 1 {
		t.Fatalf("metrics during the call: %v", m)
	}
	_ = srv.Advance(60 * time.Second)
	evs := rec.forContact(id)
	if got := types_(evs); got != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,CONNECTED_TO_AGENT,DISCONNECTED" {
		t.Fatalf("after talking: %s", got)
	}
	m = metrics(t, cl, types.CurrentMetricNameAgentsAfterContactWork, types.CurrentMetricNameAgentsAvailable, types.CurrentMetricNameAgentsOnCall)
	if m["AGENTS_AFTER_CONTACT_WORK"] != 1 || m["AGENTS_AVAILABLE"] != 2 || m["AGENTS_ON_CALL"] != 0 {
		t.Fatalf("metrics in ACW: %v", m)
	}
	_ = srv.Advance(30 * time.Second)
	if m = metrics(t, cl, types.CurrentMetricNameAgentsAvailable); m["AGENTS_AVAILABLE"] != 3 {
		t.Fatalf("metrics after ACW: %v", m)
	}
	// COMPLETED once the agent ends after-contact work, with the ACW fields.
	all := rec.forContact(id)
	if types_(all) != types_(evs)+",COMPLETED" {
		t.Fatalf("after ACW: %s", types_(all))
	}
	if a := all[5].Detail.AgentInfo; a == nil || a.AfterContactWorkStartTimestamp != "2025-03-10T14:01:12.000Z" || a.AfterContactWorkEndTimestamp != "2025-03-10T14:01:42.000Z" ||
		a.AfterContactWorkDuration == nil || *a.AfterContactWorkDuration != 30 || all[5].Detail.DisconnectTimestamp != last0(evs).Detail.DisconnectTimestamp {
		t.Fatalf("COMPLETED agentInfo: %+v", all[5].Detail.AgentInfo)
	}
	if tags := all[5].Detail.Tags; tags["aws:connect:instanceId"] != connectsim.DefaultInstanceID || tags["aws:connect:systemEndpoint"] != connectsim.DefaultPhoneNumber {
		t.Fatalf("tags: %v", tags)
	}

	// Envelope and detail fields.
	arn := srv.InstanceARN(connectsim.DefaultInstanceID)
	for i, e := range evs {
		if e.Version != "0" || e.Source != "aws.connect" || e.DetailType != "Amazon Connect Contact Event" ||
			e.Account != connectsim.DefaultAccountID || e.Region != "us-east-1" || e.ID == "" ||
			len(e.Resources) != 2 || e.Resources[0] != arn+"/contact/"+id || e.Resources[1] != arn {
			t.Fatalf("event %d envelope: %+v", i, e)
		}
		d := e.Detail
		if d.ContactID != id || d.InitialContactID != id || d.Channel != "VOICE" || d.InitiationMethod != "API" || d.InstanceARN != arn ||
			d.InitiationTimestamp != "2025-03-10T14:00:00.000Z" || d.Campaign == nil || d.Campaign.CampaignID != "camp-1" {
			t.Fatalf("event %d detail: %+v", i, d)
		}
	}
	if evs[0].Detail.ConnectedToSystemTimestamp != "" || evs[0].Time != "2025-03-10T14:00:00Z" {
		t.Fatalf("INITIATED: %+v", evs[0])
	}
	if evs[1].Detail.ConnectedToSystemTimestamp != "2025-03-10T14:00:10.000Z" {
		t.Fatalf("CONNECTED_TO_SYSTEM: %+v", evs[1].Detail)
	}
	if q := evs[2].Detail.QueueInfo; q == nil || q.QueueARN != arn+"/queue/"+connectsim.DefaultQueueID || q.EnqueueTimestamp != "2025-03-10T14:00:12.000Z" || q.QueueType != "STANDARD" {
		t.Fatalf("QUEUED queueInfo: %+v", evs[2].Detail.QueueInfo)
	}
	if a := evs[3].Detail.AgentInfo; a == nil || !strings.HasPrefix(a.AgentARN, arn+"/agent/") || a.ConnectedToAgentTimestamp != "2025-03-10T14:00:12.000Z" {
		t.Fatalf("CONNECTED_TO_AGENT agentInfo: %+v", evs[3].Detail.AgentInfo)
	}
	last := evs[4].Detail
	if last.DisconnectTimestamp != "2025-03-10T14:01:12.000Z" || last.ConnectedToSystemTimestamp == "" || last.DisconnectReason != "" || last.AgentInfo == nil {
		t.Fatalf("DISCONNECTED: %+v", last)
	}
	b, _ := json.Marshal(evs[4])
	for _, key := range []string{`"detail-type":`, `"connectedToSystemTimestamp":`, `"disconnectTimestamp":`, `"initiationMethod":"API"`, `"eventType":"DISCONNECTED"`} {
		if !strings.Contains(string(b), key) {
			t.Fatalf("JSON lacks %s: %s", key, b)
		}
	}

	out, err := cl.DescribeContact(context.Background(), &connect.DescribeContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Contact
	if d.InitiationMethod != types.ContactInitiationMethodApi || d.ConnectedToSystemTimestamp == nil || !d.ConnectedToSystemTimestamp.Equal(t0.Add(10*time.Second)) ||
		d.DisconnectTimestamp == nil || aws.ToString(d.DisconnectReason) != "CUSTOMER_DISCONNECT" || d.AgentInfo == nil || d.QueueInfo == nil ||
		aws.ToString(d.CustomerEndpoint.Address) != numAnswer || d.Campaign == nil {
		t.Fatalf("DescribeContact = %+v", d)
	}
}

func TestUnansweredOutcomes(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, callWorld())
	noAns, err := dial(cl, numNoAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.RingTimeoutInSeconds = aws.Int32(20) })
	if err != nil {
		t.Fatal(err)
	}
	busy, _ := dial(cl, numBusy)
	failed, _ := dial(cl, numFail)
	_ = srv.Advance(time.Second)
	_ = srv.Advance(2 * time.Second)
	_ = srv.Advance(17 * time.Second)
	want := map[string]struct {
		reason string
		at     string
	}{
		noAns:  {"TELECOM_TIMEOUT", "2025-03-10T14:00:20.000Z"},
		busy:   {"TELECOM_BUSY", "2025-03-10T14:00:03.000Z"},
		failed: {"TELECOM_PROBLEM", "2025-03-10T14:00:01.000Z"},
	}
	for id, w := range want {
		evs := rec.forContact(id)
		if got := types_(evs); got != "INITIATED,DISCONNECTED,COMPLETED" {
			t.Fatalf("%s: %s", w.reason, got)
		}
		d := evs[1].Detail
		// The event carries no disconnectReason (only outbound-campaign media failures do);
		// DescribeContact tells the reason.
		if d.ConnectedToSystemTimestamp != "" || d.DisconnectReason != "" || d.DisconnectTimestamp != w.at || d.QueueInfo != nil {
			t.Fatalf("%s: %+v", w.reason, d)
		}
		if r := describeReason(t, cl, id); r != w.reason {
			t.Fatalf("DescribeContact DisconnectReason = %q, want %q", r, w.reason)
		}
	}
	// Answered with a ring time over the ring timeout: no answer.
	w := callWorld()
	w.Calls.RingMin, w.Calls.RingMax = connectsim.Duration(30*time.Second), connectsim.Duration(30*time.Second)
	srv2, cl2, rec2 := startCalls(t, w)
	id, _ := dial(cl2, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.RingTimeoutInSeconds = aws.Int32(15) })
	_ = srv2.Advance(15 * time.Second)
	if evs := rec2.forContact(id); types_(evs) != "INITIATED,DISCONNECTED,COMPLETED" || describeReason(t, cl2, id) != "TELECOM_TIMEOUT" {
		t.Fatalf("ring timeout: %s", types_(evs))
	}
	if c, _ := srv2.Contact(id); c.Outcome != "NO_ANSWER" {
		t.Fatalf("outcome = %s", c.Outcome)
	}
}

func TestStopContact(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, callWorld())
	ctx := context.Background()
	id, _ := dial(cl, numAnswer)
	_ = srv.Advance(5 * time.Second)
	stop := func(id string) error {
		_, err := cl.StopContact(ctx, &connect.StopContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(id)})
		return err
	}
	if err := stop(id); err != nil {
		t.Fatal(err)
	}
	_ = srv.Advance(10 * time.Minute)
	evs := rec.forContact(id)
	if types_(evs) != "INITIATED,DISCONNECTED,COMPLETED" || evs[1].Detail.DisconnectReason != "" || evs[1].Detail.ConnectedToSystemTimestamp != "" {
		t.Fatalf("events: %s %+v", types_(evs), evs)
	}
	// Stopped while ringing: the API user cancelled before connecting.
	if r := describeReason(t, cl, id); r != "TELECOM_ORIGINATOR_CANCEL" {
		t.Fatalf("reason of a call stopped while ringing = %q", r)
	}
	e := mustAs[*types.ContactNotFoundException](t, stop(id))
	if e.ErrorCode() != "ContactNotFoundException" {
		t.Fatal(e)
	}
	mustAs[*types.ContactNotFoundException](t, stop("00000000-0000-4000-8000-000000000000"))
	_, err := cl.StopContact(ctx, &connect.StopContactInput{InstanceId: aws.String("nope"), ContactId: aws.String(id)})
	mustAs[*types.ResourceNotFoundException](t, err)

	// Stopping a call with an agent puts the agent into ACW.
	id2, _ := dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	if err := stop(id2); err != nil {
		t.Fatal(err)
	}
	if m := metrics(t, cl, types.CurrentMetricNameAgentsAfterContactWork, types.CurrentMetricNameAgentsOnCall); m["AGENTS_AFTER_CONTACT_WORK"] != 1 || m["AGENTS_ON_CALL"] != 0 {
		t.Fatalf("metrics after stop: %v", m)
	}
	// Stopped after it connected: OTHER, "disconnections that API calls initiate".
	if r := describeReason(t, cl, id2); r != "OTHER" {
		t.Fatalf("reason of a connected call stopped = %q", r)
	}
	// An inbound contact made with CreateContact can be stopped too.
	c, _ := srv.CreateContact(connectsim.NewContact{})
	if err := stop(c.ID); err != nil {
		t.Fatal(err)
	}
	if v, _ := srv.Contact(c.ID); v.Status != "DISCONNECTED" || v.DisconnectReason != "OTHER" {
		t.Fatalf("inbound contact after stop: %+v", v)
	}
	chat, _ := srv.CreateContact(connectsim.NewContact{Channel: connectsim.ChannelChat})
	if err := stop(chat.ID); err != nil {
		t.Fatal(err)
	}
	if v, _ := srv.Contact(chat.ID); v.DisconnectReason != "API" {
		t.Fatalf("chat after stop: %+v", v)
	}
	// A raw 410 on the wire.
	resp, _ := doJSON(t, http.MethodPost, srv.URL+"/contact/stop", map[string]string{"Authorization": fakeSigV4},
		map[string]string{"InstanceId": connectsim.DefaultInstanceID, "ContactId": id}, nil)
	if resp.StatusCode != 410 || resp.Header.Get("X-Amzn-ErrorType") != "ContactNotFoundException" {
		t.Fatalf("raw second stop: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

func TestIdempotentClientToken(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, callWorld())
	tok := func(in *connect.StartOutboundVoiceContactInput) {
		in.ClientToken = aws.String("campaign-1/recipient-9/attempt-1")
	}
	a, err := dial(cl, numNoAnswer, tok)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial(cl, numNoAnswer, tok)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("replay gave %s, first call %s", b, a)
	}
	srv.Drain(5 * time.Second)
	if n := len(srv.Contacts()); n != 1 {
		t.Fatalf("%d contacts after a replay", n)
	}
	if got := types_(rec.forContact(a)); got != "INITIATED" {
		t.Fatalf("events: %s", got)
	}
	// A different token is a different call.
	c, _ := dial(cl, numNoAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.ClientToken = aws.String("other") })
	if c == a {
		t.Fatal("different token, same contact")
	}
	// After the call ended, the default (clientTokenAfterEnd new-contact, the older API
	// reference's "If the contact is disconnected, a new contact is started") places a second
	// call, which the token then names.
	_ = srv.Advance(2 * time.Minute)
	again, err := dial(cl, numNoAnswer, tok)
	if err != nil || again == a || again == "" {
		t.Fatalf("replay after the call ended: %q, %v; want a new contact", again, err)
	}
	if replay, _ := dial(cl, numNoAnswer, tok); replay != again {
		t.Fatalf("replay while the second call rings: %s, want %s", replay, again)
	}
	if n := len(srv.Contacts()); n != 3 {
		t.Fatalf("%d contacts", n)
	}
}

func TestClientTokenAfterEndSameContact(t *testing.T) {
	t.Parallel()
	w := callWorld()
	w.ClientTokenAfterEnd = connectsim.TokenSameContact
	srv, cl, _ := startCalls(t, w)
	tok := func(in *connect.StartOutboundVoiceContactInput) { in.ClientToken = aws.String("c1/r9/a1") }
	a, _ := dial(cl, numNoAnswer, tok)
	_ = srv.Advance(2 * time.Minute)
	// A replay with other parameters answers the first contact and changes nothing.
	again, err := dial(cl, numAnswer, tok, func(in *connect.StartOutboundVoiceContactInput) { in.Attributes = map[string]string{"x": "y"} })
	if err != nil || again != a {
		t.Fatalf("replay after the call ended: %q, %v; want %s", again, err, a)
	}
	if c, _ := srv.Contact(a); c.CustomerNumber != numNoAnswer || len(c.Attributes) != 0 {
		t.Fatalf("the replay changed the contact: %+v", c)
	}
	// Tokens expire after 7 days either way.
	_ = srv.Advance(7 * 24 * time.Hour)
	if later, _ := dial(cl, numNoAnswer, tok); later == a || later == "" {
		t.Fatalf("replay after 7 days returned %q", later)
	}
	if n := len(srv.Contacts()); n != 2 {
		t.Fatalf("%d contacts", n)
	}
	if _, err := connectsim.ParseWorld([]byte(`{"clientTokenAfterEnd": "sometimes"}`)); err == nil {
		t.Fatal("a bad clientTokenAfterEnd was accepted")
	}
}

func TestConcurrentCallsQuota(t *testing.T) {
	t.Parallel()
	w := callWorld()
	w.Instances[0].MaxConcurrentCalls = 2
	srv, cl, _ := startCalls(t, w)
	for i := 0; i < 2; i++ {
		if _, err := dial(cl, numNoAnswer); err != nil {
			t.Fatal(err)
		}
	}
	_, err := dial(cl, numNoAnswer)
	mustAs[*types.LimitExceededException](t, err)
	_ = srv.Advance(60 * time.Second) // both ring out
	if _, err := dial(cl, numNoAnswer); err != nil {
		t.Fatalf("after the calls ended: %v", err)
	}
	st := srv.Stats()
	if st.MaxActiveCalls[connectsim.DefaultInstanceID] != 2 || st.ActiveCalls[connectsim.DefaultInstanceID] != 1 {
		t.Fatalf("stats: %+v", st)
	}
	if st.Requests["StartOutboundVoiceContact"]["LimitExceededException"] != 1 || st.Requests["StartOutboundVoiceContact"]["ok"] != 3 {
		t.Fatalf("counts: %v", st.Requests["StartOutboundVoiceContact"])
	}
}

func TestStartOutboundVoiceContactErrors(t *testing.T) {
	t.Parallel()
	w := callWorld()
	closed := connectsim.DefaultWorld().Instances[0]
	closed.ID = "99999999-2222-4333-8444-555555555555"
	closed.OutboundDisabled = true
	w.Instances = append(w.Instances, closed)
	srv, cl, _ := startCalls(t, w)
	cases := []struct {
		name  string
		to    string
		mod   func(*connect.StartOutboundVoiceContactInput)
		check func(t *testing.T, err error)
	}{
		{"not E.164", "5555550100", nil, func(t *testing.T, err error) { mustAs[*types.InvalidParameterException](t, err) }},
		{"leading zero", "+05555550100", nil, func(t *testing.T, err error) { mustAs[*types.InvalidParameterException](t, err) }},
		{"too long", "+1234567890123456", nil, func(t *testing.T, err error) { mustAs[*types.InvalidParameterException](t, err) }},
		{"bad source", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.SourcePhoneNumber = aws.String("0800") }, func(t *testing.T, err error) { mustAs[*types.InvalidParameterException](t, err) }},
		{"unclaimed source", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.SourcePhoneNumber = aws.String("+15555559999") }, func(t *testing.T, err error) { mustAs[*types.ResourceNotFoundException](t, err) }},
		{"unknown instance", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.InstanceId = aws.String("nope") }, func(t *testing.T, err error) { mustAs[*types.ResourceNotFoundException](t, err) }},
		{"unknown flow", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.ContactFlowId = aws.String("nope") }, func(t *testing.T, err error) { mustAs[*types.ResourceNotFoundException](t, err) }},
		{"unknown queue", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.QueueId = aws.String("nope") }, func(t *testing.T, err error) { mustAs[*types.ResourceNotFoundException](t, err) }},
		{"no queue, no source", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.QueueId = nil }, func(t *testing.T, err error) { mustAs[*types.InvalidRequestException](t, err) }},
		{"ring timeout 14", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.RingTimeoutInSeconds = aws.Int32(14) }, func(t *testing.T, err error) { mustAs[*types.InvalidRequestException](t, err) }},
		{"ring timeout 61", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.RingTimeoutInSeconds = aws.Int32(61) }, func(t *testing.T, err error) { mustAs[*types.InvalidRequestException](t, err) }},
		{"AMD without CAMPAIGN", numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
			in.AnswerMachineDetectionConfig = &types.AnswerMachineDetectionConfig{EnableAnswerMachineDetection: true}
		}, func(t *testing.T, err error) { mustAs[*types.InvalidRequestException](t, err) }},
		{"client token 501", numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
			in.ClientToken = aws.String(strings.Repeat("t", 501))
		}, func(t *testing.T, err error) { mustAs[*types.InvalidRequestException](t, err) }},
		{"bad attribute key", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.Attributes = map[string]string{"a b": "c"} }, func(t *testing.T, err error) { mustAs[*types.InvalidParameterException](t, err) }},
		{"attributes over budget", numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
			in.Attributes = map[string]string{"big": strings.Repeat("x", 32766)}
		}, func(t *testing.T, err error) { mustAs[*types.InvalidParameterException](t, err) }},
		{"blocked destination", "+447700900123", nil, func(t *testing.T, err error) { mustAs[*types.DestinationNotAllowedException](t, err) }},
		{"outbound disabled", numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.InstanceId = aws.String(closed.ID) }, func(t *testing.T, err error) {
			mustAs[*types.OutboundContactNotPermittedException](t, err)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := dial(cl, tc.to, func(in *connect.StartOutboundVoiceContactInput) {
				if tc.mod != nil {
					tc.mod(in)
				}
			})
			if err == nil {
				t.Fatalf("placed %s", id)
			}
			tc.check(t, err)
		})
	}
	if n := len(srv.Contacts()); n != 0 {
		t.Fatalf("%d contacts placed by failing requests", n)
	}
	// Valid variants: source number instead of queue, AMD with CAMPAIGN.
	if _, err := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
		in.QueueId = nil
		in.SourcePhoneNumber = aws.String(connectsim.DefaultPhoneNumber)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
		in.TrafficType = types.TrafficTypeCampaign
		in.AnswerMachineDetectionConfig = &types.AnswerMachineDetectionConfig{EnableAnswerMachineDetection: true}
		in.RingTimeoutInSeconds = aws.Int32(15)
	}); err != nil {
		t.Fatal(err)
	}
}

func TestQueueingAndMetrics(t *testing.T) {
	t.Parallel()
	w := callWorld()
	w.Calls.QueueTimeout = connectsim.Duration(5 * time.Minute)
	w.Calls.TalkMin, w.Calls.TalkMax = connectsim.Duration(10*time.Minute), connectsim.Duration(10*time.Minute)
	srv, cl, rec := startCalls(t, w)
	onBreak := []connectsim.Agent{{ID: "a1", Status: "BREAK"}, {ID: "a2", Status: "BREAK"}, {ID: "a3", Status: "OFFLINE"}}
	if err := srv.SetAgents(connectsim.DefaultInstanceID, onBreak); err != nil {
		t.Fatal(err)
	}
	first, _ := dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	second, _ := dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	if types_(rec.forContact(first)) != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED" {
		t.Fatalf("first: %s", types_(rec.forContact(first)))
	}
	_ = srv.Advance(18 * time.Second) // first queued for 30 s (milliseconds: no groupings)
	m := metrics(t, cl, types.CurrentMetricNameContactsInQueue, types.CurrentMetricNameOldestContactAge, types.CurrentMetricNameAgentsNonProductive,
		types.CurrentMetricNameAgentsOnline, types.CurrentMetricNameAgentsAvailable, types.CurrentMetricNameAgentsStaffed)
	if m["CONTACTS_IN_QUEUE"] != 2 || m["OLDEST_CONTACT_AGE"] != 30000 || m["AGENTS_NON_PRODUCTIVE"] != 2 || m["AGENTS_ONLINE"] != 2 || m["AGENTS_AVAILABLE"] != 0 || m["AGENTS_STAFFED"] != 0 {
		t.Fatalf("metrics with nobody available: %v", m)
	}
	// One agent becomes available: the oldest contact goes first.
	if err := srv.SetAgents(connectsim.DefaultInstanceID, []connectsim.Agent{{ID: "a1", Status: "AVAILABLE"}, {ID: "a2", Status: "BREAK"}}); err != nil {
		t.Fatal(err)
	}
	srv.Drain(5 * time.Second)
	if types_(rec.forContact(first)) != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,CONNECTED_TO_AGENT" || types_(rec.forContact(second)) != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED" {
		t.Fatalf("after SetAgents: %s / %s", types_(rec.forContact(first)), types_(rec.forContact(second)))
	}
	// The second contact gives up after the queue timeout.
	_ = srv.Advance(5 * time.Minute)
	evs := rec.forContact(second)
	if types_(evs) != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,DISCONNECTED,COMPLETED" || evs[3].Detail.ConnectedToSystemTimestamp == "" || describeReason(t, cl, second) != "CONTACT_FLOW_DISCONNECT" {
		t.Fatalf("second: %s %+v", types_(evs), evs)
	}
	if err := srv.SetAgents("nope", nil); err == nil {
		t.Fatal("SetAgents accepted an unknown instance")
	}
	if err := srv.SetAgents(connectsim.DefaultInstanceID, []connectsim.Agent{{ID: "x", Status: "LUNCH"}}); err == nil {
		t.Fatal("SetAgents accepted a bad status")
	}
}

func TestGetCurrentMetricDataShapesAndErrors(t *testing.T) {
	t.Parallel()
	wall := &fakeWall{now: time.Unix(1_700_000_000, 0)}
	srv, cl := start(t, connectsim.Options{World: callWorld(), WallClock: wall.Now})
	ctx := context.Background()
	out, err := cl.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID),
		Filters:    &types.Filters{Queues: []string{srv.InstanceARN(connectsim.DefaultInstanceID) + "/queue/" + connectsim.DefaultQueueID}, Channels: []types.Channel{types.ChannelVoice}},
		Groupings:  []types.Grouping{types.GroupingQueue, types.GroupingChannel},
		CurrentMetrics: []types.CurrentMetric{
			{Name: types.CurrentMetricNameAgentsAvailable, Unit: types.UnitCount},
			{Name: types.CurrentMetricNameOldestContactAge, Unit: types.UnitSeconds},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricResults) != 1 || out.DataSnapshotTime == nil || !out.DataSnapshotTime.Equal(t0) || aws.ToInt64(out.ApproximateTotalCount) != 1 {
		t.Fatalf("out = %+v", out)
	}
	r := out.MetricResults[0]
	if r.Dimensions == nil || r.Dimensions.Queue == nil || aws.ToString(r.Dimensions.Queue.Id) != connectsim.DefaultQueueID ||
		aws.ToString(r.Dimensions.Queue.Arn) != srv.InstanceARN(connectsim.DefaultInstanceID)+"/queue/"+connectsim.DefaultQueueID || r.Dimensions.Channel != types.ChannelVoice {
		t.Fatalf("dimensions = %+v", r.Dimensions)
	}
	if len(r.Collections) != 2 || r.Collections[0].Metric.Name != "AGENTS_AVAILABLE" || aws.ToFloat64(r.Collections[0].Value) != 3 ||
		r.Collections[1].Metric.Unit != types.UnitSeconds || aws.ToFloat64(r.Collections[1].Value) != 0 {
		t.Fatalf("collections = %+v", r.Collections)
	}

	q := func(in *connect.GetCurrentMetricDataInput) error {
		if in.InstanceId == nil {
			in.InstanceId = aws.String(connectsim.DefaultInstanceID)
		}
		if in.CurrentMetrics == nil {
			in.CurrentMetrics = []types.CurrentMetric{{Name: types.CurrentMetricNameAgentsAvailable}}
		}
		_, err := cl.GetCurrentMetricData(ctx, in)
		return err
	}
	queues := &types.Filters{Queues: []string{connectsim.DefaultQueueID}}
	mustAs[*types.ResourceNotFoundException](t, q(&connect.GetCurrentMetricDataInput{InstanceId: aws.String("nope"), Filters: queues}))
	mustAs[*types.ResourceNotFoundException](t, q(&connect.GetCurrentMetricDataInput{Filters: &types.Filters{Queues: []string{"nope"}}}))
	mustAs[*types.InvalidParameterException](t, q(&connect.GetCurrentMetricDataInput{Filters: &types.Filters{}}))
	mustAs[*types.InvalidParameterException](t, q(&connect.GetCurrentMetricDataInput{Filters: queues, CurrentMetrics: []types.CurrentMetric{{Name: "AGENTS_AVAILABLE", Unit: types.UnitSeconds}}}))
	mustAs[*types.InvalidRequestException](t, q(&connect.GetCurrentMetricDataInput{Filters: queues, CurrentMetrics: []types.CurrentMetric{{Name: "AGENTS_DANCING"}}}))

	// GetCurrentMetricData has its own quota: 5/s, burst 8. Six requests
	// were made above (refused ones count too).
	for i := 0; i < 2; i++ {
		if err := q(&connect.GetCurrentMetricDataInput{Filters: queues}); err != nil {
			t.Fatalf("request %d of the burst: %v", 7+i, err)
		}
	}
	mustAs[*types.ThrottlingException](t, q(&connect.GetCurrentMetricDataInput{Filters: queues}))
	wall.Add(200 * time.Millisecond)
	if err := q(&connect.GetCurrentMetricDataInput{Filters: queues}); err != nil {
		t.Fatalf("after 200 ms at 5/s: %v", err)
	}
	mustAs[*types.ThrottlingException](t, q(&connect.GetCurrentMetricDataInput{Filters: queues}))
}

func TestSeededOutcomesAreReproducible(t *testing.T) {
	t.Parallel()
	outcomes := func(seed int64) string {
		w := connectsim.DefaultWorld()
		w.Instances[0].MaxConcurrentCalls = 100
		srv, cl := start(t, connectsim.Options{World: w, Seed: seed, DisableThrottling: true})
		var s []string
		for i := 0; i < 30; i++ {
			id, err := dial(cl, "+1555555"+string(rune('1'+i%9))+"000")
			if err != nil {
				t.Fatal(err)
			}
			c, _ := srv.Contact(id)
			s = append(s, c.Outcome)
		}
		return strings.Join(s, ",")
	}
	a, b, c := outcomes(42), outcomes(42), outcomes(43)
	if a != b {
		t.Fatalf("same seed, different outcomes:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("seeds 42 and 43 gave the same 30 outcomes: %s", a)
	}
	if !strings.Contains(a, "ANSWERED") || !strings.Contains(a, "NO_ANSWER") {
		t.Fatalf("30 calls at the default weights: %s", a)
	}
}

func TestSubscriberDelivery(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("subscriber got %s: %v", b, err)
		}
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
	}))
	defer hook.Close()
	srv, cl := start(t, connectsim.Options{World: callWorld(), Subscribers: []string{hook.URL}, DisableThrottling: true})
	if _, err := dial(cl, numBusy); err != nil {
		t.Fatal(err)
	}
	if err := srv.Advance(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 3 {
		t.Fatalf("%d events delivered", len(bodies))
	}
	for i, want := range []string{"INITIATED", "DISCONNECTED", "COMPLETED"} {
		d, _ := bodies[i]["detail"].(map[string]any)
		if bodies[i]["source"] != "aws.connect" || bodies[i]["detail-type"] != "Amazon Connect Contact Event" || d["eventType"] != want {
			t.Fatalf("event %d: %v", i, bodies[i])
		}
	}
	if st := srv.Stats(); st.EventsEmitted != 3 || st.EventsDelivered != 3 || st.DeliveryFailures != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

// describeReason answers DescribeContact's DisconnectReason of a contact.
func describeReason(t *testing.T, cl *connect.Client, id string) string {
	t.Helper()
	out, err := cl.DescribeContact(context.Background(), &connect.DescribeContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeContact %s: %v", id, err)
	}
	return aws.ToString(out.Contact.DisconnectReason)
}

func TestStopContactDisconnectReasonOnlyForCampaigns(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, callWorld())
	ctx := context.Background()
	stop := func(id, code string) error {
		_, err := cl.StopContact(ctx, &connect.StopContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(id),
			DisconnectReason: &types.DisconnectReason{Code: aws.String(code)}})
		return err
	}
	plain, _ := dial(cl, numAnswer)
	if err := stop(plain, "OUTBOUND_ATTEMPT_FAILED"); apiCode(err) != "InvalidRequestException" {
		t.Fatalf("DisconnectReason on a contact that is not a campaign's: %v", err)
	}
	camp, _ := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.CampaignId = aws.String("camp-1") })
	if err := stop(camp, "API"); apiCode(err) != "InvalidParameterException" {
		t.Fatalf("a code outside the campaign list: %v", err)
	}
	if err := stop(camp, "OUTBOUND_ATTEMPT_FAILED"); err != nil {
		t.Fatal(err)
	}
	srv.Drain(5 * time.Second)
	evs := rec.forContact(camp)
	if types_(evs) != "INITIATED,DISCONNECTED,COMPLETED" || evs[1].Detail.DisconnectReason != "OUTBOUND_ATTEMPT_FAILED" {
		t.Fatalf("campaign media failure event: %s %+v", types_(evs), evs[len(evs)-1].Detail)
	}
	if r := describeReason(t, cl, camp); r != "OUTBOUND_ATTEMPT_FAILED" {
		t.Fatalf("DescribeContact reason = %q", r)
	}
}

func last0(evs []connectsim.Event) connectsim.Event { return evs[len(evs)-1] }
