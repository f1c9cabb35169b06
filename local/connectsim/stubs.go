package connectsim

import "net/http"

// Operations not built yet answer InternalServiceException.

func notYet(op string) *apiError {
	return newErr(errInternalService, "%s is not implemented by this connectsim build yet", op)
}

func (s *Sim) startOutboundVoiceContact(c *call) (any, *apiError) { return nil, notYet(c.op) }
func (s *Sim) stopContact(c *call) (any, *apiError)               { return nil, notYet(c.op) }
func (s *Sim) getCurrentMetricData(c *call) (any, *apiError)      { return nil, notYet(c.op) }

type agentState struct {
	Agent
	state     string
	contactID string
	timer     int
}

func newAgentState(a Agent) *agentState { return &agentState{Agent: a, state: a.Status} }

func (s *Sim) adminMore(r *http.Request, p []string) (any, int, *adminError) {
	return nil, 0, adminErrorf(404, "%v: %s %s", errNoAdminRoute, r.Method, r.URL.Path)
}
