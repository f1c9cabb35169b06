package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"golang.org/x/term"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/devstack"
)

// errUsage marks a command-line mistake: exit status 2, as the flag package does.
var errUsage = errors.New("usage")

// parseSubcommandFlags parses a command's flags: -h as flag.ErrHelp, anything else wrong as errUsage.
func parseSubcommandFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return err
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type config struct {
	opts      devstack.Options
	noDemo    bool
	headless  bool
	logFile   string
	logLevel  slog.Level
	demo      devstack.DemoOptions
	startFlag string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{opts: devstack.Options{Ports: devstack.DefaultPorts}}
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.opts.Host, "host", "127.0.0.1", "loopback `address` every server listens on")
	fs.IntVar(&c.opts.Ports.Connect, "connect-port", devstack.DefaultPorts.Connect, "`port` of connectsim, the Amazon Connect API (0: a free one)")
	fs.IntVar(&c.opts.Ports.Lambda, "lambda-port", devstack.DefaultPorts.Lambda, "`port` of the Lambda Invoke API")
	fs.IntVar(&c.opts.Ports.Events, "events-port", devstack.DefaultPorts.Events, "`port` of EventBridge PutEvents")
	fs.IntVar(&c.opts.Ports.DynamoDB, "dynamodb-port", devstack.DefaultPorts.DynamoDB, "`port` of dynalite, the DynamoDB API")
	fs.IntVar(&c.opts.Ports.S3, "s3-port", devstack.DefaultPorts.S3, "`port` of gofakes3, the S3 API")
	fs.IntVar(&c.opts.Ports.Status, "status-port", devstack.DefaultPorts.Status, "`port` of the status page")
	fs.Float64Var(&c.opts.TimeScale, "time-scale", 60, "simulated seconds per real second, for every part (1: real time)")
	fs.Int64Var(&c.opts.Seed, "seed", 1, "seed of the call outcomes and of the demo's do-not-call list")
	fs.StringVar(&c.startFlag, "start", "", "simulated `instant` to start from, RFC 3339 (default: "+devstack.DemoStart.Format(time.RFC3339)+" with the demo, now without)")
	fs.BoolVar(&c.noDemo, "no-demo", false, "start the stack without the demo campaign")
	fs.BoolVar(&c.headless, "headless", false, "run the demo without a progress bar, print its summary and exit (tests, CI)")
	fs.IntVar(&c.demo.Recipients, "demo-recipients", 300, "recipients of the demo campaign")
	fs.DurationVar(&c.demo.Duration, "demo-duration", 2*time.Hour, "simulated `duration` of the demo campaign: recipients not reached by then end expired")
	fs.StringVar(&c.logFile, "log", filepath.Join(".scratch", "devstack.log"), "`file` that receives the functions' and servers' JSON log lines (- for stderr)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parseSubcommandFlags(fs, args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("%w: -log-level %q: want debug, info, warn or error", errUsage, *level)
	}
	if c.opts.TimeScale <= 0 || c.opts.TimeScale > 10000 {
		return c, fmt.Errorf("%w: -time-scale %v: want a number above 0 and at most 10000", errUsage, c.opts.TimeScale)
	}
	for name, p := range map[string]int{"-connect-port": c.opts.Ports.Connect, "-lambda-port": c.opts.Ports.Lambda, "-events-port": c.opts.Ports.Events,
		"-dynamodb-port": c.opts.Ports.DynamoDB, "-s3-port": c.opts.Ports.S3, "-status-port": c.opts.Ports.Status} {
		if p < 0 || p > 65535 {
			return c, fmt.Errorf("%w: %s %d: want 0-65535", errUsage, name, p)
		}
	}
	if c.demo.Recipients < 1 || c.demo.Recipients > 5000 {
		return c, fmt.Errorf("%w: -demo-recipients %d: want 1-5000", errUsage, c.demo.Recipients)
	}
	if c.demo.Duration < 10*time.Minute || c.demo.Duration > 24*time.Hour {
		return c, fmt.Errorf("%w: -demo-duration %v: want 10m-24h", errUsage, c.demo.Duration)
	}
	if c.headless && c.noDemo {
		return c, fmt.Errorf("%w: -headless runs the demo and exits: it cannot go with -no-demo", errUsage)
	}
	switch {
	case c.startFlag != "":
		t, err := time.Parse(time.RFC3339, c.startFlag)
		if err != nil {
			return c, fmt.Errorf("%w: -start %q: want an RFC 3339 instant like 2027-03-10T18:00:00Z", errUsage, c.startFlag)
		}
		c.opts.Start = t
	case !c.noDemo:
		c.opts.Start = devstack.DemoStart
	}
	c.demo.Seed = c.opts.Seed
	return c, nil
}

// run starts the stack and serves until ctx ends (or, headless, until the demo's summary).
// ready, when not nil, receives the stack once it is up.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- *devstack.Stack) error {
	if len(args) > 0 && args[0] == "invoke" {
		return runInvoke(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "rehearse" {
		return runRehearse(ctx, args[1:], stdout, stderr)
	}
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logOut := stderr
	if c.logFile != "-" {
		if err := os.MkdirAll(filepath.Dir(c.logFile), 0o755); err != nil {
			return fmt.Errorf("-log %s: %w", c.logFile, err)
		}
		f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("-log %s: %w", c.logFile, err)
		}
		defer f.Close()
		logOut = f
	}
	c.opts.Log = slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: c.logLevel}))
	st, err := devstack.Start(ctx, c.opts)
	if err != nil {
		return err
	}
	defer func() {
		_ = st.Close()
		fmt.Fprintln(stdout, "devstack: stopped")
	}()
	if err := writeBanner(stdout, st, c); err != nil {
		return err
	}
	if ready != nil {
		ready <- st
	}
	if !c.noDemo {
		c.demo.Out = stdout
		c.demo.Bar = !c.headless && isTerminal(stdout)
		_, err := devstack.RunDemo(ctx, st, c.demo)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil || c.headless {
			return err
		}
		fmt.Fprintln(stdout, "\nThe stack keeps running: try the commands above. Press Ctrl-C to stop.")
	}
	<-ctx.Done()
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

var banner = template.Must(template.New("banner").Parse(`Switchboard devstack: the whole system on loopback, on one simulated clock
  clock         {{.Now}} (simulated), {{.Scale}}x real time{{if .LogFile}}; logs in {{.LogFile}}{{end}}

  Connect       {{.URLs.Connect}}   connectsim: instance {{.Instance}}
  Lambda        {{.URLs.Lambda}}   Invoke API for {{.Functions}}
  EventBridge   {{.URLs.Events}}   PutEvents; buses default (contact events) and {{.Bus}} (control events)
  DynamoDB      {{.URLs.DynamoDB}}   dynalite: tables {{.Tables}}
  S3            {{.URLs.S3}}   gofakes3 (path-style): bucket {{.Bucket}}
  schedule      the dialer's tick every simulated minute
  status page   {{.URLs.Status}}/   campaigns, calls per minute, outcomes, agents, recent calls ({{.URLs.Status}}/status.json)
  chat sign-in  {{.URLs.Status}}/chat   a chat's customer authentication popup through the authredirect function

Any credentials work. Try it (from the repository):

  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION={{.Region}} AWS_DEFAULT_REGION={{.Region}}
  aws lambda invoke --endpoint-url {{.URLs.Lambda}} --function-name contactflow \
    --payload fileb://events/contactflow/optout.json response.json && cat response.json
  aws events put-events --endpoint-url {{.URLs.Events}} \
    --entries '[{"EventBusName":"{{.Bus}}","Source":"switchboard","DetailType":"Call Requested","Detail":"{\"campaignId\":\"{{.Campaign}}\",\"requestId\":\"cli-1\",\"phone\":\"+12125550199\"}"}]'
  aws dynamodb scan --endpoint-url {{.URLs.DynamoDB}} --table-name {{.CampaignsTable}} --max-items 3
  aws s3api list-objects-v2 --endpoint-url {{.URLs.S3}} --bucket {{.Bucket}}
  aws connect start-outbound-voice-contact --endpoint-url {{.URLs.Connect}} --instance-id {{.Instance}} \
    --contact-flow-id {{.Flow}} --queue-id {{.Queue}} --destination-phone-number +12125550123
  curl -s {{.URLs.Connect}}/_connectsim/contacts
  make invoke FN=authredirect EVENT=events/authredirect/malformed.json
{{if .Headless}}
Running the demo headless: the stack stops after its summary.
{{else}}
Press Ctrl-C to stop.
{{end}}
`))

func writeBanner(w io.Writer, st *devstack.Stack, c config) error {
	campaign := "<campaign id>"
	if !c.noDemo {
		campaign = devstack.DemoCampaignID
	}
	logFile := c.logFile
	if logFile == "-" {
		logFile = ""
	}
	return banner.Execute(w, map[string]any{
		"Now": st.Clock.Now().UTC().Format("Mon 2006-01-02 15:04 MST"), "Scale": c.opts.TimeScale, "LogFile": logFile,
		"URLs": st.URLs, "Instance": st.InstanceID, "Functions": strings.Join(st.Functions.Names(), ", "),
		"Bus": devstack.DialerBus, "Tables": strings.Join([]string{devstack.CampaignsTable, devstack.DoNotCallTable, devstack.AuthStateTable}, ", "),
		"CampaignsTable": devstack.CampaignsTable, "Bucket": devstack.RecipientsBucket, "Region": st.Region,
		"Campaign": campaign, "Flow": devstack.AgentlessFlowID, "Queue": connectsim.DefaultQueueID, "Headless": c.headless,
	})
}
