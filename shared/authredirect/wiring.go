package authredirect

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// FromEnv builds the function as its Lambda runs it (functions/authredirect) and as the local
// stack runs it. Retries of throttling and 5xx happen only while they fit in the call budget, for
// the state claim too: its retries must leave time for the Connect call.
func FromEnv(w awsclient.Wiring) (*Handler, error) {
	cfg, err := ConfigFromEnv(w.Getenv)
	if err := errors.Join(err, w.Check()); err != nil {
		return nil, err
	}
	cc, db, err := w.Clients(
		func(o *connect.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.CallBudget) },
		func(o *dynamodb.Options) { o.Retryer = flowbudget.NewRetryer(o.Retryer, cfg.CallBudget) },
	)
	if err != nil {
		return nil, err
	}
	store, err := authstate.New(db, cfg.StateTable, cfg.StateTTL)
	if err != nil {
		return nil, err
	}
	return NewHandler(cfg, cc, store, w.Log)
}
