package contactflow

import (
	"os"
	"testing"
)

// BenchmarkDecodeRealShapedEvent decodes the real-shaped sample event: the whole of Connect's
// ContactData and six parameters of every JSON kind.
func BenchmarkDecodeRealShapedEvent(b *testing.B) {
	payload, err := os.ReadFile("../../events/contactflow/update-real-shaped.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEvent(payload); err != nil {
			b.Fatal(err)
		}
	}
}
