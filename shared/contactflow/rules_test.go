package contactflow

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidKey(t *testing.T) {
	tests := map[string]bool{
		"a": true, "Z": true, "0": true, "_": true, "-": true, "customer_tier-2": true, "ABCxyz019_-": true,
		"": false, " ": false, "a b": false, "a.b": false, "a/b": false, "$.x": false, "é": false,
		"key\n": false, "a:b": false, "ключ": false, "😀": false,
	}
	for k, want := range tests {
		if got := ValidKey(k); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// The existing attributes alone count as Connect counts them: the UTF-8 bytes of keys and values.
func TestMergedBytesCountsUTF8BytesOfKeysAndValues(t *testing.T) {
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
		if got := MergedBytes(tt.attrs, nil); got != tt.want {
			t.Errorf("%s: MergedBytes = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestMergedBytesCountsAReplacedKeyOnce(t *testing.T) {
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
		if got := MergedBytes(tt.existing, tt.update); got != tt.want {
			t.Errorf("%s: MergedBytes = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// Non-string parameters are written as their JSON text.
func TestValueText(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{`"plain"`, "plain"},
		{`""`, ""},
		{`"with \"quotes\" and \\ and \n"`, "with \"quotes\" and \\ and \n"},
		{`"caf\u00e9"`, "café"},
		{`"日本語"`, "日本語"},
		{`42`, "42"},
		{`-0.5`, "-0.5"},
		{`1.50`, "1.50"},
		{`1e3`, "1e3"},
		{`12345678901234567890`, "12345678901234567890"},
		{`true`, "true"},
		{`false`, "false"},
		{`null`, "null"},
		{`{"a": 1, "b": [true, null]}`, `{"a":1,"b":[true,null]}`},
		{` [ "x" , 2 ] `, `["x",2]`},
		{`{"name":"Zoë"}`, `{"name":"Zoë"}`},
		{`{}`, `{}`},
	}
	for _, tt := range tests {
		got, err := ValueText(json.RawMessage(tt.raw))
		if err != nil || got != tt.want {
			t.Errorf("ValueText(%s) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `   `, `{`, `tru`, `"unterminated`} {
		if got, err := ValueText(json.RawMessage(bad)); err == nil {
			t.Errorf("ValueText(%q) = %q, want an error", bad, got)
		}
	}
}

func TestKeyList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"a,b,c", []string{"a", "b", "c"}},
		{" a , b ,, c, ", []string{"a", "b", "c"}},
		{"a,b,a", []string{"a", "b"}},
		{`["a","b"]`, []string{"a", "b"}},
		{` ["a", " b ", ""] `, []string{"a", "b"}},
	}
	for _, tt := range tests {
		got, f := keyList(tt.in)
		if f != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("keyList(%q) = %q, %v; want %q", tt.in, got, f, tt.want)
		}
	}
	for _, bad := range []string{"", " , ,", "[1,2]", `["a"`, "[]"} {
		if got, f := keyList(bad); f == nil || f.Code != BadRequest {
			t.Errorf("keyList(%q) = %q, %v; want BAD_REQUEST", bad, got, f)
		}
	}
}

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
		if got := scrub(tt.in); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// truncate's limit includes the ellipsis (3 bytes), and a cut never splits a rune.
func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"shorter", "short", 10, "short"},
		{"exactly the limit", "exact", 5, "exact"},
		{"one byte over", "abcdef", 5, "ab…"},
		{"ellipsis only", "abcd", 3, "…"},
		{"limit below the ellipsis", "abcd", 2, "ab"},
		{"zero", "abcd", 0, ""},
		{"two-byte rune across the cut", "aéz!!", 5, "a…"},
		{"two-byte rune before the cut", "éa!!!", 5, "é…"},
		{"three-byte rune across the cut", "aこん", 6, "a…"},
		{"four-byte rune across the cut", "ab😀c", 6, "ab…"},
		{"rune across a cut below the ellipsis", "aé", 2, "a"},
		{"200 bytes of ASCII", strings.Repeat("x", 250), 200, strings.Repeat("x", 197) + "…"},
		{"200 bytes of two-byte runes", strings.Repeat("é", 150), 200, strings.Repeat("é", 98) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if len(got) > tt.n || !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q: %d bytes, valid UTF-8 %v", tt.in, tt.n, got, len(got), utf8.ValidString(got))
			}
		})
	}
}
