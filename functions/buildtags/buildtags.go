// Package buildtags says how the functions' bootstraps are built: the build tags of `make build`,
// read from the LAMBDA_TAGS line of the module's Makefile, so that every test that links or runs
// a bootstrap (the size checks of functions/internal/linkcheck, the crash test and the
// reliability suite through local/lambdaruntime) builds what is shipped.
package buildtags

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

var tagsLine = regexp.MustCompile(`(?m)^LAMBDA_TAGS := ([A-Za-z0-9_.,]+)$`)

// MakefileTags reads the build tags of the bootstraps (`make build`) from a Makefile's
// LAMBDA_TAGS line.
func MakefileTags(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("the build tags of make build: %w", err)
	}
	m := tagsLine.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s has no LAMBDA_TAGS := line: the bootstrap's build tags are unknown", path)
	}
	return string(m[1]), nil
}

// ModuleRoot is the folder of the go.mod of the current directory's module.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}
