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

func TestAttributesRoundTrip(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{})
	ctx := context.Background()
	c, err := srv.CreateContact(connectsim.NewContact{CustomerNumber: "+15555550123", Attributes: map[string]string{"lang": "en"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.InstanceID != connectsim.DefaultInstanceID || c.Channel != "VOICE" || c.InitiationMethod != "INBOUND" || c.InitialContactID != c.ID {
		t.Fatalf("unexpected contact %+v", c)
	}
	_, err = cl.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID),
		Attributes: map[string]string{"optout": "true", "lang": "fr"},
	})
	if err != nil {
		t.Fatalf("UpdateContactAttributes: %v", err)
	}
	got, err := cl.GetContactAttributes(ctx, &connect.GetContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID),
	})
	if err != nil {
		t.Fatalf("GetContactAttributes: %v", err)
	}
	want := map[string]string{"lang": "fr", "optout": "true"}
	if len(got.Attributes) != len(want) || got.Attributes["lang"] != "fr" || got.Attributes["optout"] != "true" {
		t.Fatalf("attributes = %v, want %v", got.Attributes, want)
	}
	view, ok := srv.Contact(c.ID)
	if !ok || view.Attributes["optout"] != "true" {
		t.Fatalf("Contact view = %+v", view)
	}
	var sawUpdate bool
	for _, h := range view.History {
		if h.Event == "UpdateContactAttributes" && strings.Contains(h.Detail, "optout") {
			sawUpdate = true
		}
	}
	if !sawUpdate {
		t.Fatalf("history lacks the update: %+v", view.History)
	}

	// A contact without attributes answers an empty map.
	c2, _ := srv.CreateContact(connectsim.NewContact{Channel: "CHAT"})
	got2, err := cl.GetContactAttributes(ctx, &connect.GetContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c2.ID),
	})
	if err != nil || len(got2.Attributes) != 0 {
		t.Fatalf("GetContactAttributes of a bare contact = %v, %v", got2, err)
	}
}

func TestDescribeContact(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{})
	c, err := srv.CreateContact(connectsim.NewContact{CustomerNumber: "+15555550123", Attributes: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.DescribeContact(context.Background(), &connect.DescribeContactInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(c.ID),
	})
	if err != nil {
		t.Fatalf("DescribeContact: %v", err)
	}
	d := out.Contact
	if aws.ToString(d.Id) != c.ID || aws.ToString(d.InitialContactId) != c.ID || d.Channel != types.ChannelVoice || d.InitiationMethod != types.ContactInitiationMethodInbound {
		t.Fatalf("contact = %+v", d)
	}
	if aws.ToString(d.Arn) != srv.InstanceARN(connectsim.DefaultInstanceID)+"/contact/"+c.ID {
		t.Fatalf("arn = %s", aws.ToString(d.Arn))
	}
	if d.InitiationTimestamp == nil || !d.InitiationTimestamp.Equal(t0) {
		t.Fatalf("InitiationTimestamp = %v, want %v", d.InitiationTimestamp, t0)
	}
	if d.DisconnectTimestamp != nil {
		t.Fatalf("an active contact has DisconnectTimestamp %v", d.DisconnectTimestamp)
	}
	if d.CustomerEndpoint == nil || aws.ToString(d.CustomerEndpoint.Address) != "+15555550123" || d.CustomerEndpoint.Type != types.EndpointTypeTelephoneNumber {
		t.Fatalf("CustomerEndpoint = %+v", d.CustomerEndpoint)
	}
	if d.Attributes["a"] != "b" {
		t.Fatalf("Attributes = %v", d.Attributes)
	}

	_, err = cl.DescribeContact(context.Background(), &connect.DescribeContactInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String("00000000-0000-4000-8000-000000000000"),
	})
	mustAs[*types.ResourceNotFoundException](t, err)
}

func TestAttributeErrors(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{DisableThrottling: true})
	ctx := context.Background()
	c, err := srv.CreateContact(connectsim.NewContact{})
	if err != nil {
		t.Fatal(err)
	}
	inst := aws.String(connectsim.DefaultInstanceID)
	update := func(instance, contact string, attrs map[string]string) error {
		_, err := cl.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{
			InstanceId: aws.String(instance), InitialContactId: aws.String(contact), Attributes: attrs,
		})
		return err
	}

	t.Run("unknown instance", func(t *testing.T) {
		err := update("99999999-2222-4333-8444-555555555555", c.ID, map[string]string{"a": "b"})
		mustAs[*types.ResourceNotFoundException](t, err)
		_, err = cl.GetContactAttributes(ctx, &connect.GetContactAttributesInput{InstanceId: aws.String("nope"), InitialContactId: aws.String(c.ID)})
		mustAs[*types.ResourceNotFoundException](t, err)
	})
	t.Run("unknown contact", func(t *testing.T) {
		err := update(connectsim.DefaultInstanceID, "00000000-0000-4000-8000-000000000000", map[string]string{"a": "b"})
		mustAs[*types.ResourceNotFoundException](t, err)
		_, err = cl.GetContactAttributes(ctx, &connect.GetContactAttributesInput{InstanceId: inst, InitialContactId: aws.String("missing")})
		mustAs[*types.ResourceNotFoundException](t, err)
	})
	t.Run("bad key", func(t *testing.T) {
		err := update(connectsim.DefaultInstanceID, c.ID, map[string]string{"has space": "x"})
		mustAs[*types.InvalidParameterException](t, err)
		err = update(connectsim.DefaultInstanceID, c.ID, map[string]string{"dot.ted": "x"})
		mustAs[*types.InvalidParameterException](t, err)
	})
	t.Run("too long ids", func(t *testing.T) {
		err := update(strings.Repeat("i", 101), c.ID, map[string]string{"a": "b"})
		e := mustAs[*types.InvalidRequestException](t, err)
		if !strings.Contains(e.ErrorMessage(), "instanceId") {
			t.Fatalf("message %q does not name the member", e.ErrorMessage())
		}
		err = update(connectsim.DefaultInstanceID, strings.Repeat("c", 257), map[string]string{"a": "b"})
		mustAs[*types.InvalidRequestException](t, err)
	})
	t.Run("budget", func(t *testing.T) {
		c2, _ := srv.CreateContact(connectsim.NewContact{})
		// 16 KB now, 16 KB more under another key: 32,768 + 2 bytes of keys.
		half := strings.Repeat("x", 16383)
		if err := update(connectsim.DefaultInstanceID, c2.ID, map[string]string{"a": half}); err != nil {
			t.Fatalf("first half: %v", err)
		}
		if err := update(connectsim.DefaultInstanceID, c2.ID, map[string]string{"b": half}); err != nil {
			t.Fatalf("exactly at the budget (32,768 bytes) must pass: %v", err)
		}
		err := update(connectsim.DefaultInstanceID, c2.ID, map[string]string{"c": "1"})
		mustAs[*types.InvalidParameterException](t, err)
		// Replacing a value counts the new value only.
		if err := update(connectsim.DefaultInstanceID, c2.ID, map[string]string{"a": "short"}); err != nil {
			t.Fatalf("shrinking a value: %v", err)
		}
		// Multi-byte characters count in bytes.
		c3, _ := srv.CreateContact(connectsim.NewContact{})
		err = update(connectsim.DefaultInstanceID, c3.ID, map[string]string{"k": strings.Repeat("é", 16384)})
		mustAs[*types.InvalidParameterException](t, err)
	})
	t.Run("empty map is fine", func(t *testing.T) {
		if err := update(connectsim.DefaultInstanceID, c.ID, map[string]string{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMissingAuthorization(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{})
	c, _ := srv.CreateContact(connectsim.NewContact{})
	url := srv.URL + "/contact/attributes/" + connectsim.DefaultInstanceID + "/" + c.ID
	resp, body := doJSON(t, http.MethodGet, url, nil, nil, nil)
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("no Authorization: %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}
	resp, body = doJSON(t, http.MethodGet, url, map[string]string{"Authorization": "Bearer x"}, nil, nil)
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "IncompleteSignatureException" {
		t.Fatalf("non-SigV4 Authorization: %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}
	wrongRegion := strings.Replace(fakeSigV4, "us-east-1", "eu-west-1", 1)
	resp, body = doJSON(t, http.MethodGet, url, map[string]string{"Authorization": wrongRegion}, nil, nil)
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
		t.Fatalf("wrong Region: %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}
	var out struct{ Attributes map[string]string }
	resp, body = doJSON(t, http.MethodGet, url, map[string]string{"Authorization": fakeSigV4}, nil, &out)
	if resp.StatusCode != 200 || out.Attributes == nil {
		t.Fatalf("SigV4-shaped header: %d %s", resp.StatusCode, body)
	}
	st := srv.Stats()
	if st.Requests["GetContactAttributes"]["MissingAuthenticationTokenException"] != 1 || st.Requests["GetContactAttributes"]["ok"] != 1 {
		t.Fatalf("stats = %+v", st.Requests)
	}
	resp, _ = doJSON(t, http.MethodGet, srv.URL+"/no/such/thing", map[string]string{"Authorization": fakeSigV4}, nil, nil)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Fatalf("unknown path: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// An empty value removes the attribute, and removed attributes no longer count against the
// 32,768-byte budget, so clearing one makes room for another in the same update.
func TestEmptyValueRemovesAnAttribute(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{})
	ctx := context.Background()
	big := strings.Repeat("x", 32768-len("big")-len("lang")-len("en"))
	c, err := srv.CreateContact(connectsim.NewContact{Attributes: map[string]string{"big": big, "lang": "en"}})
	if err != nil {
		t.Fatal(err)
	}
	update := func(attrs map[string]string) error {
		_, err := cl.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{
			InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID), Attributes: attrs,
		})
		return err
	}
	// At the limit: one more byte is refused...
	mustAs[*types.InvalidParameterException](t, update(map[string]string{"x": "y"}))
	// ...unless the same update clears an attribute.
	if err := update(map[string]string{"lang": "", "x": "y"}); err != nil {
		t.Fatalf("clearing lang while adding x: %v", err)
	}
	got, err := cl.GetContactAttributes(ctx, &connect.GetContactAttributesInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), InitialContactId: aws.String(c.ID),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Attributes["lang"]; ok || got.Attributes["x"] != "y" || len(got.Attributes) != 2 {
		t.Fatalf("attributes after clearing lang: %d keys, lang present %v, x=%q", len(got.Attributes), ok, got.Attributes["x"])
	}
}
