package connectsim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault kinds.
const (
	// FaultThrottle answers ThrottlingException (429).
	FaultThrottle = "throttle"
	// FaultInternal answers InternalServiceException (500), or
	// InternalServerException for Participant Service operations.
	FaultInternal = "internal"
	// FaultLatency waits Latency of wall time (or until the client gives
	// up) and then answers normally.
	FaultLatency = "latency"
	// FaultDrop closes the connection without answering.
	FaultDrop = "drop"

	// The "-after" kinds run the operation first and then lose its answer: the contact is
	// placed, the attributes written, but the caller gets an error, a dropped connection or
	// an answer later than its timeout, and cannot tell whether the operation took effect.
	// This is the unknown result a retry must survive without doing the work twice (faultproxy
	// does the same for DynamoDB).

	// FaultDropAfter runs the operation, then closes the connection without answering.
	FaultDropAfter = "drop-after"
	// FaultInternalAfter runs the operation, then answers InternalServiceException (500), or
	// InternalServerException for Participant Service operations, instead of its answer.
	FaultInternalAfter = "internal-after"
	// FaultLatencyAfter runs the operation, then holds its answer for Latency of wall time: a
	// client whose timeout is shorter gives up although the operation took effect.
	FaultLatencyAfter = "latency-after"
)

// after reports whether the fault acts once the operation has run.
func (f Fault) after() bool {
	switch f.Kind {
	case FaultDropAfter, FaultInternalAfter, FaultLatencyAfter:
		return true
	}
	return false
}

// Fault is an injected failure of an operation.
type Fault struct {
	Kind string `json:"kind"`
	// Probability that a request is affected; 0 means 1.
	Probability float64 `json:"probability,omitempty"`
	// Latency added by a "latency" fault.
	Latency time.Duration `json:"latency,omitempty"`
	// Count is how many requests are affected before the fault clears
	// itself; 0 is unlimited.
	Count int `json:"count,omitempty"`
	// ErrorType is the type a throttle fault answers: ThrottlingException (default),
	// TooManyRequestsException or LimitExceededException.
	ErrorType string `json:"errorType,omitempty"`
}

// Validate reports whether the fault can be applied.
func (f Fault) Validate() error {
	switch f.Kind {
	case FaultThrottle, FaultInternal, FaultDrop, FaultDropAfter, FaultInternalAfter:
	case FaultLatency, FaultLatencyAfter:
		if f.Latency <= 0 {
			return fmt.Errorf("%s fault needs a positive latency", f.Kind)
		}
	default:
		return fmt.Errorf("fault kind %q must be throttle, internal, latency, drop, internal-after, latency-after or drop-after", f.Kind)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("fault probability must be within [0, 1]")
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count must not be negative")
	}
	if f.ErrorType != "" && (f.Kind != FaultThrottle || !slices.Contains(throttleErrorTypes, f.ErrorType)) {
		return fmt.Errorf("fault errorType %q: only a throttle fault takes one, and it must be one of %s", f.ErrorType, strings.Join(throttleErrorTypes, ", "))
	}
	return nil
}

type faultState struct {
	Fault
	applied int
}

// SetFault injects a fault into an operation ("UpdateContactAttributes",
// "GetAuthenticationUrl", ...) or, with "*", into every operation. A fault
// on a named operation takes precedence over "*". An invalid fault is
// logged and ignored.
func (s *Sim) SetFault(operation string, f Fault) {
	if err := s.setFault(operation, f); err != nil {
		s.log.Error("connectsim: fault ignored", "operation", operation, "error", err)
	}
}

// checkFault reports whether f can be set on operation.
func checkFault(operation string, f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if _, ok := knownOps[operation]; !ok && operation != "*" {
		return fmt.Errorf("unknown operation %q", operation)
	}
	return nil
}

func (s *Sim) setFault(operation string, f Fault) error {
	if err := checkFault(operation, f); err != nil {
		return err
	}
	s.mu.Lock()
	s.faults[operation] = &faultState{Fault: f}
	s.mu.Unlock()
	return nil
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	s.faults = map[string]*faultState{}
	s.mu.Unlock()
}

// Faults returns the faults in force, by operation.
func (s *Sim) Faults() map[string]Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Fault{}
	for op, f := range s.faults {
		g := f.Fault
		if g.Count > 0 {
			g.Count -= f.applied
		}
		out[op] = g
	}
	return out
}

// pickFault decides whether a request of op is hit by a fault, and
// consumes one use of it. Called with s.mu held.
func (s *Sim) pickFaultLocked(op string) (Fault, bool) {
	key := op
	f := s.faults[key]
	if f == nil {
		key = "*"
		f = s.faults[key]
	}
	if f == nil {
		return Fault{}, false
	}
	if p := f.Probability; p > 0 && p < 1 && s.faultRng.Float64() >= p {
		return Fault{}, false
	}
	f.applied++
	if f.Count > 0 && f.applied >= f.Count {
		delete(s.faults, key)
	}
	return f.Fault, true
}

// applyFault acts out a fault. It reports whether the request is finished
// (answered or dropped), and the outcome to count.
func applyFault(w http.ResponseWriter, r *http.Request, f Fault, participant bool) (done bool, outcome string) {
	switch f.Kind {
	case FaultThrottle:
		typ := f.ErrorType
		if typ == "" {
			typ = errThrottling
		}
		writeAPIError(w, newErr(typ, "Rate exceeded (injected fault)"))
		return true, typ
	case FaultInternal:
		typ := errInternalService
		if participant {
			typ = errInternalServer
		}
		writeAPIError(w, newErr(typ, "Internal service error (injected fault)"))
		return true, typ
	case FaultLatency:
		if err := sleepCtx(r.Context(), f.Latency); err != nil {
			return true, "canceled"
		}
		return false, ""
	case FaultDrop:
		return true, outcomeDropped
	}
	return false, ""
}

const outcomeDropped = "dropped"

// loseAnswer acts out a fault of an "-after" kind once the operation has answered out or e, and
// sets the outcome to count: the operation's own outcome, "+", and what the client got
// ("ok+dropped", "ok+InternalServiceException", "ok+canceled"; a latency fault the client waited
// out counts as the operation's own outcome). The outcome is set before the connection is
// dropped, which may end the handler.
func loseAnswer(w http.ResponseWriter, r *http.Request, f Fault, participant bool, out any, e *apiError, outcome *string) {
	own := "ok"
	if e != nil {
		own = e.Type
	}
	switch f.Kind {
	case FaultDropAfter:
		*outcome = own + "+" + outcomeDropped
		dropConnection(w)
	case FaultInternalAfter:
		_, typ := applyFault(w, r, Fault{Kind: FaultInternal}, participant)
		*outcome = own + "+" + typ
	case FaultLatencyAfter:
		if err := sleepCtx(r.Context(), f.Latency); err != nil {
			*outcome = own + "+canceled"
			return
		}
		*outcome = own
		if e != nil {
			writeAPIError(w, e)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// dropConnection closes the client's connection without an answer. Where
// the connection cannot be taken over (HTTP/2), it aborts the response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
