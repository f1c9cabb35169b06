// Package lambdaruntime serves the AWS Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) to a real function process
// (a `bootstrap` built like the deployed one), so that tests can invoke it as Lambda would, kill
// it in the middle of an invocation and start it again.
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

// Result is a function's answer to one invocation.
type Result struct {
	Payload []byte
	// Error is set when the function reported an error (POST .../error).
	Error []byte
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan Result
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
}

// Start listens on a free loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, queue: make(chan *invocation), open: map[string]*invocation{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

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
		select {
		case inv := <-s.queue:
			s.mu.Lock()
			s.open[inv.id] = inv
			s.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:local")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			h.Set("Content-Type", "application/json")
			w.Write(inv.payload)
		case <-r.Context().Done():
		}
	case r.Method == http.MethodPost && path == "init/error":
		s.InitErrors.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		inv := s.open[id]
		s.mu.Unlock()
		if inv == nil {
			http.Error(w, fmt.Sprintf("unknown invocation %q", id), http.StatusBadRequest)
			return
		}
		switch kind {
		case "response":
			inv.done <- Result{Payload: body}
		case "error":
			inv.done <- Result{Error: body}
		default:
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}
