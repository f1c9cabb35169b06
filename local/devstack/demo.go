package devstack

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/schollz/progressbar/v3"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

// DemoStart is the demo's default simulated start, a Wednesday at 18:00 UTC: 13:00 in New York,
// 10:00 in Los Angeles, 09:00 in Anchorage (its window opening), 08:00 in Honolulu (an hour
// before its window opens) and 18:00 in London (two hours before its window closes).
var DemoStart = time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC)

// demoZones are the demo's number plans, one per zone.
var demoZones = []struct {
	zone   string
	number func(i int) string
}{
	{"America/New_York", func(i int) string { return fmt.Sprintf("+1212555%04d", i) }},
	{"America/Chicago", func(i int) string { return fmt.Sprintf("+1312555%04d", i) }},
	{"America/Denver", func(i int) string { return fmt.Sprintf("+1303555%04d", i) }},
	{"America/Phoenix", func(i int) string { return fmt.Sprintf("+1602555%04d", i) }},
	{"America/Los_Angeles", func(i int) string { return fmt.Sprintf("+1415555%04d", i) }},
	{"America/Anchorage", func(i int) string { return fmt.Sprintf("+1907555%04d", i) }},
	{"Pacific/Honolulu", func(i int) string { return fmt.Sprintf("+1808555%04d", i) }},
	{"Europe/London", func(i int) string { return fmt.Sprintf("+44207946%04d", i%1000) }},
}

// DemoCampaignID is the demo campaign's ID.
const DemoCampaignID = "demo"

// DemoOptions configure the demo campaign.
type DemoOptions struct {
	// Recipients (default 300).
	Recipients int
	// Seed picks which recipients are on the do-not-call list.
	Seed int64
	// Out receives the progress and the summary.
	Out io.Writer
	// Bar draws a progress bar (a terminal); otherwise Out gets a plain line per simulated
	// ten minutes.
	Bar bool
	// Duration is how long the campaign runs, in simulated time (default 2h): recipients not
	// reached by then end expired.
	Duration time.Duration
}

// DemoResult is the demo's outcome.
type DemoResult struct {
	CampaignID string
	Status     campaignstore.Status
	// Recipients counts the campaign's recipients at the end (the demo's and any added
	// meanwhile); States counts them by state; Unfinished those not in a final state.
	Recipients int
	States     map[dialer.State]int
	Unfinished int
	// Calls is the number of calls connectsim placed for the campaign.
	Calls            int
	SimStart, SimEnd time.Time
	Wall             time.Duration
}

// RunDemo launches a campaign of recipients in several time zones, some on the do-not-call list
// and some not dialable, through the stack's own parts (the list in DynamoDB, the CSV in S3, the
// launch through the dialer's bus), follows it to its end, and writes a summary table.
func RunDemo(ctx context.Context, st *Stack, o DemoOptions) (DemoResult, error) {
	if o.Recipients <= 0 {
		o.Recipients = 300
	}
	if o.Duration <= 0 {
		o.Duration = 2 * time.Hour
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	wallStart := time.Now()
	now := st.Clock.Now().UTC().Truncate(time.Second)
	id := DemoCampaignID
	res := DemoResult{CampaignID: id, Recipients: o.Recipients, SimStart: now}
	rng := rand.New(rand.NewSource(o.Seed))

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"recipient_id", "phone", "zone"})
	dnc := donotcall.NewTable(st.DynamoDB, DoNotCallTable)
	listed := 0
	for i := 0; i < o.Recipients; i++ {
		z := demoZones[i%len(demoZones)]
		phone := z.number(i)
		switch {
		case i%50 == 11:
			phone = "+1212555" // too short: not a number
		case rng.Float64() < 0.06:
			if _, err := dnc.Record(ctx, donotcall.Entry{PhoneNumber: phone, Source: donotcall.SourceImport, Reason: "demo", RecordedAt: now}); err != nil {
				return res, fmt.Errorf("demo: do-not-call list: %w", err)
			}
			listed++
		}
		_ = w.Write([]string{fmt.Sprintf("demo-%04d", i), phone, strings.ReplaceAll(z.zone, "/", "-")})
	}
	w.Flush()
	key := "demo/" + id + ".csv"
	s3c := s3.NewFromConfig(endpoints{region: st.Region}.awsConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(st.URLs.S3)
		o.UsePathStyle = true
	})
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(RecipientsBucket), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
		return res, fmt.Errorf("demo: upload the recipients: %w", err)
	}
	end := now.Add(o.Duration)
	detail, _ := json.Marshal(map[string]any{
		"campaignId": id, "name": "Demo: appointment reminders", "instanceId": st.InstanceID,
		"contactFlowId": AgentlessFlowID, "queueId": connectsim.DefaultQueueID, "mode": "agentless", "defaultRegion": "US",
		"startTime": now, "endTime": end,
		"retry": map[string]any{
			"busy":     map[string]any{"delay": "10m", "maxAttempts": 2},
			"noAnswer": map[string]any{"delay": "20m", "maxAttempts": 2},
			"failed":   map[string]any{"delay": "20m", "maxAttempts": 2},
		},
		"attributes":       map[string]string{"campaign": "demo"},
		"recipientsObject": map[string]string{"bucket": RecipientsBucket, "key": key},
	})
	results, failed := st.Bus.Put([]Entry{{Source: dialerevents.Source, DetailType: dialerevents.TypeCampaignLaunched, Detail: string(detail), EventBusName: DialerBus}})
	if failed > 0 {
		return res, fmt.Errorf("demo: launch: %s %s", results[0].ErrorCode, results[0].ErrorMessage)
	}
	fmt.Fprintf(o.Out, "demo: campaign %s launched at %s (simulated): %d recipients in %d time zones, %d on the do-not-call list, ends %s\n",
		id, now.Format("Mon 15:04 MST"), o.Recipients, len(demoZones), listed, end.Format("15:04 MST"))

	var bar *progressbar.ProgressBar
	if o.Bar {
		bar = progressbar.NewOptions(o.Recipients, progressbar.OptionSetWriter(o.Out), progressbar.OptionSetDescription("demo"),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(200*time.Millisecond))
	}
	lastLine := now
	store := campaignstore.New(st.DynamoDB, CampaignsTable)
	for {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		c, err := store.Campaign(ctx, id)
		if err != nil {
			// The launch is asynchronous: the campaign appears once the dialer took the event.
			if st.Clock.Now().Sub(now) > 5*time.Minute {
				return res, fmt.Errorf("demo: the dialer did not take the launch of campaign %s within 5 simulated minutes (its log says why): %w", id, err)
			}
			continue
		}
		states, err := countStates(ctx, store, c)
		if err != nil {
			return res, err
		}
		final, total := 0, 0
		for s, n := range states {
			total += n
			if s.Final() {
				final += n
			}
		}
		simNow := st.Clock.Now()
		line := progressLine(simNow, states, st.Sim.Stats().ActiveCalls[st.InstanceID])
		if bar != nil {
			bar.Describe(line)
			_ = bar.Set(final)
		} else if simNow.Sub(lastLine) >= 10*time.Minute {
			lastLine = simNow
			fmt.Fprintf(o.Out, "demo: %d/%d final  %s\n", final, o.Recipients, line)
		}
		// Recipients added during the run (Call Requested events) count too.
		if !c.Status.Active() && total >= o.Recipients && final == total {
			res.Status, res.States, res.SimEnd, res.Recipients = c.Status, states, simNow, total
			break
		}
		if simNow.After(end.Add(30 * time.Minute)) {
			res.Status, res.States, res.SimEnd, res.Recipients = c.Status, states, simNow, max(total, o.Recipients)
			res.Unfinished = res.Recipients - final
			break
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	for _, ct := range st.Sim.Contacts() {
		if ct.InitiationMethod == "API" {
			res.Calls++
		}
	}
	res.Wall = time.Since(wallStart)
	writeSummary(o.Out, res)
	if res.Unfinished > 0 {
		return res, fmt.Errorf("demo: %d recipients not in a final state 30 simulated minutes after the campaign's end (campaign %s)", res.Unfinished, res.Status)
	}
	return res, nil
}

func countStates(ctx context.Context, store *campaignstore.Store, c campaignstore.Campaign) (map[dialer.State]int, error) {
	states := map[dialer.State]int{}
	err := store.Recipients(ctx, c.ID, c.Shards, func(r campaignstore.Recipient) error {
		states[r.State]++
		return nil
	})
	return states, err
}

func progressLine(now time.Time, states map[dialer.State]int, live int) string {
	return fmt.Sprintf("%s  live %2d  completed %3d  retry %3d  pending %3d", now.UTC().Format("15:04 MST"), live,
		states[dialer.StateCompleted], states[dialer.StateWaitingRetry], states[dialer.StatePending])
}

func writeSummary(out io.Writer, r DemoResult) {
	fmt.Fprintf(out, "\ndemo: campaign %s %s: %d recipients, %d calls, %s to %s simulated (%s), %.1fs real\n\n",
		r.CampaignID, r.Status, r.Recipients, r.Calls, r.SimStart.Format("15:04"), r.SimEnd.Format("15:04 MST"),
		r.SimEnd.Sub(r.SimStart).Round(time.Minute), r.Wall.Seconds())
	var rows []dialer.State
	for s := range r.States {
		rows = append(rows, s)
	}
	sort.Slice(rows, func(i, j int) bool {
		return r.States[rows[i]] > r.States[rows[j]] || r.States[rows[i]] == r.States[rows[j]] && rows[i] < rows[j]
	})
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "state\trecipients\tshare\t")
	for _, s := range rows {
		mark := ""
		if !s.Final() {
			mark = " (not final)"
		}
		fmt.Fprintf(tw, "%s%s\t%d\t%.1f%%\t\n", s, mark, r.States[s], 100*float64(r.States[s])/float64(r.Recipients))
	}
	fmt.Fprintf(tw, "total\t%d\t\t\n", r.Recipients)
	_ = tw.Flush()
}
