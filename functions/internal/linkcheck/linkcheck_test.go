package linkcheck

import (
	"os"
	"slices"
	"testing"

	"github.com/switchboard-connect/switchboard/local/lambdaruntime"
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

func TestMakefileTags(t *testing.T) {
	dir := t.TempDir()
	mk := dir + "/Makefile"
	os.WriteFile(mk, []byte("X := 1\nLAMBDA_TAGS := lambda.norpc,nethttpomithttp2\nbuild:\n"), 0o600)
	if got, err := lambdaruntime.MakefileTags(mk); err != nil || got != "lambda.norpc,nethttpomithttp2" {
		t.Errorf("makefileTags = %q, %v", got, err)
	}
	os.WriteFile(mk, []byte("build:\n\tgo build -tags lambda.norpc\n"), 0o600)
	if _, err := lambdaruntime.MakefileTags(mk); err == nil {
		t.Error("a Makefile without LAMBDA_TAGS: want an error")
	}
}
