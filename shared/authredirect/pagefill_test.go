package authredirect

import (
	"bytes"
	"html/template"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// oracle is pageSource as html/template renders it: the escaping the page must keep. Tests are
// not linked into the bootstrap, so here html/template costs nothing.
var oracle = template.Must(template.New("page").Parse(pageSource))

func oracleBody(t testing.TB, d pageData) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := oracle.Execute(&b, d); err != nil {
		t.Fatalf("html/template: %v", err)
	}
	return b.Bytes()
}

// hostile are values that each escaping context must neutralise: markup and the end of the
// script element, comment openers, quotes of every kind, JavaScript line terminators, NUL,
// invalid UTF-8, '+' (UTF-7), entities, template-looking text, and a value that starts and ends
// like an identifier.
var hostile = []string{
	"",
	`</script><script>alert(1)//`,
	`</SCRIPT >`,
	`<!-- <script>`,
	`"; alert(1); //`,
	`'\'"\"` + "`${x}`",
	"line\u2028sep\u2029para\nnew\rret\ttab",
	"nul\x00byte",
	"bad \xff\xfe utf-8",
	"+ADw-script+AD4-",
	"&amp; &lt; &#39; &",
	"{{.Title}} {{end}}",
	"in instanceof typeof",
	"\\u003c/script\\u003e",
	"ä 漢字 🙂",
}

// hostileData is every field of a page set to one hostile value, on either kind of page.
func hostileData(v string, retry, handshake bool) pageData {
	text := pageText{Title: v, Heading: v + "h", Message: "m" + v, Retry: retry}
	outcomes := maps.Clone(pageTexts)
	outcomes[Outcome(v)] = text
	steps := maps.Clone(stepTexts)
	steps[v] = text
	return pageData{
		pageText: text, Nonce: v, Outcome: Outcome(v), ChatOrigin: v, Source: v, Attempt: v,
		Handshake: handshake, Outcomes: outcomes, Steps: steps, ConfirmWaitMS: int64(len(v)) - 3,
		Challenge: v, Confirm: v, OutcomeMessage: v,
	}
}

// The pages the function serves, byte for byte what html/template renders from the same source,
// and so with html/template's escaping, for every outcome, the handshake page and hostile values
// in every hole.
func TestPageIsWhatHTMLTemplateRenders(t *testing.T) {
	cases := map[string]pageData{}
	for _, o := range allOutcomes {
		cases["outcome "+string(o)] = pageData{pageText: pageTexts[o], Outcome: o, ChatOrigin: "https://chat.example.com"}.withConstants("AbCdEfGhIjKlMnOpQrStUv")
	}
	cases["handshake"] = pageData{pageText: stepTexts[stepChecking], Outcome: OutcomePending, ChatOrigin: "https://chat.example.com:8443",
		Attempt: "AbCdEfGhIjKlMnOpQrStUv", Handshake: true}.withConstants("n0nce-_")
	for i, v := range hostile {
		cases["hostile "+v] = hostileData(v, i%2 == 0, i%3 == 0)
	}
	for name, d := range cases {
		got, err := renderBody(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := oracleBody(t, d); !bytes.Equal(got, want) {
			t.Errorf("%s: the page differs from html/template's at byte %d:\n got %q\nwant %q", name, firstDiff(got, want), around(got, firstDiff(got, want)), around(want, firstDiff(got, want)))
		}
	}
}

// The pages RenderPage and RenderHandshakePage serve are those of the comparison above.
func TestRenderedPagesAreWhatHTMLTemplateRenders(t *testing.T) {
	for _, o := range allOutcomes {
		p, err := RenderPage(o, http.StatusOK, "https://chat.example.com")
		if err != nil {
			t.Fatal(err)
		}
		d := pageData{pageText: pageTexts[o], Outcome: o, ChatOrigin: "https://chat.example.com"}.withConstants(nonceOf(t, p.Header))
		if want := oracleBody(t, d); !bytes.Equal(p.Body, want) {
			t.Errorf("%s: RenderPage's body is not html/template's (first difference at byte %d)", o, firstDiff(p.Body, want))
		}
	}
	p, err := RenderHandshakePage(`https://x.example"</script>`, "AbCdEfGhIjKlMnOpQrStUv")
	if err != nil {
		t.Fatal(err)
	}
	d := pageData{pageText: stepTexts[stepChecking], Outcome: OutcomePending, ChatOrigin: `https://x.example"</script>`,
		Attempt: "AbCdEfGhIjKlMnOpQrStUv", Handshake: true}.withConstants(nonceOf(t, p.Header))
	if want := oracleBody(t, d); !bytes.Equal(p.Body, want) {
		t.Errorf("RenderHandshakePage's body is not html/template's (first difference at byte %d)", firstDiff(p.Body, want))
	}
}

// The comparison can fail: the hostile corpus holds values that a hole left unescaped, or
// escaped for the other context, would write differently.
func TestHostileValuesTellTheEscapersApart(t *testing.T) {
	var unescaped, swapped bool
	for _, v := range hostile {
		js := mustJS(t, v)
		unescaped = unescaped || escapeHTML(v) != v && js != `"`+v+`"`
		swapped = swapped || escapeHTML(v) != js && escapeHTML(v) != strings.Trim(js, `"`)
	}
	if !unescaped || !swapped {
		t.Fatalf("the corpus cannot tell the escapers apart (unescaped %v, swapped %v)", unescaped, swapped)
	}
	// And the comparison itself sees one changed byte.
	d := hostileData(`</script>`, false, true)
	got, err := renderBody(d)
	if err != nil {
		t.Fatal(err)
	}
	got[len(got)/2] ^= 1
	if bytes.Equal(got, oracleBody(t, d)) {
		t.Fatal("a changed page compares equal")
	}
}

func mustJS(t *testing.T, v any) string {
	t.Helper()
	s, err := jsValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Sources the splitter does not understand are errors, never holes left empty.
func TestSplitSourceRefusesWhatItCannotFill(t *testing.T) {
	for _, src := range []string{
		"a {{.Title",
		"{{range .Outcomes}}x{{end}}",
		"{{if .Retry}}x",
		"{{if .Retry}}{{.Title}}{{end}}",
		"{{if eq .Outcome 1}}x{{end}}",
		"{{.Title | html}}",
		"{{template \"x\"}}",
	} {
		if segs, err := splitSource(src); err == nil {
			t.Errorf("splitSource(%q) = %v, want an error", src, segs)
		}
	}
	segs, err := splitSource("{{.Nope}}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (pageData{}).hole(segs[0].field); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("an unknown field: %v, want an error naming it", err)
	}
	if segs, err := splitSource("{{if .Nope}}x{{end}}"); err != nil {
		t.Fatal(err)
	} else if _, err := (pageData{}).flagValue(segs[0].flag); err == nil {
		t.Error("an unknown flag rendered")
	}
}

func FuzzPageIsWhatHTMLTemplateRenders(f *testing.F) {
	for i, v := range hostile {
		f.Add(v, i%2 == 0, i%3 == 0)
	}
	f.Fuzz(func(t *testing.T, v string, retry, handshake bool) {
		d := hostileData(v, retry, handshake)
		got, err := renderBody(d)
		if err != nil {
			t.Fatal(err)
		}
		if want := oracleBody(t, d); !bytes.Equal(got, want) {
			t.Fatalf("differs from html/template at byte %d:\n got %q\nwant %q", firstDiff(got, want), around(got, firstDiff(got, want)), around(want, firstDiff(got, want)))
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(b []byte, i int) []byte {
	return b[max(0, i-40):min(len(b), i+40)]
}
