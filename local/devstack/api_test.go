package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// The dialer's sample events (events/dialer) against the rules' patterns, as EventBridge would
// route them.
func TestPatternsRouteTheSampleEvents(t *testing.T) {
	const arn = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555"
	control, contact := DialerControlPattern(), DialerContactPattern(arn)
	want := map[string][2]bool{ // file: matches control, matches contact
		"campaign-launched.json": {true, false}, "campaign-launched-s3.json": {true, false}, "campaign-updated.json": {true, false},
		"campaign-paused.json": {true, false}, "campaign-resumed.json": {true, false}, "campaign-stopped.json": {true, false},
		"call-requested.json": {true, false}, "call-stop-requested.json": {true, false},
		"tick.json":                 {false, false}, // the scheduler invokes the dialer directly
		"contact-disconnected.json": {false, true},
		// Not an ending, and not in the rule's casing.
		"contact-data-updated.json": {false, false}, "contact-initiated-other-casing.json": {false, false},
	}
	files, err := filepath.Glob("../../events/dialer/*.json")
	if err != nil || len(files) != len(want) {
		t.Fatalf("%d samples (%v), the test knows %d: add the new ones here", len(files), err, len(want))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		w := want[filepath.Base(f)]
		if got := [2]bool{control.Match(ev), contact.Match(ev)}; got != w {
			t.Errorf("%s: matches (control, contact) = %v, want %v", filepath.Base(f), got, w)
		}
	}
}

func TestPatternMatching(t *testing.T) {
	p := Pattern{"source": []string{"a", "b"}, "detail": Pattern{"k": []string{"x"}}}
	for _, tc := range []struct {
		ev   string
		want bool
	}{
		{`{"source":"a","detail":{"k":"x"}}`, true},
		{`{"source":"b","detail":{"k":["y","x"]}}`, true}, // an array matches when an element does
		{`{"source":"A","detail":{"k":"x"}}`, false},      // case-sensitive
		{`{"source":"a","detail":{"k":"y"}}`, false},
		{`{"source":"a"}`, false},
		{`{"source":"a","detail":"k"}`, false},
		{`{"source":1,"detail":{"k":"x"}}`, false},
	} {
		var ev map[string]any
		if err := json.Unmarshal([]byte(tc.ev), &ev); err != nil {
			t.Fatal(err)
		}
		if got := p.Match(ev); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.ev, got, tc.want)
		}
	}
}

// recorder is a function that records its payloads and fails while fail is set.
type recorder struct {
	mu       sync.Mutex
	payloads [][]byte
	fail     bool
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payloads = append(r.payloads, payload)
	if r.fail {
		return nil, errors.New("boom")
	}
	return []byte(`{"ok":true}`), nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.payloads)
}

func newTestBus(t *testing.T) (*EventBridge, *Functions, *recorder, *connectsim.ManualClock) {
	clock := connectsim.NewManualClock(time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC))
	fns := newFunctions(clock, slog.New(slog.DiscardHandler), "us-east-1", "123456789012")
	rec := &recorder{}
	fns.add("target", rec)
	bus := newEventBridge(clock, slog.New(slog.DiscardHandler), fns, "us-east-1", "123456789012")
	bus.addBus("default")
	bus.addBus(DialerBus, Rule{Name: "control", Pattern: DialerControlPattern(), Target: "target"})
	t.Cleanup(fns.close)
	return bus, fns, rec, clock
}

func putEvents(t *testing.T, h http.Handler, target, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("response %q: %v", w.Body.String(), err)
	}
	return w.Code, out
}

func TestPutEventsValidatesEachEntryAndRoutes(t *testing.T) {
	bus, _, rec, _ := newTestBus(t)
	body := `{"Entries":[
		{"EventBusName":"Switchboard-dialer","Source":"switchboard","DetailType":"Campaign Paused","Detail":"{\"campaignId\":\"c1\"}","Time":1805306400},
		{"EventBusName":"Switchboard-dialer","Source":"switchboard","DetailType":"Campaign Paused"},
		{"EventBusName":"Switchboard-dialer","Source":"switchboard","DetailType":"Campaign Paused","Detail":"[1]"},
		{"EventBusName":"nope","Source":"switchboard","DetailType":"Campaign Paused","Detail":"{}"},
		{"Source":"switchboard","DetailType":"Campaign Paused","Detail":"{}"},
		{"EventBusName":"arn:aws:events:us-east-1:123456789012:event-bus/Switchboard-dialer","Source":"other","DetailType":"Campaign Paused","Detail":"{}"}
	]}`
	code, out := putEvents(t, bus, "AWSEvents.PutEvents", body)
	if code != 200 || out["FailedEntryCount"] != float64(3) {
		t.Fatalf("%d %v, want 200 with 3 failed entries", code, out)
	}
	entries := out["Entries"].([]any)
	wantCodes := []string{"", "InvalidArgument", "MalformedDetail", "ResourceNotFoundException", "", ""}
	for i, e := range entries {
		m := e.(map[string]any)
		got, _ := m["ErrorCode"].(string)
		if got != wantCodes[i] || (got == "") == (m["EventId"] == nil) {
			t.Errorf("entry %d: %v, want error code %q", i, m, wantCodes[i])
		}
	}
	// Only the first matches the control rule (the fifth went to the default bus, the sixth has
	// another source).
	for deadline := time.Now().Add(10 * time.Second); rec.count() < 1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if rec.count() != 1 {
		t.Fatalf("%d deliveries, want 1", rec.count())
	}
	var env map[string]any
	if err := json.Unmarshal(rec.payloads[0], &env); err != nil {
		t.Fatal(err)
	}
	if env["detail-type"] != "Campaign Paused" || env["source"] != "switchboard" || env["time"] != "2027-03-17T18:00:00Z" ||
		env["detail"].(map[string]any)["campaignId"] != "c1" || env["version"] != "0" || env["account"] != "123456789012" {
		t.Errorf("envelope %v", env)
	}
	if st := bus.Stats(); st.Published != 3 || st.Unmatched != 2 || st.Delivered["control"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestPutEventsRequestErrors(t *testing.T) {
	bus, _, _, _ := newTestBus(t)
	entry := `{"Source":"s","DetailType":"d","Detail":"{}"}`
	for _, tc := range []struct {
		name, target, body, code string
	}{
		{"other operation", "AWSEvents.ListRules", `{}`, "UnknownOperationException"},
		{"no entries", "AWSEvents.PutEvents", `{"Entries":[]}`, "ValidationException"},
		{"eleven entries", "AWSEvents.PutEvents", `{"Entries":[` + strings.Repeat(entry+",", 10) + entry + `]}`, "ValidationException"},
		{"over 256 KB", "AWSEvents.PutEvents", `{"Entries":[{"Source":"s","DetailType":"d","Detail":"{\"a\":\"` + strings.Repeat("x", 300*1024) + `\"}"}]}`, "ValidationException"},
		{"not JSON", "AWSEvents.PutEvents", `{"Entries":`, "SerializationException"},
	} {
		code, out := putEvents(t, bus, tc.target, tc.body)
		if code != 400 || out["__type"] != tc.code {
			t.Errorf("%s: %d %v, want 400 %s", tc.name, code, out, tc.code)
		}
	}
}

func invokeHTTP(t *testing.T, h http.Handler, path, kind, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if kind != "" {
		req.Header.Set("X-Amz-Invocation-Type", kind)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestInvokeAPI(t *testing.T) {
	_, fns, rec, clock := newTestBus(t)
	const path = "/2015-03-31/functions/target/invocations"

	w := invokeHTTP(t, fns, path, "", `{"a":1}`)
	if w.Code != 200 || w.Body.String() != `{"ok":true}` || w.Header().Get("X-Amz-Function-Error") != "" || w.Header().Get("X-Amz-Executed-Version") != "$LATEST" {
		t.Errorf("RequestResponse: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	arnPath := "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:target/invocations"
	if w := invokeHTTP(t, fns, arnPath, "DryRun", ``); w.Code != 204 {
		t.Errorf("DryRun by ARN: %d", w.Code)
	}
	for _, tc := range []struct {
		name, path, kind, body string
		status                 int
		code                   string
	}{
		{"unknown function", "/2015-03-31/functions/nope/invocations", "", `{}`, 404, "ResourceNotFoundException"},
		{"a version", path + "?Qualifier=3", "", `{}`, 404, "ResourceNotFoundException"},
		{"not JSON", path, "", `{`, 400, "InvalidRequestContentException"},
		{"bad invocation type", path, "Later", `{}`, 400, "InvalidParameterValueException"},
		{"async over 256 KB", path, "Event", `"` + strings.Repeat("x", 256*1024) + `"`, 413, "RequestTooLargeException"},
		{"another operation", "/2015-03-31/functions/target", "", `{}`, 404, "UnknownOperationException"},
	} {
		w := invokeHTTP(t, fns, tc.path, tc.kind, tc.body)
		if w.Code != tc.status || w.Header().Get("X-Amzn-Errortype") != tc.code {
			t.Errorf("%s: %d %s %q, want %d %s", tc.name, w.Code, w.Header().Get("X-Amzn-Errortype"), w.Body.String(), tc.status, tc.code)
		}
	}

	// A function error: 200 with X-Amz-Function-Error and the runtime's error document.
	rec.mu.Lock()
	rec.fail = true
	rec.mu.Unlock()
	w = invokeHTTP(t, fns, path, "", `{}`)
	var doc map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &doc)
	if w.Code != 200 || w.Header().Get("X-Amz-Function-Error") != "Unhandled" || doc["errorMessage"] != "boom" || doc["errorType"] != "errorString" {
		t.Errorf("function error: %d %v %q", w.Code, w.Header(), w.Body.String())
	}

	// An asynchronous invocation that keeps failing is tried three times: now, one and then
	// two simulated minutes later.
	before := rec.count()
	if w := invokeHTTP(t, fns, path, "Event", `{}`); w.Code != 202 {
		t.Fatalf("Event: %d", w.Code)
	}
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); rec.count() < n; {
			if time.Now().After(deadline) {
				t.Fatalf("%d invocations, want %d", rec.count(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(before + 1)
	for clock.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	clock.Advance(59 * time.Second)
	time.Sleep(20 * time.Millisecond)
	if rec.count() != before+1 {
		t.Fatalf("retried before a minute")
	}
	clock.Advance(time.Second)
	waitFor(before + 2)
	for clock.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	clock.Advance(2 * time.Minute)
	waitFor(before + 3)
	for deadline := time.Now().Add(10 * time.Second); fns.Stats()["target"].Failed != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, want one failed event", fns.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	clock.Advance(time.Hour)
	time.Sleep(20 * time.Millisecond)
	if rec.count() != before+3 {
		t.Errorf("%d invocations after giving up, want %d", rec.count(), before+3)
	}
}
