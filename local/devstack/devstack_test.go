package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-connect/switchboard/local/browsertest"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// zoneOf is the test's own table of the demo numbers' zones, from the numbering plans (not from
// the code under test), for the independent check of calling hours.
var zoneOf = map[string]string{
	"+1212": "America/New_York", "+1312": "America/Chicago", "+1303": "America/Denver",
	"+1602": "America/Phoenix", "+1415": "America/Los_Angeles", "+1907": "America/Anchorage",
	"+1808": "Pacific/Honolulu", "+4420": "Europe/London",
}

// insideDefaultWindow: the dialer's default calling window is 09:00-20:00 callee-local, Monday
// to Saturday (shared/callwindow.DefaultPolicy, docs/dialer.md).
func insideDefaultWindow(t *testing.T, number string, at time.Time) bool {
	t.Helper()
	for p, z := range zoneOf {
		if strings.HasPrefix(number, p) {
			loc, err := time.LoadLocation(z)
			if err != nil {
				t.Fatal(err)
			}
			l := at.In(loc)
			mins := l.Hour()*60 + l.Minute()
			return l.Weekday() != time.Sunday && mins >= 9*60 && mins < 20*60
		}
	}
	t.Fatalf("no zone for %s", phone.Mask(number))
	return false
}

// awsCLI finds the AWS CLI: Debian's /usr/bin/aws first (an older one may come first on PATH).
func awsCLI(t *testing.T) string {
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws"
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed (Debian: apt-get install awscli): skipping the AWS CLI checks")
	}
	return p
}

func runAWS(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// Nothing of the machine's AWS configuration: local credentials only.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestDemoHeadlessWithTheAWSCLI runs the stack and the demo on free ports, uses the AWS CLI's
// lambda invoke and events put-events against it while the demo runs, and checks the demo's
// end from the stores and connectsim's own record.
func TestDemoHeadlessWithTheAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st, err := Start(ctx, Options{TimeScale: 120, Start: DemoStart, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	const n = 60
	var out bytes.Buffer
	done := make(chan error, 1)
	var res DemoResult
	go func() {
		var err error
		res, err = RunDemo(ctx, st, DemoOptions{Recipients: n, Seed: 3, Out: &out, Duration: time.Hour})
		done <- err
	}()

	cli := ""
	t.Run("aws lambda invoke", func(t *testing.T) {
		cli = awsCLI(t)
		resp := filepath.Join(t.TempDir(), "response.json")
		meta := runAWS(t, cli, "lambda", "invoke", "--endpoint-url", st.URLs.Lambda, "--function-name", FnContactFlow,
			"--payload", "fileb://../../events/contactflow/optout-phone-parameter.json", resp)
		var m struct{ StatusCode int }
		if err := json.Unmarshal(meta, &m); err != nil || m.StatusCode != 200 {
			t.Fatalf("invoke metadata %s (%v), want StatusCode 200", meta, err)
		}
		b, err := os.ReadFile(resp)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal(b, &got); err != nil || got["result"] != "ok" || got["optout_status"] != "recorded" {
			t.Fatalf("contactflow answered %s, want result ok, optout_status recorded", b)
		}
		// The function wrote to the local DynamoDB: the sample's number is on the list.
		if _, listed, err := donotcall.NewTable(st.DynamoDB, DoNotCallTable).Lookup(ctx, "+12025550147"); err != nil || !listed {
			t.Fatalf("the opted-out number is not on the do-not-call list (listed=%v, %v)", listed, err)
		}
	})
	t.Run("aws events put-events", func(t *testing.T) {
		if cli == "" {
			cli = awsCLI(t)
		}
		detail := `{"campaignId":"demo","requestId":"cli-1","phone":"+12125559999"}`
		entries, _ := json.Marshal([]map[string]string{{"EventBusName": DialerBus, "Source": "switchboard", "DetailType": "Call Requested", "Detail": detail}})
		outb := runAWS(t, cli, "events", "put-events", "--endpoint-url", st.URLs.Events, "--entries", string(entries))
		var r struct {
			FailedEntryCount int
			Entries          []struct{ EventId string }
		}
		if err := json.Unmarshal(outb, &r); err != nil || r.FailedEntryCount != 0 || len(r.Entries) != 1 || r.Entries[0].EventId == "" {
			t.Fatalf("put-events answered %s (%v)", outb, err)
		}
		// The control rule delivered it to the dialer, which added the recipient.
		store := campaignstore.New(st.DynamoDB, CampaignsTable)
		for deadline := st.Clock.Now().Add(30 * time.Minute); ; {
			found := false
			if c, err := store.Campaign(ctx, DemoCampaignID); err == nil {
				_ = store.Recipients(ctx, DemoCampaignID, c.Shards, func(r campaignstore.Recipient) error {
					found = found || r.Phone == "+12125559999"
					return nil
				})
			}
			if found {
				break
			}
			if st.Clock.Now().After(deadline) {
				t.Fatalf("the Call Requested recipient never reached the campaign (bus: %+v)", st.Bus.Stats())
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	if err := <-done; err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	summary := out.String()
	for _, want := range []string{"demo: campaign demo finished", "state", "total"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if res.Status != campaignstore.StatusFinished || res.Unfinished != 0 {
		t.Fatalf("demo ended %s with %d unfinished", res.Status, res.Unfinished)
	}

	// Every recipient in a final state, read back from the store.
	store := campaignstore.New(st.DynamoDB, CampaignsTable)
	c, err := store.Campaign(ctx, DemoCampaignID)
	if err != nil {
		t.Fatal(err)
	}
	dnc := donotcall.NewTable(st.DynamoDB, DoNotCallTable)
	total, completed, invalid := 0, 0, 0
	byPhone := map[string]campaignstore.Recipient{}
	if err := store.Recipients(ctx, DemoCampaignID, c.Shards, func(r campaignstore.Recipient) error {
		total++
		byPhone[r.Phone] = r
		if !r.State.Final() || r.Reason == "" {
			t.Errorf("%s: %s (%q), want a final state with a reason", r.RecipientID, r.State, r.Reason)
		}
		switch r.State {
		case dialer.StateCompleted:
			completed++
		case dialer.StateInvalidNumber:
			invalid++
		}
		if _, listed, err := dnc.Lookup(ctx, r.Phone); err == nil && listed && r.State != dialer.StateSuppressedDNC && r.State != dialer.StateExpired {
			t.Errorf("%s: listed number ended %s", r.RecipientID, r.State)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := n; cli != "" {
		want++ // the CLI's Call Requested
		if total != want {
			t.Errorf("%d recipients, want %d", total, want)
		}
	}
	if res.Recipients != total {
		t.Errorf("summary counts %d recipients, the store %d", res.Recipients, total)
	}
	if completed == 0 || invalid != 2 { // demo-0011 and demo-0051 are not numbers
		t.Errorf("completed %d, invalid %d (want some completed and 2 invalid)", completed, invalid)
	}

	// connectsim's record: no call to a listed number, none outside the callee's window or
	// the campaign's hour, one attempt per ClientToken.
	tokens := map[string]bool{}
	calls, lateCalls := 0, 0
	end := DemoStart.Add(time.Hour)
	for _, ct := range st.Sim.Contacts() {
		if ct.InitiationMethod != "API" || ct.CampaignID != "" && ct.CampaignID != DemoCampaignID {
			continue
		}
		if _, ok := byPhone[ct.CustomerNumber]; !ok {
			continue // the banner's example call, if any
		}
		calls++
		if tokens[ct.ClientToken] {
			t.Errorf("two calls for ClientToken %s", ct.ClientToken)
		}
		tokens[ct.ClientToken] = true
		if byPhone[ct.CustomerNumber].State == dialer.StateSuppressedDNC {
			if e, listed, _ := dnc.Lookup(ctx, ct.CustomerNumber); listed && ct.InitiationTimestamp.After(e.RecordedAt) {
				t.Errorf("call %s to a listed number", ct.ID)
			}
		}
		if !insideDefaultWindow(t, ct.CustomerNumber, ct.InitiationTimestamp) {
			t.Errorf("call %s at %v is outside the callee's window", ct.ID, ct.InitiationTimestamp)
		}
		if ct.InitiationTimestamp.Before(DemoStart) {
			t.Errorf("call %s at %v is before the campaign's start", ct.ID, ct.InitiationTimestamp)
		}
		if !ct.InitiationTimestamp.Before(end) {
			lateCalls++
		}
	}
	if lateCalls > 0 {
		t.Errorf("%d of %d calls started at or after the campaign's endTime %v", lateCalls, calls, end)
	}
	if calls == 0 || calls != res.Calls {
		t.Errorf("connectsim placed %d demo calls, the summary says %d", calls, res.Calls)
	}
	// Ticks came on the simulated minute: about one per simulated minute of the run.
	if simMinutes := int(res.SimEnd.Sub(res.SimStart) / time.Minute); st.Ticks() < simMinutes/2 {
		t.Errorf("%d ticks over %d simulated minutes", st.Ticks(), simMinutes)
	}
	t.Logf("%s", fmt.Sprint(summary))

	checkStatusPage(t, st, total, completed, calls)
}

// checkStatusPage reads the status page's JSON and its HTML in Chromium, against the figures the
// test read from the store and from connectsim.
func checkStatusPage(t *testing.T, st *Stack, total, completed, calls int) {
	resp, err := http.Get(st.URLs.Status + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Status
	err = json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var demo *CampaignStatus
	for i := range s.Campaigns {
		if s.Campaigns[i].ID == DemoCampaignID {
			demo = &s.Campaigns[i]
		}
	}
	if demo == nil || demo.Status != "finished" || demo.Recipients != total || demo.Final != total || demo.Percent != 100 {
		t.Fatalf("status.json campaign %+v, want demo finished with %d of %d final", demo, total, total)
	}
	outcomes := 0
	for _, o := range s.Outcomes {
		outcomes += o.Count
	}
	if outcomes != calls {
		t.Errorf("status.json outcomes count %d calls, connectsim placed %d", outcomes, calls)
	}
	if len(s.CallsPerMinute) != chartMinutes || len(s.Agents) != 3 || len(s.RecentCalls) == 0 {
		t.Errorf("status.json: %d minutes, %d agents, %d recent calls", len(s.CallsPerMinute), len(s.Agents), len(s.RecentCalls))
	}
	// Every asynchronous event a function gave up on is listed (the demo may have some: a tick
	// can meet dynalite's latency at 120x); none was dropped while the stack runs.
	listed := map[string]int{}
	for _, d := range s.DeadLetters {
		listed[d.Function]++
	}
	for name, f := range s.Functions {
		if f.Failed != listed[name] || f.Dropped != 0 {
			t.Errorf("status.json: %s gave up %d events, %d listed as dead letters, %d dropped", name, f.Failed, listed[name], f.Dropped)
		}
	}

	ctx := browsertest.Start(t)
	browsertest.Run(t, ctx, chromedp.Navigate(st.URLs.Status+"/"))
	row := `tr[data-campaign="demo"] `
	if got := browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS(row+".status"))); got != "finished" {
		t.Errorf("page status %q, want finished", got)
	}
	if got := browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS(row+".final"))); got != fmt.Sprint(total) {
		t.Errorf("page final %q, want %d", got, total)
	}
	if got := browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS(row+`[data-state="completed"] b`))); got != fmt.Sprint(completed) {
		t.Errorf("page completed %q, want %d", got, completed)
	}
	bars := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#calls-per-minute rect.bar").length`))
	if bars != chartMinutes {
		t.Errorf("%d bars in the chart, want %d", bars, chartMinutes)
	}
	// The stylesheet loaded under the page's Content-Security-Policy.
	fill := browsertest.Run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("rect.bar")).fill`))
	if fill != "rgb(42, 110, 187)" {
		t.Errorf("bar fill %q: the stylesheet did not apply", fill)
	}
	if path := os.Getenv("DEVSTACK_SCREENSHOT"); path != "" {
		png := browsertest.Run(t, ctx, chromedp.FullScreenshot(100))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A campaign ID that is markup is shown escaped (it names no campaign: an error row).
	st.campaigns.add("<i>x</i>")
	page, err := http.Get(st.URLs.Status + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if strings.Contains(string(html), "<i>x</i>") || !strings.Contains(string(html), "&lt;i&gt;x&lt;/i&gt;") {
		t.Errorf("the markup campaign ID is not escaped")
	}
	for _, c := range st.Sim.Contacts() {
		if c.CustomerNumber != "" && strings.Contains(string(html), c.CustomerNumber) {
			t.Fatalf("the status page shows a phone number in clear")
		}
	}
}
