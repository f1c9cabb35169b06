// Command dialer is the outbound dialer's Lambda function: scheduler ticks, campaign control
// events and Amazon Connect contact events, all handled by shared/outbound (docs/dialer.md).
// It only wires.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

func main() {
	d, _ := awsclient.Main("dialer", outbound.FromLambdaEnv)
	lambda.Start(d.Handle)
}
