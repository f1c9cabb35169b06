package contactflow

import (
	"runtime/debug"
	"testing"
)

func TestTuneGCAppliesTheTargetUnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	debug.SetGCPercent(100)
	if got := TuneGC(func(string) string { return "" }); got != GCPercent {
		t.Errorf("tuneGC without GOGC = %d, want %d", got, GCPercent)
	}
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Errorf("the runtime's GC percent is %d, want %d", got, GCPercent)
	}

	// GOGC=50 as the runtime would have read it at start.
	debug.SetGCPercent(50)
	if got := TuneGC(func(k string) string { return map[string]string{"GOGC": "50"}[k] }); got != 50 {
		t.Errorf("tuneGC with GOGC=50 = %d, want 50", got)
	}
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("the runtime's GC percent is %d, want GOGC's 50 kept", got)
	}
}
