// Command dialer is the outbound dialer's Lambda function: scheduler ticks, campaign control
// events and Amazon Connect contact events, all handled by shared/outbound (docs/dialer.md).
// It only wires.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	d, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			log.Error("dialer: cannot start", "error", line)
		}
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, raw json.RawMessage) error { return d.Handle(ctx, raw) })
}

// build reads the settings and builds the clients, once per process.
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*outbound.Dialer, error) {
	s, err := outbound.SettingsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := awsclient.FromEnvironment(getenv)
	if err != nil {
		return nil, err
	}
	connectSettings, err := awsclient.SettingsFromEnv("CONNECT_", getenv)
	if err != nil {
		return nil, err
	}
	dynamoSettings, err := awsclient.SettingsFromEnv("DYNAMODB_", getenv)
	if err != nil {
		return nil, err
	}
	cc, err := awsclient.NewConnect(cfg, connectSettings)
	if err != nil {
		return nil, err
	}
	db, err := awsclient.NewDynamoDB(cfg, dynamoSettings)
	if err != nil {
		return nil, err
	}
	var s3c outbound.S3API
	if s.RecipientsBucket != "" {
		s3c = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = getenv("S3_PATH_STYLE") == "true" })
	}
	owner := getenv("AWS_LAMBDA_LOG_STREAM_NAME")
	if owner == "" {
		owner = fmt.Sprintf("pid-%d", os.Getpid())
	}
	return outbound.New(outbound.Config{
		Store:            campaignstore.New(db, s.CampaignsTable),
		Connect:          cc,
		DoNotCall:        donotcall.NewTable(db, s.DoNotCallTable),
		S3:               s3c,
		RecipientsBucket: s.RecipientsBucket,
		Clock:            outbound.RealClock{},
		Log:              log,
		Pacing:           s.Pacing,
		Owner:            owner,
		TickBudget:       s.TickBudget,
		LeaseTTL:         s.LeaseTTL,
		WatchdogAfter:    s.WatchdogAfter,
		QuietFor:         s.QuietFor,
	})
}
