package dialer_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
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

var (
	longDigits = regexp.MustCompile(`[0-9]{7,}`)
	uuidLike   = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
)

// FuzzDecode: Decode never panics; a refusal is a *RefusedError with a known reason that wraps
// ErrRefused and quotes no phone number, nor any run of seven digits, of the event; an accepted
// event has a detail that validates. Seeds: every sample event, the dialer's catalog of hostile
// events and the ones below.
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
	// The dialer's catalog of hostile events (shared/outbound/testdata), and more seeds here;
	// testdata/fuzz/FuzzDecode holds the committed corpus.
	catalog, err := os.ReadFile("../../shared/outbound/testdata/hostile-events.json")
	if err != nil {
		f.Fatal(err)
	}
	var entries []struct {
		Raw   *string         `json:"raw"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(catalog, &entries); err != nil || len(entries) < 50 {
		f.Fatalf("the dialer's catalog: %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if e.Raw != nil {
			f.Add([]byte(*e.Raw))
		} else {
			f.Add([]byte(e.Event))
		}
	}
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
			// Nor any run of seven digits or more, wherever it was (a number in a source, a
			// field name, a duration); UUIDs aside.
			for _, run := range longDigits.FindAllString(uuidLike.ReplaceAllString(string(raw), ""), -1) {
				if strings.Contains(err.Error(), run) {
					t.Fatalf("refusal quotes the digits %s of the event: %v", run, err)
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
