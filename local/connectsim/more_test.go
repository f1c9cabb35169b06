package connectsim_test

import (
	"context"
	"maps"
	"net/http"
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

func TestAdminAgentsAdvanceSubscribers(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, callWorld())
	adm := srv.URL + "/_connectsim"
	var agents []connectsim.AgentView
	resp, body := doJSON(t, http.MethodPut, adm+"/agents/"+connectsim.DefaultInstanceID, nil,
		[]map[string]any{{"id": "solo", "status": "AVAILABLE", "queues": []string{connectsim.DefaultQueueID}}}, &agents)
	if resp.StatusCode != 200 || len(agents) != 1 || agents[0].ID != "solo" {
		t.Fatalf("PUT agents: %d %s", resp.StatusCode, body)
	}
	resp, _ = doJSON(t, http.MethodPut, adm+"/agents/"+connectsim.DefaultInstanceID, nil, []map[string]any{{"id": "x", "queues": []string{"nope"}}}, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("PUT agents with an unknown queue: %d", resp.StatusCode)
	}
	resp, _ = doJSON(t, http.MethodPut, adm+"/agents/nope", nil, []map[string]any{}, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("PUT agents of an unknown instance: %d", resp.StatusCode)
	}
	id, err := dial(cl, numAnswer)
	if err != nil {
		t.Fatal(err)
	}
	var now map[string]string
	resp, body = doJSON(t, http.MethodPost, adm+"/advance", nil, map[string]string{"duration": "12s"}, &now)
	if resp.StatusCode != 200 || now["now"] != "2025-03-10T14:00:12Z" {
		t.Fatalf("advance: %d %s", resp.StatusCode, body)
	}
	if got := types_(rec.forContact(id)); got != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,CONNECTED_TO_AGENT" {
		t.Fatalf("events: %s", got)
	}
	doJSON(t, http.MethodGet, adm+"/agents/"+connectsim.DefaultInstanceID, nil, nil, &agents)
	if len(agents) != 1 || agents[0].Activity != "ON_CONTACT" || agents[0].ContactID != id {
		t.Fatalf("agents: %+v", agents)
	}
	var c connectsim.ContactView
	doJSON(t, http.MethodGet, adm+"/contacts/"+id, nil, nil, &c)
	var steps []string
	for _, h := range c.History {
		steps = append(steps, h.Event)
	}
	if strings.Join(steps, ",") != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,CONNECTED_TO_AGENT" || c.AgentID != "solo" {
		t.Fatalf("history: %v", steps)
	}
	resp, _ = doJSON(t, http.MethodPost, adm+"/advance", nil, map[string]string{"duration": "-1s"}, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("negative advance: %d", resp.StatusCode)
	}
	resp, _ = doJSON(t, http.MethodPost, adm+"/subscribers", nil, map[string]string{"url": "ftp://x"}, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("bad subscriber: %d", resp.StatusCode)
	}
	var drained map[string]bool
	doJSON(t, http.MethodPost, adm+"/drain", nil, nil, &drained)
	if !drained["drained"] {
		t.Fatal("drain")
	}
	var w connectsim.World
	doJSON(t, http.MethodGet, adm+"/world", nil, nil, &w)
	if w.Region != "us-east-1" || len(w.Instances) != 1 {
		t.Fatalf("world: %+v", w)
	}
}

func TestAdvanceNeedsManualClock(t *testing.T) {
	t.Parallel()
	srv := simtest.Start(t, connectsim.Options{TimeScale: 10})
	if err := srv.Advance(time.Second); err == nil {
		t.Fatal("Advance worked on a scaled clock")
	}
	resp, _ := doJSON(t, http.MethodPost, srv.URL+"/_connectsim/advance", nil, map[string]string{"duration": "1s"}, nil)
	if resp.StatusCode != 409 {
		t.Fatalf("admin advance on a scaled clock: %d", resp.StatusCode)
	}
}

// TestScaledClockCall runs a whole call on real timers, 600 times faster
// than real time, with concurrent API traffic.
func TestScaledClockCall(t *testing.T) {
	t.Parallel()
	w := callWorld()
	done := make(chan connectsim.Event, 1)
	var mu sync.Mutex
	var seen []string
	srv := simtest.Start(t, connectsim.Options{World: w, TimeScale: 600, DisableThrottling: true, OnEvent: func(e connectsim.Event) {
		mu.Lock()
		seen = append(seen, e.Detail.EventType)
		mu.Unlock()
		if e.Detail.EventType == "DISCONNECTED" {
			done <- e
		}
	}})
	cl := srv.ConnectClient(t, func(o *connect.Options) { o.RetryMaxAttempts = 1 })
	if _, err := dial(cl, numAnswer); err != nil {
		t.Fatal(err)
	}
	// Concurrent traffic while the call runs.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := cl.GetCurrentMetricData(context.Background(), &connect.GetCurrentMetricDataInput{
					InstanceId: aws.String(connectsim.DefaultInstanceID), Filters: &types.Filters{Queues: []string{connectsim.DefaultQueueID}},
					CurrentMetrics: []types.CurrentMetric{{Name: types.CurrentMetricNameAgentsOnCall}},
				}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case e := <-done:
		// 10 s ring + 2 s flow + 60 s talk = 72 s of sim time = 0.12 s.
		if e.Detail.DisconnectReason != "" || e.Detail.ConnectedToSystemTimestamp == "" {
			t.Fatalf("DISCONNECTED: %+v", e.Detail)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end within 10 s of wall time")
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,CONNECTED_TO_AGENT,DISCONNECTED" {
		t.Fatalf("events: %v", seen)
	}
	if st := srv.Stats(); st.MaxInFlightRequests < 1 || st.Requests["GetCurrentMetricData"]["ok"] != 40 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestRawWireValidation(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{DisableThrottling: true})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	auth := map[string]string{"Authorization": fakeSigV4}
	type expect struct {
		method, path string
		body         any
		status       int
		typ, msg     string
	}
	transfer, _ := srv.CreateContact(connectsim.NewContact{InitiationMethod: "TRANSFER"})
	for _, e := range []expect{
		{"POST", "/contact/attributes", map[string]any{"InstanceId": connectsim.DefaultInstanceID, "InitialContactId": c.ID}, 400, "InvalidRequestException", "Value null at 'attributes' failed to satisfy constraint: Member must not be null"},
		{"POST", "/contact/attributes", map[string]any{"InstanceId": connectsim.DefaultInstanceID, "InitialContactId": c.ID, "Attributes": "nope"}, 400, "SerializationException", ""},
		{"PUT", "/contact/outbound-voice", map[string]any{"InstanceId": connectsim.DefaultInstanceID}, 400, "InvalidRequestException", "2 validation errors detected"},
		{"POST", "/contact/stop", map[string]any{"InstanceId": connectsim.DefaultInstanceID, "ContactId": transfer.ID}, 400, "InvalidRequestException", "TRANSFER"},
		{"POST", "/contact/stop", map[string]any{"InstanceId": connectsim.DefaultInstanceID}, 400, "InvalidRequestException", "contactId"},
		{"POST", "/metrics/current/" + connectsim.DefaultInstanceID, map[string]any{"CurrentMetrics": []any{}}, 400, "InvalidRequestException", "filters"},
		{"POST", "/metrics/current/" + connectsim.DefaultInstanceID, map[string]any{"Filters": map[string]any{"Queues": []string{connectsim.DefaultQueueID}}, "CurrentMetrics": []any{map[string]string{"Name": "AGENTS_ONLINE"}}, "Groupings": []string{"ROUTING_PROFILE"}}, 400, "InvalidParameterException", "not supported"},
		{"POST", "/contact/update-participant-authentication", map[string]any{"InstanceId": connectsim.DefaultInstanceID, "State": ""}, 400, "InvalidRequestException", "length greater than or equal to 1"},
		{"DELETE", "/contact/stop", nil, 404, "UnknownOperationException", ""},
	} {
		resp, body := doJSON(t, e.method, srv.URL+e.path, auth, e.body, nil)
		if resp.StatusCode != e.status || resp.Header.Get("X-Amzn-ErrorType") != e.typ || !strings.Contains(string(body), e.msg) {
			t.Errorf("%s %s %v: %d %s %s", e.method, e.path, e.body, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
		if resp.Header.Get("X-Amzn-RequestId") == "" {
			t.Errorf("%s %s: no X-Amzn-RequestId", e.method, e.path)
		}
	}
	// CreateContact validates its input too.
	if _, err := srv.CreateContact(connectsim.NewContact{Channel: "SMS"}); err == nil {
		t.Fatal("CreateContact accepted channel SMS")
	}
	if _, err := srv.CreateContact(connectsim.NewContact{CustomerNumber: "555"}); err == nil {
		t.Fatal("CreateContact accepted a non-E.164 number")
	}
}

func TestParseWorld(t *testing.T) {
	t.Parallel()
	w, err := connectsim.ParseWorld([]byte(`{
		"region": "eu-west-2",
		"instances": [{"id": "inst-1", "contactFlows": [{"id": "flow-1", "queueId": "q-1"}],
			"queues": [{"id": "q-1", "outboundCallerId": "+442071838750"}], "phoneNumbers": ["+442071838750"],
			"agents": [{"id": "a-1"}]}],
		"throttle": {"StartOutboundVoiceContact": {"rate": 10, "burst": 20}},
		"calls": {"ringMin": "1s", "ringMax": 3, "flowDelay": "500ms"}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Region != "eu-west-2" || w.AccountID != connectsim.DefaultAccountID || w.Instances[0].MaxConcurrentCalls != 10 ||
		w.Instances[0].Agents[0].Status != "AVAILABLE" || w.Calls.RingMax.D() != 3*time.Second || !maps.Equal(w.Calls.Outcomes, connectsim.DefaultOutcomes()) {
		t.Fatalf("world = %+v", w)
	}
	// World files written before outcomes: the legacy weights become shares.
	legacy, err := connectsim.ParseWorld([]byte(`{"calls": {"answerWeight": 3, "busyWeight": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"ANSWERED": 3, "NO_ANSWER": 0, "BUSY": 1, "FAILED": 0}; !maps.Equal(legacy.Calls.Outcomes, want) || legacy.Calls.AnswerWeight != 0 {
		t.Fatalf("legacy weights: %+v", legacy.Calls)
	}
	for _, bad := range []string{
		`{"calls": {"answerWeight": 1, "outcomes": {"ANSWERED": 1}}}`,
		`{"calls": {"outcomes": {"PICKED_UP": 1}}}`,
		`{"calls": {"outcomes": {"ANSWERED": -1, "BUSY": 2}}}`,
		`{"calls": {"noAnswerReason": "TELECOM_BUSY"}}`,
		`{"calls": {"amd": {"falsePositiveRate": 1.5}}}`,
	} {
		if _, err := connectsim.ParseWorld([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if _, err := connectsim.ParseWorld([]byte(`{"instancez": []}`)); err == nil {
		t.Fatal("unknown field accepted")
	}
	_, err = connectsim.ParseWorld([]byte(`{"instances": [{"id": "i", "queues": [{"id": "q", "outboundCallerId": "123"}], "agents": [{"id": "a", "status": "NAPPING"}]}],
		"throttle": {"Nope": {"rate": 1, "burst": 1}}}`))
	if err == nil || !strings.Contains(err.Error(), "outboundCallerId") || !strings.Contains(err.Error(), "NAPPING") || !strings.Contains(err.Error(), `"Nope"`) {
		t.Fatalf("errors not all reported: %v", err)
	}
	// The SigV4 scope follows the world's Region.
	srv := simtest.Start(t, connectsim.Options{World: w, Clock: connectsim.NewManualClock(t0)})
	cl := srv.ConnectClient(t)
	if _, err := cl.GetContactAttributes(context.Background(), &connect.GetContactAttributesInput{InstanceId: aws.String("inst-1"), InitialContactId: aws.String("x")}); err == nil {
		t.Fatal("found a contact that does not exist")
	} else {
		mustAs[*types.ResourceNotFoundException](t, err)
	}
}
