package donotcall

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// e164 is the form Connect dials and the table's key.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// IsE164 reports whether s is a number in E.164 form.
func IsE164(s string) bool { return e164.MatchString(s) }

// ErrInvalidNumber is returned by Normalize for input that cannot be a phone number.
var ErrInvalidNumber = errors.New("not a phone number")

// ErrLocalOnlyNumber is returned by Normalize (joined to ErrInvalidNumber) for a number that
// can only be dialled locally, without its area code: "555-0123" in the US. Its E.164 form
// ("+15550123") matches no number a dialer could ever call, so an opt-out recorded under it
// would protect nobody. The caller should ask for the whole number.
var ErrLocalOnlyNumber = errors.New("a local number without its area code")

// Normalize returns raw in E.164, reading a number without a country code as one of
// defaultCountry (an ISO 3166 region such as "US"). Everything that writes or reads the
// do-not-call list goes through it, so that "(202) 555-0123" and "+12025550123" are one entry.
//
// It accepts a number whose length is possible for its region as a whole national number
// (phonenumbers.IS_POSSIBLE), valid or not: an opt-out of an unassigned number is harmless, a
// refused opt-out is not. A number possible only locally, without its area code, is refused
// with ErrLocalOnlyNumber; one too short, too long or with an unknown country code with
// ErrInvalidNumber alone.
func Normalize(raw, defaultCountry string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidNumber)
	}
	n, err := phonenumbers.Parse(raw, defaultCountry)
	if err != nil {
		// The parser's messages do not quote the number, so they are safe to pass on.
		return "", fmt.Errorf("%w: %v", ErrInvalidNumber, err)
	}
	// phonenumbers.IsPossibleNumber also accepts IS_POSSIBLE_LOCAL_ONLY: the reason tells them apart.
	switch reason := phonenumbers.IsPossibleNumberWithReason(n); reason {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "", fmt.Errorf("%w: %w for country code %d", ErrInvalidNumber, ErrLocalOnlyNumber, n.GetCountryCode())
	default:
		return "", fmt.Errorf("%w: %s for country code %d", ErrInvalidNumber, possibleReason(reason), n.GetCountryCode())
	}
	out := phonenumbers.Format(n, phonenumbers.E164)
	if !IsE164(out) {
		return "", fmt.Errorf("%w: no E.164 form", ErrInvalidNumber)
	}
	return out, nil
}

// possibleReason says why a number is not possible, for an error message.
func possibleReason(r phonenumbers.ValidationResult) string {
	switch r {
	case phonenumbers.TOO_SHORT:
		return "too short"
	case phonenumbers.TOO_LONG:
		return "too long"
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "unknown country code"
	default:
		return "impossible length"
	}
}

// IsValidRegion reports whether region is a region code Normalize understands ("US", "GB", ...).
func IsValidRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}

// Mask hides a phone number for logs: an international number keeps its country code and last
// four digits (two when the national number is shorter than eight), "+1******0100"; anything
// else keeps only its last two digits. The length of the national number stays visible, which
// helps to tell a truncated number from a whole one.
func Mask(number string) string {
	s := strings.TrimSpace(number)
	if strings.HasPrefix(s, "+") {
		if n, err := phonenumbers.Parse(s, "ZZ"); err == nil {
			nsn := phonenumbers.GetNationalSignificantNumber(n)
			keep := 4
			if len(nsn) < 8 {
				keep = 2
			}
			if len(nsn) > keep {
				return fmt.Sprintf("+%d%s%s", n.GetCountryCode(), strings.Repeat("*", len(nsn)-keep), nsn[len(nsn)-keep:])
			}
		}
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	seen := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			seen++
			if seen > digits-2 {
				b.WriteRune(r)
			} else {
				b.WriteByte('*')
			}
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}
