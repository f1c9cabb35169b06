package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"+12025550123", "US", "+12025550123"},
		{"(202) 555-0123", "US", "+12025550123"},
		{"202.555.0123", "US", "+12025550123"},
		{"  +1 202 555 0123 ", "US", "+12025550123"},
		{"+15555550100", "US", "+15555550100"}, // fictional 555-01xx: possible though not assigned
		{"020 7946 0958", "GB", "+442079460958"},
		{"+44 20 7946 0958", "US", "+442079460958"},
		{"+49 151 12345678", "US", "+4915112345678"},
		{"0612345678", "FR", "+33612345678"},
		{"1-800-FLOWERS", "US", "+18003569377"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.country)
			if err != nil || got != tt.want {
				t.Errorf("Normalize(%q, %s) = %q, %v; want %q", tt.raw, tt.country, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	for _, raw := range []string{"", "   ", "abc", "12345", "020 7946 0958" /* GB number read as US */, "+999123456", "+1202555012345678"} {
		t.Run(raw, func(t *testing.T) {
			got, err := Normalize(raw, "US")
			if !errors.Is(err, ErrInvalidNumber) {
				t.Fatalf("Normalize(%q) = %q, %v; want ErrInvalidNumber", raw, got, err)
			}
			if len(raw) > 5 && strings.Contains(err.Error(), strings.TrimSpace(raw)) {
				t.Errorf("error %q quotes the number", err)
			}
		})
	}
}

// A number that is possible only locally (no area code) has an E.164 form that no dial will
// ever match: recording it would tell the caller "recorded" and protect nobody. Each case is
// checked against the reason nyaruka/phonenumbers gives, with the E.164 form the old check
// accepted written out, so a case that stops being local-only shows up.
func TestNormalizeRefusesLocalOnlyAndImpossibleNumbers(t *testing.T) {
	tests := []struct {
		raw, country string
		localOnly    bool   // ErrLocalOnlyNumber, not only ErrInvalidNumber
		why          string // in the error text
	}{
		{"555-0123", "US", true, "local number without its area code"},      // 7 digits: was stored as +15550123
		{"5550123", "US", true, "local number without its area code"},       // the same, undotted
		{"7946 0958", "GB", true, "local number without its area code"},     // London number without 020: was +4479460958
		{"12345", "GB", true, "local number without its area code"},         // was +4412345
		{"+44 7946 0958", "US", true, "local number without its area code"}, // the same with the country code
		{"123", "GB", false, "too short"},
		{"12345", "US", false, "too short"},
		{"+1 202 555 01234", "US", false, "too long"}, // one digit too many
		{"+12025550123456", "US", false, "too long"},
		{"020 7946 09581", "GB", false, "too long"},
		{"+999123456", "US", false, "country"},
	}
	for _, tt := range tests {
		t.Run(tt.country+" "+tt.raw, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.country)
			if !errors.Is(err, ErrInvalidNumber) || errors.Is(err, ErrLocalOnlyNumber) != tt.localOnly {
				t.Fatalf("Normalize(%q, %s) = %q, %v; want ErrInvalidNumber, local only %v", tt.raw, tt.country, got, err, tt.localOnly)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

// Numbers possible as whole national numbers are kept, valid (assigned ranges) or not.
func TestNormalizeAcceptsWholeNumbers(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"202-555-0123", "US", "+12025550123"},
		{"+1 555 555 0100", "US", "+15555550100"}, // possible, not valid: kept, an opt-out of it is harmless
		{"946 0958", "GB", "+449460958"},          // 7 digits is a whole national length in GB
		{"020 7946 0958", "GB", "+442079460958"},
		{"+3545511234", "GB", "+3545511234"}, // Iceland: 7-digit national numbers are whole
	}
	for _, tt := range tests {
		t.Run(tt.country+" "+tt.raw, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.country)
			if err != nil || got != tt.want {
				t.Errorf("Normalize(%q, %s) = %q, %v; want %q", tt.raw, tt.country, got, err, tt.want)
			}
		})
	}
}

func TestIsE164(t *testing.T) {
	tests := map[string]bool{
		"+12025550123": true, "+442079460958": true, "+1": false, "+12": true,
		"12025550123": false, "+02025550123": false, "+1202555012345678": false, "+1 202": false,
	}
	for in, want := range tests {
		if got := IsE164(in); got != want {
			t.Errorf("IsE164(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestIsValidRegion(t *testing.T) {
	for region, want := range map[string]bool{"US": true, "GB": true, "DE": true, "": false, "XX": false, "us": false} {
		if got := IsValidRegion(region); got != want {
			t.Errorf("IsValidRegion(%q) = %v, want %v", region, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+15555550100", "+1******0100"},
		{"+12025550123", "+1******0123"},
		{"+442079460958", "+44******0958"},
		{"+4915112345678", "+49*******5678"},
		{"+33612345678", "+33*****5678"},
		{"+3545511234", "+354*****34"}, // Iceland: 7-digit national numbers keep two
		{"+1 202 555 0123", "+1******0123"},
		{"(202) 555-0123", "(***) ***-**23"},
		{"2025550123", "********23"},
		{"+999123456", "+*******56"},       // no such country code
		{"1-800-FLOWERS", "*-*00-*******"}, // letters are hidden, the last two digits kept
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Mask(tt.in)
			if got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Moved with the scrubber from shared/contactflow (TestScrubMasksPhoneNumbers): the assertions
// are the ones it had there.
func TestScrubMasksPhoneNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"number +15555550100 refused", "number +1******0100 refused"},
		{"+44 20 7946 0958", "+44******0958"},
		// Without a +: national numbers, with or without separators.
		{"call (202) 555-0123 now", "call (***) ***-**23 now"},
		{"202-555-0123", "***-***-**23"},
		{"202.555.0123", "***.***.**23"},
		{"2025550123", "********23"},
		{"tel:2025550123", "tel:********23"},
		{"555-0123", "***-**23"},
		{"took 1234567 ms", "took *****67 ms"},
		// Fewer than seven digits, and standalone UUIDs (contact and instance IDs), stay.
		{"took 123456 ms", "took 123456 ms"},
		{"555-012", "555-012"},
		{"contact 11111111-2222-4333-8444-555555555555 not found", "contact 11111111-2222-4333-8444-555555555555 not found"},
		{"contact aaaaaaaa-0000-4000-8000-000000000001 not found", "contact aaaaaaaa-0000-4000-8000-000000000001 not found"},
		{"StatusCode: 500, RequestID: 5f1b2c3d-4e5f-4a6b-8c7d-000000000001", "StatusCode: 500, RequestID: 5f1b2c3d-4e5f-4a6b-8c7d-000000000001"},
		{"2025550123 11111111-2222-4333-8444-555555555555", "********23 11111111-2222-4333-8444-555555555555"},
		{"11111111-2222-4333-8444-555555555555/2025550123", "11111111-2222-4333-8444-555555555555/********23"},
		// A UUID shape inside a longer token is not an ID.
		{"x11111111-2222-4333-8444-555555555555", "x********-****-****-****-**********55"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Moved from events/dialer (TestScrubDigits), where the dialer's refusals had their own
// scrubber. The two disagreed on a +number: the dialer's kept only the last two digits
// ("+*********62"); the one scrubber masks it as Mask does, country code and last four kept.
func TestScrubAsTheDialersRefusalsDid(t *testing.T) {
	for in, want := range map[string]string{
		"mode \"+14155550162\"": "mode \"+1******0162\"",
		"call 415-555-0162 now": "call ***-***-**62 now",
		"123456 stays":          "123456 stays",
		"":                      "",
	} {
		if got := Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

// Scrub never lets seven consecutive digits of a number through, whatever the separators.
func TestScrubLeavesNoSevenDigitRun(t *testing.T) {
	for _, in := range []string{
		"+1 (202) 555-0123", "tel:+12025550123;ext=1", "a2025550123b", "+442079460958+442079460958",
		"20 25 55 01 23", "x+33612345678", "ID 123456789012",
	} {
		got := Scrub(in)
		run := 0
		for i := 0; i < len(got); i++ {
			if got[i] >= '0' && got[i] <= '9' {
				if run++; run >= MinScrubDigits {
					t.Errorf("Scrub(%q) = %q: %d digits in a row", in, got, run)
					break
				}
			} else if got[i] != ' ' {
				run = 0
			}
		}
	}
}
