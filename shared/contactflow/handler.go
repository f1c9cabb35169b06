// Package contactflow is the logic of the contact-flow function that Amazon Connect's "Invoke
// AWS Lambda function" block calls: read and write the contact's attributes, and record a
// caller's opt-out in the do-not-call list.
//
// Every invocation answers a flat string map with result=ok or result=error and a stable
// error_code, within a time budget, whatever the event holds and however Connect behaves: a
// flow must always be able to tell what happened, and must never hang. docs/contactflow.md is
// the user's guide.
package contactflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// AttributeReader reads a contact's attributes (Connect's GetContactAttributes).
type AttributeReader interface {
	GetContactAttributes(ctx context.Context, in *connect.GetContactAttributesInput, optFns ...func(*connect.Options)) (*connect.GetContactAttributesOutput, error)
}

// AttributeWriter writes a contact's attributes (Connect's UpdateContactAttributes).
type AttributeWriter interface {
	UpdateContactAttributes(ctx context.Context, in *connect.UpdateContactAttributesInput, optFns ...func(*connect.Options)) (*connect.UpdateContactAttributesOutput, error)
}

// ContactAttributes reads and writes contact attributes; *connect.Client is one.
type ContactAttributes interface {
	AttributeReader
	AttributeWriter
}

// OptOutRecorder keeps the do-not-call list; *donotcall.Table is one.
type OptOutRecorder interface {
	Record(ctx context.Context, e donotcall.Entry) (added bool, err error)
}

// MaxResponseBytes bounds the encoded response. Connect refuses a Lambda response of 32 KB or
// more; the rest is headroom for the runtime's framing.
const MaxResponseBytes = 32000

// maxMessageLength bounds error_message, in bytes.
const maxMessageLength = 200

// Handler answers contact-flow invocations. It is safe for concurrent use.
type Handler struct {
	cfg     Config
	attrs   ContactAttributes
	optouts OptOutRecorder
	log     *slog.Logger
	now     func() time.Time
	// encode writes the response; tests replace it to fail.
	encode func(map[string]string) ([]byte, error)
}

// NewHandler returns a handler that reaches Connect through attrs and the do-not-call list
// through optouts, and writes one log line per invocation to log.
func NewHandler(cfg Config, attrs ContactAttributes, optouts OptOutRecorder, log *slog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if attrs == nil || optouts == nil || log == nil {
		return nil, errors.New("contactflow: attrs, optouts and log are required")
	}
	return &Handler{cfg: cfg, attrs: attrs, optouts: optouts, log: log, now: time.Now, encode: encodeResponse}, nil
}

// FlowError is the error of a failed invocation in ErrorModeFail, for a transient failure only
// (Failure.Transient). Its text is "CODE: message", safe for Connect's logs.
type FlowError struct {
	Code    Code
	Message string
}

func (e *FlowError) Error() string { return string(e.Code) + ": " + e.Message }

// internalResponse is the answer when the response itself cannot be encoded: written out, so
// that it cannot fail in turn.
var internalResponse = []byte(`{"error_code":"INTERNAL","error_message":"internal error","result":"error"}`)

// Invoke implements lambda.Handler: it takes the raw payload, so that a malformed event is
// answered with BAD_REQUEST like any other error instead of failing in the runtime's decoder,
// and a response that cannot be encoded with INTERNAL instead of a Lambda error.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	resp, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	out, err := h.encode(resp)
	if err != nil {
		// The invocation's line is written already; this one says why its answer changed.
		h.log.LogAttrs(ctx, slog.LevelError, "contact-flow response not encodable", append(requestID(ctx),
			slog.String("outcome", ResultError), slog.String("error_code", string(Internal)), slog.String("error", phone.Scrub(err.Error())))...)
		return internalResponse, nil
	}
	return out, nil
}

// Handle runs one invocation and returns the response, or a *FlowError in ErrorModeFail when
// the failure is transient. Connect retries a failed invocation (up to three times within the
// block's timeout), so a failure that would fail again the same way (a bad parameter, a missing
// contact, a credential problem), re-hit a quota (a throttle, LIMIT_EXCEEDED) or run past the
// budget (TIMEOUT) is answered as result=error even in ErrorModeFail.
func (h *Handler) Handle(ctx context.Context, payload []byte) (map[string]string, error) {
	start := h.now()
	ctx, cancel := h.cfg.Budget.Start(ctx, start)
	defer cancel()

	inv := &invocation{}
	resp, f := h.runRecovering(ctx, payload, inv)
	h.logInvocation(ctx, inv, f, h.now().Sub(start))
	if f == nil {
		return resp, nil
	}
	msg := safetext.Fit(phone.Scrub(f.Message), maxMessageLength)
	if h.cfg.ErrorMode == ErrorModeFail && f.Transient {
		return nil, &FlowError{Code: f.Code, Message: msg}
	}
	return map[string]string{RespResult: ResultError, RespErrorCode: string(f.Code), RespErrorMessage: msg}, nil
}

// invocation is what the log line tells about one invocation.
type invocation struct {
	contactID  string
	instanceID string
	op         Operation
	// attrs are what the operation adds to the log line.
	attrs []slog.Attr
}

// runRecovering is run with a panic turned into an Internal failure that keeps the stack for
// the log line: the flow still gets a flat map, and Connect no retry of a bug.
func (h *Handler) runRecovering(ctx context.Context, payload []byte, inv *invocation) (resp map[string]string, f *Failure) {
	defer func() {
		if v := recover(); v != nil {
			resp, f = nil, &Failure{Code: Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", v), Stack: string(debug.Stack())}
		}
	}()
	return h.run(ctx, payload, inv)
}

func (h *Handler) run(ctx context.Context, payload []byte, inv *invocation) (map[string]string, *Failure) {
	ev, err := DecodeEvent(payload)
	if err != nil {
		return nil, &Failure{Code: BadRequest, Message: "the event is not a contact-flow event in JSON", Err: err}
	}
	cd := &ev.Details.ContactData
	if id, ok := connectspec.InstanceIDFromARN(string(cd.InstanceARN)); ok {
		inv.instanceID = id
	}
	// The event's contact IDs reach the log line, Connect and the do-not-call table: only
	// valid ones, so a malformed event cannot write anything it likes there.
	for _, id := range []struct {
		field string
		value Text
	}{{"ContactId", cd.ContactID}, {"InitialContactId", cd.InitialContactID}} {
		if id.value != "" && !connectspec.ValidContactID(string(id.value)) {
			return nil, fail(BadRequest, "%s %s is not a Connect contact ID", id.field, quoteKey(string(id.value)))
		}
	}
	inv.contactID = firstNonEmpty(string(cd.ContactID), string(cd.InitialContactID))
	p, f := parseParams(ev.Details.Parameters)
	if f != nil {
		return nil, f
	}
	op, f := p.operation()
	if f != nil {
		return nil, f
	}
	inv.op = op
	switch op {
	case OpGet:
		return h.get(ctx, &ev, p, inv)
	case OpOptOut:
		return h.optOut(ctx, &ev, p, inv)
	default:
		return h.update(ctx, &ev, p, inv)
	}
}

// target returns the instance and the contact whose attributes an operation reads or writes:
// the contact_id parameter, else the initial contact (attributes belong to it), else the contact.
func target(ev *Event, p params, inv *invocation) (instanceID, contactID string, f *Failure) {
	arn := strings.TrimSpace(string(ev.Details.ContactData.InstanceARN))
	if arn == "" {
		return "", "", fail(BadRequest, "the event has no Details.ContactData.InstanceARN")
	}
	id, ok := connectspec.InstanceIDFromARN(arn)
	if !ok {
		return "", "", fail(BadRequest, "InstanceARN %s is not an Amazon Connect instance ARN", quoteKey(arn))
	}
	inv.instanceID = id
	cd := &ev.Details.ContactData
	contactID = firstNonEmpty(strings.TrimSpace(p[ParamContactID]), string(cd.InitialContactID), string(cd.ContactID))
	if contactID == "" {
		return "", "", fail(BadRequest, "the event has no InitialContactId or ContactId")
	}
	if !connectspec.ValidContactID(contactID) {
		return "", "", fail(BadRequest, "contact ID %s is not a Connect contact ID", quoteKey(contactID))
	}
	inv.contactID = contactID
	return id, contactID, nil
}

func (h *Handler) update(ctx context.Context, ev *Event, p params, inv *invocation) (map[string]string, *Failure) {
	updates := p.attributes()
	if len(updates) == 0 {
		return nil, fail(BadRequest, "nothing to write: give the block the attributes as parameters")
	}
	keys := slices.Sorted(maps.Keys(updates))
	inv.attrs = append(inv.attrs, slog.Int("keys", len(keys)))
	for _, k := range keys {
		if !connectspec.ValidAttributeKey(k) {
			return nil, fail(InvalidKey, "attribute key %s may only have letters, digits, _ and -", quoteKey(k))
		}
	}
	if n := connectspec.MergedAttributeBytes(nil, updates); n > connectspec.MaxAttributeBytes {
		return nil, fail(AttributesTooLarge, "the attributes to write are %d bytes, over Connect's %d per contact", n, connectspec.MaxAttributeBytes)
	}
	instanceID, contactID, f := target(ev, p, inv)
	if f != nil {
		return nil, f
	}
	// Connect counts the attributes the contact already has: check the merged total here so the
	// flow gets ATTRIBUTES_TOO_LARGE, not a generic rejection. The event carries the contact's
	// attributes as Connect had them when it invoked the function: checking against them saves
	// a GetContactAttributes call on every update. They can be stale (another writer, an API
	// call or another function, may have changed the contact since), so every answer that
	// depends on them is confirmed with a fresh read: a snapshot that says "too large" is
	// re-read before refusing, and a refusal by Connect after a snapshot said "fits" is re-read
	// to tell ATTRIBUTES_TOO_LARGE from another bad request (docs/contactflow.md, update).
	existing, fromEvent := eventAttributes(ev, contactID)
	if !fromEvent {
		if existing, f = h.readAttributes(ctx, instanceID, contactID); f != nil {
			return nil, f
		}
	}
	if connectspec.MergedAttributeBytes(existing, updates) > connectspec.MaxAttributeBytes && fromEvent {
		if existing, f = h.readAttributes(ctx, instanceID, contactID); f != nil {
			return nil, f
		}
		fromEvent = false
	}
	inv.attrs = append(inv.attrs, slog.Bool("attributes_from_event", fromEvent))
	if f := tooLarge(existing, updates); f != nil {
		return nil, f
	}
	if _, err := h.attrs.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{
		InstanceId: aws.String(instanceID), InitialContactId: aws.String(contactID), Attributes: updates,
	}); err != nil {
		f := connectFailure("update contact attributes", err)
		if fromEvent && (f.Code == BadRequest || f.Code == LimitExceeded) {
			// The operation's errors are InvalidParameterException, InvalidRequestException,
			// ResourceNotFoundException and InternalServiceException (API reference,
			// UpdateContactAttributes); which refusal Connect answers for attributes over its
			// limit is not documented: whatever it is, a fresh read tells whether the stale
			// snapshot was the cause.
			if fresh, gf := h.readAttributes(ctx, instanceID, contactID); gf == nil {
				if tf := tooLarge(fresh, updates); tf != nil {
					tf.Err = f.Err
					return nil, tf
				}
			}
		}
		return nil, f
	}
	return map[string]string{RespResult: ResultOK, RespCount: strconv.Itoa(len(updates))}, nil
}

// eventAttributes returns the attributes the event carries for contactID: those of the
// invoking contact, when the update targets it (not another contact named by contact_id) and
// the event has an Attributes object at all.
func eventAttributes(ev *Event, contactID string) (map[string]string, bool) {
	cd := &ev.Details.ContactData
	if cd.Attributes == nil || contactID != firstNonEmpty(string(cd.InitialContactID), string(cd.ContactID)) {
		return nil, false
	}
	return cd.Attributes, true
}

// readAttributes reads a contact's attributes from Connect.
func (h *Handler) readAttributes(ctx context.Context, instanceID, contactID string) (map[string]string, *Failure) {
	out, err := h.attrs.GetContactAttributes(ctx, &connect.GetContactAttributesInput{
		InstanceId: aws.String(instanceID), InitialContactId: aws.String(contactID),
	})
	if err != nil {
		return nil, connectFailure("get contact attributes", err)
	}
	return out.Attributes, nil
}

// tooLarge refuses an update that would take the contact's attributes over Connect's limit.
func tooLarge(existing, updates map[string]string) *Failure {
	if n := connectspec.MergedAttributeBytes(existing, updates); n > connectspec.MaxAttributeBytes {
		return fail(AttributesTooLarge, "the contact's attributes would be %d bytes, over Connect's %d", n, connectspec.MaxAttributeBytes)
	}
	return nil
}

func (h *Handler) get(ctx context.Context, ev *Event, p params, inv *invocation) (map[string]string, *Failure) {
	rawKeys, hasKeys := p[ParamKeys]
	prefix, hasPrefix := p[ParamPrefix]
	var keys []string
	switch {
	case hasKeys && hasPrefix:
		return nil, fail(BadRequest, "give keys or prefix, not both")
	case hasKeys:
		var f *Failure
		if keys, f = keyList(rawKeys); f != nil {
			return nil, f
		}
		for _, k := range keys {
			if !connectspec.ValidAttributeKey(k) {
				return nil, fail(InvalidKey, "attribute key %s may only have letters, digits, _ and -", quoteKey(k))
			}
			if isResponseKey(k) {
				return nil, fail(InvalidKey, "key %s is reserved for the response", quoteKey(k))
			}
		}
	case hasPrefix:
		prefix = strings.TrimSpace(prefix)
		if !connectspec.ValidAttributeKey(prefix) {
			return nil, fail(InvalidKey, "prefix %s may only have letters, digits, _ and -", quoteKey(prefix))
		}
	default:
		return nil, fail(BadRequest, "a get needs keys (a comma-separated list) or prefix")
	}
	instanceID, contactID, f := target(ev, p, inv)
	if f != nil {
		return nil, f
	}
	attrs, f := h.readAttributes(ctx, instanceID, contactID)
	if f != nil {
		return nil, f
	}
	resp := map[string]string{RespResult: ResultOK}
	if hasKeys {
		for _, k := range keys {
			if v, ok := attrs[k]; ok {
				resp[k] = v
			}
		}
	} else {
		for k, v := range attrs {
			// The response's own keys win: documented, and a prefix search cannot ask for them.
			if strings.HasPrefix(k, prefix) && !isResponseKey(k) {
				resp[k] = v
			}
		}
	}
	n := len(resp) - 1
	resp[RespCount] = strconv.Itoa(n)
	inv.attrs = append(inv.attrs, slog.Int("keys", n))
	if size := responseSize(resp); size > MaxResponseBytes {
		return nil, fail(ResponseTooLarge, "the %d attributes found need %d bytes, over the %d a response may hold: ask for fewer", n, size, MaxResponseBytes)
	}
	return resp, nil
}

func (h *Handler) optOut(ctx context.Context, ev *Event, p params, inv *invocation) (map[string]string, *Failure) {
	cd := &ev.Details.ContactData
	raw := strings.TrimSpace(p[ParamPhoneNumber])
	if raw == "" && cd.CustomerEndpoint != nil && strings.EqualFold(string(cd.CustomerEndpoint.Type), EndpointTelephoneNumber) {
		raw = strings.TrimSpace(string(cd.CustomerEndpoint.Address))
	}
	if raw == "" {
		return nil, fail(InvalidPhoneNumber, "no phone number: the contact has no telephone customer endpoint and the block no phone_number parameter")
	}
	inv.attrs = append(inv.attrs, slog.String("phone", phone.Mask(raw)))
	number, err := phone.Normalize(raw, h.cfg.DefaultCountry)
	switch {
	case errors.Is(err, phone.ErrLocalOnlyNumber):
		return nil, &Failure{Code: IncompletePhoneNumber, Message: fmt.Sprintf("the number is a local number without its area code (default country %s): ask for the whole number", h.cfg.DefaultCountry), Err: err}
	case err != nil:
		return nil, &Failure{Code: InvalidPhoneNumber, Message: fmt.Sprintf("the number is not a phone number (default country %s)", h.cfg.DefaultCountry), Err: err}
	}
	inv.attrs[len(inv.attrs)-1] = slog.String("phone", phone.Mask(number))
	added, err := h.optouts.Record(ctx, donotcall.Entry{
		PhoneNumber: number,
		Source:      donotcall.SourceContactFlow,
		Reason:      strings.TrimSpace(p[ParamReason]),
		RecordedAt:  h.now(),
		ContactID:   firstNonEmpty(string(cd.ContactID), string(cd.InitialContactID)),
	})
	if err != nil {
		return nil, optOutFailure(err)
	}
	status := OptOutRecorded
	if !added {
		status = OptOutAlreadyRecorded
	}
	inv.attrs = append(inv.attrs, slog.String(RespOptOutStatus, status))
	return map[string]string{RespResult: ResultOK, RespOptOutStatus: status}, nil
}

// logInvocation writes the one line of an invocation.
func (h *Handler) logInvocation(ctx context.Context, inv *invocation, f *Failure, took time.Duration) {
	attrs := make([]slog.Attr, 0, 10+len(inv.attrs))
	attrs = append(attrs, requestID(ctx)...)
	attrs = append(attrs,
		slog.String("contact_id", inv.contactID),
		slog.String("instance_id", inv.instanceID),
		slog.String("operation", string(inv.op)),
	)
	level := slog.LevelInfo
	if f == nil {
		attrs = append(attrs, slog.String("outcome", ResultOK))
	} else {
		level = slog.LevelWarn
		if f.Code == Internal {
			level = slog.LevelError
		}
		attrs = append(attrs, slog.String("outcome", ResultError), slog.String("error_code", string(f.Code)))
		if f.Err != nil {
			attrs = append(attrs, slog.String("error", phone.Scrub(f.Err.Error())))
		} else {
			attrs = append(attrs, slog.String("error", phone.Scrub(f.Message)))
		}
		if f.Stack != "" {
			attrs = append(attrs, slog.String("stack", phone.Scrub(f.Stack)))
		}
	}
	attrs = append(attrs, slog.Int64("duration_ms", took.Milliseconds()))
	attrs = append(attrs, inv.attrs...)
	h.log.LogAttrs(ctx, level, "contact-flow invocation", attrs...)
}

// requestID is the log attribute of the Lambda request ID, when the context has one.
func requestID(ctx context.Context) []slog.Attr {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return []slog.Attr{slog.String("request_id", lc.AwsRequestID)}
	}
	return nil
}

// encodeResponse writes the response as Connect reads it, without HTML escaping (which would
// only make it longer).
func encodeResponse(resp map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func responseSize(resp map[string]string) int {
	b, err := encodeResponse(resp)
	if err != nil {
		return MaxResponseBytes + 1
	}
	return len(b)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
