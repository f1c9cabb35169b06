package connectsim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an error answer of the emulated service: the HTTP status, the
// error type the SDKs decode from the X-Amzn-ErrorType header, and a message.
type apiError struct {
	Status  int
	Type    string
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errorf(status int, typ, format string, a ...any) *apiError {
	return &apiError{Status: status, Type: typ, Message: fmt.Sprintf(format, a...)}
}

// Error types, with the HTTP status the Amazon Connect API reference gives
// each.
const (
	errAccessDenied         = "AccessDeniedException"                // 403
	errConflict             = "ConflictException"                    // 409
	errContactNotFound      = "ContactNotFoundException"             // 410
	errDestinationNotAllowd = "DestinationNotAllowedException"       // 403
	errDuplicateResource    = "DuplicateResourceException"           // 409
	errUserNotFound         = "UserNotFoundException"                // 404
	errInternalService      = "InternalServiceException"             // 500
	errInvalidParameter     = "InvalidParameterException"            // 400
	errInvalidRequest       = "InvalidRequestException"              // 400
	errLimitExceeded        = "LimitExceededException"               // 429
	errOutboundNotPermitted = "OutboundContactNotPermittedException" // 403
	errResourceNotFound     = "ResourceNotFoundException"            // 404
	errThrottling           = "ThrottlingException"                  // 429
	errTooManyRequests      = "TooManyRequestsException"             // 429
	errSerialization        = "SerializationException"               // 400
	// Connect Participant Service types.
	errValidation           = "ValidationException"           // 400
	errInternalServer       = "InternalServerException"       // 500
	errServiceQuotaExceeded = "ServiceQuotaExceededException" // 402
	// Front-door types, common to every AWS REST service.
	errMissingAuth      = "MissingAuthenticationTokenException" // 403
	errIncompleteSig    = "IncompleteSignatureException"        // 403
	errInvalidSignature = "InvalidSignatureException"           // 403
	errUnknownOperation = "UnknownOperationException"           // 404
)

var statusOf = map[string]int{
	errAccessDenied: 403, errConflict: 409, errContactNotFound: 410, errDestinationNotAllowd: 403,
	errInternalService: 500, errInvalidParameter: 400, errInvalidRequest: 400, errLimitExceeded: 429,
	errOutboundNotPermitted: 403, errResourceNotFound: 404, errThrottling: 429, errTooManyRequests: 429,
	errValidation: 400, errInternalServer: 500, errMissingAuth: 403, errIncompleteSig: 403,
	errInvalidSignature: 403, errUnknownOperation: 404,
	errDuplicateResource: 409, errUserNotFound: 404, errServiceQuotaExceeded: 402,
}

func newErr(typ, format string, a ...any) *apiError {
	st, ok := statusOf[typ]
	if !ok {
		st = 400
	}
	return errorf(st, typ, format, a...)
}

// writeAPIError answers the way Amazon Connect does: the type in the
// X-Amzn-ErrorType header (which aws-sdk-go-v2, botocore and the JS SDK all
// read first) and {"message": ...} in the body. The body also carries
// "__type" for clients that only read the body.
func writeAPIError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": e.Message, "__type": e.Type})
}
