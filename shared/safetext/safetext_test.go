package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Moved from shared/contactflow (TestTruncate of its truncate, now Fit): the assertions are the
// ones it had there. Fit's limit includes the ellipsis, and a cut never splits a rune.
func TestFit(t *testing.T) {
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
			got := Fit(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Fit(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if len(got) > tt.n || !utf8.ValidString(got) {
				t.Errorf("Fit(%q, %d) = %q: %d bytes, valid UTF-8 %v", tt.in, tt.n, got, len(got), utf8.ValidString(got))
			}
		})
	}
}

// Truncate quotes the first n bytes and marks the cut after them.
func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exact", 5, "exact"},
		{strings.Repeat("i", 100), 64, strings.Repeat("i", 64) + "…"},
		{"aéz", 2, "a…"},        // é would be split: cut before it
		{"aこん", 3, "a…"},        // こ takes bytes 1-3
		{"aこん", 4, "aこ…"},       //
		{"ab😀c", 5, "ab…"},      // the emoji takes bytes 2-5
		{"ab\xffcd", 4, "abc…"}, // invalid UTF-8 in the kept part is dropped after a cut
		{"abc", 0, "…"},
	}
	for _, tt := range tests {
		got := Truncate(tt.in, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestPrefix(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"}, {"abc", 3, "abc"}, {"abc", 2, "ab"}, {"abc", 0, ""}, {"abc", -1, ""},
		{"éé", 3, "é"}, {"éé", 1, ""}, {"こん", 5, "こ"}, {"😀x", 3, ""}, {"😀x", 4, "😀"},
	}
	for _, tt := range tests {
		if got := Prefix(tt.in, tt.n); got != tt.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// Limits in characters: moved from shared/donotcall (its reason is at most 256 characters).
func TestPrefixRunes(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{strings.Repeat("é", 266), 256, strings.Repeat("é", 256)},
		{"abc", 5, "abc"}, {"abc", 3, "abc"}, {"abc", 0, ""}, {"a😀b", 2, "a😀"}, {"", 3, ""},
	}
	for _, tt := range tests {
		if got := PrefixRunes(tt.in, tt.n); got != tt.want {
			t.Errorf("PrefixRunes(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func FuzzCutsStayValid(f *testing.F) {
	for _, s := range []string{"", "abc", "aéz", "aこん", "ab😀c"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n > 1<<16 {
			n = 1 << 16
		}
		valid := utf8.ValidString(s)
		for name, got := range map[string]string{"Prefix": Prefix(s, n), "Fit": Fit(s, n), "PrefixRunes": PrefixRunes(s, n)} {
			if !strings.HasPrefix(s, strings.TrimSuffix(got, Ellipsis)) {
				t.Errorf("%s(%q, %d) = %q: not a prefix", name, s, n, got)
			}
			if valid && !utf8.ValidString(got) {
				t.Errorf("%s(%q, %d) = %q: split a rune", name, s, n, got)
			}
		}
		if got := Fit(s, n); n >= 0 && len(got) > n {
			t.Errorf("Fit(%q, %d) = %d bytes", s, n, len(got))
		}
		if got := Truncate(s, n); len(s) > n && !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q: not valid UTF-8", s, n, got)
		}
	})
}
