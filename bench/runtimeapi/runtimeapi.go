// Package runtimeapi is a minimal AWS Lambda Runtime API for benchmarks: it serves the routes a
// runtime client polls (GET /2018-06-01/runtime/invocation/next, POST .../{id}/response and
// .../{id}/error, POST /2018-06-01/runtime/init/error) on loopback, records when the runtime first
// asked for an invocation (the end of its cold init), and times each invocation from the moment
// the event is handed to the runtime to the moment its answer arrives.
//
// Routes and headers are those of the Runtime API reference
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html). It serves one runtime
// process, one invocation at a time, as Lambda does for one execution environment.
package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// maxBody bounds a response or error the runtime posts: Lambda's synchronous response limit is
// 6 MB.
const maxBody = 6 << 20

// Result is the runtime's answer to one invocation.
type Result struct {
	// Body is the response payload, or the error document when Error is set.
	Body []byte
	// Error is set when the runtime posted to .../error instead of .../response.
	Error bool
	// Took runs from writing the event to the runtime's pending next request to reading the
	// runtime's answer.
	Took time.Duration
}

type invocation struct {
	id      string
	payload []byte
	// sent is set by the next handler just before it writes the event.
	sent time.Time
	done chan Result
}

// Stub is a running Runtime API. Create it with Start and stop it with Close.
type Stub struct {
	ln  net.Listener
	srv *http.Server

	queue chan *invocation
	seq   atomic.Int64

	mu        sync.Mutex
	pending   map[string]*invocation
	firstNext time.Time
	initError []byte
	// ready is closed at the first next request or the first init error.
	ready     chan struct{}
	readyOnce sync.Once
}

// Start serves a stub on 127.0.0.1 on a free port.
func Start() (*Stub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API stub: %w", err)
	}
	s := &Stub{ln: ln, queue: make(chan *invocation), pending: map[string]*invocation{}, ready: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the host:port to put in AWS_LAMBDA_RUNTIME_API.
func (s *Stub) Addr() string { return s.ln.Addr().String() }

// Close stops the stub; a runtime still polling sees its connection closed.
func (s *Stub) Close() error { return s.srv.Close() }

// WaitReady waits for the runtime's first next request and returns when it arrived. A runtime
// that reported an init error instead gets an error with the document it posted.
func (s *Stub) WaitReady(ctx context.Context) (time.Time, error) {
	select {
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("runtime never asked for an invocation: %w", ctx.Err())
	case <-s.ready:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initError != nil {
		return time.Time{}, fmt.Errorf("%w: %s", ErrInitFailed, truncate(s.initError, 300))
	}
	return s.firstNext, nil
}

// Invoke hands payload to the runtime at its next request and waits for its answer.
func (s *Stub) Invoke(ctx context.Context, payload []byte) (Result, error) {
	inv := &invocation{id: "bench-" + strconv.FormatInt(s.seq.Add(1), 10), payload: payload, done: make(chan Result, 1)}
	s.mu.Lock()
	s.pending[inv.id] = inv
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, inv.id)
		s.mu.Unlock()
	}()
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s not taken by the runtime: %w", inv.id, ctx.Err())
	}
	select {
	case r := <-inv.done:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s not answered: %w", inv.id, ctx.Err())
	}
}

// ServeHTTP implements the Runtime API routes.
func (s *Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case r.Method == http.MethodGet && path == "invocation/next":
		s.next(w, r)
	case r.Method == http.MethodPost && path == "init/error":
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		s.mu.Lock()
		if s.initError == nil {
			s.initError = append([]byte{}, body...)
		}
		s.mu.Unlock()
		s.readyOnce.Do(func() { close(s.ready) })
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		s.answer(w, r, strings.TrimPrefix(path, "invocation/"))
	default:
		http.NotFound(w, r)
	}
}

func (s *Stub) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.firstNext.IsZero() {
		s.firstNext = time.Now()
	}
	s.mu.Unlock()
	s.readyOnce.Do(func() { close(s.ready) })
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(8*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	s.mu.Lock()
	inv.sent = time.Now()
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

func (s *Stub) answer(w http.ResponseWriter, r *http.Request, rest string) {
	id, kind, ok := strings.Cut(rest, "/")
	if !ok || (kind != "response" && kind != "error") {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	end := time.Now()
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	inv := s.pending[id]
	var took time.Duration
	if inv != nil {
		took = end.Sub(inv.sent)
	}
	s.mu.Unlock()
	if inv == nil {
		http.Error(w, `{"errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	select {
	case inv.done <- Result{Body: body, Error: kind == "error", Took: took}:
	default:
		http.Error(w, `{"errorType":"InvalidStateTransition"}`, http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// ErrInitFailed is wrapped by WaitReady when the runtime posted to init/error.
var ErrInitFailed = errors.New("runtime init failed")

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
