package contactflow

import (
	"strings"
	"testing"
)

// Connect's payload with what aws-lambda-go's ConnectEvent cannot decode: non-string parameter
// and attribute values, a null Queue and CustomerEndpoint fields, unknown fields.
const tolerantEvent = `{
  "Name": "ContactFlowEvent",
  "Details": {
    "ContactData": {
      "Attributes": {"tier": "gold", "visits": 3, "vip": true, "note": null, "prefs": {"lang": "fr"}},
      "Channel": "VOICE",
      "ContactId": "c-2",
      "InitialContactId": "c-1",
      "PreviousContactId": null,
      "CustomerEndpoint": {"Address": "+15555550100", "Type": "TELEPHONE_NUMBER"},
      "SystemEndpoint": null,
      "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555",
      "Queue": null,
      "MediaStreams": {"Customer": {"Audio": null}},
      "SegmentAttributes": {"connect:Subtype": {"ValueString": "connect:Telephony"}},
      "SomethingNew": [1, 2, 3]
    },
    "Parameters": {"operation": "update", "count": 7, "flag": false, "nested": {"a": [1, "b"]}, "nothing": null}
  },
  "UnknownTopLevel": {}
}`

func TestDecodeEventIsTolerant(t *testing.T) {
	ev, err := DecodeEvent([]byte(tolerantEvent))
	if err != nil {
		t.Fatal(err)
	}
	cd := ev.Details.ContactData
	if cd.ContactID != "c-2" || cd.InitialContactID != "c-1" {
		t.Errorf("contact data = %+v", cd)
	}
	if cd.CustomerEndpoint == nil || cd.CustomerEndpoint.Address != "+15555550100" || cd.CustomerEndpoint.Type != EndpointTelephoneNumber {
		t.Errorf("customer endpoint = %+v", cd.CustomerEndpoint)
	}
	wantAttrs := map[string]string{"tier": "gold", "visits": "3", "vip": "true", "note": "", "prefs": `{"lang":"fr"}`}
	for k, v := range wantAttrs {
		if cd.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, cd.Attributes[k], v)
		}
	}
	p, f := parseParams(ev.Details.Parameters)
	if f != nil {
		t.Fatal(f)
	}
	wantParams := map[string]string{"operation": "update", "count": "7", "flag": "false", "nested": `{"a":[1,"b"]}`, "nothing": "null"}
	if len(p) != len(wantParams) {
		t.Errorf("params = %q, want %q", p, wantParams)
	}
	for k, v := range wantParams {
		if p[k] != v {
			t.Errorf("param %s = %q, want %q", k, p[k], v)
		}
	}
}

func TestDecodeEventRejectsWhatIsNotJSONObject(t *testing.T) {
	for _, payload := range []string{``, `  `, `{`, `[]`, `"ContactFlowEvent"`, `{"Details": "x"}`, `{"Details": {"Parameters": []}}`} {
		if _, err := DecodeEvent([]byte(payload)); err == nil {
			t.Errorf("DecodeEvent(%q) accepted", payload)
		} else if strings.Contains(err.Error(), "panic") {
			t.Errorf("DecodeEvent(%q): %v", payload, err)
		}
	}
}
