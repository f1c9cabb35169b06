package lambdaruntime

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

// Build compiles the bootstrap of pkg (relative to the module root, as "./functions/dialer") for
// this machine, with the build tags of `make build`, into bin: the binary the deployed function
// is, apart from its operating system and architecture.
func Build(pkg, bin string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	tags, err := MakefileTags(filepath.Join(root, "Makefile"))
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-tags", tags, "-trimpath", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
	}
	return nil
}
