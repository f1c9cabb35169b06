// Command devstack runs the whole of Switchboard on loopback (`make run`): connectsim, dynalite,
// gofakes3, every function behind a Lambda Invoke API, an EventBridge PutEvents endpoint, the
// dialer's minute schedule, and a demo campaign, all on connectsim's simulated clock.
//
//	go run ./local/cmd/devstack                 # the stack and the demo, until Ctrl-C
//	go run ./local/cmd/devstack -headless       # the demo, its summary, then exit
//	go run ./local/cmd/devstack invoke -fn contactflow -event events/contactflow/get-keys.json
//	go run ./local/cmd/devstack rehearse -campaign events/dialer/campaign-launched.json
//
// docs/devstack.md describes every endpoint and flag.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(exitCode(err))
	}
}
