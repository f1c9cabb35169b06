package devstack

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// dynalite is the DynamoDB-compatible server, a Node.js child process in its own process group,
// so that stopping the stack ends it and nothing else (Ctrl-C in a terminal does not reach it
// first: the stack stops it after the functions).
type dynalite struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// findDynalite looks for node_modules/.bin/dynalite in the module root above dir.
func findDynalite(dir string) (string, error) {
	if p := os.Getenv("DYNALITE_BIN"); p != "" {
		return p, nil
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(dir, "node_modules", ".bin", "dynalite")
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("dynalite (the local DynamoDB) is missing at %s: run `make run`, which installs it with `npm ci` (Node.js 20+ with npm needed), or `npm ci` in %s", bin, dir)
			}
			return bin, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run devstack from the Switchboard repository (it needs node_modules/.bin/dynalite)")
		}
		dir = parent
	}
}

func startDynalite(host string, port int) (*dynalite, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	bin, err := findDynalite(wd)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, errors.New("node is not on PATH: dynalite (the local DynamoDB) needs Node.js 20+")
	}
	cmd := exec.Command(bin, "--host", host, "--port", fmt.Sprint(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.SysProcAttr = childAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{b: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	d := &dynalite{cmd: cmd, done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), "listening") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
	}()
	go func() { _ = cmd.Wait(); close(d.done) }()
	select {
	case ok := <-ready:
		if !ok {
			d.stop()
			return nil, fmt.Errorf("dynalite exited before listening on %s:%d: %s", host, port, strings.TrimSpace(stderr.String()))
		}
	case <-time.After(30 * time.Second):
		d.stop()
		return nil, errors.New("dynalite did not start listening within 30s")
	}
	return d, nil
}

// stop ends the process group and waits for the process.
func (d *dynalite) stop() {
	if d.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
}

// limitedWriter keeps the first n bytes.
type limitedWriter struct {
	b *strings.Builder
	n int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.n - w.b.Len(); room > 0 {
		if len(p) > room {
			w.b.Write(p[:room])
		} else {
			w.b.Write(p)
		}
	}
	return len(p), nil
}
