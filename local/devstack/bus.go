package devstack

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// PutEvents limits (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html):
// 1 to 10 entries, 256 KB in all.
const (
	maxEntries    = 10
	maxEntryBytes = 256 * 1024
)

// Rule sends the events of its bus that match Pattern to a function, asynchronously.
type Rule struct {
	Name    string
	Pattern Pattern
	Target  string
}

// EventBridge is the stack's event buses: PutEvents over HTTP (JSON 1.1), and the contact events
// connectsim emits, both matched against each bus's rules and delivered to the rules' functions
// in the EventBridge envelope.
type EventBridge struct {
	clock   connectsim.Clock
	log     *slog.Logger
	fns     *Functions
	region  string
	account string
	buses   map[string][]Rule

	mu        sync.Mutex
	published int
	delivered map[string]int // by rule
	unmatched int
}

func newEventBridge(clock connectsim.Clock, log *slog.Logger, fns *Functions, region, account string) *EventBridge {
	return &EventBridge{clock: clock, log: log, fns: fns, region: region, account: account, buses: map[string][]Rule{}, delivered: map[string]int{}}
}

func (e *EventBridge) addBus(name string, rules ...Rule) {
	e.buses[name] = append(e.buses[name], rules...)
}

func (e *EventBridge) busARN(name string) string {
	return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", e.region, e.account, name)
}

// BusStats are the bus counters.
type BusStats struct {
	Published int            `json:"published"`
	Unmatched int            `json:"unmatched"`
	Delivered map[string]int `json:"delivered"`
}

// Stats returns a copy of the counters.
func (e *EventBridge) Stats() BusStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := map[string]int{}
	for k, v := range e.delivered {
		d[k] = v
	}
	return BusStats{Published: e.published, Unmatched: e.unmatched, Delivered: d}
}

// publish matches one envelope against the rules of a bus and hands it to each matching rule's
// function.
func (e *EventBridge) publish(bus string, envelope []byte) error {
	rules, ok := e.buses[bus]
	if !ok {
		return fmt.Errorf("event bus %s does not exist", bus)
	}
	var ev map[string]any
	if err := json.Unmarshal(envelope, &ev); err != nil {
		return fmt.Errorf("event is not a JSON object: %w", err)
	}
	id, _ := ev["id"].(string)
	matched := 0
	for _, r := range rules {
		if r.Pattern.Match(ev) {
			matched++
			e.fns.InvokeAsync(r.Target, envelope, fmt.Sprintf("%s %s", r.Name, safetext.Prefix(id, 64)))
			e.mu.Lock()
			e.delivered[r.Name]++
			e.mu.Unlock()
		}
	}
	e.mu.Lock()
	e.published++
	if matched == 0 {
		e.unmatched++
	}
	e.mu.Unlock()
	if matched == 0 {
		dt, _ := ev["detail-type"].(string)
		e.log.Debug("event matched no rule", "bus", bus, "detail_type", safetext.Prefix(dt, 128), "event_id", safetext.Prefix(id, 64))
	}
	return nil
}

// onContactEvent puts one of connectsim's contact events on the default bus, as Amazon Connect
// does.
func (e *EventBridge) onContactEvent(ev connectsim.Event) {
	b, err := json.Marshal(ev)
	if err == nil {
		err = e.publish("default", b)
	}
	if err != nil {
		e.log.Error("contact event not published", "contact_id", ev.Detail.ContactID, "error", err)
	}
}

// Entry is one PutEvents request entry.
type Entry struct {
	Source       string   `json:"Source"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	EventBusName string   `json:"EventBusName"`
	Resources    []string `json:"Resources"`
	// Time is epoch seconds (the JSON 1.1 timestamp); 0 takes the simulated clock's now.
	Time        float64 `json:"Time"`
	TraceHeader string  `json:"TraceHeader"`
}

// ResultEntry is one entry of the PutEvents response: an EventId, or an error.
type ResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// Put publishes entries as PutEvents does: every entry gets a result, in order.
func (e *EventBridge) Put(entries []Entry) (results []ResultEntry, failed int) {
	for _, en := range entries {
		r := e.putOne(en)
		if r.ErrorCode != "" {
			failed++
		}
		results = append(results, r)
	}
	return results, failed
}

func (e *EventBridge) putOne(en Entry) ResultEntry {
	var missing []string
	for _, f := range []struct{ name, v string }{{"Source", en.Source}, {"DetailType", en.DetailType}, {"Detail", en.Detail}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return ResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter(s) " + strings.Join(missing, ", ") + " are required."}
	}
	if len(en.Source) > 256 || len(en.DetailType) > 128 {
		return ResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: "Source is at most 256 characters and DetailType at most 128."}
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(en.Detail), &detail); err != nil || detail == nil {
		return ResultEntry{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed: it must be a JSON object."}
	}
	bus := en.EventBusName
	if bus == "" {
		bus = "default"
	}
	bus = strings.TrimPrefix(bus, e.busARN(""))
	if _, ok := e.buses[bus]; !ok {
		return ResultEntry{ErrorCode: "ResourceNotFoundException", ErrorMessage: fmt.Sprintf("Event bus %s does not exist (devstack has %s).", safetext.Prefix(bus, 256), strings.Join(e.busNames(), ", "))}
	}
	at := e.clock.Now()
	if en.Time != 0 {
		if math.IsNaN(en.Time) || math.IsInf(en.Time, 0) {
			return ResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: "Time is not a timestamp."}
		}
		sec, frac := math.Modf(en.Time)
		at = time.Unix(int64(sec), int64(frac*1e9))
	}
	resources := en.Resources
	if resources == nil {
		resources = []string{}
	}
	id := newUUID()
	env, err := json.Marshal(map[string]any{
		"version": "0", "id": id, "detail-type": en.DetailType, "source": en.Source, "account": e.account,
		"time": at.UTC().Format(time.RFC3339), "region": e.region, "resources": resources, "detail": json.RawMessage(en.Detail),
	})
	if err == nil {
		err = e.publish(bus, env)
	}
	if err != nil {
		return ResultEntry{ErrorCode: "InternalFailure", ErrorMessage: err.Error()}
	}
	return ResultEntry{EventID: id}
}

func (e *EventBridge) busNames() []string {
	var out []string
	for n := range e.buses {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP is EventBridge's JSON 1.1 API, PutEvents only (X-Amz-Target: AWSEvents.PutEvents).
func (e *EventBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", "devstack's EventBridge serves only POST with X-Amz-Target: AWSEvents.PutEvents")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "AWSEvents.PutEvents" {
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("operation %q is not supported: devstack's EventBridge serves only AWSEvents.PutEvents", safetext.Prefix(target, 80)))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2*maxEntryBytes+1))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "SerializationException", "could not read the request body")
		return
	}
	if len(body) > 2*maxEntryBytes {
		jsonError(w, http.StatusRequestEntityTooLarge, "ValidationException", "Total size of the entries in the request is over the limit.")
		return
	}
	var in struct {
		Entries []Entry `json:"Entries"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		jsonError(w, http.StatusBadRequest, "SerializationException", "the request body is not a PutEvents request: "+safetext.Prefix(err.Error(), 200))
		return
	}
	if len(in.Entries) < 1 || len(in.Entries) > maxEntries {
		jsonError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d (got %d)", maxEntries, len(in.Entries)))
		return
	}
	size := 0
	for _, en := range in.Entries {
		size += len(en.Source) + len(en.DetailType) + len(en.Detail) + 14 // 14: Time
		for _, res := range en.Resources {
			size += len(res)
		}
	}
	if size > maxEntryBytes {
		jsonError(w, http.StatusBadRequest, "ValidationException", "Total size of the entries in the request is over the limit.")
		return
	}
	results, failed := e.Put(in.Entries)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"FailedEntryCount": failed, "Entries": results})
}

// jsonError writes a JSON 1.1 error.
func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
