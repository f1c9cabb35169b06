package recipients_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/recipients"
)

// countSink counts rows and keeps nothing: the benchmark measures the importer's own streaming.
type countSink struct{ rows atomic.Int64 }

func (c *countSink) Write(_ context.Context, rows []recipients.Row) ([]recipients.Outcome, error) {
	c.rows.Add(int64(len(rows)))
	return make([]recipients.Outcome, len(rows)), nil
}

// BenchmarkImportMillionRows streams a 1,000,000-row CSV from gofakes3 through the real S3
// client in runs of 100,000 rows (one invocation each, resumed from the checkpoint), and reports
// the peak heap in use while it runs.
func BenchmarkImportMillionRows(b *testing.B) {
	const rows = 1_000_000
	var csv bytes.Buffer
	csv.WriteString("phone,recipient_id,time_zone,first_name,appointment\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&csv, "+1202%07d,r%07d,,Name%d,2026-12-%02dT09:30\n", i, i, i%1000, 1+i%28)
	}
	c := newS3(b)
	put(b, c, "million.csv", csv.String())
	size := csv.Len()
	csv = bytes.Buffer{}
	for n := 0; n < b.N; n++ {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}
		}()
		sink := &countSink{}
		im := &recipients.Importer{S3: c, Bucket: "imports", Key: "million.csv", ChunkRows: 500}
		var cp recipients.Checkpoint
		runs := 0
		start := time.Now()
		for !cp.Done {
			runs++
			if _, err := im.Run(context.Background(), cp, 100_000, sink, func(next recipients.Checkpoint) error { cp = next; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		close(stop)
		if sink.rows.Load() != rows || cp.Rows != rows {
			b.Fatalf("%d rows imported, checkpoint %+v", sink.rows.Load(), cp)
		}
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-above-base-MiB")
		b.ReportMetric(float64(runs), "invocations")
		b.ReportMetric(float64(size)/(1<<20), "object-MiB")
	}
}
