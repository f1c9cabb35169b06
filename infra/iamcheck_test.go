package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// iamWildcardProblems walks every IAM policy document of a synthesized template (inline role
// policies, AWS::IAM::Policy and AWS::IAM::ManagedPolicy) and reports each Allow statement that
// is broader than least privilege:
//   - an Action of "*" or "<service>:*", or NotAction;
//   - a wildcard inside a Connect action (we always name exact Connect actions);
//   - Resource "*" (or NotResource) on a Connect or DynamoDB action: those must name the
//     instance and the tables.
func iamWildcardProblems(template map[string]any) []string {
	var problems []string
	resources, _ := template["Resources"].(map[string]any)
	ids := make([]string, 0, len(resources))
	for id := range resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		res, _ := resources[id].(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		var docs []any
		switch res["Type"] {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			docs = append(docs, props["PolicyDocument"])
		case "AWS::IAM::Role":
			policies, _ := props["Policies"].([]any)
			for _, p := range policies {
				pm, _ := p.(map[string]any)
				docs = append(docs, pm["PolicyDocument"])
			}
		}
		for _, d := range docs {
			doc, _ := d.(map[string]any)
			for i, st := range asList(doc["Statement"]) {
				stmt, _ := st.(map[string]any)
				for _, p := range statementProblems(stmt) {
					problems = append(problems, fmt.Sprintf("%s statement %d: %s", id, i, p))
				}
			}
		}
	}
	return problems
}

func statementProblems(stmt map[string]any) []string {
	if stmt["Effect"] != "Allow" {
		return nil
	}
	var problems []string
	if _, ok := stmt["NotAction"]; ok {
		problems = append(problems, "Allow with NotAction grants every other action")
	}
	if _, ok := stmt["NotResource"]; ok {
		problems = append(problems, "Allow with NotResource grants every other resource")
	}
	scoped := false // a Connect or DynamoDB action, which must name its resources
	for _, a := range asList(stmt["Action"]) {
		action, ok := a.(string)
		if !ok {
			problems = append(problems, fmt.Sprintf("action %v is not a string", a))
			continue
		}
		service, name, _ := strings.Cut(action, ":")
		switch {
		case action == "*":
			problems = append(problems, `Action "*"`)
		case name == "*":
			problems = append(problems, fmt.Sprintf("Action %q allows every %s action", action, service))
		case service == "connect" && strings.Contains(name, "*"):
			problems = append(problems, fmt.Sprintf("Action %q: name exact Connect actions", action))
		}
		if service == "connect" || service == "dynamodb" {
			scoped = true
		}
	}
	if scoped {
		for _, r := range asList(stmt["Resource"]) {
			if r == "*" {
				problems = append(problems, fmt.Sprintf(`Resource "*" on %v`, stmt["Action"]))
			}
		}
	}
	return problems
}

// asList returns v as a list: CloudFormation allows a single value where a list is expected.
func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func TestIAMWildcardProblemsFindsBroadStatements(t *testing.T) {
	policy := func(statements ...map[string]any) map[string]any {
		list := make([]any, len(statements))
		for i, s := range statements {
			list[i] = s
		}
		return map[string]any{"Resources": map[string]any{
			"Pol": map[string]any{
				"Type":       "AWS::IAM::Policy",
				"Properties": map[string]any{"PolicyDocument": map[string]any{"Statement": list}},
			},
		}}
	}
	instance := map[string]any{"Fn::Join": []any{"", []any{"arn:aws:connect:us-east-1:123456789012:instance/x/contact/*"}}}
	tests := []struct {
		name     string
		template map[string]any
		want     []string // substrings, one per expected problem
	}{
		{"star action", policy(map[string]any{"Effect": "Allow", "Action": "*", "Resource": instance}), []string{`Action "*"`}},
		{"service star in list", policy(map[string]any{"Effect": "Allow", "Action": []any{"logs:PutLogEvents", "dynamodb:*"}, "Resource": instance}), []string{`"dynamodb:*" allows every dynamodb action`}},
		{"connect partial wildcard", policy(map[string]any{"Effect": "Allow", "Action": "connect:*ContactAttributes", "Resource": instance}), []string{"name exact Connect actions"}},
		{"connect on every resource", policy(map[string]any{"Effect": "Allow", "Action": "connect:StopContact", "Resource": "*"}), []string{`Resource "*"`}},
		{"dynamodb on every resource in list", policy(map[string]any{"Effect": "Allow", "Action": []any{"dynamodb:GetItem"}, "Resource": []any{instance, "*"}}), []string{`Resource "*"`}},
		{"not action", policy(map[string]any{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), []string{"NotAction"}},
		{"role inline policy", map[string]any{"Resources": map[string]any{"Role": map[string]any{
			"Type": "AWS::IAM::Role",
			"Properties": map[string]any{"Policies": []any{map[string]any{"PolicyDocument": map[string]any{
				"Statement": map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}}}}},
		}}}, []string{`Action "*"`}},
		{"least privilege passes", policy(
			map[string]any{"Effect": "Allow", "Action": []any{"connect:GetContactAttributes", "connect:UpdateContactAttributes"}, "Resource": instance},
			map[string]any{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
			map[string]any{"Effect": "Deny", "Action": "*", "Resource": "*"},
		), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := iamWildcardProblems(tt.template)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d matching %q", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
