package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/lambdaruntime"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// TestCrashesNeverDuplicateNorLose runs the dialer's real bootstrap under a Lambda Runtime API,
// kills it (SIGKILL) at random points while it ticks, dials and settles, and starts it again, as
// Lambda does after a crash (the interrupted invocation is delivered again). At the end every
// recipient is in a final state, no ClientToken was used for two contacts, and no recipient has
// more calls than attempts.
func TestCrashesNeverDuplicateNorLose(t *testing.T) {
	if testing.Short() {
		t.Skip("process crash test")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := lambdaruntime.Build("./functions/dialer", bin); err != nil {
		t.Fatal(err)
	}
	db := dynalitetest.Start(t)
	db.CreateTable(t, campaignstore.CreateTableInput("campaigns"))
	db.CreateTable(t, donotcall.CreateTableInput("dnc"))

	var invocations = make(chan []byte, 10000)
	events := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		invocations <- b
		w.WriteHeader(http.StatusOK)
	}))
	defer events.Close()
	world := connectsim.DefaultWorld()
	world.Calls.RingMin, world.Calls.RingMax = connectsim.Duration(500*time.Millisecond), connectsim.Duration(2*time.Second)
	world.Calls.TalkMin, world.Calls.TalkMax = connectsim.Duration(time.Second), connectsim.Duration(4*time.Second)
	world.Calls.FlowDelay, world.Calls.AfterContactWork = connectsim.Duration(100*time.Millisecond), connectsim.Duration(500*time.Millisecond)
	sim := simtest.Start(t, connectsim.Options{World: world, TimeScale: 1, Seed: 3, Subscribers: []string{events.URL}})

	rt, err := lambdaruntime.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	baseEnv := append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+rt.Addr, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_CONNECT="+sim.URL, "AWS_ENDPOINT_URL_DYNAMODB="+db.URL,
		"CAMPAIGNS_TABLE=campaigns", "DO_NOT_CALL_TABLE=dnc", "TICK_BUDGET=5s", "DIALER_LEASE_TTL=2s", "DIALER_WATCHDOG_AFTER=4s", "DIALER_QUIET_FOR=2s",
		// The test runs on the real clock at whatever hour CI runs it, and calls only connectsim's
		// fictional numbers: legal hours (tested in shared/callwindow and shared/outbound) off.
		"DIALER_LEGAL_HOURS="+callwindow.LegalHoursOff,
	)
	var mu sync.Mutex
	var proc *exec.Cmd
	starts := 0
	startProc := func() {
		mu.Lock()
		defer mu.Unlock()
		starts++
		proc = exec.Command(bin)
		proc.Env = append(baseEnv, fmt.Sprintf("AWS_LAMBDA_LOG_STREAM_NAME=stream-%d", starts))
		proc.Stdout, proc.Stderr = io.Discard, io.Discard
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
	}
	kill := func() {
		mu.Lock()
		defer mu.Unlock()
		proc.Process.Kill()
		proc.Wait()
	}
	startProc()
	defer kill()

	recips := []map[string]any{}
	for i := 0; i < 40; i++ {
		recips = append(recips, map[string]any{"recipientId": fmt.Sprintf("r%02d", i), "phone": fmt.Sprintf("+1202555%04d", i)})
	}
	allDay := map[string]any{}
	for _, d := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
		allDay[d] = []map[string]string{{"start": "00:00", "end": "24:00"}}
	}
	launch, _ := json.Marshal(map[string]any{
		"version": "0", "id": "launch-1", "detail-type": "Campaign Launched", "source": "switchboard", "account": "123456789012",
		"time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{},
		"detail": map[string]any{
			"campaignId": "crash", "instanceId": connectsim.DefaultInstanceID, "contactFlowId": connectsim.DefaultContactFlowID,
			"queueId": connectsim.DefaultQueueID, "mode": "agentless", "recipients": recips, "retry": map[string]any{},
			"callingWindows": map[string]any{"weekly": allDay, "enforceUSCallingHours": false},
		},
	})
	tick := func() []byte {
		b, _ := json.Marshal(map[string]any{"version": "0", "id": "tick", "detail-type": "Dialer Tick", "source": "switchboard", "account": "123456789012",
			"time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{}, "detail": map[string]any{"scheduledTime": time.Now().UTC().Format(time.RFC3339)}})
		return b
	}
	invocations <- launch

	// Kill the process at random moments, 15 times, while the driver invokes it; then let it run.
	rng := rand.New(rand.NewSource(11))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	killed := make(chan struct{}, 1)
	go func() {
		for i := 0; i < 15 && ctx.Err() == nil; i++ {
			time.Sleep(time.Duration(200+rng.Intn(1800)) * time.Millisecond)
			kill()
			startProc()
		}
		killed <- struct{}{}
	}()
	store := campaignstore.New(db.Client(), "campaigns")
	done := false
	kills := false
	lastTick := time.Time{}
	retried := 0
	for !done && ctx.Err() == nil {
		var payload []byte
		select {
		case payload = <-invocations:
		default:
			if time.Since(lastTick) > 2*time.Second {
				payload, lastTick = tick(), time.Now()
			} else {
				time.Sleep(50 * time.Millisecond)
				continue
			}
		}
		// An invocation interrupted by a kill is delivered again, up to twice (Lambda's retries
		// of an asynchronous invocation).
		for try := 0; try < 3; try++ {
			ictx, icancel := context.WithTimeout(ctx, 20*time.Second)
			t0 := time.Now()
			res, err := rt.Invoke(ictx, payload, 20*time.Second)
			icancel()
			if os.Getenv("CRASH_DEBUG") != "" {
				t.Logf("invoke %.40s: %v in %v, %s%s", payload, err, time.Since(t0), res.Payload, res.Error)
			}
			if err == nil {
				break
			}
			retried++
		}
		select {
		case <-killed:
			kills = true
		default:
		}
		if kills {
			c, err := store.Campaign(context.Background(), "crash")
			done = err == nil && !c.Status.Active()
		}
	}
	if !done {
		c, _ := store.Campaign(context.Background(), "crash")
		t.Fatalf("campaign still %s after %d process starts", c.Status, starts)
	}

	attempts := map[string]int{}
	states := map[dialer.State]int{}
	c, _ := store.Campaign(context.Background(), "crash")
	err = store.Recipients(context.Background(), "crash", c.Shards, func(r campaignstore.Recipient) error {
		if !r.State.Final() || r.Reason == "" {
			t.Errorf("%s: %s (%q)", r.RecipientID, r.State, r.Reason)
		}
		attempts[r.Phone] = r.Attempt
		if os.Getenv("CRASH_DEBUG") != "" {
			t.Logf("%s %s %s", r.RecipientID, r.State, r.Reason)
		}
		states[r.State]++
		return nil
	})
	if err != nil || len(attempts) != 40 {
		t.Fatalf("%d recipients: %v", len(attempts), err)
	}
	tokens := map[string]bool{}
	perNumber := map[string]int{}
	for _, ct := range sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		if tokens[ct.ClientToken] {
			t.Errorf("ClientToken %s used for two contacts", ct.ClientToken)
		}
		tokens[ct.ClientToken] = true
		perNumber[ct.CustomerNumber]++
	}
	for number, n := range perNumber {
		if n > attempts[number] {
			t.Errorf("%s: %d calls for %d attempts", phone.Mask(number), n, attempts[number])
		}
	}
	t.Logf("%d process starts, %d invocations redelivered, %d calls, states %v", starts, retried, len(tokens), states)
}
