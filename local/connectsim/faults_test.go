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

func TestThrottlingDefaultRate(t *testing.T) {
	t.Parallel()
	wall := &fakeWall{now: time.Unix(1_700_000_000, 0)}
	srv, cl := start(t, connectsim.Options{WallClock: wall.Now})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	ctx := context.Background()
	get := func() error {
		_, err := cl.GetContactAttributes(ctx, &connect.GetContactAttributesInput{
			InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID),
		})
		return err
	}
	// Burst of 5, then throttled.
	for i := 0; i < 5; i++ {
		if err := get(); err != nil {
			t.Fatalf("request %d of the burst: %v", i+1, err)
		}
	}
	err := get()
	if apiCode(err) != "ThrottlingException" {
		t.Fatalf("6th request: %v, want ThrottlingException", err)
	}
	// 2 tokens per second: after 0.5 s one more request passes, not two.
	wall.Add(500 * time.Millisecond)
	if err := get(); err != nil {
		t.Fatalf("after 0.5 s: %v", err)
	}
	if err := get(); apiCode(err) != "ThrottlingException" {
		t.Fatalf("second request after 0.5 s: %v", err)
	}
	// Buckets are per operation: DescribeContact has its own.
	if _, err := cl.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(c.ID)}); err != nil {
		t.Fatalf("DescribeContact shares a bucket: %v", err)
	}
	if n := srv.Stats().Requests["GetContactAttributes"]["ThrottlingException"]; n != 2 {
		t.Fatalf("throttled count = %d, want 2", n)
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
