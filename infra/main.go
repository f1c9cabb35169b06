// Command infra is Switchboard's CDK app: `cdk synth` and `cdk deploy` run it (see cdk.json)
// to build the one CloudFormation stack that holds every Switchboard capability for one
// Amazon Connect instance. Settings come from CDK context; docs/infra.md lists them.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	os.Exit(run())
}

// run is main without os.Exit, so that jsii.Close runs before the process ends.
func run() int {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	if _, err := buildApp(app); err != nil {
		// One line per problem and no stack trace: the deployer only needs to fix a -c flag.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "switchboard:", line)
		}
		return 1
	}
	app.Synth(nil)
	return 0
}

// buildApp reads the settings from app's context and adds the Switchboard stack to app.
func buildApp(app awscdk.App) (awscdk.Stack, error) {
	settings, err := LoadSettings(appContext(app))
	if err != nil {
		return nil, err
	}
	return NewSwitchboardStack(app, settings.StackName, &SwitchboardStackProps{Settings: settings}), nil
}

// appContext returns all of app's context (cdk.json, -c flags, CLI-provided keys) as a map.
func appContext(app awscdk.App) map[string]any {
	all, _ := app.Node().GetAllContext(nil).(map[string]any)
	return all
}
