package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

// dialerFunction returns the logical ID and properties of the dialer function.
func dialerFunction(t *testing.T, s synthesized) (string, map[string]any) {
	t.Helper()
	for id, fn := range s.resourcesOfType("AWS::Lambda::Function") {
		if strings.HasPrefix(id, "DialerFunction") {
			return id, fn
		}
	}
	t.Fatal("no dialer function")
	return "", nil
}

func TestDialerFunctionAndSettings(t *testing.T) {
	s := synth(t, map[string]any{keyDialCallsPerSecond: "4", keyDialMaxConcurrentCalls: "25"})
	_, fn := dialerFunction(t, s)
	if fn["Runtime"] != "provided.al2023" || fn["Timeout"] != float64(75) {
		t.Errorf("runtime %v timeout %v", fn["Runtime"], fn["Timeout"])
	}
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	got := func(k string) string { v, _ := vars[k].(string); return v }
	if got(outbound.EnvCallsPerSecond) != "4" || got(outbound.EnvBurst) != "5" || got(outbound.EnvMaxLive) != "25" || got(outbound.EnvTickBudget) != "57s" {
		t.Errorf("pacing environment %v", vars)
	}
	for _, k := range []string{outbound.EnvCampaignsTable, outbound.EnvDoNotCallTable, outbound.EnvRecipientsBucket} {
		if _, ok := vars[k].(map[string]any); !ok {
			t.Errorf("%s = %v, want a reference to the stack's resource", k, vars[k])
		}
	}
	// The environment is one the function accepts (references stand in as names).
	if _, err := outbound.SettingsFromEnv(func(k string) string {
		if v, ok := vars[k].(string); ok {
			return v
		}
		if vars[k] != nil {
			return "ref"
		}
		return ""
	}); err != nil {
		t.Errorf("the function would refuse its environment: %v", err)
	}
}

func TestDialerSettingsAreValidated(t *testing.T) {
	_, err := LoadSettings(map[string]any{keyInstanceARN: testInstanceARN, keyDialCallsPerSecond: "fast", keyDialBurst: "0"})
	if err == nil || !strings.Contains(err.Error(), `"dialCallsPerSecond"`) || !strings.Contains(err.Error(), `"fast" is not a number`) {
		t.Errorf("error %v", err)
	}
	if _, err := LoadSettings(map[string]any{keyInstanceARN: testInstanceARN, "dialMaxConcurrentcalls": "5"}); err == nil || !strings.Contains(err.Error(), `did you mean "dialMaxConcurrentCalls"`) {
		t.Errorf("near miss: %v", err)
	}
}

func TestDialerTableIndexes(t *testing.T) {
	s := synth(t, nil)
	var indexes []string
	for id, tbl := range s.resourcesOfType("AWS::DynamoDB::Table") {
		if !strings.HasPrefix(id, "CampaignsTable") {
			continue
		}
		for _, g := range asList(tbl["GlobalSecondaryIndexes"]) {
			gm := g.(map[string]any)
			keys, _ := json.Marshal(gm["KeySchema"])
			indexes = append(indexes, gm["IndexName"].(string)+" "+string(keys)+" "+gm["Projection"].(map[string]any)["ProjectionType"].(string))
		}
		if tbl["BillingMode"] != "PAY_PER_REQUEST" {
			t.Errorf("billing %v", tbl["BillingMode"])
		}
	}
	sort.Strings(indexes)
	want := []string{
		`active [{"AttributeName":"active_pk","KeyType":"HASH"},{"AttributeName":"pk","KeyType":"RANGE"}] KEYS_ONLY`,
		`due [{"AttributeName":"due_pk","KeyType":"HASH"},{"AttributeName":"due_at","KeyType":"RANGE"}] KEYS_ONLY`,
		`inflight [{"AttributeName":"flight_pk","KeyType":"HASH"},{"AttributeName":"flight_at","KeyType":"RANGE"}] KEYS_ONLY`,
	}
	if !reflect.DeepEqual(indexes, want) {
		t.Errorf("indexes\n%v\nwant\n%v", indexes, want)
	}
}

func TestDialerRoleIsLeastPrivilege(t *testing.T) {
	s := synth(t, nil)
	requireNoIAMWildcards(t, s.JSON)
	_, fn := dialerFunction(t, s)
	role := refOf(t, fn["Role"], "Fn::GetAtt")
	actions := map[string][]any{}
	for _, p := range s.resourcesOfType("AWS::IAM::Policy") {
		mine := false
		for _, r := range asList(p["Roles"]) {
			mine = mine || refOf(t, r, "Ref") == role
		}
		if !mine {
			continue
		}
		for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			m := st.(map[string]any)
			for _, a := range stringsOf(asList(m["Action"])) {
				actions[a] = append(actions[a], asList(m["Resource"])...)
			}
		}
	}
	contacts := []any{testInstanceARN + "/contact/*"}
	for _, a := range []string{"connect:StartOutboundVoiceContact", "connect:StopContact", "connect:DescribeContact"} {
		if !reflect.DeepEqual(actions[a], contacts) {
			t.Errorf("%s on %v, want the instance's contacts only", a, actions[a])
		}
	}
	if got := actions["connect:GetCurrentMetricData"]; !reflect.DeepEqual(got, []any{testInstanceARN, testInstanceARN + "/queue/*"}) {
		t.Errorf("GetCurrentMetricData on %v", got)
	}
	var connectActions []string
	for a := range actions {
		if strings.HasPrefix(a, "connect:") {
			connectActions = append(connectActions, a)
		}
		if a == "dynamodb:PutItem" || a == "dynamodb:UpdateItem" || a == "dynamodb:DeleteItem" {
			for _, r := range actions[a] {
				if strings.Contains(asJSON(r), "DoNotCallTable") {
					t.Errorf("the dialer may %s the do-not-call list", a)
				}
			}
		}
		if strings.HasPrefix(a, "s3:Put") || strings.HasPrefix(a, "s3:Delete") {
			t.Errorf("the dialer may %s", a)
		}
	}
	if len(connectActions) != 4 {
		t.Errorf("Connect actions %v, want exactly four", connectActions)
	}
	if !strings.Contains(asJSON(actions["dynamodb:GetItem"]), "DoNotCallTable") {
		t.Errorf("the dialer cannot read the do-not-call list: %v", actions["dynamodb:GetItem"])
	}

	// Issue 12 (cdk-nag IAM5): the campaigns table's indexes by name, never index/*; the
	// recipients bucket read as GetObject (and GetObjectVersion) on its objects plus ListBucket
	// (404 for a missing key).
	tableID, _ := onlyResource(t, s, "AWS::DynamoDB::Table", "CampaignsTable")
	tableArn := `{"Fn::GetAtt":["` + tableID + `","Arn"]}`
	index := func(name string) string { return `{"Fn::Join":["",[` + tableArn + `,"/index/` + name + `"]]}` }
	if got, want := asJSON(actions["dynamodb:Query"]), "["+strings.Join([]string{tableArn, index("due"), index("inflight"), index("active")}, ",")+"]"; got != want {
		t.Errorf("dynamodb:Query on\n%s\nwant\n%s", got, want)
	}
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"} {
		if strings.Contains(asJSON(actions[a]), "/index/*") {
			t.Errorf("%s on %v: an index wildcard", a, actions[a])
		}
	}
	bucketID, _ := onlyResource(t, s, "AWS::S3::Bucket", "RecipientsBucket")
	bucketArn := `{"Fn::GetAtt":["` + bucketID + `","Arn"]}`
	var s3Actions []string
	for a := range actions {
		if strings.HasPrefix(a, "s3:") {
			s3Actions = append(s3Actions, a)
		}
	}
	sort.Strings(s3Actions)
	// s3:GetObjectVersion: every import step reads the version pinned at the launch.
	if !reflect.DeepEqual(s3Actions, []string{"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}) {
		t.Errorf("S3 actions %v, want s3:GetObject, s3:GetObjectVersion and s3:ListBucket", s3Actions)
	}
	for _, a := range []string{"s3:GetObject", "s3:GetObjectVersion"} {
		if got, want := asJSON(actions[a]), `[{"Fn::Join":["",[`+bucketArn+`,"/*"]]}]`; got != want {
			t.Errorf("%s on %s, want %s", a, got, want)
		}
	}
	if got, want := asJSON(actions["s3:ListBucket"]), "["+bucketArn+"]"; got != want {
		t.Errorf("s3:ListBucket on %s, want %s", got, want)
	}
}

// Issue 12 (cdk-nag S1): the recipients bucket logs its requests into a bucket of its own, which
// takes them under a bucket policy (no ACL) and only from that bucket.
func TestDialerRecipientsBucketAccessLogs(t *testing.T) {
	s := synth(t, nil)
	logsID, logs := onlyResource(t, s, "AWS::S3::Bucket", "RecipientsAccessLogsBucket")
	_, bucket := onlyResource(t, s, "AWS::S3::Bucket", "RecipientsBucket")
	if got, want := asJSON(bucket["LoggingConfiguration"]), `{"DestinationBucketName":{"Ref":"`+logsID+`"},"LogFilePrefix":"recipients/"}`; got != want {
		t.Errorf("recipients bucket logging %s, want %s", got, want)
	}
	if logs["AccessControl"] != nil || logs["PublicAccessBlockConfiguration"] == nil {
		t.Errorf("log bucket ACL %v, public access block %v: want no ACL and a block", logs["AccessControl"], logs["PublicAccessBlockConfiguration"])
	}
	if got := asJSON(logs["BucketEncryption"]); !strings.Contains(got, `"SSEAlgorithm":"AES256"`) {
		t.Errorf("log bucket encryption %s, want SSE-S3", got)
	}
	var delivery, tlsOnly bool
	for _, p := range s.resourcesOfType("AWS::S3::BucketPolicy") {
		if asJSON(p["Bucket"]) != `{"Ref":"`+logsID+`"}` {
			continue
		}
		for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			js := asJSON(st)
			delivery = delivery || (strings.Contains(js, `"Service":"logging.s3.amazonaws.com"`) && strings.Contains(js, `"s3:PutObject"`) &&
				strings.Contains(js, `"aws:SourceAccount":"123456789012"`) && strings.Contains(js, `/recipients/*`))
			tlsOnly = tlsOnly || strings.Contains(js, `"aws:SecureTransport":"false"`)
		}
	}
	if !delivery || !tlsOnly {
		t.Errorf("log bucket policy: delivery by logging.s3.amazonaws.com from this account under recipients/ %v, TLS only %v", delivery, tlsOnly)
	}
}

func asJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestDialerEventsAndSchedule(t *testing.T) {
	s := synth(t, nil)
	s.Template.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventPattern": map[string]any{
			"source":      []any{dialerevents.SourceConnect},
			"detail-type": []any{dialerevents.TypeContactEvent},
			"detail": map[string]any{
				"instanceArn":      []any{testInstanceARN},
				"initiationMethod": []any{"API"},
				"eventType":        []any{"CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"},
			},
		},
		"Targets": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"DeadLetterConfig": assertions.Match_AnyValue(), "RetryPolicy": map[string]any{"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 4},
		})}),
	})
	// Written out here, not taken from the code under test.
	control := []any{"Campaign Launched", "Campaign Updated", "Campaign Paused", "Campaign Resumed", "Campaign Stopped", "Call Requested", "Call Stop Requested"}
	s.Template.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventBusName": assertions.Match_AnyValue(),
		"EventPattern": map[string]any{"source": []any{"switchboard"}, "detail-type": control},
	})
	schedules := s.resourcesOfType("AWS::Scheduler::Schedule")
	if len(schedules) != 1 {
		t.Fatalf("%d schedules", len(schedules))
	}
	for _, sc := range schedules {
		if sc["ScheduleExpression"] != "rate(1 minute)" {
			t.Errorf("schedule %v", sc["ScheduleExpression"])
		}
		target := sc["Target"].(map[string]any)
		input := asJSON(target["Input"])
		for _, want := range []string{`Dialer Tick`, `\u003caws.scheduler.scheduled-time\u003e`, `scheduledTime`} {
			if !strings.Contains(input, want) {
				t.Errorf("tick input %s lacks %s", input, want)
			}
		}
		if target["DeadLetterConfig"] == nil || target["RetryPolicy"] == nil {
			t.Errorf("schedule target without dead letters or retries: %v", target)
		}
	}
	alarms := s.resourcesOfType("AWS::CloudWatch::Alarm")
	var names []string
	for id := range alarms {
		if strings.HasPrefix(id, "Dialer") {
			names = append(names, id[:strings.Index(id, "Alarm")])
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "DialerDeadLetters,DialerDestinationDeliveryFailures,DialerErrors,DialerOnFailureQueue,DialerThrottles" {
		t.Errorf("dialer alarms %v", names)
	}
	if len(s.resourcesOfType("AWS::CloudWatch::Dashboard")) != 1 {
		t.Error("no dashboard")
	}
	for id, b := range s.resourcesOfType("AWS::S3::Bucket") {
		if strings.HasPrefix(id, "RecipientsBucket") && b["PublicAccessBlockConfiguration"] == nil {
			t.Errorf("recipients bucket %v without a public access block", id)
		}
	}
}

// dialExecutions spreads the tick over executions: one schedule each, its partition in its input.
func TestDialExecutionsGiveOneSchedulePerPartition(t *testing.T) {
	s := synth(t, map[string]any{keyDialExecutions: "3", keyDialMaxConcurrentCalls: "30"})
	schedules := s.resourcesOfType("AWS::Scheduler::Schedule")
	if len(schedules) != 3 {
		t.Fatalf("%d schedules, want 3", len(schedules))
	}
	seen := map[string]bool{}
	for _, sc := range schedules {
		input := asJSON(sc["Target"].(map[string]any)["Input"])
		for i := 0; i < 3; i++ {
			if strings.Contains(input, fmt.Sprintf(`\"partition\":%d,\"partitions\":3`, i)) {
				seen[fmt.Sprint(i)] = true
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("partitions seen in the schedules' inputs: %v", seen)
	}
	for _, c := range []struct{ executions, cap, want string }{
		{"0", "", "want a whole number from 1 to 16"},
		{"17", "", "want a whole number from 1 to 16"},
		{"4", "3", "cannot be split over 4 executions"},
	} {
		ctx := map[string]any{keyInstanceARN: testInstanceARN, keyDialExecutions: c.executions}
		if c.cap != "" {
			ctx[keyDialMaxConcurrentCalls] = c.cap
		}
		if _, err := LoadSettings(ctx); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("dialExecutions %s (cap %q): %v, want %q", c.executions, c.cap, err, c.want)
		}
	}
}
