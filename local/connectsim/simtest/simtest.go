// Package simtest runs a connectsim Sim behind an httptest server for Go
// tests, and builds AWS SDK clients that reach it.
package simtest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// Server is a running Sim and the base URL it serves on.
type Server struct {
	*connectsim.Sim
	// URL is the base URL, http://127.0.0.1:<port>, without a trailing
	// slash.
	URL string
}

// Start creates a Sim with opts and serves it on 127.0.0.1. The server and
// the Sim are closed when the test ends.
func Start(t testing.TB, opts connectsim.Options) *Server {
	t.Helper()
	sim, err := connectsim.New(opts)
	if err != nil {
		t.Fatalf("connectsim.New: %v", err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(func() {
		ts.Close()
		_ = sim.Close()
	})
	return &Server{Sim: sim, URL: ts.URL}
}

// AWSConfig returns a config with the Sim's Region, static test
// credentials and BaseEndpoint set to the server, so that any client built
// from it reaches the Sim.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region: s.World().Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDCONNECTSIM", SecretAccessKey: "connectsim-secret", Source: "connectsim"}, nil
		}),
		BaseEndpoint: aws.String(s.URL),
	}
}

// ConnectClient returns an Amazon Connect client that talks to the Sim.
func (s *Server) ConnectClient(t testing.TB, optFns ...func(*connect.Options)) *connect.Client {
	t.Helper()
	return connect.NewFromConfig(s.AWSConfig(), optFns...)
}
