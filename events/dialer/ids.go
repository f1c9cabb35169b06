package dialer

import "github.com/switchboard-connect/switchboard/shared/connectspec"

// The ID and attribute-key checks are written out rather than regular expressions
// (^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$ for ValidID, ^[A-Za-z0-9-]{1,256}$, ^[A-Za-z0-9_-]{1,128}$):
// a bounded repetition compiles into hundreds of instructions at package init, 0.7 ms and 330 KB
// of every cold start of the dialer (GODEBUG=inittrace=1). TestIDChecksMatchThePatterns and
// FuzzIDChecksMatchThePatterns keep them equal to the patterns.

// MaxAttributeKeyLength is the longest attribute key a campaign or a recipient may pass to the
// flow. Connect allows keys of up to connectspec.MaxAttributeKeyLength; the dialer holds its own
// to 128, a CSV header column and a campaign setting, so that a key is readable in a report.
const MaxAttributeKeyLength = 128

// ValidAttributeKey reports whether k can be the key of a contact attribute a campaign or a
// recipient passes to the flow: Connect's key rule (connectspec.ValidAttributeKey), at most
// MaxAttributeKeyLength long.
func ValidAttributeKey(k string) bool {
	return len(k) <= MaxAttributeKeyLength && connectspec.ValidAttributeKey(k)
}

// isIDByte: what may follow the first character of an ID.
func isIDByte(c byte) bool { return isAlnum(c) || c == '_' || c == '.' || c == ':' || c == '-' }

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
