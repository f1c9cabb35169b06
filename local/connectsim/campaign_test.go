package connectsim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// TestCampaignCallsRefusedByDefault: with refuseCampaignCalls (Connect's default until the
// campaigns quota is raised) TrafficType=CAMPAIGN is refused and places no call; +447 stays
// refused; RingTimeoutInSeconds is 15-60.
func TestCampaignCallsRefusedByDefault(t *testing.T) {
	t.Parallel()
	w, err := connectsim.ParseWorld([]byte(`{"instances": [{"id": "` + connectsim.DefaultInstanceID + `", "refuseCampaignCalls": true, "blockedPrefixes": ["+447"],
		"contactFlows": [{"id": "` + connectsim.DefaultContactFlowID + `", "queueId": "` + connectsim.DefaultQueueID + `"}],
		"queues": [{"id": "` + connectsim.DefaultQueueID + `", "outboundCallerId": "+15555550100"}], "phoneNumbers": ["+15555550100"]}]}`))
	if err != nil || !w.Instances[0].RefuseCampaignCalls {
		t.Fatalf("ParseWorld: %v", err)
	}
	srv, cl := start(t, connectsim.Options{World: w, DisableThrottling: true})
	_, err = dial(cl, numAnswer, campaignAMD)
	mustFail(t, "a campaign call", err, "LimitExceededException", 429)
	if !strings.Contains(fmt.Sprint(err), "Campaign calls are not allowed by default") {
		t.Errorf("message: %v", err)
	}
	_, err = dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.TrafficType = types.TrafficTypeCampaign })
	mustFail(t, "a campaign call without AMD", err, "LimitExceededException", 429)
	if n := len(srv.Contacts()); n != 0 {
		t.Fatalf("%d contacts placed by refused campaign calls", n)
	}
	if _, err := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.TrafficType = types.TrafficTypeGeneral }); err != nil {
		t.Fatalf("a GENERAL call: %v", err)
	}
	_, err = dial(cl, "+447700900123")
	mustFail(t, "+447", err, "DestinationNotAllowedException", 403)
	for _, ring := range []int32{14, 61} {
		_, err = dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.RingTimeoutInSeconds = aws.Int32(ring) })
		mustFail(t, fmt.Sprintf("RingTimeoutInSeconds %d", ring), err, "InvalidRequestException", 400)
	}
	// The default world allows campaign calls (its tests and the devstack rely on AMD).
	_, cl2 := start(t, connectsim.Options{DisableThrottling: true})
	if _, err := dial(cl2, numAnswer, campaignAMD); err != nil {
		t.Fatalf("a campaign call in the default world: %v", err)
	}
}

// TestProgressiveCampaignPacedByUsers runs a progressive campaign (one call per available agent,
// counting the calls not yet with an agent) whose agents are the three users, staffed through the
// admin API, each with its after-contact work set by UpdateUserPhoneConfig. Every answered call
// finds an agent at once, and each agent's after-contact work is its own.
func TestProgressiveCampaignPacedByUsers(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	w.Instances[0].Agents = nil // nobody logged in
	w.Calls.Outcomes = map[string]float64{connectsim.OutcomeAnswered: 0.8, connectsim.OutcomeNoAnswer: 0.2}
	w.Calls.RingMin, w.Calls.RingMax = connectsim.Duration(5*time.Second), connectsim.Duration(15*time.Second)
	w.Calls.TalkMin, w.Calls.TalkMax = connectsim.Duration(30*time.Second), connectsim.Duration(90*time.Second)
	w.Calls.Patience = connectsim.Patience{Distribution: connectsim.PatienceNone}
	rec := &recorder{}
	srv, cl := start(t, connectsim.Options{World: w, OnEvent: rec.on, Seed: 11})
	ctx := context.Background()
	acw := map[string]int32{agent1: 10, agent2: 40, agent3: 90}
	for id, secs := range acw {
		if _, err := cl.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: aws.String(id),
			PhoneConfig: &types.UserPhoneConfig{PhoneType: types.PhoneTypeSoftPhone, AutoAccept: true, AfterContactWorkTimeLimit: secs}}); err != nil {
			t.Fatal(err)
		}
		if resp, b := doJSON(t, http.MethodPut, srv.URL+"/_connectsim/agents/"+connectsim.DefaultInstanceID+"/"+id+"/status", nil, map[string]string{"status": "AVAILABLE"}, nil); resp.StatusCode != 200 {
			t.Fatalf("staff %s: %d %s", id, resp.StatusCode, b)
		}
	}

	const recipients = 40
	dialed := 0
	pending := map[string]bool{} // placed, not yet with an agent nor ended
	maxPending := 0
	for step := 0; step < 400 && (dialed < recipients || len(pending) > 0); step++ {
		for id := range pending {
			d, err := cl.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: inst, ContactId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if d.Contact.AgentInfo != nil || d.Contact.DisconnectTimestamp != nil {
				delete(pending, id)
			}
		}
		m := byProfile(t, cl, false, []string{connectsim.DefaultRoutingProfileID}, "AGENTS_AVAILABLE")
		for free := int(m[""]["AGENTS_AVAILABLE"]) - len(pending); free > 0 && dialed < recipients; free-- {
			id, err := dial(cl, fmt.Sprintf("+1404555%04d", dialed), func(in *connect.StartOutboundVoiceContactInput) {
				in.ClientToken = aws.String(fmt.Sprintf("campaign-1/recipient-%d/attempt-1", dialed))
			})
			if err != nil {
				t.Fatal(err)
			}
			dialed++
			pending[id] = true
		}
		maxPending = max(maxPending, len(pending))
		_ = srv.Advance(5 * time.Second)
	}
	_ = srv.Advance(3 * time.Minute) // the last after-contact work ends
	if dialed != recipients || len(pending) != 0 || maxPending > 3 {
		t.Fatalf("dialed %d of %d, %d pending, at most %d in flight", dialed, recipients, len(pending), maxPending)
	}

	handled := map[string]int{}
	for _, c := range srv.Contacts() {
		if c.ConnectedToAgentTimestamp.IsZero() {
			if c.Outcome == connectsim.OutcomeAnswered {
				t.Fatalf("an answered call never reached an agent: %+v", c)
			}
			continue
		}
		// Progressive pacing: an agent was free for every answered call.
		if wait := c.ConnectedToAgentTimestamp.Sub(c.EnqueueTimestamp); wait != 0 {
			t.Errorf("contact %s waited %v in the queue", c.ID, wait)
		}
		handled[c.AgentID]++
	}
	total := 0
	rec.mu.Lock()
	evs := append([]connectsim.Event(nil), rec.evs...)
	rec.mu.Unlock()
	for _, ev := range evs {
		if ev.Detail.EventType != connectsim.EventCompleted || ev.Detail.AgentInfo == nil {
			continue
		}
		id := ev.Detail.AgentInfo.AgentARN[strings.LastIndex(ev.Detail.AgentInfo.AgentARN, "/")+1:]
		if got := ev.Detail.AgentInfo.AfterContactWorkDuration; got == nil || *got != int(acw[id]) {
			t.Errorf("COMPLETED of %s by %s: afterContactWorkDuration %v, want %d", ev.Detail.ContactID, id, got, acw[id])
		}
		total++
	}
	if total != handled[agent1]+handled[agent2]+handled[agent3] || handled[agent1] <= handled[agent3] {
		t.Fatalf("%d COMPLETED with ACW; handled by agent: %v (the 10 s agent must take more than the 90 s one)", total, handled)
	}
	// GetMetricData agrees: the average after-contact work weighs each agent's limit by its calls.
	wantACW := float64(10*handled[agent1]+40*handled[agent2]+90*handled[agent3]) / float64(total)
	now := srv.ClockState().Now
	out, err := cl.GetMetricData(ctx, &connect.GetMetricDataInput{InstanceId: inst, StartTime: aws.Time(t0), EndTime: aws.Time(now.Truncate(5 * time.Minute).Add(5 * time.Minute)),
		Filters:           &types.Filters{Queues: []string{connectsim.DefaultQueueID}},
		HistoricalMetrics: []types.HistoricalMetric{hm("AFTER_CONTACT_WORK_TIME", "SECONDS", "AVG"), hm("CONTACTS_HANDLED", "COUNT", "SUM"), hm("CONTACTS_ABANDONED", "COUNT", "SUM")}})
	if err != nil {
		t.Fatal(err)
	}
	v := historicalValues(out.MetricResults[0])
	if v["AFTER_CONTACT_WORK_TIME"] != wantACW || v["CONTACTS_HANDLED"] != float64(total) || v["CONTACTS_ABANDONED"] != 0 {
		t.Fatalf("GetMetricData %v, want ACW %v over %d handled", v, wantACW, total)
	}
	t.Logf("%d recipients, %d handled (agent1 %d, agent2 %d, agent3 %d), average ACW %.1f s, in %v simulated", recipients, total,
		handled[agent1], handled[agent2], handled[agent3], wantACW, now.Sub(t0))
}
