package buildtags

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMakefileTags(t *testing.T) {
	dir := t.TempDir()
	mk := dir + "/Makefile"
	os.WriteFile(mk, []byte("X := 1\nLAMBDA_TAGS := lambda.norpc,nethttpomithttp2\nbuild:\n"), 0o600)
	if got, err := MakefileTags(mk); err != nil || got != "lambda.norpc,nethttpomithttp2" {
		t.Errorf("makefileTags = %q, %v", got, err)
	}
	os.WriteFile(mk, []byte("build:\n\tgo build -tags lambda.norpc\n"), 0o600)
	if _, err := MakefileTags(mk); err == nil {
		t.Error("a Makefile without LAMBDA_TAGS: want an error")
	}
}

// Shipped code (functions, shared, events, infra) stands on nothing under local/: the emulator,
// the local stack and the test harnesses stand beside it and may use it, never the reverse.
// Test files are left out (go list -deps follows only the packages' own imports).
func TestShippedCodeImportsNothingFromLocal(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{.ImportPath}}{{end}}`, "./functions/...", "./shared/...", "./events/...", "./infra/...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const local = "github.com/switchboard-connect/switchboard/local/"
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, local) {
			t.Errorf("shipped code depends on %s", p)
		}
	}
}
