package connectsim

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GetMetricData: historical metrics computed from the simulated contacts and the agents'
// activity. The API reference's rules: StartTime and EndTime on 5-minute boundaries, EndTime
// after StartTime, less than 24 hours apart, StartTime not earlier than 24 hours before the
// request; filters by queues (required, up to 100) and channels; at most 2 groupings; each
// metric with its documented unit and statistic; SERVICE_LEVEL with a threshold (LT, 1 to
// 604800 s), up to 20 of them.
//
// A contact counts in the interval its InitiationTimestamp falls in, and in the queue it was
// queued in (a contact that never reached a queue counts nowhere); what it reports is what has
// happened to it when the request is made. OCCUPANCY is agent time: on contact (with
// after-contact work) over on contact plus idle, both while AVAILABLE, clipped to the interval.

// historicalDef is a metric's unit and statistic, as the API reference lists them.
type historicalDef struct{ unit, statistic string }

var historicalMetrics = map[string]historicalDef{
	"CONTACTS_QUEUED": {"COUNT", "SUM"}, "CONTACTS_HANDLED": {"COUNT", "SUM"}, "CONTACTS_ABANDONED": {"COUNT", "SUM"},
	"CONTACTS_CONSULTED": {"COUNT", "SUM"}, "CONTACTS_AGENT_HUNG_UP_FIRST": {"COUNT", "SUM"},
	"CONTACTS_HANDLED_INCOMING": {"COUNT", "SUM"}, "CONTACTS_HANDLED_OUTBOUND": {"COUNT", "SUM"},
	"CONTACTS_HOLD_ABANDONS": {"COUNT", "SUM"}, "CONTACTS_TRANSFERRED_IN": {"COUNT", "SUM"},
	"CONTACTS_TRANSFERRED_OUT": {"COUNT", "SUM"}, "CONTACTS_TRANSFERRED_IN_FROM_QUEUE": {"COUNT", "SUM"},
	"CONTACTS_TRANSFERRED_OUT_FROM_QUEUE": {"COUNT", "SUM"}, "CONTACTS_MISSED": {"COUNT", "SUM"},
	"CALLBACK_CONTACTS_HANDLED": {"COUNT", "SUM"}, "API_CONTACTS_HANDLED": {"COUNT", "SUM"},
	"OCCUPANCY": {"PERCENT", "AVG"}, "HANDLE_TIME": {"SECONDS", "AVG"}, "AFTER_CONTACT_WORK_TIME": {"SECONDS", "AVG"},
	"QUEUED_TIME": {"SECONDS", "MAX"}, "ABANDON_TIME": {"SECONDS", "AVG"}, "QUEUE_ANSWER_TIME": {"SECONDS", "AVG"},
	"HOLD_TIME": {"SECONDS", "AVG"}, "INTERACTION_TIME": {"SECONDS", "AVG"}, "INTERACTION_AND_HOLD_TIME": {"SECONDS", "AVG"},
	"SERVICE_LEVEL": {"PERCENT", "AVG"},
}

type threshold struct {
	Comparison     *string  `json:"Comparison,omitempty"`
	ThresholdValue *float64 `json:"ThresholdValue,omitempty"`
}

type historicalMetric struct {
	Name      *string    `json:"Name,omitempty"`
	Threshold *threshold `json:"Threshold,omitempty"`
	Statistic *string    `json:"Statistic,omitempty"`
	Unit      *string    `json:"Unit,omitempty"`
}

type getMetricDataInput struct {
	StartTime, EndTime *float64 // epoch seconds, as REST-JSON sends timestamps
	Filters            *struct {
		Queues, Channels, RoutingProfiles, RoutingStepExpressions, AgentStatuses, Subtypes, ValidationTestTypes []string
	}
	Groupings         []string
	HistoricalMetrics []historicalMetric
	NextToken         *string
	MaxResults        *int64
}

type historicalData struct {
	Metric historicalMetric `json:"Metric"`
	Value  *float64         `json:"Value"`
}

type historicalResult struct {
	Dimensions  *metricDimensions `json:"Dimensions,omitempty"`
	Collections []historicalData  `json:"Collections"`
}

func (s *Sim) getMetricData(c *call) (any, *apiError) {
	instID := c.params["InstanceId"]
	var in getMetricDataInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if e := checkMetricDataShapes(instID, &in); e != nil {
		return nil, e
	}
	inst, e := s.instanceOrErr(instID)
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	start, end, e := metricInterval(*in.StartTime, *in.EndTime, now)
	if e != nil {
		return nil, e
	}
	if e := checkHistoricalMetrics(in.HistoricalMetrics); e != nil {
		return nil, e
	}
	f := in.Filters
	if len(f.RoutingProfiles)+len(f.RoutingStepExpressions)+len(f.AgentStatuses)+len(f.Subtypes)+len(f.ValidationTestTypes) > 0 {
		return nil, newErr(errInvalidParameter, "GetMetricData filters by queues and channels only (\"The queues, up to 100, or channels, to use to filter the metrics returned\")")
	}
	if len(f.Queues) == 0 {
		return nil, newErr(errInvalidParameter, "Filters must name at least one queue")
	}
	queues, e := s.resolveQueues(inst, f.Queues)
	if e != nil {
		return nil, e
	}
	var byQueue, byChannel, byProfile bool
	for _, g := range in.Groupings {
		dup := false
		switch g {
		case "QUEUE":
			dup, byQueue = byQueue, true
		case "CHANNEL":
			dup, byChannel = byChannel, true
		case "ROUTING_PROFILE":
			dup, byProfile = byProfile, true
		default:
			return nil, newErr(errInvalidParameter, "Grouping %s is not valid for GetMetricData (QUEUE, CHANNEL and ROUTING_PROFILE are)", g)
		}
		if dup {
			return nil, newErr(errInvalidParameter, "Grouping %s is given twice", g)
		}
	}
	channels := f.Channels
	if len(channels) == 0 {
		channels = []string{"VOICE", "CHAT", "TASK"}
	}

	// The groups: every combination of the grouped dimensions' values.
	type group struct {
		queues   []*Queue
		channels []string
		profile  *RoutingProfile
	}
	groups := []group{{queues: queues, channels: channels}}
	if byQueue {
		var next []group
		for _, g := range groups {
			for _, q := range g.queues {
				next = append(next, group{queues: []*Queue{q}, channels: g.channels})
			}
		}
		groups = next
	}
	if byChannel {
		var next []group
		for _, g := range groups {
			for _, ch := range g.channels {
				next = append(next, group{queues: g.queues, channels: []string{ch}})
			}
		}
		groups = next
	}
	if byProfile {
		var next []group
		for _, g := range groups {
			for i := range inst.RoutingProfiles {
				next = append(next, group{queues: g.queues, channels: g.channels, profile: &inst.RoutingProfiles[i]})
			}
		}
		groups = next
	}

	s.mu.Lock()
	results := []historicalResult{}
	for _, g := range groups {
		inQ := map[string]bool{}
		for _, q := range g.queues {
			inQ[q.ID] = true
		}
		var cs []*contact
		for _, ct := range s.contacts {
			if ct.instanceID != inst.ID || ct.enqueued.IsZero() || !inQ[ct.queueID] || !slices.Contains(g.channels, ct.channel) ||
				ct.initiated.Before(start) || !ct.initiated.Before(end) || (g.profile != nil && ct.routingProfileID != g.profile.ID) {
				continue
			}
			cs = append(cs, ct)
		}
		onContact, idle := s.agentTimeLocked(inst.ID, inQ, g.profile, start, end, now)
		if len(cs) == 0 && onContact+idle == 0 {
			continue // no data for the group
		}
		r := historicalResult{Collections: []historicalData{}}
		if len(in.Groupings) > 0 {
			r.Dimensions = &metricDimensions{}
			if byQueue {
				r.Dimensions.Queue = &metricQueue{Id: g.queues[0].ID, Arn: s.queueARN(inst.ID, g.queues[0].ID)}
			}
			if byChannel {
				r.Dimensions.Channel = g.channels[0]
			}
			if byProfile {
				r.Dimensions.RoutingProfile = &metricQueue{Id: g.profile.ID, Arn: s.routingProfileARN(inst.ID, g.profile.ID)}
			}
		}
		for _, m := range in.HistoricalMetrics {
			r.Collections = append(r.Collections, historicalData{Metric: m, Value: historicalValue(m, cs, onContact, idle, now)})
		}
		results = append(results, r)
	}
	s.mu.Unlock()

	offset := 0
	if in.NextToken != nil {
		key, e := decodeNextToken(c.op, *in.NextToken)
		n, err := strconv.Atoi(key)
		if e != nil || err != nil || n < 0 || n > len(results) {
			return nil, newErr(errInvalidParameter, "NextToken is not valid: it must come from a previous GetMetricData answer")
		}
		offset = n
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	last := min(offset+limit, len(results))
	out := map[string]any{"MetricResults": results[offset:last]}
	if last < len(results) {
		out["NextToken"] = encodeNextToken(c.op, strconv.Itoa(last))
	}
	return out, nil
}

// checkMetricDataShapes applies the model's constraints (InvalidRequestException).
func checkMetricDataShapes(instID string, in *getMetricDataInput) *apiError {
	var ck check
	ck.length("InstanceId", &instID, 1, 100)
	ck.required("StartTime", in.StartTime != nil)
	ck.required("EndTime", in.EndTime != nil)
	ck.required("HistoricalMetrics", in.HistoricalMetrics != nil)
	ck.intRange("MaxResults", in.MaxResults, 1, 100)
	ck.length("NextToken", in.NextToken, 0, 2048)
	if ck.required("Filters", in.Filters != nil) {
		f := in.Filters
		for _, l := range []struct {
			member   string
			items    []string
			min, max int
			each     int
		}{{"filters.queues", f.Queues, 1, 100, maxIDLength + 100}, {"filters.channels", f.Channels, 0, 4, 5},
			{"filters.routingProfiles", f.RoutingProfiles, 1, 100, maxIDLength + 100}, {"filters.routingStepExpressions", f.RoutingStepExpressions, 0, 50, 3000},
			{"filters.agentStatuses", f.AgentStatuses, 0, 50, maxIDLength + 100}, {"filters.subtypes", f.Subtypes, 0, 10, 100},
			{"filters.validationTestTypes", f.ValidationTestTypes, 0, 10, maxIDLength}} {
			if l.items != nil && (len(l.items) < l.min || len(l.items) > l.max) {
				ck.fail(l.member, "", fmt.Sprintf("Member must have length between %d and %d", l.min, l.max))
			}
			for _, v := range l.items {
				ck.length(l.member+".member", &v, 1, l.each)
			}
		}
		for _, ch := range f.Channels {
			ck.enum("filters.channels.member", &ch, allChannels...)
		}
	}
	if len(in.Groupings) > 2 {
		ck.fail("groupings", "", "Member must have length less than or equal to 2")
	}
	for _, g := range in.Groupings {
		ck.enum("groupings.member", &g, "QUEUE", "CHANNEL", "ROUTING_PROFILE", "ROUTING_STEP_EXPRESSION", "AGENT_STATUS", "SUBTYPE", "VALIDATION_TEST_TYPE")
	}
	for _, m := range in.HistoricalMetrics {
		ck.enum("historicalMetrics.member.name", m.Name, slices.Sorted(maps.Keys(historicalMetrics))...)
		ck.enum("historicalMetrics.member.statistic", m.Statistic, "SUM", "MAX", "AVG")
		ck.enum("historicalMetrics.member.unit", m.Unit, "SECONDS", "COUNT", "PERCENT")
		if m.Threshold != nil {
			ck.enum("historicalMetrics.member.threshold.comparison", m.Threshold.Comparison, "LT")
		}
	}
	return ck.err()
}

// metricInterval checks the reporting interval against the reference's rules.
func metricInterval(startSecs, endSecs float64, now time.Time) (time.Time, time.Time, *apiError) {
	toTime := func(secs float64) time.Time {
		whole, frac := math.Modf(secs)
		return time.Unix(int64(whole), int64(frac*1e9)).UTC()
	}
	start, end := toTime(startSecs), toTime(endSecs)
	fiveMin := func(t time.Time) bool { return t.Equal(t.Truncate(5 * time.Minute)) }
	switch {
	case !fiveMin(start) || !fiveMin(end):
		return start, end, newErr(errInvalidParameter, "StartTime and EndTime must be multiples of 5 minutes, such as 10:05, 10:10, 10:15")
	case !end.After(start):
		return start, end, newErr(errInvalidParameter, "EndTime must be later than StartTime")
	case end.Sub(start) >= 24*time.Hour:
		return start, end, newErr(errInvalidParameter, "The time range between StartTime and EndTime must be less than 24 hours")
	case start.Before(now.Add(-24 * time.Hour)):
		return start, end, newErr(errInvalidParameter, "StartTime cannot be earlier than 24 hours before the time of the request: historical metrics are available only for 24 hours")
	}
	return start, end, nil
}

// checkHistoricalMetrics applies the reference's metric list (InvalidParameterException): each
// metric names its unit and statistic, as documented; SERVICE_LEVEL, and only it, has a
// threshold LT from 1 to 604800 (whole seconds), at most 20 of them a request.
func checkHistoricalMetrics(ms []historicalMetric) *apiError {
	if len(ms) == 0 {
		return newErr(errInvalidParameter, "HistoricalMetrics must name at least one metric")
	}
	levels := 0
	for _, m := range ms {
		if m.Name == nil || m.Unit == nil || m.Statistic == nil {
			return newErr(errInvalidParameter, "Every historical metric needs a Name, a Unit and a Statistic")
		}
		def := historicalMetrics[*m.Name]
		if *m.Unit != def.unit || *m.Statistic != def.statistic {
			return newErr(errInvalidParameter, "%s has the unit %s and the statistic %s, not %s and %s", *m.Name, def.unit, def.statistic, *m.Unit, *m.Statistic)
		}
		if *m.Name != "SERVICE_LEVEL" {
			if m.Threshold != nil {
				return newErr(errInvalidParameter, "Only SERVICE_LEVEL takes a Threshold, not %s", *m.Name)
			}
			continue
		}
		levels++
		t := m.Threshold
		if t == nil || t.Comparison == nil || t.ThresholdValue == nil {
			return newErr(errInvalidParameter, "SERVICE_LEVEL needs a Threshold with Comparison LT and a ThresholdValue")
		}
		if v := *t.ThresholdValue; v < 1 || v > 604800 || v != math.Trunc(v) {
			return newErr(errInvalidParameter, "The ThresholdValue of SERVICE_LEVEL must be a whole number from 1 to 604800 seconds, not %v", v)
		}
	}
	if levels > 20 {
		return newErr(errInvalidParameter, "A request can include up to 20 SERVICE_LEVEL metrics, not %d", levels)
	}
	return nil
}

// resolveQueues finds the queues of a filter, by ID or ARN.
func (s *Sim) resolveQueues(inst *Instance, ids []string) ([]*Queue, *apiError) {
	var out []*Queue
	for _, q := range ids {
		id := q
		if i := strings.LastIndex(q, "/queue/"); strings.HasPrefix(q, "arn:") && i >= 0 {
			if !strings.HasPrefix(q, s.InstanceARN(inst.ID)+"/") {
				return nil, newErr(errInvalidParameter, "Queue %s does not belong to instance %s", q, inst.ID)
			}
			id = q[i+len("/queue/"):]
		}
		qq := inst.queue(id)
		if qq == nil {
			return nil, newErr(errResourceNotFound, "Queue %s not found in instance %s", q, inst.ID)
		}
		if !slices.Contains(out, qq) {
			out = append(out, qq)
		}
	}
	return out, nil
}

// agentTimeLocked sums, over the agents serving any of the queues (and of the routing profile,
// when given), the time on contact (with after-contact work) and idle, both while AVAILABLE,
// within [start, end) and before now.
func (s *Sim) agentTimeLocked(instanceID string, queues map[string]bool, profile *RoutingProfile, start, end, now time.Time) (onContact, idle time.Duration) {
	end = minTime(end, now)
	for _, a := range s.agents[instanceID] {
		if profile != nil && a.routingProfileID != profile.ID {
			continue
		}
		serves := false
		for q := range queues {
			serves = serves || a.serves(q)
		}
		if !serves {
			continue
		}
		for i, sp := range a.log {
			to := end
			if i+1 < len(a.log) {
				to = minTime(to, a.log[i+1].from)
			}
			from := maxTime(sp.from, start)
			if !to.After(from) || sp.status != AgentAvailable {
				continue
			}
			if sp.activity == activityIdle {
				idle += to.Sub(from)
			} else {
				onContact += to.Sub(from)
			}
		}
	}
	return onContact, idle
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// historicalValue computes one metric over the contacts of a group (each of them queued in one
// of its queues). nil is "no data": an average over no contact, OCCUPANCY without agent time,
// HOLD_TIME (no simulated contact goes on hold) and the deprecated CONTACTS_CONSULTED.
func historicalValue(m historicalMetric, cs []*contact, onContact, idle time.Duration, now time.Time) *float64 {
	var sum, n, max float64
	count := func(ok bool) {
		if ok {
			sum++
		}
	}
	avg := func(d time.Duration, ok bool) {
		if ok {
			sum += d.Seconds()
			n++
		}
	}
	for _, c := range cs {
		handled := !c.connectedToAgent.IsZero()
		ended := !c.active()
		abandoned := ended && !handled && c.disconnectReason == ReasonCustomerDisconnect
		final := ended && !c.acwPending // the contact record is complete
		acw := time.Duration(0)
		if !c.acwEnd.IsZero() {
			acw = c.acwEnd.Sub(c.acwStart)
		}
		dequeued := now
		switch {
		case handled:
			dequeued = c.connectedToAgent
		case ended:
			dequeued = c.disconnected
		}
		switch *m.Name {
		case "CONTACTS_QUEUED":
			count(true)
		case "CONTACTS_HANDLED":
			count(handled)
		case "API_CONTACTS_HANDLED":
			count(handled && c.method == "API")
		case "CALLBACK_CONTACTS_HANDLED":
			count(handled && c.method == "CALLBACK")
		case "CONTACTS_HANDLED_INCOMING":
			count(handled && (c.method == "INBOUND" || c.method == "TRANSFER" || c.method == "QUEUE_TRANSFER"))
		case "CONTACTS_HANDLED_OUTBOUND":
			count(handled && c.method == "OUTBOUND")
		case "CONTACTS_ABANDONED":
			count(abandoned)
		case "CONTACTS_AGENT_HUNG_UP_FIRST":
			count(handled && c.disconnectReason == ReasonAgentDisconnect)
		case "ABANDON_TIME":
			avg(c.disconnected.Sub(c.enqueued), abandoned)
		case "QUEUE_ANSWER_TIME":
			avg(c.connectedToAgent.Sub(c.enqueued), handled)
		case "INTERACTION_TIME", "INTERACTION_AND_HOLD_TIME":
			avg(c.disconnected.Sub(c.connectedToAgent), handled && ended)
		case "AFTER_CONTACT_WORK_TIME":
			avg(acw, !c.acwEnd.IsZero())
		case "HANDLE_TIME":
			avg(c.disconnected.Sub(c.connectedToAgent)+acw, handled && final)
		case "QUEUED_TIME":
			max = math.Max(max, dequeued.Sub(c.enqueued).Seconds())
		case "SERVICE_LEVEL":
			n++
			if (handled || ended) && dequeued.Sub(c.enqueued).Seconds() < *m.Threshold.ThresholdValue {
				sum++
			}
		}
	}
	v := sum
	switch *m.Name {
	case "HOLD_TIME", "CONTACTS_CONSULTED":
		return nil
	case "QUEUED_TIME":
		if len(cs) == 0 {
			return nil
		}
		v = max
	case "OCCUPANCY":
		if onContact+idle == 0 {
			return nil
		}
		v = 100 * onContact.Seconds() / (onContact + idle).Seconds()
	case "SERVICE_LEVEL":
		if n == 0 {
			return nil
		}
		v = 100 * sum / n
	default:
		if historicalMetrics[*m.Name].statistic == "AVG" {
			if n == 0 {
				return nil
			}
			v = sum / n
		}
	}
	return &v
}
