// Command contactflow is the Lambda function Amazon Connect flows invoke to read and write
// contact attributes and to record opt-outs (docs/contactflow.md). It only wires: the logic is
// in shared/contactflow.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// gcPercent is the garbage collector's target (GOGC) when the environment sets none. With
// Go's default of 100 and this function's small live heap (about 4 MB), a collection runs every
// hundred or so warm invocations, and the invocations that meet one are the slowest 1 %; at 400
// they are four times rarer and peak RSS stays near 33 MB, far inside Lambda's smallest memory
// size (128 MB). docs/performance.md has the measurements.
const gcPercent = 400

// tuneGC applies gcPercent unless GOGC is set, and returns the percent in force.
func tuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		p := debug.SetGCPercent(100) // read the runtime's value (from GOGC) back
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(gcPercent)
	return gcPercent
}

func main() {
	tuneGC(os.Getenv)
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	awsCfg, err := awsclient.FromEnvironment(os.Getenv)
	if err == nil {
		var h *contactflow.Handler
		if h, err = newHandler(wiring{getenv: os.Getenv, aws: awsCfg, log: log}); err == nil {
			lambda.Start(h)
			return
		}
	}
	// One line per problem, so the first invocation's log says what to fix.
	for _, line := range strings.Split(err.Error(), "\n") {
		log.Error("contactflow: cannot start", "error", line)
	}
	os.Exit(1)
}

// wiring is what newHandler needs from its environment. Tests point the clients at connectsim
// and dynalite with the option functions; the deployed function reaches AWS through aws alone.
type wiring struct {
	// getenv reads the function's settings, the SDK retry settings (CONNECT_MAX_ATTEMPTS, ...)
	// included.
	getenv     func(string) string
	aws        aws.Config
	log        *slog.Logger
	connectOpt []func(*connect.Options)
	dynamoOpt  []func(*dynamodb.Options)
}

// newHandler reads the configuration and builds the clients, once per process. Connect and
// DynamoDB clients keep awsclient's retry settings (CONNECT_MAX_ATTEMPTS, DYNAMODB_MAX_ATTEMPTS,
// ...), wrapped so that they retry only while a retry fits in the invocation's budget.
func newHandler(w wiring) (*contactflow.Handler, error) {
	var errs []error
	cfg, err := contactflow.ConfigFromEnv(w.getenv)
	if err != nil {
		errs = append(errs, err)
	}
	table := strings.TrimSpace(w.getenv(contactflow.EnvDoNotCallTable))
	if table == "" {
		errs = append(errs, fmt.Errorf("%s is required: the DynamoDB table of the do-not-call list", contactflow.EnvDoNotCallTable))
	}
	connectSettings, err := awsclient.SettingsFromEnv("CONNECT_", w.getenv)
	if err != nil {
		errs = append(errs, err)
	}
	dynamoSettings, err := awsclient.SettingsFromEnv("DYNAMODB_", w.getenv)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	budgetRetries := func(o *connect.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.Budget) }
	connectClient, err := awsclient.NewConnect(w.aws, connectSettings, append([]func(*connect.Options){budgetRetries}, w.connectOpt...)...)
	if err != nil {
		return nil, err
	}
	dynamoBudgetRetries := func(o *dynamodb.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.Budget) }
	dynamoClient, err := awsclient.NewDynamoDB(w.aws, dynamoSettings, append([]func(*dynamodb.Options){dynamoBudgetRetries}, w.dynamoOpt...)...)
	if err != nil {
		return nil, err
	}
	return contactflow.NewHandler(cfg, connectClient, donotcall.NewTable(dynamoClient, table), w.log)
}
