package connectsim_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/logcapture"
)

// With the at-least-once delivery knobs on, calls running concurrently on a fast clock still
// deliver every event (some twice, some late) and never deadlock the Sim. The exact swaps are
// tested in events_internal_test.go.
func TestDuplicateAndReorderedDeliveryUnderLoad(t *testing.T) {
	w := callWorld()
	w.Instances[0].MaxConcurrentCalls = 50
	w.Calls.TalkMin, w.Calls.TalkMax = connectsim.Duration(time.Second), connectsim.Duration(time.Second)
	w.Calls.AfterContactWork = connectsim.Duration(time.Second)
	rec := &recorder{}
	srv, cl := start(t, connectsim.Options{
		World: w, TimeScale: 1000, Seed: 11, OnEvent: rec.on, DisableThrottling: true,
		Delivery: connectsim.DeliveryOptions{DuplicateProbability: 0.5, ReorderProbability: 0.5},
	})

	done := make(chan []string, 1)
	go func() {
		var mu sync.Mutex
		var ids []string
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				to := []string{numAnswer, numNoAnswer, numBusy, numFail}[i%4]
				id, err := dial(cl, to)
				if err != nil {
					t.Errorf("dial %d: %v", i, err)
					return
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}()
		}
		wg.Wait()
		// Every call ends within a few simulated minutes: a few hundred ms at this scale.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if srv.Stats().ActiveCalls[connectsim.DefaultInstanceID] == 0 {
				break
			}
		}
		srv.Drain(10 * time.Second)
		done <- ids
	}()
	var ids []string
	select {
	case ids = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("calls did not finish within 60 s: the Sim is deadlocked")
	}

	if len(ids) != 24 {
		t.Fatalf("placed %d calls, want 24", len(ids))
	}
	duplicates := 0 // 24 calls emit about 70 events: a duplicate is all but certain
	for _, id := range ids {
		evs := rec.forContact(id)
		seen := map[string]int{}
		for _, e := range evs {
			seen[e.Detail.EventType]++
		}
		if seen[connectsim.EventInitiated] == 0 || seen[connectsim.EventDisconnected] == 0 {
			t.Errorf("contact %s: events %s lack INITIATED or DISCONNECTED", id, types_(evs))
		}
		for _, n := range seen {
			duplicates += n - 1
		}
	}
	if duplicates == 0 {
		t.Error("DuplicateProbability 0.5 delivered no event twice")
	}
}

// A request that arrives after Close (a handler still mounted somewhere) is answered or
// refused, never a panic.
func TestRequestsAfterCloseDoNotPanic(t *testing.T) {
	sim, err := connectsim.New(connectsim.Options{World: callWorld(), DisableThrottling: true})
	if err != nil {
		t.Fatal(err)
	}
	// In-process transport: a panic in the handler reaches this test instead of net/http's
	// recovery.
	direct := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		return rec.Result(), nil
	})
	cl := connect.New(connect.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://connectsim.invalid"),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		HTTPClient:       &http.Client{Transport: direct},
		RetryMaxAttempts: 1,
	})
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{numAnswer, numBusy} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("StartOutboundVoiceContact after Close panicked: %v", r)
				}
			}()
			_, err := dial(cl, to)
			var ae interface{ ErrorCode() string }
			if err != nil && !errors.As(err, &ae) {
				t.Errorf("after Close: %v", err)
			}
		}()
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// OLDEST_CONTACT_AGE is in milliseconds when the request has no groupings, although its unit
// says SECONDS, and in seconds with groupings: the API reference's own example gives 24113.0
// for 24 seconds.
func TestOldestContactAgeUnitsFollowTheReference(t *testing.T) {
	w := callWorld()
	w.Instances[0].Agents = nil // nobody takes the call: it waits in the queue
	w.Calls.QueueTimeout = 0
	srv, cl, _ := startCalls(t, w)
	if _, err := dial(cl, numAnswer); err != nil {
		t.Fatal(err)
	}
	// Ring 10 s, flow 2 s, then 24 s in the queue.
	if err := srv.Advance(12*time.Second + 24*time.Second); err != nil {
		t.Fatal(err)
	}
	get := func(groupings []types.Grouping) float64 {
		t.Helper()
		out, err := cl.GetCurrentMetricData(context.Background(), &connect.GetCurrentMetricDataInput{
			InstanceId: aws.String(connectsim.DefaultInstanceID),
			Filters:    &types.Filters{Queues: []string{connectsim.DefaultQueueID}, Channels: []types.Channel{types.ChannelVoice}},
			Groupings:  groupings,
			CurrentMetrics: []types.CurrentMetric{
				{Name: types.CurrentMetricNameOldestContactAge, Unit: types.UnitSeconds},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.MetricResults) != 1 || len(out.MetricResults[0].Collections) != 1 {
			t.Fatalf("results %+v", out.MetricResults)
		}
		c := out.MetricResults[0].Collections[0]
		if c.Metric.Unit != types.UnitSeconds {
			t.Errorf("unit %s, want SECONDS", c.Metric.Unit)
		}
		return aws.ToFloat64(c.Value)
	}
	if got := get(nil); got != 24000 {
		t.Errorf("without groupings OLDEST_CONTACT_AGE = %v, want 24000 (milliseconds)", got)
	}
	if got := get([]types.Grouping{types.GroupingQueue}); got != 24 {
		t.Errorf("grouped by queue OLDEST_CONTACT_AGE = %v, want 24 (seconds)", got)
	}
}

// A long run forgets the oldest ended contacts beyond RetainContacts, keeps active ones, and
// (with clientTokenAfterEnd same-contact) a replayed ClientToken of a forgotten call still
// answers its ContactId without a new call.
func TestRetainContactsBoundsMemory(t *testing.T) {
	w := callWorld()
	w.ClientTokenAfterEnd = connectsim.TokenSameContact
	srv, cl := start(t, connectsim.Options{World: w, RetainContacts: 10, DisableThrottling: true})
	active, err := srv.CreateContact(connectsim.NewContact{})
	if err != nil {
		t.Fatal(err)
	}
	token := func(i int) func(*connect.StartOutboundVoiceContactInput) {
		return func(in *connect.StartOutboundVoiceContactInput) {
			in.ClientToken = aws.String(fmt.Sprintf("attempt-%d", i))
		}
	}
	var ids []string
	for i := range 30 {
		id, err := dial(cl, numBusy, token(i))
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		ids = append(ids, id)
		if err := srv.Advance(5 * time.Second); err != nil { // a busy line ends after 3 s
			t.Fatal(err)
		}
	}
	contacts := srv.Contacts()
	if len(contacts) > 10 {
		t.Errorf("%d contacts retained, want at most 10", len(contacts))
	}
	if _, ok := srv.Contact(active.ID); !ok {
		t.Error("the active contact was forgotten")
	}
	if _, ok := srv.Contact(ids[29]); !ok {
		t.Error("the newest call was forgotten")
	}
	if _, ok := srv.Contact(ids[0]); ok {
		t.Error("the oldest ended call is still retained")
	}
	before := srv.Stats().Requests["StartOutboundVoiceContact"]["ok"]
	replayed, err := dial(cl, numBusy, token(0))
	if err != nil || replayed != ids[0] {
		t.Fatalf("replay of a forgotten call's token = %q, %v; want %q", replayed, err, ids[0])
	}
	if n := len(srv.Contacts()); n > 10 {
		t.Errorf("the replay added a contact: %d retained", n)
	}
	if after := srv.Stats().Requests["StartOutboundVoiceContact"]["ok"]; after != before+1 {
		t.Errorf("ok count %d -> %d", before, after)
	}
}

// Phone numbers never reach the Sim's log or a contact's history in clear.
func TestNumbersAreMaskedInLogsAndHistory(t *testing.T) {
	var logs logcapture.Buffer
	srv, cl := start(t, connectsim.Options{World: callWorld(), DisableThrottling: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	id, err := dial(cl, numAnswer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dial(cl, "+447700900123"); err == nil { // blocked prefix: the error names the number
		t.Fatal("a call to a blocked prefix was placed")
	} else if strings.Contains(err.Error(), "447700900123") {
		t.Errorf("error message holds the number in clear: %v", err)
	}
	c, _ := srv.Contact(id)
	var history strings.Builder
	for _, h := range c.History {
		history.WriteString(h.Detail + "\n")
	}
	for name, text := range map[string]string{"log": logs.String(), "history": history.String()} {
		if strings.Contains(text, "5555550111") {
			t.Errorf("%s holds the number in clear:\n%s", name, text)
		}
		if !strings.Contains(text, "+1******0111") {
			t.Errorf("%s does not show the masked number +1******0111:\n%s", name, text)
		}
	}
}
