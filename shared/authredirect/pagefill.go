package authredirect

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// renderBody fills the holes of pageSource with d's values, each escaped as html/template
// escapes a value in that hole's context (see pageSource for why html/template itself is not
// used). A hole is {{.Field}}, or {{if .Flag}}text{{end}} / {{if not .Flag}}text{{end}} with
// plain text inside; anything else in the source is an error, never a silently empty hole.
func renderBody(d pageData) ([]byte, error) {
	segs, err := pageSegments()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.Grow(len(pageSource) + 4096)
	for _, s := range segs {
		switch {
		case s.field != "":
			v, err := d.hole(s.field)
			if err != nil {
				return nil, err
			}
			b.WriteString(v)
		case s.flag != "":
			on, err := d.flagValue(s.flag)
			if err != nil {
				return nil, err
			}
			if on != s.not {
				b.WriteString(s.text)
			}
		default:
			b.WriteString(s.text)
		}
	}
	return []byte(b.String()), nil
}

// hole is the escaped value of {{.field}}. Where a field may stand is fixed here, by its name:
// the texts and the nonce are HTML text and attribute values, the rest JavaScript values in the
// script. The tests render hostile values of every field both ways, so a hole moved to another
// context without changing its escaper here fails them.
func (d pageData) hole(field string) (string, error) {
	switch field {
	case "Title":
		return escapeHTML(d.Title), nil
	case "Heading":
		return escapeHTML(d.Heading), nil
	case "Message":
		return escapeHTML(d.Message), nil
	case "Nonce":
		return escapeHTML(d.Nonce), nil
	case "Outcome":
		return jsValue(d.Outcome)
	case "ChatOrigin":
		return jsValue(d.ChatOrigin)
	case "Source":
		return jsValue(d.Source)
	case "Attempt":
		return jsValue(d.Attempt)
	case "Outcomes":
		return jsValue(d.Outcomes)
	case "Steps":
		return jsValue(d.Steps)
	case "ConfirmWaitMS":
		return jsValue(d.ConfirmWaitMS)
	case "Challenge":
		return jsValue(d.Challenge)
	case "Confirm":
		return jsValue(d.Confirm)
	case "OutcomeMessage":
		return jsValue(d.OutcomeMessage)
	}
	return "", fmt.Errorf("page source: no value for {{.%s}}", field)
}

func (d pageData) flagValue(name string) (bool, error) {
	switch name {
	case "Retry":
		return d.Retry, nil
	case "Handshake":
		return d.Handshake, nil
	}
	return false, fmt.Errorf("page source: no flag %q for {{if}}", name)
}

// segment is a piece of pageSource: literal text, a value hole (field), or text shown when a
// flag is set (or, with not, unset).
type segment struct {
	text  string
	field string
	flag  string
	not   bool
}

// pageSegments splits pageSource once, on the first page rendered rather than at package init.
var pageSegments = sync.OnceValues(func() ([]segment, error) { return splitSource(pageSource) })

func splitSource(src string) ([]segment, error) {
	var segs []segment
	for {
		before, rest, found := strings.Cut(src, "{{")
		if before != "" {
			segs = append(segs, segment{text: before})
		}
		if !found {
			return segs, nil
		}
		action, after, ok := strings.Cut(rest, "}}")
		if !ok {
			return nil, fmt.Errorf("page source: unclosed {{ before %.20q", rest)
		}
		src = after
		switch {
		case strings.HasPrefix(action, ".") && isFieldName(action[1:]):
			segs = append(segs, segment{field: action[1:]})
		case strings.HasPrefix(action, "if "):
			cond := strings.TrimPrefix(action, "if ")
			s := segment{}
			if c, ok := strings.CutPrefix(cond, "not "); ok {
				s.not, cond = true, c
			}
			if !strings.HasPrefix(cond, ".") || !isFieldName(cond[1:]) {
				return nil, fmt.Errorf("page source: unsupported condition {{%s}}", action)
			}
			s.flag = cond[1:]
			body, after, ok := strings.Cut(src, "{{end}}")
			if !ok {
				return nil, fmt.Errorf("page source: {{%s}} without {{end}}", action)
			}
			if strings.Contains(body, "{{") {
				return nil, fmt.Errorf("page source: an action inside {{%s}} is not supported", action)
			}
			s.text, src = body, after
			segs = append(segs, s)
		default:
			return nil, fmt.Errorf("page source: unsupported action {{%s}}", action)
		}
	}
}

func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// htmlEscaper is html/template's table for HTML text, RCDATA (<title>) and quoted attribute
// values (htmlReplacementTable in html/template/html.go): it also escapes '+' (UTF-7) and
// turns NUL into U+FFFD. html.EscapeString escapes neither, so it is not used.
var htmlEscaper = strings.NewReplacer(
	"\x00", "\uFFFD",
	`"`, "&#34;",
	"&", "&amp;",
	"'", "&#39;",
	"+", "&#43;",
	"<", "&lt;",
	">", "&gt;",
)

func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// jsValue is a Go value as a JavaScript expression, as html/template writes a value in script
// context (jsValEscaper in html/template/js.go): encoding/json (which escapes <, >, & and
// U+2028/U+2029, so no value can end the script element or a line), padded with spaces when it
// starts or ends like an identifier or a number, so that it cannot run into a keyword.
func jsValue(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("page value: %w", err)
	}
	first, _ := utf8.DecodeRune(b)
	last, _ := utf8.DecodeLastRune(b)
	if isJSIdentPart(first) || isJSIdentPart(last) {
		return " " + string(b) + " ", nil
	}
	return string(b), nil
}

func isJSIdentPart(r rune) bool {
	return r == '$' || r == '_' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z'
}
