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
	b.CheckShipped(t)
	b.CheckClient(t, "service/connect", []string{"GetContactAttributes", "UpdateContactAttributes"}, "StartOutboundVoiceContact")
	b.CheckClient(t, "service/dynamodb", []string{"PutItem"}, "Scan")
}
