package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
)

const mergeBucket = "switchboard-recipients"

// putCSV uploads body as key and returns the version ID S3 gave it ("" in an unversioned bucket).
func (r *rig) putCSV(key, body string) string {
	r.t.Helper()
	out, err := r.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(mergeBucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// calls counts connectsim's own record of the outbound contacts it placed, by number.
func (r *rig) calls() map[string][]connectsim.ContactView {
	out := map[string][]connectsim.ContactView{}
	for _, ct := range r.sim.Contacts() {
		if ct.InitiationMethod == "API" {
			out[ct.CustomerNumber] = append(out[ct.CustomerNumber], ct)
		}
	}
	return out
}

func (r *rig) report(campaignID string) map[string]campaignstore.ReportEntry {
	r.t.Helper()
	entries, err := r.store.Report(context.Background(), campaignID)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]campaignstore.ReportEntry{}
	for _, e := range entries {
		out[e.RecipientID] = e
	}
	return out
}

func keysOf[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// noNumberInClear fails for any of the numbers' subscriber digits in the logs or the report.
func (r *rig) noNumberInClear(campaignID string, digits ...string) {
	r.t.Helper()
	for _, line := range r.logs.Lines() {
		for _, d := range digits {
			if strings.Contains(line, d) {
				r.t.Errorf("a log line holds a number in clear: %s", line)
			}
		}
	}
	for _, e := range r.report(campaignID) {
		for _, d := range digits {
			if strings.Contains(e.Reason, d) || strings.Contains(e.RecipientID, d) {
				r.t.Errorf("report entry %+v holds a number in clear", e)
			}
		}
	}
}

// TestTheSameNumberInTwoRowsIsCalledOnce is issue #17's reproduction: one person's number in
// several rows, written differently (+12025559999, (202) 555-9999, 202-555-9999), in the same
// chunk and across ticks, is called once, for its first row; the other rows are in the import
// report, naming the row that holds the number, never the number. Counted from connectsim's own
// record of the calls it received.
func TestTheSameNumberInTwoRowsIsCalledOnce(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Calls.NumberOutcomes = map[string]string{"+12025559999": connectsim.OutcomeAnswered, "+12025550101": connectsim.OutcomeAnswered}

	t.Run("csv", func(t *testing.T) {
		// Two rows a tick: rows 1-2 in the first tick's chunk, 3-4 in the second's, 5 in the third's.
		r := newRig(t, rigOptions{world: world, start: wed, bucket: mergeBucket, importRowsPerTick: 2})
		r.putCSV("dup.csv", "phone,first_name\n"+
			"+12025559999,Ada\n"+ // row-1
			"(202) 555-9999,Ada again\n"+ // row-2: row-1's number, same chunk
			"+12025550101,Bo\n"+ // row-3
			"202-555-9999,Ada thrice\n"+ // row-4: row-1's number, a later tick
			"+1 (202) 555-0101,Bo again\n") // row-5: row-3's number, a later tick
		if err := r.send("Campaign Launched", campaign("dup", map[string]any{"recipientsObject": map[string]string{"bucket": mergeBucket, "key": "dup.csv"}})); err != nil {
			t.Fatal(err)
		}
		c := r.runUntil("dup", 3*60)
		if c.Status != campaignstore.StatusFinished {
			t.Fatalf("campaign %s: %s", c.Status, c.Reason)
		}
		calls := r.calls()
		if n := len(calls["+12025559999"]); n != 1 {
			t.Errorf("+1******9999 called %d times, want once", n)
		}
		if n := len(calls["+12025550101"]); n != 1 {
			t.Errorf("+1******0101 called %d times, want once", n)
		}
		if len(calls) != 2 {
			t.Errorf("numbers called: %d, want 2", len(calls))
		}
		recips := r.recipientsOf("dup")
		if got := keysOf(recips); fmt.Sprint(got) != "[row-1 row-3]" {
			t.Errorf("recipients %v, want [row-1 row-3]", got)
		}
		report := r.report("dup")
		if got := keysOf(report); fmt.Sprint(got) != "[row-2 row-4 row-5]" {
			t.Fatalf("import report %v, want rows 2, 4 and 5", report)
		}
		for id, holder := range map[string]string{"row-2": "row-1", "row-4": "row-1", "row-5": "row-3"} {
			e := report[id]
			if !strings.Contains(e.Reason, "recipient "+holder+" ") {
				t.Errorf("%s: reason %q does not name %s, the recipient that holds the number", id, e.Reason, holder)
			}
		}
		if report["row-4"].Row != 4 {
			t.Errorf("row-4's entry is at row %d", report["row-4"].Row)
		}
		r.noNumberInClear("dup", "5559999", "5550101")
	})

	t.Run("inline", func(t *testing.T) {
		r := newRig(t, rigOptions{world: world, start: wed})
		if err := r.send("Campaign Launched", campaign("dup-inline", map[string]any{"recipients": []map[string]any{
			{"recipientId": "ada", "phone": "+12025559999"},
			{"recipientId": "ada-again", "phone": "(202) 555-9999"},
		}})); err != nil {
			t.Fatal(err)
		}
		c := r.runUntil("dup-inline", 3*60)
		if c.Status != campaignstore.StatusFinished {
			t.Fatalf("campaign %s: %s", c.Status, c.Reason)
		}
		if n := len(r.calls()["+12025559999"]); n != 1 {
			t.Errorf("+1******9999 called %d times, want once", n)
		}
		if got := keysOf(r.recipientsOf("dup-inline")); fmt.Sprint(got) != "[ada]" {
			t.Errorf("recipients %v, want [ada]", got)
		}
		if e, ok := r.report("dup-inline")["ada-again"]; !ok || e.Row != 2 || !strings.Contains(e.Reason, "recipient ada ") {
			t.Errorf("ada-again's report entry %+v: want row 2, naming ada", e)
		}
		r.noNumberInClear("dup-inline", "5559999")
	})
}

// The rows of v1 and of v2, which is v1 with one row inserted at the top: every row of v1 is one
// row further down in v2, so a byte offset or a row number taken from v1 lands on another person.
const (
	reuploadV1 = "phone,first_name\n+12025550201,A\n+12025550202,B\n+12025550203,C\n+12025550204,D\n+12025550205,E\n"
	reuploadV2 = "phone,first_name\n+12025550999,Intruder\n+12025550201,A\n+12025550202,B\n+12025550203,C\n+12025550204,D\n+12025550205,E\n"
)

// importPart launches a campaign on key (starting in two hours: the ticks only import) and
// ticks once, which imports the first two rows.
func (r *rig) importPart(id, key string) {
	r.t.Helper()
	if err := r.send("Campaign Launched", campaign(id, map[string]any{
		"recipientsObject": map[string]string{"bucket": mergeBucket, "key": key},
		"startTime":        wed.Add(2 * time.Hour).Format(time.RFC3339),
	})); err != nil {
		r.t.Fatal(err)
	}
	r.tick()
	c, err := r.store.Campaign(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	if c.ImportRow != 2 || c.ImportDone {
		r.t.Fatalf("after one tick the import is at row %d (done %v), want 2", c.ImportRow, c.ImportDone)
	}
}

func (r *rig) importToTheEnd(id string) campaignstore.Campaign {
	r.t.Helper()
	for i := 0; i < 10; i++ {
		r.tick()
		c, err := r.store.Campaign(context.Background(), id)
		if err != nil {
			r.t.Fatal(err)
		}
		if c.ImportDone {
			return c
		}
	}
	r.t.Fatalf("import of %s not done after 10 ticks", id)
	return campaignstore.Campaign{}
}

// TestAReuploadMidImportDoesNotShiftRows: the bucket is versioned; v1 is uploaded, the campaign
// launched, two rows imported, then v2 (v1 with a row inserted at the top) overwrites it. The
// import reads v1 to the end: every recipient is v1's row of its number, none is v2's.
func TestAReuploadMidImportDoesNotShiftRows(t *testing.T) {
	r := newRig(t, rigOptions{start: wed, bucket: mergeBucket, importRowsPerTick: 2})
	ctx := context.Background()
	if _, err := r.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket: aws.String(mergeBucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	v1 := r.putCSV("shift.csv", reuploadV1)
	if v1 == "" {
		t.Fatal("gofakes3 gave v1 no version ID: the bucket is not versioned")
	}
	r.importPart("shift", "shift.csv")
	if v2 := r.putCSV("shift.csv", reuploadV2); v2 == "" || v2 == v1 {
		t.Fatalf("v2's version %q, v1's %q", v2, v1)
	}
	c := r.importToTheEnd("shift")
	got := map[string]string{}
	for id, rec := range r.recipientsOf("shift") {
		got[id] = rec.Phone
	}
	want := map[string]string{"row-1": "+12025550201", "row-2": "+12025550202", "row-3": "+12025550203", "row-4": "+12025550204", "row-5": "+12025550205"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recipients\n got %v\nwant %v (v1's rows)", got, want)
	}
	if rep := r.report("shift"); len(rep) != 0 {
		t.Errorf("import report %v, want none", rep)
	}
	// The version read is kept with the campaign: the stored definition names v1.
	var def struct {
		RecipientsObject map[string]string `json:"recipientsObject"`
	}
	if err := json.Unmarshal(c.Definition, &def); err != nil {
		t.Fatal(err)
	}
	if def.RecipientsObject["versionId"] != v1 {
		t.Errorf("stored recipientsObject %v, want versionId %s", def.RecipientsObject, v1)
	}
}

// TestAReuploadToAnUnversionedBucketStopsTheImport: without versioning the old bytes are gone,
// so the import cannot finish v1; it must not read v2's rows at v1's offsets either. It stops at
// the first row it had not read, and the report says why.
func TestAReuploadToAnUnversionedBucketStopsTheImport(t *testing.T) {
	r := newRig(t, rigOptions{start: wed, bucket: mergeBucket, importRowsPerTick: 2})
	if v := r.putCSV("moved.csv", reuploadV1); v != "" {
		t.Fatalf("version %q in an unversioned bucket", v)
	}
	r.importPart("moved", "moved.csv")
	r.putCSV("moved.csv", reuploadV2)
	r.importToTheEnd("moved")
	got := map[string]string{}
	for id, rec := range r.recipientsOf("moved") {
		got[id] = rec.Phone
	}
	if want := map[string]string{"row-1": "+12025550201", "row-2": "+12025550202"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recipients\n got %v\nwant %v (v1's first two rows, nothing after the re-upload)", got, want)
	}
	rep, err := r.store.Report(context.Background(), "moved")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || rep[0].Row != 3 || !strings.Contains(rep[0].Reason, "replaced") || !strings.Contains(rep[0].Reason, "this row and the rows after it were not imported") {
		t.Errorf("import report %+v: want one entry at row 3 saying the object was replaced", rep)
	}
}

// TestACallbackDoesNotCallANumberTwiceAtOnce: a Call Requested for a number already waiting in
// the campaign is merged into the recipient that holds it (one call, the report names the
// holder); once that recipient is final, a callback for the number is a deliberate second call,
// placed after the first ended.
func TestACallbackDoesNotCallANumberTwiceAtOnce(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Calls.NumberOutcomes = map[string]string{"+12025559999": connectsim.OutcomeAnswered, "+12025550102": connectsim.OutcomeBusy}

	t.Run("waiting", func(t *testing.T) {
		r := newRig(t, rigOptions{world: world, start: wed})
		if err := r.send("Campaign Launched", campaign("cb", map[string]any{
			"recipients": []map[string]any{{"recipientId": "ada", "phone": "+12025559999"}},
			"startTime":  wed.Add(30 * time.Minute).Format(time.RFC3339),
		})); err != nil {
			t.Fatal(err)
		}
		if err := r.send("Call Requested", map[string]any{"campaignId": "cb", "requestId": "r1", "phone": "(202) 555-9999"}); err != nil {
			t.Fatal(err)
		}
		c := r.runUntil("cb", 3*60)
		if c.Status != campaignstore.StatusFinished {
			t.Fatalf("campaign %s", c.Status)
		}
		if n := len(r.calls()["+12025559999"]); n != 1 {
			t.Errorf("+1******9999 called %d times, want once", n)
		}
		if got := keysOf(r.recipientsOf("cb")); fmt.Sprint(got) != "[ada]" {
			t.Errorf("recipients %v, want [ada]", got)
		}
		if e, ok := r.report("cb")["req-r1"]; !ok || !strings.Contains(e.Reason, "recipient ada ") {
			t.Errorf("the callback's report entry %+v: want one naming ada", e)
		}
		r.noNumberInClear("cb", "5559999")
	})

	t.Run("after the first call", func(t *testing.T) {
		r := newRig(t, rigOptions{world: world, start: wed})
		// busy keeps the campaign running (a retry 30 minutes after its first call).
		if err := r.send("Campaign Launched", campaign("cb2", map[string]any{"recipients": []map[string]any{
			{"recipientId": "ada", "phone": "+12025559999"}, {"recipientId": "busy", "phone": "+12025550102"},
		}})); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10 && r.recipientsOf("cb2")["ada"].State != dialer.StateCompleted; i++ {
			r.tick()
		}
		if s := r.recipientsOf("cb2")["ada"].State; s != dialer.StateCompleted {
			t.Fatalf("ada is %s after 10 ticks", s)
		}
		if err := r.send("Call Requested", map[string]any{"campaignId": "cb2", "requestId": "r2", "phone": "202.555.9999"}); err != nil {
			t.Fatal(err)
		}
		c := r.runUntil("cb2", 3*60)
		if c.Status != campaignstore.StatusFinished {
			t.Fatalf("campaign %s", c.Status)
		}
		calls := r.calls()["+12025559999"]
		if len(calls) != 2 {
			t.Fatalf("+1******9999 called %d times, want twice (the campaign's call, then the callback)", len(calls))
		}
		sort.Slice(calls, func(i, j int) bool { return calls[i].InitiationTimestamp.Before(calls[j].InitiationTimestamp) })
		if !calls[1].InitiationTimestamp.After(calls[0].DisconnectTimestamp) {
			t.Errorf("the callback's call started at %v, before the first ended at %v", calls[1].InitiationTimestamp, calls[0].DisconnectTimestamp)
		}
		if rec := r.recipientsOf("cb2")["req-r2"]; rec.State != dialer.StateCompleted {
			t.Errorf("the callback's recipient is %q", rec.State)
		}
	})
}

// slowRecipientPuts delays every write of a callback's recipient, so that other writers find
// its number claimed and its recipient not written yet.
type slowRecipientPuts struct{ campaignstore.API }

func (s slowRecipientPuts) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if sk, ok := in.Item["sk"].(*ddbtypes.AttributeValueMemberS); ok && strings.HasPrefix(sk.Value, "req-") {
		time.Sleep(300 * time.Millisecond)
	}
	return s.API.PutItem(ctx, in, o...)
}

// TestConcurrentCallbacksForOneNumberMakeOneRecipient: eight Call Requested events for one
// number (written four ways), handled at once, leave one recipient for it; the seven others are
// in the report naming it. The holder's recipient is written slowly: the others find the number
// claimed and no recipient yet, fail, and are delivered again (as EventBridge does), then merge.
func TestConcurrentCallbacksForOneNumberMakeOneRecipient(t *testing.T) {
	r := newRig(t, rigOptions{start: wed, wrapDB: func(api campaignstore.API) campaignstore.API { return slowRecipientPuts{api} }})
	if err := r.send("Campaign Launched", campaign("cc", map[string]any{
		"recipients": []map[string]any{{"recipientId": "other", "phone": "+12025550143"}},
		"startTime":  wed.Add(time.Hour).Format(time.RFC3339),
	})); err != nil {
		t.Fatal(err)
	}
	formats := []string{"+12025559999", "(202) 555-9999", "202-555-9999", "+1 202 555 9999"}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.send("Call Requested", map[string]any{"campaignId": "cc", "requestId": fmt.Sprintf("r%d", i), "phone": formats[i%len(formats)]})
		}()
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			// A writer that found the claim taken by one still writing its recipient fails, and
			// EventBridge delivers the event again: do what it does.
			if err = r.send("Call Requested", map[string]any{"campaignId": "cc", "requestId": fmt.Sprintf("r%d", i), "phone": formats[i%len(formats)]}); err != nil {
				t.Fatalf("r%d delivered again: %v", i, err)
			}
		}
	}
	if failed == 0 {
		t.Error("no writer found the number claimed before its recipient was written: the test did not test that")
	}
	t.Logf("%d of 8 first deliveries failed (the holder's recipient was not written yet) and were delivered again", failed)
	var holders []string
	for id, rec := range r.recipientsOf("cc") {
		if rec.Phone == "+12025559999" {
			holders = append(holders, id)
		}
	}
	if len(holders) != 1 {
		t.Fatalf("%d recipients hold the number: %v", len(holders), holders)
	}
	rep := r.report("cc")
	if len(rep) != 7 {
		t.Errorf("%d report entries, want 7: %v", len(rep), rep)
	}
	for id, e := range rep {
		if !strings.Contains(e.Reason, "recipient "+holders[0]+" ") {
			t.Errorf("%s: %q does not name %s", id, e.Reason, holders[0])
		}
	}
}

// failFirstPut fails the first PutItem of one recipient's item, as a crash between the number's
// claim and the recipient's write would leave it.
type failFirstPut struct {
	campaignstore.API
	sk   string
	once sync.Once
}

func (f *failFirstPut) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if sk, ok := in.Item["sk"].(*ddbtypes.AttributeValueMemberS); ok && sk.Value == f.sk {
		fail := false
		f.once.Do(func() { fail = true })
		if fail {
			return nil, fmt.Errorf("injected: the function died before writing %s", f.sk)
		}
	}
	return f.API.PutItem(ctx, in, o...)
}

// TestACrashBetweenTheClaimAndTheRecipientKeepsTheNumberForItsRow: the first write of row-1's
// recipient fails (its number's claim is already taken); the chunk is read again on the next
// tick, row-1 finds its own claim and is written, and row-2 with the same number is merged into
// it: one call.
func TestACrashBetweenTheClaimAndTheRecipientKeepsTheNumberForItsRow(t *testing.T) {
	world := connectsim.DefaultWorld()
	world.Calls.NumberOutcomes = map[string]string{"+12025559999": connectsim.OutcomeAnswered}
	fail := &failFirstPut{sk: "row-1"}
	r := newRig(t, rigOptions{world: world, start: wed, bucket: mergeBucket, wrapDB: func(api campaignstore.API) campaignstore.API { fail.API = api; return fail }})
	r.putCSV("crash.csv", "phone\n+12025559999\n(202) 555-9999\n")
	if err := r.send("Campaign Launched", campaign("crash", map[string]any{"recipientsObject": map[string]string{"bucket": mergeBucket, "key": "crash.csv"}})); err != nil {
		t.Fatal(err)
	}
	c := r.runUntil("crash", 3*60)
	if c.Status != campaignstore.StatusFinished {
		t.Fatalf("campaign %s", c.Status)
	}
	if !strings.Contains(r.logs.String(), "injected: the function died before writing row-1") {
		t.Fatal("the fault was never injected")
	}
	if n := len(r.calls()["+12025559999"]); n != 1 {
		t.Errorf("+1******9999 called %d times, want once", n)
	}
	if got := keysOf(r.recipientsOf("crash")); fmt.Sprint(got) != "[row-1]" {
		t.Errorf("recipients %v, want [row-1]", got)
	}
	if e, ok := r.report("crash")["row-2"]; !ok || !strings.Contains(e.Reason, "recipient row-1 ") {
		t.Errorf("row-2's report entry %+v", e)
	}
}

// storedVersion reads the version the campaign keeps for its recipients object.
func (r *rig) storedVersion(id string) (campaignstore.Campaign, string) {
	r.t.Helper()
	c, err := r.store.Campaign(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	var def struct {
		RecipientsObject map[string]string `json:"recipientsObject"`
	}
	if err := json.Unmarshal(c.Definition, &def); err != nil {
		r.t.Fatal(err)
	}
	return c, def.RecipientsObject["versionId"]
}

// TestALaunchDeliveredAgainKeepsTheVersionItPinned: EventBridge may deliver a launch again after
// the object was re-uploaded; the second delivery is the same launch (not refused as another
// definition), and the campaign keeps the version the first one found. A launch that names a
// version itself is refused: the version is the dialer's to find.
func TestALaunchDeliveredAgainKeepsTheVersionItPinned(t *testing.T) {
	r := newRig(t, rigOptions{start: wed, bucket: mergeBucket})
	if _, err := r.s3.PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{
		Bucket: aws.String(mergeBucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	v1 := r.putCSV("again.csv", reuploadV1)
	launch := campaign("again", map[string]any{"recipientsObject": map[string]string{"bucket": mergeBucket, "key": "again.csv"}})
	if err := r.send("Campaign Launched", launch); err != nil {
		t.Fatal(err)
	}
	first, pinned := r.storedVersion("again")
	if pinned != v1 {
		t.Fatalf("pinned %q, want v1 %q", pinned, v1)
	}
	r.putCSV("again.csv", reuploadV2)
	if err := r.send("Campaign Launched", launch); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.logs.String(), "event refused") {
		t.Errorf("the launch delivered again was refused:\n%s", r.logs.String())
	}
	again, pinned := r.storedVersion("again")
	if pinned != v1 || again.Version != first.Version || string(again.Definition) != string(first.Definition) {
		t.Errorf("after the second delivery: version %q (want v1 %q), campaign version %d (was %d)", pinned, v1, again.Version, first.Version)
	}

	named := campaign("named", map[string]any{"recipientsObject": map[string]string{"bucket": mergeBucket, "key": "again.csv", "versionId": v1}})
	if err := r.send("Campaign Launched", named); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.Campaign(context.Background(), "named"); !errors.Is(err, campaignstore.ErrNotFound) {
		t.Errorf("a launch naming its version: %v, want it refused", err)
	}
	if !strings.Contains(r.logs.String(), `"reason":"invalid_campaign"`) || !strings.Contains(r.logs.String(), "versionId and etag are the dialer's own") {
		t.Errorf("no refusal naming versionId in the logs:\n%s", r.logs.String())
	}
}

// TestARowRepeatingAnIDAndItsNumberIsARepeatedID: a row with both the recipient ID and the
// number of an earlier row is reported as a repeated recipient_id, whether the earlier row is
// in its chunk or was imported a tick before.
func TestARowRepeatingAnIDAndItsNumberIsARepeatedID(t *testing.T) {
	r := newRig(t, rigOptions{start: wed, bucket: mergeBucket, importRowsPerTick: 1})
	r.putCSV("ids.csv", "phone,recipient_id\n+12025559999,p1\n(202) 555-9999,p1\n")
	r.importToTheEndOf(t, "ids", "ids.csv")
	r2 := newRig(t, rigOptions{start: wed, bucket: mergeBucket})
	r2.putCSV("ids.csv", "phone,recipient_id\n+12025559999,p1\n(202) 555-9999,p1\n")
	r2.importToTheEndOf(t, "ids", "ids.csv")
	for name, r := range map[string]*rig{"a tick apart": r, "one chunk": r2} {
		rep := r.report("ids")
		if e, ok := rep["p1"]; len(rep) != 1 || !ok || e.Row != 2 || e.Reason != "recipient_id repeats an earlier row: this row was not imported" {
			t.Errorf("%s: report %v", name, rep)
		}
		if got := keysOf(r.recipientsOf("ids")); fmt.Sprint(got) != "[p1]" {
			t.Errorf("%s: recipients %v", name, got)
		}
	}
}

func (r *rig) importToTheEndOf(t *testing.T, id, key string) {
	t.Helper()
	if err := r.send("Campaign Launched", campaign(id, map[string]any{
		"recipientsObject": map[string]string{"bucket": mergeBucket, "key": key},
		"startTime":        wed.Add(2 * time.Hour).Format(time.RFC3339),
	})); err != nil {
		t.Fatal(err)
	}
	r.importToTheEnd(id)
}
