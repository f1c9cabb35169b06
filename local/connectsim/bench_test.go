package connectsim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
)

// BenchmarkSimulatedDayOf100kCalls places 100,000 calls through the real SDK over one simulated
// day (a manual clock advanced a minute at a time, about 69 calls a minute) with the default
// outcome model, 100 staffed agents and the default RetainContacts (20,000), and reports the
// heap in use after a GC at the peak and at the end of the day: memory stays bounded because
// ended contacts beyond RetainContacts are forgotten. Run it once:
//
//	TMPDIR=$PWD/.scratch go test -run '^$' -bench SimulatedDayOf100kCalls -benchtime 1x ./local/connectsim/
func BenchmarkSimulatedDayOf100kCalls(b *testing.B) {
	const calls, minutes = 100_000, 24 * 60
	for b.Loop() {
		w := connectsim.DefaultWorld()
		w.Instances[0].MaxConcurrentCalls = 2000
		// Not simtest.Start: its cleanup waits for the end of the benchmark, and each run must
		// measure its own Sim only.
		sim, err := connectsim.New(connectsim.Options{World: w, DisableThrottling: true, Seed: 1, Clock: connectsim.NewManualClock(t0)})
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(sim)
		srv := &simtest.Server{Sim: sim, URL: ts.URL}
		cl := srv.ConnectClient(b, func(o *connect.Options) { o.RetryMaxAttempts = 1 })
		if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 100); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		in := &connect.StartOutboundVoiceContactInput{
			InstanceId: aws.String(connectsim.DefaultInstanceID), ContactFlowId: aws.String(connectsim.DefaultContactFlowID),
			QueueId: aws.String(connectsim.DefaultQueueID), Attributes: map[string]string{"campaign": "bench", "recipient": ""},
		}
		var placed int
		var peak, at6h, at12h uint64
		var ms runtime.MemStats
		heap := func() uint64 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			return ms.HeapInuse
		}
		for m := 0; m < minutes; m++ {
			for target := calls * (m + 1) / minutes; placed < target; placed++ {
				in.DestinationPhoneNumber = aws.String(fmt.Sprintf("+1202%07d", placed))
				in.ClientToken = aws.String(fmt.Sprintf("bench/%d", placed))
				in.Attributes["recipient"] = fmt.Sprint(placed)
				if _, err := cl.StartOutboundVoiceContact(ctx, in); err != nil {
					b.Fatalf("call %d: %v", placed, err)
				}
			}
			if err := srv.Advance(time.Minute); err != nil {
				b.Fatal(err)
			}
			if m%60 == 59 {
				h := heap()
				peak = max(peak, h)
				switch m {
				case 6*60 - 1:
					at6h = h
				case 12*60 - 1:
					at12h = h
				}
			}
		}
		_ = srv.Advance(time.Hour) // let the last calls end
		end := heap()
		st := srv.Stats()
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(at6h)/(1<<20), "heap-6h-MiB")
		b.ReportMetric(float64(at12h)/(1<<20), "heap-12h-MiB")
		b.ReportMetric(float64(end)/(1<<20), "end-heap-MiB")
		b.ReportMetric(float64(len(srv.Contacts())), "contacts-kept")
		b.ReportMetric(float64(st.MaxActiveCalls[connectsim.DefaultInstanceID]), "max-active-calls")
		b.ReportMetric(float64(st.EventsEmitted), "events")
		ts.Close()
		_ = sim.Close()
	}
}
