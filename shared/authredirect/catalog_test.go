package authredirect

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/connectsim/simtest"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// hostileRequest is one entry of testdata/hostile-requests.json: an API Gateway HTTP API
// (payload format 2.0) event the function may receive, and what it must answer: the status,
// the outcome the page or the completion carries, and the reason of the log line.
type hostileRequest struct {
	Name    string                         `json:"name"`
	Status  int                            `json:"status"`
	Outcome Outcome                        `json:"outcome"`
	Reason  string                         `json:"reason"`
	Request events.APIGatewayV2HTTPRequest `json:"request"`
}

// States the catalog replays: catalogUsedState was used (claimed and extended) and
// catalogPendingState is held by another request's claim when the catalog runs.
const (
	catalogUsedState    = "catalog-used-state-0001-Zq7Xw2"
	catalogPendingState = "catalog-pending-state-0001-Pk4Rt8"
)

func loadHostileRequests(t testing.TB) []hostileRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/hostile-requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var catalog []hostileRequest
	if err := json.Unmarshal(b, &catalog); err != nil {
		t.Fatal(err)
	}
	return catalog
}

var outcomeOfPage = regexp.MustCompile(`var outcome = "([a-z_]+)";`)

// answeredOutcome reads the outcome a response carries: the page's script variable, or the
// completion's JSON.
func answeredOutcome(resp events.APIGatewayV2HTTPResponse) Outcome {
	if m := outcomeOfPage.FindStringSubmatch(resp.Body); m != nil {
		return Outcome(m[1])
	}
	var c completion
	if json.Unmarshal([]byte(resp.Body), &c) == nil && c.Source == MessageSource {
		return c.Outcome
	}
	return ""
}

// requestValues returns the values of a request that must never come back in clear: every
// parameter of the query and of the body (leniently split, so that a value survives a body
// that does not decode), the parameters of an authentication_url, and every cookie. The
// attempt and the binding are the page's own and are echoed on purpose; values under 8
// characters are too common to test for.
func requestValues(req events.APIGatewayV2HTTPRequest) []string {
	body := req.Body
	if req.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(body); err == nil {
			body = string(b)
		}
	}
	var out []string
	var collect func(raw string)
	collect = func(raw string) {
		for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
			k, v, _ := strings.Cut(part, "=")
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if dv, err := url.QueryUnescape(v); err == nil {
				v = dv
			}
			if k == paramAttempt || k == paramBinding {
				continue
			}
			if k == paramAuthenticationURL {
				if _, q, ok := strings.Cut(v, "?"); ok {
					collect(q)
				}
			}
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	collect(req.RawQueryString)
	collect(body)
	for _, c := range req.Cookies {
		if _, v, _ := strings.Cut(c, "="); len(v) >= 8 {
			out = append(out, v)
		}
	}
	return out
}

// catalogHandler is the real handler with Connect played by connectsim (the SDK client over
// HTTP) and the state store on dynalite: one of each for the whole catalog.
func catalogHandler(t *testing.T) (*Handler, *simtest.Server, *dynamodb.Client, *bytes.Buffer) {
	t.Helper()
	sim := simtest.Start(t, connectsim.Options{})
	ddb := dynalitetest.Start(t)
	ddb.CreateTable(t, authstate.CreateTableInput("auth-state"))
	store, err := authstate.New(ddb.Client(), "auth-state", DefaultStateTTL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	used, err := store.Claim(ctx, catalogUsedState, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Extend(ctx, used); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Claim(ctx, catalogPendingState, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	cfg := Config{
		InstanceID: connectsim.DefaultInstanceID,
		ChatOrigin: "https://chat.example.com",
		StateTable: "auth-state",
		StateTTL:   DefaultStateTTL,
		CallBudget: flowbudget.Budget{Total: DefaultCallBudget, Margin: flowbudget.DefaultMargin},
	}
	h, err := NewHandler(cfg, sim.ConnectClient(t), store, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h, sim, ddb.Client(), logs
}

func connectRequests(sim *simtest.Server) int {
	n := 0
	for _, byOutcome := range sim.Stats().Requests {
		for _, c := range byOutcome {
			n += c
		}
	}
	return n
}

func stateItems(t *testing.T, ddb *dynamodb.Client) int {
	t.Helper()
	out, err := ddb.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("auth-state")})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

// Every entry of the catalog gets its status, outcome and log reason from the real handler
// (HandleAPIGateway, as Lambda calls it), reaches neither Connect nor the state store with a
// write, and shows no value of the request in clear: not in the log line, the body or a header.
func TestHostileRequestsCatalog(t *testing.T) {
	catalog := loadHostileRequests(t)
	if len(catalog) < 50 {
		t.Fatalf("the catalog has %d entries, want at least 50", len(catalog))
	}
	h, sim, ddb, logs := catalogHandler(t)
	items := stateItems(t, ddb)
	seen := map[string]bool{}
	for _, e := range catalog {
		t.Run(e.Name, func(t *testing.T) {
			if seen[e.Name] || e.Status == 0 || e.Outcome == "" || e.Reason == "" {
				t.Fatalf("catalog entry %q: duplicate name, or no status, outcome or reason", e.Name)
			}
			seen[e.Name] = true
			logs.Reset()
			resp, err := h.HandleAPIGateway(context.Background(), e.Request)
			if err != nil {
				t.Fatalf("HandleAPIGateway returned an error: %v", err)
			}
			if resp.StatusCode != e.Status || answeredOutcome(resp) != e.Outcome {
				t.Errorf("answered %d %q, want %d %q", resp.StatusCode, answeredOutcome(resp), e.Status, e.Outcome)
			}
			var line struct {
				Outcome Outcome `json:"outcome"`
				Status  int     `json:"status"`
				Reason  string  `json:"reason"`
			}
			if strings.Count(logs.String(), "\n") != 1 || json.Unmarshal(logs.Bytes(), &line) != nil {
				t.Fatalf("want one JSON log line, got:\n%s", logs)
			}
			if line.Reason != e.Reason || line.Status != e.Status || line.Outcome != e.Outcome {
				t.Errorf("log line %d %q %q, want %d %q %q", line.Status, line.Outcome, line.Reason, e.Status, e.Outcome, e.Reason)
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", resp.Headers["Cache-Control"])
			}
			if n := connectRequests(sim); n != 0 {
				t.Fatalf("%d requests reached Connect", n)
			}
			if n := stateItems(t, ddb); n != items {
				t.Fatalf("the state table holds %d items, want %d: the request claimed a state", n, items)
			}
			headers, _ := json.Marshal(resp.Headers)
			for _, v := range requestValues(e.Request) {
				for where, text := range map[string]string{"the log line": logs.String(), "the body": resp.Body, "the headers": string(headers)} {
					if strings.Contains(text, v) {
						t.Errorf("%s holds a value of the request in clear: %.40q", where, v)
					}
				}
			}
		})
	}
}

// The catalog's own check of values is not vacuous: a request whose state is in the log line
// is caught.
func TestRequestValuesFindTheState(t *testing.T) {
	req := events.APIGatewayV2HTTPRequest{RawQueryString: "code=abcdefgh1&state=" + url.QueryEscape("<b>state-value</b>"),
		Body: base64.StdEncoding.EncodeToString([]byte("authentication_url=" + url.QueryEscape("https://a.example/?state=inner-state-1"))), IsBase64Encoded: true,
		Cookies: []string{BindingCookie + "=" + authstate.Hash("x")}}
	got := strings.Join(requestValues(req), " | ")
	for _, want := range []string{"abcdefgh1", "<b>state-value</b>", "inner-state-1", authstate.Hash("x")} {
		if !strings.Contains(got, want) {
			t.Errorf("requestValues misses %q: %s", want, got)
		}
	}
}
