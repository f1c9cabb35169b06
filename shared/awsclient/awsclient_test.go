package awsclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// isolate sets test credentials and a Region, and clears the endpoint settings.
func isolate(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_ENDPOINT_URL", "")
	for _, name := range append([]string{"AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CA_BUNDLE"}, unsupportedSettings...) {
		t.Setenv(name, "")
	}
}

func getAttributes(ctx context.Context, c *connect.Client) error {
	_, err := c.GetContactAttributes(ctx, &connect.GetContactAttributesInput{
		InstanceId:       aws.String("11111111-2222-4333-8444-555555555555"),
		InitialContactId: aws.String("c-1"),
	})
	return err
}

func TestEndpointFromEnvironmentAndRetryAttempts(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		path.Store(r.Method + " " + r.URL.Path)
		w.Header().Set("X-Amzn-ErrorType", "InternalServiceException")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"Message":"boom"}`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_CONNECT", srv.URL)

	cfg, err := FromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConnect(cfg, Settings{MaxAttempts: 2, MaxBackoff: time.Millisecond, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = getAttributes(context.Background(), c)
	var ise *types.InternalServiceException
	if !errors.As(err, &ise) {
		t.Fatalf("want InternalServiceException, got %v", err)
	}
	if got := calls.Load(); got != 2 { // the SDK default would be 3
		t.Errorf("server saw %d attempts, want 2", got)
	}
	if got := path.Load(); got != "GET /contact/attributes/11111111-2222-4333-8444-555555555555/c-1" {
		t.Errorf("request went to %v", got)
	}
}

// AWS_MAX_ATTEMPTS (or max_attempts in a shared config file) must not override the setting: the
// contact-flow function's time budget depends on it.
func TestMaxAttemptsSettingWinsOverAWSMaxAttempts(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"Message":"slow down"}`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_CONNECT", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.URL)
	t.Setenv("AWS_MAX_ATTEMPTS", "6")
	cfg, err := FromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RetryMaxAttempts != 6 {
		t.Fatalf("cfg.RetryMaxAttempts = %d: AWS_MAX_ATTEMPTS was not read, the test proves nothing", cfg.RetryMaxAttempts)
	}
	settings := Settings{MaxAttempts: 2, MaxBackoff: time.Millisecond, CallTimeout: 5 * time.Second}
	c, err := NewConnect(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := getAttributes(context.Background(), c); err == nil {
		t.Fatal("want a throttling error")
	}
	if got := calls.Swap(0); got != 2 {
		t.Errorf("connect: server saw %d attempts, want the setting's 2", got)
	}
	d, err := NewDynamoDB(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("t")}); err == nil {
		t.Fatal("want a throttling error")
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("dynamodb: server saw %d attempts, want the setting's 2", got)
	}
}

func TestCallTimeoutBoundsAllAttempts(t *testing.T) {
	isolate(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	t.Setenv("AWS_ENDPOINT_URL_CONNECT", srv.URL)
	cfg, err := FromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConnect(cfg, Settings{MaxAttempts: 5, MaxBackoff: time.Millisecond, CallTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The caller's context allows far more than the call timeout: only the setting can end the call.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = getAttributes(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error from the call timeout, got %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the caller's context expired: the call timeout did not apply")
	}
}

func TestSettingsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Settings
		wantErr string
	}{
		{name: "defaults", env: nil, want: DefaultSettings()},
		{name: "empty means default", env: map[string]string{"X_MAX_ATTEMPTS": "", "X_MAX_BACKOFF": " ", "X_CALL_TIMEOUT": ""}, want: DefaultSettings()},
		{name: "all set", env: map[string]string{"X_MAX_ATTEMPTS": "2", "X_MAX_BACKOFF": "250ms", "X_CALL_TIMEOUT": "1s"},
			want: Settings{MaxAttempts: 2, MaxBackoff: 250 * time.Millisecond, CallTimeout: time.Second}},
		{name: "not an integer", env: map[string]string{"X_MAX_ATTEMPTS": "three"}, wantErr: `X_MAX_ATTEMPTS: "three" is not an integer`},
		{name: "not a duration", env: map[string]string{"X_CALL_TIMEOUT": "3"}, wantErr: `X_CALL_TIMEOUT: "3" is not a duration`},
		{name: "zero attempts", env: map[string]string{"X_MAX_ATTEMPTS": "0"}, wantErr: "max attempts must be between 1 and 10, got 0"},
		{name: "negative timeout", env: map[string]string{"X_CALL_TIMEOUT": "-1s"}, wantErr: "call timeout must be between 0 and 15m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SettingsFromEnv("X_", func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewConnectRejectsInvalidSettings(t *testing.T) {
	if _, err := NewConnect(aws.Config{}, Settings{MaxAttempts: 11}); err == nil {
		t.Fatal("11 attempts accepted")
	}
}
