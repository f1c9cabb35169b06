// Command contactflow is the Lambda function Amazon Connect flows invoke to read and write
// contact attributes and to record opt-outs (docs/contactflow.md). It only wires: the logic is
// in shared/contactflow.
package main

import (
	"errors"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
)

// gcPercent is the garbage collector's target (GOGC) when the environment sets none. With
// Go's default of 100 and this function's small live heap (about 4 MB), a collection runs every
// hundred or so warm invocations, and the invocations that meet one are the slowest 1 %; at 400
// they are four times rarer and peak RSS stays near 33 MB, far inside Lambda's smallest memory
// size (128 MB). docs/performance.md has the measurements.
const gcPercent = 400

// tuneGC applies gcPercent unless GOGC is set, and returns the percent in force.
func tuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		p := debug.SetGCPercent(100) // read the runtime's value (from GOGC) back
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(gcPercent)
	return gcPercent
}

func main() {
	tuneGC(os.Getenv)
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	awsCfg, err := awsclient.FromEnvironment(os.Getenv)
	if err == nil {
		var h *contactflow.Handler
		if h, err = contactflow.FromEnv(awsclient.Wiring{Getenv: os.Getenv, AWS: awsCfg, Log: log}); err == nil {
			lambda.Start(h)
			return
		}
	} else if _, cerr := contactflow.ConfigFromEnv(os.Getenv); cerr != nil {
		err = errors.Join(cerr, err) // the function's own settings' problems too
	}
	// One line per problem, so the first invocation's log says what to fix.
	for _, line := range strings.Split(err.Error(), "\n") {
		log.Error("contactflow: cannot start", "error", line)
	}
	os.Exit(1)
}
