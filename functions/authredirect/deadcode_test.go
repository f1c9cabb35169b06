package main

import (
	"testing"

	"github.com/switchboard-connect/switchboard/functions/internal/linkcheck"
)

// The pages used to be executed by html/template, whose field lookup (text/template's
// reflect.Value.MethodByName with a run-time name) turned off the linker's removal of unused
// methods: every operation of the Connect and DynamoDB clients stayed in, a 29 MB bootstrap
// (11 MB without). The pages are now filled without executing a template
// (shared/authredirect/pagefill.go); this fails if anything brings such a lookup back.
func TestTheBootstrapKeepsOnlyTheOperationsItUses(t *testing.T) {
	b := linkcheck.Link(t, ".")
	b.CheckShipped(t)
	b.CheckAbsent(t, "the pages are filled without executing a template", "text/template", "html/template")
	b.CheckClient(t, "service/connect", []string{"UpdateParticipantAuthentication"}, "StartOutboundVoiceContact")
	b.CheckClient(t, "service/dynamodb", []string{"PutItem", "GetItem", "DeleteItem"}, "Scan")
}
