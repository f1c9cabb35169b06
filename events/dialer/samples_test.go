package dialer_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/events/dialer"
)

// samples lists every sample with the Go type it must decode to: a new file must be added here.
var samples = map[string]any{
	"campaign-launched.json":              &dialer.CampaignLaunched{},
	"campaign-launched-s3.json":           &dialer.CampaignLaunched{},
	"campaign-updated.json":               &dialer.CampaignUpdated{},
	"campaign-paused.json":                &dialer.CampaignPaused{},
	"campaign-resumed.json":               &dialer.CampaignResumed{},
	"campaign-stopped.json":               &dialer.CampaignStopped{},
	"call-requested.json":                 &dialer.CallRequested{},
	"call-stop-requested.json":            &dialer.CallStopRequested{},
	"tick.json":                           &dialer.Tick{},
	"contact-disconnected.json":           &dialer.ContactEvent{},
	"contact-initiated-other-casing.json": &dialer.ContactEvent{},
	"contact-data-updated.json":           &dialer.ContactEvent{},
}

func decodeFile(t *testing.T, name string) dialer.Event {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := dialer.Decode(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func TestEverySampleDecodes(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(samples) {
		t.Errorf("%d sample files, %d listed: %v", len(files), len(samples), files)
	}
	for _, f := range files {
		want, ok := samples[f]
		if !ok {
			t.Errorf("%s is not listed in samples", f)
			continue
		}
		ev := decodeFile(t, f)
		if reflect.TypeOf(ev.Detail) != reflect.TypeOf(want) {
			t.Errorf("%s decoded to %T, want %T", f, ev.Detail, want)
		}
		if ev.Envelope.ID == "" || ev.Envelope.Time.IsZero() || ev.Envelope.Account != "123456789012" {
			t.Errorf("%s: envelope %+v lacks id, time or account", f, ev.Envelope)
		}
	}
	// Every Switchboard detail-type has a sample.
	have := map[string]bool{}
	for _, f := range files {
		have[decodeFile(t, f).Envelope.DetailType] = true
	}
	for _, dt := range append(dialer.DetailTypes, dialer.TypeContactEvent) {
		if !have[dt] {
			t.Errorf("no sample for detail-type %q", dt)
		}
	}
}

func TestCampaignSampleValues(t *testing.T) {
	c := decodeFile(t, "campaign-launched.json").Detail.(*dialer.CampaignLaunched)
	if c.CampaignID != "dental-reminders-2026-12" || c.Mode != "progressive" || c.RingTimeoutSeconds != 25 {
		t.Errorf("campaign %q mode %q ring %d", c.CampaignID, c.Mode, c.RingTimeoutSeconds)
	}
	if got := c.CallingWindows.Weekly["monday"]; len(got) != 2 || got[1] != (dialer.Interval{Start: "13:00", End: "20:00"}) {
		t.Errorf("monday windows %+v", got)
	}
	if _, ok := c.CallingWindows.Weekly["sunday"]; ok {
		t.Error("sunday should be closed (absent)")
	}
	if c.Retry.NoAnswer.Delay.Std() != 4*time.Hour || c.Retry.NoAnswer.MaxAttempts != 3 || c.Retry.InvalidNumber != nil {
		t.Errorf("retry %+v", c.Retry)
	}
	if c.Pacing.CallsPerSecond != 1.5 || c.Pacing.Burst != 3 || c.Pacing.MaxConcurrentCalls != 8 || c.Pacing.Weight != 2 {
		t.Errorf("pacing %+v", c.Pacing)
	}
	if *c.ContactLimit != (dialer.ContactLimit{MaxDials: 7, Days: 7}) {
		t.Errorf("contact limit %+v", c.ContactLimit)
	}
	if c.MaxCallDuration.Std() != 15*time.Minute || !c.EndTime.Equal(time.Date(2026, 12, 20, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("max call %v end %v", c.MaxCallDuration, c.EndTime)
	}
	if len(c.Recipients) != 3 || c.Recipients[1].TimeZone != "America/Chicago" || c.Recipients[0].Attributes["appointment"] != "2026-12-03T09:30" {
		t.Errorf("recipients %+v", c.Recipients)
	}
	s3 := decodeFile(t, "campaign-launched-s3.json").Detail.(*dialer.CampaignLaunched)
	if s3.RecipientsObject == nil || s3.RecipientsObject.Key != "campaigns/survey-q4/recipients.csv" || s3.Mode != "agentless" {
		t.Errorf("s3 campaign %+v", s3)
	}
}

func TestContactEventSamples(t *testing.T) {
	d := decodeFile(t, "contact-disconnected.json").Detail.(*dialer.ContactEvent)
	if d.EventType != "DISCONNECTED" || d.InitiationMethod != "API" || d.ContactID != "0e6b9c8a-1fa7-438f-918c-52021eb3a3c4" {
		t.Errorf("disconnected %+v", d)
	}
	if d.ConnectedToSystemTimestamp == nil || !d.ConnectedToSystemTimestamp.Equal(time.Date(2026, 12, 2, 15, 5, 44, 793e6, time.UTC)) {
		t.Errorf("connectedToSystemTimestamp %v", d.ConnectedToSystemTimestamp)
	}
	if d.AgentInfo == nil || d.AgentInfo.ConnectedToAgentTimestamp == nil || d.QueueInfo == nil || d.QueueInfo.QueueType != "STANDARD" {
		t.Errorf("agent %+v queue %+v", d.AgentInfo, d.QueueInfo)
	}
	if d.DisconnectReason != "" {
		t.Errorf("an ordinary call's event carries no disconnectReason, got %q", d.DisconnectReason)
	}
	// Other casing, unknown nested fields: decoded, not refused.
	i := decodeFile(t, "contact-initiated-other-casing.json").Detail.(*dialer.ContactEvent)
	if i.EventType != "INITIATED" || i.ContactID != "0e6b9c8a-1fa7-438f-918c-52021eb3a3c4" || i.ConnectedToSystemTimestamp != nil || i.InitiationTimestamp == nil {
		t.Errorf("initiated %+v", i)
	}
	u := decodeFile(t, "contact-data-updated.json").Detail.(*dialer.ContactEvent)
	if u.EventType != "CONTACT_DATA_UPDATED" {
		t.Errorf("data updated %+v", u)
	}
}

func envelope(source, detailType, detail string) string {
	return fmt.Sprintf(`{"version":"0","id":"x","detail-type":%q,"source":%q,"account":"123456789012","time":"2026-12-02T15:04:05Z","region":"us-east-1","resources":[],"detail":%s}`, detailType, source, detail)
}

const launchOK = `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","mode":"agentless"}`

func TestRefused(t *testing.T) {
	big := envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","name":"`+strings.Repeat("a", dialer.MaxEventBytes)+`"}`)
	cases := []struct {
		name, raw, reason, contains string
	}{
		{"too large", big, dialer.ReasonTooLarge, "bytes, at most"},
		{"not json", `{"version":`, dialer.ReasonNotJSON, "invalid JSON"},
		{"array", `[1,2]`, dialer.ReasonNotJSON, "(top level)"},
		{"no source", `{"detail-type":"Dialer Tick","detail":{}}`, dialer.ReasonUnknownSource, "no source"},
		{"other source", envelope("aws.s3", "Object Created", `{}`), dialer.ReasonUnknownSource, `"aws.s3"`},
		{"connect other type", envelope("aws.connect", "Amazon Connect Agent Event", `{}`), dialer.ReasonUnknownDetailType, "Agent Event"},
		{"unknown detail-type", envelope(dialer.Source, "Campaign Exploded", `{}`), dialer.ReasonUnknownDetailType, "Campaign Launched"},
		{"detail-type wrong case", envelope(dialer.Source, "campaign launched", launchOK), dialer.ReasonUnknownDetailType, "campaign launched"},
		{"unknown field", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","calingWindows":{}}`), dialer.ReasonMalformedDetail, "calingWindows"},
		{"nested unknown field", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","pacing":{"cps":2}}`), dialer.ReasonMalformedDetail, "cps"},
		{"wrong type", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":42}`), dialer.ReasonMalformedDetail, "campaignId"},
		{"duration as number", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","maxCallDuration":900}`), dialer.ReasonMalformedDetail, "duration"},
		{"bad duration", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","maxCallDuration":"15 minutes"}`), dialer.ReasonMalformedDetail, "duration"},
		{"bad time", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","endTime":"tomorrow"}`), dialer.ReasonMalformedDetail, "RFC 3339"},
		{"no campaign id", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"instanceId":"i","contactFlowId":"f","queueId":"q"}`), dialer.ReasonInvalidDetail, "campaignId is required"},
		{"campaign id alphabet", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"a b","instanceId":"i","contactFlowId":"f","queueId":"q"}`), dialer.ReasonInvalidDetail, "letters, digits"},
		{"campaign id too long", envelope(dialer.Source, dialer.TypeCampaignPaused, `{"campaignId":"`+strings.Repeat("c", 129)+`"}`), dialer.ReasonInvalidDetail, "1-128"},
		{"no flow", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","queueId":"q"}`), dialer.ReasonInvalidDetail, "contactFlowId"},
		{"no queue or number", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f"}`), dialer.ReasonInvalidDetail, "queueId or sourcePhoneNumber"},
		{"both recipient sources", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","recipients":[{"recipientId":"r","phone":"+12025550143"}],"recipientsObject":{"bucket":"b","key":"k"}}`), dialer.ReasonInvalidDetail, "exclusive"},
		{"object without key", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","recipientsObject":{"bucket":"b"}}`), dialer.ReasonInvalidDetail, "bucket and a key"},
		{"recipient without id", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","recipients":[{"phone":"+12025550143"}]}`), dialer.ReasonInvalidDetail, "recipients[0].recipientId"},
		{"recipient twice", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","recipients":[{"recipientId":"r","phone":"+12025550143"},{"recipientId":"r","phone":"+12025550144"}]}`), dialer.ReasonInvalidDetail, "recipients[1].recipientId repeats"},
		{"recipient without phone", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","recipients":[{"recipientId":"r"}]}`), dialer.ReasonInvalidDetail, "recipients[0].phone"},
		{"update nothing", envelope(dialer.Source, dialer.TypeCampaignUpdated, `{"campaignId":"c1"}`), dialer.ReasonInvalidDetail, "nothing to update"},
		{"long reason", envelope(dialer.Source, dialer.TypeCampaignStopped, `{"campaignId":"c1","reason":"`+strings.Repeat("r", 300)+`"}`), dialer.ReasonInvalidDetail, "at most 256"},
		{"resumed without id", envelope(dialer.Source, dialer.TypeCampaignResumed, `{}`), dialer.ReasonInvalidDetail, "campaignId is required"},
		{"null detail", envelope(dialer.Source, dialer.TypeCampaignPaused, `null`), dialer.ReasonInvalidDetail, "campaignId is required"},
		{"call without request id", envelope(dialer.Source, dialer.TypeCallRequested, `{"campaignId":"c1","phone":"+12025550143"}`), dialer.ReasonInvalidDetail, "requestId"},
		{"call without phone", envelope(dialer.Source, dialer.TypeCallRequested, `{"requestId":"r1","campaignId":"c1"}`), dialer.ReasonInvalidDetail, "phone is required"},
		{"stop both ids", envelope(dialer.Source, dialer.TypeCallStopRequested, `{"campaignId":"c1","contactId":"a","recipientId":"b"}`), dialer.ReasonInvalidDetail, "exactly one"},
		{"stop neither id", envelope(dialer.Source, dialer.TypeCallStopRequested, `{"campaignId":"c1"}`), dialer.ReasonInvalidDetail, "exactly one"},
		{"stop bad contact id", envelope(dialer.Source, dialer.TypeCallStopRequested, `{"campaignId":"c1","contactId":"../x"}`), dialer.ReasonInvalidDetail, "contactId must be"},
		{"tick without time", envelope(dialer.Source, dialer.TypeTick, `{}`), dialer.ReasonInvalidDetail, "scheduledTime is required"},
		{"tick unfilled placeholder", envelope(dialer.Source, dialer.TypeTick, `{"scheduledTime":"<aws.scheduler.scheduled-time>"}`), dialer.ReasonMalformedDetail, "RFC 3339"},
		{"tick partition past its count", envelope(dialer.Source, dialer.TypeTick, `{"scheduledTime":"2026-12-07T10:00:00Z","partition":3,"partitions":3}`), dialer.ReasonInvalidDetail, "partition 3 of 3"},
		{"tick partitions over the bound", envelope(dialer.Source, dialer.TypeTick, `{"scheduledTime":"2026-12-07T10:00:00Z","partition":0,"partitions":17}`), dialer.ReasonInvalidDetail, "partitions <= 16"},
		{"contact event without type", envelope(dialer.SourceConnect, dialer.TypeContactEvent, `{"contactId":"a"}`), dialer.ReasonInvalidDetail, "eventType"},
		{"contact event without contact", envelope(dialer.SourceConnect, dialer.TypeContactEvent, `{"eventType":"INITIATED"}`), dialer.ReasonInvalidDetail, "contactId"},
		{"number as source", envelope("+1 415 555 0162", "x", `{}`), dialer.ReasonUnknownSource, `"+1******0162"`},
		{"number as duration", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","maxCallDuration":"+14155550162"}`), dialer.ReasonMalformedDetail, "+1******0162"},
		{"number as field name", envelope(dialer.Source, dialer.TypeCampaignLaunched, `{"campaignId":"c1","+14155550162":1}`), dialer.ReasonMalformedDetail, "unknown field"},
		{"number as detail-type", envelope(dialer.Source, "4155550162", `{}`), dialer.ReasonUnknownDetailType, "********62"},
		{"contact event bad timestamp", envelope(dialer.SourceConnect, dialer.TypeContactEvent, `{"eventType":"INITIATED","contactId":"a","initiationTimestamp":"yesterday"}`), dialer.ReasonMalformedDetail, "RFC 3339"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dialer.Decode([]byte(tc.raw))
			var re *dialer.RefusedError
			if !errors.As(err, &re) || !errors.Is(err, dialer.ErrRefused) {
				t.Fatalf("want a RefusedError, got %v", err)
			}
			if re.Reason != tc.reason || !strings.Contains(re.Message, tc.contains) {
				t.Errorf("got (%s) %q, want (%s) containing %q", re.Reason, re.Message, tc.reason, tc.contains)
			}
			if strings.Contains(err.Error(), "2025550143") || strings.Contains(err.Error(), "2025550144") || strings.Contains(err.Error(), "5550162") {
				t.Errorf("the error quotes a phone number: %v", err)
			}
		})
	}
}
