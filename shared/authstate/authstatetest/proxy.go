// Package authstatetest puts a fault-injecting HTTP proxy in front of a DynamoDB endpoint
// (dynalite in tests), for the failures dynalite cannot produce by itself: a write that DynamoDB
// applied but whose reply never reached the client, a write that reaches DynamoDB late (after
// the client gave up), and throttling.
package authstatetest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/faultproxy"
)

// Operation names as they appear in the X-Amz-Target header (DynamoDB_20120810.<Operation>).
const (
	OpPutItem    = "PutItem"
	OpDeleteItem = "DeleteItem"
	OpGetItem    = "GetItem"
)

// Fault is what the proxy does with a request of a faulted operation.
type Fault int

const (
	// AppliedThen500 forwards the request (DynamoDB applies it) and answers the client with an
	// InternalServerError instead of DynamoDB's reply: the reply was lost.
	AppliedThen500 Fault = iota + 1
	// AppliedThenHangUp forwards the request and closes the connection without any reply.
	AppliedThenHangUp
	// NotApplied500 answers an InternalServerError without forwarding: the write never happened.
	NotApplied500
	// Throttle answers a ThrottlingException without forwarding.
	Throttle
	// DelayedApply holds the request for the delay given to Delay, then forwards it even if
	// the client gave up meanwhile (DynamoDB applies it late), then replies if the client is
	// still there.
	DelayedApply
)

// Proxy forwards DynamoDB requests to a target endpoint, applying the faults set on it.
type Proxy struct {
	// URL is the proxy's endpoint, to use as the DynamoDB endpoint of a client.
	URL    string
	target string

	mu       sync.Mutex
	faults   map[string]*rule
	requests map[string]int
	late     sync.WaitGroup // delayed requests not yet forwarded
}

type rule struct {
	fault Fault
	left  int // requests still to fault; negative: every request
	delay time.Duration
}

// Start runs a proxy in front of target (for example dynalitetest.Server.URL) until the test
// ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: strings.TrimSuffix(target, "/"), faults: map[string]*rule{}, requests: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Set makes the next count requests of op suffer f; count 0 means every request until Clear.
func (p *Proxy) Set(op string, f Fault, count int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	left := count
	if count <= 0 {
		left = -1
	}
	p.faults[op] = &rule{fault: f, left: left}
}

// Delay makes the next count requests of op wait d before they are forwarded (DelayedApply);
// count 0 means every request until Clear.
func (p *Proxy) Delay(op string, d time.Duration, count int) {
	p.Set(op, DelayedApply, count)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op].delay = d
}

// WaitDelayed waits until every delayed request so far has been forwarded and applied.
func (p *Proxy) WaitDelayed() { p.late.Wait() }

// Clear removes every fault.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = map[string]*rule{}
}

// Requests returns how many requests of op reached the proxy.
func (p *Proxy) Requests(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[op]
}

// next counts a request of op and returns the fault it suffers (0 for none) and its delay.
func (p *Proxy) next(op string) (Fault, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[op]++
	r := p.faults[op]
	if r == nil || r.left == 0 {
		return 0, 0
	}
	if r.left > 0 {
		r.left--
	}
	if r.fault == DelayedApply {
		p.late.Add(1)
	}
	return r.fault, r.delay
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	fault, delay := p.next(op)
	switch fault {
	case DelayedApply:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			p.late.Done()
			return
		}
		time.Sleep(delay)
		// Forward even if the client hung up meanwhile: the write was on its way.
		late := r.Clone(context.WithoutCancel(r.Context()))
		late.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := p.forward(late)
		p.late.Done()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		relay(w, resp)
	case NotApplied500:
		faultproxy.WriteError(w, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "injected: not applied")
	case Throttle:
		faultproxy.WriteError(w, http.StatusBadRequest, "com.amazonaws.dynamodb.v20120810#ThrottlingException", "injected: rate exceeded")
	case AppliedThen500, AppliedThenHangUp:
		resp, err := p.forward(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close() // the reply that gets lost
		if fault == AppliedThen500 {
			faultproxy.WriteError(w, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "injected: reply lost")
			return
		}
		faultproxy.HangUp(w)
	default:
		resp, err := p.forward(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		relay(w, resp)
	}
}

// forward sends r to the target and returns the target's complete reply.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	// Read the reply in full, so the write is complete at the target before the client sees
	// anything.
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp, nil
}

// relay writes the target's reply to the client.
func relay(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (f Fault) String() string {
	switch f {
	case AppliedThen500:
		return "applied-then-500"
	case AppliedThenHangUp:
		return "applied-then-hang-up"
	case NotApplied500:
		return "not-applied-500"
	case Throttle:
		return "throttle"
	case DelayedApply:
		return "delayed-apply"
	}
	return "none"
}
