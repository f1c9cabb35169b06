package outbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/pacing"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// zoneOf is the test's own table of the zones of its numbers, written from the numbering plans
// (not from the code under test), for the independent check of calling hours.
var zoneOf = map[string]string{
	"+1212": "America/New_York", "+1312": "America/Chicago", "+1303": "America/Denver",
	"+1602": "America/Phoenix", "+1415": "America/Los_Angeles", "+1907": "America/Anchorage",
	"+1808": "Pacific/Honolulu", "+4420": "Europe/London", "+9122": "Asia/Kolkata",
}

var prefixes = []string{"+1212", "+1312", "+1303", "+1602", "+1415", "+1907", "+1808", "+4420", "+9122"}

func numberFor(i int) string {
	p := prefixes[i%len(prefixes)]
	switch p {
	case "+4420":
		return fmt.Sprintf("+44207946%04d", i)
	case "+9122":
		return fmt.Sprintf("+912240%06d", i)
	}
	return fmt.Sprintf("%s555%04d", p, i)
}

func localOK(t *testing.T, number string, at time.Time) bool {
	for p, z := range zoneOf {
		if strings.HasPrefix(number, p) {
			loc, err := time.LoadLocation(z)
			if err != nil {
				t.Fatal(err)
			}
			l := at.In(loc)
			mins := l.Hour()*60 + l.Minute()
			return l.Weekday() != time.Sunday && mins >= 9*60 && mins < 20*60
		}
	}
	t.Fatalf("no zone for %s", phone.Mask(number))
	return false
}

// TestCampaignEndToEnd: 1,000 recipients in nine zones, with invalid numbers, numbers on the
// do-not-call list, opt-outs through the contact-flow function during the campaign, connectsim's
// quotas on, injected throttling and 20% of contact events lost, plus a progressive campaign
// paced by three agents. Checked from connectsim's own record and an independent local-time
// computation.
func TestCampaignEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end campaign")
	}
	start := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC) // Wednesday
	world := connectsim.DefaultWorld()
	world.Instances[0].MaxConcurrentCalls = 20
	world.Instances[0].BlockedPrefixes = nil
	rng := rand.New(rand.NewSource(7))
	r := newRig(t, rigOptions{
		world: world, start: start, seed: 7, throttle: true,
		pacing: pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 20},
		drop:   func(connectsim.Event) bool { return rng.Float64() < 0.2 },
	})
	r.sim.SetFault(connectsim.OpStartOutboundVoiceContact, connectsim.Fault{Kind: "throttle", Probability: 0.05})
	ctx := context.Background()

	const n = 1000
	var recips []map[string]any
	dncBefore := map[string]bool{}
	invalid := map[string]bool{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("r%04d", i)
		phone := numberFor(i)
		switch {
		case i%50 == 7:
			phone = "555-01" + fmt.Sprintf("%02d", i%100) // a local-only US number
			invalid[id] = true
		case i%50 == 19:
			phone = "+1212555"
			invalid[id] = true
		case i%50 == 23:
			dncBefore[phone] = true
			if _, err := r.dnc.Record(ctx, donotcall.Entry{PhoneNumber: phone, Source: donotcall.SourceImport, RecordedAt: start}); err != nil {
				t.Fatal(err)
			}
		}
		recips = append(recips, map[string]any{"recipientId": id, "phone": phone, "attributes": map[string]string{"rid": id}})
	}
	// Inline recipients are bounded by the event size: launch in chunks as separate campaigns'
	// worth? No: one campaign, recipients from four launches would conflict. Send them as Call
	// Requested events after a launch with the first 300 inline.
	c := campaign("big", map[string]any{"recipients": recips[:300], "pacing": map[string]any{"maxConcurrentCalls": 14, "weight": 3}})
	if err := r.send("Campaign Launched", c); err != nil {
		t.Fatal(err)
	}
	for _, rec := range recips[300:] {
		if err := r.send("Call Requested", map[string]any{"requestId": rec["recipientId"], "campaignId": "big", "phone": rec["phone"], "attributes": rec["attributes"]}); err != nil {
			t.Fatal(err)
		}
	}
	// A progressive campaign on the default queue, three agents, ratio 1.5: never more than 4
	// of its calls at once.
	var prog []map[string]any
	for i := 0; i < 60; i++ {
		prog = append(prog, map[string]any{"recipientId": fmt.Sprintf("p%02d", i), "phone": fmt.Sprintf("+1212555%04d", 5000+i), "attributes": map[string]string{"rid": fmt.Sprintf("p%02d", i)}})
	}
	if err := r.send("Campaign Launched", campaign("prog", map[string]any{"mode": "progressive", "recipients": prog, "pacing": map[string]any{"agentsRatio": 1.5, "maxConcurrentCalls": 10}})); err != nil {
		t.Fatal(err)
	}

	cf, err := contactflow.NewHandler(contactflow.DefaultConfig(), r.sim.ConnectClient(t), r.dnc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	optedOut := map[string]time.Time{}
	for tick := 0; tick < 24*60; tick++ {
		r.tick()
		if tick == 150 {
			// 20 recipients still waiting ask not to be called, through the contact-flow function.
			for id, rec := range r.recipientsOf("big") {
				if len(optedOut) == 20 {
					break
				}
				if (rec.State != dialer.StatePending && rec.State != dialer.StateWaitingRetry) || dncBefore[rec.Phone] {
					continue
				}
				ev := fmt.Sprintf(`{"Name":"ContactFlowEvent","Details":{"ContactData":{"ContactId":"c-%s","InitialContactId":"c-%s","Channel":"VOICE","InstanceARN":"arn:aws:connect:us-east-1:123456789012:instance/%s","InitiationMethod":"INBOUND"},"Parameters":{"operation":"optout","phone_number":%q}}}`, id, id, instanceID, rec.Phone)
				out, err := cf.Handle(ctx, []byte(ev))
				if err != nil || out["result"] != "ok" || out["optout_status"] != "recorded" {
					t.Fatalf("opt-out of %s: %v %v", id, out, err)
				}
				optedOut[rec.Phone] = r.clock.Now()
			}
		}
		big, _ := r.store.Campaign(ctx, "big")
		pr, _ := r.store.Campaign(ctx, "prog")
		if !big.Status.Active() && !pr.Status.Active() {
			break
		}
	}
	for _, id := range []string{"big", "prog"} {
		c, _ := r.store.Campaign(ctx, id)
		if c.Status != "finished" {
			t.Fatalf("campaign %s is %s (%s) at %v", id, c.Status, c.Reason, r.clock.Now())
		}
	}
	if len(optedOut) != 20 {
		t.Fatalf("%d opt-outs", len(optedOut))
	}

	// Every recipient in a final state with a reason.
	states := map[dialer.State]int{}
	recs := r.recipientsOf("big")
	for id, rec := range r.recipientsOf("prog") {
		recs[id] = rec
	}
	if len(recs) != n+60 {
		t.Fatalf("%d recipients, want %d", len(recs), n+60)
	}
	for id, rec := range recs {
		states[rec.State]++
		if !rec.State.Final() || rec.Reason == "" {
			t.Errorf("%s: %s (%q)", id, rec.State, rec.Reason)
		}
		if invalid[id] && rec.State != dialer.StateInvalidNumber {
			t.Errorf("%s: invalid number ended %s", id, rec.State)
		}
		if dncBefore[rec.Phone] && rec.State != dialer.StateSuppressedDNC {
			t.Errorf("%s: listed number ended %s", id, rec.State)
		}
	}

	// connectsim's record.
	type call struct {
		ct     connectsim.ContactView
		number string
	}
	var calls []call
	tokens := map[string]string{}
	for _, ct := range r.sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		if prev, dup := tokens[ct.ClientToken]; dup {
			t.Errorf("two contacts (%s, %s) for one attempt's ClientToken", prev, ct.ID)
		}
		tokens[ct.ClientToken] = ct.ID
		calls = append(calls, call{ct, ct.CustomerNumber})
		if !localOK(t, ct.CustomerNumber, ct.InitiationTimestamp) {
			t.Errorf("call to %s at %v: outside 09:00-20:00 Mon-Sat local", phone.Mask(ct.CustomerNumber), ct.InitiationTimestamp)
		}
		if dncBefore[ct.CustomerNumber] {
			t.Errorf("call to a number on the do-not-call list: %s", phone.Mask(ct.CustomerNumber))
		}
		if at, ok := optedOut[ct.CustomerNumber]; ok && !ct.InitiationTimestamp.Before(at) {
			t.Errorf("call to %s at %v, after its opt-out at %v", phone.Mask(ct.CustomerNumber), ct.InitiationTimestamp, at)
		}
		if ct.DisconnectTimestamp.IsZero() {
			t.Errorf("contact %s never ended", ct.ID)
		}
	}
	// Concurrency from the record: never above the instance's cap, the progressive campaign
	// never above 3 agents x 1.5.
	maxAll := maxConcurrent(r.sim.Contacts(), nil)
	maxProg := maxConcurrent(r.sim.Contacts(), func(ct connectsim.ContactView) bool { return strings.HasPrefix(ct.Attributes["rid"], "p") })
	if maxAll > 20 || maxProg > 4 {
		t.Errorf("concurrency %d (cap 20), progressive %d (3 agents x 1.5 = 4)", maxAll, maxProg)
	}
	// Each completed recipient has an answered call; attempts match the calls placed.
	byRid := map[string]int{}
	for _, c := range calls {
		byRid[c.ct.Attributes["rid"]]++
	}
	for id, rec := range recs {
		if byRid[id] > rec.Attempt {
			t.Errorf("%s: %d calls for %d attempts", id, byRid[id], rec.Attempt)
		}
	}
	st := r.sim.Stats()
	throttled := 0
	for op, outcomes := range st.Requests {
		for o, k := range outcomes {
			if o == "ThrottlingException" || o == "TooManyRequestsException" {
				throttled += k
				_ = op
			}
		}
	}
	if throttled == 0 {
		t.Error("no request was throttled: the test did not exercise throttling")
	}
	t.Logf("DynamoDB requests of the store: %v", r.db.n)
	summary, _ := json.Marshal(states)
	t.Logf("%d calls, max concurrency %d (progressive %d), %d throttled requests, %d contact events failed 3 times, states %s, ended %v",
		len(calls), maxAll, maxProg, throttled, r.eventFailures, summary, r.clock.Now())
}
