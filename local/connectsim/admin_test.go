package connectsim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

func TestAdminContactsFaultsStatsReset(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{})
	adm := srv.URL + "/_connectsim"

	var created connectsim.ContactView
	resp, body := doJSON(t, http.MethodPost, adm+"/contacts", nil, map[string]any{"channel": "CHAT", "attributes": map[string]string{"x": "1"}}, &created)
	if resp.StatusCode != 201 || created.ID == "" || created.Channel != "CHAT" {
		t.Fatalf("POST contacts: %d %s", resp.StatusCode, body)
	}
	resp, body = doJSON(t, http.MethodPost, adm+"/contacts", nil, map[string]any{"instanceId": "nope"}, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("POST contacts with unknown instance: %d %s", resp.StatusCode, body)
	}

	resp, body = doJSON(t, http.MethodPut, adm+"/faults/GetContactAttributes", nil, map[string]any{"kind": "internal", "count": 1}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT fault: %d %s", resp.StatusCode, body)
	}
	resp, _ = doJSON(t, http.MethodPut, adm+"/faults/GetContactAttributes", nil, map[string]any{"kind": "bogus"}, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("PUT bogus fault: %d", resp.StatusCode)
	}
	get := func() error {
		_, err := cl.GetContactAttributes(context.Background(), &connect.GetContactAttributesInput{
			InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(created.ID),
		})
		return err
	}
	mustAs[*types.InternalServiceException](t, get())
	if err := get(); err != nil {
		t.Fatal(err)
	}
	doJSON(t, http.MethodPut, adm+"/faults/*", nil, map[string]any{"kind": "latency", "latency": "1ms"}, nil)
	var faults map[string]connectsim.Fault
	doJSON(t, http.MethodGet, adm+"/faults", nil, nil, &faults)
	if f := faults["*"]; f.Kind != "latency" || f.Latency.String() != "1ms" {
		t.Fatalf("faults = %+v", faults)
	}
	resp, _ = doJSON(t, http.MethodDelete, adm+"/faults", nil, nil, nil)
	if resp.StatusCode != 204 || len(srv.Faults()) != 0 {
		t.Fatalf("DELETE faults: %d, %v", resp.StatusCode, srv.Faults())
	}

	var contacts []connectsim.ContactView
	doJSON(t, http.MethodGet, adm+"/contacts", nil, nil, &contacts)
	if len(contacts) != 1 || contacts[0].ID != created.ID || len(contacts[0].History) == 0 {
		t.Fatalf("contacts = %+v", contacts)
	}
	var one connectsim.ContactView
	resp, _ = doJSON(t, http.MethodGet, adm+"/contacts/"+created.ID, nil, nil, &one)
	if resp.StatusCode != 200 || one.Attributes["x"] != "1" {
		t.Fatalf("GET contact: %d %+v", resp.StatusCode, one)
	}

	var st connectsim.Stats
	doJSON(t, http.MethodGet, adm+"/stats", nil, nil, &st)
	if st.Requests["GetContactAttributes"]["ok"] != 1 || st.Requests["GetContactAttributes"]["InternalServiceException"] != 1 {
		t.Fatalf("stats = %+v", st.Requests)
	}
	if st.MaxInFlightRequests < 1 {
		t.Fatalf("MaxInFlightRequests = %d", st.MaxInFlightRequests)
	}

	resp, _ = doJSON(t, http.MethodPost, adm+"/reset", nil, nil, nil)
	if resp.StatusCode != 204 || len(srv.Contacts()) != 0 || len(srv.Stats().Requests) != 0 {
		t.Fatalf("reset: %d, %d contacts", resp.StatusCode, len(srv.Contacts()))
	}
	resp, _ = doJSON(t, http.MethodGet, adm+"/nothing", nil, nil, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown admin route: %d", resp.StatusCode)
	}
}

// Mistakes in admin requests get a specific answer, not a silent success.
func TestAdminRefusesUnknownFaultsAndHugeBodies(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{})
	resp, body := doJSON(t, http.MethodDelete, srv.URL+"/_connectsim/faults/StopContactt", nil, nil, nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "StopContactt") {
		t.Errorf("DELETE of a fault never set: %d %s, want 404 naming it", resp.StatusCode, body)
	}
	srv.SetFault("StopContact", connectsim.Fault{Kind: "internal"})
	if resp, body := doJSON(t, http.MethodDelete, srv.URL+"/_connectsim/faults/StopContact", nil, nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE of a set fault: %d %s, want 204", resp.StatusCode, body)
	}
	huge := map[string]string{"instanceId": strings.Repeat("x", 2<<20)}
	resp, body = doJSON(t, http.MethodPost, srv.URL+"/_connectsim/chat-authentication", nil, huge, nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MB admin body: %d %s, want 413", resp.StatusCode, body)
	}
}
