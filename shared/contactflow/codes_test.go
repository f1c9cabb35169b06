package contactflow

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// codeConstants returns the value of every constant of type Code declared in files, by name:
// `X Code = "..."` and `X = Code("...")`.
func codeConstants(files []*ast.File) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				typed := isIdent(vs.Type, "Code")
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						if typed {
							return nil, fmt.Errorf("constant %s of type Code has no value of its own", name.Name)
						}
						continue
					}
					v := vs.Values[i]
					if call, ok := v.(*ast.CallExpr); ok && isIdent(call.Fun, "Code") && len(call.Args) == 1 {
						v, typed = call.Args[0], true
					}
					if !typed {
						continue
					}
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return nil, fmt.Errorf("constant %s of type Code is not a string literal", name.Name)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						return nil, err
					}
					out[name.Name] = s
				}
			}
		}
	}
	return out, nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// unlistedCodes returns the Code constants of files missing from listed, and the entries of
// listed that are no constant (or repeat one).
func unlistedCodes(files []*ast.File, listed []Code) (missing, extra []string, err error) {
	consts, err := codeConstants(files)
	if err != nil {
		return nil, nil, err
	}
	seen := map[Code]bool{}
	values := map[string]bool{}
	for _, v := range consts {
		values[v] = true
	}
	for _, c := range listed {
		if seen[c] || !values[string(c)] {
			extra = append(extra, string(c))
		}
		seen[c] = true
	}
	for name, v := range consts {
		if !seen[Code(v)] {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	return missing, extra, nil
}

func parsePackage(t *testing.T) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatal("no source files")
	}
	return files
}

// Codes is what the docs test and flow authors go by: every Code constant of the package must be
// in it, once, and nothing else.
func TestCodesListsEveryCodeConstant(t *testing.T) {
	files := parsePackage(t)
	consts, err := codeConstants(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(consts) < 10 {
		t.Fatalf("found %d Code constants: the parse misses them", len(consts))
	}
	missing, extra, err := unlistedCodes(files, Codes)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("Codes misses %v and has %v that are no Code constant or repeat one", missing, extra)
	}
}

// The check above can fail: a constant added without its entry in Codes is found, in either
// form of declaration, and so is an entry that repeats one.
func TestUnlistedCodesFindsAMissingCode(t *testing.T) {
	src := `package contactflow
const (
	A Code = "A"
	B Code = "B"
	notACode = "C"
)
const D = Code("D")
`
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	missing, extra, err := unlistedCodes([]*ast.File{f}, []Code{"A", "A"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{"B", "D"}) || !slices.Equal(extra, []string{"A"}) {
		t.Errorf("missing %v, extra %v; want [B D] and [A]", missing, extra)
	}
}
