package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

// The functions' names on the Invoke API: their folders under functions/.
const (
	FnContactFlow  = "contactflow"
	FnDialer       = "dialer"
	FnAuthRedirect = "authredirect"
)

// Table and bucket names of the local stack.
const (
	DoNotCallTable   = "switchboard-do-not-call"
	AuthStateTable   = "switchboard-auth-state"
	CampaignsTable   = "switchboard-campaigns"
	RecipientsBucket = "switchboard-recipients"
	// DialerBus is the dialer's bus, named as the CDK names it for the default stack.
	DialerBus = "Switchboard-dialer"
)

// endpoints are where the functions' clients go: the stack's own servers.
type endpoints struct {
	region, connect, dynamodb, s3 string
}

// awsConfig has static local credentials: nothing of the machine's AWS configuration (profiles,
// SSO) is read, so nothing can reach a real account.
func (e endpoints) awsConfig() aws.Config {
	return aws.Config{Region: e.region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

func (e endpoints) connectOpt(o *connect.Options) { o.BaseEndpoint = aws.String(e.connect) }
func (e endpoints) dynamoOpt(o *dynamodb.Options) { o.BaseEndpoint = aws.String(e.dynamodb) }
func (e endpoints) s3Opt(o *s3.Options)           { o.BaseEndpoint = aws.String(e.s3) }
func getenvOf(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// Each build function below wires its function as its functions/<name>/main.go does, from the
// environment the CDK construct would set, with the clients pointed at the local servers. The
// wiring is repeated here because a main package cannot be imported; the handlers, the settings
// readers and the client builders are the same code.

func buildContactFlow(env map[string]string, ep endpoints, log *slog.Logger) (lambda.Handler, error) {
	getenv := getenvOf(env)
	var errs []error
	cfg, err := contactflow.ConfigFromEnv(getenv)
	errs = append(errs, err)
	table := strings.TrimSpace(getenv(contactflow.EnvDoNotCallTable))
	if table == "" {
		errs = append(errs, fmt.Errorf("%s is required", contactflow.EnvDoNotCallTable))
	}
	cs, err := awsclient.SettingsFromEnv("CONNECT_", getenv)
	errs = append(errs, err)
	ds, err := awsclient.SettingsFromEnv("DYNAMODB_", getenv)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("contactflow: %w", err)
	}
	cc, err := awsclient.NewConnect(ep.awsConfig(), cs, func(o *connect.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.Budget) }, ep.connectOpt)
	if err != nil {
		return nil, err
	}
	db, err := awsclient.NewDynamoDB(ep.awsConfig(), ds, func(o *dynamodb.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.Budget) }, ep.dynamoOpt)
	if err != nil {
		return nil, err
	}
	return contactflow.NewHandler(cfg, cc, donotcall.NewTable(db, table), log)
}

func buildAuthRedirect(env map[string]string, ep endpoints, log *slog.Logger) (*authredirect.Handler, error) {
	getenv := getenvOf(env)
	cfg, err := authredirect.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("authredirect: %w", err)
	}
	cs, err := awsclient.SettingsFromEnv("CONNECT_", getenv)
	if err != nil {
		return nil, err
	}
	cc, err := awsclient.NewConnect(ep.awsConfig(), cs, func(o *connect.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.CallBudget) }, ep.connectOpt)
	if err != nil {
		return nil, err
	}
	ds, err := awsclient.SettingsFromEnv("DYNAMODB_", getenv)
	if err != nil {
		return nil, err
	}
	db, err := awsclient.NewDynamoDB(ep.awsConfig(), ds, func(o *dynamodb.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.CallBudget) }, ep.dynamoOpt)
	if err != nil {
		return nil, err
	}
	store, err := authstate.New(db, cfg.StateTable, cfg.StateTTL)
	if err != nil {
		return nil, err
	}
	return authredirect.NewHandler(cfg, cc, store, log)
}

func buildDialer(env map[string]string, ep endpoints, clock outbound.Clock, owner string, log *slog.Logger) (*outbound.Dialer, error) {
	getenv := getenvOf(env)
	s, err := outbound.SettingsFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("dialer: %w", err)
	}
	cs, err := awsclient.SettingsFromEnv("CONNECT_", getenv)
	if err != nil {
		return nil, err
	}
	ds, err := awsclient.SettingsFromEnv("DYNAMODB_", getenv)
	if err != nil {
		return nil, err
	}
	cc, err := awsclient.NewConnect(ep.awsConfig(), cs, ep.connectOpt)
	if err != nil {
		return nil, err
	}
	db, err := awsclient.NewDynamoDB(ep.awsConfig(), ds, ep.dynamoOpt)
	if err != nil {
		return nil, err
	}
	var s3c outbound.S3API
	if s.RecipientsBucket != "" {
		s3c = s3.NewFromConfig(ep.awsConfig(), func(o *s3.Options) { o.UsePathStyle = getenv("S3_PATH_STYLE") == "true" }, ep.s3Opt)
	}
	return outbound.New(outbound.Config{
		Store:            campaignstore.New(db, s.CampaignsTable),
		Connect:          cc,
		DoNotCall:        donotcall.NewTable(db, s.DoNotCallTable),
		S3:               s3c,
		RecipientsBucket: s.RecipientsBucket,
		Clock:            clock,
		Log:              log,
		Pacing:           s.Pacing,
		Owner:            owner,
		TickBudget:       s.TickBudget,
		LeaseTTL:         s.LeaseTTL,
		WatchdogAfter:    s.WatchdogAfter,
	})
}

// dialerHandler and authRedirectHandler go through lambda.NewHandler, the reflection adapter
// lambda.Start uses, so the payload is decoded exactly as in the Lambda runtime.
func dialerHandler(d *outbound.Dialer) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) error { return d.Handle(ctx, raw) })
}

func authRedirectHandler(h *authredirect.Handler) lambda.Handler {
	return lambda.NewHandler(h.HandleAPIGateway)
}
