package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func TestStackDeploysToTheInstanceAccountAndRegion(t *testing.T) {
	s := synth(t, map[string]any{keyStackName: "SwitchboardTest"})

	if got := *s.Stack.StackName(); got != "SwitchboardTest" {
		t.Errorf("stack name = %q, want SwitchboardTest", got)
	}
	if got := *s.Stack.Account(); got != "123456789012" {
		t.Errorf("account = %q, want the instance ARN's 123456789012", got)
	}
	if got := *s.Stack.Region(); got != "us-east-1" {
		t.Errorf("region = %q, want the instance ARN's us-east-1", got)
	}
	outputs, _ := s.JSON["Outputs"].(map[string]any)
	out, _ := outputs["ConnectInstanceArn"].(map[string]any)
	if out["Value"] != testInstanceARN {
		t.Errorf("ConnectInstanceArn output = %v, want %s", out["Value"], testInstanceARN)
	}
}

// Every IAM statement of the whole stack, whatever capabilities it holds, is least privilege.
func TestStackHasNoWildcardIAM(t *testing.T) {
	s := synth(t, nil)
	requireNoIAMWildcards(t, s.JSON)
}

// Every function of the stack runs the way the Makefile builds it.
func TestStackFunctionsAreGoOnArm64(t *testing.T) {
	s := synth(t, nil)
	for id, props := range s.resourcesOfType("AWS::Lambda::Function") {
		if props["Runtime"] != "provided.al2023" || props["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v handler %v, want provided.al2023 and bootstrap", id, props["Runtime"], props["Handler"])
		}
		if archs, _ := props["Architectures"].([]any); len(archs) != 1 || archs[0] != "arm64" {
			t.Errorf("%s: architectures %v, want [arm64]", id, props["Architectures"])
		}
	}
}

func TestMissingBinaryIsAReadableSynthError(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	probe := awscdk.NewStack(app, jsii.String("Probe"), nil)
	NewGoFunction(probe, "Probe", &GoFunctionProps{AssetsDir: t.TempDir(), Name: "nothere", Timeout: 3 * time.Second, MemoryMB: 128})
	errs := errorAnnotations(probe)
	if len(errs) != 1 || !strings.Contains(errs[0], "missing Lambda binary") || !strings.Contains(errs[0], "make build") {
		t.Fatalf("error annotations = %q, want one naming the missing binary and `make build`", errs)
	}
}
