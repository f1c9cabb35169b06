package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
)

// eventWithAttributes is event with Details.ContactData.Attributes set, as Connect sends it.
func eventWithAttributes(t *testing.T, c connectsim.ContactView, attrs map[string]string, params map[string]any) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event(c, params), &ev); err != nil {
		t.Fatal(err)
	}
	ev["Details"].(map[string]any)["ContactData"].(map[string]any)["Attributes"] = attrs
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An update checks the 32 KB budget against the event's attributes: one Connect call when they
// fit, and ATTRIBUTES_TOO_LARGE still when they are stale and Connect (connectsim, which
// enforces the limit) refuses the write.
func TestUpdateUsesTheEventsAttributesForTheBudget(t *testing.T) {
	f := start(t, nil, connectsim.Options{})
	c := f.contact(t, map[string]string{"existing": "1"})
	wantOK(t, f.invoke(t, eventWithAttributes(t, c, map[string]string{"existing": "1"}, map[string]any{"a": "1"})), map[string]string{"count": "1"})
	reqs := f.sim.Stats().Requests
	if len(reqs[connectsim.OpGetContactAttributes]) != 0 || reqs[connectsim.OpUpdateContactAttributes]["ok"] != 1 {
		t.Fatalf("requests %v, want one UpdateContactAttributes and no GetContactAttributes", reqs)
	}

	// Another writer filled the contact after Connect built the event.
	stale := f.contact(t, map[string]string{"big": strings.Repeat("x", 30000)})
	resp := f.invoke(t, eventWithAttributes(t, stale, map[string]string{}, map[string]any{"more": strings.Repeat("y", 3000)}))
	wantCode(t, resp, contactflow.AttributesTooLarge)
	reqs = f.sim.Stats().Requests
	if reqs[connectsim.OpGetContactAttributes]["ok"] != 1 || reqs[connectsim.OpUpdateContactAttributes]["InvalidParameterException"] != 1 {
		t.Errorf("requests %v, want the refused update then one read", reqs)
	}
	if after, _ := f.sim.Contact(stale.ID); len(after.Attributes) != 1 {
		t.Errorf("attributes %d keys, want the one it had", len(after.Attributes))
	}
}
