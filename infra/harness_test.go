package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// TestMain points TMPDIR at a scratch folder (jsii leaves jsii-runtime.* and cdk.out* folders
// there) and closes the jsii runtime once every test has run.
func TestMain(m *testing.M) {
	scratch, err := os.MkdirTemp("", "switchboard-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "scratch dir:", err)
		os.Exit(2)
	}
	os.Setenv("TMPDIR", scratch)
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := m.Run()
	jsii.Close()
	os.RemoveAll(scratch)
	os.Exit(code)
}

// testInstanceARN is the example instance every synth test deploys for unless it says otherwise.
const testInstanceARN = exampleInstanceARN

// functionNames lists the functions under functions/ that have a main.go: the ones `make build`
// produces a bootstrap for.
func functionNames(t testing.TB) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join("..", "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(names)
	return names
}

// fakeAssets writes a placeholder bootstrap for every function, so that a synth test does not
// depend on `make build` having run.
func fakeAssets(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range functionNames(t) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// synthesized is one stack built the way `cdk synth` builds it.
type synthesized struct {
	Stack    awscdk.Stack
	Template assertions.Template
	// JSON is the template as a plain map, for checks that walk every resource.
	JSON map[string]any
}

// synth builds the app with the given context (on top of instanceArn and a fake assetsDir) and
// returns its stack. It fails the test on a settings error or an error annotation.
func synth(t testing.TB, context map[string]any) synthesized {
	t.Helper()
	stack := buildTestApp(t, context)
	if errs := errorAnnotations(stack); len(errs) > 0 {
		t.Fatalf("stack has error annotations:\n%s", strings.Join(errs, "\n"))
	}
	tpl := assertions.Template_FromStack(stack, nil)
	return synthesized{Stack: stack, Template: tpl, JSON: *tpl.ToJSON()}
}

// buildTestApp builds, without synthesizing it, the app with the given context (on top of
// instanceArn and a fake assetsDir) and returns its stack; it fails the test on a settings error.
func buildTestApp(t testing.TB, context map[string]any) awscdk.Stack {
	t.Helper()
	ctx := map[string]any{
		keyInstanceARN: testInstanceARN,
		keyAssetsDir:   fakeAssets(t),
	}
	for k, v := range context {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &ctx,
		Outdir:  jsii.String(t.TempDir()),
	})
	stack, err := buildApp(app)
	if err != nil {
		t.Fatalf("buildApp: %v", err)
	}
	return stack
}

// errorAnnotations returns the error messages CDK attached to constructs of stack: `cdk synth`
// refuses to write a template that has any.
func errorAnnotations(stack awscdk.Stack) []string {
	var out []string
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		for _, e := range *c.Node().Metadata() {
			if e.Type != nil && *e.Type == "aws:cdk:error" {
				out = append(out, fmt.Sprintf("%s: %v", *c.Node().Path(), e.Data))
			}
		}
	}
	return out
}

// resourcesOfType returns the logical IDs and properties of every resource of type typ.
func (s synthesized) resourcesOfType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	resources, _ := s.JSON["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// requireNoIAMWildcards fails the test for every problem iamWildcardProblems finds.
func requireNoIAMWildcards(t testing.TB, template map[string]any) {
	t.Helper()
	for _, p := range iamWildcardProblems(template) {
		t.Error(p)
	}
}
