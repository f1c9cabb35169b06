package contactflow

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// hostileEvent is one entry of testdata/hostile-events.json: a malformed or hostile invocation
// payload (raw text, or an event as JSON) and the error code the function must answer.
type hostileEvent struct {
	Name  string          `json:"name"`
	Code  Code            `json:"code"`
	Raw   *string         `json:"raw"`
	Event json.RawMessage `json:"event"`
}

func (h hostileEvent) payload() []byte {
	if h.Raw != nil {
		return []byte(*h.Raw)
	}
	return h.Event
}

func loadHostileEvents(t testing.TB) []hostileEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/hostile-events.json")
	if err != nil {
		t.Fatal(err)
	}
	var catalog []hostileEvent
	if err := json.Unmarshal(b, &catalog); err != nil {
		t.Fatal(err)
	}
	return catalog
}

// longDigitRuns finds what could be a phone number in clear: seven digits or more in a row,
// once UUIDs (contact and instance IDs, logged on purpose) are taken out.
var longDigitRuns = regexp.MustCompile(`[0-9]{7,}`)

// uuidLike matches the shape of Connect's contact and instance IDs.
var uuidLike = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

func phoneLikeRuns(s string) []string {
	return longDigitRuns.FindAllString(uuidLike.ReplaceAllString(s, ""), -1)
}

// checkNoNumberLeaks fails when a run of seven digits or more from the payload appears in text.
func checkNoNumberLeaks(t *testing.T, payload []byte, where, text string) {
	t.Helper()
	clean := uuidLike.ReplaceAllString(text, "")
	for _, run := range phoneLikeRuns(string(payload)) {
		if strings.Contains(clean, run) {
			t.Errorf("%s shows %s from the input in clear: %.300s", where, run, text)
		}
	}
}

// Every entry of the catalog is refused with its code, writes nothing, and shows no number of
// its input in clear in the answer or the log line.
func TestHostileEventsCatalog(t *testing.T) {
	catalog := loadHostileEvents(t)
	if len(catalog) < 50 {
		t.Fatalf("the catalog has %d entries, want at least 50", len(catalog))
	}
	known := map[Code]bool{}
	for _, c := range Codes {
		known[c] = true
	}
	seen := map[string]bool{}
	for _, h := range catalog {
		t.Run(h.Name, func(t *testing.T) {
			if seen[h.Name] || !known[h.Code] || (h.Raw == nil) == (h.Event == nil) {
				t.Fatalf("catalog entry %q: duplicate name, unknown code %q, or not exactly one of raw and event", h.Name, h.Code)
			}
			seen[h.Name] = true
			fx := newFixture(t)
			resp := fx.invoke(t, h.payload())
			wantError(t, resp, h.Code)
			if len(fx.connect.updates) != 0 || len(fx.list.entries) != 0 {
				t.Errorf("%d attribute updates, %d opt-outs written; want none", len(fx.connect.updates), len(fx.list.entries))
			}
			checkNoNumberLeaks(t, h.payload(), "error_message", resp[RespErrorMessage])
			checkNoNumberLeaks(t, h.payload(), "the log line", fx.logs.String())
			if line := fx.logLine(t); line["error_code"] != string(h.Code) {
				t.Errorf("log line error_code = %v, want %s", line["error_code"], h.Code)
			}
		})
	}
}
