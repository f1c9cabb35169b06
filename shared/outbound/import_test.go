package outbound_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
)

// TestAnImportWhoseObjectVanishesEndsWithItsReason: the CSV object existed at the launch and is
// deleted before the first tick imports it. The import stops for good (no tick tries again), the
// report says why, and the campaign finishes with nothing to dial.
func TestAnImportWhoseObjectVanishesEndsWithItsReason(t *testing.T) {
	fx := newBadInputFixture(t)
	ctx := context.Background()
	if _, err := fx.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(badInputBucket), Key: aws.String("vanish.csv"), Body: strings.NewReader("phone\n+12025550143\n")}); err != nil {
		t.Fatal(err)
	}
	fx.handle(t, dialerevents.TypeCampaignLaunched, `{"campaignId":"vanish","instanceId":"`+connectsim.DefaultInstanceID+`","contactFlowId":"`+connectsim.DefaultContactFlowID+`","queueId":"`+connectsim.DefaultQueueID+`","mode":"agentless","recipientsObject":{"bucket":"`+badInputBucket+`","key":"vanish.csv"}}`)
	if strings.Contains(fx.logs.String(), "event refused") {
		t.Fatalf("launch refused:\n%s", fx.logs)
	}
	if _, err := fx.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(badInputBucket), Key: aws.String("vanish.csv")}); err != nil {
		t.Fatal(err)
	}
	var c campaignstore.Campaign
	for i := 0; i < 5; i++ {
		now := fx.clock.Now().UTC().Truncate(time.Minute)
		fx.handle(t, dialerevents.TypeTick, `{"scheduledTime":"`+now.Format(time.RFC3339)+`"}`)
		fx.clock.Advance(time.Minute)
		var err error
		if c, err = fx.store.Campaign(ctx, "vanish"); err != nil {
			t.Fatal(err)
		}
		if !c.Status.Active() {
			break
		}
	}
	if c.Status != campaignstore.StatusFinished || !c.ImportDone {
		t.Fatalf("campaign %s, import done %v: want finished", c.Status, c.ImportDone)
	}
	report, err := fx.store.Report(ctx, "vanish")
	if err != nil {
		t.Fatal(err)
	}
	if len(report) != 1 || report[0].Row != 0 || report[0].Reason != "the object does not exist (NoSuchKey): nothing was imported" {
		t.Errorf("import report %+v", report)
	}
	if n := strings.Count(fx.logs.String(), "NoSuchKey"); n != 1 {
		t.Errorf("%d log lines name NoSuchKey, want one (the import stops, no tick tries again)", n)
	}
}
