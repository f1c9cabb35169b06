package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
)

// Issue 17, the defect itself: a Campaign Stopped that meets DynamoDB throttles on all three of
// Lambda's attempts. Before, devstack (like the deployed stack) dropped it with an error line
// and the campaign kept running. Now it is in the dead-letter list with the event as sent, and
// the replay recipe of docs/devstack.md puts it through: the campaign stops. A Campaign Paused
// that failed beside it is held, not replayed (order-sensitive), and stays in the list. Replaying
// the stop a second time changes nothing, and the held pause replayed by hand is refused
// (docs/dialer.md, "Replaying is safe, and where it is not").
//
// The real dialer (outbound.FromEnv, as devstack builds it) on dynalite behind faultproxy, the
// bus with the CDK's control rule, Lambda's retries on a manual clock.
func TestACampaignStoppedThatMeetsDynamoDBThrottlesIsDeadLetteredAndReplayed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dynalite")
	}
	ctx := context.Background()
	dyn := dynalitetest.Start(t)
	db := dyn.Client()
	if err := createTables(ctx, db); err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.StartTest(t, dyn.URL)
	clock := connectsim.NewManualClock(time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC))
	log := slog.New(slog.DiscardHandler)
	fns := newFunctions(clock, log, "us-east-1", "123456789012")
	env := map[string]string{"CAMPAIGNS_TABLE": CampaignsTable, "DO_NOT_CALL_TABLE": DoNotCallTable,
		// The SDK still tries each request three times; without seconds of back-off between.
		"DYNAMODB_MAX_BACKOFF": "5ms"}
	// Nothing here calls Connect or S3: a port where nothing listens.
	ep := endpoints{region: "us-east-1", connect: "http://127.0.0.1:1", dynamodb: proxy.URL, s3: "http://127.0.0.1:1"}
	d, err := buildDialer(env, ep, dialerClock{clock}, "test", log)
	if err != nil {
		t.Fatal(err)
	}
	fns.add(FnDialer, dialerHandler(d))
	t.Cleanup(fns.close) // before dynalite and the proxy stop (cleanups run last first)
	bus := newEventBridge(clock, log, fns, "us-east-1", "123456789012")
	bus.addBus(DialerBus, Rule{Name: "DialerControlRule", Pattern: DialerControlPattern(), Target: FnDialer})
	put := func(sample string) {
		t.Helper()
		b, err := os.ReadFile("../../events/dialer/" + sample)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if res, failed := bus.Put([]Entry{{EventBusName: DialerBus, Source: "switchboard", DetailType: ev.DetailType, Detail: string(ev.Detail)}}); failed != 0 {
			t.Fatalf("PutEvents %s: %+v", sample, res)
		}
	}
	store := campaignstore.New(db, CampaignsTable) // dynalite itself, not through the proxy
	const campaign = "dental-reminders-2026-12"
	status := func() campaignstore.Campaign {
		t.Helper()
		c, err := store.Campaign(ctx, campaign)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dialer := func() FunctionStats { return fns.Stats()[FnDialer] }

	put("campaign-launched.json")
	waitUntil(t, "the launch", func() bool { return dialer().Invocations == 1 })
	if st := dialer(); st.Errors != 0 || status().Status != campaignstore.StatusRunning {
		t.Fatalf("launch: %+v, campaign %s", st, status().Status)
	}

	// DynamoDB throttles every read from now on: each of Lambda's three attempts fails.
	if err := proxy.Set(faultproxy.OpGetItem, faultproxy.Throttling, 0); err != nil {
		t.Fatal(err)
	}
	put("campaign-paused.json")
	put("campaign-stopped.json")
	waitUntil(t, "the first attempts", func() bool { return dialer().Errors == 2 && clock.Pending() == 2 })
	clock.Advance(time.Minute)
	waitUntil(t, "the first retries", func() bool { return dialer().Errors == 4 && clock.Pending() == 2 })
	clock.Advance(2 * time.Minute)
	waitUntil(t, "the dead letters", func() bool { return len(fns.DeadLetters()) == 2 })
	if c := status(); c.Status != campaignstore.StatusRunning {
		t.Fatalf("campaign %s while every read was throttled", c.Status)
	}
	if n := proxy.Requests(faultproxy.OpGetItem); n < 6 {
		t.Errorf("%d GetItem requests reached DynamoDB, want at least one per attempt", n)
	}
	var rec, paused InvocationRecord
	for _, r := range fns.DeadLetters() {
		if strings.Contains(string(r.RequestPayload), `"Campaign Stopped"`) {
			rec = r
		} else {
			paused = r
		}
	}
	var env2 struct {
		DetailType string `json:"detail-type"`
		Detail     struct {
			CampaignID     string `json:"campaignId"`
			EndActiveCalls bool   `json:"endActiveCalls"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(rec.RequestPayload, &env2); err != nil || env2.DetailType != "Campaign Stopped" || env2.Detail.CampaignID != campaign || !env2.Detail.EndActiveCalls {
		t.Errorf("requestPayload %s (%v): want the Campaign Stopped envelope as the bus delivered it", rec.RequestPayload, err)
	}
	if rec.RequestContext.ApproximateInvokeCount != 3 || rec.RequestContext.Condition != "RetriesExhausted" ||
		!strings.Contains(string(rec.ResponsePayload), "Throttling") {
		t.Errorf("record %+v %s", rec.RequestContext, rec.ResponsePayload)
	}
	if st := dialer(); st.Failed != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}

	// DynamoDB recovers; the operator replays the dead letters with the recipe of
	// docs/devstack.md, which also deletes each record it replayed.
	proxy.Clear()
	srv := httptest.NewServer(fns)
	t.Cleanup(srv.Close)
	before := dialer().Invocations
	runReplayRecipe(t, srv.URL, fns)
	waitUntil(t, "the replay", func() bool { return dialer().Invocations == before+1 })
	c := status()
	if c.Status != campaignstore.StatusStopping || dialer().Errors != 6 {
		t.Fatalf("after the replay: campaign %s, stats %+v; want stopping and no new error", c.Status, dialer())
	}
	if got := fns.DeadLetters(); len(got) != 1 || got[0].RequestContext.RequestID != paused.RequestContext.RequestID {
		t.Errorf("dead letters after the replay: %+v, want the held Campaign Paused only (the recipe deletes what it replayed)", got)
	}

	// A second replay of the same event (a record received twice, a recipe run twice) finds
	// the campaign stopping and writes nothing.
	invokeAsyncHTTP(t, srv.URL, rec.RequestPayload)
	invokeAsyncHTTP(t, srv.URL, paused.RequestPayload)
	waitUntil(t, "the second replay", func() bool { return dialer().Invocations == before+3 })
	if again := status(); again.Status != campaignstore.StatusStopping || again.Version != c.Version || dialer().Errors != 6 {
		t.Errorf("second replay and the held pause: campaign %s version %d (was %d), stats %+v", again.Status, again.Version, c.Version, dialer())
	}
}

// runReplayRecipe runs the shell recipe of docs/devstack.md (the block after the marker
// "<!-- test: devstack replay recipe -->") against the Lambda API at lambdaURL, with the AWS
// CLI, curl and jq. Without them it says so and replays over HTTP as the recipe would.
func runReplayRecipe(t *testing.T, lambdaURL string, fns *Functions) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/devstack.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- test: devstack replay recipe -->\\s*```sh\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/devstack.md has no replay recipe after <!-- test: devstack replay recipe -->")
	}
	var missing []string
	for _, tool := range []string{"aws", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Logf("no %s on PATH: replaying over HTTP instead of running the recipe of docs/devstack.md", strings.Join(missing, ", "))
		for _, r := range fns.DeadLetters() {
			if strings.Contains(string(r.RequestPayload), `"Campaign Stopped"`) {
				invokeAsyncHTTP(t, lambdaURL, r.RequestPayload)
				fns.removeDeadLetter(r.RequestContext.RequestID)
			}
		}
		return
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", string(m[1]))
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	// Debian's AWS CLI v2 before an older one that may come first on PATH (DESIGN.md).
	cmd.Env = append(env, "PATH=/usr/bin:"+os.Getenv("PATH"), "LAMBDA="+lambdaURL,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the replay recipe of docs/devstack.md: %v\n%s", err, out.String())
	}
	t.Logf("replay recipe:\n%s", out.String())
}

// invokeAsyncHTTP is `aws lambda invoke --invocation-type Event` of the dialer over HTTP.
func invokeAsyncHTTP(t *testing.T, lambdaURL string, payload []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, lambdaURL+"/2015-03-31/functions/"+FnDialer+"/invocations", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("Event invocation: %d %s", resp.StatusCode, b)
	}
}
