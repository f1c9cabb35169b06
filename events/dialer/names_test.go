package dialer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/events/dialer"
)

// TestNamesAreExactAndGivenOnce: encoding/json takes a repeated name (keeping the last) and a
// name in another case ("Phone" for "phone") silently; the dialer's own events refuse both.
func TestNamesAreExactAndGivenOnce(t *testing.T) {
	call := func(fields string) string {
		return envelope(dialer.Source, dialer.TypeCallRequested, `{"requestId":"cb-7","campaignId":"c1",`+fields+`}`)
	}
	for _, tc := range []struct{ name, raw, contains string }{
		{"phone twice", call(`"phone":"+12025550143","phone":"+12025550144"`), "field phone is given twice"},
		{"phone in two cases", call(`"phone":"+12025550143","Phone":"+12025550144"`), `names are case-sensitive: "phone"`},
		{"phone in another case alone", call(`"PHONE":"+12025550143"`), `names are case-sensitive: "phone"`},
		{"nested name in another case", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","pacing":{"CallsPerSecond":2}}`), `pacing.CallsPerSecond: names are case-sensitive: "callsPerSecond"`},
		{"recipient field twice", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","recipients":[{"recipientId":"r","phone":"+12025550143","phone":"+12025550144"}]}`), "recipients[].phone is given twice"},
		{"attribute twice", call(`"phone":"+12025550143","attributes":{"a":"1","a":"2"}`), "attributes.a is given twice"},
		{"weekday twice", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","callingWindows":{"weekly":{"monday":[],"monday":[{"start":"09:00","end":"10:00"}]}}}`), "callingWindows.weekly.monday is given twice"},
		{"campaign id twice", envelope(dialer.Source, dialer.TypeCampaignPaused, `{"campaignId":"c1","campaignId":"c2"}`), "campaignId is given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dialer.Decode([]byte(tc.raw))
			var re *dialer.RefusedError
			if !errors.As(err, &re) || re.Reason != dialer.ReasonMalformedDetail || !strings.Contains(re.Message, tc.contains) {
				t.Fatalf("got %v, want a %s refusal containing %q", err, dialer.ReasonMalformedDetail, tc.contains)
			}
			if strings.Contains(err.Error(), "5550143") || strings.Contains(err.Error(), "5550144") {
				t.Errorf("a number in the refusal: %v", err)
			}
		})
	}
	// Attribute keys are data: keys differing in case are two attributes, as Connect keeps them.
	ev, err := dialer.Decode([]byte(call(`"phone":"+12025550143","attributes":{"a":"1","A":"2"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Detail.(*dialer.CallRequested).Attributes; len(got) != 2 || got["a"] != "1" || got["A"] != "2" {
		t.Errorf("attributes %v", got)
	}
}

func TestARequestIDLeavesRoomForItsRecipientID(t *testing.T) {
	id := strings.Repeat("r", 128-len(dialer.RequestRecipientPrefix))
	raw := envelope(dialer.Source, dialer.TypeCallRequested, `{"requestId":"`+id+`","campaignId":"c1","phone":"+12025550143"}`)
	if _, err := dialer.Decode([]byte(raw)); err != nil {
		t.Fatalf("a requestId of %d: %v", len(id), err)
	}
	if !dialer.ValidID(dialer.RequestRecipientPrefix + id) {
		t.Error("its recipient ID is not valid")
	}
	raw = envelope(dialer.Source, dialer.TypeCallRequested, `{"requestId":"`+id+`r","campaignId":"c1","phone":"+12025550143"}`)
	_, err := dialer.Decode([]byte(raw))
	var re *dialer.RefusedError
	if !errors.As(err, &re) || re.Reason != dialer.ReasonInvalidDetail || !strings.Contains(re.Message, "requestId must be at most 124") {
		t.Errorf("a requestId of %d: %v", len(id)+1, err)
	}
}

func TestARefusalKeepsTheEventID(t *testing.T) {
	for raw, want := range map[string]string{
		`{"version":"0","id":"7f3c-ab","detail-type":"Campaign Exploded","source":"switchboard","detail":{}}`: "7f3c-ab",
		`{"version":"0","id":"+14155550162","detail-type":"Dialer Tick","source":"switchboard","detail":{}}`:  "+1******0162", // the one scrubber (shared/phone) masks as phone.Mask does
		`{"version":"0","id":"` + strings.Repeat("i", 100) + `","detail-type":"x","source":"switchboard"}`:    strings.Repeat("i", 64) + "…",
		`{"version":`: "",
	} {
		_, err := dialer.Decode([]byte(raw))
		var re *dialer.RefusedError
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v, want a refusal", raw, err)
		}
		if re.EventID != want {
			t.Errorf("%.40s: event ID %q, want %q", raw, re.EventID, want)
		}
	}
}
