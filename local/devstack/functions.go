package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
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

// Each build function below wires its function with the same builder as its
// functions/<name>/main.go (contactflow.FromEnv, authredirect.FromEnv, outbound.FromEnv), from the
// environment the CDK construct would set, with the clients pointed at the local servers.

func (e endpoints) wiring(env map[string]string, log *slog.Logger) awsclient.Wiring {
	return awsclient.Wiring{
		Getenv: getenvOf(env), AWS: e.awsConfig(), Log: log,
		Connect: []func(*connect.Options){e.connectOpt}, DynamoDB: []func(*dynamodb.Options){e.dynamoOpt},
	}
}

func buildContactFlow(env map[string]string, ep endpoints, log *slog.Logger) (lambda.Handler, error) {
	h, err := contactflow.FromEnv(ep.wiring(env, log))
	if err != nil {
		return nil, fmt.Errorf("contactflow: %w", err)
	}
	return h, nil
}

func buildAuthRedirect(env map[string]string, ep endpoints, log *slog.Logger) (*authredirect.Handler, error) {
	h, err := authredirect.FromEnv(ep.wiring(env, log))
	if err != nil {
		return nil, fmt.Errorf("authredirect: %w", err)
	}
	return h, nil
}

func buildDialer(env map[string]string, ep endpoints, clock outbound.Clock, owner string, log *slog.Logger) (*outbound.Dialer, error) {
	d, err := outbound.FromEnv(ep.wiring(env, log), clock, owner, ep.s3Opt)
	if err != nil {
		return nil, fmt.Errorf("dialer: %w", err)
	}
	return d, nil
}

// dialerHandler and authRedirectHandler go through lambda.NewHandler, the reflection adapter
// lambda.Start uses, so the payload is decoded exactly as in the Lambda runtime.
func dialerHandler(d *outbound.Dialer) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) error { return d.Handle(ctx, raw) })
}

func authRedirectHandler(h *authredirect.Handler) lambda.Handler {
	return lambda.NewHandler(h.HandleAPIGateway)
}
