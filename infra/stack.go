package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SwitchboardStackProps configures NewSwitchboardStack. Env and StackName in StackProps
// default to the ones Settings imply.
type SwitchboardStackProps struct {
	awscdk.StackProps
	Settings Settings
}

// switchboardStack holds what every part of the stack needs. Each capability adds one method,
// in its own file infra/<capability>.go, that builds its construct and returns it; build calls
// them in order so that a capability can take another's output as an argument.
type switchboardStack struct {
	awscdk.Stack
	settings Settings
}

// NewSwitchboardStack creates the one stack that holds every Switchboard capability for one
// Amazon Connect instance.
func NewSwitchboardStack(scope constructs.Construct, id string, props *SwitchboardStackProps) awscdk.Stack {
	settings := props.Settings
	sprops := props.StackProps
	if sprops.Env == nil {
		// Connect invokes only Lambda functions in its own account and Region, so the ARN
		// decides where the stack goes: no CDK_DEFAULT_ACCOUNT guessing.
		sprops.Env = &awscdk.Environment{
			Account: jsii.String(settings.Account),
			Region:  jsii.String(settings.Region),
		}
	}
	if sprops.StackName == nil {
		sprops.StackName = jsii.String(settings.StackName)
	}
	if sprops.Description == nil {
		sprops.Description = jsii.String("Switchboard: Lambda functions for Amazon Connect instance " + settings.InstanceID)
	}

	s := &switchboardStack{
		Stack:    awscdk.NewStack(scope, jsii.String(id), &sprops),
		settings: settings,
	}
	// The stack's code relies on these CDK feature flags whatever cdk.json says (the tests do
	// not read it); context must be set before the stack has children.
	for flag, on := range stackFeatureFlags {
		s.Stack.Node().SetContext(jsii.String(flag), on)
	}
	s.build()
	return s.Stack
}

// stackFeatureFlags are the CDK feature flags the stack is written for.
var stackFeatureFlags = map[string]bool{
	// S3 server access logs are delivered under a bucket policy for logging.s3.amazonaws.com,
	// with ACLs left disabled on the log bucket, instead of the LogDeliveryWrite ACL (AWS's
	// recommendation: https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
}

// build adds the stack's parts. Capabilities plug in here, one line each.
func (s *switchboardStack) build() {
	awscdk.Tags_Of(s.Stack).Add(jsii.String("switchboard:connect-instance"), jsii.String(s.settings.InstanceID), nil)
	s.createInstanceOutputs()
	cf := s.createContactFlow()
	s.createAuthRedirect()
	s.createDialer(cf)
	s.createOutboundFlow()
}

// createInstanceOutputs records which Connect instance a deployed stack serves, so that an
// operator with several stacks can tell them apart from `aws cloudformation describe-stacks`.
func (s *switchboardStack) createInstanceOutputs() {
	awscdk.NewCfnOutput(s.Stack, jsii.String("ConnectInstanceArn"), &awscdk.CfnOutputProps{
		Value:       jsii.String(s.settings.InstanceARN),
		Description: jsii.String("Amazon Connect instance this stack's functions work for"),
	})
}
