// Command contactflow is the Lambda function Amazon Connect flows invoke to read and write
// contact attributes and to record opt-outs (docs/contactflow.md). It only wires: the logic is
// in shared/contactflow.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
)

func main() {
	contactflow.TuneGC(os.Getenv)
	h, _ := awsclient.Main("contactflow", contactflow.FromEnv)
	lambda.Start(h)
}
