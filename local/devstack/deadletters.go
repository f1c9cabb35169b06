package devstack

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// InvocationRecord is what Lambda sends to a function's on-failure destination when an
// asynchronous event failed every attempt: the example record of "Capturing records of Lambda
// asynchronous invocations" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html,
// "Example invocation record"). In the CDK stack it is the body of a message in
// DialerOnFailureQueue (infra/dialer.go); in devstack it is an entry of the dead-letter list
// (GET /_devstack/dead-letters), so that a replay recipe reads both the same way.
type InvocationRecord struct {
	Version string `json:"version"`
	// Timestamp is when the event was given up, on the simulated clock
	// ("2019-11-14T18:16:05.568Z").
	Timestamp       string          `json:"timestamp"`
	RequestContext  RequestContext  `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponseContext ResponseContext `json:"responseContext"`
	// ResponsePayload is the function's error document, {"errorMessage","errorType"}.
	ResponsePayload json.RawMessage `json:"responsePayload"`
}

// RequestContext says which event failed, where, why and after how many attempts.
type RequestContext struct {
	RequestID string `json:"requestId"`
	// FunctionArn is qualified: arn:aws:lambda:<region>:<account>:function:<name>:$LATEST.
	FunctionArn string `json:"functionArn"`
	// Condition is RetriesExhausted: the event failed its first attempt and both retries.
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext is the last attempt's answer.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"`
}

// conditionRetriesExhausted is the record's condition after the last retry failed.
const conditionRetriesExhausted = "RetriesExhausted"

// deadLettersPath is the dead-letter list on the Lambda API's port: devstack's stand-in for the
// on-failure queue.
const deadLettersPath = "/_devstack/dead-letters"

// newInvocationRecord is the record of an event given up after attempts failed attempts.
func (f *Functions) newInvocationRecord(name, requestID string, payload []byte, attempts int, err error) InvocationRecord {
	if len(payload) == 0 {
		payload = []byte("null")
	}
	return InvocationRecord{
		Version:   "1.0",
		Timestamp: f.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext: RequestContext{
			RequestID: requestID, FunctionArn: f.arn(name) + ":$LATEST",
			Condition: conditionRetriesExhausted, ApproximateInvokeCount: attempts,
		},
		RequestPayload:  json.RawMessage(payload),
		ResponseContext: ResponseContext{StatusCode: http.StatusOK, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"},
		ResponsePayload: errorDocument(err),
	}
}

// errorDocument is the runtime's answer to a function error: {"errorMessage","errorType"}.
func errorDocument(err error) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": errorType(err)})
	return b
}

// DeadLetters returns the asynchronous events given up after every retry, oldest first.
func (f *Functions) DeadLetters() []InvocationRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]InvocationRecord(nil), f.deadLetters...)
}

// removeDeadLetter takes the record of requestID off the list, as deleting the message from the
// on-failure queue does once its event was replayed.
func (f *Functions) removeDeadLetter(requestID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.deadLetters {
		if r.RequestContext.RequestID == requestID {
			f.deadLetters = append(f.deadLetters[:i], f.deadLetters[i+1:]...)
			return true
		}
	}
	return false
}

// serveDeadLetters is GET /_devstack/dead-letters[?function=<name>] (the records, oldest first,
// as a JSON array) and DELETE /_devstack/dead-letters/<requestId> (204, or 404 for a record that
// is not there).
func (f *Functions) serveDeadLetters(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, deadLettersPath)
	switch {
	case r.Method == http.MethodGet && (rest == "" || rest == "/"):
		out := []InvocationRecord{}
		want := r.URL.Query().Get("function")
		for _, rec := range f.DeadLetters() {
			if want == "" || strings.HasSuffix(strings.TrimSuffix(rec.RequestContext.FunctionArn, ":$LATEST"), ":function:"+want) {
				out = append(out, rec)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodDelete && strings.HasPrefix(rest, "/") && len(rest) > 1:
		if !f.removeDeadLetter(rest[1:]) {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "no dead letter with requestId "+safetext.Prefix(rest[1:], 64))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		lambdaError(w, http.StatusNotFound, "UnknownOperationException", "devstack serves GET "+deadLettersPath+" and DELETE "+deadLettersPath+"/{requestId}")
	}
}

// DeadLetterStatus is one dead letter as the status page shows it: what the event was, never
// its payload (a Call Requested holds a phone number).
type DeadLetterStatus struct {
	At        time.Time `json:"at"`
	Function  string    `json:"function"`
	RequestID string    `json:"requestId"`
	Attempts  int       `json:"attempts"`
	// DetailType and EventID are the EventBridge envelope's, when the payload is one.
	DetailType string `json:"detailType,omitempty"`
	EventID    string `json:"eventId,omitempty"`
	// Error is the last attempt's error message, phone numbers masked.
	Error string `json:"error"`
}

func deadLetterStatus(r InvocationRecord) DeadLetterStatus {
	s := DeadLetterStatus{RequestID: r.RequestContext.RequestID, Attempts: r.RequestContext.ApproximateInvokeCount}
	s.At, _ = time.Parse(time.RFC3339Nano, r.Timestamp)
	arn := strings.TrimSuffix(r.RequestContext.FunctionArn, ":$LATEST")
	s.Function = arn[strings.LastIndex(arn, ":")+1:]
	var env struct {
		DetailType string `json:"detail-type"`
		ID         string `json:"id"`
	}
	if json.Unmarshal(r.RequestPayload, &env) == nil {
		s.DetailType, s.EventID = safetext.Prefix(env.DetailType, 128), safetext.Prefix(env.ID, 64)
	}
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(r.ResponsePayload, &doc)
	s.Error = phone.Scrub(safetext.Prefix(doc.ErrorMessage, 300))
	return s
}
