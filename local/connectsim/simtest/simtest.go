// Package simtest runs a connectsim Sim behind an httptest server for Go
// tests, and builds AWS SDK clients that reach it.
package simtest

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

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

// PeakLive is the most outbound calls live at once in a Sim's record of contacts (API-initiated
// contacts, from their initiation to their disconnect; one not yet ended counts as live): the
// emulator's account of a dialer's concurrency, not the dialer's own.
func PeakLive(contacts []connectsim.ContactView) int {
	type edge struct {
		at time.Time
		d  int
	}
	var edges []edge
	for _, ct := range contacts {
		if ct.InitiationMethod != "API" {
			continue
		}
		edges = append(edges, edge{ct.InitiationTimestamp, 1})
		if !ct.DisconnectTimestamp.IsZero() {
			edges = append(edges, edge{ct.DisconnectTimestamp, -1})
		}
	}
	// Ends before starts at one instant: a slot freed and taken at once is not two calls.
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.d - b.d
	})
	live, peak := 0, 0
	for _, e := range edges {
		live += e.d
		peak = max(peak, live)
	}
	return peak
}
