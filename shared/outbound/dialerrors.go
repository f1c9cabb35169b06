package outbound

import (
	"errors"

	"github.com/aws/smithy-go"
)

// DialResult says what a failed StartOutboundVoiceContact means for the attempt.
type DialResult int

const (
	// NotPlaced: Connect refused the request before placing a call (throttled, over the
	// concurrency quota); the recipient is dialled again later under the same attempt count.
	NotPlaced DialResult = iota
	// RecipientRefused: the request was refused for this destination for good (the number is not
	// valid or not allowed by the instance's outbound calling policy).
	RecipientRefused
	// RequestRefused: Connect refused this recipient's request as invalid (its attributes, say);
	// the same request would be refused again, so the recipient is finished with the reason.
	RequestRefused
	// CampaignBroken: the request was refused for a reason every dial of the campaign shares (flow,
	// queue or instance not found, outbound calls not permitted, access denied): the campaign is
	// paused with the reason, and no recipient is charged an attempt.
	CampaignBroken
	// Unknown: a call may or may not have been placed (a 5xx, a dropped connection, a timeout).
	// The attempt is settled as unknown and never replayed.
	Unknown
)

func (r DialResult) String() string {
	return [...]string{"not_placed", "recipient_refused", "request_refused", "campaign_broken", "unknown"}[r]
}

// ClassifyDialError maps a StartOutboundVoiceContact error. Error codes are matched on
// smithy.APIError.ErrorCode(), since throttling often arrives as a generic API error with the
// code and not as a typed error (StartOutboundVoiceContact's model lists no ThrottlingException;
// TooManyRequestsException is reported for it in the wild). Sources: the operation's error list in
// the API reference
// (https://docs.aws.amazon.com/connect/latest/APIReference/API_StartOutboundVoiceContact.html)
// and the service model (botocore connect/2017-08-08/service-2.json).
func ClassifyDialError(err error) (DialResult, string) {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return Unknown, "no answer from Connect"
	}
	code := api.ErrorCode()
	switch code {
	case "ThrottlingException", "TooManyRequestsException", "LimitExceededException", "ServiceQuotaExceededException":
		return NotPlaced, code
	case "DestinationNotAllowedException":
		return RecipientRefused, "destination not allowed by the instance's outbound calling policy"
	case "InvalidParameterException", "InvalidRequestException":
		// The dialer validates the number and the attributes before it dials, so this is rare.
		// Connect's message is left out: it may quote the request.
		return RequestRefused, code
	case "ResourceNotFoundException", "OutboundContactNotPermittedException", "AccessDeniedException",
		"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "UnauthorizedException":
		return CampaignBroken, code
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 && re.HTTPStatusCode() != 408 {
		// Another client error: refused before any call.
		return NotPlaced, code
	}
	return Unknown, code
}

// IsThrottle reports a throttling or quota error of any Connect operation.
func IsThrottle(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ThrottlingException", "TooManyRequestsException", "LimitExceededException", "ServiceQuotaExceededException":
		return true
	}
	return false
}

// IsContactGone reports StopContact's ContactNotFoundException (HTTP 410): the contact already
// ended, which a stop treats as success.
func IsContactGone(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ContactNotFoundException"
}
