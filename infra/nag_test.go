package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// everyCapability is the context that switches on every optional part of the stack: the chat
// authentication redirect with its Cognito user pool and the CloudFront distribution with a
// WAF web ACL (the test instance is in us-east-1, where the stack may create one), and the
// dialer's defaults, and the outbound flow with its customer queue flow. The contact-flow
// function, the dialer and its recipients (import) bucket are always there.
var everyCapability = map[string]any{
	keyChatOrigin:          testChatOrigin,
	keyAuthCognito:         "true",
	keyAuthWafRateLimit:    "300",
	keyContactFlowID:       "78ea8fd5-2659-4f2b-b528-699760ccfc1b",
	keyQueueID:             "1b9e2a4c-3d5f-4a6b-8c7d-9e0f1a2b3c4d",
	keyOutboundFlow:        "true",
	keyOutboundFlowMessage: testSafeHarbourMessage,
}

// Issue 12: the CDK app checked by the ecosystem's own rules. cdk-nag's AwsSolutions pack runs
// on the stack with every capability on. Each finding it reports as an error or a warning that
// is not suppressed (suppressNag, with its reason) fails the test, and so does a suppression
// that no finding uses any more: a fix must take its suppression with it.
func TestStackPassesCdkNagAwsSolutions(t *testing.T) {
	stack := buildTestApp(t, everyCapability)
	// Reports off: the pack would otherwise write a CSV per stack into the test's cdk.out.
	// LogIgnores: each suppressed finding becomes an info annotation, to tell used suppressions.
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Reports:    jsii.Bool(false),
		Verbose:    jsii.Bool(true),
		LogIgnores: jsii.Bool(true),
	}), nil)

	annotations := assertions.Annotations_FromStack(stack)
	rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-"))
	findings := append(nagFindings("error", annotations.FindError(jsii.String("*"), rule)),
		nagFindings("warning", annotations.FindWarning(jsii.String("*"), rule))...)
	if len(findings) > 0 {
		t.Errorf("%d unsuppressed cdk-nag AwsSolutions findings (fix them, or suppressNag with a reason and a row in docs/infra.md):\n%s",
			len(findings), strings.Join(findings, "\n"))
	}

	declared := declaredSuppressions(t, stack)
	if len(declared) == 0 {
		t.Fatal("no cdk-nag suppressions found in the stack's metadata: the walk over its resources is broken")
	}
	used := map[nagSuppression]bool{}
	for _, m := range *annotations.FindInfo(jsii.String("*"), assertions.Match_AnyValue()) {
		sm := suppressedFinding.FindStringSubmatch(fmt.Sprint(m.Entry.Data))
		if sm == nil {
			continue
		}
		finding, ruleID := sm[1], sm[2]
		top := topConstruct(*m.Id)
		for _, d := range declared {
			if d.top == top && d.rule == ruleID && d.matches(finding) {
				used[d.nagSuppression] = true
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("cdk-nag reported no suppressed finding at all: did the pack run?")
	}
	for _, d := range declared {
		if !used[d.nagSuppression] {
			t.Errorf("suppression of %s on %s (applies to %q) matches no finding: remove it (and its row in docs/infra.md)", d.rule, d.top, d.appliesTo)
		}
	}
}

// docs/infra.md has one row per suppression, `<construct>` | `<rule>` | reason, and only those.
func TestNagSuppressionsAreDocumented(t *testing.T) {
	stack := buildTestApp(t, everyCapability)
	want := map[string]bool{}
	for _, d := range declaredSuppressions(t, stack) {
		want[d.top+" "+d.rule] = true
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "infra.md"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range docSuppressionRow.FindAllStringSubmatch(string(doc), -1) {
		got[m[1]+" "+m[2]] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("docs/infra.md has no row for the suppression %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("docs/infra.md lists %s, which the stack does not suppress", k)
		}
	}
}

var (
	// cdk-nag's info for a suppressed finding (LogIgnores): "CdkNagSuppression[<finding>]: <rule>
	// was triggered but suppressed." (the bracket only for granular rules such as IAM5).
	suppressedFinding = regexp.MustCompile(`^CdkNagSuppression(?:\[(.*)\])?: (AwsSolutions-[A-Za-z0-9]+) was triggered but suppressed`)
	// A row of the suppression table in docs/infra.md.
	docSuppressionRow = regexp.MustCompile("(?m)^\\| `([A-Za-z0-9]+)` \\| `(AwsSolutions-[A-Za-z0-9]+)` \\|")
)

// nagSuppression is one suppression as the stack declares it: suppressNag puts it on every
// resource of a direct child of the stack (a role and its policy), so that child, its top
// construct, names it.
type nagSuppression struct {
	top, rule string
	// appliesTo is the finding it is limited to ("" for the whole rule): a string, or a
	// JavaScript regular expression literal "/.../".
	appliesTo string
}

type declaredSuppression struct {
	nagSuppression
	regex *regexp.Regexp // appliesTo as a regular expression, when it is one
}

func (d declaredSuppression) matches(finding string) bool {
	switch {
	case d.appliesTo == "":
		return true
	case d.regex != nil:
		return d.regex.MatchString(finding)
	default:
		return d.appliesTo == finding
	}
}

// declaredSuppressions reads the cdk_nag metadata of every CloudFormation resource of stack.
func declaredSuppressions(t *testing.T, stack awscdk.Stack) []declaredSuppression {
	t.Helper()
	seen := map[nagSuppression]bool{}
	var out []declaredSuppression
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !*awscdk.CfnResource_IsCfnResource(c) {
			continue
		}
		md, _ := c.(awscdk.CfnResource).GetMetadata(jsii.String("cdk_nag")).(map[string]any)
		rules, _ := md["rules_to_suppress"].([]any)
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			rule, _ := rm["id"].(string)
			if reason, _ := rm["reason"].(string); strings.TrimSpace(reason) == "" {
				t.Errorf("%s: suppression of %s without a reason", *c.Node().Path(), rule)
			}
			to, _ := rm["applies_to"].([]any)
			if len(to) == 0 {
				to = []any{""}
			}
			for _, a := range to {
				d := declaredSuppression{nagSuppression: nagSuppression{top: topConstruct(*c.Node().Path()), rule: rule}}
				switch a := a.(type) {
				case string:
					d.appliesTo = a
				case map[string]any:
					literal, _ := a["regex"].(string)
					d.appliesTo = literal
					re, err := regexp.Compile(strings.TrimSuffix(strings.TrimPrefix(literal, "/"), "/"))
					if err != nil {
						t.Fatalf("%s: appliesTo %q: %v", *c.Node().Path(), literal, err)
					}
					d.regex = re
				}
				if !seen[d.nagSuppression] {
					seen[d.nagSuppression] = true
					out = append(out, d)
				}
			}
		}
	}
	return out
}

// topConstruct returns the id of the stack's child that path ("/Switchboard/X/Y/Resource" or
// "Switchboard/X/Resource") is under: X.
func topConstruct(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 2 {
		return path
	}
	return parts[1]
}

// nagFindings formats cdk-nag's messages of one level as "level path: message", sorted.
func nagFindings(level string, msgs *[]*cxapi.SynthesisMessage) []string {
	var out []string
	if msgs == nil {
		return nil
	}
	for _, m := range *msgs {
		out = append(out, fmt.Sprintf("%s %s: %v", level, *m.Id, m.Entry.Data))
	}
	sort.Strings(out)
	return out
}
