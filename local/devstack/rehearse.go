package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/nyaruka/phonenumbers"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

// RehearsalOptions configure a rehearsal.
type RehearsalOptions struct {
	// Campaign is the definition: a Campaign Launched event (as in events/dialer) or its detail.
	Campaign []byte
	// Recipients is a recipients CSV (shared/recipients' format), for a campaign that reads one
	// from S3 or instead of its inline recipients.
	Recipients []byte
	// Start is the simulated instant the rehearsal starts (default: the campaign's startTime,
	// else now).
	Start time.Time
	// MaxDuration bounds the simulated time (default 14 days).
	MaxDuration time.Duration
	// Seed makes connectsim's call outcomes reproducible.
	Seed int64
	// Log receives the dialer's and connectsim's log lines (default: discarded).
	Log *slog.Logger
}

// Rehearsal is what a rehearsal found.
type Rehearsal struct {
	CampaignID string
	// Adjusted lists what was changed in the definition to run against connectsim.
	Adjusted []string
	Status   campaignstore.Status
	Start    time.Time
	// End is when the campaign finished, or when the rehearsal gave up (Finished false).
	End      time.Time
	Finished bool
	States   map[dialer.State]int
	// NotReached groups the recipients that did not end completed, by state and reason.
	NotReached []ReasonCount
	// CallsByLocalHour counts the calls started in each hour of the callee's local time.
	CallsByLocalHour [24]int
	// Outcomes counts connectsim's simulated result of every call.
	Outcomes map[string]int
	Calls    int
}

// ReasonCount is one group of recipients not reached.
type ReasonCount struct {
	State    dialer.State
	Reason   string
	Count    int
	Examples []string // recipient IDs, never numbers
}

// Rehearse runs a campaign definition against connectsim, dynalite and an in-memory S3, with the
// dialer's real pacing, windows and retry policy, on a simulated clock that moves only while the
// dialer waits (a discrete-event simulation: as fast as the machine allows, and independent of
// its speed). Everything stays on loopback.
func Rehearse(ctx context.Context, o RehearsalOptions) (Rehearsal, error) {
	var r Rehearsal
	if o.MaxDuration <= 0 {
		o.MaxDuration = 14 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	def, err := rehearsalDefinition(o.Campaign, o.Recipients != nil, &r)
	if err != nil {
		return r, err
	}
	r.CampaignID, _ = def["campaignId"].(string)
	if o.Start.IsZero() {
		if s, ok := def["startTime"].(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				o.Start = t
			}
		}
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	o.Start = o.Start.UTC().Truncate(time.Second)
	r.Start = o.Start

	const host = "127.0.0.1"
	port, err := freePort(host)
	if err != nil {
		return r, err
	}
	dyn, err := startDynalite(host, port)
	if err != nil {
		return r, err
	}
	defer dyn.stop()
	ep := endpoints{region: connectsim.DefaultRegion, dynamodb: fmt.Sprintf("http://%s:%d", host, port)}
	db, err := awsclient.NewDynamoDB(ep.awsConfig(), awsclient.DefaultSettings(), ep.dynamoOpt)
	if err != nil {
		return r, err
	}
	if err := createTables(ctx, db); err != nil {
		return r, err
	}

	backend := s3mem.New()
	if err := backend.CreateBucket(RecipientsBucket); err != nil {
		return r, err
	}
	s3URL, stopS3, err := serveLoopback(host, gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	if err != nil {
		return r, err
	}
	defer stopS3()
	ep.s3 = s3URL

	rig := &stepRig{clock: connectsim.NewManualClock(o.Start), events: make(chan []byte, 100000)}
	world := World()
	arn := fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s", world.Region, world.AccountID, world.Instances[0].ID)
	contactRule := DialerContactPattern(arn)
	sim, err := connectsim.New(connectsim.Options{
		World: world, Clock: rig.clock, WallClock: rig.clock.Now, Seed: o.Seed, Logger: o.Log.With("component", "connectsim"),
		OnEvent: func(ev connectsim.Event) {
			b, err := json.Marshal(ev)
			var m map[string]any
			if err != nil || json.Unmarshal(b, &m) != nil || !contactRule.Match(m) {
				return
			}
			rig.pending.Add(1)
			rig.events <- b
		},
	})
	if err != nil {
		return r, err
	}
	defer sim.Close()
	rig.sim = sim
	connectURL, stopConnect, err := serveLoopback(host, sim)
	if err != nil {
		return r, err
	}
	defer stopConnect()
	ep.connect = connectURL

	env := map[string]string{"CAMPAIGNS_TABLE": CampaignsTable, "DO_NOT_CALL_TABLE": DoNotCallTable, "RECIPIENTS_BUCKET": RecipientsBucket, "S3_PATH_STYLE": "true"}
	d, err := buildDialer(env, ep, (*steppedClock)(rig), "rehearsal", o.Log.With("function", FnDialer))
	if err != nil {
		return r, err
	}
	rig.d = d
	stopWorkers := rig.startWorkers(4)
	defer stopWorkers()

	if o.Recipients != nil {
		s3c := s3.NewFromConfig(ep.awsConfig(), ep.s3Opt, func(o *s3.Options) { o.UsePathStyle = true })
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(RecipientsBucket), Key: aws.String("rehearsal/recipients.csv"), Body: bytes.NewReader(o.Recipients)}); err != nil {
			return r, fmt.Errorf("rehearsal: upload the recipients: %w", err)
		}
	}
	detail, err := json.Marshal(def)
	if err != nil {
		return r, err
	}
	if err := rig.send(dialerevents.TypeCampaignLaunched, detail); err != nil {
		return r, fmt.Errorf("rehearsal: launch: %w", err)
	}
	store := campaignstore.New(db, CampaignsTable)
	c, err := store.Campaign(ctx, r.CampaignID)
	if err != nil {
		return r, fmt.Errorf("rehearsal: the dialer did not take the campaign (its log says why: -log): %w", err)
	}
	for c.Status.Active() && rig.clock.Now().Sub(o.Start) < o.MaxDuration {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if err := rig.tick(); err != nil {
			return r, err
		}
		if c, err = store.Campaign(ctx, r.CampaignID); err != nil {
			return r, err
		}
	}
	r.Status, r.End, r.Finished = c.Status, rig.clock.Now(), !c.Status.Active()
	return r, r.collect(ctx, store, c, sim)
}

// rehearsalDefinition reads the definition and points it at connectsim's instance, flow and
// queue; each change is noted.
func rehearsalDefinition(raw []byte, haveCSV bool, r *Rehearsal) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("rehearsal: the campaign file is not a JSON object: %w", err)
	}
	if dt, ok := m["detail-type"]; ok {
		if dt != dialerevents.TypeCampaignLaunched {
			return nil, fmt.Errorf("rehearsal: the campaign file is a %q event, want %q or its detail", dt, dialerevents.TypeCampaignLaunched)
		}
		d, ok := m["detail"].(map[string]any)
		if !ok {
			return nil, errors.New("rehearsal: the event has no detail object")
		}
		m = d
	}
	if id, _ := m["campaignId"].(string); id == "" {
		return nil, errors.New("rehearsal: the campaign has no campaignId")
	}
	set := func(k, v, why string) {
		if old, _ := m[k].(string); old != v {
			m[k] = v
			r.Adjusted = append(r.Adjusted, fmt.Sprintf("%s %s (%s)", k, v, why))
		}
	}
	set("instanceId", connectsim.DefaultInstanceID, "connectsim's instance")
	if mode, _ := m["mode"].(string); mode == "progressive" {
		set("contactFlowId", connectsim.DefaultContactFlowID, "connectsim's queue flow: answered calls wait for its 3 agents")
		set("queueId", connectsim.DefaultQueueID, "connectsim's queue")
	} else {
		set("contactFlowId", AgentlessFlowID, "connectsim's agentless flow: a 45 s message")
		if _, ok := m["sourcePhoneNumber"]; ok {
			set("sourcePhoneNumber", connectsim.DefaultPhoneNumber, "connectsim's number")
		} else {
			set("queueId", connectsim.DefaultQueueID, "connectsim's queue, for its caller ID")
		}
	}
	_, hasObject := m["recipientsObject"]
	switch {
	case haveCSV:
		if _, ok := m["recipients"]; ok {
			delete(m, "recipients")
			r.Adjusted = append(r.Adjusted, "inline recipients replaced by the CSV file")
		}
		m["recipientsObject"] = map[string]string{"bucket": RecipientsBucket, "key": "rehearsal/recipients.csv"}
		if hasObject {
			r.Adjusted = append(r.Adjusted, "recipientsObject: the CSV file instead")
		}
	case hasObject:
		return nil, errors.New("rehearsal: the campaign reads its recipients from S3: pass the CSV file (make rehearse CAMPAIGN=... RECIPIENTS=file.csv)")
	}
	return m, nil
}

func (r *Rehearsal) collect(ctx context.Context, store *campaignstore.Store, c campaignstore.Campaign, sim *connectsim.Sim) error {
	r.States, r.Outcomes = map[dialer.State]int{}, map[string]int{}
	zones := map[string]string{}
	groups := map[[2]string]*ReasonCount{}
	err := store.Recipients(ctx, c.ID, c.Shards, func(rec campaignstore.Recipient) error {
		r.States[rec.State]++
		zones[rec.Phone] = rec.TimeZone
		if rec.State == dialer.StateCompleted {
			return nil
		}
		k := [2]string{string(rec.State), rec.Reason}
		g := groups[k]
		if g == nil {
			g = &ReasonCount{State: rec.State, Reason: rec.Reason}
			groups[k] = g
		}
		g.Count++
		if len(g.Examples) < 3 {
			g.Examples = append(g.Examples, rec.RecipientID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range groups {
		r.NotReached = append(r.NotReached, *g)
	}
	sort.Slice(r.NotReached, func(i, j int) bool {
		a, b := r.NotReached[i], r.NotReached[j]
		return a.Count > b.Count || a.Count == b.Count && a.State+dialer.State(a.Reason) < b.State+dialer.State(b.Reason)
	})
	for _, ct := range sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		r.Calls++
		if ct.Outcome != "" {
			r.Outcomes[ct.Outcome]++
		}
		if loc := calleeZone(ct.CustomerNumber, zones[ct.CustomerNumber]); loc != nil {
			r.CallsByLocalHour[ct.InitiationTimestamp.In(loc).Hour()]++
		}
	}
	return nil
}

// calleeZone is the recipient's own zone, else the first of the number's zones.
func calleeZone(number, zone string) *time.Location {
	if zone == "" {
		if n, err := phonenumbers.Parse(number, ""); err == nil {
			if zs, err := phonenumbers.GetTimezonesForNumber(n); err == nil && len(zs) > 0 {
				zone = zs[0]
			}
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return nil
	}
	return loc
}

// Write prints the report.
func (r Rehearsal) Write(w io.Writer) {
	fmt.Fprintf(w, "rehearsal of campaign %s\n", r.CampaignID)
	for _, a := range r.Adjusted {
		fmt.Fprintf(w, "  adjusted: %s\n", a)
	}
	if r.Finished {
		fmt.Fprintf(w, "\nwould finish %s (%s after the start, %s): %s, %d calls\n", r.End.Format(time.RFC3339), r.End.Sub(r.Start).Round(time.Minute), r.Start.Format(time.RFC3339), r.Status, r.Calls)
	} else {
		fmt.Fprintf(w, "\nNOT finished after %s simulated (until %s): %s, %d calls\n", r.End.Sub(r.Start).Round(time.Minute), r.End.Format(time.RFC3339), r.Status, r.Calls)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nrecipients by state\t\t")
	var states []dialer.State
	for s := range r.States {
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool { return r.States[states[i]] > r.States[states[j]] })
	for _, s := range states {
		fmt.Fprintf(tw, "  %s\t%d\t\n", s, r.States[s])
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\ncalls by callee-local hour")
	for h, n := range r.CallsByLocalHour {
		if n > 0 {
			fmt.Fprintf(w, "  %02d:00  %5d\n", h, n)
		}
	}
	fmt.Fprintln(w, "\nexpected call outcomes (connectsim's call model)")
	var outs []string
	for k := range r.Outcomes {
		outs = append(outs, k)
	}
	sort.Strings(outs)
	for _, k := range outs {
		fmt.Fprintf(w, "  %-16s %5d\n", k, r.Outcomes[k])
	}
	fmt.Fprintln(w, "\nnot reached, and why")
	if len(r.NotReached) == 0 {
		fmt.Fprintln(w, "  everyone was reached")
	}
	for _, g := range r.NotReached {
		fmt.Fprintf(w, "  %5d  %s: %s (e.g. %v)\n", g.Count, g.State, g.Reason, g.Examples)
	}
}

// stepRig drives the dialer as a discrete-event simulation: the clock moves only when the dialer
// sleeps or a tick ends, after every contact event emitted so far was handled.
type stepRig struct {
	clock   *connectsim.ManualClock
	sim     *connectsim.Sim
	d       *outbound.Dialer
	events  chan []byte
	pending sync.WaitGroup
	seq     int
}

func (r *stepRig) startWorkers(n int) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case b := <-r.events:
					// Lambda's asynchronous invocation: the first try and two retries.
					for try := 0; try < 3 && r.d.Handle(ctx, b) != nil; try++ {
					}
					r.pending.Done()
				}
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// idle waits until every contact event emitted so far has been handled.
func (r *stepRig) idle() {
	for i := 0; i < 3; i++ {
		r.sim.Drain(10 * time.Second)
		r.pending.Wait()
	}
}

func (r *stepRig) send(detailType string, detail []byte) error {
	r.seq++
	now := r.clock.Now().UTC().Format(time.RFC3339)
	env, err := json.Marshal(map[string]any{
		"version": "0", "id": "rehearsal-" + strconv.Itoa(r.seq), "detail-type": detailType, "source": dialerevents.Source,
		"account": connectsim.DefaultAccountID, "time": now, "region": connectsim.DefaultRegion, "resources": []string{}, "detail": json.RawMessage(detail),
	})
	if err != nil {
		return err
	}
	return r.d.Handle(context.Background(), env)
}

// tick runs the schedule's tick for the current minute, then moves to the next minute.
func (r *stepRig) tick() error {
	now := r.clock.Now()
	detail, _ := json.Marshal(map[string]string{"scheduledTime": now.UTC().Format(time.RFC3339)})
	if err := r.send(dialerevents.TypeTick, detail); err != nil {
		return fmt.Errorf("rehearsal: tick at %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	r.idle()
	if d := now.Truncate(time.Minute).Add(time.Minute).Sub(r.clock.Now()); d > 0 {
		r.clock.Advance(d)
	}
	r.idle()
	return nil
}

// steppedClock is the rehearsal's outbound.Clock.
type steppedClock stepRig

func (c *steppedClock) Now() time.Time { return c.clock.Now() }

func (c *steppedClock) Sleep(ctx context.Context, d time.Duration) error {
	r := (*stepRig)(c)
	r.idle()
	r.clock.Advance(d)
	r.idle()
	return ctx.Err()
}

// serveLoopback serves h on a free loopback port.
func serveLoopback(host string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
