package dialer

import "time"

// AuditRecord is one decision of the dialer about one recipient, kept so that a regulator (or the
// team) can see why a number was dialled or not, and what that was decided from: every dial, every
// deferral and final move without a call, every refusal of a dial, every settled attempt.
type AuditRecord struct {
	CampaignID  string    `json:"campaignId"`
	RecipientID string    `json:"recipientId"`
	At          time.Time `json:"at"`
	Attempt     int       `json:"attempt"`
	// Kind is what happened: AuditDial, AuditWait, AuditFinal, AuditRefused, AuditSettle.
	Kind string `json:"kind"`
	// State is the state the recipient moved to, and Rule the gate's name for why (a campaign
	// counter: deferred_window, suppressed, contact_limit, deferred_limit, expired, ...).
	State  State  `json:"state,omitempty"`
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason"`
	// Zones are the callee's zones the window was decided in, and LocalTimes the callee-local
	// wall clock in each at the decision ("2027-03-10T10:00:00-05:00"), for a dial or a wait.
	Zones      []string `json:"zones,omitempty"`
	LocalTimes []string `json:"localTimes,omitempty"`
	// WindowOpenUntil is when the window that let a dial through closes.
	WindowOpenUntil *time.Time `json:"windowOpenUntil,omitempty"`
	// DoNotCallCheckedAt is when the do-not-call list was read for this decision (nil: it was
	// not needed), and Listed what it said.
	DoNotCallCheckedAt *time.Time `json:"doNotCallCheckedAt,omitempty"`
	Listed             bool       `json:"listed,omitempty"`
	// LimitDials is how many dials of the number the contact limit's window held before this
	// one, of LimitMax (0/0: no limit).
	LimitDials int `json:"limitDials,omitempty"`
	LimitMax   int `json:"limitMax,omitempty"`
	// Pacing says how the dial was paced (mode, agents, calls ringing, the controller's reason).
	Pacing string `json:"pacing,omitempty"`
	// AbandonmentLeft says how many more abandoned calls each window of the rule set allowed
	// when the dial was decided ("24h: 3.2, 720h: 41.0").
	AbandonmentLeft string `json:"abandonmentLeft,omitempty"`
	// ContactID of the call placed or settled.
	ContactID string `json:"contactId,omitempty"`
	// Outcome, AnsweredByPerson and Abandoned are a settled attempt's, as the rule set counts
	// them (weights: a machine detection counts as its false-positive share under the UK rules).
	Outcome          Outcome `json:"outcome,omitempty"`
	AnsweredByPerson float64 `json:"answeredByPerson,omitempty"`
	Abandoned        float64 `json:"abandoned,omitempty"`
	// AgentDelay is the time from the answer to an agent (settle, when an agent took the call).
	AgentDelay time.Duration `json:"agentDelay,omitempty"`
}

// Kinds of AuditRecord.
const (
	AuditDial    = "dial"
	AuditWait    = "wait"
	AuditFinal   = "final"
	AuditRefused = "refused"
	AuditSettle  = "settle"
)
