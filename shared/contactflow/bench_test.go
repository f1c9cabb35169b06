package contactflow

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// BenchmarkInvokeUpdateInMemory is the function's own share of an update: decode, checks, the two
// calls to an in-memory fake of Connect, encode and the log line. Compare with
// functions/contactflow's BenchmarkWarmUpdate, which adds the SDK and HTTP to connectsim.
func BenchmarkInvokeUpdateInMemory(b *testing.B) {
	h, err := NewHandler(DefaultConfig(), newFakeConnect(), &fakeList{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	payload := event(map[string]any{"operation": "update", "customer_tier": "gold", "last_menu_choice": "2"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}
