package contactflow

import (
	"encoding/json"
	"strings"
	"testing"
)

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
