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
