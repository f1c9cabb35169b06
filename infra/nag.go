package main

import (
	"regexp"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppressNag records, on c's CloudFormation resources (c and the children it has now: call it
// after a role's last policy statement), that the cdk-nag rule does not apply there, and why:
// a reason is required, and docs/infra.md lists every one.
// The AwsSolutions pack runs in the synth test (TestStackPassesCdkNagAwsSolutions); the deployed
// template only carries the reasons as resource metadata.
//
// appliesTo narrows a granular rule (AwsSolutions-IAM5) to the findings named: exact strings as
// cdk-nag prints them ("Resource::arn:aws:connect:...:instance/<id>/contact/*"), or a
// *regexp.Regexp for those that hold a logical ID ("Resource::<RecipientsBucket1A2B3C4D.Arn>/*").
func suppressNag(c constructs.IConstruct, rule, reason string, appliesTo ...any) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		var to []any
		for _, a := range appliesTo {
			switch a := a.(type) {
			case string:
				to = append(to, a)
			case *regexp.Regexp:
				// cdk-nag takes a JavaScript regular expression literal.
				to = append(to, &cdknag.RegexAppliesTo{Regex: jsii.String("/" + a.String() + "/")})
			default:
				panic("suppressNag: appliesTo takes strings and *regexp.Regexp")
			}
		}
		s.AppliesTo = &to
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// logicalIDArn matches the way cdk-nag prints an ARN attribute of the resource whose construct
// id is id: "<RecipientsBucket1A2B3C4D.Arn>" (CDK adds 8 hex digits to a logical ID).
func logicalIDArn(id string) string {
	return `<` + regexp.QuoteMeta(id) + `[0-9A-F]{8}\.Arn>`
}

// connectContactsReason is why a Connect action on contacts names <instance ARN>/contact/*: the
// contact resource type is arn:<partition>:connect:<region>:<account>:instance/<instance id>/contact/<contact id>
// (Service Authorization Reference, Amazon Connect), and Connect creates each contact ID when a
// call starts, so the contacts of this one instance are the narrowest resource a policy can name.
const connectContactsReason = "Connect creates each contact ID at run time (a call placed or received), and the contact resource type is <instance ARN>/contact/<contact id>: contact/* below this one instance ARN is the narrowest resource for contacts that do not exist at deploy time; the Connect actions are named exactly"
