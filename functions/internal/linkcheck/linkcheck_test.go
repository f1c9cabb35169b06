package linkcheck

import (
	"slices"
	"testing"
)

// The check sees a run-time method lookup where there is one (text/template), and none where
// there is none.
func TestReflectMethodCallers(t *testing.T) {
	if callers := Link(t, "./testdata/methodbyname").ReflectMethodCallers(); !slices.ContainsFunc(callers, func(c string) bool { return c == "text/template.(*state).evalField" }) {
		t.Errorf("text/template's field lookup not reported: %v", callers)
	}
	if callers := Link(t, "./testdata/plain").ReflectMethodCallers(); len(callers) != 0 {
		t.Errorf("encoding/json alone reported as calling methods by name: %v", callers)
	}
}
