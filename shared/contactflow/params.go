package contactflow

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// Parameters of the block that control the function; they are never written as attributes.
const (
	// ParamOperation selects the operation: update (default), get or optout.
	ParamOperation = "operation"
	// ParamContactID addresses another contact than the invoking contact's initial contact (get
	// and update).
	ParamContactID = "contact_id"
	// ParamKeys is the comma-separated list of attribute keys a get returns (or a JSON array).
	ParamKeys = "keys"
	// ParamPrefix makes a get return every attribute whose key starts with it.
	ParamPrefix = "prefix"
	// ParamReason is kept with an opt-out.
	ParamReason = "reason"
	// ParamPhoneNumber is the number to opt out, instead of the contact's customer number.
	ParamPhoneNumber = "phone_number"
)

// ControlParams lists the parameters that are never written as attributes.
var ControlParams = []string{ParamOperation, ParamContactID, ParamKeys, ParamPrefix, ParamReason, ParamPhoneNumber}

// nearControlParam returns the control parameter that name differs from only in case
// ("Operation" for "operation"), if any. Such a name is refused: taken as an attribute, it
// would silently turn a get into an update that writes "Operation".
func nearControlParam(name string) (string, bool) {
	for _, c := range ControlParams {
		if name != c && strings.EqualFold(name, c) {
			return c, true
		}
	}
	return "", false
}

// Operation is what an invocation does.
type Operation string

// Operations.
const (
	OpUpdate Operation = "update"
	OpGet    Operation = "get"
	OpOptOut Operation = "optout"
)

// Keys of the response besides the attributes a get returns.
const (
	RespResult       = "result"
	RespErrorCode    = "error_code"
	RespErrorMessage = "error_message"
	// RespCount is how many attributes an update wrote or a get returned.
	RespCount = "count"
	// RespOptOutStatus is "recorded" for a new opt-out, "already_recorded" for a repeat.
	RespOptOutStatus = "optout_status"
)

// Values of RespResult and RespOptOutStatus.
const (
	ResultOK              = "ok"
	ResultError           = "error"
	OptOutRecorded        = "recorded"
	OptOutAlreadyRecorded = "already_recorded"
)

// ResponseKeys lists the keys the response uses for itself: a get cannot return an attribute
// under one of them.
var ResponseKeys = []string{RespResult, RespErrorCode, RespErrorMessage, RespCount, RespOptOutStatus}

func isResponseKey(key string) bool { return slices.Contains(ResponseKeys, key) }

// params are the block's parameters as text (see ValueText).
type params map[string]string

func parseParams(raw map[string]json.RawMessage) (params, *Failure) {
	p := make(params, len(raw))
	// The first problem in name order, whatever the map's order.
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if c, ok := nearControlParam(k); ok {
			return nil, fail(BadRequest, "parameter %s is not %q: parameter names are case-sensitive", quoteKey(k), c)
		}
		s, err := ValueText(raw[k])
		if err != nil {
			return nil, &Failure{Code: BadRequest, Message: fmt.Sprintf("parameter %s is not a JSON value", quoteKey(k)), Err: err}
		}
		p[k] = s
	}
	return p, nil
}

// operation reads ParamOperation, case-insensitively; absent or empty is OpUpdate.
func (p params) operation() (Operation, *Failure) {
	switch op := Operation(strings.ToLower(strings.TrimSpace(p[ParamOperation]))); op {
	case "", OpUpdate:
		return OpUpdate, nil
	case OpGet, OpOptOut:
		return op, nil
	default:
		return "", fail(BadRequest, "unknown operation %s: use update, get or optout", quoteKey(string(op)))
	}
}

// attributes are the parameters an update writes: all but the control parameters.
func (p params) attributes() map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		if !slices.Contains(ControlParams, k) {
			out[k] = v
		}
	}
	return out
}

// keyList reads ParamKeys: "a, b,c" or a JSON array of strings. Empty entries are dropped and
// duplicates removed, keeping the order.
func keyList(s string) ([]string, *Failure) {
	s = strings.TrimSpace(s)
	var parts []string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &parts); err != nil {
			return nil, &Failure{Code: BadRequest, Message: "keys must be a comma-separated list or a JSON array of strings", Err: err}
		}
	} else {
		parts = strings.Split(s, ",")
	}
	seen := make(map[string]bool, len(parts))
	keys := parts[:0]
	for _, k := range parts {
		k = strings.TrimSpace(k)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fail(BadRequest, "keys is empty")
	}
	return keys, nil
}

// quoteKey quotes a caller-supplied name for a message: phone numbers masked (before it is
// shortened, so that a number cut at the end is still masked whole), then shortened.
func quoteKey(k string) string {
	return fmt.Sprintf("%q", safetext.Fit(phone.Scrub(k), 64))
}
