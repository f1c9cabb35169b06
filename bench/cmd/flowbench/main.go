// Command flowbench compares a function's shipped bootstrap with its Node.js 20 baseline in
// bench/baselines/, in one run on one machine (docs/performance.md). -fn picks the function:
// contactflow (an `update`), authredirect (GET /auth/callback) or dialer (an idle tick, against
// dynalite); workloads.go says what each invocation is and how its answer is checked.
//
//   - cold init: process start to the runtime's first GET .../invocation/next, under the Runtime
//     API of local/lambdaruntime, median of interleaved runs;
//   - warm invocations answered through the same stub, with Amazon Connect served by connectsim
//     on loopback in this process: p50 and p99, interleaved in blocks;
//   - peak RSS (VmHWM of /proc/<pid>/status) of each process after the warm load;
//   - the size of each deployment artifact.
//
// Every invocation's answer is checked, so a figure never comes from a broken run.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/lambdaruntime"
)

// goBootstraps is the repeatable -go flag: name=path.
type goBootstraps []subject

func (g *goBootstraps) String() string { return fmt.Sprint(len(*g)) }

func (g *goBootstraps) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return errors.New("want name=path/to/bootstrap")
	}
	*g = append(*g, subject{name: "go " + name, goBootstrap: path})
	return nil
}

func main() {
	var gos goBootstraps
	flag.Var(&gos, "go", "a Go bootstrap to measure, as name=path (repeatable; the goals are checked against the last)")
	fn := flag.String("fn", "contactflow", "the function: contactflow, authredirect, dialer, or noop (the harness floor)")
	nodeDir := flag.String("node", "", "the Node.js baseline folder, npm ci done (default: the function's under bench/baselines)")
	coldRuns := flag.Int("cold", 15, "cold starts per subject")
	warm := flag.Int("warm", 3000, "measured warm invocations per subject")
	block := flag.Int("block", 100, "warm invocations per subject before switching to the next")
	out := flag.String("out", "", "also write the report to this file")
	flag.Parse()
	if len(gos) == 0 {
		fmt.Fprintln(os.Stderr, "flowbench: give at least one -go name=path/to/bootstrap")
		os.Exit(2)
	}
	w, ok := workloads[*fn]
	if !ok {
		fmt.Fprintf(os.Stderr, "flowbench: -fn %q: want contactflow, authredirect, dialer or noop\n", *fn)
		os.Exit(2)
	}
	if *nodeDir == "" {
		*nodeDir = w.nodeDir
	}
	subjects := append([]subject(gos), subject{name: "node 20", nodeDir: *nodeDir, nodeHandler: w.nodeHandler})
	rep, err := run(w, subjects, *coldRuns, *warm, *block)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flowbench:", err)
		os.Exit(1)
	}
	fmt.Print(rep)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(rep), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "flowbench:", err)
			os.Exit(1)
		}
	}
}

// subject is one implementation under test: a Go bootstrap or the Node.js folder.
type subject struct {
	name        string
	goBootstrap string
	nodeDir     string
	nodeHandler string
}

// ric is the stand-in for Node's runtime interface client that runs every baseline.
const ric = "bench/baselines/node/ric.mjs"

func (s subject) command(apiAddr string, w workload, e endpoints) *exec.Cmd {
	var cmd *exec.Cmd
	if s.goBootstrap != "" {
		cmd = exec.Command(s.goBootstrap)
	} else {
		dir, _ := filepath.Abs(s.nodeDir)
		r, _ := filepath.Abs(ric)
		cmd = exec.Command("node", r)
		cmd.Dir = dir
	}
	// Only what Lambda sets and the function reads: no shared AWS config of this machine.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + apiAddr,
		"AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"LAMBDA_TASK_ROOT=" + cmd.Dir, "_HANDLER=" + s.nodeHandler, "AWS_LAMBDA_LOG_STREAM_NAME=2026/12/01/[$LATEST]bench" + strconv.Itoa(nextStream()),
		"AWS_REGION=" + connectsim.DefaultRegion, "AWS_DEFAULT_REGION=" + connectsim.DefaultRegion,
		"AWS_ACCESS_KEY_ID=AKIDCONNECTSIM", "AWS_SECRET_ACCESS_KEY=connectsim-secret", "AWS_SESSION_TOKEN=bench",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_CONNECT=" + e.connect,
	}
	cmd.Env = append(cmd.Env, w.env(e)...)
	cmd.Stdout = io.Discard
	cmd.Stderr = io.Discard
	return cmd
}

// size is the deployment artifact: the bootstrap, or the handler folder with node_modules (the
// Node.js runtime itself is Lambda's).
func (s subject) size() (int64, error) {
	if s.goBootstrap != "" {
		fi, err := os.Stat(s.goBootstrap)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	var n int64
	err := filepath.WalkDir(s.nodeDir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// process is one running subject with its own stub.
type process struct {
	cmd   *exec.Cmd
	stub  *lambdaruntime.Server
	start time.Time
}

var streams int

// nextStream numbers the processes' log streams: the dialer takes its lease owner from it.
func nextStream() int { streams++; return streams }

func launch(s subject, w workload, e endpoints) (*process, error) {
	stub, err := lambdaruntime.Start()
	if err != nil {
		return nil, err
	}
	cmd := s.command(stub.Addr, w, e)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		_ = stub.Close()
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	return &process{cmd: cmd, stub: stub, start: start}, nil
}

func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	_ = p.stub.Close()
}

// invoke sends one event and checks the answer.
func (p *process) invoke(ctx context.Context, payload []byte, check func([]byte) error) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := p.stub.Invoke(ctx, payload, 10*time.Second)
	if err != nil {
		return 0, err
	}
	if r.Error != nil {
		return 0, fmt.Errorf("the invocation failed: %.300s", r.Error)
	}
	if err := check(r.Payload); err != nil {
		return 0, fmt.Errorf("unexpected answer: %w: %.300s", err, r.Payload)
	}
	return r.Took, nil
}

// peakRSS reads VmHWM, the resident set's high-water mark, in bytes.
func (p *process) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return vmHWM(string(b))
}

// vmHWM reads the VmHWM line of a /proc/<pid>/status text, in bytes.
func vmHWM(status string) (int64, error) {
	for line := range strings.SplitSeq(status, "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}

type figures struct {
	size     int64
	cold     []time.Duration
	warm     []time.Duration
	peakRSS  int64
	firstRSS int64
}

func run(w workload, subjects []subject, coldRuns, warm, block int) (string, error) {
	started := time.Now().UTC()
	load0 := loadAvg()
	sim, err := connectsim.New(connectsim.Options{DisableThrottling: true})
	if err != nil {
		return "", err
	}
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	e := endpoints{connect: srv.URL}
	if w.needsDynamo {
		db, err := startDynamo()
		if err != nil {
			return "", fmt.Errorf("dynalite: %w", err)
		}
		defer db.Stop()
		e.dynamo = db.URL
	}
	payload, err := w.payload(sim)
	if err != nil {
		return "", err
	}

	ctx := context.Background()
	figs := make([]figures, len(subjects))
	for i, s := range subjects {
		if figs[i].size, err = s.size(); err != nil {
			return "", fmt.Errorf("%s size: %w", s.name, err)
		}
	}

	// Cold: the subjects take turns, the order rotating each round, so that a slow moment of
	// the machine is shared.
	for round := range coldRuns {
		for j := range subjects {
			i := (round + j) % len(subjects)
			d, err := coldStart(ctx, subjects[i], w, e, payload)
			if err != nil {
				return "", fmt.Errorf("%s cold start %d: %w", subjects[i].name, round+1, err)
			}
			figs[i].cold = append(figs[i].cold, d)
		}
	}

	// Warm: one process per subject for the whole phase, invoked in turns of block.
	procs := make([]*process, len(subjects))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	for i, s := range subjects {
		if procs[i], err = launch(s, w, e); err != nil {
			return "", err
		}
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := procs[i].stub.WaitReady(wctx)
		cancel()
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.name, err)
		}
		if _, err := procs[i].invoke(ctx, payload, w.check); err != nil {
			return "", fmt.Errorf("%s first invocation: %w", s.name, err)
		}
		if figs[i].firstRSS, err = procs[i].peakRSS(); err != nil {
			return "", err
		}
		for range 200 { // warm-up: JIT, connection pools, lazy initialisation
			if _, err := procs[i].invoke(ctx, payload, w.check); err != nil {
				return "", fmt.Errorf("%s warm-up: %w", s.name, err)
			}
		}
	}
	for done := 0; done < warm; done += block {
		for j := range subjects {
			i := (done/block + j) % len(subjects)
			for range min(block, warm-done) {
				d, err := procs[i].invoke(ctx, payload, w.check)
				if err != nil {
					return "", fmt.Errorf("%s warm: %w", subjects[i].name, err)
				}
				figs[i].warm = append(figs[i].warm, d)
			}
		}
	}
	for i := range subjects {
		if figs[i].peakRSS, err = procs[i].peakRSS(); err != nil {
			return "", err
		}
	}
	return report(w, subjects, figs, started, load0, loadAvg(), coldRuns, warm, block), nil
}

func coldStart(ctx context.Context, s subject, w workload, e endpoints, payload []byte) (time.Duration, error) {
	p, err := launch(s, w, e)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	at, err := p.stub.WaitReady(wctx)
	if err != nil {
		return 0, err
	}
	// The process must also answer: a runtime that polls but cannot serve is no cold start.
	if _, err := p.invoke(ctx, payload, w.check); err != nil {
		return 0, fmt.Errorf("first invocation: %w", err)
	}
	return at.Sub(p.start), nil
}

// percentile is the nearest-rank percentile of ds (0 < q <= 1).
func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(float64(len(s))*q+0.999999) - 1
	return s[min(max(k, 0), len(s)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

func mb(n int64) string { return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) }

func ratio(a, b float64) string { return strconv.FormatFloat(a/b, 'f', 3, 64) }

func report(w workload, subjects []subject, figs []figures, started time.Time, load0, load1 string, coldRuns, warm, block int) string {
	var b bytes.Buffer
	node := len(subjects) - 1
	fmt.Fprintf(&b, "flowbench, %s UTC\n\n", started.Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "machine: %d CPUs (nproc), %s, Linux %s, %s %s/%s, node %s\n", runtime.NumCPU(), cpuModel(), kernel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, nodeVersion())
	fmt.Fprintf(&b, "load average: %s at start, %s at end\n", load0, load1)
	fmt.Fprintf(&b, "invocation: %s\n", w.what)
	fmt.Fprintf(&b, "cold: %d interleaved starts each; warm: %d invocations each, in interleaved blocks of %d after 200 warm-up\n\n", coldRuns, warm, block)
	b.WriteString("| subject | artifact MB | cold init median ms (min–max) | × node | warm p50 ms | warm p99 ms | p99 × node | RSS after 1st MB | peak RSS MB |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	nodeCold := float64(percentile(figs[node].cold, 0.5))
	nodeP99 := float64(percentile(figs[node].warm, 0.99))
	for i, s := range subjects {
		f := figs[i]
		cold := percentile(f.cold, 0.5)
		p99 := percentile(f.warm, 0.99)
		fmt.Fprintf(&b, "| %s | %s | %s (%s–%s) | %s | %s | %s | %s | %s | %s |\n", s.name, mb(f.size),
			ms(cold), ms(slices.Min(f.cold)), ms(slices.Max(f.cold)), ratio(float64(cold), nodeCold),
			ms(percentile(f.warm, 0.5)), ms(p99), ratio(float64(p99), nodeP99), mb(f.firstRSS), mb(f.peakRSS))
	}
	g := figs[node-1]
	b.WriteString("\ngoals, for " + subjects[node-1].name + ":\n")
	goal := func(name string, ok bool, got string) {
		verdict := "met"
		if !ok {
			verdict = "NOT met"
		}
		fmt.Fprintf(&b, "- %s: %s (%s)\n", name, verdict, got)
	}
	goal("bootstrap ≤ 12 MB", g.size <= 12_000_000, mb(g.size)+" MB")
	goal("cold init ≤ 0.05 × node", float64(percentile(g.cold, 0.5)) <= 0.05*nodeCold, ratio(float64(percentile(g.cold, 0.5)), nodeCold))
	goal("warm p99 ≤ 0.25 × node", float64(percentile(g.warm, 0.99)) <= 0.25*nodeP99, ratio(float64(percentile(g.warm, 0.99)), nodeP99))
	goal("peak RSS ≤ 40 MB", g.peakRSS <= 40_000_000, mb(g.peakRSS)+" MB")
	return b.String()
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "missing"
	}
	return strings.TrimSpace(string(out))
}
