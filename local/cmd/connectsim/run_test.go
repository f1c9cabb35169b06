package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/logcapture"
)

// start runs the command with args and returns its base URL, its output and a stop function
// that returns run's error.
func start(t *testing.T, args ...string) (string, *logcapture.Buffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &logcapture.Buffer{}, &logcapture.Buffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), out, errOut, ready) }()
	select {
	case base := <-ready:
		stop := func() error { cancel(); return <-done }
		t.Cleanup(func() { cancel() })
		return base, out, stop
	case err := <-done:
		cancel()
		t.Fatalf("run ended before it was ready: %v\nstderr: %s", err, errOut.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("connectsim did not start within 30s")
	}
	return "", nil, nil
}

func connectClient(base string) *connect.Client {
	return connect.New(connect.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(base),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

func TestBannerShowsEndpointAndAReadyToPasteExample(t *testing.T) {
	base, out, stop := start(t)
	banner := out.String()
	for _, want := range []string{
		"listening on " + base,
		"AWS_ENDPOINT_URL_CONNECT=" + base,
		"aws connect start-outbound-voice-contact --endpoint-url " + base,
		"AWS_DEFAULT_REGION=us-east-1", // AWS CLI v1 reads only this one
		"--instance-id " + connectsim.DefaultInstanceID,
		"--contact-flow-id " + connectsim.DefaultContactFlowID,
		"--queue-id " + connectsim.DefaultQueueID,
		base + "/_connectsim/contacts",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	// The endpoint in the banner is a Connect API the real SDK can talk to.
	_, err := connectClient(base).GetContactAttributes(context.Background(), &connect.GetContactAttributesInput{
		InstanceId:       aws.String(connectsim.DefaultInstanceID),
		InitialContactId: aws.String("99999999-0000-4000-8000-000000000000"),
	})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("GetContactAttributes of an unknown contact: %v, want ResourceNotFoundException", err)
	}

	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if !strings.Contains(out.String(), "connectsim: stopped") {
		t.Errorf("no stop message in %q", out.String())
	}
}

func TestWorldFileReplacesTheDefaultWorld(t *testing.T) {
	world := `{"instances":[{"id":"abcdefab-1111-4222-8333-444444444444","contactFlows":[{"id":"flow-1"}],"queues":[{"id":"queue-1"}],"phoneNumbers":["+12065550100"]}]}`
	path := filepath.Join(t.TempDir(), "world.json")
	if err := os.WriteFile(path, []byte(world), 0o600); err != nil {
		t.Fatal(err)
	}
	base, out, _ := start(t, "-config", path)
	if !strings.Contains(out.String(), "--instance-id abcdefab-1111-4222-8333-444444444444") {
		t.Errorf("banner does not use the world file's instance:\n%s", out.String())
	}
	_, err := connectClient(base).GetContactAttributes(context.Background(), &connect.GetContactAttributesInput{
		InstanceId:       aws.String(connectsim.DefaultInstanceID),
		InitialContactId: aws.String("99999999-0000-4000-8000-000000000000"),
	})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) || !strings.Contains(err.Error(), connectsim.DefaultInstanceID) {
		t.Errorf("the default instance should be unknown with a world file: %v", err)
	}
}

// With -manual-clock, simulated time moves only through the admin API.
func TestManualClockAdvancesThroughTheAdminAPI(t *testing.T) {
	base, out, _ := start(t, "-manual-clock")
	if !strings.Contains(out.String(), base+"/_connectsim/advance") {
		t.Errorf("banner does not say how to move the manual clock:\n%s", out.String())
	}
	resp, err := http.Post(base+"/_connectsim/advance", "application/json", strings.NewReader(`{"duration":"30s"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("advance with -manual-clock: %d, want 200", resp.StatusCode)
	}

	scaled, _, _ := start(t)
	resp, err = http.Post(scaled+"/_connectsim/advance", "application/json", strings.NewReader(`{"duration":"30s"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("advance without -manual-clock: %d, want 409", resp.StatusCode)
	}
}

// The -event-* flags set best-effort delivery, as GET /_connectsim/delivery shows.
func TestEventDeliveryFlags(t *testing.T) {
	base, _, _ := start(t, "-event-loss", "0.25", "-event-duplicate", "0.1", "-event-delay", "0.5", "-event-max-delay", "300ms")
	resp, err := http.Get(base + "/_connectsim/delivery")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d connectsim.EventDelivery
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.LossProbability != 0.25 || d.DuplicateProbability != 0.1 || d.DelayProbability != 0.5 || d.MaxDelay.D() != 300*time.Millisecond {
		t.Fatalf("delivery = %+v", d)
	}
}

// -start sets the simulated clock's first instant; GET /_connectsim/clock tells the time.
func TestStartFlagAndClockEndpoint(t *testing.T) {
	base, _, _ := start(t, "-manual-clock", "-start", "2027-03-13T08:00:00-05:00")
	get := func() connectsim.ClockState {
		resp, err := http.Get(base + "/_connectsim/clock")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st connectsim.ClockState
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	want := time.Date(2027, 3, 13, 13, 0, 0, 0, time.UTC)
	if st := get(); !st.Now.Equal(want) || !st.Manual {
		t.Fatalf("clock = %+v, want %v on a manual clock", st, want)
	}
	resp, err := http.Post(base+"/_connectsim/advance", "application/json", strings.NewReader(`{"duration":"90m"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := get(); !st.Now.Equal(want.Add(90 * time.Minute)) {
		t.Fatalf("after 90m: %v", st.Now)
	}
	scaled, _, _ := start(t, "-time-scale", "60", "-start", "2027-11-07T01:30:00-04:00")
	base = scaled
	if st := get(); st.Manual || st.TimeScale != 60 || st.Now.Before(time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC)) || st.Now.After(time.Date(2027, 11, 14, 5, 30, 0, 0, time.UTC)) {
		t.Fatalf("scaled clock = %+v", st)
	}
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-time-scale", "0"}, "-time-scale 0"},
		{[]string{"-time-scale", "-3"}, "-time-scale -3"},
		{[]string{"-log-level", "loud"}, `-log-level "loud"`},
		{[]string{"-addr", "8910"}, `-addr "8910"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"-event-loss", "1.5"}, "-event-loss 1.5"},
		{[]string{"-start", "2027-03-13 08:00"}, `-start "2027-03-13 08:00"`},
		{[]string{"-event-delay", "-0.1"}, "-event-delay -0.1"},
		{[]string{"-event-max-delay", "-1s"}, "-event-max-delay -1s"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, &bytes.Buffer{}, &stderr, nil)
			if err == nil || exitCode(err) != 2 {
				t.Fatalf("run(%q) = %v (exit %d), want a usage error", tt.args, err, exitCode(err))
			}
			if !strings.Contains(err.Error()+stderr.String(), tt.want) {
				t.Errorf("error %q / stderr %q lacks %q", err, stderr.String(), tt.want)
			}
		})
	}
}

func TestUnreadableWorldFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.json")
	if err := os.WriteFile(path, []byte(`{"instances":[{"id":"x","bogus":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-config", path}, &bytes.Buffer{}, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "bogus") || exitCode(err) != 1 {
		t.Fatalf("run with a bad world file = %v, want an error naming the unknown field", err)
	}
}

// The world file shown in docs/connectsim.md is one connectsim accepts.
func TestDocumentedWorldFileParses(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "connectsim.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## World file")
	if !ok {
		t.Fatal("docs/connectsim.md has no World file section")
	}
	_, block, ok := strings.Cut(section, "```json\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the World file section has no json block")
	}
	w, err := connectsim.ParseWorld([]byte(block))
	if err != nil {
		t.Fatalf("documented world file: %v", err)
	}
	if w.Region != "eu-west-2" || len(w.Instances) != 1 || w.Instances[0].MaxConcurrentCalls != 20 {
		t.Errorf("documented world file decoded as %+v", w)
	}
	// The settings of outbound calls as the real service reports them are all in the example.
	c := w.Calls
	if !w.Start.Equal(time.Date(2027, 3, 13, 13, 0, 0, 0, time.UTC)) || w.ClientTokenAfterEnd != "new-contact" || w.ThrottleClock != "simulated" ||
		w.Instances[0].ContactFlows[1].Type != "AGENTLESS" || w.Throttle["StartOutboundVoiceContact"].ErrorType != "TooManyRequestsException" ||
		c.Outcomes["VOICEMAIL"] != 0.2 || c.NoAnswerReason != "TELECOM_TIMEOUT" || c.Patience.Mean.D() != 45*time.Second ||
		c.AMD.FalsePositiveRate != 0.03 || w.Delivery.LossProbability != 0.05 || w.Delivery.MaxDelay.D() != 500*time.Millisecond {
		t.Errorf("documented world file settings decoded as %+v", w)
	}
}
