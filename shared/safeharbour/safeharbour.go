// Package safeharbour holds what Switchboard's outbound flow and connectsim's SAFE_HARBOUR flow
// type agree on: the contact attributes the flow reads and writes, the connection threshold and
// the checks on the message a deployment plays when no agent takes an answered call in time.
// The CDK app writes the flow from these values (infra/outboundflow.go) and connectsim runs the
// same behaviour from them (local/connectsim), so a local run measures what a deployment does.
//
// The rules behind it:
//   - US, FTC Telemarketing Sales Rule, 16 CFR 310.4(b)(1)(iv) and the safe harbour of
//     310.4(b)(4): a call is abandoned when a person answers and is not connected to a sales
//     representative within two seconds of the completed greeting; the safe harbour asks for a
//     recorded message, whenever no representative is available within those two seconds, that
//     states the name and telephone number of the seller on whose behalf the call was placed.
//   - US, FCC 47 CFR 64.1200(a)(7)(i): within two seconds of the completed greeting, a
//     prerecorded identification and opt-out message "limited to disclosing that the call was for
//     'telemarketing purposes'", stating the name of the business on whose behalf it was placed
//     and a telephone number for do-not-call requests, and (B) an automated interactive
//     voice- or key-press-activated opt-out mechanism. The flow plays the message; it has no
//     key-press opt-out yet (docs/infra.md, "The outbound flow").
//   - UK, Ofcom's persistent misuse statement: an abandoned call gets a brief recorded
//     information message identifying the caller and a number to call back. (The statement's own
//     words were not read for this package; Ofcom's written evidence to the Commons Culture,
//     Media and Sport Committee, 2013, describes "a recorded information message from the
//     organisation that is trying to contact you".)
package safeharbour

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Contact attributes of the outbound flow.
const (
	// AttrMessage is the contact attribute the dialer sets (a campaign's attributes) to the
	// campaign's safe-harbour message. The flow plays it when UsesCampaignMessage says so, and
	// the deployment's default message otherwise.
	AttrMessage = "safe_harbour_message"
	// AttrOutcome is the contact attribute the flow writes when it gives up on an answered call
	// and plays the message: OutcomeThreshold or OutcomeNotQueued. It stays in the contact
	// record, so that abandoned calls can be counted from Connect's own data.
	AttrOutcome = "switchboard_safe_harbour"
)

// Values of AttrOutcome.
const (
	// OutcomeThreshold: the call waited in the queue for the threshold and no agent took it.
	OutcomeThreshold = "no_agent_within_threshold"
	// OutcomeNotQueued: the call could not be queued (no queue, the queue at capacity, or the
	// customer queue flow could not be set), so it was never offered to an agent.
	OutcomeNotQueued = "not_queued"
)

// The connection threshold: how long an answered call may wait in the queue for an agent.
const (
	// DefaultThreshold is the FTC's and the FCC's two seconds.
	DefaultThreshold = 2 * time.Second
	// MinThreshold and MaxThreshold bound a deployment's choice. The flow's timer is the
	// "Loop prompts" block's InterruptFrequencySeconds, a whole number of seconds; beyond a
	// minute the call is no longer a safe-harbour case but a queue.
	MinThreshold = time.Second
	MaxThreshold = 60 * time.Second
)

// CheckThreshold reports whether d can be a flow's threshold: whole seconds from MinThreshold to
// MaxThreshold.
func CheckThreshold(d time.Duration) error {
	if d < MinThreshold || d > MaxThreshold || d%time.Second != 0 {
		return fmt.Errorf("threshold %v must be whole seconds from %v to %v", d, MinThreshold, MaxThreshold)
	}
	return nil
}

// MaxMessageLength is the longest default message, in characters, a deployment may set: a
// Switchboard limit, not Connect's, that keeps the message brief as the rules want it.
const MaxMessageLength = 1000

// minPhoneDigits is the fewest digits a telephone number has in any numbering plan Switchboard
// dials (E.164 national significant numbers of 7 digits and more for the US, Canada and the UK).
const minPhoneDigits = 7

// CheckMessage reports whether text can be a deployment's default safe-harbour message: not empty,
// at most MaxMessageLength characters, no control characters and no "$." (the flow's Text would
// read it as a JSONPath), and holding a telephone number
// written in digits (at least 7, with spaces, dots, dashes, parentheses or a leading + between
// them), since every rule above asks the message to give a number to call back. It cannot check
// that the name is the seller's: the deployer answers for that.
func CheckMessage(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("the message is empty")
	case !utf8.ValidString(text):
		return fmt.Errorf("the message is not UTF-8")
	case utf8.RuneCountInString(text) > MaxMessageLength:
		return fmt.Errorf("the message has %d characters, more than %d", utf8.RuneCountInString(text), MaxMessageLength)
	}
	if strings.Contains(text, "$.") {
		// MessageParticipant's Text "may be specified statically or dynamically": "$.Name" in it
		// would be read as a JSONPath into the flow's data.
		return fmt.Errorf("the message holds \"$.\", which the flow would read as a JSONPath")
	}
	for _, r := range text {
		if unicode.IsControl(r) {
			return fmt.Errorf("the message holds a control character %U", r)
		}
	}
	if longestPhoneDigits(text) < minPhoneDigits {
		return fmt.Errorf("the message gives no telephone number in digits (at least %d): the rules ask it to state a number to call back", minPhoneDigits)
	}
	return nil
}

// longestPhoneDigits counts the digits of the longest run of digits and phone separators in s.
func longestPhoneDigits(s string) int {
	best, run := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			run++
			best = max(best, run)
		case strings.ContainsRune(" .-()+", r):
			// a separator keeps the run going
		default:
			run = 0
		}
	}
	return best
}

// UsesCampaignMessage reports whether the flow plays the campaign's message (the value of
// AttrMessage) rather than the deployment's default. The flow decides with a Compare action whose
// only condition is TextContains " ": a missing or empty attribute (and a one-word value, which
// cannot name a seller and a number) matches no condition and takes the default, using nothing
// but the documented operators.
func UsesCampaignMessage(value string) bool {
	return strings.Contains(value, " ")
}
