// Package contactflow_test proves that every sample event of the contact-flow function decodes.
package contactflow_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/shared/contactflow"
)

// samples lists every sample and the operation it asks for: a new file must be added here.
var samples = map[string]contactflow.Operation{
	"update.json":                 contactflow.OpUpdate,
	"update-real-shaped.json":     contactflow.OpUpdate,
	"get-keys.json":               contactflow.OpGet,
	"get-prefix.json":             contactflow.OpGet,
	"optout.json":                 contactflow.OpOptOut,
	"optout-phone-parameter.json": contactflow.OpOptOut,
}

func TestEverySampleDecodes(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(samples) {
		t.Errorf("%d sample files, %d listed in samples: %v", len(files), len(samples), files)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			want, listed := samples[file]
			if !listed {
				t.Fatalf("%s is not listed in samples", file)
			}
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := contactflow.DecodeEvent(payload)
			if err != nil {
				t.Fatal(err)
			}
			cd := ev.Details.ContactData
			if ev.Name != "ContactFlowEvent" || cd.InstanceARN == "" || cd.ContactID == "" || cd.InitialContactID == "" {
				t.Errorf("decoded %+v: name, instance and contact IDs must be set", ev)
			}
			op := contactflow.OpUpdate
			if raw, ok := ev.Details.Parameters[contactflow.ParamOperation]; ok {
				s, err := contactflow.ValueText(raw)
				if err != nil {
					t.Fatal(err)
				}
				op = contactflow.Operation(s)
			}
			if op != want {
				t.Errorf("operation %q, want %q", op, want)
			}
			for name, raw := range ev.Details.Parameters {
				if _, err := contactflow.ValueText(raw); err != nil {
					t.Errorf("parameter %s: %v", name, err)
				}
			}

			// Round trip through the Go types: what they keep survives encoding unchanged.
			again, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			ev2, err := contactflow.DecodeEvent(again)
			if err != nil {
				t.Fatal(err)
			}
			// Raw parameters come back compacted: compare them as the function reads them.
			if ev.Name != ev2.Name || !reflect.DeepEqual(ev.Details.ContactData, ev2.Details.ContactData) ||
				!reflect.DeepEqual(paramText(t, ev), paramText(t, ev2)) {
				t.Errorf("round trip changed the event:\n%+v\n%+v", ev, ev2)
			}
		})
	}
}

// The real-shaped sample is there for what aws-lambda-go's ConnectEvent cannot take.
func TestRealShapedSampleKeepsNonStringParameters(t *testing.T) {
	payload, err := os.ReadFile("update-real-shaped.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := contactflow.DecodeEvent(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"preferred_language": "français", "greeting_seen": "true", "menu_depth": "3", "balance": "12.50",
		"account": `{"id":"A-1042","flags":["autopay","paperless"],"owner":{"name":"Zoë"}}`, "callback_window": "null",
	}
	for k, v := range want {
		got, err := contactflow.ValueText(ev.Details.Parameters[k])
		if err != nil || got != v {
			t.Errorf("parameter %s = %q, %v; want %q", k, got, err, v)
		}
	}
	if ev.Details.ContactData.Attributes["greeting"] != "こんにちは" {
		t.Errorf("attributes = %v", ev.Details.ContactData.Attributes)
	}
}

// Connect sends the contact's queue as an object (ARN, Name, OutboundCallerId), as in the
// example request of the Amazon Connect Administrator Guide (Invoke Lambda functions) and the
// Lambda Developer Guide (Using Lambda with Amazon Connect); it is null before the flow sets a
// queue. The real-shaped sample carries the object, and the function, which does not use the
// queue, decodes it.
func TestRealShapedSampleHasTheQueueAsConnectSendsIt(t *testing.T) {
	payload, err := os.ReadFile("update-real-shaped.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Details struct {
			ContactData struct {
				InstanceARN string
				Queue       *struct {
					ARN, Name        string
					OutboundCallerId *struct{ Address, Type string }
				}
			}
		}
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatal(err)
	}
	cd := raw.Details.ContactData
	q := cd.Queue
	if q == nil || !strings.HasPrefix(q.ARN, cd.InstanceARN+"/queue/") || q.Name == "" || q.OutboundCallerId == nil || q.OutboundCallerId.Type != "TELEPHONE_NUMBER" {
		t.Fatalf("Queue = %+v, want an object with the queue's ARN under %s, a Name and an OutboundCallerId", q, cd.InstanceARN)
	}
	if _, err := contactflow.DecodeEvent(payload); err != nil {
		t.Fatal(err)
	}
}

func paramText(t *testing.T, ev contactflow.Event) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, raw := range ev.Details.Parameters {
		s, err := contactflow.ValueText(raw)
		if err != nil {
			t.Fatalf("parameter %s: %v", k, err)
		}
		out[k] = s
	}
	return out
}
