// Package lambdaruntime serves the AWS Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) to a real function process
// (a `bootstrap` built like the deployed one, or a Node.js runtime client), so that tests can
// invoke it as Lambda would, kill it in the middle of an invocation and start it again, and
// benchmarks can time it: when the runtime first asked for an invocation (the end of its cold
// init, WaitReady) and how long each invocation took from the event handed over to the answer
// read (Result.Took). One runtime process, one invocation at a time, as Lambda does for one
// execution environment.
package lambdaruntime

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

// Result is a function's answer to one invocation.
type Result struct {
	Payload []byte
	// Error is set when the function reported an error (POST .../error).
	Error []byte
	// Took runs from writing the event to the runtime's pending next request to reading the
	// runtime's answer.
	Took time.Duration
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	// sent is set by the next handler just before it writes the event.
	sent time.Time
	done chan Result
}

// Server is a Runtime API endpoint for one function process at a time.
type Server struct {
	// Addr is host:port, the value of AWS_LAMBDA_RUNTIME_API.
	Addr string
	srv  *http.Server
	ln   net.Listener

	queue chan *invocation
	mu    sync.Mutex
	open  map[string]*invocation
	seq   atomic.Int64
	// InitErrors counts POST /runtime/init/error.
	InitErrors atomic.Int64

	firstNext time.Time
	initError []byte
	// ready is closed at the first next request or the first init error.
	ready     chan struct{}
	readyOnce sync.Once
}

// Start listens on a free loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, queue: make(chan *invocation), open: map[string]*invocation{}, ready: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// ErrInitFailed is wrapped by WaitReady when the runtime posted to init/error.
var ErrInitFailed = errors.New("runtime init failed")

// WaitReady waits for the runtime's first next request and returns when it arrived. A runtime
// that reported an init error instead gets an error with the document it posted.
func (s *Server) WaitReady(ctx context.Context) (time.Time, error) {
	select {
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("runtime never asked for an invocation: %w", ctx.Err())
	case <-s.ready:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initError != nil {
		b := s.initError
		if len(b) > 300 {
			b = append(b[:300:300], "…"...)
		}
		return time.Time{}, fmt.Errorf("%w: %s", ErrInitFailed, b)
	}
	return s.firstNext, nil
}

// ErrAbandoned: the invocation was given up (its process was killed, or ctx ended) before the
// function answered.
var ErrAbandoned = errors.New("invocation abandoned before the function answered")

// Invoke hands payload to the function's next GET .../invocation/next and waits for its answer,
// at most until timeout (the invocation's deadline) or ctx ends.
func (s *Server) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Result, error) {
	inv := &invocation{
		id: "req-" + strconv.FormatInt(s.seq.Add(1), 10), payload: payload,
		deadline: time.Now().Add(timeout), done: make(chan Result, 1),
	}
	ctx, cancel := context.WithDeadline(ctx, inv.deadline)
	defer cancel()
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, ErrAbandoned
	}
	defer func() {
		s.mu.Lock()
		delete(s.open, inv.id)
		s.mu.Unlock()
	}()
	select {
	case r := <-inv.done:
		return r, nil
	case <-ctx.Done():
		return Result{}, ErrAbandoned
	}
}

// ServeHTTP implements the Runtime API's next, response, error and init/error routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		s.mu.Lock()
		if s.firstNext.IsZero() {
			s.firstNext = time.Now()
		}
		s.mu.Unlock()
		s.readyOnce.Do(func() { close(s.ready) })
		select {
		case inv := <-s.queue:
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:local")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
			s.mu.Lock()
			s.open[inv.id] = inv
			inv.sent = time.Now()
			s.mu.Unlock()
			w.WriteHeader(http.StatusOK)
			w.Write(inv.payload)
		case <-r.Context().Done():
		}
	case r.Method == http.MethodPost && path == "init/error":
		s.InitErrors.Add(1)
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		s.mu.Lock()
		if s.initError == nil {
			s.initError = append([]byte{}, body...)
		}
		s.mu.Unlock()
		s.readyOnce.Do(func() { close(s.ready) })
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		end := time.Now()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		inv := s.open[id]
		var took time.Duration
		if inv != nil {
			took = end.Sub(inv.sent)
		}
		s.mu.Unlock()
		if inv == nil {
			http.Error(w, fmt.Sprintf("unknown invocation %q", id), http.StatusBadRequest)
			return
		}
		var res Result
		switch kind {
		case "response":
			res = Result{Payload: body, Took: took}
		case "error":
			res = Result{Error: body, Took: took}
		default:
			http.NotFound(w, r)
			return
		}
		select {
		case inv.done <- res:
		default: // answered twice
			http.Error(w, `{"errorType":"InvalidStateTransition"}`, http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}
