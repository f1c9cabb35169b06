package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
)

// BenchmarkWarmUpdate is one warm `update` invocation (update.json: two attributes) through the
// Lambda handler: decode, the 32 KB check against the event's own attributes, one
// UpdateContactAttributes (real SDK, SigV4, HTTP over loopback to an in-process connectsim),
// encode, one JSON log line (discarded).
// connectsim's quota is off so the figure is the function's, not the emulated throttle's; its
// server-side work runs in the same process and is included. docs/performance.md has results.
func BenchmarkWarmUpdate(b *testing.B) {
	sim := simtest.Start(b, connectsim.Options{DisableThrottling: true})
	env := map[string]string{contactflow.EnvDoNotCallTable: tableName}
	h, err := contactflow.FromEnv(awsclient.Wiring{
		Getenv: func(k string) string { return env[k] },
		AWS:    sim.AWSConfig(),
		Log:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
		// An update never reaches DynamoDB; the endpoint only has to be local.
		DynamoDB: []func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:1") }},
	})
	if err != nil {
		b.Fatal(err)
	}
	fn := lambda.NewHandler(h)
	c, err := sim.CreateContact(connectsim.NewContact{InstanceID: connectsim.DefaultInstanceID, CustomerNumber: "+12025550123"})
	if err != nil {
		b.Fatal(err)
	}
	payload := sample(b, "update.json", c)
	ctx := context.Background()

	invoke := func() {
		out, err := fn.Invoke(ctx, payload)
		if err != nil {
			b.Fatal(err)
		}
		var resp map[string]string
		if err := json.Unmarshal(out, &resp); err != nil || resp[contactflow.RespResult] != contactflow.ResultOK {
			b.Fatalf("response %s: %v", out, err)
		}
	}
	invoke() // warm: connections, credentials, endpoint resolution

	b.ReportAllocs()
	for b.Loop() {
		invoke()
	}
}
