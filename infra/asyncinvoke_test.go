package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// hasResource is Template.HasResourceProperties reported as a test error: the assertion throws
// in jsii, which reaches Go as a panic and would end the whole test binary.
func hasResource(t *testing.T, s synthesized, typ string, props any) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("no %s like %s:\n%v", typ, asJSON(props), r)
		}
	}()
	s.Template.HasResourceProperties(jsii.String(typ), props)
}

// Issue 17: a function error on an asynchronous invocation is Lambda's business, not
// EventBridge's or Scheduler's. After its retries Lambda discards the event unless the function
// has an on-failure destination (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
// The dialer's asynchronous invocations keep every failed event in a queue of their own, with
// an alarm and a stack output.
func TestDialerFunctionErrorsGoToTheOnFailureQueue(t *testing.T) {
	s := synth(t, nil)
	fnID, _ := dialerFunction(t, s)
	configs := s.resourcesOfType("AWS::Lambda::EventInvokeConfig")
	if len(configs) != 1 {
		t.Errorf("%d EventInvokeConfigs, want the dialer's only: %v", len(configs), keys(configs))
	}
	for _, c := range configs {
		if d, _ := c["DestinationConfig"].(map[string]any); d["OnSuccess"] != nil {
			t.Errorf("an on-success destination: every successful tick would be a message")
		}
	}
	queueID, queue := onlyResource(t, s, "AWS::SQS::Queue", "DialerOnFailureQueue")
	queueArn := map[string]any{"Fn::GetAtt": []any{queueID, "Arn"}}

	// Written out here, not taken from the code under test: Lambda's two retries (the range is
	// 0-2) and a maximum event age of 2 hours (60 s-6 h), as the EventBridge rules' targets.
	hasResource(t, s, "AWS::Lambda::EventInvokeConfig", map[string]any{
		"FunctionName":             map[string]any{"Ref": fnID},
		"Qualifier":                "$LATEST",
		"MaximumRetryAttempts":     2,
		"MaximumEventAgeInSeconds": 7200,
		"DestinationConfig":        map[string]any{"OnFailure": map[string]any{"Destination": queueArn}},
	})

	// The queue keeps a record 14 days (SQS's most), encrypted, reached over TLS only.
	if queue["MessageRetentionPeriod"] != float64(14*24*3600) || queue["SqsManagedSseEnabled"] != true {
		t.Errorf("on-failure queue %s: want 14 days' retention and SSE-SQS", asJSON(queue))
	}
	hasResource(t, s, "AWS::SQS::QueuePolicy", map[string]any{
		"Queues": []any{map[string]any{"Ref": queueID}},
		"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{
				"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}),
		})}),
	})

	// An alarm as soon as one record waits; the delivery dead-letter queue keeps its own.
	for _, q := range []string{queueID, onlyID(t, s, "AWS::SQS::Queue", "DialerDeadLetterQueue")} {
		hasResource(t, s, "AWS::CloudWatch::Alarm", map[string]any{
			"Namespace":          "AWS/SQS",
			"MetricName":         "ApproximateNumberOfMessagesVisible",
			"Dimensions":         []any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{q, "QueueName"}}}},
			"Threshold":          1,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold",
		})
	}
	// A record Lambda could not send is lost: that has its own alarm (Lambda's
	// DestinationDeliveryFailures metric, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
	hasResource(t, s, "AWS::CloudWatch::Alarm", map[string]any{
		"Namespace":          "AWS/Lambda",
		"MetricName":         "DestinationDeliveryFailures",
		"Dimensions":         []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": fnID}}},
		"Threshold":          1,
		"ComparisonOperator": "GreaterThanOrEqualToThreshold",
	})

	outputs, _ := s.JSON["Outputs"].(map[string]any)
	out, _ := outputs["DialerOnFailureQueueUrl"].(map[string]any)
	if got := asJSON(out["Value"]); got != `{"Ref":"`+queueID+`"}` {
		t.Errorf("output DialerOnFailureQueueUrl = %s, want the queue's URL (Ref %s)", got, queueID)
	}
}

// The on-failure destination is the one thing the dialer's role may do with SQS: SendMessage on
// that queue (Lambda sends the record with the function's execution role:
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). CDK's
// SqsDestination would grant sqs:GetQueueAttributes and sqs:GetQueueUrl as well. And Lambda
// checks the role when the configuration is written, so the EventInvokeConfig must be created
// after the policy that grants it.
func TestDialerMaySendOnlyToItsOnFailureQueue(t *testing.T) {
	s := synth(t, nil)
	_, fn := dialerFunction(t, s)
	role := refOf(t, fn["Role"], "Fn::GetAtt")
	queueID := onlyID(t, s, "AWS::SQS::Queue", "DialerOnFailureQueue")
	var sqs []string
	var grantingPolicies []string
	for id, p := range s.resourcesOfType("AWS::IAM::Policy") {
		for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			m := st.(map[string]any)
			for _, a := range stringsOf(asList(m["Action"])) {
				if !strings.HasPrefix(a, "sqs:") {
					continue
				}
				mine := false
				for _, r := range asList(p["Roles"]) {
					mine = mine || refOf(t, r, "Ref") == role
				}
				if mine {
					sqs = append(sqs, a+" on "+asJSON(m["Resource"]))
					grantingPolicies = append(grantingPolicies, id)
				}
			}
		}
	}
	want := []string{`sqs:SendMessage on {"Fn::GetAtt":["` + queueID + `","Arn"]}`}
	if !reflect.DeepEqual(sqs, want) {
		t.Errorf("the dialer's SQS permissions %v, want %v", sqs, want)
	}
	for id := range s.resourcesOfType("AWS::Lambda::EventInvokeConfig") {
		for _, p := range grantingPolicies {
			if !dependsOn(s, id, p) {
				t.Errorf("EventInvokeConfig %s can be created before %s, which lets the role send to the queue: Lambda would refuse it", id, p)
			}
			if dependsOn(s, p, id) {
				t.Errorf("%s depends on %s and the other way round: the walk over references is broken", p, id)
			}
		}
	}
}

// Issue 17: every function that an AWS service invokes asynchronously (EventBridge rules, via a
// resource policy for events.amazonaws.com; EventBridge Scheduler, via a role it assumes) has an
// on-failure destination. Connect's flow block and API Gateway's proxy integration invoke
// synchronously (the caller gets the error), so the contact-flow and auth-redirect functions
// need none. An invoker this test does not know fails it until it is classified here.
func TestEveryAsynchronouslyInvokedFunctionHasAnOnFailureDestination(t *testing.T) {
	s := synth(t, everyCapability)
	synchronous := map[string]bool{"connect.amazonaws.com": true, "apigateway.amazonaws.com": true}
	asynchronous := map[string]bool{"events.amazonaws.com": true, "scheduler.amazonaws.com": true}
	invokedBy := map[string][]string{} // function logical ID -> principals
	for _, p := range s.resourcesOfType("AWS::Lambda::Permission") {
		fn := functionRef(t, p["FunctionName"])
		invokedBy[fn] = append(invokedBy[fn], fmt.Sprint(p["Principal"]))
	}
	// Roles that may invoke a function, by the service that assumes them.
	roles := s.resourcesOfType("AWS::IAM::Role")
	for _, p := range s.resourcesOfType("AWS::IAM::Policy") {
		for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			m := st.(map[string]any)
			if m["Effect"] != "Allow" || !contains(stringsOf(asList(m["Action"])), "lambda:InvokeFunction") {
				continue
			}
			for _, r := range asList(p["Roles"]) {
				services := assumedBy(roles[refOf(t, r, "Ref")])
				for _, res := range asList(m["Resource"]) {
					if l, ok := res.(map[string]any)["Fn::GetAtt"].([]any); ok {
						invokedBy[l[0].(string)] = append(invokedBy[l[0].(string)], services...)
					}
				}
			}
		}
	}
	onFailure := map[string]bool{}
	for _, c := range s.resourcesOfType("AWS::Lambda::EventInvokeConfig") {
		if d, _ := c["DestinationConfig"].(map[string]any); d != nil && d["OnFailure"] != nil {
			onFailure[functionRef(t, c["FunctionName"])] = true
		}
	}
	var async []string
	for fn, principals := range invokedBy {
		isAsync := false
		for _, p := range principals {
			switch {
			case asynchronous[p]:
				isAsync = true
			case !synchronous[p]:
				t.Errorf("%s is invoked by %s: classify it as a synchronous or an asynchronous invoker in this test", fn, p)
			}
		}
		if isAsync {
			async = append(async, fn)
			if !onFailure[fn] {
				t.Errorf("%s is invoked asynchronously (%v) and has no on-failure destination: a function error drops the event after Lambda's retries", fn, principals)
			}
		}
	}
	sort.Strings(async)
	if len(async) != 1 || !strings.HasPrefix(async[0], "DialerFunction") {
		t.Errorf("asynchronously invoked functions %v, want the dialer only", async)
	}
	for fn, principals := range invokedBy {
		if strings.HasPrefix(fn, "ContactFlowFunction") || strings.HasPrefix(fn, "AuthRedirectFunction") {
			for _, p := range principals {
				if !synchronous[p] {
					t.Errorf("%s is invoked by %s: docs/infra.md says it is invoked synchronously only", fn, p)
				}
			}
		}
	}
}

// functionRef returns the logical ID of the function a FunctionName names ({"Ref": id} or
// {"Fn::GetAtt": [id, "Arn"]}).
func functionRef(t *testing.T, v any) string {
	t.Helper()
	m, _ := v.(map[string]any)
	if _, ok := m["Ref"]; ok {
		return refOf(t, v, "Ref")
	}
	return refOf(t, v, "Fn::GetAtt")
}

// assumedBy lists the services a role's trust policy names.
func assumedBy(role map[string]any) []string {
	var out []string
	doc, _ := role["AssumeRolePolicyDocument"].(map[string]any)
	for _, st := range asList(doc["Statement"]) {
		p, _ := st.(map[string]any)["Principal"].(map[string]any)
		out = append(out, stringsOf(asList(p["Service"]))...)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// onlyID is onlyResource's logical ID.
func onlyID(t *testing.T, s synthesized, typ, prefix string) string {
	t.Helper()
	id, _ := onlyResource(t, s, typ, prefix)
	return id
}

// dependsOn reports whether CloudFormation creates the resource to after the resource from:
// from names it, directly or through other resources, in DependsOn or in a Ref or Fn::GetAtt.
func dependsOn(s synthesized, from, to string) bool {
	resources, _ := s.JSON["Resources"].(map[string]any)
	seen := map[string]bool{}
	var walk func(id string) bool
	walk = func(id string) bool {
		if seen[id] {
			return false
		}
		seen[id] = true
		res, _ := resources[id].(map[string]any)
		for _, d := range referencesOf(res) {
			if d == to || walk(d) {
				return true
			}
		}
		return false
	}
	return walk(from)
}

// referencesOf returns the logical IDs a resource depends on: its DependsOn, and every Ref and
// Fn::GetAtt in its properties.
func referencesOf(res map[string]any) []string {
	var out []string
	switch d := res["DependsOn"].(type) {
	case string:
		out = append(out, d)
	case []any:
		out = append(out, stringsOf(d)...)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["Ref"].(string); ok && len(v) == 1 {
				out = append(out, r)
			}
			if l, ok := v["Fn::GetAtt"].([]any); ok && len(l) == 2 {
				if id, ok := l[0].(string); ok {
					out = append(out, id)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(res["Properties"])
	return out
}

// GoFunctionProps.Async takes Lambda's ranges (PutFunctionEventInvokeConfig: MaximumRetryAttempts
// 0-2, MaximumEventAgeInSeconds 60-21600) and a queue that needs no key grant; anything else is
// a programming error and panics, as NewGoFunction's other checks do.
func TestAsyncInvokeIsValidated(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	probe := awscdk.NewStack(app, jsii.String("Probe"), nil)
	assets := fakeAssets(t)
	plain := awssqs.NewQueue(probe, jsii.String("Plain"), &awssqs.QueueProps{Encryption: awssqs.QueueEncryption_SQS_MANAGED})
	kms := awssqs.NewQueue(probe, jsii.String("Kms"), &awssqs.QueueProps{Encryption: awssqs.QueueEncryption_KMS})
	for i, tc := range []struct {
		async AsyncInvoke
		ok    bool
	}{
		{AsyncInvoke{OnFailure: plain, RetryAttempts: 0, MaxEventAge: time.Minute}, true},
		{AsyncInvoke{OnFailure: plain, RetryAttempts: 2, MaxEventAge: 6 * time.Hour}, true},
		{AsyncInvoke{OnFailure: plain, RetryAttempts: 3, MaxEventAge: time.Hour}, false},
		{AsyncInvoke{OnFailure: plain, RetryAttempts: -1, MaxEventAge: time.Hour}, false},
		{AsyncInvoke{OnFailure: plain, RetryAttempts: 2, MaxEventAge: 59 * time.Second}, false},
		{AsyncInvoke{OnFailure: plain, RetryAttempts: 2, MaxEventAge: 6*time.Hour + time.Second}, false},
		{AsyncInvoke{OnFailure: plain, RetryAttempts: 2, MaxEventAge: 90500 * time.Millisecond}, false},
		{AsyncInvoke{RetryAttempts: 2, MaxEventAge: time.Hour}, false},
		{AsyncInvoke{OnFailure: kms, RetryAttempts: 2, MaxEventAge: time.Hour}, false},
	} {
		func() {
			defer func() {
				if r := recover(); (r == nil) != tc.ok {
					t.Errorf("%+v: panic %v, want ok=%v", tc.async, r, tc.ok)
				}
			}()
			a := tc.async
			NewGoFunction(probe, fmt.Sprintf("Fn%d", i), &GoFunctionProps{AssetsDir: assets, Name: "dialer", Timeout: 3 * time.Second, MemoryMB: 128, Async: &a})
		}()
	}
}
