package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/switchboard-connect/switchboard/local/devstack"
)

// runRehearse is `make rehearse`: one campaign definition against connectsim at the speed of a
// discrete-event simulation, and a report.
func runRehearse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devstack rehearse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	campaign := fs.String("campaign", "", "campaign `file`: a Campaign Launched event or its detail (JSON)")
	recipients := fs.String("recipients", "", "recipients CSV `file` (optional: for a campaign that reads S3, or instead of its inline recipients)")
	start := fs.String("start", "", "simulated `instant` to start from, RFC 3339 (default: the campaign's startTime, else now)")
	maxDuration := fs.Duration("max-duration", 14*24*time.Hour, "simulated `duration` after which the rehearsal gives up")
	seed := fs.Int64("seed", 1, "seed of connectsim's call outcomes")
	logFile := fs.String("log", "", "`file` for the dialer's and connectsim's JSON log lines (default: none)")
	if err := parseSubcommandFlags(fs, args); err != nil {
		return err
	}
	if *campaign == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: want -campaign <file> [-recipients <file.csv>] (make rehearse CAMPAIGN=file.json [RECIPIENTS=file.csv])", errUsage)
	}
	if *maxDuration < time.Hour || *maxDuration > 90*24*time.Hour {
		return fmt.Errorf("%w: -max-duration %v: want 1h to 2160h", errUsage, *maxDuration)
	}
	o := devstack.RehearsalOptions{MaxDuration: *maxDuration, Seed: *seed}
	var err error
	if o.Campaign, err = os.ReadFile(*campaign); err != nil {
		return fmt.Errorf("%w: -campaign: %v", errUsage, err)
	}
	if *recipients != "" {
		if o.Recipients, err = os.ReadFile(*recipients); err != nil {
			return fmt.Errorf("%w: -recipients: %v", errUsage, err)
		}
	}
	if *start != "" {
		if o.Start, err = time.Parse(time.RFC3339, *start); err != nil {
			return fmt.Errorf("%w: -start %q: want an RFC 3339 instant", errUsage, *start)
		}
	}
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("-log: %w", err)
		}
		defer f.Close()
		o.Log = slog.New(slog.NewJSONHandler(f, nil))
	}
	wall := time.Now()
	r, err := devstack.Rehearse(ctx, o)
	if err != nil {
		return err
	}
	r.Write(stdout)
	fmt.Fprintf(stdout, "\n(%.1fs real; nothing left this machine)\n", time.Since(wall).Seconds())
	if !r.Finished {
		return fmt.Errorf("the campaign did not finish within -max-duration %v", *maxDuration)
	}
	return nil
}
