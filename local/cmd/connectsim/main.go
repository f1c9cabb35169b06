// Command connectsim runs the local Amazon Connect emulator in the foreground.
//
//	go run ./local/cmd/connectsim -addr 127.0.0.1:8910 -time-scale 10
//
// Point any AWS SDK or the AWS CLI at it with AWS_ENDPOINT_URL_CONNECT (or --endpoint-url).
// docs/connectsim.md describes the API, the admin endpoints and the world file.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "connectsim:", err)
		os.Exit(exitCode(err))
	}
}
