package outbound_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/authstate/authstatetest"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

// TestReliabilityUnderFaults is the short run of the reliability suite: 20% of every Connect
// operation answers a 5xx, 20% of every DynamoDB request fails (half of them after DynamoDB
// applied the write: the reply is lost), 10% of contact events come twice, 20% never come, and
// the event handlers run concurrently (out of order). The campaign still ends with every
// recipient final, no ClientToken used twice and no more calls than attempts.
func TestReliabilityUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("reliability run")
	}
	lost := 0
	r := newRig(t, rigOptions{
		start: wed, seed: 21, throttle: true, duplicate: 0.1,
		drop: func(connectsim.Event) bool { lost++; return lost%5 == 0 },
		dbFaults: map[authstatetest.Fault]float64{authstatetest.NotApplied500: 0.1, authstatetest.AppliedThen500: 0.1},
	})
	r.sim.SetFault("*", connectsim.Fault{Kind: "internal", Probability: 0.2})
	var recips []map[string]any
	for i := 0; i < 150; i++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("r%03d", i), "phone": fmt.Sprintf("+1202555%04d", i)})
	}
	allDay := map[string]any{}
	for _, d := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
		allDay[d] = []map[string]string{{"start": "00:00", "end": "24:00"}}
	}
	launched := false
	var lastErr error
	for try := 0; try < 50 && !launched; try++ { // the launch meets the faults too: its retries (and a redrive from the dead-letter queue) complete it
		lastErr = r.send("Campaign Launched", campaign("rel", map[string]any{
			"recipients": recips, "callingWindows": map[string]any{"weekly": allDay, "enforceUSCallingHours": false},
		}))
		launched = lastErr == nil
	}
	if !launched {
		t.Fatalf("the launch failed 50 times: %v", lastErr)
	}
	// A launch that failed part-way is completed by its redelivery; one more makes sure.
	if err := r.send("Campaign Launched", campaign("rel", map[string]any{
		"recipients": recips, "callingWindows": map[string]any{"weekly": allDay, "enforceUSCallingHours": false},
	})); err != nil {
		t.Logf("redelivered launch: %v", err)
	}
	var c interface{ Active() bool }
	for tick := 0; tick < 24*60; tick++ {
		r.tickTolerant()
		cc, err := r.store.Campaign(context.Background(), "rel")
		if err == nil && !cc.Status.Active() {
			c = cc.Status
			break
		}
	}
	if c == nil {
		t.Fatal("the campaign did not finish in a simulated day")
	}
	r.proxy.Clear()
	r.sim.ClearFaults()
	recs := r.recipientsOf("rel")
	if len(recs) != 150 {
		t.Fatalf("%d recipients", len(recs))
	}
	states := map[dialer.State]int{}
	for id, rec := range recs {
		states[rec.State]++
		if !rec.State.Final() || rec.Reason == "" {
			t.Errorf("%s: %s (%q)", id, rec.State, rec.Reason)
		}
	}
	tokens := map[string]bool{}
	per := map[string]int{}
	for _, ct := range r.sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		if tokens[ct.ClientToken] {
			t.Errorf("ClientToken %s used for two contacts", ct.ClientToken)
		}
		tokens[ct.ClientToken] = true
		per[ct.CustomerNumber]++
	}
	for _, rec := range recs {
		if per[rec.Phone] > rec.Attempt {
			t.Errorf("%s: %d calls for %d attempts", donotcall.Mask(rec.Phone), per[rec.Phone], rec.Attempt)
		}
	}
	if r.proxy.Faulted(authstatetest.AppliedThen500) == 0 || r.proxy.Faulted(authstatetest.NotApplied500) == 0 {
		t.Error("no DynamoDB fault was injected")
	}
	t.Logf("%d calls, states %v, DynamoDB faults %d applied-then-500 and %d not applied, %d contact events failed 3 times",
		len(tokens), states, r.proxy.Faulted(authstatetest.AppliedThen500), r.proxy.Faulted(authstatetest.NotApplied500), r.eventFailures)
}
