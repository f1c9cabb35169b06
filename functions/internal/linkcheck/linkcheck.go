// Package linkcheck links a function's bootstrap as `make build` does and tells its tests what
// the linker kept. The bootstrap's size is guarded by reachability, not by megabytes: the
// linker removes the methods nothing calls only while no reachable code can call a method by a
// name (or an index) known at run time, such as reflect.Value.MethodByName with a variable
// name (text/template does, for every field of a template). One such call keeps every method of
// every type that can be converted to an interface: for the SDK clients, every operation of the
// service (a 29 MB bootstrap instead of 11).
//
// Only tests import it.
package linkcheck

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/functions/buildtags"
)

// Bootstrap is a linked bootstrap: the linker's dependency graph and the binary's symbols.
type Bootstrap struct {
	// deps is the output of -ldflags=-dumpdep: one "from -> to" edge a line, a function marked
	// <ReflectMethod> when it calls a method chosen at run time.
	deps string
	// symbols is `go tool nm` of the binary.
	symbols string
}

// Link builds the package in dir (".": the test's own) for linux with the flags of `make build`
// (its build tags read from the LAMBDA_TAGS line of the module's Makefile) but the symbol table
// kept, and returns what the linker kept.
func Link(t testing.TB, dir string) Bootstrap {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is needed to link the bootstrap: %v", err)
	}
	gomod, err := exec.Command(gocmd, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	tags, err := buildtags.MakefileTags(filepath.Join(filepath.Dir(strings.TrimSpace(string(gomod))), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command(gocmd, "build", "-tags", tags, "-trimpath", "-ldflags=-dumpdep", "-o", bin, dir)
	build.Env = append(build.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	var deps, stderr strings.Builder
	build.Stdout, build.Stderr = &stderr, &deps // the linker writes the graph to standard error
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v\n%s%s", err, stderr.String(), tail(deps.String()))
	}
	nm, err := exec.Command(gocmd, "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	b := Bootstrap{deps: deps.String(), symbols: string(nm)}
	if !strings.Contains(b.deps, "main.main") || !strings.Contains(b.symbols, " main.main") {
		t.Fatalf("the linker's graph or the symbol table lacks main.main: the checks would see nothing\n%s", tail(b.deps))
	}
	return b
}

var reflectMethodMark = regexp.MustCompile(`(?m)^(.+?) <ReflectMethod> -> `)

// ReflectMethodCallers returns the reachable functions that call a method chosen at run time:
// while there is one, the linker keeps every exported method of every type in an interface.
func (b Bootstrap) ReflectMethodCallers() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range reflectMethodMark.FindAllStringSubmatch(b.deps, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// Methods returns the names of the methods of *Client of the SDK service package (for example
// "service/connect") that the binary holds.
func (b Bootstrap) Methods(service string) map[string]bool {
	re := regexp.MustCompile(regexp.QuoteMeta("github.com/aws/aws-sdk-go-v2/"+service) + `\.\(\*Client\)\.([A-Za-z]+)$`)
	kept := map[string]bool{}
	for _, line := range strings.Split(b.symbols, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			kept[m[1]] = true
		}
	}
	return kept
}

// CheckAbsent fails t for each of the prefixes (an import path, or a type's methods such as
// "net/http.(*http2Framer)") that has code in the binary; why says what brought it in before.
func (b Bootstrap) CheckAbsent(t testing.TB, why string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		if strings.Contains(b.symbols, " "+p+".") {
			t.Errorf("the bootstrap holds %s: %s", p, why)
		}
	}
}

// DefaultChain is the SDK's default configuration chain (config.LoadDefaultConfig) and the
// services and features it brings in: the functions build their configuration from Lambda's
// environment instead (shared/awsclient FromEnvironment).
var DefaultChain = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
}

// CheckShipped fails t on what no bootstrap may hold: a reachable call of a method chosen at run
// time, a package of the SDK's default chain, HTTP/2 (LAMBDA_TAGS leaves it out).
func (b Bootstrap) CheckShipped(t testing.TB) {
	t.Helper()
	if callers := b.ReflectMethodCallers(); len(callers) != 0 {
		t.Errorf("reachable code calls methods chosen at run time, which keeps every method in: %v (go build -ldflags=-dumpdep shows the chain)", callers)
	}
	b.CheckAbsent(t, "the SDK's default configuration chain is not used in Lambda (awsclient.FromEnvironment)", DefaultChain...)
	b.CheckAbsent(t, "the bootstraps are built without HTTP/2 (LAMBDA_TAGS in the Makefile)", "net/http.(*http2Framer)")
}

// CheckClient fails t when the binary lacks one of the operations used (the check could not see
// the client's methods) or holds one that is not used: an operation nothing calls is in the
// binary only when method elimination is off.
func (b Bootstrap) CheckClient(t testing.TB, service string, used []string, unused string) {
	t.Helper()
	kept := b.Methods(service)
	for _, op := range used {
		if !kept[op] {
			t.Errorf("(*%s.Client).%s is not in the bootstrap: the check cannot see the client's methods", service, op)
		}
	}
	if kept[unused] {
		t.Errorf("the bootstrap keeps %d methods of *%s.Client, the unused %s among them: dead-method elimination is off (reflect-method callers: %v)",
			len(kept), service, unused, b.ReflectMethodCallers())
	}
}

func tail(s string) string {
	const n = 2000
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
