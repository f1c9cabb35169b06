package donotcall_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

func newTable(t *testing.T) (*donotcall.Table, *dynamodb.Client) {
	t.Helper()
	srv := dynalitetest.Start(t)
	srv.CreateTable(t, donotcall.CreateTableInput("do-not-call"))
	client := srv.Client()
	return donotcall.NewTable(client, "do-not-call"), client
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestRecordThenLookup(t *testing.T) {
	table, client := newTable(t)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("EST", -5*3600))
	e := donotcall.Entry{PhoneNumber: "+12025550123", Source: donotcall.SourceContactFlow, Reason: "asked twice", RecordedAt: at, ContactID: "c-1"}

	added, err := table.Record(ctx(t), e)
	if err != nil || !added {
		t.Fatalf("Record = %v, %v; want added", added, err)
	}

	got, ok, err := table.Lookup(ctx(t), "+12025550123")
	if err != nil || !ok {
		t.Fatalf("Lookup = %v, %v", ok, err)
	}
	want := e
	want.RecordedAt = at.UTC()
	if !got.RecordedAt.Equal(want.RecordedAt) || got.PhoneNumber != want.PhoneNumber || got.Source != want.Source || got.Reason != want.Reason || got.ContactID != want.ContactID {
		t.Errorf("Lookup = %+v, want %+v", got, want)
	}

	// The item's shape is what the dialer and list imports rely on.
	raw, err := client.GetItem(ctx(t), &dynamodb.GetItemInput{
		TableName: aws.String("do-not-call"),
		Key:       map[string]types.AttributeValue{"phone_number": &types.AttributeValueMemberS{Value: "+12025550123"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantItem := map[string]string{"phone_number": "+12025550123", "source": "contact-flow", "reason": "asked twice", "recorded_at": "2026-03-04T10:06:07Z", "contact_id": "c-1"}
	if len(raw.Item) != len(wantItem) {
		t.Errorf("item has %d attributes, want %d: %v", len(raw.Item), len(wantItem), raw.Item)
	}
	for k, v := range wantItem {
		if s, ok := raw.Item[k].(*types.AttributeValueMemberS); !ok || s.Value != v {
			t.Errorf("item[%s] = %#v, want string %q", k, raw.Item[k], v)
		}
	}
}

func TestRecordKeepsTheFirstRecord(t *testing.T) {
	table, _ := newTable(t)
	first := donotcall.Entry{PhoneNumber: "+442079460958", Source: donotcall.SourceContactFlow, Reason: "first", RecordedAt: time.Unix(1_700_000_000, 0), ContactID: "c-1"}
	second := first
	second.Reason, second.ContactID, second.RecordedAt = "second", "c-2", first.RecordedAt.Add(time.Hour)

	if added, err := table.Record(ctx(t), first); err != nil || !added {
		t.Fatalf("first Record = %v, %v", added, err)
	}
	added, err := table.Record(ctx(t), second)
	if err != nil || added {
		t.Fatalf("second Record = %v, %v; want not added and no error", added, err)
	}
	got, _, err := table.Lookup(ctx(t), first.PhoneNumber)
	if err != nil || got.Reason != "first" || got.ContactID != "c-1" || !got.RecordedAt.Equal(first.RecordedAt) {
		t.Errorf("Lookup after a repeat = %+v, %v; want the first record", got, err)
	}
}

func TestConcurrentRecordsAddOnce(t *testing.T) {
	table, _ := newTable(t)
	var wg sync.WaitGroup
	results := make(chan bool, 8)
	for i := range 8 {
		wg.Go(func() {
			added, err := table.Record(ctx(t), donotcall.Entry{PhoneNumber: "+12025550199", Source: donotcall.SourceContactFlow, RecordedAt: time.Now(), ContactID: string(rune('a' + i))})
			if err != nil {
				t.Error(err)
			}
			results <- added
		})
	}
	wg.Wait()
	close(results)
	n := 0
	for added := range results {
		if added {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 8 concurrent records added the number, want exactly 1", n)
	}
}

func TestRecordWithoutReasonOmitsIt(t *testing.T) {
	table, _ := newTable(t)
	if _, err := table.Record(ctx(t), donotcall.Entry{PhoneNumber: "+12025550100", Source: donotcall.SourceImport, RecordedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := table.Lookup(ctx(t), "+12025550100")
	if err != nil || !ok || got.Reason != "" || got.ContactID != "" || got.Source != donotcall.SourceImport {
		t.Errorf("Lookup = %+v, %v, %v", got, ok, err)
	}
}

func TestRecordTruncatesALongReason(t *testing.T) {
	table, _ := newTable(t)
	long := strings.Repeat("é", donotcall.MaxReasonLength+10)
	if _, err := table.Record(ctx(t), donotcall.Entry{PhoneNumber: "+12025550101", Source: donotcall.SourceContactFlow, Reason: long, RecordedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got, _, err := table.Lookup(ctx(t), "+12025550101")
	if err != nil || got.Reason != strings.Repeat("é", donotcall.MaxReasonLength) {
		t.Errorf("reason = %d runes, %v; want %d", len([]rune(got.Reason)), err, donotcall.MaxReasonLength)
	}
}

func TestLookupOfAnUnknownNumber(t *testing.T) {
	table, _ := newTable(t)
	if _, ok, err := table.Lookup(ctx(t), "+12025550123"); ok || err != nil {
		t.Errorf("Lookup = %v, %v; want absent", ok, err)
	}
}

// Input the table refuses is refused before DynamoDB is called, without the number in the error.
func TestRecordRefusesBadEntries(t *testing.T) {
	table := donotcall.NewTable(nil, "unused")
	tests := []struct {
		name string
		e    donotcall.Entry
	}{
		{"not E.164", donotcall.Entry{PhoneNumber: "(202) 555-0123", Source: "x", RecordedAt: time.Now()}},
		{"no source", donotcall.Entry{PhoneNumber: "+12025550123", RecordedAt: time.Now()}},
		{"no time", donotcall.Entry{PhoneNumber: "+12025550123", Source: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := table.Record(context.Background(), tt.e)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "555") {
				t.Errorf("error %q quotes the number", err)
			}
		})
	}
	if _, _, err := table.Lookup(context.Background(), "2025550123"); err == nil {
		t.Error("Lookup accepted a number that is not E.164")
	}
}

func TestRecordReportsTableErrors(t *testing.T) {
	srv := dynalitetest.Start(t) // no table created
	table := donotcall.NewTable(srv.Client(), "missing")
	_, err := table.Record(ctx(t), donotcall.Entry{PhoneNumber: "+12025550123", Source: "x", RecordedAt: time.Now()})
	var notFound *types.ResourceNotFoundException
	if err == nil || !strings.Contains(err.Error(), "record opt-out in missing") {
		t.Fatalf("error = %v, want it to name the table", err)
	}
	if !errors.As(err, &notFound) {
		t.Errorf("error %v does not wrap ResourceNotFoundException", err)
	}
	if strings.Contains(err.Error(), "2025550123") {
		t.Errorf("error %q quotes the number", err)
	}
}
