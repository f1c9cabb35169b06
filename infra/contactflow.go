package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconnect"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// Contact-flow function settings. The budget, error mode and default country are the function's
// own defaults (docs/contactflow.md) unless the context keys flowBudget, flowErrorMode and
// defaultCountry choose others.
const (
	// contactFlowTimeout is the longest budget a flow may configure (7 s): Connect's block waits
	// at most 8 s, cold start and network included, so an invocation still running after 7 s is
	// answering a contact that has already left down the Error branch. The function's own budget
	// (FLOW_BUDGET, 2 s by default) answers well before it; raising FLOW_BUDGET up to 7 s needs
	// no change here (the Lambda deadline, less a 250 ms margin, then bounds the budget).
	contactFlowTimeout  = flowbudget.MaxFlowBudget
	contactFlowMemoryMB = 256
)

// contactFlowBudget is FLOW_BUDGET unless the context key flowBudget sets it: the function's
// default (2s), 1 s below the Invoke AWS Lambda function block's default timeout of 3 s, so a
// flow that keeps the block's default still hears the function's error_code.
var contactFlowBudget = flowbudget.DefaultFlowBudget.String()

// contactFlowResources are what the contact-flow capability creates; the dialer reads the
// do-not-call table.
type contactFlowResources struct {
	Function       awslambda.Function
	DoNotCallTable awsdynamodb.Table
}

// createContactFlow adds the function that Connect's "Invoke AWS Lambda function" block calls,
// the do-not-call table it writes opt-outs to, the permission for this instance to invoke it,
// and its association with the instance (so it appears in the flow designer's function list).
func (s *switchboardStack) createContactFlow() contactFlowResources {
	table := awsdynamodb.NewTable(s.Stack, jsii.String("DoNotCallTable"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(donotcall.AttrPhoneNumber), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// Opt-outs are a legal record: deleting the stack must not delete them.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	fn := NewGoFunction(s.Stack, "ContactFlowFunction", &GoFunctionProps{
		AssetsDir:   s.settings.AssetsDir,
		Name:        "contactflow",
		Description: "Switchboard: contact attributes and opt-outs for Amazon Connect flows",
		Environment: map[string]string{
			contactflow.EnvDoNotCallTable: *table.TableName(),
			contactflow.EnvBudget:         orDefault(s.settings.FlowBudget, contactFlowBudget),
			contactflow.EnvErrorMode:      orDefault(s.settings.FlowErrorMode, string(contactflow.ErrorModeResult)),
			contactflow.EnvDefaultCountry: orDefault(s.settings.DefaultCountry, contactflow.DefaultCountry),
		},
		Timeout:  contactFlowTimeout,
		MemoryMB: contactFlowMemoryMB,
	})

	// Only the two attribute actions, only on this instance's contacts.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("connect:GetContactAttributes", "connect:UpdateContactAttributes"),
		Resources: jsii.Strings(s.settings.InstanceResourceARN("contact/*")),
	}))
	suppressNag(fn.Role(), "AwsSolutions-IAM5", connectContactsReason, "Resource::"+s.settings.InstanceResourceARN("contact/*"))
	// Recording an opt-out is one conditional PutItem; the function never reads the list.
	table.Grant(fn, jsii.String("dynamodb:PutItem"))

	fn.AddPermission(jsii.String("ConnectInvoke"), &awslambda.Permission{
		Principal:     awsiam.NewServicePrincipal(jsii.String("connect.amazonaws.com"), nil),
		Action:        jsii.String("lambda:InvokeFunction"),
		SourceArn:     jsii.String(s.settings.InstanceARN),
		SourceAccount: jsii.String(s.settings.Account),
	})
	awsconnect.NewCfnIntegrationAssociation(s.Stack, jsii.String("ContactFlowIntegration"), &awsconnect.CfnIntegrationAssociationProps{
		InstanceId:      jsii.String(s.settings.InstanceARN),
		IntegrationType: jsii.String("LAMBDA_FUNCTION"),
		IntegrationArn:  fn.FunctionArn(),
	})

	awscdk.NewCfnOutput(s.Stack, jsii.String("ContactFlowFunctionArn"), &awscdk.CfnOutputProps{
		Value:       fn.FunctionArn(),
		Description: jsii.String("Function to pick in the flow's Invoke AWS Lambda function block"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("DoNotCallTableName"), &awscdk.CfnOutputProps{
		Value:       table.TableName(),
		Description: jsii.String("DynamoDB table of the do-not-call list (key phone_number, E.164)"),
	})
	return contactFlowResources{Function: fn, DoNotCallTable: table}
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
