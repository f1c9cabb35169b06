package connectsim_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
)

// TestTwentyPercentEventLossDescribeContactTellsFinalState runs 300 calls with 20 % of the
// events lost. Some calls lose their DISCONNECTED event; DescribeContact still tells every
// call's final state (disconnect timestamp and reason), which a dialer's watchdog relies on.
func TestTwentyPercentEventLossDescribeContactTellsFinalState(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	w.Instances[0].MaxConcurrentCalls = 1000
	w.Delivery = connectsim.EventDelivery{LossProbability: 0.2}
	rec := &recorder{}
	srv, cl := start(t, connectsim.Options{World: w, DisableThrottling: true, Seed: 3, OnEvent: rec.on})
	const n = 300
	var ids []string
	for i := 0; i < n; i++ {
		id, err := dial(cl, fmt.Sprintf("+1303555%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i := 0; i < 60; i++ {
		_ = srv.Advance(time.Minute)
	}
	st := srv.Stats()
	// About a fifth of the events are lost: 4 binomial sigmas around 20 %.
	if lo, hi := 0.2*float64(st.EventsEmitted)-4*sd(st.EventsEmitted, 0.2), 0.2*float64(st.EventsEmitted)+4*sd(st.EventsEmitted, 0.2); float64(st.EventsLost) < lo || float64(st.EventsLost) > hi {
		t.Fatalf("%d of %d events lost, want 20 %% (%.0f to %.0f)", st.EventsLost, st.EventsEmitted, lo, hi)
	}
	if got := len(rec.evs); got != st.EventsEmitted-st.EventsLost {
		t.Fatalf("%d events delivered, %d emitted, %d lost", got, st.EventsEmitted, st.EventsLost)
	}
	withoutDisconnected := 0
	for _, id := range ids {
		seen := false
		for _, e := range rec.forContact(id) {
			seen = seen || e.Detail.EventType == "DISCONNECTED"
		}
		if !seen {
			withoutDisconnected++
		}
		d := describe(t, cl, id)
		if d.DisconnectTimestamp == nil || aws.ToString(d.DisconnectReason) == "" {
			t.Fatalf("DescribeContact of %s has no final state: %+v", id, d)
		}
	}
	if withoutDisconnected == 0 {
		t.Fatal("no call lost its DISCONNECTED event: the loss setting did nothing")
	}
	t.Logf("%d of %d events lost; %d of %d calls without a DISCONNECTED event", st.EventsLost, st.EventsEmitted, withoutDisconnected, n)
}

func TestDeliveryDelayAndAdminAPI(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	srv, cl := start(t, connectsim.Options{World: callWorld(), DisableThrottling: true, OnEvent: rec.on,
		Delivery: connectsim.DeliveryOptions{DelayProbability: 1, MaxDelay: 20 * time.Millisecond}})
	if d := srv.Delivery(); d.DelayProbability != 1 || d.MaxDelay.D() != 20*time.Millisecond {
		t.Fatalf("delivery from Options: %+v", d)
	}
	id, _ := dial(cl, numBusy)
	_ = srv.Advance(5 * time.Second) // Drain waits for the delayed events too
	if got := types_(rec.forContact(id)); len(rec.forContact(id)) != 3 {
		t.Fatalf("delayed events after a drain: %s", got)
	}
	// The admin API reads and replaces the settings.
	var got connectsim.EventDelivery
	resp, _ := doJSON(t, http.MethodPut, srv.URL+"/_connectsim/delivery", nil, map[string]any{"lossProbability": 1}, &got)
	if resp.StatusCode != 200 || got.LossProbability != 1 || got.DelayProbability != 0 {
		t.Fatalf("PUT delivery: %d %+v", resp.StatusCode, got)
	}
	before := len(rec.evs)
	_, _ = dial(cl, numBusy)
	_ = srv.Advance(5 * time.Second)
	if len(rec.evs) != before || srv.Stats().EventsLost != 3 {
		t.Fatalf("with every event lost: %d new events, %d lost", len(rec.evs)-before, srv.Stats().EventsLost)
	}
	if resp, _ := doJSON(t, http.MethodPut, srv.URL+"/_connectsim/delivery", nil, map[string]any{"lossProbability": 2}, nil); resp.StatusCode != 400 {
		t.Fatalf("a probability of 2: %d", resp.StatusCode)
	}
	srv.Reset()
	if d := srv.Delivery(); d.LossProbability != 0 || d.DelayProbability != 1 {
		t.Fatalf("Reset keeps the admin change: %+v", d)
	}
	// The world file.
	w, err := connectsim.ParseWorld([]byte(`{"delivery": {"lossProbability": 0.2, "duplicateProbability": 0.05, "delayProbability": 0.1, "maxDelay": "250ms"}}`))
	if err != nil || w.Delivery.LossProbability != 0.2 || w.Delivery.MaxDelay.D() != 250*time.Millisecond {
		t.Fatalf("world delivery: %+v %v", w.Delivery, err)
	}
	if _, err := connectsim.ParseWorld([]byte(`{"delivery": {"reorderProbability": -0.1}}`)); err == nil {
		t.Fatal("a negative probability was accepted")
	}
}

func TestStartInstantFromOptionsAndWorld(t *testing.T) {
	t.Parallel()
	begin := time.Date(2027, 3, 13, 8, 0, 0, 0, time.FixedZone("EST", -5*3600))
	srv, cl := start2(t, connectsim.Options{Start: begin, TimeScale: 1, World: callWorld(), DisableThrottling: true})
	id, err := dial(cl, numBusy)
	if err != nil {
		t.Fatal(err)
	}
	d := describe(t, cl, id)
	// A day of slack: the point is that the clock starts in 2027, not now; no timing assumption.
	if at := *d.InitiationTimestamp; at.Before(begin) || at.After(begin.Add(24*time.Hour)) {
		t.Fatalf("initiated at %v, the clock starts at %v", at, begin)
	}
	if st := srv.ClockState(); st.Manual || st.TimeScale != 1 || st.Now.Before(begin) {
		t.Fatalf("clock state %+v", st)
	}
	w, err := connectsim.ParseWorld([]byte(`{"start": "2027-11-07T01:30:00-04:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	srv2, _ := start2(t, connectsim.Options{World: w, TimeScale: 1})
	if now := srv2.ClockState().Now; now.Before(w.Start) || now.After(w.Start.Add(24*time.Hour)) {
		t.Fatalf("world start %v, clock %v", w.Start, now)
	}
	var st connectsim.ClockState
	if resp, _ := doJSON(t, http.MethodGet, srv2.URL+"/_connectsim/clock", nil, nil, &st); resp.StatusCode != 200 || st.Now.Before(w.Start) {
		t.Fatalf("GET clock: %d %+v", resp.StatusCode, st)
	}
	if _, err := connectsim.ParseWorld([]byte(`{"start": "tomorrow"}`)); err == nil {
		t.Fatal("a bad start was accepted")
	}
}

// start2 is start without the manual clock default.
func start2(t *testing.T, opts connectsim.Options) (*simtest.Server, *connect.Client) {
	t.Helper()
	srv := simtest.Start(t, opts)
	return srv, srv.ConnectClient(t, func(o *connect.Options) { o.RetryMaxAttempts = 1 })
}
