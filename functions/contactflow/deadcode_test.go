package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// The linker drops the Connect client's unused operations only while nothing in the binary
// turns off its dead-method elimination (a reflect call that can reach any method by name:
// google.golang.org/protobuf before v1.36.12 did under Go 1.26, golang/protobuf#1704). With
// it off, every operation of service/connect stays in the bootstrap: 32 MB instead of 15.
func TestTheBootstrapKeepsOnlyTheConnectOperationsItUses(t *testing.T) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is needed to link the bootstrap: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command(gocmd, "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(gocmd, "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	methods := regexp.MustCompile(`service/connect\.\(\*Client\)\.([A-Za-z]+)\b`).FindAllSubmatch(out, -1)
	kept := map[string]bool{}
	for _, m := range methods {
		kept[string(m[1])] = true
	}
	for _, used := range []string{"GetContactAttributes", "UpdateContactAttributes"} {
		if !kept[used] {
			t.Errorf("(*connect.Client).%s is missing: the check cannot see the client's methods", used)
		}
	}
	if kept["StartOutboundVoiceContact"] || len(kept) > 20 {
		t.Errorf("the bootstrap keeps %d methods of *connect.Client, StartOutboundVoiceContact among them: dead-method elimination is off (go build -ldflags=-dumpdep shows the reflect call that turned it off)", len(kept))
	}
}
