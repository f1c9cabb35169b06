package main

import (
	"testing"

	"github.com/switchboard-connect/switchboard/functions/internal/linkcheck"
)

// The linker drops the Connect client's unused operations only while nothing in the binary
// turns off its dead-method elimination (a reflect call that can reach any method by name:
// google.golang.org/protobuf before v1.36.12 did under Go 1.26, golang/protobuf#1704). With
// it off, every operation of service/connect stays in the bootstrap: 32 MB instead of 15.
func TestTheBootstrapKeepsOnlyTheConnectOperationsItUses(t *testing.T) {
	b := linkcheck.Link(t, ".")
	if callers := b.ReflectMethodCallers(); len(callers) != 0 {
		t.Errorf("reachable code calls methods chosen at run time, which keeps every method in: %v (go build -ldflags=-dumpdep shows the chain)", callers)
	}
	b.CheckAbsent(t, "the SDK's default configuration chain is not used in Lambda (awsclient.FromEnvironment)", linkcheck.DefaultChain...)
	b.CheckAbsent(t, "the bootstraps are built without HTTP/2 (LAMBDA_TAGS in the Makefile)", "net/http.(*http2Framer)")
	b.CheckClient(t, "service/connect", []string{"GetContactAttributes", "UpdateContactAttributes"}, "StartOutboundVoiceContact")
	b.CheckClient(t, "service/dynamodb", []string{"PutItem"}, "Scan")
}
