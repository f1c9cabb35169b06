package connectsim

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
)

// Operation names, as the SDKs name them. They key throttling limits,
// faults and request counters.
const (
	OpUpdateContactAttributes         = "UpdateContactAttributes"
	OpGetContactAttributes            = "GetContactAttributes"
	OpStartOutboundVoiceContact       = "StartOutboundVoiceContact"
	OpStopContact                     = "StopContact"
	OpGetCurrentMetricData            = "GetCurrentMetricData"
	OpUpdateParticipantAuthentication = "UpdateParticipantAuthentication"
	OpDescribeContact                 = "DescribeContact"
	// Connect Participant Service operations.
	OpGetAuthenticationURL            = "GetAuthenticationUrl"
	OpCancelParticipantAuthentication = "CancelParticipantAuthentication"

	// Users, hierarchy and profiles.
	OpCreateUser                     = "CreateUser"
	OpDescribeUser                   = "DescribeUser"
	OpListUsers                      = "ListUsers"
	OpDeleteUser                     = "DeleteUser"
	OpUpdateUserIdentityInfo         = "UpdateUserIdentityInfo"
	OpUpdateUserPhoneConfig          = "UpdateUserPhoneConfig"
	OpUpdateUserRoutingProfile       = "UpdateUserRoutingProfile"
	OpUpdateUserSecurityProfiles     = "UpdateUserSecurityProfiles"
	OpUpdateUserHierarchy            = "UpdateUserHierarchy"
	OpDescribeUserHierarchyStructure = "DescribeUserHierarchyStructure"
	OpDescribeUserHierarchyGroup     = "DescribeUserHierarchyGroup"
	OpListUserHierarchyGroups        = "ListUserHierarchyGroups"
	OpListRoutingProfiles            = "ListRoutingProfiles"
	OpListSecurityProfiles           = "ListSecurityProfiles"
	// Historical metrics and federation.
	OpGetMetricData      = "GetMetricData"
	OpGetFederationToken = "GetFederationToken"
	// Chat attachments (Connect Participant Service).
	OpStartAttachmentUpload    = "StartAttachmentUpload"
	OpCompleteAttachmentUpload = "CompleteAttachmentUpload"
	OpGetAttachment            = "GetAttachment"
)

// knownOps maps every emulated operation to its default request-rate quota (per account and
// Region) and the error type answered over it.
//
// Rates: the Service Quotas defaults ("Rate of <Operation> API requests": 2 for
// StartOutboundVoiceContact, 10 for DescribeContact, StopContact and the attribute operations,
// 5 for GetCurrentMetricData); bursts: 5 and 8 as the admin guide's API throttling table gives
// them for the 2/s and 5/s operations, 15 assumed for the 10/s ones.
//
// Error types: ThrottlingException where the operation's error list in the service model has
// it (DescribeContact, GetCurrentMetricData, UpdateParticipantAuthentication); the others have
// none, and TooManyRequestsException is what callers report for StartOutboundVoiceContact, so
// it is assumed for all of them. The SDK decodes it as a generic smithy.APIError: match on
// ErrorCode(), never on *types.ThrottlingException.
var knownOps = map[string]RateLimit{
	OpUpdateContactAttributes:         {Rate: 10, Burst: 15, ErrorType: errTooManyRequests},
	OpGetContactAttributes:            {Rate: 10, Burst: 15, ErrorType: errTooManyRequests},
	OpStartOutboundVoiceContact:       {Rate: 2, Burst: 5, ErrorType: errTooManyRequests},
	OpStopContact:                     {Rate: 10, Burst: 15, ErrorType: errTooManyRequests},
	OpGetCurrentMetricData:            {Rate: 5, Burst: 8, ErrorType: errThrottling},
	OpUpdateParticipantAuthentication: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpDescribeContact:                 {Rate: 10, Burst: 15, ErrorType: errThrottling},
	OpGetAuthenticationURL:            {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpCancelParticipantAuthentication: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	// The admin guide's API throttling quotas: "For all other operations, a RateLimit of 2
	// requests per second, and a BurstLimit of 5"; GetMetricData 5 and 8; the Participant
	// Service's StartAttachmentUpload and CompleteAttachmentUpload 2 and 5, GetAttachment 8 and
	// 12. Every one of them lists ThrottlingException.
	OpCreateUser: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpDescribeUser: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpListUsers: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpDeleteUser: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpUpdateUserIdentityInfo: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpUpdateUserPhoneConfig: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpUpdateUserRoutingProfile: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpUpdateUserSecurityProfiles: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpUpdateUserHierarchy: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpDescribeUserHierarchyStructure: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpDescribeUserHierarchyGroup: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpListUserHierarchyGroups: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpListRoutingProfiles: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpListSecurityProfiles: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpGetMetricData: {Rate: 5, Burst: 8, ErrorType: errThrottling}, OpGetFederationToken: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpStartAttachmentUpload: {Rate: 2, Burst: 5, ErrorType: errThrottling}, OpCompleteAttachmentUpload: {Rate: 2, Burst: 5, ErrorType: errThrottling},
	OpGetAttachment: {Rate: 8, Burst: 12, ErrorType: errThrottling},
}

// throttleErrorTypes are the error types a quota may answer with.
var throttleErrorTypes = []string{errThrottling, errTooManyRequests, errLimitExceeded}

// DefaultRateLimit returns the default quota of an operation and whether
// the operation is emulated.
func DefaultRateLimit(op string) (RateLimit, bool) {
	rl, ok := knownOps[op]
	return rl, ok
}

var (
	e164             = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)
	noQuoteBackslash = regexp.MustCompile(`^[\x20-\x21\x23-\x5B\x5D-\x7E]*$`)
)

// check collects the first validation failure of a request in the message
// format of AWS's Smithy-based front door ("1 validation error detected:
// Value at 'x' failed to satisfy constraint: ...").
type check struct {
	errs []string
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func (c *check) fail(member, value, constraint string) {
	c.errs = append(c.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, lowerFirst(member), constraint))
}

// required fails when p is nil.
func (c *check) required(member string, present bool) bool {
	if !present {
		c.fail(member, "null", "Member must not be null")
		return false
	}
	return true
}

// length checks the length in characters of an optional string.
func (c *check) length(member string, p *string, min, max int) {
	if p == nil {
		return
	}
	n := utf8.RuneCountInString(*p)
	switch {
	case n < min:
		c.fail(member, quoteValue(*p), fmt.Sprintf("Member must have length greater than or equal to %d", min))
	case max > 0 && n > max:
		c.fail(member, quoteValue(*p), fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

func (c *check) pattern(member string, p *string, re *regexp.Regexp) {
	if p != nil && !re.MatchString(*p) {
		c.fail(member, quoteValue(*p), "Member must satisfy regular expression pattern: "+re.String())
	}
}

func (c *check) enum(member string, p *string, values ...string) {
	if p == nil {
		return
	}
	for _, v := range values {
		if *p == v {
			return
		}
	}
	c.fail(member, quoteValue(*p), "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

func (c *check) intRange(member string, p *int64, min, max int64) {
	if p == nil {
		return
	}
	if *p < min {
		c.fail(member, fmt.Sprintf("'%d'", *p), fmt.Sprintf("Member must have value greater than or equal to %d", min))
	} else if *p > max {
		c.fail(member, fmt.Sprintf("'%d'", *p), fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// quoteValue shows a value in a validation message; long values are cut so
// that an error never echoes a whole payload.
func quoteValue(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		r := []rune(s)
		s = string(r[:61]) + "..."
	}
	return "'" + s + "'"
}

// err returns the collected failures as an InvalidRequestException (the
// front door's answer to a request that breaks the model's constraints),
// or nil.
func (c *check) err() *apiError { return c.errAs(errInvalidRequest) }

// errAs is err with another error type: the Participant Service answers
// ValidationException.
func (c *check) errAs(typ string) *apiError {
	if len(c.errs) == 0 {
		return nil
	}
	noun := "error"
	if len(c.errs) > 1 {
		noun = "errors"
	}
	return newErr(typ, "%d validation %s detected: %s", len(c.errs), noun, strings.Join(c.errs, "; "))
}

// checkAttributes validates attribute keys and the size budget of the
// merged attribute set. It answers InvalidParameterException: these rules
// are the service's, not the model's.
func checkAttributes(existing, update map[string]string) *apiError {
	for k := range update {
		if !connectspec.ValidAttributeKey(k) {
			return newErr(errInvalidParameter, "Attribute key %s is invalid: keys may contain only letters, digits, '-' and '_'", quoteValue(k))
		}
	}
	total := connectspec.MergedAttributeBytes(existing, update)
	if total > connectspec.MaxAttributeBytes {
		return newErr(errInvalidParameter, "Contact attributes total %d bytes, over the limit of %d bytes for all keys and values", total, connectspec.MaxAttributeBytes)
	}
	return nil
}
