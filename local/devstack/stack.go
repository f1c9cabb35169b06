package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
)

// AgentlessFlowID is the devstack world's agentless flow (a recorded message, then hang up), the
// demo campaign's flow.
const AgentlessFlowID = "55555555-6666-4777-8888-999999999999"

// Ports of the stack's servers; 0 picks a free port.
type Ports struct {
	Connect, Lambda, Events, DynamoDB, S3, Status int
}

// DefaultPorts are the ports `make run` uses. 3001 is `sam local start-lambda`'s.
var DefaultPorts = Ports{Connect: 8910, Lambda: 3001, Events: 8911, DynamoDB: 8912, S3: 8913, Status: 8914}

// Options configure a stack.
type Options struct {
	// Host is the loopback address to listen on (default 127.0.0.1).
	Host  string
	Ports Ports
	// TimeScale is simulated seconds per real second for every part (default 1).
	TimeScale float64
	// Start is the simulated instant the clock starts from (default: now).
	Start time.Time
	// Seed makes connectsim's call outcomes reproducible.
	Seed int64
	// World replaces World() (DefaultWorld with an agentless flow).
	World connectsim.World
	// Log receives the functions' and servers' log lines (default: discarded).
	Log *slog.Logger
}

// World is the devstack's Amazon Connect: connectsim's default world with an agentless flow that
// plays a 45 s message and hangs up.
func World() connectsim.World {
	w := connectsim.DefaultWorld()
	in := &w.Instances[0]
	in.ContactFlows = append(in.ContactFlows, connectsim.ContactFlow{
		ID: AgentlessFlowID, Name: "Appointment reminder (message only)", Type: connectsim.FlowAgentless,
		MessageDuration: connectsim.Duration(45 * time.Second),
	})
	return w
}

// URLs are the stack's endpoints.
type URLs struct {
	Connect, Lambda, Events, DynamoDB, S3 string
	// Status is the status page.
	Status string
}

// Stack is a running devstack. Close stops it.
type Stack struct {
	URLs        URLs
	Region      string
	Account     string
	InstanceID  string
	InstanceARN string
	Clock       connectsim.Clock
	Sim         *connectsim.Sim
	Functions   *Functions
	Bus         *EventBridge
	// DynamoDB is a client of the local DynamoDB, S3Backend the local S3's store.
	DynamoDB  *dynamodb.Client
	S3Backend *s3mem.Backend

	log       *slog.Logger
	timeScale float64
	campaigns campaigns
	sched     *scheduler
	dyn       *dynalite
	servers   []*http.Server
	closeOnce sync.Once
	closeErr  error
}

// Start brings the stack up: every server listening, the tables and the bucket created, the
// functions built, the schedule running. On error, whatever started is stopped again.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if ip := net.ParseIP(o.Host); o.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("devstack: host %q is not a loopback address: the local stack has no authentication and listens on loopback only", o.Host)
	}
	if o.TimeScale == 0 {
		o.TimeScale = 1
	}
	if o.TimeScale < 0 || o.TimeScale > 10000 {
		return nil, fmt.Errorf("devstack: time scale %v: want a number above 0 and at most 10000", o.TimeScale)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	world := o.World
	if len(world.Instances) == 0 {
		world = World()
	}
	st := &Stack{log: o.Log, timeScale: o.TimeScale, Region: world.Region, Account: world.AccountID, InstanceID: world.Instances[0].ID}
	if st.Region == "" {
		st.Region = connectsim.DefaultRegion
	}
	if st.Account == "" {
		st.Account = connectsim.DefaultAccountID
	}
	st.InstanceARN = fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s", st.Region, st.Account, st.InstanceID)
	defer func() {
		if err != nil {
			_ = st.Close()
		}
	}()

	listen := func(port int, what string) (net.Listener, string, error) {
		ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(port)))
		if err != nil {
			return nil, "", fmt.Errorf("devstack: %s port %d: %w (another devstack running? pick other ports with the -*-port flags)", what, port, err)
		}
		return ln, "http://" + ln.Addr().String(), nil
	}
	type server struct {
		ln  net.Listener
		url *string
		h   http.Handler
	}
	var servers []server
	for _, p := range []struct {
		port int
		what string
		url  *string
	}{{o.Ports.Connect, "Connect", &st.URLs.Connect}, {o.Ports.Lambda, "Lambda", &st.URLs.Lambda}, {o.Ports.Events, "EventBridge", &st.URLs.Events}, {o.Ports.S3, "S3", &st.URLs.S3}, {o.Ports.Status, "status page", &st.URLs.Status}} {
		ln, u, err := listen(p.port, p.what)
		if err != nil {
			for _, s := range servers {
				s.ln.Close()
			}
			return nil, err
		}
		*p.url = u
		servers = append(servers, server{ln: ln, url: p.url})
	}
	closeListeners := func() {
		for _, s := range servers {
			s.ln.Close()
		}
	}
	dynPort := o.Ports.DynamoDB
	if dynPort == 0 {
		if dynPort, err = freePort(o.Host); err != nil {
			closeListeners()
			return nil, err
		}
	} else if ln, _, err := listen(dynPort, "DynamoDB"); err != nil {
		closeListeners()
		return nil, err
	} else {
		ln.Close()
	}
	if st.dyn, err = startDynalite(o.Host, dynPort); err != nil {
		closeListeners()
		return nil, err
	}
	st.URLs.DynamoDB = "http://" + net.JoinHostPort(o.Host, strconv.Itoa(dynPort))

	start := o.Start
	if start.IsZero() {
		start = time.Now()
	}
	clock := connectsim.NewScaledClock(start, o.TimeScale)
	st.Clock = clock
	ep := endpoints{region: st.Region, connect: st.URLs.Connect, dynamodb: st.URLs.DynamoDB, s3: st.URLs.S3}
	st.Functions = newFunctions(clock, o.Log, st.Region, st.Account)
	st.Bus = newEventBridge(clock, o.Log, st.Functions, st.Region, st.Account)
	st.Bus.addBus("default", Rule{Name: "DialerContactEventsRule", Pattern: DialerContactPattern(st.InstanceARN), Target: FnDialer})
	st.Bus.addBus(DialerBus, Rule{Name: "DialerControlRule", Pattern: DialerControlPattern(), Target: FnDialer})

	st.Sim, err = connectsim.New(connectsim.Options{
		World: world, Clock: clock, Seed: o.Seed, Logger: o.Log.With("component", "connectsim"),
		// Quotas count simulated seconds, like everything else: at 60x the dialer's 2 calls per
		// simulated second meet connectsim's 2 per simulated second.
		WallClock: clock.Now,
		OnEvent:   st.Bus.onContactEvent,
	})
	if err != nil {
		closeListeners()
		return nil, err
	}

	dsettings := awsclient.DefaultSettings()
	db, err := awsclient.NewDynamoDB(ep.awsConfig(), dsettings, ep.dynamoOpt)
	if err != nil {
		closeListeners()
		return nil, err
	}
	st.DynamoDB = db
	if err := createTables(ctx, db); err != nil {
		closeListeners()
		return nil, err
	}
	st.S3Backend = s3mem.New()
	if err := st.S3Backend.CreateBucket(RecipientsBucket); err != nil {
		closeListeners()
		return nil, err
	}

	if err := st.buildFunctions(ep); err != nil {
		closeListeners()
		return nil, err
	}
	servers[0].h = st.Sim
	servers[1].h = st.Functions
	servers[2].h = st.Bus
	servers[3].h = gofakes3.New(st.S3Backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	servers[4].h = st.statusHandler()
	for _, s := range servers {
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		st.servers = append(st.servers, srv)
		go func(ln net.Listener) { _ = srv.Serve(ln) }(s.ln)
	}
	st.sched = &scheduler{clock: clock, fns: st.Functions, log: o.Log, region: st.Region, account: st.Account}
	st.sched.start()
	return st, nil
}

// Env is each function's environment, as its CDK construct sets it (infra/), with the local
// table and bucket names.
func (st *Stack) Env() map[string]map[string]string {
	return map[string]map[string]string{
		FnContactFlow: {"DO_NOT_CALL_TABLE": DoNotCallTable},
		FnAuthRedirect: {"INSTANCE_ID": st.InstanceID, "AUTH_STATE_TABLE": AuthStateTable,
			// The chat widget's origin: the demo chat page's (http is accepted on loopback only).
			"CHAT_ORIGIN": st.URLs.Status},
		FnDialer: {"CAMPAIGNS_TABLE": CampaignsTable, "DO_NOT_CALL_TABLE": DoNotCallTable, "RECIPIENTS_BUCKET": RecipientsBucket,
			"S3_PATH_STYLE": "true"},
	}
}

func (st *Stack) buildFunctions(ep endpoints) error {
	env := st.Env()
	cf, err := buildContactFlow(env[FnContactFlow], ep, st.log.With("function", FnContactFlow))
	if err != nil {
		return err
	}
	ar, err := buildAuthRedirect(env[FnAuthRedirect], ep, st.log.With("function", FnAuthRedirect))
	if err != nil {
		return err
	}
	d, err := buildDialer(env[FnDialer], ep, dialerClock{st.Clock}, fmt.Sprintf("devstack-%d", os.Getpid()), st.log.With("function", FnDialer))
	if err != nil {
		return err
	}
	st.Functions.add(FnContactFlow, cf)
	st.Functions.add(FnAuthRedirect, authRedirectHandler(ar))
	st.Functions.add(FnDialer, launchWatcher{h: dialerHandler(d), seen: &st.campaigns})
	return nil
}

// Ticks is how many scheduler ticks were sent.
func (st *Stack) Ticks() int { return st.sched.Ticks() }

// Close stops everything: the schedule, the servers, the invocations in progress, connectsim and
// dynalite. The ports are free when it returns.
func (st *Stack) Close() error {
	st.closeOnce.Do(func() {
		if st.sched != nil {
			st.sched.stop()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, s := range st.servers {
			if err := s.Shutdown(ctx); err != nil {
				errs = append(errs, err)
				s.Close()
			}
		}
		if st.Functions != nil {
			st.Functions.close()
		}
		if st.Sim != nil {
			errs = append(errs, st.Sim.Close())
		}
		if st.dyn != nil {
			st.dyn.stop()
		}
		st.closeErr = errors.Join(errs...)
	})
	return st.closeErr
}

// createTables creates the functions' tables, as the CDK app does.
func createTables(ctx context.Context, db *dynamodb.Client) error {
	for _, in := range []*dynamodb.CreateTableInput{campaignstore.CreateTableInput(CampaignsTable), donotcall.CreateTableInput(DoNotCallTable), authstate.CreateTableInput(AuthStateTable)} {
		if _, err := db.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("devstack: create table %s: %w", *in.TableName, err)
		}
	}
	return nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
