package outbound_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/s3test"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

// BenchmarkLargeCampaign imports a campaign of BENCH_CAMPAIGN_RECIPIENTS recipients (default
// 100,000) from a CSV object, then stops it, on the real clock with the production tick budget
// (57 s) and import bound (20,000 rows a tick), against dynalite and gofakes3 with no latency
// added: the figures are this machine's dynalite's, the slowest part here. It reports the rows
// imported a second, the time from the stop event to the campaign's stopped status (every waiting
// recipient cancelled), the longest tick, and the process's peak Go heap in use during the import
// and during the stop (the dialer, gofakes3 and connectsim share the process; gofakes3 holds the
// CSV object and copies it for each ranged GET; dynalite is a Node.js process of its own). The campaign starts
// tomorrow, so nothing is dialled: the benchmark is the import and the sweep. Ticks run back to
// back (a second apart at least), not a minute apart: a deployed import or stop takes about as
// many minutes as the benchmark reports ticks.
func BenchmarkLargeCampaign(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("BENCH_CAMPAIGN_RECIPIENTS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		largeCampaign(b, n)
	}
}

func largeCampaign(b *testing.B, n int) {
	ctx := context.Background()
	db := dynalitetest.Start(b)
	db.CreateTable(b, campaignstore.CreateTableInput("campaigns"))
	db.CreateTable(b, donotcall.CreateTableInput("dnc"))
	s3c := s3test.Start(b, s3test.Options{}).Bucket(b, "lists", false)
	var csv bytes.Buffer
	csv.WriteString("recipientId,phone\n")
	for k := 0; k < n; k++ {
		// Distinct valid NANP numbers: exchange 200-999, line 0000-9999.
		fmt.Fprintf(&csv, "r%07d,+1202%03d%04d\n", k, 200+k/10000, k%10000)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lists"), Key: aws.String("big.csv"), Body: bytes.NewReader(csv.Bytes())}); err != nil {
		b.Fatal(err)
	}
	csvBytes := csv.Len()
	csv = bytes.Buffer{}

	world := connectsim.DefaultWorld()
	sim := simtest.Start(b, connectsim.Options{World: world, Clock: connectsim.NewScaledClock(time.Now(), 1), Seed: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d, err := outbound.New(outbound.Config{
		Store: campaignstore.New(db.Client(), "campaigns"), Connect: sim.ConnectClient(b), DoNotCall: donotcall.NewTable(db.Client(), "dnc"),
		S3: s3c, RecipientsBucket: "lists", Clock: outbound.RealClock{}, Log: benchLog(), Owner: "bench", Pacing: outbound.DefaultPacing(),
		// Two looks 2 s apart end a campaign (30 s by default): the benchmark ticks back to back.
		QuietFor: 2 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	store := campaignstore.New(db.Client(), "campaigns")

	// Peak heap, sampled every 50 ms.
	var peakMu sync.Mutex
	var peak uint64
	sampling, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go func() {
		var ms runtime.MemStats
		for sampling.Err() == nil {
			runtime.ReadMemStats(&ms)
			peakMu.Lock()
			peak = max(peak, ms.HeapInuse)
			peakMu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	}()

	tomorrow := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	if err := d.Handle(ctx, envelope(b, "Campaign Launched", campaign("big", map[string]any{
		"startTime": tomorrow, "recipientsObject": map[string]any{"bucket": "lists", "key": "big.csv"},
	}), time.Now())); err != nil {
		b.Fatal(err)
	}
	var longest, work time.Duration
	// live is the most heap still reachable after a tick (a collection forced after it): what a
	// tick leaves behind, without the garbage the peak includes.
	var live uint64
	tick := func() {
		start := time.Now()
		if err := d.Handle(ctx, envelope(b, "Dialer Tick", map[string]string{"scheduledTime": start.UTC().Format(time.RFC3339)}, start)); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		longest, work = max(longest, took), work+took
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		live = max(live, ms.HeapAlloc)
		if took < time.Second {
			time.Sleep(time.Second - took) // the quiet looks are 2 s apart
		}
	}
	b.ResetTimer()
	importStart := time.Now()
	importTicks := 0
	for ; ; importTicks++ {
		c, err := store.Campaign(ctx, "big")
		if err != nil {
			b.Fatal(err)
		}
		if c.ImportDone {
			break
		}
		if importTicks > n/1000+10 {
			b.Fatalf("import not done after %d ticks (row %d)", importTicks, c.ImportRow)
		}
		tick()
	}
	importTime := time.Since(importStart)
	importLongest, importWork := longest, work
	longest, work = 0, 0
	peakMu.Lock()
	importPeak := peak
	peak = 0
	peakMu.Unlock()

	stopStart := time.Now()
	if err := d.Handle(ctx, envelope(b, "Campaign Stopped", map[string]any{"campaignId": "big", "reason": "benchmark"}, stopStart)); err != nil {
		b.Fatal(err)
	}
	stopTicks := 0
	for ; ; stopTicks++ {
		c, err := store.Campaign(ctx, "big")
		if err != nil {
			b.Fatal(err)
		}
		if !c.Status.Active() {
			break
		}
		if stopTicks > n/500+10 {
			b.Fatalf("campaign still %s after %d ticks", c.Status, stopTicks)
		}
		tick()
	}
	stopTime := time.Since(stopStart)
	b.StopTimer()
	stopSampling()

	c, err := store.Campaign(ctx, "big")
	if err != nil {
		b.Fatal(err)
	}
	states := map[dialer.State]int{}
	if err := store.Recipients(ctx, "big", c.Shards, func(rec campaignstore.Recipient) error {
		states[rec.State]++
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if states[dialer.StateCancelled] != n || len(states) != 1 {
		b.Errorf("recipients by state %v, want %d cancelled", states, n)
	}
	if got := len(sim.Contacts()); got != 0 {
		b.Errorf("%d calls placed for a campaign that starts tomorrow", got)
	}
	peakMu.Lock()
	defer peakMu.Unlock()
	b.ReportMetric(float64(n), "recipients")
	b.ReportMetric(float64(csvBytes)/(1<<20), "csv-MiB")
	b.ReportMetric(float64(n)/importTime.Seconds(), "import-rows/s")
	b.ReportMetric(float64(importTicks), "import-ticks")
	b.ReportMetric(importLongest.Seconds(), "import-longest-tick-s")
	b.ReportMetric(importWork.Seconds(), "import-tick-s")
	b.ReportMetric(stopTime.Seconds(), "stop-s")
	b.ReportMetric(work.Seconds(), "stop-tick-s")
	b.ReportMetric(float64(stopTicks), "stop-ticks")
	b.ReportMetric(longest.Seconds(), "stop-longest-tick-s")
	b.ReportMetric(float64(importPeak)/(1<<20), "import-peak-heap-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "stop-peak-heap-MiB")
	b.ReportMetric(float64(live)/(1<<20), "live-heap-after-tick-MiB")
	b.Logf("%d recipients: %s", n, strings.TrimSpace(fmt.Sprint(states)))
}
