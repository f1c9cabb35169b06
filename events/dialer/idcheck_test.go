package dialer

import (
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/shared/connectspec"
)

// The patterns the written-out checks stand for (compiled here, in the test, not at init).
var (
	idPattern           = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
	contactIDPattern    = regexp.MustCompile(`^[A-Za-z0-9-]{1,256}$`)
	attributeKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

func checkIDsAgainstPatterns(t *testing.T, s string) {
	t.Helper()
	if got, want := ValidID(s), idPattern.MatchString(s); got != want {
		t.Errorf("ValidID(%q) = %v, the pattern says %v", s, got, want)
	}
	if got, want := connectspec.ValidContactID(s), contactIDPattern.MatchString(s); got != want {
		t.Errorf("validContactID(%q) = %v, the pattern says %v", s, got, want)
	}
	if got, want := ValidAttributeKey(s), attributeKeyPattern.MatchString(s); got != want {
		t.Errorf("ValidAttributeKey(%q) = %v, the pattern says %v", s, got, want)
	}
}

var idCheckSeeds = []string{
	"", "a", "A9", "camp-1", "req_b00528", "a.b:c-d_e", "_lead", ".lead", "-lead", ":lead",
	"5f1b2c3d-4e5f-4a6b-8c7d-000000000001", "has space", "tab\t", "new\nline", "ends\n", "é", "a\x00",
	"semi;colon", "slash/", "plus+", strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129),
	strings.Repeat("b-", 128), strings.Repeat("c", 256), strings.Repeat("c", 257), "x" + strings.Repeat(".", 127),
}

func TestIDChecksMatchThePatterns(t *testing.T) {
	for _, s := range idCheckSeeds {
		checkIDsAgainstPatterns(t, s)
	}
	// The seeds reach both answers of every check.
	for name, check := range map[string]func(string) bool{"ValidID": ValidID, "validContactID": connectspec.ValidContactID, "ValidAttributeKey": ValidAttributeKey} {
		var yes, no bool
		for _, s := range idCheckSeeds {
			yes, no = yes || check(s), no || !check(s)
		}
		if !yes || !no {
			t.Errorf("%s: the seeds give only %v", name, yes)
		}
	}
}

func FuzzIDChecksMatchThePatterns(f *testing.F) {
	for _, s := range idCheckSeeds {
		f.Add(s)
	}
	f.Fuzz(checkIDsAgainstPatterns)
}
