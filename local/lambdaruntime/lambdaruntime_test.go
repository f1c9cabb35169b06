package lambdaruntime_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/lambdaruntime"
)

// A runtime loop written from the Runtime API reference: next, then response or error.
func serveOnce(t *testing.T, addr string, answer func(payload []byte) (kind string, body []byte)) {
	resp, err := http.Get("http://" + addr + "/2018-06-01/runtime/invocation/next")
	if err != nil {
		t.Error(err)
		return
	}
	payload, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	ms, _ := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if id == "" || time.UnixMilli(ms).Before(time.Now()) {
		t.Errorf("next: request id %q, deadline %v", id, time.UnixMilli(ms))
	}
	kind, body := answer(payload)
	r, err := http.Post("http://"+addr+"/2018-06-01/runtime/invocation/"+id+"/"+kind, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return
	}
	r.Body.Close()
	if r.StatusCode != http.StatusAccepted {
		t.Errorf("%s: %d", kind, r.StatusCode)
	}
}

func TestInvoke(t *testing.T) {
	s, err := lambdaruntime.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	go serveOnce(t, s.Addr, func(p []byte) (string, []byte) { return "response", append([]byte("echo:"), p...) })
	r, err := s.Invoke(context.Background(), []byte(`{"a":1}`), 5*time.Second)
	if err != nil || string(r.Payload) != `echo:{"a":1}` || r.Error != nil {
		t.Fatalf("%q %q %v", r.Payload, r.Error, err)
	}
	go serveOnce(t, s.Addr, func([]byte) (string, []byte) { return "error", []byte(`{"errorMessage":"boom"}`) })
	r, err = s.Invoke(context.Background(), []byte(`{}`), 5*time.Second)
	if err != nil || string(r.Error) != `{"errorMessage":"boom"}` {
		t.Fatalf("%q %v", r.Error, err)
	}
	// Nobody answers: abandoned at the deadline.
	start := time.Now()
	_, err = s.Invoke(context.Background(), []byte(`{}`), 200*time.Millisecond)
	if !errors.Is(err, lambdaruntime.ErrAbandoned) || time.Since(start) > 5*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

func TestWaitReadyAndTimings(t *testing.T) {
	s, err := lambdaruntime.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	started := time.Now()
	go serveOnce(t, s.Addr, func(p []byte) (string, []byte) {
		time.Sleep(20 * time.Millisecond)
		return "response", p
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	at, err := s.WaitReady(ctx)
	if err != nil || at.Before(started) {
		t.Fatalf("WaitReady = %v, %v (runtime started at %v)", at, err, started)
	}
	r, err := s.Invoke(ctx, []byte(`{}`), 5*time.Second)
	if err != nil || r.Took < 20*time.Millisecond {
		t.Errorf("took %v (the handler slept 20 ms), %v", r.Took, err)
	}
}

func TestInitError(t *testing.T) {
	s, err := lambdaruntime.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Post("http://"+s.Addr+"/2018-06-01/runtime/init/error", "application/json", bytes.NewReader([]byte(`{"errorType":"Runtime.ImportModuleError"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.WaitReady(ctx); !errors.Is(err, lambdaruntime.ErrInitFailed) || !bytes.Contains([]byte(err.Error()), []byte("ImportModuleError")) {
		t.Errorf("WaitReady = %v, want the init error", err)
	}
	if s.InitErrors.Load() != 1 {
		t.Errorf("init errors %d", s.InitErrors.Load())
	}
}

func TestUnknownRequestID(t *testing.T) {
	s, err := lambdaruntime.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Post("http://"+s.Addr+"/2018-06-01/runtime/invocation/nope/response", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}
