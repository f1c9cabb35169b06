// Command noopfn is a Lambda function that does nothing: it answers {"result":"ok"} to any event.
// bench/cmd/flowbench -fn noop measures it, with bench/baselines/node/noop.mjs, to show the floor
// the Runtime API exchange itself puts under every warm invocation of the real functions.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (map[string]string, error) {
		return map[string]string{"result": "ok"}, nil
	})
}
