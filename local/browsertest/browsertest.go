// Package browsertest runs a fresh headless Chromium for a Go test and hands back a chromedp
// context driving one tab of it, for tests of what only a browser does: Content-Security-Policy,
// postMessage between windows, popups closing themselves, history rewriting.
//
// It uses Debian's chromium (/usr/bin/chromium; `make deps` and CI install it). When no browser
// is found the test is skipped with a message saying how to install one, unless the environment
// variable CI is set: in CI a missing browser fails the test, so browser tests never silently
// stop running.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds one call of Run.
const DefaultTimeout = 30 * time.Second

// candidates are the browser binaries tried in order after $CHROMIUM_BIN.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ExecPath returns the browser binary the harness would run: $CHROMIUM_BIN if set, else the
// first of Debian's chromium and the usual names found on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("CHROMIUM_BIN=%s is not an executable: %w", p, err)
		}
		return p, nil
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium found (tried /usr/bin/chromium and chromium, chromium-browser, google-chrome on PATH); " +
		"install it with `sudo apt-get install -y chromium` or `make deps`, or set CHROMIUM_BIN")
}

// lockedBuffer collects the browser's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start launches a headless Chromium with a fresh profile under t.TempDir() and returns a
// chromedp context of its first tab. The browser stops when the test ends. Derive a timeout
// for each step from the returned context (or use Run); never put a deadline on the context
// itself, which would stop the browser.
func Start(t testing.TB) context.Context {
	t.Helper()
	path, err := ExecPath()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test in CI: %v", err)
		}
		t.Skipf("skipping browser test: %v", err)
	}
	output := &lockedBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // containers and CI runners rarely allow the sandbox's namespaces
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is 64 MB in default containers
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(output),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := firstRun(ctx); err != nil {
		t.Fatalf("start %s: %v\nbrowser output:\n%s", path, err, output.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			if out := output.String(); out != "" {
				t.Logf("browser output:\n%s", out)
			}
		}
	})
	return ctx
}

// Attach returns a chromedp context for another tab of the browser, such as a popup a page
// opened (its ID from chromedp.WaitNewTarget). The context ends with the test.
func Attach(t testing.TB, browser context.Context, id target.ID) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithTargetID(id))
	t.Cleanup(cancel)
	if err := firstRun(ctx); err != nil {
		t.Fatalf("attach to target %s: %v", id, err)
	}
	return ctx
}

// firstRun makes the first Run on a chromedp context, which starts the browser or attaches the
// tab for as long as the context of that call lives: that context must carry no deadline, so
// the wait for it is bounded apart.
func firstRun(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(DefaultTimeout):
		return fmt.Errorf("not ready within %s", DefaultTimeout)
	}
}

// Run runs one action on ctx within DefaultTimeout and fails the test on error.
func Run[T any](t testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := RunWithin(ctx, DefaultTimeout, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// RunWithin runs one action on ctx and gives up after d.
func RunWithin[T any](ctx context.Context, d time.Duration, a chromedp.Action[T]) (T, error) {
	actx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Run(actx, a)
}
