package connectsim_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

const (
	numVoicemail = "+15555550115"
	numInvalid   = "+15555550116"
	numBlocked   = "+15555550117"
)

func describe(t *testing.T, cl *connect.Client, id string) *types.Contact {
	t.Helper()
	out, err := cl.DescribeContact(context.Background(), &connect.DescribeContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeContact %s: %v", id, err)
	}
	return out.Contact
}

func campaignAMD(in *connect.StartOutboundVoiceContactInput) {
	in.TrafficType = types.TrafficTypeCampaign
	in.AnswerMachineDetectionConfig = &types.AnswerMachineDetectionConfig{EnableAnswerMachineDetection: true}
}

// TestOutcomeSharesOf1000Calls places 1,000 seeded calls and classifies each from what
// DescribeContact tells a dialer (DisconnectReason, AnsweringMachineDetectionStatus with a
// perfect detector, ConnectedToSystemTimestamp). Each outcome's count must be within 4 binomial
// standard deviations of its configured share: |k - n·p| <= 4·sqrt(n·p·(1-p)).
func TestOutcomeSharesOf1000Calls(t *testing.T) {
	t.Parallel()
	shares := map[string]float64{"ANSWERED": 0.35, "VOICEMAIL": 0.20, "NO_ANSWER": 0.15, "BUSY": 0.10, "INVALID_NUMBER": 0.08, "FAILED": 0.07, "CARRIER_BLOCKED": 0.05}
	w := connectsim.DefaultWorld()
	w.Instances[0].MaxConcurrentCalls = 1000
	w.Calls.Outcomes = shares
	w.Calls.AMD = connectsim.AMDProfile{DetectionDelay: connectsim.Duration(2 * time.Second)} // never wrong
	srv, cl := start(t, connectsim.Options{World: w, DisableThrottling: true, Seed: 42})
	const n = 1000
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		id, err := dial(cl, fmt.Sprintf("+1202555%04d", i), campaignAMD)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	for i := 0; i < 120; i++ {
		_ = srv.Advance(time.Minute)
	}
	byReason := map[string]string{
		"TELECOM_TIMEOUT": "NO_ANSWER", "TELECOM_BUSY": "BUSY", "TELECOM_NUMBER_INVALID": "INVALID_NUMBER",
		"TELECOM_PROBLEM": "FAILED", "TELECOM_POTENTIAL_BLOCKING": "CARRIER_BLOCKED",
	}
	counts := map[string]int{}
	for _, id := range ids {
		d := describe(t, cl, id)
		if d.DisconnectTimestamp == nil {
			t.Fatalf("contact %s still active after two hours", id)
		}
		var got string
		switch d.AnsweringMachineDetectionStatus {
		case types.AnsweringMachineDetectionStatusHumanAnswered:
			got = "ANSWERED"
		case types.AnsweringMachineDetectionStatusVoicemailBeep, types.AnsweringMachineDetectionStatusVoicemailNoBeep:
			got = "VOICEMAIL"
		default:
			got = byReason[aws.ToString(d.DisconnectReason)]
		}
		connected := got == "ANSWERED" || got == "VOICEMAIL"
		if got == "" || connected != (d.ConnectedToSystemTimestamp != nil) {
			t.Fatalf("contact %s: reason %q, AMD %q, connected %v", id, aws.ToString(d.DisconnectReason), d.AnsweringMachineDetectionStatus, d.ConnectedToSystemTimestamp != nil)
		}
		if v, _ := srv.Contact(id); v.Outcome != got {
			t.Fatalf("contact %s: DescribeContact says %s, the simulation decided %s", id, got, v.Outcome)
		}
		counts[got]++
	}
	for o, p := range shares {
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if k := float64(counts[o]); math.Abs(k-mean) > 4*sd {
			t.Errorf("%s: %d calls, want %.0f ± %.0f (4 sigma)", o, counts[o], mean, 4*sd)
		}
	}
	t.Logf("outcome counts of %d calls: %v", n, counts)
}

func outcomeWorld() connectsim.World {
	w := callWorld()
	w.Calls.NumberOutcomes[numVoicemail] = "VOICEMAIL"
	w.Calls.NumberOutcomes[numInvalid] = "INVALID_NUMBER"
	w.Calls.NumberOutcomes[numBlocked] = "CARRIER_BLOCKED"
	w.Calls.VoicemailMin, w.Calls.VoicemailMax = connectsim.Duration(45*time.Second), connectsim.Duration(45*time.Second)
	return w
}

func TestInvalidNumberAndBlockingReasons(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, outcomeWorld())
	inv, _ := dial(cl, numInvalid)
	blk, _ := dial(cl, numBlocked)
	_ = srv.Advance(5 * time.Second)
	for id, want := range map[string]string{inv: "TELECOM_NUMBER_INVALID", blk: "TELECOM_POTENTIAL_BLOCKING"} {
		d := describe(t, cl, id)
		if aws.ToString(d.DisconnectReason) != want || d.ConnectedToSystemTimestamp != nil || !d.DisconnectTimestamp.Equal(t0.Add(2*time.Second)) {
			t.Errorf("%s: %+v", want, d)
		}
		if evs := rec.forContact(id); types_(evs) != "INITIATED,DISCONNECTED,COMPLETED" || evs[1].Detail.DisconnectReason != "" {
			t.Errorf("%s events: %s", want, types_(evs))
		}
	}
}

func TestVoicemailConnectsMedia(t *testing.T) {
	t.Parallel()
	srv, cl, rec := startCalls(t, outcomeWorld())
	// With an agent free, the voicemail reaches the agent, who hangs up after 5 s.
	id, _ := dial(cl, numVoicemail)
	_ = srv.Advance(10 * time.Second)
	evs := rec.forContact(id)
	if types_(evs) != "INITIATED,CONNECTED_TO_SYSTEM" || evs[1].Detail.ConnectedToSystemTimestamp != "2025-03-10T14:00:10.000Z" {
		t.Fatalf("a voicemail picks up: %s", types_(evs))
	}
	_ = srv.Advance(2*time.Second + 5*time.Second)
	if types_(rec.forContact(id)) != "INITIATED,CONNECTED_TO_SYSTEM,QUEUED,CONNECTED_TO_AGENT,DISCONNECTED" || describeReason(t, cl, id) != "AGENT_DISCONNECT" {
		t.Fatalf("voicemail with an agent: %s %s", types_(rec.forContact(id)), describeReason(t, cl, id))
	}
	// With nobody free, the voicemail hangs up after its recording time (45 s after pick-up).
	if err := srv.SetAgents(connectsim.DefaultInstanceID, nil); err != nil {
		t.Fatal(err)
	}
	id2, _ := dial(cl, numVoicemail)
	_ = srv.Advance(10*time.Second + 44*time.Second)
	if c, _ := srv.Contact(id2); c.Status != "QUEUED" {
		t.Fatalf("voicemail before its recording time ends: %s", c.Status)
	}
	_ = srv.Advance(time.Second)
	d := describe(t, cl, id2)
	if aws.ToString(d.DisconnectReason) != "CUSTOMER_DISCONNECT" || d.ConnectedToSystemTimestamp == nil || d.AgentInfo != nil {
		t.Fatalf("voicemail nobody took: %+v", d)
	}
}

func TestAnsweringMachineDetection(t *testing.T) {
	t.Parallel()
	w := outcomeWorld()
	w.Calls.AMD = connectsim.AMDProfile{DetectionDelay: connectsim.Duration(4 * time.Second)}
	srv, cl, rec := startCalls(t, w)
	id, err := dial(cl, numAnswer, campaignAMD)
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Advance(10 * time.Second) // picked up, detection running
	d := describe(t, cl, id)
	if d.ConnectedToSystemTimestamp == nil || !d.ConnectedToSystemTimestamp.Equal(t0.Add(10*time.Second)) || d.AnsweringMachineDetectionStatus != "" {
		t.Fatalf("during detection: CTS %v, AMD %q", d.ConnectedToSystemTimestamp, d.AnsweringMachineDetectionStatus)
	}
	if types_(rec.forContact(id)) != "INITIATED" {
		t.Fatalf("events during detection: %s", types_(rec.forContact(id)))
	}
	_ = srv.Advance(4 * time.Second)
	if d := describe(t, cl, id); d.AnsweringMachineDetectionStatus != types.AnsweringMachineDetectionStatusHumanAnswered {
		t.Fatalf("after the detection delay: %q", d.AnsweringMachineDetectionStatus)
	}
	evs := rec.forContact(id)
	if types_(evs) != "INITIATED,CONNECTED_TO_SYSTEM" || evs[1].Detail.AnsweringMachineDetectionStatus != "HUMAN_ANSWERED" || evs[1].Detail.ConnectedToSystemTimestamp != "2025-03-10T14:00:10.000Z" {
		t.Fatalf("CONNECTED_TO_SYSTEM after detection: %s %+v", types_(evs), evs)
	}
	// Calls that never connect get the SIT or unanswered statuses.
	busy, _ := dial(cl, numBusy, campaignAMD)
	noAns, _ := dial(cl, numNoAnswer, campaignAMD)
	_ = srv.Advance(time.Minute)
	if s := describe(t, cl, busy).AnsweringMachineDetectionStatus; s != types.AnsweringMachineDetectionStatusSitToneBusy {
		t.Errorf("busy: %q", s)
	}
	if s := describe(t, cl, noAns).AnsweringMachineDetectionStatus; s != types.AnsweringMachineDetectionStatusAmdUnanswered {
		t.Errorf("no answer: %q", s)
	}
	// GENERAL traffic has no detection.
	plain, _ := dial(cl, numAnswer)
	_ = srv.Advance(15 * time.Second)
	if d := describe(t, cl, plain); d.AnsweringMachineDetectionStatus != "" || d.ConnectedToSystemTimestamp == nil {
		t.Errorf("GENERAL call: %+v", d)
	}

	// A detector that always mistakes people for voicemails.
	w.Calls.AMD.FalsePositiveRate = 1
	srv2, cl2, _ := startCalls(t, w)
	id2, _ := dial(cl2, numAnswer, campaignAMD)
	_ = srv2.Advance(14 * time.Second)
	if s := describe(t, cl2, id2).AnsweringMachineDetectionStatus; s != types.AnsweringMachineDetectionStatusVoicemailNoBeep {
		t.Errorf("false positive: %q", s)
	}
}

// sd is the binomial standard deviation of n draws with probability p.
func sd(n int, p float64) float64 { return math.Sqrt(float64(n) * p * (1 - p)) }

// Name is the model's shape Name, 0-512 characters (the stored model; the 1024 was not
// found there), and it is what DescribeContact answers.
func TestStartOutboundVoiceContactNameLength(t *testing.T) {
	t.Parallel()
	_, cl, _ := startCalls(t, callWorld())
	name := strings.Repeat("n", 512)
	id, err := dial(cl, numBusy, func(in *connect.StartOutboundVoiceContactInput) { in.Name = aws.String(name) })
	if err != nil {
		t.Fatalf("a 512-character Name: %v", err)
	}
	if d := describe(t, cl, id); aws.ToString(d.Name) != name {
		t.Fatalf("DescribeContact Name has %d characters", len(aws.ToString(d.Name)))
	}
	_, err = dial(cl, numBusy, func(in *connect.StartOutboundVoiceContactInput) { in.Name = aws.String(name + "n") })
	if apiCode(err) != "InvalidRequestException" {
		t.Fatalf("a 513-character Name: %v", err)
	}
}
