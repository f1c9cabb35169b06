package flowbudget

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ErrNoTimeForRetry is joined to the error of the last attempt when the remaining time could not
// hold another one. The attempt's own error stays reachable with errors.As, so a caller still
// sees that Connect throttled rather than a bare deadline.
var ErrNoTimeForRetry = errors.New("no time left in the budget for another attempt")

// Retryer wraps an SDK retryer (keeping its attempt limit, retryable errors and retry quota) and
// allows a retry only when the context's deadline leaves room for the backoff and an attempt. It
// also caps each backoff, since the SDK's default of up to 20 s would outlast any flow, and never
// retries a used-up quota (LimitExceededException).
type Retryer struct {
	inner      aws.RetryerV2
	maxDelay   time.Duration
	minAttempt time.Duration
	now        func() time.Time
}

var _ aws.RetryerV2 = (*Retryer)(nil)

// NewRetryer wraps inner with the retry window of b.
func NewRetryer(inner aws.Retryer, b Budget) *Retryer {
	maxDelay, minAttempt := b.RetryWindow()
	return &Retryer{inner: wrapV2(inner), maxDelay: maxDelay, minAttempt: minAttempt, now: time.Now}
}

// IsErrorRetryable defers to the wrapped retryer, except for the errors of a used-up quota
// (noRetryCodes), which the SDK's standard retryer counts as throttles.
func (r *Retryer) IsErrorRetryable(err error) bool {
	var apiErr interface{ ErrorCode() string }
	if errors.As(err, &apiErr) && noRetryCodes[apiErr.ErrorCode()] {
		return false
	}
	return r.inner.IsErrorRetryable(err)
}

// noRetryCodes are errors the SDK retries as throttles (retry.DefaultThrottleErrorCodes) that
// do not pass within a flow's seconds: LimitExceededException is a service quota of the account
// or instance that is used up, not a rate. Retrying it only spends the budget and sends the
// refused request again.
var noRetryCodes = map[string]bool{"LimitExceededException": true}

// MaxAttempts defers to the wrapped retryer.
func (r *Retryer) MaxAttempts() int { return r.inner.MaxAttempts() }

// RetryDelay is the wrapped retryer's delay, capped so that the deadline check of GetRetryToken
// holds.
func (r *Retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, err := r.inner.RetryDelay(attempt, err)
	if err != nil {
		return 0, err
	}
	return min(d, r.maxDelay), nil
}

// GetRetryToken refuses a retry that would not fit before ctx's deadline.
func (r *Retryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	if deadline, ok := ctx.Deadline(); ok {
		if left := deadline.Sub(r.now()); left < r.maxDelay+r.minAttempt {
			return nil, fmt.Errorf("%w (%s left, a retry needs %s)", ErrNoTimeForRetry, left.Round(time.Millisecond), r.maxDelay+r.minAttempt)
		}
	}
	return r.inner.GetRetryToken(ctx, opErr)
}

// GetInitialToken defers to the wrapped retryer.
func (r *Retryer) GetInitialToken() func(error) error { return r.inner.GetInitialToken() }

// GetAttemptToken defers to the wrapped retryer.
func (r *Retryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	return r.inner.GetAttemptToken(ctx)
}

// wrapV2 upgrades a Retryer that lacks GetAttemptToken the way the SDK does.
func wrapV2(r aws.Retryer) aws.RetryerV2 {
	if v2, ok := r.(aws.RetryerV2); ok {
		return v2
	}
	return v1Retryer{r}
}

type v1Retryer struct{ aws.Retryer }

func (r v1Retryer) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}
