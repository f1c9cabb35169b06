package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/devstack"
	"github.com/switchboard-connect/switchboard/local/logcapture"
)

var freePorts = []string{"-connect-port", "0", "-lambda-port", "0", "-events-port", "0", "-dynamodb-port", "0", "-s3-port", "0", "-status-port", "0"}

// The banner names every endpoint with a ready-to-paste example, `invoke` reaches the running
// stack, and stopping frees every port.
func TestBannerInvokeAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &logcapture.Buffer{}, &logcapture.Buffer{}
	ready := make(chan *devstack.Stack, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-no-demo", "-log", "-"}, freePorts...), out, errOut, ready)
	}()
	var st *devstack.Stack
	select {
	case st = <-ready:
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, errOut.String())
	case <-time.After(60 * time.Second):
		t.Fatal("devstack did not start within 60s")
	}
	banner := out.String()
	for _, want := range []string{
		"aws lambda invoke --endpoint-url " + st.URLs.Lambda + " --function-name contactflow",
		"aws events put-events --endpoint-url " + st.URLs.Events,
		`"EventBusName":"Switchboard-dialer"`,
		"aws dynamodb scan --endpoint-url " + st.URLs.DynamoDB,
		"aws s3api list-objects-v2 --endpoint-url " + st.URLs.S3,
		"aws connect start-outbound-voice-contact --endpoint-url " + st.URLs.Connect,
		"AWS_DEFAULT_REGION=us-east-1",
		"authredirect, contactflow, dialer",
		"Press Ctrl-C to stop.",
		"status page   " + st.URLs.Status + "/",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	var iout, ierr bytes.Buffer
	if err := run(ctx, []string{"invoke", "-endpoint", st.URLs.Lambda, "-fn", "contactflow", "-event", "../../../events/contactflow/optout.json"}, &iout, &ierr, nil); err != nil {
		t.Fatalf("invoke: %v\n%s", err, ierr.String())
	}
	if !strings.Contains(iout.String(), `"result":"ok"`) || strings.Contains(ierr.String(), "starting one") {
		t.Errorf("invoke printed %q (stderr %q), want the running stack's ok response", iout.String(), ierr.String())
	}

	addrs := []string{st.URLs.Connect, st.URLs.Lambda, st.URLs.Events, st.URLs.DynamoDB, st.URLs.S3, st.URLs.Status}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(out.String(), "devstack: stopped") {
		t.Errorf("no stop line in %q", out.String())
	}
	for _, u := range addrs {
		ln, err := net.Listen("tcp", strings.TrimPrefix(u, "http://"))
		if err != nil {
			t.Errorf("%s still in use after the stop: %v", u, err)
			continue
		}
		ln.Close()
	}
}

// Without a running devstack, invoke starts one for the invocation, and reports a function's
// failure with a non-zero exit.
func TestInvokeStartsAStackWhenNoneRuns(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"invoke", "-endpoint", "http://127.0.0.1:1", "-fn", "authredirect", "-event", "../../../events/authredirect/malformed.json"}, &out, &errOut, nil)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "starting one") || !strings.Contains(out.String(), `"statusCode":400`) {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
}

func TestBadArgumentsAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-time-scale", "0"}, "-time-scale 0"},
		{[]string{"-lambda-port", "70000"}, "-lambda-port 70000"},
		{[]string{"-demo-recipients", "0"}, "-demo-recipients 0"},
		{[]string{"-demo-duration", "1m"}, "-demo-duration 1m0s"},
		{[]string{"-headless", "-no-demo"}, "cannot go with -no-demo"},
		{[]string{"-start", "tomorrow"}, `-start "tomorrow"`},
		{[]string{"-log-level", "loud"}, `-log-level "loud"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"invoke", "-fn", "contactflow"}, "want -fn <function> -event <file>"},
		{[]string{"invoke", "-fn", "contactflow", "-event", "/nonexistent.json"}, "/nonexistent.json"},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), tc.args, &bytes.Buffer{}, &stderr, nil)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("run(%q) = %v (exit %d), want a usage error with %q", tc.args, err, exitCode(err), tc.want)
		}
	}
}

func TestHostMustBeLoopback(t *testing.T) {
	err := run(context.Background(), append([]string{"-no-demo", "-log", "-", "-host", "0.0.0.0"}, freePorts...), &bytes.Buffer{}, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("run with -host 0.0.0.0 = %v", err)
	}
}
