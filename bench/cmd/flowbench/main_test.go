package main

import (
	"os"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // out of order on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := percentile(ds, tt.q); got != tt.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := percentile([]time.Duration{3, 1, 2}, 0.5); got != 2 {
		t.Errorf("median of 1, 2, 3 = %v", got)
	}
}

func TestVMHWM(t *testing.T) {
	got, err := vmHWM("Name:\tbootstrap\nVmPeak:\t  1000 kB\nVmHWM:\t   21312 kB\nVmRSS:\t 20000 kB\n")
	if err != nil || got != 21312*1024 {
		t.Errorf("vmHWM = %d, %v; want %d", got, err, 21312*1024)
	}
	if _, err := vmHWM("Name:\tx\n"); err == nil {
		t.Error("no VmHWM line: want an error")
	}
	// This process's own status has one.
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc here")
	}
	if n, err := vmHWM(string(b)); err != nil || n <= 0 {
		t.Errorf("own VmHWM = %d, %v", n, err)
	}
}

func TestEveryWorkloadChecksItsAnswers(t *testing.T) {
	for name, tt := range map[string]struct{ good, bad string }{
		"contactflow":  {`{"result":"ok"}`, `{"result":"error","error_code":"THROTTLED"}`},
		"authredirect": {`{"statusCode":200,"headers":{"Content-Security-Policy":"script-src 'nonce-x'"},"body":"var chatOrigin = \"https://chat.example.com\";"}`, `{"statusCode":400,"headers":{},"body":"bad"}`},
		"dialer":       {`null`, `{"errorMessage":"boom"}`},
		"noop":         {`{"result":"ok"}`, `{"result":"error"}`},
	} {
		w, ok := workloads[name]
		if !ok {
			t.Fatalf("no workload %s", name)
		}
		if err := w.check([]byte(tt.good)); err != nil {
			t.Errorf("%s refused a good answer: %v", name, err)
		}
		if err := w.check([]byte(tt.bad)); err == nil {
			t.Errorf("%s accepted a bad answer", name)
		}
	}
	if len(workloads) != 4 {
		t.Errorf("%d workloads: a new one needs its case here", len(workloads))
	}
}
