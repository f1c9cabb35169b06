package connectsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/smithy-go"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
)

var t0 = time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC)

// start runs a Sim with a manual clock unless opts sets one, and returns a
// Connect client that does not retry.
func start(t *testing.T, opts connectsim.Options) (*simtest.Server, *connect.Client) {
	t.Helper()
	if opts.Clock == nil && opts.TimeScale == 0 {
		opts.Clock = connectsim.NewManualClock(t0)
	}
	srv := simtest.Start(t, opts)
	return srv, srv.ConnectClient(t, func(o *connect.Options) { o.RetryMaxAttempts = 1 })
}

// fakeWall is a wall clock for the throttling buckets that tests move.
type fakeWall struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeWall) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeWall) Add(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// apiCode returns the AWS error code of err, or "" when err is not an API
// error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func mustAs[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
	return target
}

// doJSON sends a request with an optional JSON body and decodes a JSON
// answer into out (when not nil). It returns the response with its body
// read.
func doJSON(t *testing.T, method, url string, hdr map[string]string, body any, out any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp, b
}

// fakeSigV4 is an Authorization header of the right shape.
const fakeSigV4 = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20250310/us-east-1/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef"
