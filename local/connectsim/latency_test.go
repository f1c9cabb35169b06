package connectsim_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/latency"
)

// A request waits its operation's latency on the simulation clock: with a manual clock it is
// answered only once the clock has moved that far, and an operation the model does not name
// takes the "*" latency.
func TestLatencyOnTheSimulationClock(t *testing.T) {
	clock := connectsim.NewManualClock(t0)
	model, err := latency.Parse("DescribeContact=300ms/300ms,*=0s/0s", 1) // a p99 equal to the median: always 300 ms
	if err != nil {
		t.Fatal(err)
	}
	_, c := start(t, connectsim.Options{Clock: clock, Latency: model})
	inst := connectsim.DefaultWorld().Instances[0].ID
	done := make(chan error, 1)
	go func() {
		_, err := c.DescribeContact(context.Background(), &connect.DescribeContactInput{InstanceId: aws.String(inst), ContactId: aws.String("11111111-2222-3333-4444-555555555555")})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("answered before the clock moved (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	clock.Advance(299 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("answered 299 ms into a 300 ms latency (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	clock.Advance(time.Millisecond)
	select {
	case err := <-done:
		if apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("DescribeContact of an unknown contact after its latency: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not answered once its latency had passed")
	}
	// "*" is 0 here: another operation is answered at once.
	_, err = c.GetContactAttributes(context.Background(), &connect.GetContactAttributesInput{InstanceId: aws.String(inst), InitialContactId: aws.String("11111111-2222-3333-4444-555555555555")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetContactAttributes of an unknown contact: %v", err)
	}
}
