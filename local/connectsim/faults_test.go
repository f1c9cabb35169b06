package connectsim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// TestThrottlingDefaultQuotas checks each operation's default quota and error type, on the
// simulated clock (a manual clock: buckets refill only when it moves).
func TestThrottlingDefaultQuotas(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	ctx := context.Background()
	inst := aws.String(connectsim.DefaultInstanceID)
	ops := []struct {
		op    string
		burst int
		rate  float64
		typ   string
		call  func() error
	}{
		{"StartOutboundVoiceContact", 5, 2, "TooManyRequestsException", func() error {
			_, err := dial(cl, "+447700900123") // blocked destination: no call, but it takes a token
			if apiCode(err) == "DestinationNotAllowedException" {
				return nil
			}
			return err
		}},
		{"GetContactAttributes", 15, 10, "TooManyRequestsException", func() error {
			_, err := cl.GetContactAttributes(ctx, &connect.GetContactAttributesInput{InstanceId: inst, InitialContactId: aws.String(c.ID)})
			return err
		}},
		{"UpdateContactAttributes", 15, 10, "TooManyRequestsException", func() error {
			_, err := cl.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{InstanceId: inst, InitialContactId: aws.String(c.ID), Attributes: map[string]string{"k": "v"}})
			return err
		}},
		{"StopContact", 15, 10, "TooManyRequestsException", func() error {
			_, err := cl.StopContact(ctx, &connect.StopContactInput{InstanceId: inst, ContactId: aws.String("00000000-0000-4000-8000-000000000000")})
			if apiCode(err) == "ContactNotFoundException" {
				return nil
			}
			return err
		}},
		{"DescribeContact", 15, 10, "ThrottlingException", func() error {
			_, err := cl.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: inst, ContactId: aws.String(c.ID)})
			return err
		}},
		{"GetCurrentMetricData", 8, 5, "ThrottlingException", func() error {
			_, err := cl.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{InstanceId: inst, Filters: &types.Filters{Queues: []string{connectsim.DefaultQueueID}},
				CurrentMetrics: []types.CurrentMetric{{Name: types.CurrentMetricNameAgentsAvailable}}})
			return err
		}},
	}
	for _, o := range ops {
		for i := 0; i < o.burst; i++ {
			if err := o.call(); err != nil {
				t.Fatalf("%s: request %d of the burst: %v", o.op, i+1, err)
			}
		}
		if err := o.call(); apiCode(err) != o.typ {
			t.Fatalf("%s: request %d: %v, want %s", o.op, o.burst+1, err, o.typ)
		}
		if n := srv.Stats().Requests[o.op][o.typ]; n != 1 {
			t.Fatalf("%s: %d counted as %s", o.op, n, o.typ)
		}
	}
	// One simulated second refills each bucket by its rate, not more.
	_ = srv.Advance(time.Second)
	for _, o := range ops {
		for i := 0; i < int(o.rate); i++ {
			if err := o.call(); err != nil {
				t.Fatalf("%s: request %d after a second: %v", o.op, i+1, err)
			}
		}
		if err := o.call(); apiCode(err) != o.typ {
			t.Fatalf("%s: request %d after a second: %v, want %s", o.op, int(o.rate)+1, err, o.typ)
		}
	}
	// StartOutboundVoiceContact's TooManyRequestsException is not a typed error of the SDK:
	// only ErrorCode() matches it.
	_, err := dial(cl, numAnswer)
	var typed *types.ThrottlingException
	if errors.As(err, &typed) || apiCode(err) != "TooManyRequestsException" {
		t.Fatalf("throttled StartOutboundVoiceContact: %T %v", err, err)
	}
}

func TestThrottleErrorTypeAndWallClockConfigurable(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	w.Throttle = map[string]connectsim.RateLimit{"StartOutboundVoiceContact": {Rate: 1, Burst: 1, ErrorType: "ThrottlingException"}}
	w.ThrottleClock = connectsim.ThrottleWall
	wall := &fakeWall{now: time.Unix(1_700_000_000, 0)}
	srv, cl := start(t, connectsim.Options{World: w, WallClock: wall.Now})
	if _, err := dial(cl, numAnswer); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(cl, numAnswer); apiCode(err) != "ThrottlingException" {
		t.Fatalf("second call: %v, want ThrottlingException", err)
	}
	_ = srv.Advance(time.Hour) // the simulated clock does not refill a wall-clock bucket
	if _, err := dial(cl, numAnswer); apiCode(err) != "ThrottlingException" {
		t.Fatalf("after an hour of simulated time: %v", err)
	}
	wall.Add(time.Second)
	if _, err := dial(cl, numAnswer); err != nil {
		t.Fatalf("after a wall second: %v", err)
	}
	for _, bad := range []string{`{"throttle": {"StopContact": {"rate": 1, "burst": 1, "errorType": "SlowDown"}}}`, `{"throttleClock": "sundial"}`} {
		if _, err := connectsim.ParseWorld([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	// A throttle fault can answer another type.
	srv.SetFault("StopContact", connectsim.Fault{Kind: connectsim.FaultThrottle, ErrorType: "TooManyRequestsException", Count: 1})
	_, err := cl.StopContact(context.Background(), &connect.StopContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String("x")})
	if apiCode(err) != "TooManyRequestsException" {
		t.Fatalf("throttle fault with errorType: %v", err)
	}
}

func TestThrottlingConfigured(t *testing.T) {
	t.Parallel()
	wall := &fakeWall{now: time.Unix(1_700_000_000, 0)}
	w := connectsim.DefaultWorld()
	w.Throttle = map[string]connectsim.RateLimit{"DescribeContact": {Rate: 10, Burst: 2}}
	srv, cl := start(t, connectsim.Options{World: w, WallClock: wall.Now})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	ctx := context.Background()
	desc := func() error {
		_, err := cl.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(c.ID)})
		return err
	}
	for i := 0; i < 2; i++ {
		if err := desc(); err != nil {
			t.Fatal(err)
		}
	}
	mustAs[*types.ThrottlingException](t, desc())
	wall.Add(100 * time.Millisecond) // 10/s: one token
	if err := desc(); err != nil {
		t.Fatalf("after 100 ms at 10/s: %v", err)
	}
	mustAs[*types.ThrottlingException](t, desc())
	wall.Add(time.Hour) // refills to the burst only
	for i := 0; i < 2; i++ {
		if err := desc(); err != nil {
			t.Fatal(err)
		}
	}
	mustAs[*types.ThrottlingException](t, desc())
}

func TestThrottlingSDKRetries(t *testing.T) {
	t.Parallel()
	// With the SDK's default retryer (3 attempts), throttling is retried;
	// the emulator must still count each attempt.
	wall := &fakeWall{now: time.Unix(1_700_000_000, 0)}
	srv, _ := start(t, connectsim.Options{WallClock: wall.Now})
	cl := srv.ConnectClient(t, func(o *connect.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.MaxBackoff = 10 * time.Millisecond
		})
	})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	srv.SetFault("GetContactAttributes", connectsim.Fault{Kind: connectsim.FaultThrottle, Count: 2})
	_, err := cl.GetContactAttributes(context.Background(), &connect.GetContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID),
	})
	if err != nil {
		t.Fatalf("third attempt should succeed: %v", err)
	}
	got := srv.Stats().Requests["GetContactAttributes"]
	if got["ThrottlingException"] != 2 || got["ok"] != 1 {
		t.Fatalf("counts = %v", got)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{DisableThrottling: true})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	ctx := context.Background()
	update := func(ctx context.Context) error {
		_, err := cl.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{
			InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID),
			Attributes: map[string]string{"k": "v"},
		})
		return err
	}
	describe := func() error {
		_, err := cl.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(c.ID)})
		return err
	}

	t.Run("throttle", func(t *testing.T) {
		srv.SetFault("UpdateContactAttributes", connectsim.Fault{Kind: connectsim.FaultThrottle, Count: 1})
		if code := apiCode(update(ctx)); code != "ThrottlingException" {
			t.Fatalf("code = %q", code)
		}
		if err := update(ctx); err != nil {
			t.Fatalf("Count 1 fault must clear itself: %v", err)
		}
	})
	t.Run("internal", func(t *testing.T) {
		srv.SetFault("UpdateContactAttributes", connectsim.Fault{Kind: connectsim.FaultInternal})
		mustAs[*types.InternalServiceException](t, update(ctx))
		mustAs[*types.InternalServiceException](t, update(ctx))
		// Other operations are untouched.
		if err := describe(); err != nil {
			t.Fatal(err)
		}
		srv.ClearFaults()
		if err := update(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("star", func(t *testing.T) {
		srv.SetFault("*", connectsim.Fault{Kind: connectsim.FaultInternal, Count: 2})
		mustAs[*types.InternalServiceException](t, describe())
		mustAs[*types.InternalServiceException](t, update(ctx))
		if err := describe(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("latency", func(t *testing.T) {
		srv.SetFault("UpdateContactAttributes", connectsim.Fault{Kind: connectsim.FaultLatency, Latency: 300 * time.Millisecond, Count: 2})
		start := time.Now()
		if err := update(ctx); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < 300*time.Millisecond {
			t.Fatalf("answered after %v, want >= 300ms", el)
		}
		// A client deadline shorter than the latency gives up.
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err := update(short)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("with a 50ms deadline: %v", err)
		}
		srv.ClearFaults()
	})
	t.Run("drop", func(t *testing.T) {
		srv.SetFault("UpdateContactAttributes", connectsim.Fault{Kind: connectsim.FaultDrop, Count: 1})
		err := update(ctx)
		if err == nil {
			t.Fatal("dropped connection gave no error")
		}
		if code := apiCode(err); code != "" {
			t.Fatalf("dropped connection decoded as API error %q", code)
		}
		if err := update(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("probability", func(t *testing.T) {
		srv.SetFault("DescribeContact", connectsim.Fault{Kind: connectsim.FaultInternal, Probability: 0.5})
		failed := 0
		for i := 0; i < 60; i++ {
			if err := describe(); err != nil {
				failed++
			}
		}
		srv.ClearFaults()
		if failed < 15 || failed > 45 {
			t.Fatalf("%d of 60 failed at probability 0.5", failed)
		}
	})
	t.Run("invalid fault ignored", func(t *testing.T) {
		srv.SetFault("NoSuchOperation", connectsim.Fault{Kind: connectsim.FaultInternal})
		srv.SetFault("DescribeContact", connectsim.Fault{Kind: "explode"})
		if err := describe(); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Faults()); n != 0 {
			t.Fatalf("%d faults set", n)
		}
	})
	st := srv.Stats().Requests["UpdateContactAttributes"]
	if st["dropped"] != 1 || st["ThrottlingException"] != 1 || st["InternalServiceException"] < 3 {
		t.Fatalf("counts = %v", st)
	}
}

func TestFaultOnRawHTTP(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	srv.SetFault("GetContactAttributes", connectsim.Fault{Kind: connectsim.FaultInternal, Count: 1})
	resp, body := doJSON(t, http.MethodGet, srv.URL+"/contact/attributes/"+connectsim.DefaultInstanceID+"/"+c.ID, map[string]string{"Authorization": fakeSigV4}, nil, nil)
	if resp.StatusCode != 500 || resp.Header.Get("X-Amzn-ErrorType") != "InternalServiceException" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}
}
