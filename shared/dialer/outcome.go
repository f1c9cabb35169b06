package dialer

import "time"

// Outcome is how one attempt ended, as the retry policy sees it.
type Outcome string

// Outcomes.
const (
	OutcomeHuman         Outcome = "human"          // media connected and (as far as Connect tells) a person answered
	OutcomeVoicemail     Outcome = "voicemail"      // answering-machine detection heard a machine
	OutcomeNoAnswer      Outcome = "no_answer"      // rang out
	OutcomeBusy          Outcome = "busy"           // busy line
	OutcomeInvalidNumber Outcome = "invalid_number" // the network says the number does not exist
	OutcomeFailed        Outcome = "failed"         // network failure, carrier blocking, fax, anything else
	// OutcomeAbandoned: media connected (a person, or a machine Connect could not tell from one)
	// on a campaign that routes answered calls to agents, and no agent ever took the call: the
	// call was abandoned in the regulators' sense (FTC TSR 16 CFR 310.4(b)(1)(iv); Ofcom's
	// persistent misuse policy).
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeUnknown: the attempt's result cannot be known (a crash between writing the attempt
	// and recording Connect's answer, or a lost reply). Never redialled under the same attempt;
	// the retry policy treats it as failed.
	OutcomeUnknown Outcome = "unknown"
)

// Report is what Connect says about a finished contact (DescribeContact, or a DISCONNECTED
// contact event with the reason added from DescribeContact).
type Report struct {
	ConnectedToSystem *time.Time
	// DisconnectReason: a contact-record value (CUSTOMER_DISCONNECT, TELECOM_BUSY, ...).
	DisconnectReason string
	// AMDStatus: AnsweringMachineDetectionStatus, set only for TrafficType=CAMPAIGN calls with
	// answering-machine detection.
	AMDStatus string
	// ConnectedToAgent: when an agent took the call (DescribeContact AgentInfo, or a
	// CONNECTED_TO_AGENT event); nil if none did (or the dialer never learnt it).
	ConnectedToAgent *time.Time
	// ExpectsAgent: the campaign routes answered calls to agents (progressive pacing with a
	// queue); a connected call no agent took is then abandoned.
	ExpectsAgent bool
}

// Classify turns a report into an outcome.
//
// Sources: the contact events reference says CONNECTED_TO_SYSTEM means media was established,
// "answered by a person or by voicemail"
// (https://docs.aws.amazon.com/connect/latest/adminguide/contact-events.html); the disconnect
// reasons are the contact records data model's
// (https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html); the AMD statuses are
// the AnsweringMachineDetectionStatus enum of the service model (service/connect types).
// Without detection a connected call counts as answered by a person: Connect cannot tell more.
func Classify(r Report) Outcome {
	switch r.AMDStatus {
	case "VOICEMAIL_BEEP", "VOICEMAIL_NO_BEEP":
		return OutcomeVoicemail
	case "SIT_TONE_BUSY":
		return OutcomeBusy
	case "SIT_TONE_INVALID_NUMBER":
		return OutcomeInvalidNumber
	case "SIT_TONE_DETECTED", "FAX_MACHINE_DETECTED":
		return OutcomeFailed
	case "AMD_UNANSWERED":
		if r.ConnectedToSystem == nil {
			return OutcomeNoAnswer
		}
	}
	if r.ConnectedToSystem != nil {
		if r.ExpectsAgent && r.ConnectedToAgent == nil {
			// Without detection (or when it could not tell) a machine that answered counts too:
			// Connect cannot tell it from a person, and the regulators' count errs that way
			// (Ofcom counts detection's false positives as abandoned).
			return OutcomeAbandoned
		}
		return OutcomeHuman
	}
	switch r.DisconnectReason {
	case "TELECOM_BUSY":
		return OutcomeBusy
	case "TELECOM_TIMEOUT", "TELECOM_ORIGINATOR_CANCEL":
		return OutcomeNoAnswer
	case "TELECOM_NUMBER_INVALID":
		return OutcomeInvalidNumber
	}
	// TELECOM_PROBLEM, TELECOM_POTENTIAL_BLOCKING, OTHER, a reason Connect adds later, or none.
	return OutcomeFailed
}
