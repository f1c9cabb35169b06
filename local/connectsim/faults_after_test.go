package connectsim_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// adminContacts reads the contacts through the admin API, as a test in another language would.
func adminContacts(t *testing.T, base string) []connectsim.ContactView {
	t.Helper()
	var out []connectsim.ContactView
	resp, body := doJSON(t, http.MethodGet, base+"/_connectsim/contacts", nil, nil, &out)
	if resp.StatusCode != 200 {
		t.Fatalf("GET contacts: %d %s", resp.StatusCode, body)
	}
	return out
}

// TestFaultsAfterTheOperationPlaceTheCall: each "-after" kind places the call and then loses
// the answer; the client sees an error, connectsim's record holds the contact.
func TestFaultsAfterTheOperationPlaceTheCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind    string
		latency time.Duration
		timeout time.Duration
		check   func(t *testing.T, err error)
		outcome string
	}{
		{connectsim.FaultDropAfter, 0, 0, func(t *testing.T, err error) {
			if err == nil || apiCode(err) != "" {
				t.Fatalf("dropped answer: %v, want a transport error", err)
			}
		}, "ok+dropped"},
		{connectsim.FaultInternalAfter, 0, 0, func(t *testing.T, err error) {
			mustAs[*types.InternalServiceException](t, err)
		}, "ok+InternalServiceException"},
		{connectsim.FaultLatencyAfter, 5 * time.Second, 100 * time.Millisecond, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("answer later than the timeout: %v, want context.DeadlineExceeded", err)
			}
		}, "ok+canceled"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			srv, cl := start(t, connectsim.Options{World: callWorld(), DisableThrottling: true})
			// Set through the admin API, as the dialer's tests in other processes do.
			body := map[string]any{"kind": tc.kind, "count": 1}
			if tc.latency > 0 {
				body["latency"] = tc.latency.String()
			}
			if resp, b := doJSON(t, http.MethodPut, srv.URL+"/_connectsim/faults/StartOutboundVoiceContact", nil, body, nil); resp.StatusCode != 200 {
				t.Fatalf("PUT fault: %d %s", resp.StatusCode, b)
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			began := time.Now()
			_, err := cl.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{
				InstanceId: aws.String(connectsim.DefaultInstanceID), ContactFlowId: aws.String(connectsim.DefaultContactFlowID),
				QueueId: aws.String(connectsim.DefaultQueueID), DestinationPhoneNumber: aws.String(numAnswer),
				ClientToken: aws.String("recipient-7-attempt-1"),
			})
			tc.check(t, err)
			if el := time.Since(began); el > 2*time.Second {
				t.Fatalf("the client waited %v", el)
			}
			got := adminContacts(t, srv.URL)
			if len(got) != 1 || got[0].ClientToken != "recipient-7-attempt-1" || got[0].Status != connectsim.StatusInitiated {
				t.Fatalf("connectsim's record: %+v, want the one placed call", got)
			}
			// The retry with the same ClientToken finds the call placed: same contact, no second call.
			id, err := dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.ClientToken = aws.String("recipient-7-attempt-1") })
			if err != nil || id != got[0].ID {
				t.Fatalf("retry: %q %v, want %s", id, err, got[0].ID)
			}
			if n := len(srv.Contacts()); n != 1 {
				t.Fatalf("%d contacts after the retry", n)
			}
			deadline := time.Now().Add(5 * time.Second)
			for srv.Stats().Requests["StartOutboundVoiceContact"][tc.outcome] != 1 {
				// A canceled request is counted once the handler sees the client gone.
				if time.Now().After(deadline) {
					t.Fatalf("counts %v, want one %q", srv.Stats().Requests["StartOutboundVoiceContact"], tc.outcome)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A latency-after fault the client waits out answers normally; the SDK's own retries of a
// dropped answer reuse the ClientToken, so they find the placed call.
func TestFaultsAfterWaitedOutAndRetriedBySDK(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{World: callWorld(), DisableThrottling: true})
	srv.SetFault(connectsim.OpStartOutboundVoiceContact, connectsim.Fault{Kind: connectsim.FaultLatencyAfter, Latency: 150 * time.Millisecond, Count: 1})
	began := time.Now()
	id, err := dial(cl, numAnswer)
	if err != nil || id == "" {
		t.Fatalf("waited out: %q %v", id, err)
	}
	if el := time.Since(began); el < 150*time.Millisecond {
		t.Fatalf("answered after %v", el)
	}
	retrying := srv.ConnectClient(t, func(o *connect.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 3; so.MaxBackoff = 10 * time.Millisecond })
	})
	srv.SetFault(connectsim.OpStartOutboundVoiceContact, connectsim.Fault{Kind: connectsim.FaultInternalAfter, Count: 1})
	second, err := dial(retrying, numAnswer, func(in *connect.StartOutboundVoiceContactInput) { in.ClientToken = aws.String("tok-2") })
	if err != nil {
		t.Fatalf("retried after a lost answer: %v", err)
	}
	if n := len(srv.Contacts()); n != 2 {
		t.Fatalf("%d contacts, want 2 (the SDK's retry reused the token)", n)
	}
	got := srv.Stats().Requests[connectsim.OpStartOutboundVoiceContact]
	if got["ok+InternalServiceException"] != 1 || got["ok"] != 2 {
		t.Fatalf("counts %v", got)
	}
	if c, _ := srv.Contact(second); c.ClientToken != "tok-2" {
		t.Fatalf("contact %+v", c)
	}
}

// Attribute writes behind a lost answer stick; faults come from the world file too, and a reset
// brings them back.
func TestFaultsAfterFromWorldFile(t *testing.T) {
	t.Parallel()
	w, err := connectsim.ParseWorld([]byte(`{"faults": {"UpdateContactAttributes": {"kind": "internal-after", "count": 1},
		"*": {"kind": "latency-after", "latency": "10ms", "probability": 0.5}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f := w.Faults["*"]; f.Kind != connectsim.FaultLatencyAfter || f.Latency != 10*time.Millisecond {
		t.Fatalf("parsed %+v", w.Faults)
	}
	delete(w.Faults, "*")
	srv, cl := start(t, connectsim.Options{World: w})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	update := func() error {
		_, err := cl.UpdateContactAttributes(context.Background(), &connect.UpdateContactAttributesInput{
			InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID), Attributes: map[string]string{"outcome": "sold"},
		})
		return err
	}
	mustAs[*types.InternalServiceException](t, update())
	if got, _ := srv.Contact(c.ID); got.Attributes["outcome"] != "sold" {
		t.Fatalf("attributes behind the lost answer: %v", got.Attributes)
	}
	if err := update(); err != nil {
		t.Fatalf("count 1: %v", err)
	}
	srv.Reset()
	if f := srv.Faults()["UpdateContactAttributes"]; f.Kind != connectsim.FaultInternalAfter {
		t.Fatalf("after reset: %v", srv.Faults())
	}
	for _, bad := range []struct{ world, want string }{
		{`{"faults": {"StartOutboundVoiceContact": {"kind": "latency-after"}}}`, "faults.StartOutboundVoiceContact: latency-after fault needs a positive latency"},
		{`{"faults": {"Dial": {"kind": "drop-after"}}}`, `faults.Dial: unknown operation "Dial"`},
		{`{"faults": {"StopContact": {"kind": "drop-later"}}}`, `fault kind "drop-later" must be`},
		{`{"faults": {"StopContact": {"kind": "drop-after", "phase": "after"}}}`, `unknown field "phase"`},
	} {
		if _, err := connectsim.ParseWorld([]byte(bad.world)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.world, err, bad.want)
		}
	}
}

// A Participant Service operation behind an internal-after fault answers its own 500 type.
func TestFaultAfterParticipantService(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{})
	ca, err := srv.StartChatAuthentication("")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFault(connectsim.OpCancelParticipantAuthentication, connectsim.Fault{Kind: connectsim.FaultInternalAfter})
	resp, body := doJSON(t, http.MethodPost, srv.URL+"/participant/cancel-authentication", map[string]string{"X-Amz-Bearer": ca.ParticipantToken},
		map[string]string{"SessionId": ca.SessionID}, nil)
	if resp.StatusCode != 500 || resp.Header.Get("X-Amzn-ErrorType") != "InternalServerException" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}
	if s := srv.AuthSessions(); len(s) != 1 || s[0].Status != connectsim.AuthCancelled {
		t.Fatalf("sessions %+v, want the cancellation done", s)
	}
}
