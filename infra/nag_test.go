package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// everyCapability is the context that switches on every optional part of the stack: the chat
// authentication redirect with its Cognito user pool and the CloudFront distribution with a
// WAF web ACL (the test instance is in us-east-1, where the stack may create one), and the
// dialer's defaults. The contact-flow function, the dialer and its recipients (import) bucket
// are always there.
var everyCapability = map[string]any{
	keyChatOrigin:       testChatOrigin,
	keyAuthCognito:      "true",
	keyAuthWafRateLimit: "300",
	keyContactFlowID:    "78ea8fd5-2659-4f2b-b528-699760ccfc1b",
	keyQueueID:          "1b9e2a4c-3d5f-4a6b-8c7d-9e0f1a2b3c4d",
}

// Issue 12: the CDK app checked by the ecosystem's own rules. cdk-nag's AwsSolutions pack runs
// on the stack with every capability on; each finding it reports as an error or a warning and
// that is not suppressed with a reason (nag.go, docs/infra.md) fails the test.
func TestStackPassesCdkNagAwsSolutions(t *testing.T) {
	stack := buildTestApp(t, everyCapability)
	// Reports off: the pack would otherwise write a CSV per stack into the test's cdk.out.
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Reports: jsii.Bool(false),
		Verbose: jsii.Bool(true),
	}), nil)

	annotations := assertions.Annotations_FromStack(stack)
	rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-"))
	findings := append(nagFindings("error", annotations.FindError(jsii.String("*"), rule)),
		nagFindings("warning", annotations.FindWarning(jsii.String("*"), rule))...)
	if len(findings) > 0 {
		t.Errorf("%d unsuppressed cdk-nag AwsSolutions findings (fix them, or suppress with a reason in infra/nag.go and docs/infra.md):\n%s",
			len(findings), strings.Join(findings, "\n"))
	}

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
