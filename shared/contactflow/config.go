package contactflow

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-connect/switchboard/shared/flowbudget"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// Environment variables the function reads. The CDK construct sets them.
const (
	// EnvBudget is the time budget of one invocation, a Go duration (default 2s:
	// flowbudget.DefaultFlowBudget, 1 s below the block's default timeout of 3 s; at most 7s:
	// flowbudget.MaxFlowBudget). It must stay at least 1 s below the block's timeout.
	EnvBudget = "FLOW_BUDGET"
	// EnvErrorMode is "result" (answer result=error, the default) or "fail" (fail the
	// invocation, so the flow takes the block's Error branch).
	EnvErrorMode = "ERROR_MODE"
	// EnvDefaultCountry is the ISO 3166 region of numbers written without a country code
	// (default US).
	EnvDefaultCountry = "DEFAULT_COUNTRY"
	// EnvDoNotCallTable is the DynamoDB table of the do-not-call list.
	EnvDoNotCallTable = "DO_NOT_CALL_TABLE"
)

// ErrorMode is how a failed operation reaches the flow.
type ErrorMode string

// Error modes.
const (
	// ErrorModeResult answers result=error with error_code and error_message: the flow branches
	// on them after the block's Success branch.
	ErrorModeResult ErrorMode = "result"
	// ErrorModeFail fails the invocation for a transient failure (Failure.Transient): Connect
	// retries it, then the flow takes the block's Error branch. Every other failure is answered
	// as in ErrorModeResult, so that Connect's retries never repeat it.
	ErrorModeFail ErrorMode = "fail"
)

// DefaultCountry is the region of numbers without a country code unless configured.
const DefaultCountry = "US"

// Config is the function's behaviour.
type Config struct {
	Budget         flowbudget.Budget
	ErrorMode      ErrorMode
	DefaultCountry string
}

// DefaultConfig is the configuration of an unconfigured function.
func DefaultConfig() Config {
	return Config{Budget: flowbudget.DefaultFlow(), ErrorMode: ErrorModeResult, DefaultCountry: DefaultCountry}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if err := c.Budget.ValidateFlow(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvBudget, err))
	}
	if c.ErrorMode != ErrorModeResult && c.ErrorMode != ErrorModeFail {
		errs = append(errs, fmt.Errorf("%s: %q must be %q or %q", EnvErrorMode, c.ErrorMode, ErrorModeResult, ErrorModeFail))
	}
	if !phone.IsValidRegion(c.DefaultCountry) {
		errs = append(errs, fmt.Errorf("%s: %q is not a region code such as US, GB or DE", EnvDefaultCountry, c.DefaultCountry))
	}
	return errors.Join(errs...)
}

// ConfigFromEnv reads the configuration with getenv (os.Getenv in the function); unset or empty
// variables take their defaults. Every problem is reported.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	if v := strings.TrimSpace(getenv(EnvBudget)); v != "" {
		if b, err := flowbudget.ParseFlow(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvBudget, err))
		} else {
			c.Budget = b
		}
	}
	if v := strings.TrimSpace(getenv(EnvErrorMode)); v != "" {
		c.ErrorMode = ErrorMode(strings.ToLower(v))
	}
	if v := strings.TrimSpace(getenv(EnvDefaultCountry)); v != "" {
		c.DefaultCountry = strings.ToUpper(v)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}
