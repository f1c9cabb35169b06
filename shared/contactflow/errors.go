package contactflow

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/smithy-go"
)

// Code is a stable error code answered in the response's error_code. Flows branch on these
// values, so they never change meaning; docs/contactflow.md lists them.
type Code string

// Error codes.
const (
	// BadRequest: the event or the block's parameters are malformed (unknown operation, missing
	// instance ARN, invalid contact ID, nothing to write, ...).
	BadRequest Code = "BAD_REQUEST"
	// InvalidKey: an attribute key has characters other than [A-Za-z0-9_-], or a get asked for a
	// key the response reserves.
	InvalidKey Code = "INVALID_KEY"
	// AttributesTooLarge: the contact's attributes would exceed 32,768 bytes of keys and values.
	AttributesTooLarge Code = "ATTRIBUTES_TOO_LARGE"
	// ResponseTooLarge: the requested attributes do not fit in Connect's 32 KB response.
	ResponseTooLarge Code = "RESPONSE_TOO_LARGE"
	// ContactNotFound: Connect found no such contact or instance.
	ContactNotFound Code = "CONTACT_NOT_FOUND"
	// Throttled: Connect throttled every attempt the budget allowed.
	Throttled Code = "THROTTLED"
	// LimitExceeded: Connect refused the request because a service quota of the account or the
	// instance is used up (LimitExceededException). Unlike a throttle it does not pass in a
	// moment: the quota must be raised.
	LimitExceeded Code = "LIMIT_EXCEEDED"
	// AccessDenied: the function's role may not call Connect for this instance.
	AccessDenied Code = "ACCESS_DENIED"
	// InvalidCredentials: Connect refused the function's credentials: expired, unknown or
	// badly signed (ExpiredTokenException, UnrecognizedClientException, InvalidSignatureException,
	// ...). The parameters are not at fault: the function's role or its session is.
	InvalidCredentials Code = "INVALID_CREDENTIALS"
	// ConnectUnavailable: Connect failed (5xx, connection error) on every attempt the budget allowed.
	ConnectUnavailable Code = "CONNECT_UNAVAILABLE"
	// Timeout: the time budget ran out before Connect or DynamoDB answered.
	Timeout Code = "TIMEOUT"
	// InvalidPhoneNumber: no phone number to opt out, or one that cannot be a phone number (too
	// short, too long, unknown country code).
	InvalidPhoneNumber Code = "INVALID_PHONE_NUMBER"
	// IncompletePhoneNumber: the number to opt out is a local number without its area code
	// ("555-0123"): no dial would ever match it. The flow should ask for the whole number.
	IncompletePhoneNumber Code = "INCOMPLETE_PHONE_NUMBER"
	// OptOutUnavailable: the do-not-call table could not record the opt-out.
	OptOutUnavailable Code = "OPTOUT_UNAVAILABLE"
	// Internal: a bug; the log line has the detail.
	Internal Code = "INTERNAL"
)

// Codes lists every error code, for documentation tests.
var Codes = []Code{BadRequest, InvalidKey, AttributesTooLarge, ResponseTooLarge, ContactNotFound, Throttled,
	LimitExceeded, AccessDenied, InvalidCredentials, ConnectUnavailable, Timeout, InvalidPhoneNumber, IncompletePhoneNumber, OptOutUnavailable, Internal}

// Failure is an operation's error: a code for the flow, a short message safe to show in the flow
// (no phone numbers, no SDK text), and the cause for the log line.
type Failure struct {
	Code    Code
	Message string
	Err     error
	// Transient is set for a server-side failure (HTTP 5xx, a lost connection), which a new
	// invocation may not meet again and which costs no quota to try again: the only failures
	// worth Connect's retries in ErrorModeFail. Throttles, quotas, timeouts and everything the
	// caller or the configuration must fix are not transient.
	Transient bool
	// Stack is the goroutine's stack when the failure is a recovered panic, for the log line.
	Stack string
}

func (f *Failure) Error() string {
	if f.Err != nil {
		return fmt.Sprintf("%s: %s: %v", f.Code, f.Message, f.Err)
	}
	return fmt.Sprintf("%s: %s", f.Code, f.Message)
}

func (f *Failure) Unwrap() error { return f.Err }

func fail(code Code, format string, a ...any) *Failure {
	return &Failure{Code: code, Message: fmt.Sprintf(format, a...)}
}

// connectFailure classifies an error of a Connect call. The API error is looked at first: when
// the budget stopped the retries, the last attempt's error (a throttle, say) is the useful answer.
//
// Most of Connect's errors reach the SDK as a smithy.GenericAPIError whose fault is unknown (an
// operation types only the exceptions its model lists): the HTTP status tells a refusal (4xx)
// from a failure (5xx).
func connectFailure(op string, err error) *Failure {
	f := &Failure{Err: fmt.Errorf("%s: %w", op, err)}
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr):
		switch code := apiErr.ErrorCode(); {
		case code == "ResourceNotFoundException":
			// Connect answers it for an unknown instance as well as an unknown contact.
			f.Code, f.Message = ContactNotFound, "Connect found no such contact or instance"
		case code == "ContactNotFoundException":
			f.Code, f.Message = ContactNotFound, "Connect found no such contact"
		case code == "ThrottlingException" || code == "TooManyRequestsException":
			f.Code, f.Message = Throttled, "Connect throttled the request"
		case code == "LimitExceededException":
			f.Code, f.Message = LimitExceeded, "Connect refused the request: a service quota of the account or instance is used up"
		case accessDeniedCodes[code]:
			f.Code, f.Message = AccessDenied, "the function may not call Connect for this instance"
		case credentialCodes[code]:
			f.Code, f.Message = InvalidCredentials, "Connect refused the function's credentials (expired, unknown or badly signed)"
		case code == "InvalidParameterException" || code == "InvalidRequestException":
			f.Code, f.Message = BadRequest, "Connect rejected the request"
		case serverFault(err, apiErr):
			f.Code, f.Message, f.Transient = ConnectUnavailable, "Connect failed", true
		default:
			f.Code, f.Message = BadRequest, "Connect rejected the request"
		}
	case isTimeout(err):
		f.Code, f.Message = Timeout, "Connect did not answer within the time budget"
	default:
		f.Code, f.Message, f.Transient = ConnectUnavailable, "Connect could not be reached", true
	}
	return f
}

// accessDeniedCodes are the error codes of a caller whose credentials are good but who may not
// do what it asked (AWS common errors: AccessDeniedException 403, NotAuthorized).
var accessDeniedCodes = map[string]bool{"AccessDeniedException": true, "AccessDenied": true, "NotAuthorized": true}

// credentialCodes are the error codes of credentials or a signature that AWS refused (AWS
// common errors: ExpiredTokenException 403, UnrecognizedClientException 403,
// InvalidClientTokenId 403, IncompleteSignature, MissingAuthenticationToken, RequestExpired;
// InvalidSignatureException and SignatureDoesNotMatch for a bad signature).
var credentialCodes = map[string]bool{
	"ExpiredTokenException": true, "ExpiredToken": true, "UnrecognizedClientException": true,
	"InvalidClientTokenId": true, "InvalidSignatureException": true, "SignatureDoesNotMatch": true,
	"IncompleteSignature": true, "MissingAuthenticationToken": true, "MissingAuthenticationTokenException": true,
	"RequestExpired": true,
}

// serverFault reports whether an API error is the service's failure rather than a refusal of
// the request: an HTTP status of 500 or more when the response had one, else the error's fault.
func serverFault(err error, apiErr smithy.APIError) bool {
	var resp interface{ HTTPStatusCode() int }
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode() >= 500
	}
	return apiErr.ErrorFault() == smithy.FaultServer
}

// optOutFailure classifies an error of the do-not-call table. Only a DynamoDB failure (5xx, a
// lost connection) is transient: a missing table, a throttle or a refused write is not.
func optOutFailure(err error) *Failure {
	f := &Failure{Code: OptOutUnavailable, Message: "the do-not-call list could not record the opt-out", Err: err}
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr):
		f.Transient = serverFault(err, apiErr)
	case isTimeout(err):
		f.Code, f.Message = Timeout, "the do-not-call list did not answer within the time budget"
	default:
		f.Transient = true
	}
	return f
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
