package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-connect/switchboard/local/browsertest"
)

func TestBrowserRunsAPageAndItsScript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>probe</title><p id="p">static</p>`+
			`<script>document.getElementById("p").textContent = "scripted";</script></html>`)
	}))
	defer srv.Close()

	ctx := browsertest.Start(t)
	browsertest.Run(t, ctx, chromedp.Navigate(srv.URL))
	if got := browsertest.Run(t, ctx, chromedp.Title()); got != "probe" {
		t.Fatalf("title = %q", got)
	}
	if got := browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS("#p"))); got != "scripted" {
		t.Fatalf("text = %q, want the script's", got)
	}
}

// Each Start is a fresh profile: nothing leaks from one test's browser to the next.
func TestEachStartIsAFreshProfile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>x</title>`)
	}))
	defer srv.Close()
	for i := range 2 {
		ctx := browsertest.Start(t)
		browsertest.Run(t, ctx, chromedp.Navigate(srv.URL))
		got := browsertest.Run(t, ctx, chromedp.Evaluate[string](`(function () {
			var seen = localStorage.getItem("seen") || "";
			localStorage.setItem("seen", "yes");
			return seen;
		})()`))
		if got != "" {
			t.Fatalf("browser %d saw storage from an earlier one: %q", i, got)
		}
	}
}

// TestHelperStartWithoutBrowser is run by TestMissingBrowser in a child process.
func TestHelperStartWithoutBrowser(t *testing.T) {
	if os.Getenv("BROWSERTEST_HELPER") != "1" {
		t.Skip("helper for TestMissingBrowser")
	}
	browsertest.Start(t)
	t.Log("STARTED")
}

// Without a browser a test skips on a workstation and fails in CI.
func TestMissingBrowser(t *testing.T) {
	for _, tt := range []struct {
		ci       string
		wantFail bool
		wantText string
	}{
		{ci: "", wantFail: false, wantText: "skipping browser test: CHROMIUM_BIN=/nonexistent/chromium"},
		{ci: "true", wantFail: true, wantText: "browser test in CI: CHROMIUM_BIN=/nonexistent/chromium"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStartWithoutBrowser$", "-test.v")
		cmd.Env = append(os.Environ(), "BROWSERTEST_HELPER=1", "CHROMIUM_BIN=/nonexistent/chromium", "CI="+tt.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tt.wantFail {
			t.Errorf("CI=%q: failed = %v, want %v\n%s", tt.ci, failed, tt.wantFail, out)
		}
		if !strings.Contains(string(out), tt.wantText) || strings.Contains(string(out), "STARTED") {
			t.Errorf("CI=%q: output lacks %q:\n%s", tt.ci, tt.wantText, out)
		}
	}
}
