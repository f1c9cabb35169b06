package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/local/devstack"
)

// runInvoke is `make invoke`: one function, one event file, the response on stdout. It uses the
// devstack already running at -endpoint if there is one, else starts one on free ports (no demo)
// for this invocation only.
func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devstack invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fn := fs.String("fn", "", "`function`: contactflow, dialer or authredirect")
	event := fs.String("event", "", "event `file` (JSON), for example events/contactflow/get-keys.json")
	endpoint := fs.String("endpoint", fmt.Sprintf("http://127.0.0.1:%d", devstack.DefaultPorts.Lambda), "Lambda Invoke API `URL` of a running devstack")
	if err := parseSubcommandFlags(fs, args); err != nil {
		return err
	}
	if *fn == "" || *event == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: want -fn <function> -event <file> (make invoke FN=contactflow EVENT=events/contactflow/get-keys.json)", errUsage)
	}
	payload, err := os.ReadFile(*event)
	if err != nil {
		return fmt.Errorf("%w: -event: %v", errUsage, err)
	}
	url := strings.TrimRight(*endpoint, "/")
	if !running(ctx, url) {
		fmt.Fprintf(stderr, "devstack invoke: no devstack at %s: starting one for this invocation\n", url)
		st, err := devstack.Start(ctx, devstack.Options{Log: slog.New(slog.NewJSONHandler(stderr, nil))})
		if err != nil {
			return err
		}
		defer st.Close()
		url = st.URLs.Lambda
	}
	body, fnErr, err := invoke(ctx, url, *fn, payload)
	if err != nil {
		return err
	}
	stdout.Write(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	if fnErr != "" {
		return fmt.Errorf("function %s failed (X-Amz-Function-Error: %s)", *fn, fnErr)
	}
	return nil
}

// running reports whether a devstack's Invoke API answers at url (a DryRun invocation).
func running(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/2015-03-31/functions/"+devstack.FnContactFlow+"/invocations", nil)
	if err != nil {
		return false
	}
	req.Header.Set("X-Amz-Invocation-Type", "DryRun")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNoContent
}

// invoke posts one RequestResponse invocation and returns the response body and the function
// error header.
func invoke(ctx context.Context, url, fn string, payload []byte) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/2015-03-31/functions/"+fn+"/invocations", bytes.NewReader(payload))
	if err != nil {
		return nil, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("invoke %s: %w", fn, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 7<<20))
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("invoke %s: HTTP %d %s: %s", fn, resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), strings.TrimSpace(string(body)))
	}
	return body, resp.Header.Get("X-Amz-Function-Error"), nil
}
