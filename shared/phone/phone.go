// Package phone owns phone numbers: reading a number as written into E.164 (the form Connect dials
// and every table keys on), the reasons a number is refused, masking a number for logs, and
// scrubbing numbers out of free text before it reaches a log line or an error message.
//
// Every package that parses, checks or prints a number goes through it: the do-not-call list, the
// contact-flow function, the dialer, connectsim and the local stack.
package phone

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// MaxE164Digits is the most digits an E.164 number has after its "+" (ITU-T E.164, section 6:
// "15 digits"; Connect's PhoneNumber shape: ^\+[1-9]\d{1,14}$).
const MaxE164Digits = 15

// IsE164 reports whether s is a number in E.164 form as Connect's model writes it:
// ^\+[1-9]\d{1,14}$. It is written out rather than a regular expression: a bounded repetition
// compiles into many instructions at package init, on every cold start.
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 1+MaxE164Digits || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ErrInvalidNumber is returned by Normalize for input that cannot be a phone number.
var ErrInvalidNumber = errors.New("not a phone number")

// ErrLocalOnlyNumber is returned by Normalize (joined to ErrInvalidNumber) for a number that
// can only be dialled locally, without its area code: "555-0123" in the US. Its E.164 form
// ("+15550123") matches no number a dialer could ever call, so an opt-out recorded under it
// would protect nobody. The caller should ask for the whole number.
var ErrLocalOnlyNumber = errors.New("a local number without its area code")

// Normalize returns raw in E.164, reading a number without a country code as one of
// defaultCountry (an ISO 3166 region such as "US"). Everything that writes or reads the
// do-not-call list, and every recipient of a campaign, goes through it, so that "(202) 555-0123" and "+12025550123" are one entry.
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

// Scrub masks phone numbers in text that reaches a log line or an error message from elsewhere
// (an SDK error that quotes a request, a caller-supplied name, an event's field): every run of at
// least seven digits, with or without + and separators ("(202) 555-0123" as well as
// "+12025550123"), each as Mask masks it. Standalone UUIDs (contact and instance IDs) are kept
// readable although they are full of digits. It masks more than phone numbers (an account ID, a
// long duration): that only costs some detail in a message.
func Scrub(s string) string {
	re := scrubPatterns()
	var b strings.Builder
	last := 0
	for _, l := range re.uuid.FindAllStringIndex(s, -1) {
		if l[0] > 0 && isAlnum(s[l[0]-1]) || l[1] < len(s) && isAlnum(s[l[1]]) {
			continue // part of something longer: not an ID
		}
		maskNumbers(&b, re.digitRun, s[last:l[0]])
		b.WriteString(s[l[0]:l[1]])
		last = l[1]
	}
	maskNumbers(&b, re.digitRun, s[last:])
	return b.String()
}

// MinScrubDigits is the fewest digits Scrub masks: a local number without its area code has 7.
const MinScrubDigits = 7

type scrubRegexps struct{ digitRun, uuid *regexp.Regexp }

// scrubPatterns compiles Scrub's expressions on first use: Scrub runs on error paths, and a
// compile at package init would cost every cold start of every function.
var scrubPatterns = sync.OnceValue(func() scrubRegexps {
	return scrubRegexps{
		digitRun: regexp.MustCompile(`[+(]?[0-9][0-9 ().-]*[0-9]`),
		// The shape of Connect's contact and instance IDs.
		uuid: regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`),
	}
})

// maskNumbers writes s to b with every phone-like digit run masked.
func maskNumbers(b *strings.Builder, digitRun *regexp.Regexp, s string) {
	last := 0
	for _, l := range digitRun.FindAllStringIndex(s, -1) {
		run := s[l[0]:l[1]]
		if !phoneLike(run) {
			continue
		}
		b.WriteString(s[last:l[0]])
		b.WriteString(Mask(run))
		last = l[1]
	}
	b.WriteString(s[last:])
}

// phoneLike reports whether a digit run could be (part of) a phone number: seven digits or
// more, or a + followed by at least seven digits and separators.
func phoneLike(run string) bool {
	digits := 0
	for i := 0; i < len(run); i++ {
		if '0' <= run[i] && run[i] <= '9' {
			digits++
		}
	}
	return digits >= MinScrubDigits || run[0] == '+' && len(run) >= 8
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
