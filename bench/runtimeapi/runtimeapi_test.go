package runtimeapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeRuntime polls the stub like a runtime client: next, then the handler's answer.
func fakeRuntime(t *testing.T, s *Stub, answer func(id string, event []byte) (kind string, body []byte)) {
	t.Helper()
	base := "http://" + s.Addr() + "/2018-06-01/runtime/"
	go func() {
		for {
			resp, err := http.Get(base + "invocation/next")
			if err != nil {
				return
			}
			event, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			if id == "" || resp.Header.Get("Lambda-Runtime-Deadline-Ms") == "" || resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn") == "" {
				t.Errorf("next without the runtime headers: %v", resp.Header)
				return
			}
			kind, body := answer(id, event)
			r, err := http.Post(base+"invocation/"+id+"/"+kind, "application/json", bytes.NewReader(body))
			if err != nil {
				return
			}
			if r.StatusCode != http.StatusAccepted {
				t.Errorf("%s: status %d", kind, r.StatusCode)
			}
			r.Body.Close()
		}
	}()
}

func TestInvokeRoundTrip(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	started := time.Now()
	fakeRuntime(t, s, func(_ string, event []byte) (string, []byte) {
		if bytes.Contains(event, []byte("fail")) {
			return "error", []byte(`{"errorType":"Boom"}`)
		}
		return "response", append([]byte("echo:"), event...)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	at, err := s.WaitReady(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(started) {
		t.Errorf("first next at %v, before the runtime started at %v", at, started)
	}
	r, err := s.Invoke(ctx, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Error || string(r.Body) != `echo:{"a":1}` || r.Took <= 0 {
		t.Errorf("result %+v", r)
	}
	r, err = s.Invoke(ctx, []byte(`"fail"`))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Error || !strings.Contains(string(r.Body), "Boom") {
		t.Errorf("error result %+v", r)
	}
}

func TestInitError(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Post("http://"+s.Addr()+"/2018-06-01/runtime/init/error", "application/json", strings.NewReader(`{"errorType":"Runtime.ImportModuleError"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.WaitReady(ctx); !errors.Is(err, ErrInitFailed) || !strings.Contains(err.Error(), "ImportModuleError") {
		t.Errorf("WaitReady = %v, want the init error", err)
	}
}

func TestUnknownRequestID(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Post("http://"+s.Addr()+"/2018-06-01/runtime/invocation/nope/response", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}
