package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// GoFunctionProps describes one Go Lambda function whose binary `make build` put in
// <AssetsDir>/<Name>/bootstrap.
type GoFunctionProps struct {
	// AssetsDir is Settings.AssetsDir.
	AssetsDir string
	// Name is the function's directory under AssetsDir (and under functions/).
	Name        string
	Description string
	// Environment is the function's configuration; table names and the like come from the
	// constructs that create those resources.
	Environment map[string]string
	// Timeout and MemoryMB are required: each capability has different needs (a contact-flow
	// function must answer well within Connect's 8 s, a dialer tick may take longer).
	Timeout  time.Duration
	MemoryMB int
	// LogRetention defaults to one month.
	LogRetention awslogs.RetentionDays
	// Async configures how Lambda handles the function's asynchronous invocations. Required for
	// a function that EventBridge, Scheduler or any other service invokes asynchronously: without
	// an on-failure destination Lambda drops an event once its retries are spent.
	Async *AsyncInvoke
}

// AsyncInvoke is a function's EventInvokeConfig (AWS::Lambda::EventInvokeConfig).
//
// EventBridge's and Scheduler's retry policy and dead-letter queue cover only the delivery of an
// event to Lambda. An error of the function itself is handled by Lambda: it retries, one minute
// and then two minutes later, and then discards the event unless the function has an on-failure
// destination ("Asynchronous invocation",
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html, and "Capturing records of
// Lambda asynchronous invocations",
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
type AsyncInvoke struct {
	// OnFailure receives an invocation record for every event that failed all its attempts or
	// grew older than MaxEventAge: {"version","timestamp","requestContext":{"requestId",
	// "functionArn","condition","approximateInvokeCount"},"requestPayload":<the event>,
	// "responseContext":{"statusCode","executedVersion","functionError"},"responsePayload":<the
	// error>} (the example record of the page above). Lambda sends it with the function's own
	// role, which gets sqs:SendMessage on this queue and nothing else.
	OnFailure awssqs.IQueue
	// RetryAttempts is 0 to 2 (MaximumRetryAttempts; Lambda's default is 2).
	RetryAttempts int
	// MaxEventAge is 60 s to 6 h, whole seconds (MaximumEventAgeInSeconds; Lambda's default is
	// 6 h). An event older than this is not tried again and goes to OnFailure.
	MaxEventAge time.Duration
}

// NewGoFunction creates a Go Lambda function (provided.al2023, arm64, handler "bootstrap") with
// its own log group and its own role. The role may only write to that log group: capabilities
// add exactly the permissions they need with fn.AddToRolePolicy or a resource's Grant methods.
//
// A missing <AssetsDir>/<Name>/bootstrap is reported as a CDK error annotation ("run make
// build"), which fails `cdk synth` with one readable line instead of a jsii stack trace.
// Invalid Timeout or MemoryMB are programming errors and panic.
func NewGoFunction(scope constructs.Construct, id string, props *GoFunctionProps) awslambda.Function {
	if props.Name == "" {
		panic(fmt.Sprintf("NewGoFunction %s: Name is required", id))
	}
	if props.Timeout < time.Second || props.Timeout > 15*time.Minute || props.Timeout%time.Second != 0 {
		panic(fmt.Sprintf("NewGoFunction %s: Timeout %v must be whole seconds between 1s and 15m", id, props.Timeout))
	}
	if props.MemoryMB < 128 || props.MemoryMB > 10240 {
		panic(fmt.Sprintf("NewGoFunction %s: MemoryMB %d must be between 128 and 10240", id, props.MemoryMB))
	}
	if a := props.Async; a != nil {
		// The ranges of PutFunctionEventInvokeConfig
		// (https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html).
		if a.OnFailure == nil || a.OnFailure.EncryptionMasterKey() != nil || a.RetryAttempts < 0 || a.RetryAttempts > 2 ||
			a.MaxEventAge < time.Minute || a.MaxEventAge > 6*time.Hour || a.MaxEventAge%time.Second != 0 {
			panic(fmt.Sprintf("NewGoFunction %s: Async needs an OnFailure queue without a KMS key (SSE-SQS), RetryAttempts 0-2 (got %d) and MaxEventAge whole seconds from 1m to 6h (got %v)",
				id, a.RetryAttempts, a.MaxEventAge))
		}
	}
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}

	logGroup := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: retention,
	})
	// Our own role instead of the default one: the default attaches AWSLambdaBasicExecutionRole,
	// which lets the function create and write any log group in the account.
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("Switchboard %s function", props.Name)),
	})
	logGroup.GrantWrite(role)

	env := make(map[string]*string, len(props.Environment))
	for k, v := range props.Environment {
		env[k] = jsii.String(v)
	}

	var description *string
	if props.Description != "" {
		description = jsii.String(props.Description)
	}

	code, missing := goFunctionCode(props.AssetsDir, props.Name)
	fn := awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		Code:          code,
		Handler:       jsii.String("bootstrap"),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Description:   description,
		Environment:   &env,
		Timeout:       awscdk.Duration_Seconds(jsii.Number(props.Timeout.Seconds())),
		MemorySize:    jsii.Number(float64(props.MemoryMB)),
		Role:          role,
		LogGroup:      logGroup,
		LoggingFormat: awslambda.LoggingFormat_JSON,
	})
	if a := props.Async; a != nil {
		fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
			OnFailure:     &sendOnlyQueue{queue: a.OnFailure},
			RetryAttempts: jsii.Number(float64(a.RetryAttempts)),
			MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(a.MaxEventAge.Seconds())),
		})
		// Lambda checks that the role may send to the destination when the configuration is
		// written: create it only once the role's policy is in place (the function depends on
		// its role already; the configuration says so itself rather than through the function).
		if p := role.Node().TryFindChild(jsii.String("DefaultPolicy")); p != nil {
			fn.Node().FindChild(jsii.String("EventInvokeConfig")).Node().AddDependency(p)
		}
	}
	if missing != "" {
		awscdk.Annotations_Of(fn).AddError(jsii.String(fmt.Sprintf(
			"missing Lambda binary %s: run `make build`, or point -c %s=<dir> at a folder holding <function>/bootstrap",
			missing, keyAssetsDir)))
	}
	return fn
}

// goFunctionCode returns the asset for <assetsDir>/<name>, or placeholder code and the path of
// the missing binary. Code.fromAsset on a missing folder would throw inside jsii, and the
// deployer would see a JavaScript stack trace instead of the fix.
func goFunctionCode(assetsDir, name string) (code awslambda.Code, missing string) {
	dir := filepath.Join(assetsDir, name)
	bootstrap := filepath.Join(dir, "bootstrap")
	if info, err := os.Stat(bootstrap); err != nil || !info.Mode().IsRegular() {
		return awslambda.Code_FromCfnParameters(nil), bootstrap
	}
	return awslambda.Code_FromAsset(jsii.String(dir), nil), ""
}

// sendOnlyQueue is an on-failure destination like awslambdadestinations.SqsDestination, whose
// Bind grants the function queue.GrantSendMessages: sqs:SendMessage, sqs:GetQueueAttributes and
// sqs:GetQueueUrl (aws-cdk-lib 2.220.0, aws-lambda-destinations/lib/sqs.js). Lambda needs only
// sqs:SendMessage on the queue ("Capturing records of Lambda asynchronous invocations"), so
// that is all this one grants. The queue is SSE-SQS encrypted: no key grant is needed. jsii
// calls Bind back through a pointer (a value would not be addressable).
type sendOnlyQueue struct{ queue awssqs.IQueue }

func (d *sendOnlyQueue) Bind(_ constructs.Construct, fn awslambda.IFunction, _ *awslambda.DestinationOptions) *awslambda.DestinationConfig {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: &[]*string{d.queue.QueueArn()},
	}))
	return &awslambda.DestinationConfig{Destination: d.queue.QueueArn()}
}
