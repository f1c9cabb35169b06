package main

import (
	"testing"

	"github.com/switchboard-connect/switchboard/functions/internal/linkcheck"
)

// One reachable call of a method chosen at run time (reflect.Value.MethodByName with a variable
// name, as text/template makes) would keep every operation of the Connect, DynamoDB and S3
// clients in the bootstrap. This fails if one comes in.
func TestTheBootstrapKeepsOnlyTheOperationsItUses(t *testing.T) {
	b := linkcheck.Link(t, ".")
	if callers := b.ReflectMethodCallers(); len(callers) != 0 {
		t.Errorf("reachable code calls methods chosen at run time, which keeps every method in: %v (go build -ldflags=-dumpdep shows the chain)", callers)
	}
	b.CheckAbsent(t, "the SDK's default configuration chain is not used in Lambda (awsclient.FromEnvironment)", linkcheck.DefaultChain...)
	b.CheckAbsent(t, "the bootstraps are built without HTTP/2 (LAMBDA_TAGS in the Makefile)", "net/http.(*http2Framer)")
	b.CheckClient(t, "service/connect", []string{"StartOutboundVoiceContact", "StopContact", "GetCurrentMetricData", "DescribeContact"}, "UpdateParticipantAuthentication")
	b.CheckClient(t, "service/dynamodb", []string{"PutItem", "GetItem", "UpdateItem", "Query"}, "Scan")
	b.CheckClient(t, "service/s3", []string{"GetObject"}, "PutObject")
}
