package dialer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ClientToken derives the StartOutboundVoiceContact ClientToken of one attempt: the same campaign,
// recipient and attempt always give the same token, so a Lambda redelivery or a retry of the same
// dial is answered with the same ContactId while that contact is active. The token is a hash: a
// recipient ID may be anything a team chose (even a phone number), and the token reaches Connect's
// logs. 68 characters, within the 500 the API allows.
//
// The token is no guard once a call has ended (older API docs: "If the contact is disconnected, a
// new contact is started"): the dialer records the attempt before it dials and never replays an
// attempt whose call may have ended.
func ClientToken(campaignID, recipientID string, attempt int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("switchboard-dial\x00%s\x00%s\x00%d", campaignID, recipientID, attempt)))
	return "sbd-" + hex.EncodeToString(h[:])
}
