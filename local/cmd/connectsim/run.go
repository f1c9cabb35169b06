package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"text/template"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// config is what the flags choose.
type config struct {
	addr        string
	worldFile   string
	timeScale   float64
	seed        int64
	subscribers []string
	logLevel    slog.Level
	publicURL   string
	noThrottle  bool
	manual      bool
	delivery    connectsim.DeliveryOptions
	start       time.Time
}

// errUsage marks a command-line mistake: exit status 2, as the flag package does.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("connectsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8910", "`host:port` to listen on (port 0 picks a free one)")
	fs.StringVar(&c.worldFile, "config", "", "JSON world `file` (instances, flows, queues, numbers, agents, quotas, call model); default: the built-in world")
	fs.Float64Var(&c.timeScale, "time-scale", 1, "simulated seconds per real second for call ringing, talk and after-contact work")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the call outcome model (same seed, same outcomes)")
	fs.Var((*stringList)(&c.subscribers), "subscriber", "`URL` that receives every contact event as an HTTP POST of the EventBridge envelope (repeatable)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.publicURL, "public-url", "", "base `URL` put into authentication URLs (default: from the request's Host header)")
	fs.BoolVar(&c.noThrottle, "no-throttle", false, "turn the request-rate quotas off (benchmarks)")
	fs.Float64Var(&c.delivery.LossProbability, "event-loss", 0, "`probability` that a contact event is lost (best-effort delivery); overrides the world file")
	fs.Float64Var(&c.delivery.DuplicateProbability, "event-duplicate", 0, "`probability` that a contact event is delivered twice")
	fs.Float64Var(&c.delivery.ReorderProbability, "event-reorder", 0, "`probability` that a contact event swaps places with the next one")
	fs.Float64Var(&c.delivery.DelayProbability, "event-delay", 0, "`probability` that a contact event is held back behind later ones")
	fs.DurationVar(&c.delivery.MaxDelay, "event-max-delay", 0, "longest wall-clock `duration` a delayed event is held back (default 1s)")
	start := fs.String("start", "", "simulated `instant` the clock starts from, RFC 3339 (e.g. 2027-03-13T08:00:00-05:00); overrides the world file's start (default: now)")
	fs.BoolVar(&c.manual, "manual-clock", false, "simulated time stands still until POST /_connectsim/advance moves it (scripted tests in any language)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("%w: -log-level %q: want debug, info, warn or error", errUsage, *level)
	}
	if c.timeScale <= 0 || c.timeScale > 10000 {
		return c, fmt.Errorf("%w: -time-scale %v: want a number above 0 and at most 10000", errUsage, c.timeScale)
	}
	for name, p := range map[string]float64{"-event-loss": c.delivery.LossProbability, "-event-duplicate": c.delivery.DuplicateProbability,
		"-event-reorder": c.delivery.ReorderProbability, "-event-delay": c.delivery.DelayProbability} {
		if p < 0 || p > 1 {
			return c, fmt.Errorf("%w: %s %v: want a probability from 0 to 1", errUsage, name, p)
		}
	}
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return c, fmt.Errorf("%w: -start %q: want an RFC 3339 instant like 2027-03-13T08:00:00-05:00", errUsage, *start)
		}
		c.start = t
	}
	if c.delivery.MaxDelay < 0 {
		return c, fmt.Errorf("%w: -event-max-delay %v must not be negative", errUsage, c.delivery.MaxDelay)
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, fmt.Errorf("%w: -addr %q: want host:port, e.g. 127.0.0.1:8910", errUsage, c.addr)
	}
	return c, nil
}

// run starts connectsim and serves until ctx is done. ready, when not nil, receives the base URL
// once the listener accepts connections.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))

	opts := connectsim.Options{
		TimeScale:         c.timeScale,
		Seed:              c.seed,
		Subscribers:       c.subscribers,
		Logger:            logger,
		PublicURL:         c.publicURL,
		DisableThrottling: c.noThrottle,
		Delivery:          c.delivery,
		Start:             c.start,
	}
	if c.worldFile != "" {
		if opts.World, err = connectsim.LoadWorld(c.worldFile); err != nil {
			return err
		}
	}
	if c.manual {
		opts.Clock = connectsim.NewManualClock(connectsim.StartInstant(c.start, opts.World).Truncate(time.Second))
	}
	sim, err := connectsim.New(opts)
	if err != nil {
		return err
	}
	defer sim.Close()

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another connectsim running? choose another port with -addr)", c.addr, err)
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if err := writeBanner(stdout, base, sim.World(), c.manual); err != nil {
		return err
	}
	if ready != nil {
		ready <- base
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "connectsim: stopped")
	return nil
}

var banner = template.Must(template.New("banner").Parse(`connectsim: local Amazon Connect listening on {{.URL}}
  region {{.World.Region}}, account {{.World.AccountID}}
{{- range .World.Instances}}
  instance      {{.ID}}{{if .Alias}} ({{.Alias}}){{end}}
{{- range .ContactFlows}}
    flow        {{.ID}}{{if .Name}} ({{.Name}}){{end}}
{{- end}}
{{- range .Queues}}
    queue       {{.ID}}{{if .Name}} ({{.Name}}){{end}}
{{- end}}
{{- range .PhoneNumbers}}
    number      {{.}}
{{- end}}
    agents      {{len .Agents}}, at most {{.MaxConcurrentCalls}} concurrent calls{{if .RefuseCampaignCalls}}, campaign calls refused{{end}}
    users       {{len .Users}} ({{.IdentityManagementType}}), {{len .RoutingProfiles}} routing and {{len .SecurityProfiles}} security profiles
{{- end}}
  admin API     {{.URL}}/_connectsim/contacts  {{.URL}}/_connectsim/stats
{{- if .Manual}}
  clock         manual: curl -X POST {{.URL}}/_connectsim/advance -d '{"duration":"30s"}'
{{- end}}

Point an SDK at it with AWS_ENDPOINT_URL_CONNECT={{.URL}} (any credentials work). Try it:

  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION={{.World.Region}} AWS_DEFAULT_REGION={{.World.Region}}
  aws connect start-outbound-voice-contact --endpoint-url {{.URL}} \
    --instance-id {{.Instance.ID}} \
    --contact-flow-id {{.Flow}} \
    {{if .Queue}}--queue-id {{.Queue}}{{else}}--source-phone-number {{.Source}}{{end}} \
    --destination-phone-number +15555550123
  curl -s {{.URL}}/_connectsim/contacts

Press Ctrl-C to stop.
`))

func writeBanner(w io.Writer, base string, world connectsim.World, manual bool) error {
	data := struct {
		URL         string
		World       connectsim.World
		Instance    connectsim.Instance
		Flow, Queue string
		Source      string
		Manual      bool
	}{URL: base, World: world, Manual: manual}
	if len(world.Instances) > 0 {
		data.Instance = world.Instances[0]
		if len(data.Instance.ContactFlows) > 0 {
			data.Flow = data.Instance.ContactFlows[0].ID
		}
		if len(data.Instance.Queues) > 0 {
			data.Queue = data.Instance.Queues[0].ID
		}
		if len(data.Instance.PhoneNumbers) > 0 {
			data.Source = data.Instance.PhoneNumbers[0]
		}
	}
	return banner.Execute(w, data)
}
