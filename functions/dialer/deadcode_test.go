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
	b.CheckShipped(t)
	b.CheckClient(t, "service/connect", []string{"StartOutboundVoiceContact", "StopContact", "GetCurrentMetricData", "DescribeContact"}, "UpdateParticipantAuthentication")
	b.CheckClient(t, "service/dynamodb", []string{"PutItem", "GetItem", "UpdateItem", "Query"}, "Scan")
	b.CheckClient(t, "service/s3", []string{"GetObject"}, "PutObject")
}
