// Command dialer is the outbound dialer's Lambda function: scheduler ticks, campaign control
// events and Amazon Connect contact events, all handled by shared/outbound (docs/dialer.md).
// It only wires.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
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

// build reads the settings and builds the clients, once per process (outbound.FromEnv, as the
// local stack does, on the real clock here).
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*outbound.Dialer, error) {
	cfg, err := awsclient.FromEnvironment(getenv)
	if err != nil {
		// Name the dialer's own settings' problems too, not only the first.
		_, serr := outbound.SettingsFromEnv(getenv)
		return nil, errors.Join(serr, err)
	}
	owner := getenv("AWS_LAMBDA_LOG_STREAM_NAME")
	if owner == "" {
		owner = fmt.Sprintf("pid-%d", os.Getpid())
	}
	return outbound.FromEnv(awsclient.Wiring{Getenv: getenv, AWS: cfg, Log: log}, outbound.RealClock{}, owner)
}
