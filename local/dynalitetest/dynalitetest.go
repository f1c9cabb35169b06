// Package dynalitetest runs dynalite, a DynamoDB-compatible server, for tests of Switchboard's
// DynamoDB adapters, so they talk the real DynamoDB protocol through the real SDK client.
//
// dynalite comes from the project's package.json (`npm ci`); `make test` installs it. It keeps data in
// memory, supports conditional writes and sparse global secondary indexes, and has no transactions and
// no TTL API: adapters must not rely on either.
package dynalitetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Server is a running dynalite process.
type Server struct {
	// URL is the endpoint, for example http://127.0.0.1:39211.
	URL string
	cmd *exec.Cmd
}

// Start runs a fresh, empty dynalite for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartProcess()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartProcess runs a dynalite that the caller stops with Stop (for TestMain-scoped servers).
func StartProcess() (*Server, error) {
	bin, err := findBinary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- nil
				break
			}
		}
		ready <- errors.New("dynalite exited before it was listening")
		for sc.Scan() { // keep draining so the child never blocks on a full pipe
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			s.Stop()
			return nil, err
		}
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, errors.New("dynalite did not start listening within 30s")
	}
	return s, nil
}

// Stop ends the process.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// AWSConfig is an SDK configuration with static test credentials whose DynamoDB endpoint is this server.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Client returns a real DynamoDB client for this server.
func (s *Server) Client() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.AWSConfig())
}

// CreateTable creates a table and fails the test on error.
func (s *Server) CreateTable(t testing.TB, in *dynamodb.CreateTableInput) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateTable(ctx, in); err != nil {
		t.Fatalf("create table %s: %v", aws.ToString(in.TableName), err)
	}
}

// findBinary looks for node_modules/.bin/dynalite in the module root above the working directory.
func findBinary() (string, error) {
	if p := os.Getenv("DYNALITE_BIN"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(dir, "node_modules", ".bin", "dynalite")
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("dynalite not found at %s: run `npm ci` (or `make test`, which does) in %s", bin, dir)
			}
			return bin, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: cannot locate node_modules/.bin/dynalite")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
