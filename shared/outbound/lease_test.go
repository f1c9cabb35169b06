package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// failingLeaseRenewals lets the first PutItem of the tick lease through and fails every later
// one, as DynamoDB does when a throttle outlasts the SDK's retries.
type failingLeaseRenewals struct {
	campaignstore.API
	puts atomic.Int64
}

func (f *failingLeaseRenewals) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if pk, ok := in.Item["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "L#") && f.puts.Add(1) > 1 {
		return nil, errors.New("ProvisionedThroughputExceededException: injected")
	}
	return f.API.PutItem(ctx, in, opt...)
}

// TestAFailedLeaseRenewalDoesNotEndTheTick: the lease (90 s) is renewed after a third of its
// time; a renewal that fails while the lease still holds is retried, and the tick dials on to its
// budget (57 s) instead of stopping at the first failure, 30 s in.
func TestAFailedLeaseRenewalDoesNotEndTheTick(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Instances[0].MaxConcurrentCalls = 300
	fail := &failingLeaseRenewals{}
	r := newRig(t, rigOptions{world: world, start: wed, wrapDB: func(api campaignstore.API) campaignstore.API { fail.API = api; return fail },
		pacing: pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 300}})
	var recips []map[string]any
	for i := 0; i < 150; i++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("r%03d", i), "phone": fmt.Sprintf("+1202555%04d", 1000+i)})
	}
	if err := r.send("Campaign Launched", campaign("lease", map[string]any{"recipients": recips, "pacing": map[string]any{"maxConcurrentCalls": 300}})); err != nil {
		t.Fatal(err)
	}
	r.tick()
	placed := 0
	for _, ct := range r.sim.Contacts() {
		if ct.InitiationMethod == "API" && ct.InitiationTimestamp.Before(wed.Add(time.Minute)) {
			placed++
		}
	}
	// 2 a second for 57 s, after a burst of 5: about 118; stopping at the first renewal, 30 s
	// in, would place about 65.
	if placed < 100 {
		t.Errorf("%d calls in the first tick: the tick stopped at the failed lease renewal", placed)
	}
	if fail.puts.Load() < 2 || !strings.Contains(r.logs.String(), "tick lease renewal failed") {
		t.Errorf("%d lease writes; the renewal failure was not logged", fail.puts.Load())
	}
}
