package connectsim

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
)

// metricUnits are the current metrics connectsim answers, with their unit.
var metricUnits = map[string]string{
	"AGENTS_AVAILABLE":          "COUNT",
	"AGENTS_ONLINE":             "COUNT",
	"AGENTS_ON_CALL":            "COUNT",
	"AGENTS_ON_CONTACT":         "COUNT",
	"AGENTS_STAFFED":            "COUNT",
	"AGENTS_AFTER_CONTACT_WORK": "COUNT",
	"AGENTS_NON_PRODUCTIVE":     "COUNT",
	"AGENTS_ERROR":              "COUNT",
	"CONTACTS_IN_QUEUE":         "COUNT",
	"OLDEST_CONTACT_AGE":        "SECONDS",
	"CONTACTS_SCHEDULED":        "COUNT",
	"SLOTS_ACTIVE":              "COUNT",
	"SLOTS_AVAILABLE":           "COUNT",
	"ESTIMATED_WAIT_TIME":       "SECONDS",
}

type currentMetric struct {
	Name *string `json:"Name"`
	Unit *string `json:"Unit,omitempty"`
}

type getCurrentMetricDataInput struct {
	Filters *struct {
		Queues          []string
		Channels        []string
		RoutingProfiles []string
	}
	Groupings      []string
	CurrentMetrics []currentMetric
	MaxResults     *int64
	NextToken      *string
}

type metricQueue struct {
	Id  string `json:"Id"`
	Arn string `json:"Arn"`
}

type metricDimensions struct {
	Queue          *metricQueue `json:"Queue,omitempty"`
	Channel        string       `json:"Channel,omitempty"`
	RoutingProfile *metricQueue `json:"RoutingProfile,omitempty"` // the same Id and Arn shape
}

// metricData is one metric of a result. A nil Value is JSON null: "The calculation cannot be
// performed due to divide by zero or insufficient data" (API reference).
type metricData struct {
	Metric currentMetric `json:"Metric"`
	Value  *float64      `json:"Value"`
}

type metricResult struct {
	Dimensions  *metricDimensions `json:"Dimensions,omitempty"`
	Collections []metricData      `json:"Collections"`
}

var allChannels = []string{"VOICE", "CHAT", "TASK", "EMAIL"}

func (s *Sim) getCurrentMetricData(c *call) (any, *apiError) {
	instID := c.params["InstanceId"]
	var in getCurrentMetricDataInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.length("InstanceId", &instID, 1, connectspec.MaxInstanceIDLength)
	ck.required("Filters", in.Filters != nil)
	ck.required("CurrentMetrics", in.CurrentMetrics != nil)
	ck.intRange("MaxResults", in.MaxResults, 1, 100)
	if in.Filters != nil {
		if n := len(in.Filters.Queues); n > 100 {
			ck.fail("filters.queues", "", "Member must have length less than or equal to 100")
		}
		if n := len(in.Filters.Channels); n > 4 {
			ck.fail("filters.channels", "", "Member must have length less than or equal to 4")
		}
		for _, ch := range in.Filters.Channels {
			ck.enum("filters.channels.member", &ch, allChannels...)
		}
	}
	if len(in.Groupings) > 2 {
		ck.fail("groupings", "", "Member must have length less than or equal to 2")
	}
	for _, g := range in.Groupings {
		ck.enum("groupings.member", &g, "QUEUE", "CHANNEL", "ROUTING_PROFILE", "ROUTING_STEP_EXPRESSION", "AGENT_STATUS")
	}
	for _, m := range in.CurrentMetrics {
		ck.enum("currentMetrics.member.name", m.Name, slices.Sorted(maps.Keys(metricUnits))...)
		ck.enum("currentMetrics.member.unit", m.Unit, "SECONDS", "COUNT", "PERCENT")
	}
	if e := ck.err(); e != nil {
		return nil, e
	}
	inst, e := s.instanceOrErr(instID)
	if e != nil {
		return nil, e
	}
	if len(in.CurrentMetrics) == 0 {
		return nil, newErr(errInvalidParameter, "CurrentMetrics must name at least one metric")
	}
	for _, m := range in.CurrentMetrics {
		if m.Name == nil {
			return nil, newErr(errInvalidParameter, "Every current metric needs a Name")
		}
		if m.Unit != nil && *m.Unit != metricUnits[*m.Name] {
			return nil, newErr(errInvalidParameter, "The unit of %s is %s, not %s", *m.Name, metricUnits[*m.Name], *m.Unit)
		}
	}
	f := in.Filters
	if len(f.Queues) == 0 && len(f.RoutingProfiles) == 0 {
		return nil, newErr(errInvalidParameter, "Filters must name at least one queue or routing profile")
	}
	// "You cannot filter by both queue AND routing profile." (API reference, Filters)
	if len(f.Queues) > 0 && len(f.RoutingProfiles) > 0 {
		return nil, newErr(errInvalidParameter, "Filters cannot name both queues and routing profiles")
	}
	for _, m := range in.CurrentMetrics {
		// Assumed from the reference's queue-level definition: the estimate is per queue.
		if *m.Name == "ESTIMATED_WAIT_TIME" && !slices.Contains(in.Groupings, "QUEUE") {
			return nil, newErr(errInvalidParameter, "ESTIMATED_WAIT_TIME needs the QUEUE grouping")
		}
	}
	queues, e := s.resolveQueues(inst, f.Queues)
	if e != nil {
		return nil, e
	}
	// Agents count in the routing profiles of the filter; the queue metrics cover the queues of
	// those profiles (assumed: the reference says only that "Metric data is retrieved only for
	// the resources associated with the queues or routing profiles").
	var profiles []*RoutingProfile
	for _, rp := range f.RoutingProfiles {
		id := rp
		if i := strings.LastIndex(rp, "/routing-profile/"); i >= 0 {
			id = rp[i+len("/routing-profile/"):]
		}
		p := inst.routingProfile(id)
		if p == nil {
			return nil, newErr(errResourceNotFound, "Routing profile %s not found in instance %s", rp, inst.ID)
		}
		profiles = append(profiles, p)
		queues = appendProfileQueues(queues, inst, p)
	}
	channels := f.Channels
	var byQueue, byChannel, byProfile bool
	for _, g := range in.Groupings {
		switch g {
		case "QUEUE":
			byQueue = true
		case "CHANNEL":
			byChannel = true
		case "ROUTING_PROFILE":
			// "If you group by ROUTING_PROFILE, you must include either a queue or routing
			// profile filter"; connectsim groups the profiles of a routing profile filter only.
			if len(profiles) == 0 {
				return nil, newErr(errInvalidParameter, "Grouping ROUTING_PROFILE with a Queues filter is not supported by connectsim: filter by RoutingProfiles")
			}
			byProfile = true
		default:
			return nil, newErr(errInvalidParameter, "Grouping %s is not supported by connectsim (QUEUE, CHANNEL and ROUTING_PROFILE are)", g)
		}
	}
	if byChannel && len(channels) == 0 {
		channels = []string{"VOICE", "CHAT", "TASK"}
	}

	type group struct {
		queues   []*Queue
		channel  string
		profiles []*RoutingProfile // the agents' profiles; nil: any
	}
	var groups []group
	chans := []string{""}
	if byChannel {
		chans = channels
	}
	byProfiles := [][]*RoutingProfile{profiles}
	if byProfile {
		byProfiles = nil
		for _, p := range profiles {
			byProfiles = append(byProfiles, []*RoutingProfile{p})
		}
	}
	for _, ps := range byProfiles {
		qs := queues
		if byProfile {
			qs = appendProfileQueues(nil, inst, ps[0])
		}
		if byQueue {
			for _, q := range qs {
				for _, ch := range chans {
					groups = append(groups, group{queues: []*Queue{q}, channel: ch, profiles: ps})
				}
			}
			continue
		}
		for _, ch := range chans {
			groups = append(groups, group{queues: qs, channel: ch, profiles: ps})
		}
	}

	s.mu.Lock()
	now := s.clock.Now()
	results := []metricResult{}
	for _, g := range groups {
		// With a channel filter but no channel grouping, count the
		// filtered channels.
		want := map[string]bool{}
		switch {
		case g.channel != "":
			want[g.channel] = true
		case len(channels) > 0:
			for _, ch := range channels {
				want[ch] = true
			}
		}
		var inRP map[string]bool
		if g.profiles != nil {
			inRP = map[string]bool{}
			for _, p := range g.profiles {
				inRP[p.ID] = true
			}
		}
		vals, hasData := s.metricValuesLocked(inst.ID, g.queues, want, inRP, now)
		if !hasData {
			// "MetricResult list is empty: The request cannot find any data in the system."
			continue
		}
		if v := vals["OLDEST_CONTACT_AGE"]; v != nil && len(in.Groupings) == 0 {
			// As the API reference documents: without groupings the unit says SECONDS but
			// the value is in milliseconds.
			*v *= 1000
		}
		r := metricResult{Collections: []metricData{}}
		if byQueue || byChannel || byProfile {
			r.Dimensions = &metricDimensions{Channel: g.channel}
			if byQueue {
				r.Dimensions.Queue = &metricQueue{Id: g.queues[0].ID, Arn: s.queueARN(inst.ID, g.queues[0].ID)}
			}
			if byProfile {
				r.Dimensions.RoutingProfile = &metricQueue{Id: g.profiles[0].ID, Arn: s.routingProfileARN(inst.ID, g.profiles[0].ID)}
			}
		}
		for _, m := range in.CurrentMetrics {
			name, unit := *m.Name, metricUnits[*m.Name]
			r.Collections = append(r.Collections, metricData{Metric: currentMetric{Name: &name, Unit: &unit}, Value: vals[name]})
		}
		results = append(results, r)
	}
	s.mu.Unlock()

	total := len(results)
	offset := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*in.NextToken, "connectsim-"))
		if err != nil || n < 0 || n > total {
			return nil, newErr(errInvalidParameter, "NextToken is not valid")
		}
		offset = n
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	end := min(offset+limit, total)
	out := map[string]any{
		"MetricResults":         results[offset:end],
		"DataSnapshotTime":      epoch(now),
		"ApproximateTotalCount": total,
	}
	if end < total {
		out["NextToken"] = "connectsim-" + strconv.Itoa(end)
	}
	return out, nil
}

// metricValuesLocked computes every metric for a set of queues and channels (empty: all), and
// of routing profiles (nil: all). Agents count once however many of the queues they serve; they
// take contacts of every channel. It reports whether there is any data: an online agent or a
// queued contact. Counts are never null; OLDEST_CONTACT_AGE is null with no contact queued and
// ESTIMATED_WAIT_TIME with no agent staffed (insufficient data, assumed).
func (s *Sim) metricValuesLocked(instanceID string, queues []*Queue, channels, profiles map[string]bool, now time.Time) (map[string]*float64, bool) {
	inQ := map[string]bool{}
	for _, q := range queues {
		inQ[q.ID] = true
	}
	v := map[string]float64{}
	for _, a := range s.agents[instanceID] {
		serves := false
		for q := range inQ {
			if a.serves(q) {
				serves = true
				break
			}
		}
		if !serves || !a.online() || (profiles != nil && !profiles[a.routingProfileID]) {
			continue
		}
		v["AGENTS_ONLINE"]++
		switch a.activity {
		case activityOnContact:
			v["AGENTS_ON_CALL"]++
			v["AGENTS_ON_CONTACT"]++
			v["AGENTS_STAFFED"]++
			v["SLOTS_ACTIVE"]++
		case activityACW:
			v["AGENTS_AFTER_CONTACT_WORK"]++
			v["AGENTS_STAFFED"]++
			v["SLOTS_ACTIVE"]++
		default:
			if a.Status == AgentAvailable {
				v["AGENTS_AVAILABLE"]++
				v["AGENTS_STAFFED"]++
				v["SLOTS_AVAILABLE"]++
			} else {
				v["AGENTS_NON_PRODUCTIVE"]++
			}
		}
	}
	var oldest float64
	for _, c := range s.activeLocked(instanceID) {
		if c.status != StatusQueued || !inQ[c.queueID] {
			continue
		}
		if len(channels) > 0 && !channels[c.channel] {
			continue
		}
		v["CONTACTS_IN_QUEUE"]++
		if age := now.Sub(c.enqueued).Seconds(); age > oldest {
			oldest = age
		}
	}
	out := map[string]*float64{}
	for name := range metricUnits {
		x := v[name]
		out[name] = &x
	}
	if v["CONTACTS_IN_QUEUE"] == 0 {
		out["OLDEST_CONTACT_AGE"] = nil
	} else {
		x := float64(int64(oldest))
		out["OLDEST_CONTACT_AGE"] = &x
	}
	out["ESTIMATED_WAIT_TIME"] = s.estimatedWaitLocked(v)
	return out, v["AGENTS_ONLINE"] > 0 || v["CONTACTS_IN_QUEUE"] > 0
}

// estimatedWaitLocked is connectsim's own estimate (Connect does not publish its model): 0 with an
// agent available, else the contacts ahead (plus one) times the mean handle time (talk and ACW)
// over the staffed agents; null with nobody staffed.
func (s *Sim) estimatedWaitLocked(v map[string]float64) *float64 {
	if v["AGENTS_STAFFED"] == 0 {
		return nil
	}
	var w float64
	if v["AGENTS_AVAILABLE"] == 0 {
		p := s.world.Calls
		handle := (p.TalkMin.D()+p.TalkMax.D())/2 + p.AfterContactWork.D()
		w = float64(int64((v["CONTACTS_IN_QUEUE"] + 1) * handle.Seconds() / v["AGENTS_STAFFED"]))
	}
	return &w
}

// appendProfileQueues adds the queues of a routing profile (every queue when it lists none).
func appendProfileQueues(qs []*Queue, inst *Instance, p *RoutingProfile) []*Queue {
	for i := range inst.Queues {
		q := &inst.Queues[i]
		if (len(p.Queues) == 0 || slices.Contains(p.Queues, q.ID)) && !slices.Contains(qs, q) {
			qs = append(qs, q)
		}
	}
	return qs
}
