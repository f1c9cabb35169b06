package outbound

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

// DynamoMaxBackoff is the dialer's longest wait before it retries a DynamoDB request, unless
// DYNAMODB_MAX_BACKOFF says otherwise.
const DynamoMaxBackoff = 250 * time.Millisecond

// FromEnv builds the dialer as its Lambda runs it (functions/dialer, on the real clock) and as the
// local stack runs it (on connectsim's clock): every setting from the environment
// (SettingsFromEnv), the clients from the wiring, and an S3 client only when the dialer has a
// recipients bucket. owner names this process in the tick lease.
func FromEnv(w awsclient.Wiring, clock Clock, owner string, s3Opts ...func(*s3.Options)) (*Dialer, error) {
	s, err := SettingsFromEnv(w.Getenv)
	if err := errors.Join(err, w.Check()); err != nil {
		return nil, err
	}
	var dynamoFirst func(*dynamodb.Options)
	if w.Getenv("DYNAMODB_MAX_BACKOFF") == "" {
		// A dial holds its claimed recipient (and, in the reliability suite, its chance of being
		// interrupted) while its writes retry: DynamoDB's writes take milliseconds, and its
		// guidance is to retry throttles with a short exponential backoff ("Error retries and
		// exponential backoff", DynamoDB Developer Guide), not the client default's up to 2 s.
		dynamoFirst = func(o *dynamodb.Options) { o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, DynamoMaxBackoff) }
	}
	cc, db, err := w.Clients(nil, dynamoFirst)
	if err != nil {
		return nil, err
	}
	var s3c S3API
	if s.RecipientsBucket != "" {
		opts := append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = w.Getenv("S3_PATH_STYLE") == "true" }}, s3Opts...)
		s3c = s3.NewFromConfig(w.AWS, opts...)
	}
	return New(Config{
		Store:            campaignstore.New(db, s.CampaignsTable),
		Connect:          cc,
		DoNotCall:        donotcall.NewTable(db, s.DoNotCallTable),
		S3:               s3c,
		RecipientsBucket: s.RecipientsBucket,
		Clock:            clock,
		Log:              w.Log,
		Pacing:           s.Pacing,
		Owner:            owner,
		TickBudget:       s.TickBudget,
		LeaseTTL:         s.LeaseTTL,
		WatchdogAfter:    s.WatchdogAfter,
		QuietFor:         s.QuietFor,
		Legal:            s.Legal,
		DialConcurrency:  s.DialConcurrency,
		WatchdogRate:     s.WatchdogRate,
	})
}

// FromLambdaEnv builds the dialer as its Lambda runs it: FromEnv on the real clock, the process
// named in the lease by its log stream (one per execution environment).
func FromLambdaEnv(w awsclient.Wiring) (*Dialer, error) {
	owner := w.Getenv("AWS_LAMBDA_LOG_STREAM_NAME")
	if owner == "" {
		owner = fmt.Sprintf("pid-%d", os.Getpid())
	}
	return FromEnv(w, RealClock{}, owner)
}
