package logcapture

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestBufferCollectsConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				fmt.Fprintf(&b, "writer %d line %d\n", i, j)
			}
		}()
	}
	wg.Wait()
	fmt.Fprint(&b, "partial")
	lines := b.Lines()
	if len(lines) != 400 {
		t.Fatalf("got %d complete lines, want 400", len(lines))
	}
	if !slices.Contains(lines, "writer 7 line 49") || slices.Contains(lines, "partial") {
		t.Errorf("lines lack a written line or include the unfinished one")
	}
	if got := b.String(); got[len(got)-len("partial"):] != "partial" {
		t.Errorf("String does not end with the unfinished line: %q", got[len(got)-20:])
	}
}

func TestEmptyBufferHasNoLines(t *testing.T) {
	var b Buffer
	if l := b.Lines(); l != nil {
		t.Errorf("Lines() = %q, want none", l)
	}
}
