package contactflow

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns instanceIDFromARN and validContactID replaced; they stay the specification.
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
	if got, ok := instanceIDFromARN(s); got != want || ok != (want != "") {
		t.Errorf("instanceIDFromARN(%q) = %q, %v; the pattern says %q", s, got, ok, want)
	}
	if got, want := validContactID(s), contactIDPattern.MatchString(s); got != want {
		t.Errorf("validContactID(%q) = %v, the pattern says %v", s, got, want)
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
	testInstanceARN,
	"arn:aws-us-gov:connect:us-gov-west-1:123456789012:instance/" + testInstanceID,
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
	testContact,
	strings.Repeat("a", 256),
	strings.Repeat("a", 257),
	"aaaa_bbbb",
	"café",
}
