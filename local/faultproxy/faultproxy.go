// Package faultproxy is an HTTP proxy for DynamoDB (dynalite in tests) that fails requests the
// way DynamoDB itself fails: throttling and internal errors with DynamoDB's own error shapes,
// connections dropped without an answer, and writes that reach DynamoDB late. Some faults strike
// after the request was forwarded, so the write happened but the caller never learns it: the
// case a retry must survive without doing the work twice.
//
// Faults come two ways: a random share of every request (Config.Probability, seeded: the
// reliability suite), and rules for one operation (Set, Delay: the next N PutItem requests fail
// this way), which take precedence and suit tests of one exact failure.
//
// Error shapes (JSON 1.0: "__type" and "message" in the body, HTTP 400 for client errors and 500
// for InternalServerError) are those of the DynamoDB Developer Guide, "Error handling with
// DynamoDB" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html),
// with the type names the AWS SDKs deserialize (aws-sdk-js-v3 client-dynamodb:
// com.amazonaws.dynamodb.v20120810#InternalServerError) and that dynalite's own test suite
// retries against real DynamoDB (com.amazon.coral.availability#ThrottlingException).
package faultproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/latency"
)

// Kind is one way a request fails.
type Kind string

// Fault kinds. "After" kinds forward the request first: the target did the work.
const (
	// ThroughputExceeded answers 400 ProvisionedThroughputExceededException without forwarding.
	ThroughputExceeded Kind = "throughput-exceeded"
	// Throttling answers 400 ThrottlingException without forwarding.
	Throttling Kind = "throttling"
	// Internal answers 500 InternalServerError without forwarding.
	Internal Kind = "internal"
	// Drop closes the connection without forwarding or answering.
	Drop Kind = "drop"
	// InternalAfter forwards the request, then answers 500 InternalServerError instead of the
	// target's answer.
	InternalAfter Kind = "internal-after"
	// DropAfter forwards the request, then closes the connection instead of answering.
	DropAfter Kind = "drop-after"
	// DelayedApply holds the request for the rule's delay, then forwards it even if the caller
	// gave up meanwhile (DynamoDB applies it late), then answers if the caller is still there.
	// Only a rule (Delay) applies it; it is not part of the random mix.
	DelayedApply Kind = "delayed-apply"
)

// AllKinds is every kind, the default mix.
var AllKinds = []Kind{ThroughputExceeded, Throttling, Internal, Drop, InternalAfter, DropAfter}

// forwards reports whether the kind lets the request reach the target.
func (k Kind) forwards() bool { return k == InternalAfter || k == DropAfter }

// DynamoDB operations, as X-Amz-Target names them, for Set and Delay.
const (
	OpPutItem    = "PutItem"
	OpGetItem    = "GetItem"
	OpDeleteItem = "DeleteItem"
	OpUpdateItem = "UpdateItem"
	OpQuery      = "Query"
)

// Error types DynamoDB answers with, and their HTTP status.
const (
	typeThroughput = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
	typeThrottling = "com.amazon.coral.availability#ThrottlingException"
	typeInternal   = "com.amazonaws.dynamodb.v20120810#InternalServerError"
)

// Config sets up a Proxy.
type Config struct {
	// Target is the base URL requests are forwarded to (dynalite's URL).
	Target string
	// Probability that a request is failed, in [0, 1].
	Probability float64
	// Kinds are drawn uniformly for each failed request (default AllKinds).
	Kinds []Kind
	// Seed makes the choice of failed requests and kinds reproducible for a given request order.
	Seed uint64
	// Observe, when set, is called for every request the target answered, before that answer
	// (or the fault replacing it) goes back to the caller. It must not keep the slices.
	Observe func(Exchange)
	// Clock stamps exchanges (default time.Now): tests pass the clock their other parts read,
	// so that the stamps can be ordered against theirs.
	Clock func() time.Time
	// Latency, when set, is how long DynamoDB takes to answer each operation (local/latency): an
	// answer goes back no sooner than a draw from it after the request came in (the target's own
	// time counts towards it).
	Latency *latency.Model
}

// Exchange is one request the target answered.
type Exchange struct {
	// Operation is the DynamoDB operation (GetItem, PutItem, ...) from X-Amz-Target.
	Operation string
	Request   []byte
	Status    int
	Response  []byte
	// Delivered is false when an "after" fault kept the target's answer from the caller.
	Delivered bool
	// SentAt is when the request left for the target; AnsweredAt is when its answer came back,
	// before the caller receives it.
	SentAt, AnsweredAt time.Time
}

// Proxy forwards requests to the target and fails some of them. It is an http.Handler.
type Proxy struct {
	cfg    Config
	target *url.URL
	client *http.Client

	mu         sync.Mutex
	rng        *rand.Rand
	p          float64
	requests   int
	faults     map[Kind]int
	rules      map[string]*rule // by operation
	opRequests map[string]int
	late       sync.WaitGroup // delayed requests not yet forwarded
}

// rule fails the next requests of one operation.
type rule struct {
	kind  Kind
	left  int // requests still to fail; negative: every request until Clear
	delay time.Duration
}

// New checks the configuration and returns a proxy; serve it with Start or an http.Server.
func New(cfg Config) (*Proxy, error) {
	u, err := url.Parse(cfg.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q is not an http(s) URL", cfg.Target)
	}
	if err := validProbability(cfg.Probability); err != nil {
		return nil, err
	}
	if len(cfg.Kinds) == 0 {
		cfg.Kinds = AllKinds
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	for _, k := range cfg.Kinds {
		if !slices.Contains(AllKinds, k) {
			return nil, fmt.Errorf("faultproxy: unknown fault kind %q", k)
		}
	}
	return &Proxy{
		cfg: cfg, target: u, p: cfg.Probability, faults: map[Kind]int{}, rules: map[string]*rule{}, opRequests: map[string]int{},
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}},
	}, nil
}

func validProbability(p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("faultproxy: probability %v must be within [0, 1]", p)
	}
	return nil
}

// SetProbability changes the share of failed requests from now on.
func (p *Proxy) SetProbability(prob float64) error {
	if err := validProbability(prob); err != nil {
		return err
	}
	p.mu.Lock()
	p.p = prob
	p.mu.Unlock()
	return nil
}

// Counts are what the proxy did so far.
type Counts struct {
	Requests int
	Faults   map[Kind]int
}

// Counts returns the number of requests and of faults by kind.
func (p *Proxy) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Counts{Requests: p.requests, Faults: maps.Clone(p.faults)}
}

// Set makes the next count requests of the DynamoDB operation op ("PutItem", as in
// X-Amz-Target) fail with kind; count 0 means every request until Clear. A rule takes precedence
// over the random share.
func (p *Proxy) Set(op string, kind Kind, count int) error {
	if kind != DelayedApply && !slices.Contains(AllKinds, kind) {
		return fmt.Errorf("faultproxy: unknown fault kind %q", kind)
	}
	p.setRule(op, &rule{kind: kind, left: count}, count)
	return nil
}

// Delay makes the next count requests of op wait d before they are forwarded, and forwards them
// even when the caller has given up (DelayedApply); count 0 means every request until Clear.
func (p *Proxy) Delay(op string, d time.Duration, count int) {
	p.setRule(op, &rule{kind: DelayedApply, delay: d}, count)
}

func (p *Proxy) setRule(op string, r *rule, count int) {
	r.left = count
	if count <= 0 {
		r.left = -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules[op] = r
}

// Clear removes every rule (the random share stays).
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = map[string]*rule{}
}

// Requests returns how many requests of op reached the proxy.
func (p *Proxy) Requests(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opRequests[op]
}

// WaitDelayed waits until every delayed request so far has been forwarded and answered.
func (p *Proxy) WaitDelayed() { p.late.Wait() }

// pick decides the fate of one request of op: "" is no fault.
func (p *Proxy) pick(op string) (Kind, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	p.opRequests[op]++
	if r := p.rules[op]; r != nil && r.left != 0 {
		if r.left > 0 {
			r.left--
		}
		p.faults[r.kind]++
		if r.kind == DelayedApply {
			p.late.Add(1)
		}
		return r.kind, r.delay
	}
	if p.p == 0 || p.rng.Float64() >= p.p {
		return "", 0
	}
	k := p.cfg.Kinds[p.rng.IntN(len(p.cfg.Kinds))]
	p.faults[k]++
	return k, 0
}

// maxBody bounds a request body; DynamoDB's own limit is 16 MB per request.
const maxBody = 16 << 20

// ServeHTTP forwards one request, or fails it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		WriteError(w, http.StatusRequestEntityTooLarge, "com.amazon.coral.service#SerializationException", "request body unreadable or over 16 MB")
		return
	}
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if d := p.cfg.Latency.Sample(op); d > 0 {
		defer sleep(r.Context(), time.Now().Add(d))
	}
	fault, delay := p.pick(op)
	switch fault {
	case ThroughputExceeded:
		WriteError(w, http.StatusBadRequest, typeThroughput, "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API. (injected fault)")
		return
	case Throttling:
		WriteError(w, http.StatusBadRequest, typeThrottling, "Rate of requests exceeds the allowed throughput. (injected fault)")
		return
	case Internal:
		WriteError(w, http.StatusInternalServerError, typeInternal, "Internal server error (injected fault)")
		return
	case Drop:
		HangUp(w)
		return
	}
	ctx := r.Context()
	if fault == DelayedApply {
		time.Sleep(delay)
		// Forward even if the caller hung up meanwhile: the write was on its way.
		ctx = context.WithoutCancel(ctx)
		defer p.late.Done()
	}
	sent := p.cfg.Clock()
	status, header, resp, err := p.forward(r.WithContext(ctx), body)
	answered := p.cfg.Clock()
	if err != nil {
		// The target itself is unreachable: the caller sees a dropped connection, as it would.
		HangUp(w)
		return
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(Exchange{Operation: op, Request: body, Status: status, Response: resp, Delivered: !fault.forwards(), SentAt: sent, AnsweredAt: answered})
	}
	switch fault {
	case InternalAfter:
		WriteError(w, http.StatusInternalServerError, typeInternal, "Internal server error (injected fault, after the request was processed)")
		return
	case DropAfter:
		HangUp(w)
		return
	}
	maps.Copy(w.Header(), header)
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

func (p *Proxy) forward(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	u := *p.target
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	u.RawQuery = r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range r.Header {
		if k != "Connection" && k != "Content-Length" {
			req.Header[k] = v
		}
	}
	res, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	resp, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	h := res.Header.Clone()
	h.Del("Content-Length")
	h.Del("Connection")
	return res.StatusCode, h, resp, nil
}

// WriteError answers an error as DynamoDB does: JSON 1.0 with __type (the full type name, as
// "com.amazonaws.dynamodb.v20120810#InternalServerError") and message, and the x-amz-crc32
// checksum of the body that the SDKs check.
func WriteError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// HangUp closes the client's connection without an answer.
func HangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Server is a Proxy listening on a loopback port.
type Server struct {
	*Proxy
	// URL is http://127.0.0.1:<port>.
	URL string
	srv *http.Server
}

// Start serves a new Proxy on a free loopback port.
func Start(cfg Config) (*Server, error) {
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	s := &Server{Proxy: p, URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }() // returns when Close closes the listener
	return s, nil
}

// StartTest serves a proxy without random faults in front of target (rules only: Set, Delay)
// until the test ends.
func StartTest(t testing.TB, target string) *Server {
	t.Helper()
	p, err := Start(Config{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Close stops the server and its connections to the target.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.client.CloseIdleConnections()
	return err
}

// sleep waits until t (or until ctx ends).
func sleep(ctx context.Context, t time.Time) {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}
