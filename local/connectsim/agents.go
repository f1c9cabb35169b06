package connectsim

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Agent activities: what an agent is doing, independent of the status it
// has set.
const (
	activityIdle      = ""
	activityOnContact = "ON_CONTACT"
	activityACW       = "AFTER_CONTACT_WORK"
)

// agentState is an agent's live state. Guarded by Sim.mu.
type agentState struct {
	Agent
	activity  string
	contactID string
	since     time.Time
	epoch     int // bumped on every activity change; stale timers check it
	// user: the agent is a user of the instance, whose routing profile gives Queues and whose
	// phone configuration gives acw.
	user             bool
	routingProfileID string
	acw              time.Duration // 0: the world's calls.afterContactWork
	log              []agentSpan   // what the agent did, for the historical metrics
}

// agentSpan is a stretch of time from `from` in which an agent had one status and activity.
type agentSpan struct {
	from     time.Time
	status   string
	activity string
}

// agentLogKeep is how far back the activity log goes: historical metrics cover 24 hours.
const agentLogKeep = 25 * time.Hour

// mark records the agent's status and activity from now on, when they changed.
func (a *agentState) mark(now time.Time) {
	if n := len(a.log); n > 0 && a.log[n-1].status == a.Status && a.log[n-1].activity == a.activity {
		return
	}
	if len(a.log) > 64 && now.Sub(a.log[0].from) > 2*agentLogKeep {
		i := 0
		for i < len(a.log)-1 && now.Sub(a.log[i+1].from) > agentLogKeep {
			i++
		}
		a.log = append(a.log[:0], a.log[i:]...)
	}
	a.log = append(a.log, agentSpan{from: now, status: a.Status, activity: a.activity})
}

func newAgentState(a Agent) *agentState {
	if a.Status == "" {
		a.Status = AgentAvailable
	}
	return &agentState{Agent: a}
}

// online: an agent set OFFLINE during a contact or its after-contact work stays on it (and
// counted) until done; the new status applies once idle.
func (a *agentState) online() bool { return a.Status != AgentOffline || a.activity != activityIdle }

// routable reports whether the agent can take a contact of queue q.
func (a *agentState) routable(q string) bool {
	return a.Status == AgentAvailable && a.activity == activityIdle && a.serves(q)
}

func (a *agentState) serves(q string) bool {
	if len(a.Queues) == 0 {
		return true
	}
	for _, x := range a.Queues {
		if x == q {
			return true
		}
	}
	return false
}

// AgentView is a snapshot of an agent.
type AgentView struct {
	Agent
	// Activity is "", ON_CONTACT or AFTER_CONTACT_WORK.
	Activity  string    `json:"activity,omitempty"`
	ContactID string    `json:"contactId,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	// User: the agent is a user of the instance (its ID is the user ID, its name the username,
	// its queues those of its routing profile).
	User             bool   `json:"user,omitempty"`
	RoutingProfileID string `json:"routingProfileId,omitempty"`
	// AfterContactWork is the after-contact work after each of its contacts.
	AfterContactWork Duration `json:"afterContactWork,omitempty"`
}

// Agents returns the agents of an instance with what they are doing.
func (s *Sim) Agents(instanceID string) []AgentView {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AgentView
	for _, a := range s.agents[instanceID] {
		out = append(out, AgentView{Agent: a.Agent, Activity: a.activity, ContactID: a.contactID, Since: a.since,
			User: a.user, RoutingProfileID: a.routingProfileID, AfterContactWork: Duration(s.acwOf(a))})
	}
	return out
}

// SetAgents replaces the agents of an instance. Agents that keep their ID
// keep what they are doing (a contact, after-contact work); their new
// status applies once they are idle. Queued contacts are routed to agents
// that became available. An agent whose ID is a user's is that user (its
// queues come from its routing profile: queues given for it are ignored).
func (s *Sim) SetAgents(instanceID string, agents []Agent) error {
	in := s.world.instance(instanceID)
	if in == nil {
		return fmt.Errorf("connectsim: unknown instance %q", instanceID)
	}
	var errs []error
	seen := map[string]bool{}
	for i, a := range agents {
		if a.ID == "" {
			errs = append(errs, fmt.Errorf("agents[%d]: id is empty", i))
		}
		if seen[a.ID] {
			errs = append(errs, fmt.Errorf("agents[%d]: id %q is duplicated", i, a.ID))
		}
		seen[a.ID] = true
		switch a.Status {
		case "", AgentAvailable, AgentBreak, AgentOffline:
		default:
			errs = append(errs, fmt.Errorf("agents[%d]: status %q must be AVAILABLE, BREAK or OFFLINE", i, a.Status))
		}
		for _, q := range a.Queues {
			if in.queue(q) == nil {
				errs = append(errs, fmt.Errorf("agents[%d]: %q is not a queue of the instance", i, q))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("connectsim: %w", err)
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	old := map[string]*agentState{}
	for _, a := range s.agents[instanceID] {
		old[a.ID] = a
	}
	next := make([]*agentState, 0, len(agents))
	now := s.clock.Now()
	for _, a := range agents {
		st := s.newAgentLocked(in, a)
		if o := old[a.ID]; o != nil {
			st.activity, st.contactID, st.since, st.epoch, st.log = o.activity, o.contactID, o.since, o.epoch, o.log
			// The old record may still be referenced by a pending ACW
			// timer: make that timer act on the new record.
			o.epoch = -1
		}
		st.mark(now)
		next = append(next, st)
	}
	s.agents[instanceID] = next
	s.routeQueuedLocked(instanceID)
	return nil
}

func (s *Sim) agentLocked(instanceID, id string) *agentState {
	for _, a := range s.agents[instanceID] {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// acwOf is an agent's after-contact work: its user's limit, else the world's.
func (s *Sim) acwOf(a *agentState) time.Duration {
	if a.acw > 0 {
		return a.acw
	}
	return s.world.Calls.AfterContactWork.D()
}

// releaseAgentLocked puts the agent of an ended contact into after-contact work, then back to
// idle. It reports whether after-contact work began: the contact's COMPLETED event is then
// published when the work ends, else the caller publishes it at once.
func (s *Sim) releaseAgentLocked(c *contact) bool {
	instanceID, agentID := c.instanceID, c.agentID
	a := s.agentLocked(instanceID, agentID)
	now := s.clock.Now()
	c.acwStart = now
	if a == nil {
		return false
	}
	acw := s.acwOf(a)
	if acw <= 0 {
		a.activity, a.contactID, a.since = activityIdle, "", now
		a.epoch++
		a.mark(now)
		s.routeQueuedLocked(instanceID)
		return false
	}
	a.activity, a.contactID, a.since = activityACW, "", now
	a.epoch++
	a.mark(now)
	epoch := a.epoch
	c.acwPending = true
	s.schedule(acw, func() {
		c.acwEnd, c.acwPending = s.clock.Now(), false
		s.emitLocked(c, EventCompleted)
		cur := s.agentLocked(instanceID, agentID)
		if cur == nil || cur.epoch != epoch || cur.activity != activityACW {
			return
		}
		cur.activity, cur.since = activityIdle, s.clock.Now()
		cur.epoch++
		cur.mark(cur.since)
		s.routeQueuedLocked(instanceID)
	})
	return true
}

// routeQueuedLocked hands queued contacts, oldest first, to routable
// agents.
func (s *Sim) routeQueuedLocked(instanceID string) {
	var queued []*contact
	for _, c := range s.activeLocked(instanceID) {
		if c.status == StatusQueued {
			queued = append(queued, c)
		}
	}
	sort.Slice(queued, func(i, j int) bool {
		if !queued[i].enqueued.Equal(queued[j].enqueued) {
			return queued[i].enqueued.Before(queued[j].enqueued)
		}
		return queued[i].seq < queued[j].seq
	})
	for _, c := range queued {
		for _, a := range s.agents[instanceID] {
			if a.routable(c.queueID) {
				s.connectToAgentLocked(c, a)
				break
			}
		}
	}
}

// SetStaffedAgents changes how many agents of an instance are staffed, during a run: the first n
// agents of the list become AVAILABLE (a busy one keeps its contact or after-contact work), the
// others OFFLINE; agents are added (IDs staffed-agent-1, ...) when n exceeds the list.
func (s *Sim) SetStaffedAgents(instanceID string, n int) error {
	if n < 0 || n > maxAgents {
		return fmt.Errorf("connectsim: staffed agents %d must be from 0 to %d", n, maxAgents)
	}
	s.mu.Lock()
	var agents []Agent
	for _, a := range s.agents[instanceID] {
		agents = append(agents, a.Agent)
	}
	s.mu.Unlock()
	for i := len(agents); i < n; i++ {
		agents = append(agents, Agent{ID: fmt.Sprintf("staffed-agent-%d", i+1)})
	}
	for i := range agents {
		agents[i].Status = AgentOffline
		if i < n {
			agents[i].Status = AgentAvailable
		}
	}
	return s.SetAgents(instanceID, agents)
}

// maxAgents bounds SetStaffedAgents ("Users per instance" is 500 by default).
const maxAgents = 10000
