package dialer_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/events/dialer"
)

var reasons = []string{dialer.ReasonTooLarge, dialer.ReasonNotJSON, dialer.ReasonUnknownSource,
	dialer.ReasonUnknownDetailType, dialer.ReasonMalformedDetail, dialer.ReasonInvalidDetail}

// phoneValues collects the values of every "phone" key (any case, at any depth) of raw, when
// raw is JSON: the numbers a refusal must never quote.
func phoneValues(raw []byte) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && strings.EqualFold(k, "phone") && len(strings.TrimSpace(s)) >= 4 {
					out = append(out, strings.TrimSpace(s))
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// FuzzDecode: Decode never panics; a refusal is a *RefusedError with a known reason that wraps
// ErrRefused and quotes no phone number of the event; an accepted event has a detail that
// validates. Seeds: every sample event and the hostile ones below.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no sample events: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Hostile seeds beside the samples (this folder's testdata is not ours to add to).
	for _, s := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"source":"switchboard"}`, `{"source":"aws.connect","detail-type":"Amazon Connect Contact Event"}`,
		`{"source":"switchboard","detail-type":"Call Requested","detail":{"requestId":"r1","campaignId":"c1","phone":14155550162}}`,
		`{"source":"switchboard","detail-type":"Call Requested","detail":{"requestId":"r1","campaignId":"c1","phone":"+1415555016212345678901234567890"}}`,
		`{"source":"switchboard","detail-type":"Call Requested","detail":{"requestId":"../x","campaignId":"c1","phone":"+14155550162"}}`,
		`{"source":"switchboard","detail-type":"Campaign Launched","detail":{"campaignId":"c1","instanceId":"i","contactFlowId":"f","queueId":"q","recipients":[{"recipientId":"a","phone":"+14155550162"},{"recipientId":"a","phone":"+14155550163"}]}}`,
		`{"source":"switchboard","detail-type":"Campaign Updated","detail":{"campaignId":"c1","retry":{"failed":{"delay":"-5h","maxAttempts":-1}}}}`,
		`{"source":"switchboard","detail-type":"Tick","detail":{"scheduledTime":"yesterday"}}`,
		`{"source":"switchboard","detail-type":"Call Stop Requested","detail":{"campaignId":"c1","contactId":"a","recipientId":"b"}}`,
		`{"source":"aws.connect","detail-type":"Amazon Connect Contact Event","detail":{"eventType":"DISCONNECTED","contactId":"a/b"}}`,
		`{"source":"aws.connect","detail-type":"Amazon Connect Contact Event","detail":{"EVENTTYPE":"QUEUED","CONTACTID":"abc","customerEndpoint":{"address":"+14155550162"}}}`,
		`{"source":"switchboard","detail-type":"Call Requested","detail":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := dialer.Decode(raw)
		if err != nil {
			var re *dialer.RefusedError
			if !errors.As(err, &re) || !errors.Is(err, dialer.ErrRefused) || !slices.Contains(reasons, re.Reason) {
				t.Fatalf("Decode error %T %v: want a *RefusedError with a known reason wrapping ErrRefused", err, err)
			}
			for _, p := range phoneValues(raw) {
				if strings.Contains(err.Error(), p) {
					t.Fatalf("refusal quotes the phone number %q: %v", p, err)
				}
			}
			return
		}
		d, ok := ev.Detail.(interface{ Validate() error })
		if !ok || ev.Detail == nil {
			t.Fatalf("accepted event with detail %T", ev.Detail)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted event whose detail does not validate: %v", err)
		}
	})
}
