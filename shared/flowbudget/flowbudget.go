// Package flowbudget keeps a contact-flow invocation inside its time budget.
//
// Amazon Connect's "Invoke AWS Lambda function" block waits at most 8 s and sends the contact down
// the Error branch when that runs out, so a function that answers late is a function that failed
// without saying why. Connect counts those 8 s from its side: a cold start, the network and the
// Lambda service's own overhead are inside them, so a flow budget must stay well below the
// block's timeout (MaxFlowBudget). A Budget turns the configured time (and the Lambda deadline) into a context
// deadline, and Retryer makes the SDK give up retrying when the next attempt would not fit, so the
// caller still has time to answer with the error it got.
package flowbudget

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits of the configured budget.
const (
	DefaultBudget = 3 * time.Second
	// MaxBudget bounds any budget (Validate). A contact-flow function must also keep below
	// MaxFlowBudget.
	MaxBudget = 8 * time.Second
	MinBudget = 100 * time.Millisecond
	// ConnectBlockTimeout is the longest Connect's "Invoke AWS Lambda function" block waits for
	// an answer, counted by Connect: cold start, network and Lambda overhead included. The flow
	// language's InvocationTimeLimitSeconds must be "greater than 0, no larger than 8"
	// (Amazon Connect flow language reference, InvokeLambdaFunction).
	ConnectBlockTimeout = 8 * time.Second
	// DefaultBlockTimeout is the block's timeout when the flow author keeps the default: "The
	// default Timeout setting is 3 seconds. The maximum Timeout setting is 8 seconds." (AWS
	// Knowledge Center, connect-lambda-function-failures).
	DefaultBlockTimeout = 3 * time.Second
	// FlowHeadroom is the least time a flow budget leaves before the block's timeout, for what
	// Connect counts and the function does not see (cold start, network, the runtime).
	FlowHeadroom = time.Second
	// MaxFlowBudget is the longest budget of a function that Connect's block invokes: the
	// block's longest timeout less FlowHeadroom. A block with a shorter timeout needs a budget
	// at least FlowHeadroom below that timeout.
	MaxFlowBudget = ConnectBlockTimeout - FlowHeadroom
	// DefaultFlowBudget is the budget of an unconfigured function that Connect's block invokes:
	// FlowHeadroom below the block's default timeout, so that a flow author who keeps that
	// default gets the function's error_code, not a bare Error branch, when Connect is slow.
	DefaultFlowBudget = DefaultBlockTimeout - FlowHeadroom
	// DefaultMargin is kept free before the Lambda deadline to encode the answer, write the log
	// line and hand the response to the runtime.
	DefaultMargin = 250 * time.Millisecond
)

// Budget is the time one invocation may spend before it must answer.
type Budget struct {
	// Total is the whole time from the start of an invocation to its answer.
	Total time.Duration
	// Margin is kept free before the Lambda deadline, when that comes first.
	Margin time.Duration
}

// Default is the budget of an unconfigured function.
func Default() Budget { return Budget{Total: DefaultBudget, Margin: DefaultMargin} }

// DefaultFlow is the budget of an unconfigured function that Connect's block invokes.
func DefaultFlow() Budget { return Budget{Total: DefaultFlowBudget, Margin: DefaultMargin} }

// Parse reads a budget such as "3s" or "2500ms" (a Go duration) and validates it. An empty value
// is Default.
func Parse(s string) (Budget, error) { return parse(s, Default(), Budget.Validate) }

// ParseFlow is Parse for the budget of a function that Connect's block invokes (ValidateFlow).
// An empty value is DefaultFlow.
func ParseFlow(s string) (Budget, error) { return parse(s, DefaultFlow(), Budget.ValidateFlow) }

func parse(s string, b Budget, validate func(Budget) error) (Budget, error) {
	if s == "" {
		return b, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return b, fmt.Errorf("%q is not a duration like 3s or 2500ms", s)
	}
	b.Total = d
	return b, validate(b)
}

// Validate reports a budget that cannot keep a caller from hanging. The budget of a function
// that Connect's block invokes is checked with ValidateFlow instead.
func (b Budget) Validate() error { return b.validate(MaxBudget, "") }

// ValidateFlow is Validate for the budget of a function that Connect's block invokes: it also
// refuses a budget above MaxFlowBudget, which could answer after Connect gave up.
func (b Budget) ValidateFlow() error {
	return b.validate(MaxFlowBudget, fmt.Sprintf(" (Connect's block waits at most %s, cold start and network included: keep the budget at least %s below the block's timeout, which is %s unless the flow raises it)", ConnectBlockTimeout, FlowHeadroom, DefaultBlockTimeout))
}

func (b Budget) validate(maxTotal time.Duration, why string) error {
	var errs []error
	if b.Total < MinBudget || b.Total > maxTotal {
		errs = append(errs, fmt.Errorf("budget %s must be between %s and %s%s", b.Total, MinBudget, maxTotal, why))
	}
	if b.Margin < 0 || b.Margin > time.Second {
		errs = append(errs, fmt.Errorf("margin %s must be between 0 and 1s", b.Margin))
	}
	return errors.Join(errs...)
}

// Start derives the invocation's deadline from now: the budget, or the parent's deadline (the
// Lambda deadline) minus the margin if that comes first.
func (b Budget) Start(parent context.Context, now time.Time) (context.Context, context.CancelFunc) {
	deadline := now.Add(b.Total)
	if d, ok := parent.Deadline(); ok {
		if limit := d.Add(-b.Margin); limit.Before(deadline) {
			deadline = limit
		}
	}
	return context.WithDeadline(parent, deadline)
}

// RetryWindow is how much time a retry needs: the longest backoff Retryer allows plus the time
// an attempt needs to have a chance. Shorter budgets get shorter windows, so that a 1 s budget
// still retries once.
func (b Budget) RetryWindow() (maxDelay, minAttempt time.Duration) {
	maxDelay = clamp(b.Total/10, 20*time.Millisecond, 500*time.Millisecond)
	minAttempt = clamp(b.Total/10, 50*time.Millisecond, 500*time.Millisecond)
	return maxDelay, minAttempt
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
