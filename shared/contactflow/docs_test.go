package contactflow

import (
	"os"
	"strings"
	"testing"
)

// docs/contactflow.md is the flow designer's reference: every error code, control parameter,
// response key and setting the code knows must be in it.
func TestTheGuideDocumentsEveryName(t *testing.T) {
	b, err := os.ReadFile("../../docs/contactflow.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var names []string
	for _, c := range Codes {
		names = append(names, string(c))
	}
	names = append(names, ControlParams...)
	names = append(names, ResponseKeys...)
	names = append(names, OptOutRecorded, OptOutAlreadyRecorded, string(OpUpdate), string(OpGet), string(OpOptOut),
		EnvBudget, EnvErrorMode, EnvDefaultCountry, EnvDoNotCallTable, string(ErrorModeResult), string(ErrorModeFail))
	for _, n := range names {
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/contactflow.md does not mention `%s`", n)
		}
	}
}
