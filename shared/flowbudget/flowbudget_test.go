package flowbudget

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"", DefaultBudget, ""},
		{"3s", 3 * time.Second, ""},
		{"2500ms", 2500 * time.Millisecond, ""},
		{"8s", 8 * time.Second, ""},
		{"100ms", 100 * time.Millisecond, ""},
		{"8001ms", 0, "between"},
		{"50ms", 0, "between"},
		{"-1s", 0, "between"},
		{"3", 0, "not a duration"},
		{"three seconds", 0, "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if b.Total != tt.want || b.Margin != DefaultMargin {
				t.Errorf("Parse(%q) = %+v, want total %s margin %s", tt.in, b, tt.want, DefaultMargin)
			}
		})
	}
}

// A contact-flow budget keeps at least 1 s of Connect's 8 s for what Connect counts and the
// function does not see: cold start, network, the Lambda service. The default keeps that second
// below the block's default timeout of 3 s.
func TestParseFlowKeepsASecondBeforeConnectsTimeout(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"", 2 * time.Second, ""},
		{"3s", 3 * time.Second, ""},
		{"7s", 7 * time.Second, ""},
		{"100ms", 100 * time.Millisecond, ""},
		{"7001ms", 0, "between 100ms and 7s"},
		{"7500ms", 0, "at least 1s below the block's timeout, which is 3s unless the flow raises it"},
		{"8s", 0, "between 100ms and 7s"},
		{"9s", 0, "between 100ms and 7s"},
		{"50ms", 0, "between 100ms and 7s"},
		{"seven", 0, "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := ParseFlow(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFlow(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || b.Total != tt.want {
				t.Fatalf("ParseFlow(%q) = %+v, %v; want total %s", tt.in, b, err, tt.want)
			}
		})
	}
}

func TestValidateRejectsAMarginThatEatsTheFlowTimeout(t *testing.T) {
	if err := (Budget{Total: time.Second, Margin: 2 * time.Second}).Validate(); err == nil {
		t.Fatal("a 2s margin was accepted")
	}
}

func TestStartTakesTheEarlierDeadline(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := Budget{Total: 3 * time.Second, Margin: 250 * time.Millisecond}
	tests := []struct {
		name   string
		lambda time.Duration // Lambda deadline after now; 0 for none
		want   time.Duration
	}{
		{"no lambda deadline", 0, 3 * time.Second},
		{"lambda deadline later", 8 * time.Second, 3 * time.Second},
		{"lambda deadline within the budget", 2 * time.Second, 1750 * time.Millisecond},
		{"lambda deadline just after the budget", 3100 * time.Millisecond, 2850 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := context.Background()
			if tt.lambda > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithDeadline(parent, now.Add(tt.lambda))
				defer cancel()
			}
			ctx, cancel := b.Start(parent, now)
			defer cancel()
			d, ok := ctx.Deadline()
			if !ok || d.Sub(now) != tt.want {
				t.Errorf("deadline = now+%s (set %v), want now+%s", d.Sub(now), ok, tt.want)
			}
		})
	}
}

func TestRetryWindowScalesWithTheBudget(t *testing.T) {
	tests := []struct {
		total                time.Duration
		wantDelay, wantStart time.Duration
	}{
		{100 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond},
		{time.Second, 100 * time.Millisecond, 100 * time.Millisecond},
		{3 * time.Second, 300 * time.Millisecond, 300 * time.Millisecond},
		{7 * time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		d, a := Budget{Total: tt.total}.RetryWindow()
		if d != tt.wantDelay || a != tt.wantStart {
			t.Errorf("RetryWindow(%s) = %s, %s; want %s, %s", tt.total, d, a, tt.wantDelay, tt.wantStart)
		}
	}
}

func TestRetryerCapsTheDelay(t *testing.T) {
	inner := retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 20 * time.Second })
	r := NewRetryer(inner, Budget{Total: time.Second, Margin: DefaultMargin})
	for attempt := 1; attempt < 10; attempt++ {
		d, err := r.RetryDelay(attempt, errors.New("throttled"))
		if err != nil {
			t.Fatal(err)
		}
		if d > 100*time.Millisecond {
			t.Fatalf("attempt %d: delay %s above the 100ms window of a 1s budget", attempt, d)
		}
	}
	if r.MaxAttempts() != inner.MaxAttempts() {
		t.Errorf("MaxAttempts = %d, want the inner retryer's %d", r.MaxAttempts(), inner.MaxAttempts())
	}
}

func TestRetryerRefusesARetryThatDoesNotFit(t *testing.T) {
	// The wrapped retryer checks the deadline against the wall clock too, so the deadlines are real.
	r := NewRetryer(retry.NewStandard(), Budget{Total: 3 * time.Second, Margin: DefaultMargin}) // window 300ms + 300ms
	opErr := errors.New("ThrottlingException")
	tests := []struct {
		name  string
		left  time.Duration // 0: no deadline
		allow bool
	}{
		{"no deadline", 0, true},
		{"plenty of time", 2 * time.Second, true},
		{"just over the window", 700 * time.Millisecond, true},
		{"just short", 500 * time.Millisecond, false},
		{"deadline passed", -time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.left != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.left)
				defer cancel()
			}
			release, err := r.GetRetryToken(ctx, opErr)
			if tt.allow {
				if err != nil {
					t.Fatalf("retry refused: %v", err)
				}
				_ = release(nil)
				return
			}
			if !errors.Is(err, ErrNoTimeForRetry) {
				t.Fatalf("error = %v, want ErrNoTimeForRetry", err)
			}
		})
	}
}

// A flow author who keeps the block's default timeout (3 s) must get the function's answer, not
// the Error branch: the default budget leaves FlowHeadroom of it.
func TestTheDefaultFlowBudgetFitsTheBlocksDefaultTimeout(t *testing.T) {
	b := DefaultFlow()
	if b.Total != 2*time.Second || b.Margin != DefaultMargin {
		t.Errorf("DefaultFlow() = %+v, want 2s with the default margin", b)
	}
	if 3*time.Second-b.Total < time.Second {
		t.Errorf("default budget %s leaves less than 1s of the block's default 3s timeout", b.Total)
	}
	if err := b.ValidateFlow(); err != nil {
		t.Error(err)
	}
}

// The SDK's standard retryer counts LimitExceededException as a throttle; in a flow it is a
// used-up quota that no retry within seconds can fix, so it is not retried. Real throttles are.
func TestRetryerDoesNotRetryAUsedUpQuota(t *testing.T) {
	inner := retry.NewStandard()
	r := NewRetryer(inner, DefaultFlow())
	quota := fmt.Errorf("operation error Connect: UpdateContactAttributes, %w", &smithy.GenericAPIError{Code: "LimitExceededException"})
	if !inner.IsErrorRetryable(quota) {
		t.Fatal("the SDK's retryer no longer retries LimitExceededException: this wrapper may go")
	}
	if r.IsErrorRetryable(quota) {
		t.Error("LimitExceededException is retried")
	}
	for _, code := range []string{"ThrottlingException", "TooManyRequestsException"} {
		if !r.IsErrorRetryable(&smithy.GenericAPIError{Code: code}) {
			t.Errorf("%s is not retried", code)
		}
	}
}
