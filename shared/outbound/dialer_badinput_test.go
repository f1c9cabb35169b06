package outbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// hostileEvent is one entry of testdata/hostile-events.json: a malformed or hostile event (as
// JSON, or raw text) and what the dialer must make of it.
type hostileEvent struct {
	Name string `json:"name"`
	// Effect is "refused" (one "event refused" log line with Reason, nothing written),
	// "ignored" (no refusal, nothing written: a contact event the dialer does not act on) or
	// "invalid_recipient" (a call request recorded as the invalid_number recipient Recipient,
	// never dialled).
	Effect    string `json:"effect"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"` // in the refusal's detail, or the invalid recipient's reason
	Recipient string `json:"recipient"`
	// KnownDefect describes a defect the entry shows: the entry says what the dialer should do,
	// and the test skips it, naming the defect, for as long as the dialer does otherwise.
	KnownDefect string          `json:"known_defect"`
	Raw         *string         `json:"raw"`
	Event       json.RawMessage `json:"event"`
}

func (h hostileEvent) payload() []byte {
	if h.Raw != nil {
		return []byte(*h.Raw)
	}
	return h.Event
}

const badInputBucket = "switchboard-recipients"

// The campaigns the catalog's events name, set up through the dialer itself before it runs.
var badInputCampaigns = []struct {
	id, detail string
	stop       bool
}{
	{"cat-running", `{"campaignId":"cat-running","instanceId":"` + connectsim.DefaultInstanceID + `","contactFlowId":"` + connectsim.DefaultContactFlowID + `","queueId":"` + connectsim.DefaultQueueID + `","mode":"agentless"}`, false},
	{"cat-future", `{"campaignId":"cat-future","instanceId":"` + connectsim.DefaultInstanceID + `","contactFlowId":"` + connectsim.DefaultContactFlowID + `","queueId":"` + connectsim.DefaultQueueID + `","mode":"agentless","startTime":"2027-01-15T14:00:00Z","recipients":[{"recipientId":"r-waiting","phone":"+12025550143"}]}`, false},
	{"cat-stopping", `{"campaignId":"cat-stopping","instanceId":"` + connectsim.DefaultInstanceID + `","contactFlowId":"` + connectsim.DefaultContactFlowID + `","queueId":"` + connectsim.DefaultQueueID + `","mode":"agentless"}`, true},
}

// badInputFixture is the dialer wired as its Lambda is (campaign store and do-not-call list on
// dynalite, Connect through the SDK client on connectsim, CSV objects on gofakes3), on a
// manual clock.
type badInputFixture struct {
	d     *outbound.Dialer
	sim   *simtest.Server
	ddb   *dynamodb.Client
	store *campaignstore.Store
	clock *connectsim.ManualClock
	logs  *bytes.Buffer
	s3    *s3.Client
}

type manualSleep struct{ *connectsim.ManualClock }

func (c manualSleep) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

func newBadInputFixture(t *testing.T) *badInputFixture {
	t.Helper()
	db := dynalitetest.Start(t)
	db.CreateTable(t, campaignstore.CreateTableInput("campaigns"))
	db.CreateTable(t, donotcall.CreateTableInput("dnc"))
	// Tuesday 10:00 in New York: inside the default calling window.
	clock := connectsim.NewManualClock(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
	sim := simtest.Start(t, connectsim.Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	s3c := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", "")},
		func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(srv.URL), true })
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(badInputBucket)}); err != nil {
		t.Fatal(err)
	}
	fx := &badInputFixture{sim: sim, ddb: db.Client(), store: campaignstore.New(db.Client(), "campaigns"), clock: clock, logs: &bytes.Buffer{}, s3: s3c}
	d, err := outbound.New(outbound.Config{
		Store: fx.store, Connect: sim.ConnectClient(t), DoNotCall: donotcall.NewTable(db.Client(), "dnc"),
		S3: s3c, RecipientsBucket: badInputBucket, Clock: manualSleep{clock},
		Log: slog.New(slog.NewJSONHandler(fx.logs, nil)), Pacing: pacing.Config{CallsPerSecond: 2, Burst: 5, MaxLive: 10},
		Owner: "catalog", Shards: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.d = d
	for _, c := range badInputCampaigns {
		fx.handle(t, dialerevents.TypeCampaignLaunched, c.detail)
		if c.stop {
			fx.handle(t, dialerevents.TypeCampaignStopped, `{"campaignId":"`+c.id+`"}`)
		}
	}
	if strings.Contains(fx.logs.String(), "event refused") {
		t.Fatalf("the catalog's campaigns were refused:\n%s", fx.logs)
	}
	return fx
}

func (fx *badInputFixture) handle(t *testing.T, detailType, detail string) {
	t.Helper()
	raw := `{"version":"0","id":"setup","detail-type":"` + detailType + `","source":"switchboard","account":"123456789012","time":"2026-12-01T15:00:00Z","region":"us-east-1","resources":[],"detail":` + detail + `}`
	if err := fx.d.Handle(context.Background(), []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// tables returns every item of both tables, as JSON: what a refused event must leave alone.
func (fx *badInputFixture) tables(t *testing.T) string {
	t.Helper()
	var all []string
	for _, table := range []string{"campaigns", "dnc"} {
		p := dynamodb.NewScanPaginator(fx.ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				all = append(all, table+" "+itemString(&types.AttributeValueMemberM{Value: it}))
			}
		}
	}
	slices.Sort(all)
	return strings.Join(all, "\n")
}

// itemString writes an item with its types and its map keys in order, to compare snapshots.
func itemString(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberM:
		keys := slices.Sorted(maps.Keys(v.Value))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, itemString(v.Value[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = itemString(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		return fmt.Sprintf("%T%+v", v, v)
	}
}

func (fx *badInputFixture) connectRequests() map[string]int {
	out := map[string]int{}
	for op, byOutcome := range fx.sim.Stats().Requests {
		for _, n := range byOutcome {
			out[op] += n
		}
	}
	return out
}

var (
	uuidRun  = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	digitRun = regexp.MustCompile(`[0-9]{7,}`)
)

// leakedDigits returns the runs of seven digits or more of the payload (what could be a phone
// number; UUIDs, which the events carry and the logs show on purpose, set aside) found in text.
func leakedDigits(payload []byte, text string) []string {
	clean := uuidRun.ReplaceAllString(text, "")
	var out []string
	for _, run := range digitRun.FindAllString(uuidRun.ReplaceAllString(string(payload), ""), -1) {
		if strings.Contains(clean, run) {
			out = append(out, run)
		}
	}
	return out
}

type logLine struct {
	Msg    string `json:"msg"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

func logLines(t *testing.T, b []byte) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var line logLine
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, line)
	}
	return out
}

// check runs one entry and returns what is wrong with the dialer's handling of it.
func (fx *badInputFixture) check(t *testing.T, h hostileEvent) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	before := fx.tables(t)
	fx.logs.Reset()
	if err := fx.d.Handle(context.Background(), h.payload()); err != nil {
		// An event that can never succeed must not be retried (and then parked) as a failure.
		bad("Handle returned %v, want nil", err)
	}
	logs := fx.logs.String()
	var refusals []logLine
	for _, l := range logLines(t, fx.logs.Bytes()) {
		if l.Msg == "event refused" {
			refusals = append(refusals, l)
		}
	}
	switch h.Effect {
	case "refused":
		if len(refusals) != 1 || refusals[0].Reason != h.Reason || !strings.Contains(refusals[0].Detail, h.Detail) {
			bad("want one refusal %s with %q in its detail, got %+v", h.Reason, h.Detail, refusals)
		}
	case "ignored":
		if len(refusals) != 0 {
			bad("want the event ignored, got %+v", refusals)
		}
	case "invalid_recipient":
		if len(refusals) != 0 {
			bad("want the call request recorded, got %+v", refusals)
		}
		rec, err := fx.store.Recipient(context.Background(), campaignstore.Key("cat-running", h.Recipient, 2), 2)
		switch {
		case err != nil:
			bad("recipient %s: %v", h.Recipient, err)
		case rec.State != dialer.StateInvalidNumber || rec.Phone != "" || !strings.Contains(rec.Reason, h.Detail):
			bad("recipient %s is %s (phone kept: %v) with reason %q, want invalid_number with %q", h.Recipient, rec.State, rec.Phone != "", rec.Reason, h.Detail)
		case len(leakedDigits(h.payload(), rec.Reason)) > 0:
			bad("the recipient's reason quotes digits of the event: %q", rec.Reason)
		}
	default:
		t.Fatalf("catalog entry %q: unknown effect %q", h.Name, h.Effect)
	}
	if h.Effect != "invalid_recipient" {
		if after := fx.tables(t); after != before {
			bad("the event changed the tables")
		}
	}
	if n := fx.connectRequests(); len(n) != 0 {
		bad("requests reached Connect: %v", n)
	}
	if runs := leakedDigits(h.payload(), logs); len(runs) > 0 {
		bad("the logs show %v from the event in clear:\n%s", runs, logs)
	}
	return problems
}

// Every entry of the catalog is refused with its reason (or ignored, or recorded as an invalid
// recipient, as the entry says) by the dialer's Handle, writes nothing when refused or ignored,
// reaches Connect with no request, and shows no phone digits of the event in the logs. A tick
// afterwards places no call either.
func TestHostileEventsCatalog(t *testing.T) {
	b, err := os.ReadFile("testdata/hostile-events.json")
	if err != nil {
		t.Fatal(err)
	}
	var catalog []hostileEvent
	if err := json.Unmarshal(b, &catalog); err != nil {
		t.Fatal(err)
	}
	enforced := 0
	for _, h := range catalog {
		if h.KnownDefect == "" {
			enforced++
		}
	}
	if enforced < 50 {
		t.Fatalf("the catalog has %d entries without a known defect, want at least 50", enforced)
	}
	fx := newBadInputFixture(t)
	// The entries of known defects run last, after the tick: the input they show a defect with
	// may be accepted, and then dialled.
	slices.SortStableFunc(catalog, func(a, b hostileEvent) int { return boolOrder(a.KnownDefect != "", b.KnownDefect != "") })
	seen := map[string]bool{}
	ticked := false
	for _, h := range catalog {
		if h.KnownDefect != "" && !ticked {
			fx.tickPlacesNoCall(t)
			ticked = true
		}
		t.Run(h.Name, func(t *testing.T) {
			if seen[h.Name] || (h.Raw == nil) == (h.Event == nil) || (h.Effect == "refused") == (h.Reason == "") {
				t.Fatalf("catalog entry %q: duplicate name, not exactly one of raw and event, or a reason without a refusal", h.Name)
			}
			seen[h.Name] = true
			problems := fx.check(t, h)
			switch {
			case h.KnownDefect != "" && len(problems) == 0:
				t.Errorf("known defect no longer shows (%s): make the entry an ordinary one", h.KnownDefect)
			case h.KnownDefect != "":
				t.Skipf("known defect: %s\n%s", h.KnownDefect, strings.Join(problems, "\n"))
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
	if !ticked {
		fx.tickPlacesNoCall(t)
	}
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// tickPlacesNoCall runs a tick: the invalid recipients the catalog left are never dialled.
func (fx *badInputFixture) tickPlacesNoCall(t *testing.T) {
	t.Helper()
	if err := fx.d.Tick(context.Background(), fx.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := fx.connectRequests()[connectsim.OpStartOutboundVoiceContact]; n != 0 {
		t.Fatalf("a tick after the catalog placed %d calls", n)
	}
}
