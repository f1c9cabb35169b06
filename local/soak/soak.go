// Package soak is Switchboard's reliability suite (docs/reliability.md): dialer campaigns run
// by the dialer's real bootstrap, killed at random points and started again, while the
// contact-flow function's real bootstrap answers invocations during the calls (opt-outs among
// them), with a share of every Amazon Connect operation failed by connectsim, a share of every
// DynamoDB request failed by local/faultproxy in front of dynalite, and contact events lost,
// repeated, delayed and reordered. Each campaign ends with its checks: every recipient in a final
// state with a reason, no attempt called twice, no call without a fresh do-not-call lookup that
// said "not listed" (so no call after an opt-out), and every contact-flow invocation answered
// within its budget.
//
// Everything runs on the wall clock: the bootstrap is the deployed binary and reads time.Now, so
// connectsim runs at scale 1 (a wall-clock clock, never a manual one: time moves whatever the
// dialer does) with call durations of seconds instead.
package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/local/lambdaruntime"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

// Config is one run of the suite.
type Config struct {
	// Seed draws what the rig decides: which requests fail and how, when and which dialer is
	// killed, when hotline opt-outs come, the call outcomes.
	Seed uint64
	// Duration: campaigns are launched back to back until it has passed (at least one).
	Duration time.Duration
	// Recipients per campaign; keep at most 1,000 (docs/dialer.md, the due index defect).
	Recipients int
	// FaultRate is the share of Connect operations and of DynamoDB requests failed.
	FaultRate float64
	// Retries gives campaigns a retry policy (busy, no answer and failed calls tried again after
	// a minute), so that opt-outs land between attempts.
	Retries bool
	// KillMin and KillMax bound the random time between two kills of a dialer process; a zero
	// KillMax kills none.
	KillMin, KillMax time.Duration
	// CampaignTimeout fails a campaign that is still active after it.
	CampaignTimeout time.Duration
	// Executions is how many partitions each tick is spread over (outbound.Partition; 1 when
	// 0): one tick invocation each, run at once in the dialer's execution environments.
	Executions int
}

// MaxLive is the dialer's concurrency cap in the suite (its default, DIAL_MAX_CONCURRENT_CALLS 10,
// which is also connectsim's default instance's quota).
const MaxLive = 10

// FlowBudget is the contact-flow function's FLOW_BUDGET in the suite.
const FlowBudget = 2 * time.Second

// flowBlockTimeout is how long the rig, as Connect's "Invoke AWS Lambda function" block, waits
// for an answer: the block's longest timeout (flowbudget.ConnectBlockTimeout), the Lambda
// deadline of the invocation.
const flowBlockTimeout = 8 * time.Second

// Rig is the running system of one suite run.
type Rig struct {
	t     testing.TB
	cfg   Config
	rng   *rand.Rand
	clock *connectsim.ScaledClock
	sim   *simtest.Server
	// connect is the rig's own client of connectsim (hanging up hotline contacts).
	connect *connect.Client
	db      *dynalitetest.Server
	proxy   *faultproxy.Server
	store   *campaignstore.Store

	flowRT *lambdaruntime.Server
	// dialers are the dialer function's execution environments: a tick runs in one while
	// contact events are handled in the others, as Lambda runs concurrent invocations.
	dialers []*environment
	// flow is the contact-flow function's execution environments: Lambda runs one per
	// concurrent invocation.
	flow []*process

	invocations chan []byte
	ticking     []atomic.Bool // each partition's tick is queued or running
	stop        context.CancelFunc
	wg          sync.WaitGroup

	mu       sync.Mutex
	lookups  map[string][]lookup // do-not-call lookups the dialer saw, by number
	optOuts  map[string]time.Time
	flowRuns []flowRun
	flowLogs []flowLog
	// contacted is every contact the flow was run for.
	contacted  map[string]bool
	optOutPlan map[string]bool // numbers whose calls opt out in the flow
	stats      Stats
}

// lookup is one do-not-call GetItem answered to its caller.
type lookup struct {
	sent, answered time.Time
	listed         bool
}

// Stats are the run's measured figures.
type Stats struct {
	Elapsed               time.Duration
	Campaigns, Recipients int
	States                map[string]int
	Calls                 int
	// PeakLive is the most dialled calls live at once, from connectsim's record.
	PeakLive int
	// CallsByPartition counts the calls by the partition that owns the recipient's shard.
	CallsByPartition          map[string]int
	DialerStarts, Redelivered int
	ConnectRequests           int
	ConnectOutcomes           map[string]int
	ConnectFaultRotations     map[string]int
	DynamoRequests            int
	DynamoFaults              map[faultproxy.Kind]int
	EventsEmitted, EventsLost int
	FlowInvocations           int
	FlowResults               map[string]int
	FlowMaxDuration           time.Duration
	OptOuts, OptOutRaces      int
}

// process is one function process under a Runtime API.
type process struct {
	t      testing.TB
	bin    string
	env    []string
	mu     sync.Mutex
	cmd    *exec.Cmd
	starts int
	// out receives the process's stdout lines when set.
	out func(string)
	wg  sync.WaitGroup
}

func (p *process) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starts++
	cmd := exec.Command(p.bin)
	cmd.Env = append(slices.Clone(p.env), fmt.Sprintf("AWS_LAMBDA_LOG_STREAM_NAME=stream-%d", p.starts))
	cmd.Stderr = io.Discard
	var stdout io.ReadCloser
	if dir := os.Getenv("SOAK_LOG_DIR"); dir != "" && p.out == nil {
		f, err := os.OpenFile(filepath.Join(dir, filepath.Base(filepath.Dir(p.bin))+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			p.t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	} else if p.out != nil {
		var err error
		if stdout, err = cmd.StdoutPipe(); err != nil {
			p.t.Fatal(err)
		}
	} else {
		cmd.Stdout = io.Discard
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", filepath.Base(filepath.Dir(p.bin)), err)
	}
	if stdout != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				p.out(sc.Text())
			}
		}()
	}
	p.cmd = cmd
}

// kill ends the process with SIGKILL, as a crash would.
func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
	p.wg.Wait()
}

// environment is one execution environment of the dialer: its Runtime API, its process, and the
// invocation in progress.
type environment struct {
	rt   *lambdaruntime.Server
	proc *process
	mu   sync.Mutex
	// abandon ends the invocation in progress: Lambda fails an invocation whose process died
	// at once, where the Runtime API alone would wait for its deadline.
	abandon context.CancelFunc
}

// crash kills the process and starts a new one, failing the invocation it was running.
func (e *environment) crash() {
	e.proc.kill()
	e.mu.Lock()
	if e.abandon != nil {
		e.abandon()
	}
	e.mu.Unlock()
	e.proc.start()
}

// dialerEnvironments is how many dialer invocations run at once: one more than the partitions,
// so that a contact event can always run beside the ticks.
func (c Config) dialerEnvironments() int { return max(2, c.executions()+1) }

func (c Config) executions() int { return max(1, c.Executions) }

// build compiles a function's bootstrap as the deployed one (make build's tags), for this machine.
func build(t testing.TB, fn string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), fn, "bootstrap")
	if err := lambdaruntime.Build("./functions/"+fn, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// Start builds both bootstraps and starts the whole system with its faults.
func Start(t testing.TB, cfg Config) *Rig {
	t.Helper()
	r := &Rig{
		t: t, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 1)),
		clock:       connectsim.NewScaledClock(time.Now(), 1),
		invocations: make(chan []byte, 100000),
		lookups:     map[string][]lookup{}, optOuts: map[string]time.Time{}, contacted: map[string]bool{}, optOutPlan: map[string]bool{},
		stats: Stats{States: map[string]int{}, CallsByPartition: map[string]int{}, FlowResults: map[string]int{}, ConnectFaultRotations: map[string]int{}},
	}
	dialerBin, flowBin := build(t, "dialer"), build(t, "contactflow")

	r.db = dynalitetest.Start(t)
	r.db.CreateTable(t, campaignstore.CreateTableInput("campaigns"))
	r.db.CreateTable(t, donotcall.CreateTableInput("dnc"))
	r.store = campaignstore.New(r.db.Client(), "campaigns")
	proxy, err := faultproxy.Start(faultproxy.Config{Target: r.db.URL, Probability: cfg.FaultRate, Seed: cfg.Seed, Observe: r.observeDynamo, Clock: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.proxy = proxy
	t.Cleanup(func() { proxy.Close() })

	events := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.invocations <- b
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(events.Close)
	world := connectsim.DefaultWorld()
	world.Calls.RingMin, world.Calls.RingMax = connectsim.Duration(500*time.Millisecond), connectsim.Duration(2*time.Second)
	world.Calls.TalkMin, world.Calls.TalkMax = connectsim.Duration(time.Second), connectsim.Duration(4*time.Second)
	world.Calls.VoicemailMin, world.Calls.VoicemailMax = connectsim.Duration(time.Second), connectsim.Duration(3*time.Second)
	world.Calls.FlowDelay, world.Calls.AfterContactWork = connectsim.Duration(100*time.Millisecond), connectsim.Duration(500*time.Millisecond)
	world.Calls.Outcomes = map[string]float64{
		connectsim.OutcomeAnswered: 0.5, connectsim.OutcomeVoicemail: 0.15, connectsim.OutcomeNoAnswer: 0.05,
		connectsim.OutcomeBusy: 0.15, connectsim.OutcomeInvalidNumber: 0.05, connectsim.OutcomeFailed: 0.1,
	}
	r.sim = simtest.Start(t, connectsim.Options{
		World: world, Clock: r.clock, Seed: int64(cfg.Seed), Subscribers: []string{events.URL},
		Delivery: connectsim.DeliveryOptions{LossProbability: 0.2, DuplicateProbability: 0.1, ReorderProbability: 0.1, DelayProbability: 0.1, MaxDelay: 3 * time.Second},
	})

	r.connect = r.sim.ConnectClient(t)
	aws := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_CONNECT=" + r.sim.URL, "AWS_ENDPOINT_URL_DYNAMODB=" + proxy.URL, "DO_NOT_CALL_TABLE=dnc", "PATH=" + os.Getenv("PATH")}
	if r.flowRT, err = lambdaruntime.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.flowRT.Close() })
	r.ticking = make([]atomic.Bool, cfg.executions())
	for i := 0; i < cfg.dialerEnvironments(); i++ {
		rt, err := lambdaruntime.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rt.Close() })
		e := &environment{rt: rt, proc: &process{t: t, bin: dialerBin, env: append(slices.Clone(aws), "AWS_LAMBDA_RUNTIME_API="+rt.Addr,
			"CAMPAIGNS_TABLE=campaigns", "TICK_BUDGET=5s", "DIALER_LEASE_TTL=2s", "DIALER_WATCHDOG_AFTER=4s", "DIALER_QUIET_FOR=2s",
			// The suite runs on the real clock at any hour and calls only connectsim's fictional
			// numbers: legal hours (tested in shared/callwindow and shared/outbound) off.
			"DIALER_LEGAL_HOURS="+callwindow.LegalHoursOff)}}
		e.proc.start()
		r.dialers = append(r.dialers, e)
	}
	for i := 0; i < flowConcurrency; i++ {
		p := &process{t: t, bin: flowBin, env: append(slices.Clone(aws), "AWS_LAMBDA_RUNTIME_API="+r.flowRT.Addr,
			"FLOW_BUDGET="+FlowBudget.String()), out: r.flowLogLine}
		p.start()
		r.flow = append(r.flow, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	t.Cleanup(r.shutdown)
	r.faultConnect(cfg.FaultRate)
	r.goRun(func() { r.rotateConnectFaults(ctx) })
	r.goRun(func() { r.tick(ctx) })
	for _, e := range r.dialers {
		r.goRun(func() { r.drive(ctx, e) })
	}
	if cfg.KillMax > 0 {
		r.goRun(func() { r.killLoop(ctx) })
	}
	r.goRun(func() { r.flows(ctx) })
	return r
}

func (r *Rig) goRun(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}

func (r *Rig) shutdown() {
	r.stop()
	r.wg.Wait()
	for _, e := range r.dialers {
		e.proc.kill()
	}
	for _, p := range r.flow {
		p.kill()
	}
}

// observeDynamo records every do-not-call lookup answered to the dialer or the flow.
func (r *Rig) observeDynamo(e faultproxy.Exchange) {
	if e.Operation != "GetItem" || !e.Delivered || e.Status != http.StatusOK {
		return
	}
	var req struct {
		TableName string
		Key       map[string]map[string]string
	}
	var resp struct{ Item map[string]json.RawMessage }
	if json.Unmarshal(e.Request, &req) != nil || req.TableName != "dnc" || json.Unmarshal(e.Response, &resp) != nil {
		return
	}
	number := req.Key[donotcall.AttrPhoneNumber]["S"]
	r.mu.Lock()
	r.lookups[number] = append(r.lookups[number], lookup{sent: e.SentAt, answered: e.AnsweredAt, listed: resp.Item != nil})
	r.mu.Unlock()
}

// connectFaultKinds are the faults connectsim injects in turn: throttling as the SDK sees it
// from Connect (429 TooManyRequestsException, distinct from the quotas' ThrottlingException so
// that the two are counted apart), internal errors (500), dropped connections and latency past
// the flow budget; and the same after the operation ran (the call is placed, or the attributes
// written, and the answer is lost), the case a dial's replay must survive without a second call.
var connectFaultKinds = []connectsim.Fault{
	{Kind: connectsim.FaultThrottle, ErrorType: "TooManyRequestsException"},
	{Kind: connectsim.FaultInternal},
	{Kind: connectsim.FaultDrop},
	{Kind: connectsim.FaultLatency, Latency: 3 * time.Second},
	{Kind: connectsim.FaultInternalAfter},
	{Kind: connectsim.FaultDropAfter},
}

func (r *Rig) faultConnect(rate float64) {
	if rate == 0 {
		return // connectsim reads a zero probability as "always"
	}
	f := connectFaultKinds[r.rng.IntN(len(connectFaultKinds))]
	f.Probability = rate
	r.sim.SetFault("*", f)
	r.mu.Lock()
	r.stats.ConnectFaultRotations[f.Kind]++
	r.mu.Unlock()
}

// rotateConnectFaults changes the kind of the fault on every Connect operation every 250 ms:
// connectsim holds one fault per operation, so the mix comes from time.
func (r *Rig) rotateConnectFaults(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.faultConnect(r.cfg.FaultRate)
		}
	}
}

// killLoop kills the dialer process at random moments and starts it again, as Lambda starts a
// new execution environment after a crash.
func (r *Rig) killLoop(ctx context.Context) {
	span := r.cfg.KillMax - r.cfg.KillMin
	for {
		r.mu.Lock()
		d := r.cfg.KillMin + time.Duration(r.rng.Int64N(int64(span)+1))
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		r.mu.Lock()
		e := r.dialers[r.rng.IntN(len(r.dialers))]
		r.mu.Unlock()
		e.crash()
	}
}

// tick queues the scheduler's tick every 2 s, unless one is queued or running: EventBridge
// Scheduler's minute, at the suite's speed.
func (r *Rig) tick(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := len(r.ticking)
		for i := range r.ticking {
			if r.ticking[i].CompareAndSwap(false, true) {
				now := time.Now().UTC().Format(time.RFC3339)
				detail := map[string]any{"scheduledTime": now}
				if n > 1 {
					detail["partition"], detail["partitions"] = i, n
				}
				r.invocations <- envelope(tickDetailType, fmt.Sprintf("tick-%d-%s", i, now), detail)
			}
		}
	}
}

const tickDetailType = "Dialer Tick"

// drive runs the dialer's invocations (contact events from connectsim, the rig's launches,
// ticks) in one execution environment, one at a time. An invocation interrupted by a kill is
// delivered again, up to twice (Lambda's retries of an asynchronous invocation).
func (r *Rig) drive(ctx context.Context, e *environment) {
	for {
		var payload []byte
		select {
		case payload = <-r.invocations:
		case <-ctx.Done():
			return
		}
		for try := 0; try < 3 && ctx.Err() == nil; try++ {
			ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
			e.mu.Lock()
			e.abandon = cancel
			e.mu.Unlock()
			t0 := time.Now()
			res, err := e.rt.Invoke(ictx, payload, 20*time.Second)
			cancel()
			if os.Getenv("SOAK_DEBUG") != "" {
				r.t.Logf("dialer invocation %.60s: %v in %v, %.300s", payload, err, time.Since(t0).Round(time.Millisecond), res.Error)
			}
			if err == nil && res.Error == nil {
				break
			}
			r.mu.Lock()
			r.stats.Redelivered++
			r.mu.Unlock()
		}
		if strings.Contains(string(payload), `"detail-type":"`+tickDetailType+`"`) {
			var tick struct {
				Detail struct {
					Partition int `json:"partition"`
				} `json:"detail"`
			}
			if err := json.Unmarshal(payload, &tick); err == nil && tick.Detail.Partition < len(r.ticking) {
				r.ticking[tick.Detail.Partition].Store(false)
			}
		}
	}
}

func envelope(detailType, id string, detail any) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": id, "detail-type": detailType, "source": "switchboard", "account": "123456789012",
		"time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{}, "detail": detail,
	})
	return b
}

// areaCodes give each campaign numbers of its own, so that a number belongs to one recipient of
// the whole run (for up to 100 campaigns of at most 1,000 recipients).
var areaCodes = []int{202, 312, 415, 617, 713, 305, 206, 303, 404, 503}

func number(campaign, i int) string {
	return fmt.Sprintf("+1%03d555%04d", areaCodes[campaign%len(areaCodes)], (campaign/len(areaCodes)*1000+i)%10000)
}

// Campaign launches one campaign, opts some of its numbers out while it runs, waits for it to end
// and checks it. It returns the campaign's problems, each a sentence.
func (r *Rig) Campaign(ctx context.Context, n int) []string {
	id := fmt.Sprintf("soak-%d-%d", r.cfg.Seed, n)
	recips := make([]map[string]any, r.cfg.Recipients)
	var planned []string
	r.mu.Lock()
	for i := range recips {
		phone := number(n, i)
		recips[i] = map[string]any{"recipientId": fmt.Sprintf("r%04d", i), "phone": phone}
		switch i % 5 {
		case 1:
			r.optOutPlan[phone] = true // opts out in the flow of its call, once answered
		case 3:
			planned = append(planned, phone) // opts out by calling the hotline, at a random moment
		}
	}
	r.mu.Unlock()
	allDay := map[string]any{}
	for _, d := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
		allDay[d] = []map[string]string{{"start": "00:00", "end": "24:00"}}
	}
	retry := map[string]any{}
	if r.cfg.Retries {
		rule := map[string]any{"delay": "1m", "maxAttempts": 2}
		retry = map[string]any{"busy": rule, "noAnswer": rule, "failed": rule}
	}
	r.invocations <- envelope("Campaign Launched", "launch-"+id, map[string]any{
		"campaignId": id, "instanceId": connectsim.DefaultInstanceID, "contactFlowId": connectsim.DefaultContactFlowID,
		"queueId": connectsim.DefaultQueueID, "mode": "agentless", "recipients": recips, "retry": retry, "ringTimeoutSeconds": 15,
		"pacing":         map[string]any{"callsPerSecond": 2, "burst": 5, "maxConcurrentCalls": 10},
		"callingWindows": map[string]any{"weekly": allDay, "enforceUSCallingHours": false, "fallbackTimeZone": "America/New_York"},
	})

	// The hotline opt-outs, one every 0-10 s (random) while the campaign dials.
	hotline := make(chan struct{})
	go func() {
		defer close(hotline)
		for _, phone := range planned {
			r.mu.Lock()
			d := time.Duration(r.rng.Int64N(int64(10 * time.Second)))
			r.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
			r.hotlineOptOut(ctx, phone)
		}
	}()

	began := time.Now()
	lastLog := began
	var c campaignstore.Campaign
	var problems []string
	for {
		var err error
		c, err = r.store.Campaign(ctx, id)
		if err == nil && !c.Status.Active() {
			break
		}
		if time.Since(began) > r.cfg.CampaignTimeout || ctx.Err() != nil {
			// The checks still run: they name every recipient left behind, with its state.
			problems = append(problems, fmt.Sprintf("campaign %s still %s after %v (store: %v)", id, c.Status, r.cfg.CampaignTimeout, err))
			break
		}
		if time.Since(lastLog) > time.Minute {
			r.t.Logf("campaign %s %s after %v: recipients %s", id, c.Status, time.Since(began).Round(time.Second), r.progress(ctx, c))
			lastLog = time.Now()
		}
		time.Sleep(500 * time.Millisecond)
	}
	<-hotline
	r.waitFlows()
	return append(problems, r.check(context.WithoutCancel(ctx), c)...)
}

// progress counts a campaign's recipients by state.
func (r *Rig) progress(ctx context.Context, c campaignstore.Campaign) string {
	states := map[string]int{}
	err := r.store.Recipients(ctx, c.ID, c.Shards, func(rec campaignstore.Recipient) error {
		states[string(rec.State)]++
		return nil
	})
	if err != nil {
		return err.Error()
	}
	return sortedMap(states)
}

// waitFlows waits until the flow has run for every contact that reached it.
func (r *Rig) waitFlows() {
	for i := 0; i < 100; i++ {
		pending := false
		for _, ct := range r.sim.Contacts() {
			if ct.InitiationMethod == "API" && !ct.ConnectedToSystemTimestamp.IsZero() {
				r.mu.Lock()
				done := r.contacted[ct.ID]
				r.mu.Unlock()
				pending = pending || !done
			}
		}
		if !pending {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Report is the run's figures.
func (r *Rig) Report() Stats {
	r.mu.Lock()
	s := r.stats
	s.States = maps.Clone(s.States)
	s.CallsByPartition = maps.Clone(s.CallsByPartition)
	s.FlowResults = maps.Clone(s.FlowResults)
	s.ConnectFaultRotations = maps.Clone(s.ConnectFaultRotations)
	s.FlowInvocations = len(r.flowRuns)
	s.OptOuts = len(r.optOuts)
	for _, l := range r.flowLogs {
		s.FlowMaxDuration = max(s.FlowMaxDuration, l.duration)
	}
	r.mu.Unlock()
	for _, e := range r.dialers {
		e.proc.mu.Lock()
		s.DialerStarts += e.proc.starts
		e.proc.mu.Unlock()
	}
	pc := r.proxy.Counts()
	s.DynamoFaults, s.DynamoRequests = pc.Faults, pc.Requests
	st := r.sim.Stats()
	s.ConnectOutcomes = map[string]int{}
	for _, byOutcome := range st.Requests {
		for o, n := range byOutcome {
			s.ConnectOutcomes[o] += n
			s.ConnectRequests += n
		}
	}
	s.EventsEmitted, s.EventsLost = st.EventsEmitted, st.EventsLost
	s.PeakLive = simtest.PeakLive(r.sim.Contacts())
	return s
}

// Format writes the figures as the table docs/reliability.md shows.
func (s Stats) Format() string {
	var b strings.Builder
	kv := func(k string, v any) { fmt.Fprintf(&b, "%-34s %v\n", k, v) }
	kv("elapsed", s.Elapsed.Round(time.Second))
	kv("campaigns / recipients", fmt.Sprintf("%d / %d", s.Campaigns, s.Recipients))
	kv("recipients by final state", sortedMap(s.States))
	kv("calls placed (connectsim's record)", s.Calls)
	kv("calls by partition (of the shard)", sortedMap(s.CallsByPartition))
	kv("most calls live at once (cap 10)", s.PeakLive)
	kv("dialer process starts (kills + 1)", s.DialerStarts)
	kv("dialer invocations redelivered", s.Redelivered)
	kv("connect requests", s.ConnectRequests)
	kv("connect outcomes", sortedMap(s.ConnectOutcomes))
	kv("connect fault kinds in force", sortedMap(s.ConnectFaultRotations))
	kv("dynamodb requests", s.DynamoRequests)
	kv("dynamodb faults", sortedMap(s.DynamoFaults))
	kv("contact events emitted / lost", fmt.Sprintf("%d / %d", s.EventsEmitted, s.EventsLost))
	kv("contact-flow invocations", s.FlowInvocations)
	kv("contact-flow answers", sortedMap(s.FlowResults))
	kv("contact-flow longest (its own log)", s.FlowMaxDuration)
	kv("opt-outs acknowledged", s.OptOuts)
	kv("opt-out races (dial's lookup first)", s.OptOutRaces)
	return b.String()
}

func sortedMap[K ~string](m map[K]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// Run launches campaigns back to back until cfg.Duration has passed (at least one), checks each,
// then stops the system and checks the contact-flow invocations once more. It returns every
// problem found and the run's figures.
func Run(t testing.TB, cfg Config) ([]string, Stats) {
	t.Helper()
	began := time.Now()
	r := Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Duration+2*cfg.CampaignTimeout)
	defer cancel()
	var problems []string
	for n := 0; n == 0 || time.Since(began) < cfg.Duration; n++ {
		p := r.Campaign(ctx, n)
		t.Logf("campaign %d checked after %v: %d problems", n, time.Since(began).Round(time.Second), len(p))
		problems = append(problems, p...)
		if ctx.Err() != nil {
			break
		}
	}
	r.shutdown()
	problems = append(problems, r.flowProblems(true)...)
	s := r.Report()
	if s.PeakLive > MaxLive {
		problems = append(problems, fmt.Sprintf("%d calls live at once (connectsim's record), over the dialer's cap of %d", s.PeakLive, MaxLive))
	}
	s.Elapsed = time.Since(began)
	slices.Sort(problems)
	return slices.Compact(problems), s
}
