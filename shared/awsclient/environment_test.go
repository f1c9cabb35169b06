package awsclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A request is signed with the credentials Lambda sets, session token included, for the Region
// Lambda sets.
func TestFromEnvironmentSignsWithTheExecutionRolesCredentials(t *testing.T) {
	isolate(t)
	var auth, token string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, token = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"Attributes":{}}`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_CONNECT", srv.URL)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-2")
	t.Setenv("AWS_ACCESS_KEY_ID", "ASIAROLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "role-secret")
	t.Setenv("AWS_SESSION_TOKEN", "role-session-token")
	cfg, err := FromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConnect(cfg, DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	if err := getAttributes(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if want := "Credential=ASIAROLE/" + time.Now().UTC().Format("20060102") + "/eu-west-2/connect/aws4_request"; !strings.Contains(auth, want) {
		t.Errorf("Authorization %q lacks %q", auth, want)
	}
	if token != "role-session-token" {
		t.Errorf("X-Amz-Security-Token = %q", token)
	}
}

// Every client finds its endpoint as it does with the SDK's default chain: the service's own
// variable first, then AWS_ENDPOINT_URL, none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
// The default chain (config.LoadDefaultConfig, only in this test) is the reference.
func TestFromEnvironmentResolvesEndpointsAsTheDefaultChain(t *testing.T) {
	cases := []map[string]string{
		{},
		{"AWS_ENDPOINT_URL_CONNECT": "http://127.0.0.1:8910", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"},
		{"AWS_ENDPOINT_URL": "http://global.example:1"},
		{"AWS_ENDPOINT_URL": "http://global.example:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb.example:2"},
		{"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_CONNECT": "http://connect.example:3"},
		{"AWS_ENDPOINT_URL": "http://global.example:1", "AWS_ENDPOINT_URL_CONNECT": "http://connect.example:3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
		{"AWS_ENDPOINT_URL_CONNECT": "http://connect.example:3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"},
	}
	for _, env := range cases {
		isolate(t)
		for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CONNECT", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3"} {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)  // the clients tell an empty variable from an unset one
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		ours, err := FromEnvironment(os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got, want := endpoints(ours), endpoints(ref)
		for svc := range want {
			if got[svc] != want[svc] {
				t.Errorf("%v: %s endpoint %q, the default chain's %q", env, svc, got[svc], want[svc])
			}
		}
		if v, ok := env["AWS_ENDPOINT_URL_CONNECT"]; ok && env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] != "true" && got["connect"] != v {
			t.Errorf("%v: connect endpoint %q: the comparison did not see the variable", env, got["connect"])
		}
	}
}

func endpoints(cfg aws.Config) map[string]string {
	s := func(p *string) string {
		if p == nil {
			return "(none)"
		}
		return *p
	}
	return map[string]string{
		"connect":  s(connect.NewFromConfig(cfg).Options().BaseEndpoint),
		"dynamodb": s(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint),
		"s3":       s(s3.NewFromConfig(cfg).Options().BaseEndpoint),
	}
}

// What the function cannot run with is refused at start-up, by name.
func TestFromEnvironmentRefusesWhatItCannotHonour(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AWS_REGION": ""}, "AWS_REGION is not set"},
		{map[string]string{"AWS_ACCESS_KEY_ID": ""}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"},
		{map[string]string{"AWS_SECRET_ACCESS_KEY": ""}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"},
		{map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "AWS_USE_FIPS_ENDPOINT is set"},
		{map[string]string{"AWS_PROFILE": "ops"}, "AWS_PROFILE is set"},
		{map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.2/x"}, "AWS_CONTAINER_CREDENTIALS_FULL_URI is set"},
		{map[string]string{"AWS_MAX_ATTEMPTS": "many"}, `AWS_MAX_ATTEMPTS: "many"`},
		{map[string]string{"AWS_RETRY_MODE": "eager"}, "AWS_RETRY_MODE"},
		{map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "yes please"}, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"},
	} {
		isolate(t)
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		if _, err := FromEnvironment(os.Getenv); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one saying %q", tt.env, err, tt.want)
		}
	}
	isolate(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "4")
	t.Setenv("AWS_RETRY_MODE", "adaptive")
	cfg, err := FromEnvironment(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RetryMaxAttempts != 4 || cfg.RetryMode != aws.RetryModeAdaptive {
		t.Errorf("retry settings %d %q, want 4 adaptive", cfg.RetryMaxAttempts, cfg.RetryMode)
	}
}

// AWS_CA_BUNDLE replaces the roots TLS trusts, as with the default chain: the server is reached
// with a bundle holding its certificate, and refused with a bundle holding another one.
func TestFromEnvironmentTrustsTheCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"Attributes":{}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	writePEM := func(name string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "another CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	otherDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		bundle string
		wantOK bool
	}{{writePEM("server.pem", srv.Certificate().Raw), true}, {writePEM("other.pem", otherDER), false}} {
		isolate(t)
		t.Setenv("AWS_CA_BUNDLE", tt.bundle)
		t.Setenv("AWS_ENDPOINT_URL_CONNECT", srv.URL)
		cfg, err := FromEnvironment(os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewConnect(cfg, Settings{MaxAttempts: 1, CallTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = getAttributes(context.Background(), c)
		if tt.wantOK && err != nil {
			t.Errorf("bundle %s (the server's certificate): %v", tt.bundle, err)
		}
		var unknown x509.UnknownAuthorityError
		if !tt.wantOK && !errors.As(err, &unknown) {
			t.Errorf("bundle %s (another certificate): %v, want an unknown-authority error", tt.bundle, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bundle.txt"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{filepath.Join(dir, "missing.pem"): "no such file", filepath.Join(dir, "bundle.txt"): "holds no PEM certificate"} {
		isolate(t)
		t.Setenv("AWS_CA_BUNDLE", path)
		if _, err := FromEnvironment(os.Getenv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("AWS_CA_BUNDLE=%s: %v, want an error saying %q", path, err, want)
		}
	}
}
