package connectsim

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard-connect/switchboard/shared/safeharbour"
)

// Start points of the abandonment measurement: the instant from which the threshold runs.
const (
	// StartAnswer measures from the pick-up (connectedToSystemTimestamp: "when the customer
	// endpoint answers"). Without answering machine detection it is as near as Connect gets to
	// the end of the greeting, and the stricter choice.
	StartAnswer = "answer"
	// StartFlow measures from the start of the flow: with detection, its result, which comes
	// after the greeting the detector listened to (Outbound Campaigns' GREETING_END is the like).
	StartFlow = "flow"
)

// AbandonmentQuery selects the calls of an abandonment measurement.
type AbandonmentQuery struct {
	// Threshold is the longest time from the start point to an agent (default 2 s, the FTC's
	// and the FCC's rule).
	Threshold time.Duration
	// StartPoint is StartAnswer (default) or StartFlow.
	StartPoint string
	// From and To bound the calls by their initiation, [From, To); zero is unbounded.
	From, To time.Time
	// CampaignID keeps the calls placed with this CampaignId; empty keeps every call.
	CampaignID string
	// InstanceID keeps one instance's calls; empty keeps every instance's.
	InstanceID string
	// Contacts adds one row per call to the report.
	Contacts bool
}

// AbandonmentReport measures abandonment from connectsim's own record of the calls
// StartOutboundVoiceContact placed, as a regulator would: of the calls a person answered (the
// simulated outcome, not what answering machine detection guessed), those not connected to an
// agent within the threshold of the start point are abandoned, whatever ended them: the
// safe-harbour flow, the person hanging up in the queue (also before the threshold: the stricter
// reading), a StopContact after a detection that took the person for a machine (which Ofcom
// counts as abandoned), or an agent who came too late.
type AbandonmentReport struct {
	Threshold  Duration  `json:"threshold"`
	StartPoint string    `json:"startPoint"`
	From       time.Time `json:"from,omitzero"`
	To         time.Time `json:"to,omitzero"`
	CampaignID string    `json:"campaignId,omitempty"`
	InstanceID string    `json:"instanceId,omitempty"`
	// At is the simulated time of the measurement.
	At time.Time `json:"at"`
	// Calls are the placed calls initiated in the window.
	Calls int `json:"calls"`
	// AnsweredByPerson and AnsweredByMachine count the calls that connected media.
	AnsweredByPerson  int `json:"answeredByPerson"`
	AnsweredByMachine int `json:"answeredByMachine"`
	// ConnectedInTime counts the person-answered calls connected to an agent within the
	// threshold; Abandoned those that were not (or will not be: still waiting past it).
	ConnectedInTime int `json:"connectedInTime"`
	Abandoned       int `json:"abandoned"`
	// Undecided counts person-answered calls still waiting within the threshold.
	Undecided int `json:"undecided"`
	// Rate is Abandoned / (AnsweredByPerson - Undecided): the US rule's share of calls
	// answered by a person; 0 without such calls.
	Rate float64 `json:"rate"`
	// SafeHarbourMessages counts the calls (person or machine) that heard a SAFE_HARBOUR
	// flow's message.
	SafeHarbourMessages int `json:"safeHarbourMessages"`
	// Complete is false when the record has forgotten placed calls (Options.RetainContacts)
	// that may fall in the window: the counts then miss them.
	Complete bool `json:"complete"`
	// Contacts are the rows of the calls, oldest first, when the query asks for them.
	Contacts []AbandonmentRow `json:"contacts,omitempty"`
}

// AbandonmentRow is one placed call in an abandonment report.
type AbandonmentRow struct {
	ContactID  string `json:"contactId"`
	CampaignID string `json:"campaignId,omitempty"`
	// AnsweredBy is AnsweredByPerson, AnsweredByMachine or empty (never answered).
	AnsweredBy                string    `json:"answeredBy,omitempty"`
	InitiationTimestamp       time.Time `json:"initiationTimestamp"`
	AnsweredTimestamp         time.Time `json:"answeredTimestamp,omitzero"`
	FlowStartTimestamp        time.Time `json:"flowStartTimestamp,omitzero"`
	ConnectedToAgentTimestamp time.Time `json:"connectedToAgentTimestamp,omitzero"`
	SafeHarbourTimestamp      time.Time `json:"safeHarbourTimestamp,omitzero"`
	DisconnectTimestamp       time.Time `json:"disconnectTimestamp,omitzero"`
	DisconnectReason          string    `json:"disconnectReason,omitempty"`
	// SecondsToAgent is from the start point to the agent, when one took the call.
	SecondsToAgent *float64 `json:"secondsToAgent,omitempty"`
	// Abandoned is set for person-answered calls once decided: connected within the threshold
	// (false) or not (true).
	Abandoned *bool `json:"abandoned,omitempty"`
}

// Abandonment measures abandonment over the placed calls the query selects.
func (s *Sim) Abandonment(q AbandonmentQuery) (AbandonmentReport, error) {
	if q.Threshold == 0 {
		q.Threshold = safeharbour.DefaultThreshold
	}
	if q.StartPoint == "" {
		q.StartPoint = StartAnswer
	}
	if q.Threshold < 0 {
		return AbandonmentReport{}, fmt.Errorf("connectsim: threshold %v must be positive", q.Threshold)
	}
	if q.StartPoint != StartAnswer && q.StartPoint != StartFlow {
		return AbandonmentReport{}, fmt.Errorf("connectsim: start point %q must be %s or %s", q.StartPoint, StartAnswer, StartFlow)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return AbandonmentReport{}, fmt.Errorf("connectsim: to %s must be after from %s", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	r := AbandonmentReport{Threshold: Duration(q.Threshold), StartPoint: q.StartPoint, From: q.From, To: q.To,
		CampaignID: q.CampaignID, InstanceID: q.InstanceID, At: now,
		Complete: s.stats.forgottenUpTo.IsZero() || (!q.From.IsZero() && q.From.After(s.stats.forgottenUpTo))}
	for _, id := range s.order {
		c := s.contacts[id]
		if c == nil || !c.simulated || (q.CampaignID != "" && c.campaignID != q.CampaignID) || (q.InstanceID != "" && c.instanceID != q.InstanceID) ||
			(!q.From.IsZero() && c.initiated.Before(q.From)) || (!q.To.IsZero() && !c.initiated.Before(q.To)) {
			continue
		}
		r.Calls++
		row := AbandonmentRow{ContactID: c.id, CampaignID: c.campaignID, AnsweredBy: c.answeredBy(), InitiationTimestamp: c.initiated,
			AnsweredTimestamp: c.connectedToSystem, FlowStartTimestamp: c.flowStarted, ConnectedToAgentTimestamp: c.connectedToAgent,
			SafeHarbourTimestamp: c.safeHarbourAt, DisconnectTimestamp: c.disconnected, DisconnectReason: c.disconnectReason}
		if !c.safeHarbourAt.IsZero() {
			r.SafeHarbourMessages++
		}
		start := c.connectedToSystem
		if q.StartPoint == StartFlow {
			start = c.flowStarted
		}
		if !c.connectedToAgent.IsZero() && !start.IsZero() {
			secs := c.connectedToAgent.Sub(start).Seconds()
			row.SecondsToAgent = &secs
		}
		switch row.AnsweredBy {
		case AnsweredByMachine:
			r.AnsweredByMachine++
		case AnsweredByPerson:
			r.AnsweredByPerson++
			abandoned, decided := abandonedWithin(c, start, now, q.Threshold)
			switch {
			case !decided:
				r.Undecided++
			case abandoned:
				r.Abandoned++
			default:
				r.ConnectedInTime++
			}
			if decided {
				row.Abandoned = &abandoned
			}
		}
		if q.Contacts {
			r.Contacts = append(r.Contacts, row)
		}
	}
	if decided := r.AnsweredByPerson - r.Undecided; decided > 0 {
		r.Rate = float64(r.Abandoned) / float64(decided)
	}
	return r, nil
}

// abandonedWithin tells whether a person-answered call was abandoned: not connected to an agent
// within threshold of start. It is decided once an agent took it, once it ended, or once the
// threshold has passed; a call whose start point has not come yet (detection still running) is
// undecided until it ends.
func abandonedWithin(c *contact, start, now time.Time, threshold time.Duration) (abandoned, decided bool) {
	switch {
	case !c.connectedToAgent.IsZero() && !start.IsZero():
		return c.connectedToAgent.Sub(start) > threshold, true
	case !c.active():
		return true, true
	case !start.IsZero() && now.Sub(start) > threshold:
		return true, true
	}
	return false, false
}

// abandonmentQuery reads GET /_connectsim/abandonment's query string: threshold (a duration such
// as 2s, or seconds), startPoint, from and to (RFC 3339), campaignId, instanceId, contacts=true.
func abandonmentQuery(v url.Values) (AbandonmentQuery, error) {
	q := AbandonmentQuery{StartPoint: v.Get("startPoint"), CampaignID: v.Get("campaignId"), InstanceID: v.Get("instanceId")}
	if t := v.Get("threshold"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			secs, err2 := strconv.ParseFloat(t, 64)
			if err2 != nil {
				return q, fmt.Errorf("threshold %q must be a duration like 2s or a number of seconds", t)
			}
			d = time.Duration(secs * float64(time.Second))
		}
		if d <= 0 {
			return q, fmt.Errorf("threshold %q must be positive", t)
		}
		q.Threshold = d
	}
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if t := v.Get(name); t != "" {
			ts, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return q, fmt.Errorf("%s %q must be an RFC 3339 time", name, t)
			}
			*dst = ts
		}
	}
	if c := v.Get("contacts"); c != "" {
		b, err := strconv.ParseBool(c)
		if err != nil {
			return q, fmt.Errorf("contacts %q must be true or false", c)
		}
		q.Contacts = b
	}
	for k := range v {
		switch k {
		case "threshold", "startPoint", "from", "to", "campaignId", "instanceId", "contacts":
		default:
			return q, fmt.Errorf("unknown parameter %q (threshold, startPoint, from, to, campaignId, instanceId, contacts)", k)
		}
	}
	return q, nil
}
