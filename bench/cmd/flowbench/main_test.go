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
