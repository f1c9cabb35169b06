package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// flaky is a function that fails on every payload with "fail": true, and records each attempt
// with its request ID.
type flaky struct {
	mu       sync.Mutex
	attempts map[string][]string // payload -> request IDs of its attempts
}

func (f *flaky) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	f.mu.Lock()
	f.attempts[string(payload)] = append(f.attempts[string(payload)], lc.AwsRequestID)
	f.mu.Unlock()
	var in struct {
		Fail bool `json:"fail"`
	}
	_ = json.Unmarshal(payload, &in)
	if in.Fail {
		return nil, errors.New("campaign c1 status: ThrottlingException: rate of requests exceeds the allowed throughput")
	}
	return []byte(`null`), nil
}

func (f *flaky) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.attempts {
		n += len(a)
	}
	return n
}

// waitUntil polls cond for up to 10 s of real time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Issue 17: an asynchronous event the function fails on is tried three times, as Lambda does
// (now, one and then two simulated minutes later), and then kept in the dead-letter list as
// Lambda's on-failure invocation record, which GET /_devstack/dead-letters serves. Every event
// sent is accounted for: handled, or in the list.
func TestAsyncEventsThatKeepFailingAreDeadLettered(t *testing.T) {
	start := time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC)
	clock := connectsim.NewManualClock(start)
	fns := newFunctions(clock, slog.New(slog.DiscardHandler), "us-east-1", "123456789012")
	fn := &flaky{attempts: map[string][]string{}}
	fns.add("flaky", fn)
	t.Cleanup(fns.close)

	var sent []string
	for i := range 5 {
		p := fmt.Sprintf(`{"n":%d,"fail":%v}`, i, i%2 == 1)
		sent = append(sent, p)
		fns.InvokeAsync("flaky", []byte(p), "test")
	}
	waitUntil(t, "the first attempts", func() bool { return fn.total() == 5 && clock.Pending() == 2 })
	clock.Advance(59 * time.Second)
	time.Sleep(20 * time.Millisecond)
	if fn.total() != 5 {
		t.Fatalf("%d attempts before a minute passed, want 5", fn.total())
	}
	clock.Advance(time.Second)
	waitUntil(t, "the first retries", func() bool { return fn.total() == 7 && clock.Pending() == 2 })
	clock.Advance(2 * time.Minute)
	waitUntil(t, "the dead letters", func() bool { return len(fns.DeadLetters()) == 2 })
	clock.Advance(time.Hour)
	time.Sleep(20 * time.Millisecond)
	if fn.total() != 9 {
		t.Errorf("%d attempts, want 5 + 2 retries of each of the 2 failing events", fn.total())
	}

	// Each failing event: three attempts under one request ID, which its record names.
	letters := fns.DeadLetters()
	var kept []string
	for _, r := range letters {
		kept = append(kept, string(r.RequestPayload))
		ids := fn.attempts[string(r.RequestPayload)]
		if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] || ids[0] != r.RequestContext.RequestID {
			t.Errorf("attempts %v of %s, want three with the record's request ID %s", ids, r.RequestPayload, r.RequestContext.RequestID)
		}
		want := InvocationRecord{
			Version: "1.0", Timestamp: "2027-03-10T18:03:00.000Z",
			RequestContext: RequestContext{RequestID: r.RequestContext.RequestID,
				FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:flaky:$LATEST", Condition: "RetriesExhausted", ApproximateInvokeCount: 3},
			RequestPayload:  r.RequestPayload,
			ResponseContext: ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"},
			ResponsePayload: json.RawMessage(`{"errorMessage":"campaign c1 status: ThrottlingException: rate of requests exceeds the allowed throughput","errorType":"errorString"}`),
		}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("record\n%+v\nwant\n%+v", r, want)
		}
	}
	sort.Strings(kept)
	if want := []string{sent[1], sent[3]}; !reflect.DeepEqual(kept, want) {
		t.Errorf("dead letters %v, want the failing events %v", kept, want)
	}
	for _, p := range []string{sent[0], sent[2], sent[4]} {
		if n := len(fn.attempts[p]); n != 1 {
			t.Errorf("%s: %d attempts, want 1 (it succeeded)", p, n)
		}
	}
	if st := fns.Stats()["flaky"]; st.Invocations != 9 || st.Errors != 6 || st.Failed != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 9 invocations, 6 errors, 2 failed, 0 dropped", st)
	}

	// The record on the wire has exactly the fields of Lambda's documented example, in its
	// shape (written out here, not taken from the type under test).
	w := httptest.NewRecorder()
	fns.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/_devstack/dead-letters", nil))
	var wire []map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &wire); w.Code != 200 || err != nil || len(wire) != 2 {
		t.Fatalf("GET dead letters: %d %q %v", w.Code, w.Body.String(), err)
	}
	if got, want := shape(wire[0]), "requestContext{approximateInvokeCount,condition,functionArn,requestId},requestPayload,responseContext{executedVersion,functionError,statusCode},responsePayload{errorMessage,errorType},timestamp,version"; got != want {
		t.Errorf("record fields\n%s\nwant\n%s", got, want)
	}
	if p := wire[0]["requestPayload"].(map[string]any); p["fail"] != true {
		t.Errorf("requestPayload %v: want the event itself, as JSON", p)
	}
	for _, tc := range []struct {
		query string
		n     int
	}{{"?function=flaky", 2}, {"?function=dialer", 0}} {
		w := httptest.NewRecorder()
		fns.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/_devstack/dead-letters"+tc.query, nil))
		if err := json.Unmarshal(w.Body.Bytes(), &wire); err != nil || len(wire) != tc.n {
			t.Errorf("GET %s: %q, want %d records", tc.query, w.Body.String(), tc.n)
		}
	}

	// Deleting a record (after its replay) takes it off the list, once.
	id := letters[0].RequestContext.RequestID
	for _, want := range []int{204, 404} {
		w := httptest.NewRecorder()
		fns.ServeHTTP(w, httptest.NewRequest(http.MethodDelete, "/_devstack/dead-letters/"+id, nil))
		if w.Code != want {
			t.Errorf("DELETE %s: %d, want %d", id, w.Code, want)
		}
	}
	if got := fns.DeadLetters(); len(got) != 1 || got[0].RequestContext.RequestID == id {
		t.Errorf("after the delete: %+v", got)
	}
}

// An event still waiting for a retry when the stack stops is not lost in silence: it is
// counted as dropped and logged as an error with its request ID, and so is one sent after the
// stop began.
func TestAsyncEventsAbandonedAtStopAreCountedAndLogged(t *testing.T) {
	clock := connectsim.NewManualClock(time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC))
	var logs bytes.Buffer
	var logMu sync.Mutex
	fns := newFunctions(clock, slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, nil)), "us-east-1", "123456789012")
	fn := &flaky{attempts: map[string][]string{}}
	fns.add("flaky", fn)
	fns.InvokeAsync("flaky", []byte(`{"fail":true}`), "waiting")
	waitUntil(t, "the first attempt", func() bool { return fn.total() == 1 && clock.Pending() == 1 })
	fns.close()
	fns.InvokeAsync("flaky", []byte(`{"fail":false}`), "late")

	if st := fns.Stats()["flaky"]; st.Dropped != 2 || st.Failed != 0 {
		t.Errorf("stats %+v, want 2 dropped", st)
	}
	logMu.Lock()
	defer logMu.Unlock()
	var dropped []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "ERROR" && strings.Contains(m["msg"].(string), "dropped") && m["request_id"] != "" {
			dropped = append(dropped, m["event"].(string))
		}
	}
	if !reflect.DeepEqual(dropped, []string{"waiting", "late"}) {
		t.Errorf("error lines for dropped events %v, want waiting and late:\n%s", dropped, logs.String())
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// shape lists a JSON object's keys, sorted, with those of nested objects in braces (not those of
// requestPayload, the event itself).
func shape(m map[string]any) string {
	var keys []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok && k != "requestPayload" {
			k += "{" + shape(sub) + "}"
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// The status page lists each dead letter by what it was, with the error's numbers masked and
// without its payload (a Call Requested holds a phone number in clear).
func TestStatusPageListsDeadLetters(t *testing.T) {
	clock := connectsim.NewManualClock(time.Date(2027, 3, 10, 18, 3, 0, 0, time.UTC))
	fns := newFunctions(clock, slog.New(slog.DiscardHandler), "us-east-1", "123456789012")
	payload := `{"version":"0","id":"ev-1","detail-type":"Call Requested <b>","source":"switchboard","detail":{"campaignId":"c1","requestId":"r1","phone":"+12025550143"}}`
	rec := fns.newInvocationRecord("dialer", "req-1", []byte(payload), 3, errors.New("claim recipient req-r1 (+12025550143): ThrottlingException"))
	s := Status{Now: clock.Now(), CallsPerMinute: []MinuteCount{{Minute: clock.Now()}}, DeadLetters: []DeadLetterStatus{deadLetterStatus(rec)}}

	want := DeadLetterStatus{At: clock.Now(), Function: "dialer", RequestID: "req-1", Attempts: 3, DetailType: "Call Requested <b>", EventID: "ev-1",
		Error: "claim recipient req-r1 (+1******0143): ThrottlingException"}
	if got := s.DeadLetters[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("status\n%+v\nwant\n%+v", got, want)
	}
	var page bytes.Buffer
	if err := statusPage.Execute(&page, map[string]any{"S": s, "Max": 1, "ChartH": 100, "BarW": 12, "Lambda": "http://127.0.0.1:3001" + deadLettersPath}); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, w := range []string{`<table id="dead-letters">`, `data-request-id="req-1"`, "Call Requested &lt;b&gt;", "1******0143", "GET http://127.0.0.1:3001/_devstack/dead-letters"} {
		if !strings.Contains(html, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	js, _ := json.Marshal(s)
	for _, leak := range []string{"2025550143", "requestPayload"} {
		if strings.Contains(html, leak) || strings.Contains(string(js), leak) {
			t.Errorf("%q on the status page or in status.json", leak)
		}
	}
	// No dead letter: says so.
	page.Reset()
	s.DeadLetters = nil
	if err := statusPage.Execute(&page, map[string]any{"S": s, "Max": 1, "ChartH": 100, "BarW": 12, "Lambda": ""}); err != nil || !strings.Contains(page.String(), `id="no-dead-letters"`) {
		t.Errorf("empty list: %v", err)
	}
}
