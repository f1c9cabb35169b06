package authredirect

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseCallback(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name    string
		query   string
		want    Callback
		invalid string // substring of the reason; empty means valid
	}{
		{name: "code", query: "code=c0de&state=st4te", want: Callback{State: "st4te", Code: "c0de"}},
		{name: "error with description", query: "error=access_denied&error_description=User+cancelled&state=s",
			want: Callback{State: "s", Error: "access_denied", ErrorDescription: "User cancelled"}},
		{name: "error without description", query: "error=server_error&state=s", want: Callback{State: "s", Error: "server_error"}},
		{name: "empty description is dropped", query: "error=server_error&error_description=&state=s", want: Callback{State: "s", Error: "server_error"}},
		{name: "description reduced", query: "error=invalid_request&error_description=" + url.QueryEscape("a \"b\"\n\\c\u00e9") + "&state=s",
			want: Callback{State: "s", Error: "invalid_request", ErrorDescription: "a 'b' c"}},
		{name: "other parameters ignored", query: "code=c&state=s&iss=https%3A%2F%2Fidp&session_state=x&session_state=y", want: Callback{State: "s", Code: "c"}},
		{name: "state at max", query: "code=c&state=" + long(MaxStateLen), want: Callback{State: long(MaxStateLen), Code: "c"}},
		{name: "code at max", query: "code=" + long(MaxCodeLen) + "&state=s", want: Callback{State: "s", Code: long(MaxCodeLen)}},
		{name: "error at max", query: "error=" + long(MaxErrorLen) + "&state=s", want: Callback{State: "s", Error: long(MaxErrorLen)}},
		{name: "printable state", query: "code=c&state=" + url.QueryEscape("a b~!\"\\"), want: Callback{State: "a b~!\"\\", Code: "c"}},

		{name: "empty query", query: "", invalid: "state is missing"},
		{name: "no state", query: "code=c", invalid: "state is missing"},
		{name: "empty state", query: "code=c&state=", invalid: "state is missing"},
		{name: "state too long", query: "code=c&state=" + long(MaxStateLen+1), invalid: "state is longer"},
		{name: "state with control character", query: "code=c&state=a%0Ab", invalid: "state has characters"},
		{name: "state not ASCII", query: "code=c&state=%C3%A9", invalid: "state has characters"},
		{name: "state twice", query: "code=c&state=a&state=b", invalid: "state is given 2 times"},
		{name: "code twice", query: "code=a&code=b&state=s", invalid: "code is given 2 times"},
		{name: "error twice", query: "error=a&error=b&state=s", invalid: "error is given 2 times"},
		{name: "description twice", query: "error=a&error_description=x&error_description=y&state=s", invalid: "error_description is given 2 times"},
		{name: "code and error", query: "code=c&error=access_denied&state=s", invalid: "both code and error"},
		{name: "neither code nor error", query: "state=s", invalid: "neither code nor error"},
		{name: "empty code", query: "code=&state=s", invalid: "code is empty"},
		{name: "code too long", query: "code=" + long(MaxCodeLen+1) + "&state=s", invalid: "code is longer"},
		{name: "code with control character", query: "code=a%00&state=s", invalid: "code has characters"},
		{name: "code with description", query: "code=c&error_description=x&state=s", invalid: "error_description is given with a code"},
		{name: "empty error", query: "error=&state=s", invalid: "error is empty"},
		{name: "error too long", query: "error=" + long(MaxErrorLen+1) + "&state=s", invalid: "error is longer"},
		{name: "error with quote", query: "error=a%22b&state=s", invalid: "error has characters"},
		{name: "error with backslash", query: "error=a%5Cb&state=s", invalid: "error has characters"},
		{name: "error with script", query: "error=%3Cscript%3E%0A&state=s", invalid: "error has characters"},
		{name: "bad escape", query: "code=%zz&state=s", invalid: "does not decode"},
		{name: "semicolon", query: "code=c;state=s", invalid: "does not decode"},
		{name: "query too long", query: "code=c&state=s&pad=" + long(MaxQueryLen), invalid: "query string is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCallback(tt.query)
			if tt.invalid == "" {
				if err != nil {
					t.Fatalf("ParseCallback: %v", err)
				}
				if got != tt.want {
					t.Fatalf("ParseCallback = %+v, want %+v", got, tt.want)
				}
				return
			}
			var ice *InvalidCallbackError
			if !errors.As(err, &ice) {
				t.Fatalf("ParseCallback = %+v, %v; want an InvalidCallbackError", got, err)
			}
			if !strings.Contains(ice.Reason, tt.invalid) {
				t.Fatalf("reason %q, want it to contain %q", ice.Reason, tt.invalid)
			}
		})
	}
}

// A refusal reason is logged as it is: it must never echo what the request carried.
func TestInvalidCallbackReasonCarriesNoValue(t *testing.T) {
	secret := "SECRETVALUE"
	for _, q := range []string{
		"code=" + secret + "&code=" + secret + "&state=" + secret,
		"code=" + secret + "&error=" + secret + "&state=" + secret,
		"error=" + secret + "%22&state=" + secret,
		"code=" + secret + "&state=" + secret + "%0A",
		"code=" + secret + "%zz&state=" + secret,
	} {
		_, err := ParseCallback(q)
		if err == nil {
			t.Fatalf("%s: accepted", q)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: reason %q echoes a value", q, err)
		}
	}
}

func TestReduceErrorDescription(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "User cancelled the login", "User cancelled the login"},
		{"empty", "", ""},
		{"double quotes become single", `say "hi"`, "say 'hi'"},
		{"backslash dropped", `a\b\\c`, "abc"},
		{"control characters dropped", "a\x00b\x1bc\x7fd", "abcd"},
		{"whitespace collapsed", "a\t\n\r  b", "a b"},
		{"trimmed", "  \n a b \t ", "a b"},
		{"non-ASCII dropped", "caf\u00e9 \u65e5\u672c ok \U0001F600", "caf ok"},
		{"only disallowed", "\\\x00\u00e9\n", ""},
		{"markup kept as text", `<script>alert("x")</script>`, "<script>alert('x')</script>"},
		{"invalid UTF-8 dropped", "a\xff\xfeb", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReduceErrorDescription(tt.in); got != tt.want {
				t.Fatalf("ReduceErrorDescription(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestReduceErrorDescriptionLength(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("x", 5000),
		strings.Repeat("\u00e9x", 3000),
		strings.Repeat("a ", 3000),
		strings.Repeat("a", MaxErrorDescriptionLen-1) + "   b",
		strings.Repeat("a", MaxErrorDescriptionLen) + "b",
	} {
		got := ReduceErrorDescription(in)
		if len(got) == 0 || len(got) > MaxErrorDescriptionLen {
			t.Fatalf("len = %d, want 1..%d", len(got), MaxErrorDescriptionLen)
		}
		if strings.HasSuffix(got, " ") || strings.HasPrefix(got, " ") {
			t.Fatalf("result %q... has a surrounding space", got[:20])
		}
		for _, r := range got {
			if !connectTextRune(r) {
				t.Fatalf("result has %q, outside Connect's pattern", r)
			}
		}
	}
}

func FuzzReduceErrorDescription(f *testing.F) {
	f.Add(`a "b" \c` + "\n\u00e9")
	f.Add(strings.Repeat("y ", 1500))
	f.Fuzz(func(t *testing.T, in string) {
		got := ReduceErrorDescription(in)
		if len(got) > MaxErrorDescriptionLen {
			t.Fatalf("len %d", len(got))
		}
		if strings.TrimSpace(got) != got {
			t.Fatalf("surrounding space in %q", got)
		}
		for _, r := range got {
			if !connectTextRune(r) {
				t.Fatalf("%q outside Connect's pattern", r)
			}
		}
	})
}
