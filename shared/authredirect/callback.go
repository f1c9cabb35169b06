package authredirect

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits Amazon Connect documents for UpdateParticipantAuthentication, and our own cap on the
// whole query string.
const (
	MaxStateLen            = 1000
	MaxCodeLen             = 2048
	MaxErrorLen            = 2048
	MaxErrorDescriptionLen = 2048
	// MaxQueryLen bounds the raw (percent-encoded) query string before it is parsed: room for
	// every field at its maximum, encoded, and nothing much more.
	MaxQueryLen = 16 * 1024
)

// Callback is what the identity provider put in the redirect's query string, validated.
// Exactly one of Code or Error is set.
type Callback struct {
	State string
	Code  string
	Error string
	// ErrorDescription is already reduced to what Connect accepts (see ReduceErrorDescription);
	// empty when there was none or nothing of it survived.
	ErrorDescription string
}

// InvalidCallbackError says why a callback was refused. Its Reason never contains a value from
// the request, so it can be logged as it is.
type InvalidCallbackError struct {
	Reason string
}

func (e *InvalidCallbackError) Error() string { return "invalid callback: " + e.Reason }

func invalid(format string, args ...any) error {
	return &InvalidCallbackError{Reason: fmt.Sprintf(format, args...)}
}

// The parameters a callback may carry once each. Others (an identity provider may add its own)
// are ignored.
const (
	paramState            = "state"
	paramCode             = "code"
	paramError            = "error"
	paramErrorDescription = "error_description"
)

// ParseCallback validates a raw query string (without the leading '?') as Connect will: state
// 1–1000 characters, exactly one of code (1–2048) or error (1–2048, printable ASCII without '"'
// or '\', which is also RFC 6749's error charset), error_description only with error.
// Any parameter of ours given twice is refused rather than guessed at, and so is a query longer
// than MaxQueryLen or one that does not decode.
func ParseCallback(rawQuery string) (Callback, error) {
	if len(rawQuery) > MaxQueryLen {
		return Callback{}, invalid("query string is %d bytes, more than %d", len(rawQuery), MaxQueryLen)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Callback{}, invalid("query string does not decode")
	}
	for _, name := range []string{paramState, paramCode, paramError, paramErrorDescription} {
		if n := len(q[name]); n > 1 {
			return Callback{}, invalid("%s is given %d times", name, n)
		}
	}
	state, hasState := one(q, paramState)
	code, hasCode := one(q, paramCode)
	oauthErr, hasErr := one(q, paramError)
	desc, hasDesc := one(q, paramErrorDescription)

	switch {
	case !hasState || state == "":
		return Callback{}, invalid("state is missing")
	case utf8.RuneCountInString(state) > MaxStateLen:
		return Callback{}, invalid("state is longer than %d characters", MaxStateLen)
	case !printableASCII(state):
		return Callback{}, invalid("state has characters outside printable ASCII")
	case hasCode && hasErr:
		return Callback{}, invalid("both code and error are given")
	case !hasCode && !hasErr:
		return Callback{}, invalid("neither code nor error is given")
	}
	cb := Callback{State: state}
	if hasCode {
		switch {
		case code == "":
			return Callback{}, invalid("code is empty")
		case len(code) > MaxCodeLen:
			return Callback{}, invalid("code is longer than %d characters", MaxCodeLen)
		case !printableASCII(code):
			return Callback{}, invalid("code has characters outside printable ASCII")
		case hasDesc:
			return Callback{}, invalid("error_description is given with a code")
		}
		cb.Code = code
		return cb, nil
	}
	switch {
	case oauthErr == "":
		return Callback{}, invalid("error is empty")
	case len(oauthErr) > MaxErrorLen:
		return Callback{}, invalid("error is longer than %d characters", MaxErrorLen)
	case strings.IndexFunc(oauthErr, func(r rune) bool { return !connectTextRune(r) }) >= 0:
		return Callback{}, invalid("error has characters Connect does not accept")
	}
	cb.Error = oauthErr
	cb.ErrorDescription = ReduceErrorDescription(desc)
	return cb, nil
}

// one returns the single value of a parameter and whether it was present.
func one(q url.Values, name string) (string, bool) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// ReduceErrorDescription turns an identity provider's error_description into one Connect
// accepts (pattern ^[\x20-\x21\x23-\x5B\x5D-\x7E]*$, 1–2048 characters): whitespace (tabs,
// newlines) becomes a single space, a double quote becomes an apostrophe, other characters
// outside the pattern (backslash, control characters, anything beyond ASCII) are dropped, surrounding spaces are
// trimmed, and the result is cut to MaxErrorDescriptionLen bytes. An empty result means "send
// no ErrorDescription". The description is only forwarded to Connect; it never reaches the page
// or the logs.
func ReduceErrorDescription(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), MaxErrorDescriptionLen))
	space := false // a space is pending: collapse runs and drop it at the ends
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			space = b.Len() > 0
			continue
		case r == '"':
			r = '\''
		case !connectTextRune(r):
			continue
		}
		if space {
			if b.Len()+1 >= MaxErrorDescriptionLen {
				break
			}
			b.WriteByte(' ')
			space = false
		}
		if b.Len() >= MaxErrorDescriptionLen {
			break
		}
		// Every rune kept is ASCII, so a byte cut is always on a rune boundary.
		b.WriteByte(byte(r))
	}
	return b.String()
}

// connectTextRune reports whether r matches Connect's [\x20-\x21\x23-\x5B\x5D-\x7E].
func connectTextRune(r rune) bool {
	return r >= 0x20 && r <= 0x7E && r != '"' && r != '\\'
}

// printableASCII reports whether s is only of RFC 6749's VSCHAR (%x20-7E), the alphabet of
// state and code.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return false
		}
	}
	return true
}
