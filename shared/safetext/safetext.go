// Package safetext cuts text that goes into messages, logs and stored fields so that the result
// stays valid UTF-8: a cut never splits a rune. It is the one home of truncation in Switchboard.
package safetext

import "unicode/utf8"

// Ellipsis marks a cut. It is three bytes of UTF-8.
const Ellipsis = "…"

// Prefix returns the longest prefix of s of at most n bytes that ends on a rune boundary. Invalid
// UTF-8 in the kept prefix is left as it is; only the cut is rune-safe.
func Prefix(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// PrefixRunes returns the first n runes (characters) of s, for limits counted in characters.
func PrefixRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// Truncate quotes s in a message: at most its first n bytes, cut on a rune boundary, with the
// Ellipsis after a cut (so the result has up to n+3 bytes). Invalid UTF-8 in the kept prefix is
// dropped after a cut, so a quoted cut value is always printable.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return dropInvalid(Prefix(s, n)) + Ellipsis
}

// Fit bounds a field: s cut to at most n bytes in all, the Ellipsis included when there is room
// for it, cut on a rune boundary.
func Fit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < len(Ellipsis) {
		return Prefix(s, n)
	}
	return Prefix(s, n-len(Ellipsis)) + Ellipsis
}

func dropInvalid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return string(b)
}
