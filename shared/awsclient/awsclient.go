// Package awsclient builds the AWS SDK clients Switchboard's functions use, once per process, from
// the environment Lambda gives a function (FromEnvironment).
//
// The clients honour AWS_ENDPOINT_URL_CONNECT, AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3
// (and AWS_ENDPOINT_URL), which is how every function reaches connectsim, dynalite and gofakes3
// locally: no custom variable is needed.
// What this package adds is the two knobs every caller of Connect must choose deliberately: how many
// attempts the retryer may make and how long one call (all its attempts together) may take.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Settings shape the retry and deadline behaviour of a client.
type Settings struct {
	// MaxAttempts is the total number of attempts per call, first try included (1 disables retries).
	MaxAttempts int
	// MaxBackoff caps the delay between two attempts.
	MaxBackoff time.Duration
	// CallTimeout bounds one call including all its retries; 0 leaves only the caller's context.
	CallTimeout time.Duration
}

// DefaultSettings are the SDK's standard retry settings with a per-call deadline that keeps a Lambda
// well inside Connect's 8 s contact-flow limit.
func DefaultSettings() Settings {
	return Settings{MaxAttempts: retry.DefaultMaxAttempts, MaxBackoff: 2 * time.Second, CallTimeout: 5 * time.Second}
}

// Validate reports settings that would make a client misbehave.
func (s Settings) Validate() error {
	var errs []error
	if s.MaxAttempts < 1 || s.MaxAttempts > 10 {
		errs = append(errs, fmt.Errorf("max attempts must be between 1 and 10, got %d", s.MaxAttempts))
	}
	if s.MaxBackoff < 0 || s.MaxBackoff > time.Minute {
		errs = append(errs, fmt.Errorf("max backoff must be between 0 and 1m, got %s", s.MaxBackoff))
	}
	if s.CallTimeout < 0 || s.CallTimeout > 15*time.Minute {
		errs = append(errs, fmt.Errorf("call timeout must be between 0 and 15m, got %s", s.CallTimeout))
	}
	return errors.Join(errs...)
}

// Environment variable names read by SettingsFromEnv, prefixed by the caller (for example "CONNECT_").
const (
	envMaxAttempts = "MAX_ATTEMPTS"
	envMaxBackoff  = "MAX_BACKOFF"
	envCallTimeout = "CALL_TIMEOUT"
)

// SettingsFromEnv starts from DefaultSettings and applies <prefix>MAX_ATTEMPTS (integer),
// <prefix>MAX_BACKOFF and <prefix>CALL_TIMEOUT (Go durations such as "800ms"), read with getenv
// (os.Getenv in a function), then validates. An empty variable keeps its default, as the
// functions' own settings do.
func SettingsFromEnv(prefix string, getenv func(string) string) (Settings, error) {
	s := DefaultSettings()
	var errs []error
	if v := strings.TrimSpace(getenv(prefix + envMaxAttempts)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %q is not an integer", prefix, envMaxAttempts, v))
		}
		s.MaxAttempts = n
	}
	for name, dst := range map[string]*time.Duration{envMaxBackoff: &s.MaxBackoff, envCallTimeout: &s.CallTimeout} {
		v := strings.TrimSpace(getenv(prefix + name))
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %q is not a duration like 500ms or 3s", prefix, name, v))
			continue
		}
		*dst = d
	}
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("%ssettings: %w", prefix, err)
	}
	return s, nil
}

// NewConnect returns an Amazon Connect client with the given retry and deadline settings.
func NewConnect(cfg aws.Config, s Settings, optFns ...func(*connect.Options)) (*connect.Client, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("connect client: %w", err)
	}
	fns := append([]func(*connect.Options){func(o *connect.Options) {
		o.Retryer = newRetryer(s)
		// The SDK wraps the retryer with cfg.RetryMaxAttempts (AWS_MAX_ATTEMPTS, shared config)
		// after these options run: pin it to ours so that the setting is the one that counts.
		o.RetryMaxAttempts = s.MaxAttempts
		o.APIOptions = append(o.APIOptions, callDeadline(s.CallTimeout))
	}}, optFns...)
	return connect.NewFromConfig(cfg, fns...), nil
}

// NewDynamoDB returns a DynamoDB client with the given retry and deadline settings.
func NewDynamoDB(cfg aws.Config, s Settings, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("dynamodb client: %w", err)
	}
	fns := append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.Retryer = newRetryer(s)
		// The SDK wraps the retryer with cfg.RetryMaxAttempts (AWS_MAX_ATTEMPTS, shared config)
		// after these options run: pin it to ours so that the setting is the one that counts.
		o.RetryMaxAttempts = s.MaxAttempts
		o.APIOptions = append(o.APIOptions, callDeadline(s.CallTimeout))
	}}, optFns...)
	return dynamodb.NewFromConfig(cfg, fns...), nil
}

func newRetryer(s Settings) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = s.MaxAttempts
		o.MaxBackoff = s.MaxBackoff
	})
}

// callDeadline bounds a whole operation, retries included. It sits in the Initialize step, which
// runs once per call, before the retry loop of the Finalize step.
func callDeadline(d time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if d <= 0 {
			return nil
		}
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("SwitchboardCallDeadline",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// Wiring is what a function is built from: its environment (os.Getenv in the Lambda, the CDK
// construct's variables in the local stack), the AWS configuration, the logger, and extra options
// for each client (the local stack points them at its own servers). Every function's builder
// (contactflow.FromEnv, authredirect.FromEnv, outbound.FromEnv) takes one, so the Lambda and the
// local stack wire the same code.
type Wiring struct {
	Getenv   func(string) string
	AWS      aws.Config
	Log      *slog.Logger
	Connect  []func(*connect.Options)
	DynamoDB []func(*dynamodb.Options)
	// awsErr is what was wrong with the AWS environment AWS was read from (Build).
	awsErr error
}

// Check returns every problem of the wiring's environment at once: the AWS environment's (when
// Build read it) and the CONNECT_ and DYNAMODB_ client settings'. A builder joins it with its own
// settings' problems before it builds any client.
func (w Wiring) Check() error {
	_, cerr := SettingsFromEnv("CONNECT_", w.Getenv)
	_, derr := SettingsFromEnv("DYNAMODB_", w.Getenv)
	return errors.Join(w.awsErr, cerr, derr)
}

// Build builds a function as its Lambda runs it: build (the function's FromEnv) over the
// process's environment, the AWS configuration read from it (FromEnvironment) and log. A problem
// with the AWS environment does not stop the reading: build reports it with its own (Check).
func Build[T any](build func(Wiring) (T, error), log *slog.Logger) (T, error) {
	cfg, err := FromEnvironment(os.Getenv)
	return build(Wiring{Getenv: os.Getenv, AWS: cfg, Log: log, awsErr: err})
}

// Main is what every function's main does before lambda.Start: a JSON logger on standard output,
// then Build; on failure it logs one line per problem, so that the first invocation's log says
// what to fix, and exits 1.
func Main[T any](name string, build func(Wiring) (T, error)) (T, *slog.Logger) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	fn, err := Build(build, log)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			log.Error(name+": cannot start", "error", line)
		}
		os.Exit(1)
	}
	return fn, log
}

// Clients builds the Connect and DynamoDB clients from the CONNECT_ and DYNAMODB_ settings of
// the environment, with first applied before the wiring's own options (a function's retry budget,
// for example).
func (w Wiring) Clients(connectFirst func(*connect.Options), dynamoFirst func(*dynamodb.Options)) (*connect.Client, *dynamodb.Client, error) {
	if err := w.Check(); err != nil {
		return nil, nil, err
	}
	cs, _ := SettingsFromEnv("CONNECT_", w.Getenv)
	ds, _ := SettingsFromEnv("DYNAMODB_", w.Getenv)
	copts, dopts := w.Connect, w.DynamoDB
	if connectFirst != nil {
		copts = append([]func(*connect.Options){connectFirst}, copts...)
	}
	if dynamoFirst != nil {
		dopts = append([]func(*dynamodb.Options){dynamoFirst}, dopts...)
	}
	cc, err := NewConnect(w.AWS, cs, copts...)
	if err != nil {
		return nil, nil, err
	}
	db, err := NewDynamoDB(w.AWS, ds, dopts...)
	if err != nil {
		return nil, nil, err
	}
	return cc, db, nil
}

// CallTimeout replaces the client's per-call deadline for one call (a call that must outlast the
// client's default, such as a dial whose answer must not be mistaken for no answer). Pass it in
// the call's options: o.APIOptions = append(o.APIOptions, awsclient.CallTimeout(d)).
func CallTimeout(d time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		_, _ = stack.Initialize.Remove("SwitchboardCallDeadline") // absent: nothing to replace
		return callDeadline(d)(stack)
	}
}
