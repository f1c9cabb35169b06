package lambdaruntime

import (
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/switchboard-connect/switchboard/functions/buildtags"
)

// Build compiles the bootstrap of pkg (relative to the module root, as "./functions/dialer") for
// this machine, with the build tags of `make build`, into bin: the binary the deployed function
// is, apart from its operating system and architecture.
func Build(pkg, bin string) error {
	root, err := buildtags.ModuleRoot()
	if err != nil {
		return err
	}
	tags, err := buildtags.MakefileTags(filepath.Join(root, "Makefile"))
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
