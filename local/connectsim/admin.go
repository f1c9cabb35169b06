package connectsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const adminPrefix = "/_connectsim/"

type adminError struct {
	status int
	msg    string
}

func adminErrorf(status int, format string, a ...any) *adminError {
	return &adminError{status: status, msg: fmt.Sprintf(format, a...)}
}

// serveAdmin answers the admin API. Every answer is JSON; errors are
// {"message": "..."} with a 4xx status.
func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	parts := strings.Split(path, "/")
	out, status, aerr := s.admin(r, parts)
	if aerr != nil {
		writeJSON(w, aerr.status, map[string]string{"message": aerr.msg})
		return
	}
	if out == nil && status == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

func readJSON(r *http.Request, v any) *adminError {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return adminErrorf(400, "read body: %v", err)
	}
	if len(b) > maxBody {
		return adminErrorf(http.StatusRequestEntityTooLarge, "body over %d bytes", maxBody)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return adminErrorf(400, "invalid JSON body: %v", err)
	}
	return nil
}

func (s *Sim) admin(r *http.Request, p []string) (any, int, *adminError) {
	m := r.Method
	route := p[0]
	switch {
	case route == "contacts" && len(p) == 1 && m == http.MethodGet:
		return s.Contacts(), 0, nil
	case route == "contacts" && len(p) == 2 && m == http.MethodGet:
		c, ok := s.Contact(p[1])
		if !ok {
			return nil, 0, adminErrorf(404, "no contact %q", p[1])
		}
		return c, 0, nil
	case route == "contacts" && len(p) == 1 && m == http.MethodPost:
		var nc NewContact
		if e := readJSON(r, &nc); e != nil {
			return nil, 0, e
		}
		c, err := s.CreateContact(nc)
		if err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return c, http.StatusCreated, nil
	case route == "stats" && len(p) == 1 && m == http.MethodGet:
		return s.Stats(), 0, nil
	case route == "world" && len(p) == 1 && m == http.MethodGet:
		return s.World(), 0, nil
	case route == "faults" && len(p) == 1 && m == http.MethodGet:
		return s.Faults(), 0, nil
	case route == "faults" && len(p) == 1 && m == http.MethodDelete:
		s.ClearFaults()
		return nil, 0, nil
	case route == "faults" && len(p) == 2 && m == http.MethodPut:
		var f Fault
		if e := readJSON(r, &f); e != nil {
			return nil, 0, e
		}
		if err := s.setFault(p[1], f); err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return s.Faults(), 0, nil
	case route == "faults" && len(p) == 2 && m == http.MethodDelete:
		s.mu.Lock()
		_, ok := s.faults[p[1]]
		delete(s.faults, p[1])
		s.mu.Unlock()
		if !ok {
			return nil, 0, adminErrorf(404, "no fault set for %q", p[1])
		}
		return nil, 0, nil
	case route == "reset" && len(p) == 1 && m == http.MethodPost:
		s.Reset()
		return nil, 0, nil
	case route == "advance" && len(p) == 1 && m == http.MethodPost:
		var in struct {
			Duration Duration `json:"duration"`
		}
		if e := readJSON(r, &in); e != nil {
			return nil, 0, e
		}
		if in.Duration <= 0 {
			return nil, 0, adminErrorf(400, "duration must be positive, like \"30s\"")
		}
		if err := s.Advance(in.Duration.D()); err != nil {
			return nil, 0, adminErrorf(409, "%v", err)
		}
		return map[string]string{"now": s.clock.Now().UTC().Format(time.RFC3339Nano)}, 0, nil
	case route == "chat-authentication" && len(p) == 1 && m == http.MethodPost:
		var in struct {
			InstanceID string `json:"instanceId"`
		}
		if e := readJSON(r, &in); e != nil {
			return nil, 0, e
		}
		ca, err := s.StartChatAuthentication(in.InstanceID)
		if err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return ca, http.StatusCreated, nil
	case route == "auth-sessions" && len(p) == 1 && m == http.MethodGet:
		return s.AuthSessions(), 0, nil
	case route == "sign-in-outcome" && len(p) == 1 && m == http.MethodPut:
		var o SignInOutcome
		if e := readJSON(r, &o); e != nil {
			return nil, 0, e
		}
		if o.Error == "" && o.ErrorDescription != "" {
			return nil, 0, adminErrorf(400, "errorDescription needs an error")
		}
		s.SetSignInOutcome(o)
		return o, 0, nil
	}
	return s.adminMore(r, p)
}

var errNoAdminRoute = errors.New("no such admin route")

// faultJSON is the JSON form of Fault: the latency is a duration string.
type faultJSON struct {
	Kind        string   `json:"kind"`
	Probability float64  `json:"probability,omitempty"`
	Latency     Duration `json:"latency,omitempty"`
	Count       int      `json:"count,omitempty"`
	ErrorType   string   `json:"errorType,omitempty"`
}

// MarshalJSON writes the latency as a duration string ("250ms").
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{Kind: f.Kind, Probability: f.Probability, Latency: Duration(f.Latency), Count: f.Count, ErrorType: f.ErrorType})
}

// UnmarshalJSON reads the latency as a duration string or seconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Fault{Kind: j.Kind, Probability: j.Probability, Latency: j.Latency.D(), Count: j.Count, ErrorType: j.ErrorType}
	return nil
}

func (s *Sim) adminMore(r *http.Request, p []string) (any, int, *adminError) {
	m := r.Method
	switch {
	case p[0] == "agents" && len(p) == 2 && m == http.MethodGet:
		if s.world.instance(p[1]) == nil {
			return nil, 0, adminErrorf(404, "no instance %q", p[1])
		}
		return s.Agents(p[1]), 0, nil
	case p[0] == "agents" && len(p) == 2 && m == http.MethodPut:
		var agents []Agent
		if e := readJSON(r, &agents); e != nil {
			return nil, 0, e
		}
		if s.world.instance(p[1]) == nil {
			return nil, 0, adminErrorf(404, "no instance %q", p[1])
		}
		if err := s.SetAgents(p[1], agents); err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return s.Agents(p[1]), 0, nil
	case p[0] == "agents" && len(p) == 3 && p[2] == "staffed" && m == http.MethodPut:
		var in struct {
			Count *int `json:"count"`
		}
		if e := readJSON(r, &in); e != nil {
			return nil, 0, e
		}
		if s.world.instance(p[1]) == nil {
			return nil, 0, adminErrorf(404, "no instance %q", p[1])
		}
		if in.Count == nil {
			return nil, 0, adminErrorf(400, "count is required: {\"count\": 5}")
		}
		if err := s.SetStaffedAgents(p[1], *in.Count); err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return s.Agents(p[1]), 0, nil
	case p[0] == "subscribers" && len(p) == 1 && m == http.MethodPost:
		var in struct {
			URL string `json:"url"`
		}
		if e := readJSON(r, &in); e != nil {
			return nil, 0, e
		}
		if err := s.AddSubscriber(in.URL); err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return nil, 0, nil
	case p[0] == "clock" && len(p) == 1 && m == http.MethodGet:
		return s.ClockState(), 0, nil
	case p[0] == "delivery" && len(p) == 1 && m == http.MethodGet:
		return s.Delivery(), 0, nil
	case p[0] == "delivery" && len(p) == 1 && m == http.MethodPut:
		var d EventDelivery
		if e := readJSON(r, &d); e != nil {
			return nil, 0, e
		}
		if err := s.SetDelivery(d); err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return s.Delivery(), 0, nil
	case p[0] == "abandonment" && len(p) == 1 && m == http.MethodGet:
		q, err := abandonmentQuery(r.URL.Query())
		if err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		rep, err := s.Abandonment(q)
		if err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return rep, 0, nil
	case p[0] == "drain" && len(p) == 1 && m == http.MethodPost:
		return map[string]bool{"drained": s.Drain(10 * time.Second)}, 0, nil
	}
	return s.adminChats(r, p)
}

// adminChats serves the admin routes of agent status, chats and attachments.
func (s *Sim) adminChats(r *http.Request, p []string) (any, int, *adminError) {
	m := r.Method
	switch {
	case p[0] == "agents" && len(p) == 4 && p[3] == "status" && m == http.MethodPut:
		var in struct {
			Status string `json:"status"`
		}
		if e := readJSON(r, &in); e != nil {
			return nil, 0, e
		}
		if s.world.instance(p[1]) == nil {
			return nil, 0, adminErrorf(404, "no instance %q", p[1])
		}
		if err := s.SetAgentStatus(p[1], p[2], in.Status); err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return s.Agents(p[1]), 0, nil
	case p[0] == "chats" && len(p) == 1 && m == http.MethodPost:
		var in struct {
			InstanceID string `json:"instanceId"`
		}
		if e := readJSON(r, &in); e != nil {
			return nil, 0, e
		}
		c, err := s.StartChat(in.InstanceID)
		if err != nil {
			return nil, 0, adminErrorf(400, "%v", err)
		}
		return c, http.StatusCreated, nil
	case p[0] == "attachments" && len(p) == 1 && m == http.MethodGet:
		return s.Attachments(), 0, nil
	}
	return nil, 0, adminErrorf(404, "%v: %s %s", errNoAdminRoute, r.Method, r.URL.Path)
}
