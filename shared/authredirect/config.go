package authredirect

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// Environment variables of the function (set by infra/authredirect.go).
const (
	EnvInstanceID = "INSTANCE_ID"
	EnvChatOrigin = "CHAT_ORIGIN"
	EnvStateTable = "AUTH_STATE_TABLE"
	EnvStateTTL   = "AUTH_STATE_TTL"
	EnvCallBudget = "AUTH_CALL_BUDGET"
	// EnvOriginSecret, when set, is the value CloudFront puts in OriginVerifyHeader of every
	// request it forwards (the optional WAF front of infra/authredirect.go): requests without it
	// reached the API directly, around the WAF, and are refused.
	EnvOriginSecret = "AUTH_ORIGIN_SECRET"
)

// OriginVerifyHeader carries EnvOriginSecret from CloudFront to the function.
const OriginVerifyHeader = "X-Switchboard-Origin-Verify"

// Bounds of the origin secret.
const (
	MinOriginSecretLen = 16
	MaxOriginSecretLen = 512
)

// Defaults and bounds of the settings.
const (
	// DefaultStateTTL is how long a used state stays refused. It must outlast the time Connect
	// accepts the state, so that a replay is always refused here, before any call.
	DefaultStateTTL = 15 * time.Minute
	MinStateTTL     = time.Minute
	MaxStateTTL     = 7 * 24 * time.Hour
	// DefaultCallBudget bounds the UpdateParticipantAuthentication call, retries included: the
	// customer is looking at a blank popup meanwhile.
	DefaultCallBudget = 3 * time.Second
)

// Config is the function's configuration.
type Config struct {
	// InstanceID is the Amazon Connect instance whose chats authenticate here.
	InstanceID string
	// ChatOrigin is the origin of the page that hosts the chat widget: the only origin the page
	// posts the outcome to.
	ChatOrigin string
	// StateTable is the DynamoDB table of used states.
	StateTable string
	// StateTTL is how long a used state is remembered.
	StateTTL time.Duration
	// CallBudget bounds the Connect call, its retries included.
	CallBudget flowbudget.Budget
	// OriginSecret, if set, must be in OriginVerifyHeader of every request.
	OriginSecret string
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.InstanceID == "" {
		errs = append(errs, fmt.Errorf("%s is required: the Amazon Connect instance ID (the UUID at the end of the instance ARN)", EnvInstanceID))
	} else if len(c.InstanceID) > 100 {
		errs = append(errs, fmt.Errorf("%s is longer than Connect's 100 characters", EnvInstanceID))
	}
	if err := CheckChatOrigin(c.ChatOrigin); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvChatOrigin, err))
	}
	if c.StateTable == "" {
		errs = append(errs, fmt.Errorf("%s is required: the DynamoDB table of used sign-in states", EnvStateTable))
	}
	if c.StateTTL < MinStateTTL || c.StateTTL > MaxStateTTL {
		errs = append(errs, fmt.Errorf("%s %s must be between %s and %s", EnvStateTTL, c.StateTTL, MinStateTTL, MaxStateTTL))
	}
	if err := c.CallBudget.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvCallBudget, err))
	}
	if c.OriginSecret != "" {
		if n := len(c.OriginSecret); n < MinOriginSecretLen || n > MaxOriginSecretLen || strings.ContainsFunc(c.OriginSecret, func(r rune) bool { return r <= ' ' || r > '~' }) {
			errs = append(errs, fmt.Errorf("%s must be %d-%d printable ASCII characters without spaces (it travels in an HTTP header)", EnvOriginSecret, MinOriginSecretLen, MaxOriginSecretLen))
		}
	}
	return errors.Join(errs...)
}

// ConfigFromEnv reads the configuration with getenv (os.Getenv in the function) and validates
// it, reporting every problem at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		InstanceID:   getenv(EnvInstanceID),
		ChatOrigin:   getenv(EnvChatOrigin),
		StateTable:   getenv(EnvStateTable),
		StateTTL:     DefaultStateTTL,
		OriginSecret: getenv(EnvOriginSecret),
	}
	var errs []error
	if v := getenv(EnvStateTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration like 15m", EnvStateTTL, v))
		} else {
			c.StateTTL = d
		}
	}
	budget := flowbudget.Budget{Total: DefaultCallBudget, Margin: flowbudget.DefaultMargin}
	if v := getenv(EnvCallBudget); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration like 3s", EnvCallBudget, v))
		} else {
			budget.Total = d
		}
	}
	c.CallBudget = budget
	// A value that did not parse kept its default, so Validate reports only the other problems.
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

// CheckChatOrigin accepts an origin exactly as a browser serializes it: https://host[:port]
// with a lowercase host, or, for local development only, http on a loopback host
// (127.0.0.1, [::1], localhost). No path, query, fragment or user info: anything more would
// never equal the widget window's origin, and postMessage would silently drop the message.
func CheckChatOrigin(origin string) error {
	if origin == "" {
		return errors.New("is required: the origin of the page hosting the chat widget, e.g. https://chat.example.com")
	}
	if origin == "*" || origin == "/" {
		return fmt.Errorf("%q is not allowed: name the chat widget's origin, e.g. https://chat.example.com", origin)
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an origin like https://chat.example.com", origin)
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("%q must not contain user info", origin)
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(origin, "?#"):
		return fmt.Errorf("%q must be an origin only, without path, query or trailing slash", origin)
	case u.Host != strings.ToLower(u.Host):
		return fmt.Errorf("%q must have a lowercase host, as browsers serialize it", origin)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%q must use https (http is accepted only on a loopback host, for local development)", origin)
	default:
		return fmt.Errorf("%q must use https", origin)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
