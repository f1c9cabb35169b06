package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// chartMinutes is how many simulated minutes the calls-per-minute chart shows.
const chartMinutes = 30

// Status is what the status page shows, also served as JSON at /status.json.
type Status struct {
	Now       time.Time        `json:"now"`
	TimeScale float64          `json:"timeScale"`
	Campaigns []CampaignStatus `json:"campaigns"`
	// CallsPerMinute counts the calls started in each of the last simulated minutes, oldest
	// first; the last entry is the current minute.
	CallsPerMinute []MinuteCount            `json:"callsPerMinute"`
	Outcomes       []NamedCount             `json:"outcomes"`
	Agents         []AgentStatus            `json:"agents"`
	RecentCalls    []CallStatus             `json:"recentCalls"`
	Functions      map[string]FunctionStats `json:"functions"`
	// DeadLetters are the asynchronous events given up after every retry, newest first (their
	// records, payload included, at GET /_devstack/dead-letters on the Lambda API).
	DeadLetters []DeadLetterStatus `json:"deadLetters"`
	Bus         BusStats           `json:"bus"`
	Ticks       int                `json:"ticks"`
	states      map[string]map[dialer.State]int
}

// CampaignStatus is one campaign's progress.
type CampaignStatus struct {
	ID         string       `json:"id"`
	Status     string       `json:"status"`
	Recipients int          `json:"recipients"`
	Final      int          `json:"final"`
	Percent    int          `json:"percent"`
	States     []NamedCount `json:"states"`
	Error      string       `json:"error,omitempty"`
	// Abandonment is the campaign's abandoned calls as its rule set counts them, from the audit
	// trail, against its ceiling.
	Abandonment *AbandonmentStatus `json:"abandonment,omitempty"`
}

// AbandonmentStatus is one campaign's abandonment so far: the totals, the ceiling, and the
// running rate after each settled call answered by a person (at most abandonmentPoints of them,
// the latest), for the chart.
type AbandonmentStatus struct {
	Rules     string    `json:"rules"`
	Answered  float64   `json:"answeredByPerson"`
	Abandoned float64   `json:"abandoned"`
	Rate      float64   `json:"rate"`
	Ceiling   float64   `json:"ceiling"`
	Running   []float64 `json:"running"`
}

// abandonmentPoints bounds the running-rate series a campaign's chart shows.
const abandonmentPoints = 120

// NamedCount is one row of a count table.
type NamedCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// MinuteCount is the calls started in one simulated minute.
type MinuteCount struct {
	Minute time.Time `json:"minute"`
	Calls  int       `json:"calls"`
}

// AgentStatus is one simulated agent.
type AgentStatus struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Activity string `json:"activity,omitempty"`
}

// CallStatus is one recent outbound call, its number masked.
type CallStatus struct {
	Started time.Time `json:"started"`
	Number  string    `json:"number"`
	Status  string    `json:"status"`
	Outcome string    `json:"outcome,omitempty"`
	Reason  string    `json:"disconnectReason,omitempty"`
}

// campaigns remembers the campaigns launched through the dialer (the bus or the Invoke API).
type campaigns struct {
	mu  sync.Mutex
	ids []string
}

func (c *campaigns) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.ids {
		if x == id {
			return
		}
	}
	c.ids = append(c.ids, id)
}

func (c *campaigns) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ids...)
}

// launchWatcher notes the campaign of every Campaign Launched event the dialer takes.
type launchWatcher struct {
	h    lambda.Handler
	seen *campaigns
}

func (w launchWatcher) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := w.h.Invoke(ctx, payload)
	var ev struct {
		DetailType string `json:"detail-type"`
		Detail     struct {
			CampaignID string `json:"campaignId"`
		} `json:"detail"`
	}
	if json.Unmarshal(payload, &ev) == nil && ev.DetailType == dialerevents.TypeCampaignLaunched && ev.Detail.CampaignID != "" && len(ev.Detail.CampaignID) <= 128 {
		w.seen.add(ev.Detail.CampaignID)
	}
	return out, err
}

// Status gathers the figures of the page.
func (st *Stack) Status(ctx context.Context) Status {
	now := st.Clock.Now()
	s := Status{Now: now.UTC(), TimeScale: st.timeScale, Functions: st.Functions.Stats(), Bus: st.Bus.Stats(), Ticks: st.Ticks(),
		DeadLetters: []DeadLetterStatus{}, states: map[string]map[dialer.State]int{}}
	letters := st.Functions.DeadLetters()
	for i := len(letters) - 1; i >= 0; i-- {
		s.DeadLetters = append(s.DeadLetters, deadLetterStatus(letters[i]))
	}
	store := campaignstore.New(st.DynamoDB, CampaignsTable)
	for _, id := range st.campaigns.list() {
		cs := CampaignStatus{ID: id}
		c, err := store.Campaign(ctx, id)
		if err != nil {
			cs.Error = err.Error()
			s.Campaigns = append(s.Campaigns, cs)
			continue
		}
		cs.Status = string(c.Status)
		states, err := countStates(ctx, store, c)
		if err != nil {
			cs.Error = err.Error()
		}
		s.states[id] = states
		for state, n := range states {
			cs.Recipients += n
			if state.Final() {
				cs.Final += n
			}
			cs.States = append(cs.States, NamedCount{Name: string(state), Count: n})
		}
		sortCounts(cs.States)
		cs.Abandonment = abandonmentOf(ctx, store, c)
		if cs.Recipients > 0 {
			cs.Percent = 100 * cs.Final / cs.Recipients
		}
		s.Campaigns = append(s.Campaigns, cs)
	}

	first := now.Truncate(time.Minute).Add(-(chartMinutes - 1) * time.Minute)
	for i := 0; i < chartMinutes; i++ {
		s.CallsPerMinute = append(s.CallsPerMinute, MinuteCount{Minute: first.Add(time.Duration(i) * time.Minute).UTC()})
	}
	outcomes := map[string]int{}
	var calls []CallStatus
	for _, ct := range st.Sim.Contacts() {
		if ct.InitiationMethod != "API" {
			continue
		}
		if i := int(ct.InitiationTimestamp.Sub(first) / time.Minute); ct.InitiationTimestamp.After(first) && i < chartMinutes {
			s.CallsPerMinute[i].Calls++
		}
		if ct.Outcome != "" {
			outcomes[ct.Outcome]++
		}
		calls = append(calls, CallStatus{Started: ct.InitiationTimestamp.UTC(), Number: phone.Mask(ct.CustomerNumber), Status: ct.Status,
			Outcome: ct.Outcome, Reason: ct.DisconnectReason})
	}
	for k, v := range outcomes {
		s.Outcomes = append(s.Outcomes, NamedCount{Name: k, Count: v})
	}
	sortCounts(s.Outcomes)
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].Started.After(calls[j].Started) })
	if len(calls) > 12 {
		calls = calls[:12]
	}
	s.RecentCalls = calls
	for _, a := range st.Sim.Agents(st.InstanceID) {
		s.Agents = append(s.Agents, AgentStatus{Name: a.Name, Status: a.Status, Activity: a.Activity})
	}
	return s
}

func sortCounts(c []NamedCount) {
	sort.Slice(c, func(i, j int) bool {
		return c[i].Count > c[j].Count || c[i].Count == c[j].Count && c[i].Name < c[j].Name
	})
}

// statusHandler serves the page, its stylesheet and the JSON.
func (st *Stack) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := st.Status(r.Context())
		max := 1
		for _, m := range s.CallsPerMinute {
			if m.Calls > max {
				max = m.Calls
			}
		}
		secure(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := statusPage.Execute(w, map[string]any{"S": s, "Max": max, "ChartH": 100, "BarW": 12, "Lambda": st.URLs.Lambda + deadLettersPath}); err != nil {
			st.log.Warn("status page", "error", err)
		}
	})
	mux.HandleFunc("GET /status.css", func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(statusCSS))
	})
	st.chatHandlers(mux)
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st.Status(r.Context()))
	})
	return mux
}

func secure(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
}

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"hhmm":             func(t time.Time) string { return t.Format("15:04") },
	"barH":             func(n, max, h int) int { return n * h / max },
	"mul":              func(a, b int) int { return a * b },
	"sub":              func(a, b int) int { return a - b },
	"pct":              func(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) },
	"abandonmentChart": abandonmentChart,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="2">
<title>Switchboard devstack</title>
<link rel="stylesheet" href="/status.css">
</head>
<body>
<h1>Switchboard devstack</h1>
<p><a href="/chat">Try the chat sign-in</a> (customer authentication through the authredirect function).</p>
<p id="clock">Simulated time {{.S.Now.Format "Mon 2006-01-02 15:04:05 MST"}}, {{.S.TimeScale}}x real time; {{.S.Ticks}} ticks sent.</p>

<h2>Campaigns</h2>
{{if not .S.Campaigns}}<p id="no-campaigns">No campaign launched yet: send a Campaign Launched event (docs/devstack.md).</p>{{end}}
<table id="campaigns">
<tr><th>campaign</th><th>status</th><th>progress</th><th>recipients</th><th>by state</th><th>abandoned (rule set)</th></tr>
{{range .S.Campaigns}}<tr class="campaign" data-campaign="{{.ID}}">
<td>{{.ID}}</td><td class="status">{{.Status}}{{if .Error}} ({{.Error}}){{end}}</td>
<td><progress max="100" value="{{.Percent}}"></progress> <span class="final">{{.Final}}</span>/<span class="recipients">{{.Recipients}}</span> final</td>
<td>{{.Recipients}}</td>
<td>{{range .States}}<span class="state" data-state="{{.Name}}">{{.Name}} <b>{{.Count}}</b></span> {{end}}</td>
<td>{{with .Abandonment}}<span class="abandonment-rate" data-rate="{{.Rate}}" data-ceiling="{{.Ceiling}}">{{pct .Rate}} of {{printf "%.1f" .Answered}} answered ({{.Rules}}: at most {{pct .Ceiling}})</span><br>{{abandonmentChart .}}{{end}}</td>
</tr>{{end}}
</table>

<h2>Calls per simulated minute</h2>
<svg id="calls-per-minute" width="{{mul (len .S.CallsPerMinute) .BarW}}" height="{{.ChartH}}" role="img" aria-label="calls per minute, last {{len .S.CallsPerMinute}} simulated minutes">
{{- $max := .Max}}{{$h := .ChartH}}{{$w := .BarW}}
{{- range $i, $m := .S.CallsPerMinute}}<rect class="bar" x="{{mul $i $w}}" y="{{sub $h (barH $m.Calls $max $h)}}" width="{{sub $w 2}}" height="{{barH $m.Calls $max $h}}" data-calls="{{$m.Calls}}"><title>{{hhmm $m.Minute}}: {{$m.Calls}}</title></rect>{{end}}
</svg>
<p>From {{with index .S.CallsPerMinute 0}}{{hhmm .Minute}}{{end}} to now; the highest bar is {{.Max}}.</p>

<h2>Outcomes</h2>
<table id="outcomes"><tr><th>outcome (connectsim)</th><th>calls</th></tr>
{{range .S.Outcomes}}<tr><td>{{.Name}}</td><td>{{.Count}}</td></tr>{{end}}
</table>

<h2>Agents</h2>
<table id="agents"><tr><th>agent</th><th>status</th><th>activity</th></tr>
{{range .S.Agents}}<tr><td>{{.Name}}</td><td>{{.Status}}</td><td>{{.Activity}}</td></tr>{{end}}
</table>

<h2>Recent calls</h2>
<table id="recent"><tr><th>started</th><th>number</th><th>status</th><th>outcome</th><th>disconnect</th></tr>
{{range .S.RecentCalls}}<tr><td>{{hhmm .Started}}</td><td>{{.Number}}</td><td>{{.Status}}</td><td>{{.Outcome}}</td><td>{{.Reason}}</td></tr>{{end}}
</table>

<h2>Functions</h2>
<table id="functions"><tr><th>function</th><th>invocations</th><th>errors</th><th>dead letters</th><th>dropped at stop</th></tr>
{{range $name, $f := .S.Functions}}<tr><td>{{$name}}</td><td>{{$f.Invocations}}</td><td>{{$f.Errors}}</td><td>{{$f.Failed}}</td><td>{{$f.Dropped}}</td></tr>{{end}}
</table>

<h2>Dead letters</h2>
<p>Asynchronous events a function failed on three times (Lambda's first attempt and two retries), newest first. The records, payload included, are at <code>GET {{.Lambda}}</code>; replay one as docs/dialer.md says (When an event fails).</p>
{{if not .S.DeadLetters}}<p id="no-dead-letters">None.</p>{{else}}
<table id="dead-letters"><tr><th>given up</th><th>function</th><th>event</th><th>attempts</th><th>request</th><th>error</th></tr>
{{range .S.DeadLetters}}<tr class="dead-letter" data-request-id="{{.RequestID}}"><td>{{hhmm .At}}</td><td>{{.Function}}</td><td>{{.DetailType}}{{if .EventID}} <small>{{.EventID}}</small>{{end}}</td><td>{{.Attempts}}</td><td><small>{{.RequestID}}</small></td><td>{{.Error}}</td></tr>{{end}}
</table>{{end}}
<p>Bus: {{.S.Bus.Published}} events published, {{.S.Bus.Unmatched}} matched no rule.</p>
</body>
</html>
`))

const statusCSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1em}td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left}
.state{white-space:nowrap;margin-right:.6em}svg{background:#f6f6f6;border:1px solid #ddd}.bar{fill:#2a6ebb}
.abandonment .rate{fill:none;stroke:#2a6ebb;stroke-width:1.5}.abandonment .ceiling{stroke:#c33;stroke-dasharray:4 3}
progress{width:12em}`

// abandonmentOf reads a campaign's abandonment from its audit trail (the whole trail on every
// look: the page is for the local stack's small campaigns).
func abandonmentOf(ctx context.Context, store *campaignstore.Store, c campaignstore.Campaign) *AbandonmentStatus {
	rep, err := outbound.BuildCompliance(ctx, store, c.ID)
	if err != nil {
		return nil
	}
	a := &AbandonmentStatus{Rules: rep.Rules.Name, Answered: rep.Overall.Answered, Abandoned: rep.Overall.Abandoned, Rate: rep.Overall.Rate, Ceiling: rep.Rules.Ceiling}
	var ans, ab float64
	_ = store.ExportAudit(ctx, c.ID, c.Shards, func(r dialer.AuditRecord) error {
		if r.Kind == dialer.AuditSettle && r.AnsweredByPerson > 0 {
			ans += r.AnsweredByPerson
			ab += r.Abandoned
			a.Running = append(a.Running, ab/ans)
		}
		return nil
	})
	if n := len(a.Running); n > abandonmentPoints {
		a.Running = a.Running[n-abandonmentPoints:]
	}
	return a
}

// abandonmentChart draws a campaign's running abandonment rate (a line) against its ceiling (a
// dashed line), scaled to twice the ceiling or the highest rate.
func abandonmentChart(a *AbandonmentStatus) template.HTML {
	const w, h = 240, 60
	top := 2 * a.Ceiling
	for _, r := range a.Running {
		top = max(top, r)
	}
	y := func(r float64) float64 { return h - r/top*h }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="abandonment" width="%d" height="%d" role="img" aria-label="abandonment %.1f %% against a ceiling of %.1f %%">`, w, h, 100*a.Rate, 100*a.Ceiling)
	fmt.Fprintf(&b, `<line class="ceiling" x1="0" x2="%d" y1="%.1f" y2="%.1f"/>`, w, y(a.Ceiling), y(a.Ceiling))
	if n := len(a.Running); n > 0 {
		b.WriteString(`<polyline class="rate" points="`)
		for i, r := range a.Running {
			x := 0.0
			if n > 1 {
				x = float64(i) * w / float64(n-1)
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y(r))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers only: nothing from a request or a record's text
}
