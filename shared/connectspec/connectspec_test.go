package connectspec

import (
	"regexp"
	"strings"
	"testing"
)

// Moved from shared/contactflow (TestValidKey, TestMergedBytes*): the assertions are the ones
// they had there.
func TestValidAttributeKey(t *testing.T) {
	tests := map[string]bool{
		"a": true, "Z": true, "0": true, "_": true, "-": true, "customer_tier-2": true, "ABCxyz019_-": true,
		"": false, " ": false, "a b": false, "a.b": false, "a/b": false, "$.x": false, "é": false,
		"key\n": false, "a:b": false, "ключ": false, "😀": false,
	}
	for k, want := range tests {
		if got := ValidAttributeKey(k); got != want {
			t.Errorf("ValidAttributeKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// The existing attributes alone count as Connect counts them: the UTF-8 bytes of keys and values.
func TestMergedAttributeBytesCountsUTF8BytesOfKeysAndValues(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]string
		want  int
	}{
		{"empty", nil, 0},
		{"ascii", map[string]string{"a": "bc", "de": ""}, 5},
		{"two-byte runes", map[string]string{"name": "José"}, 4 + 5},
		{"three-byte runes", map[string]string{"greeting": "こんにちは"}, 8 + 15},
		{"four-byte runes", map[string]string{"mood": "😀"}, 4 + 4},
		{"exactly the limit", map[string]string{"k": strings.Repeat("v", MaxAttributeBytes-1)}, MaxAttributeBytes},
	}
	for _, tt := range tests {
		if got := MergedAttributeBytes(tt.attrs, nil); got != tt.want {
			t.Errorf("%s: MergedAttributeBytes = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestMergedAttributeBytesCountsAReplacedKeyOnce(t *testing.T) {
	tests := []struct {
		name             string
		existing, update map[string]string
		want             int
	}{
		{"nothing existing", nil, map[string]string{"a": "1"}, 2},
		{"disjoint", map[string]string{"x": "123"}, map[string]string{"a": "1"}, 6},
		{"replaced with longer", map[string]string{"a": "1"}, map[string]string{"a": "12345"}, 6},
		{"replaced with shorter", map[string]string{"a": strings.Repeat("x", 1000)}, map[string]string{"a": "1"}, 2},
		// Connect removes an attribute set to "": it leaves the total, key and value.
		{"cleared", map[string]string{"a": strings.Repeat("x", 1000), "b": "1"}, map[string]string{"a": ""}, 2},
		{"cleared and another written", map[string]string{"a": "12345", "b": "1"}, map[string]string{"a": "", "c": "123"}, 6},
		{"clearing a key the contact does not have", map[string]string{"b": "1"}, map[string]string{"zz": ""}, 2},
		{"non-ASCII on both sides", map[string]string{"city": "Zürich", "x": "y"}, map[string]string{"city": "São Paulo"}, 4 + 10 + 2},
	}
	for _, tt := range tests {
		if got := MergedAttributeBytes(tt.existing, tt.update); got != tt.want {
			t.Errorf("%s: MergedAttributeBytes = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// The patterns InstanceIDFromARN and ValidContactID replaced; they stay the specification. Moved
// from shared/contactflow with its seeds.
var (
	instanceARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:connect:[a-z0-9-]+:[0-9]{12}:instance/([-a-zA-Z0-9]{1,100})$`)
	contactIDPattern   = regexp.MustCompile(`^[-a-zA-Z0-9]{1,256}$`)
)

// checkIDsMatchThePatterns fails when the hand-written checks disagree with the patterns on s.
func checkIDsMatchThePatterns(t *testing.T, s string) {
	t.Helper()
	want := ""
	if m := instanceARNPattern.FindStringSubmatch(s); m != nil {
		want = m[1]
	}
	if got, ok := InstanceIDFromARN(s); got != want || ok != (want != "") {
		t.Errorf("InstanceIDFromARN(%q) = %q, %v; the pattern says %q", s, got, ok, want)
	}
	if got, want := ValidContactID(s), contactIDPattern.MatchString(s); got != want {
		t.Errorf("ValidContactID(%q) = %v, the pattern says %v", s, got, want)
	}
}

func TestIDChecksMatchThePatterns(t *testing.T) {
	for _, s := range idSeeds {
		checkIDsMatchThePatterns(t, s)
	}
}

func FuzzIDChecksMatchThePatterns(f *testing.F) {
	for _, s := range idSeeds {
		f.Add(s)
	}
	f.Fuzz(checkIDsMatchThePatterns)
}

var idSeeds = []string{
	"arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555",
	"arn:aws-us-gov:connect:us-gov-west-1:123456789012:instance/11111111-2222-4333-8444-555555555555",
	"arn:aws-cn:connect:cn-north-1:123456789012:instance/a",
	"arn:aws:connect:us-east-1:123456789012:instance/" + strings.Repeat("a", 100),
	"arn:aws:connect:us-east-1:123456789012:instance/" + strings.Repeat("a", 101),
	"arn:aws:connect:us-east-1:123456789012:instance/",
	"arn:aws:connect:us-east-1:123456789012:instance/x/contact/y",
	"arn:aws:connect:us-east-1:123456789012:instance/x:y",
	"arn:aws:connect:us-east-1:12345678901:instance/x",
	"arn:aws:connect:us-east-1:1234567890123:instance/x",
	"arn:aws:connect::123456789012:instance/x",
	"arn:aws:connect:US-EAST-1:123456789012:instance/x",
	"arn:aws:lambda:us-east-1:123456789012:function:x",
	"arn:awsX:connect:us-east-1:123456789012:instance/x",
	"arn:aws:connect:us-east-1:123456789012:queue/x",
	"arn:aws:connect:us-east-1:123456789012:instance/x\n",
	" arn:aws:connect:us-east-1:123456789012:instance/x",
	"",
	"-",
	"aaaaaaaa-0000-4000-8000-000000000001",
	strings.Repeat("a", 256),
	strings.Repeat("a", 257),
	"aaaa_bbbb",
	"café",
}

// The key rule's length limit is the model's AttributeName max, 32767.
func TestValidAttributeKeyLength(t *testing.T) {
	if !ValidAttributeKey(strings.Repeat("k", 32767)) {
		t.Error("a key of 32767 characters is refused")
	}
	if ValidAttributeKey(strings.Repeat("k", 32768)) {
		t.Error("a key of 32768 characters is accepted")
	}
}
