package contactflow

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// FromEnv builds the function as its Lambda runs it (functions/contactflow) and as the local
// stack runs it: the settings from the environment, every problem with them named at once, and
// the clients with their retries bounded by the flow's budget.
func FromEnv(w awsclient.Wiring) (*Handler, error) {
	var errs []error
	cfg, err := ConfigFromEnv(w.Getenv)
	errs = append(errs, err)
	table := strings.TrimSpace(w.Getenv(EnvDoNotCallTable))
	if table == "" {
		errs = append(errs, fmt.Errorf("%s is required: the DynamoDB table of the do-not-call list", EnvDoNotCallTable))
	}
	errs = append(errs, w.Check())
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cc, db, err := w.Clients(
		func(o *connect.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.Budget) },
		func(o *dynamodb.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.Budget) },
	)
	if err != nil {
		return nil, err
	}
	return NewHandler(cfg, cc, donotcall.NewTable(db, table), w.Log)
}
