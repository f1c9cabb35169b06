package contactflow

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// addSeeds adds every sample event of events/contactflow and every catalog entry; the
// committed corpus under testdata/fuzz/<target> is added by go test itself.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob("../../events/contactflow/*.json")
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
	for _, h := range loadHostileEvents(f) {
		f.Add(h.payload())
	}
}

// FuzzDecodeEvent: DecodeEvent never panics, and what it accepts survives a round trip: encoded
// again and decoded, it is the same event, parameter values read the same.
func FuzzDecodeEvent(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := DecodeEvent(payload)
		if err != nil {
			return
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("a decoded event does not encode: %v", err)
		}
		ev2, err := DecodeEvent(again)
		if err != nil {
			t.Fatalf("a decoded event does not decode again: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(ev.Details.ContactData, ev2.Details.ContactData) {
			t.Fatalf("ContactData changed in a round trip:\n%+v\n%+v", ev.Details.ContactData, ev2.Details.ContactData)
		}
		p1, f1 := parseParams(ev.Details.Parameters)
		p2, f2 := parseParams(ev2.Details.Parameters)
		if (f1 == nil) != (f2 == nil) || !maps.Equal(p1, p2) {
			t.Fatalf("parameters changed in a round trip: %v %v / %v %v", p1, f1, p2, f2)
		}
	})
}

// FuzzHandle: whatever the payload, the handler answers a flat string map under 32 KB with
// result ok or error, a known error code other than INTERNAL (a recovered panic or a bug), one
// log line, and no number of the input in clear in the answer or the log line.
func FuzzHandle(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		fx := newFixture(t)
		out, err := fx.h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("Invoke failed in ErrorModeResult: %v", err)
		}
		if len(out) >= MaxResponseBytes {
			t.Fatalf("response of %d bytes", len(out))
		}
		var resp map[string]string
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("response %.200s is not a flat string map: %v", out, err)
		}
		switch resp[RespResult] {
		case ResultOK:
		case ResultError:
			if code := Code(resp[RespErrorCode]); !slices.Contains(Codes, code) || code == Internal {
				t.Fatalf("error_code %q: %v", code, resp)
			}
			checkNoNumberLeaks(t, payload, "error_message", resp[RespErrorMessage])
		default:
			t.Fatalf("result %q", resp[RespResult])
		}
		// contact_id and instance_id are validated IDs, logged on purpose.
		var line map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(fx.logs.Bytes()), &line); err != nil {
			t.Fatalf("not one JSON log line: %v\n%s", err, fx.logs)
		}
		delete(line, "contact_id")
		delete(line, "instance_id")
		rest, _ := json.Marshal(line)
		checkNoNumberLeaks(t, payload, "the log line", string(rest))
	})
}
