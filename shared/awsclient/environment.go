package awsclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// FromEnvironment builds the SDK configuration of a function from the environment Lambda gives
// it, without the SDK's default chain (config.LoadDefaultConfig): that chain's shared files,
// SSO, STS, the sign-in service and the instance metadata service serve nothing in Lambda and
// were about 2 MB of each bootstrap (docs/performance.md).
//
// Lambda sets the execution role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN and the function's Region in AWS_REGION ("Defined runtime environment
// variables", https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html). The
// default chain, finding them, made a static provider of them too (config's
// resolve_credentials.go: credentials.StaticCredentialsProvider{Value: envConfig.Credentials}):
// nothing was refreshed before either.
//
// What the default chain read from the environment and still counts here, read with getenv:
//   - AWS_REGION (else AWS_DEFAULT_REGION): required;
//   - AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY and AWS_SECRET_KEY), with
//     AWS_SESSION_TOKEN: required;
//   - AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_CONNECT, _DYNAMODB, _S3:
//     how the functions reach connectsim, dynalite and gofakes3) and
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, resolved by each client as with the default chain;
//   - AWS_MAX_ATTEMPTS and AWS_RETRY_MODE, for a client built without awsclient's settings
//     (awsclient's own clients pin theirs; see NewConnect);
//   - AWS_CA_BUNDLE: a PEM file whose certificates replace the system's as the roots TLS trusts.
//
// Settings of the default chain that would change where or how requests go and that this
// configuration does not implement are refused with an error naming them (unsupportedSettings),
// never ignored.
func FromEnvironment(getenv func(string) string) (aws.Config, error) {
	var errs []error
	cfg := aws.Config{Region: firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")}
	if cfg.Region == "" {
		errs = append(errs, errors.New("AWS_REGION is not set: Lambda sets it to the function's Region; set it for a local run"))
	}
	id := firstSet(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
	secret := firstSet(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	if id == "" || secret == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set: Lambda sets them (with AWS_SESSION_TOKEN) from the execution role; set them for a local run"))
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, strings.TrimSpace(getenv("AWS_SESSION_TOKEN")))

	ignore := false
	if v := strings.TrimSpace(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: %q is not true or false", v))
		}
		ignore = b
	}
	if v := strings.TrimSpace(getenv("AWS_ENDPOINT_URL")); v != "" && !ignore {
		cfg.BaseEndpoint = aws.String(v)
	}
	cfg.ConfigSources = []any{endpointSource{getenv: getenv, ignore: ignore}}

	if v := strings.TrimSpace(getenv("AWS_MAX_ATTEMPTS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("AWS_MAX_ATTEMPTS: %q is not a positive integer", v))
		}
		cfg.RetryMaxAttempts = n
	}
	if v := strings.TrimSpace(getenv("AWS_RETRY_MODE")); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AWS_RETRY_MODE: %w", err))
		}
		cfg.RetryMode = mode
	}
	if path := strings.TrimSpace(getenv("AWS_CA_BUNDLE")); path != "" {
		client, err := caBundleClient(path)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.HTTPClient = client
	}
	for _, name := range unsupportedSettings {
		if strings.TrimSpace(getenv(name)) != "" {
			errs = append(errs, fmt.Errorf("%s is set, but the functions' AWS configuration does not implement it (shared/awsclient FromEnvironment): unset it", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

// unsupportedSettings are variables of the SDK's default chain that change the endpoint, the
// SDK's defaults or the credentials' source. None is set in Lambda unless someone sets it, and then
// it must not be dropped in silence.
var unsupportedSettings = []string{
	"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_DEFAULTS_MODE",
	"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_PROFILE",
}

// caBundleClient is the SDK's HTTP client trusting only the certificates of the PEM file at path,
// as the default chain does with AWS_CA_BUNDLE.
func caBundleClient(path string) (aws.HTTPClient, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %s holds no PEM certificate", path)
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		tr.TLSClientConfig.RootCAs = roots
	}), nil
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// endpointSource answers the clients' endpoint look-up as the default chain's environment
// configuration (config.EnvConfig) does: each client asks aws.Config.ConfigSources, by
// interface, for AWS_ENDPOINT_URL_<its SDK ID, upper case, spaces as underscores> and whether
// configured endpoints are ignored.
type endpointSource struct {
	getenv func(string) string
	ignore bool
}

// GetServiceBaseEndpoint satisfies the SDK's internal ServiceBaseEndpointProvider.
func (e endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if e.ignore {
		return "", false, nil
	}
	if v := strings.TrimSpace(e.getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))); v != "" {
		return v, true, nil
	}
	return "", false, nil
}

// GetIgnoreConfiguredEndpoints satisfies the SDK's internal IgnoreConfiguredEndpointsProvider.
func (e endpointSource) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return e.ignore, true, nil
}
