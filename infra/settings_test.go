package main

import (
	"strings"
	"testing"
)

func TestLoadSettingsAcceptsValidContext(t *testing.T) {
	s, err := LoadSettings(map[string]any{
		keyInstanceARN:   "arn:aws-us-gov:connect:us-gov-west-1:210987654321:instance/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		keyContactFlowID: "78ea8fd5-2659-4f2b-b528-699760ccfc1b",
		keyQueueID:       "1b9e2a4c-3d5f-4a6b-8c7d-9e0f1a2b3c4d",
		keyChatOrigin:    "https://chat.example.com:8443",
		keyStackName:     "SwitchboardProd",
		// CDK's own feature flags share the context and must be ignored.
		"@aws-cdk/core:checkSecretUsage": true,
	})
	if err != nil {
		t.Fatalf("LoadSettings: %v", err)
	}
	want := Settings{
		InstanceARN:   "arn:aws-us-gov:connect:us-gov-west-1:210987654321:instance/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		Partition:     "aws-us-gov",
		Region:        "us-gov-west-1",
		Account:       "210987654321",
		InstanceID:    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		ContactFlowID: "78ea8fd5-2659-4f2b-b528-699760ccfc1b",
		QueueID:       "1b9e2a4c-3d5f-4a6b-8c7d-9e0f1a2b3c4d",
		ChatOrigin:    "https://chat.example.com:8443",
		StackName:     "SwitchboardProd",
		AssetsDir:     "build",
	}
	if s != want {
		t.Errorf("LoadSettings =\n%+v\nwant\n%+v", s, want)
	}
	if got := s.InstanceResourceARN("/contact/*"); got != want.InstanceARN+"/contact/*" {
		t.Errorf("InstanceResourceARN = %q", got)
	}
}

func TestLoadSettingsDefaults(t *testing.T) {
	s, err := LoadSettings(map[string]any{keyInstanceARN: exampleInstanceARN, keyQueueID: ""})
	if err != nil {
		t.Fatal(err)
	}
	if s.StackName != "Switchboard" || s.AssetsDir != "build" || s.QueueID != "" {
		t.Errorf("defaults: %+v", s)
	}
}

func TestLoadSettingsRejectsBadContext(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		want    []string // each must appear in the error
	}{
		{"missing ARN", map[string]any{}, []string{`"instanceArn" is required`, exampleInstanceARN}},
		{"not an ARN", map[string]any{keyInstanceARN: "11111111-2222-4333-8444-555555555555"}, []string{"is not an Amazon Connect instance ARN"}},
		{"uppercase UUID", map[string]any{keyInstanceARN: strings.ToUpper(exampleInstanceARN[len(exampleInstanceARN)-36:])}, []string{"is not an Amazon Connect instance ARN"}},
		{"other service", map[string]any{keyInstanceARN: "arn:aws:lambda:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555"}, []string{"is not an Amazon Connect instance ARN"}},
		{"short account", map[string]any{keyInstanceARN: "arn:aws:connect:us-east-1:12345:instance/11111111-2222-4333-8444-555555555555"}, []string{"is not an Amazon Connect instance ARN"}},
		{"region outside partition", map[string]any{keyInstanceARN: "arn:aws-cn:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555"}, []string{`Region "us-east-1" is not in partition "aws-cn"`}},
		{"gov region in aws partition", map[string]any{keyInstanceARN: "arn:aws:connect:us-gov-west-1:123456789012:instance/11111111-2222-4333-8444-555555555555"}, []string{`is not in partition "aws"`}},
		{"ARN not a string", map[string]any{keyInstanceARN: 42.0}, []string{`"instanceArn" must be a string`}},
		{"bad flow ID", map[string]any{keyInstanceARN: exampleInstanceARN, keyContactFlowID: "flow id with spaces"}, []string{`"contactFlowId"`, "is not a Connect flow ID"}},
		{"bad queue ID", map[string]any{keyInstanceARN: exampleInstanceARN, keyQueueID: "q/1"}, []string{`"queueId"`}},
		{"http origin", map[string]any{keyInstanceARN: exampleInstanceARN, keyChatOrigin: "http://chat.example.com"}, []string{"must use https"}},
		{"loopback http origin", map[string]any{keyInstanceARN: exampleInstanceARN, keyChatOrigin: "http://127.0.0.1:5173"}, []string{"must use https: http is only for local runs"}},
		{"wildcard origin", map[string]any{keyInstanceARN: exampleInstanceARN, keyChatOrigin: "*"}, []string{`"*" is not allowed`}},
		{"origin with path", map[string]any{keyInstanceARN: exampleInstanceARN, keyChatOrigin: "https://chat.example.com/"}, []string{"origin only"}},
		{"origin uppercase", map[string]any{keyInstanceARN: exampleInstanceARN, keyChatOrigin: "https://Chat.example.com"}, []string{"lowercase host"}},
		{"bad stack name", map[string]any{keyInstanceARN: exampleInstanceARN, keyStackName: "1stack"}, []string{`"stackName"`}},
		{"near-miss key", map[string]any{"instanceARN": exampleInstanceARN}, []string{`unknown context key "instanceARN": did you mean "instanceArn"?`, `"instanceArn" is required`}},
		{"near-miss optional key", map[string]any{keyInstanceARN: exampleInstanceARN, "auth_cognito": "true"}, []string{`unknown context key "auth_cognito": did you mean "authCognito"?`}},
		{"flow budget over 7s", map[string]any{keyInstanceARN: exampleInstanceARN, keyFlowBudget: "8s"}, []string{`context "flowBudget"`, "7s", "3s unless the flow raises it", "-c flowBudget="}},
		{"flow budget not a duration", map[string]any{keyInstanceARN: exampleInstanceARN, keyFlowBudget: "3"}, []string{`context "flowBudget"`}},
		{"flow error mode", map[string]any{keyInstanceARN: exampleInstanceARN, keyFlowErrorMode: "crash"}, []string{`context "flowErrorMode"`, `"crash"`}},
		{"default country", map[string]any{keyInstanceARN: exampleInstanceARN, keyDefaultCountry: "England"}, []string{`context "defaultCountry"`, `"ENGLAND"`}},
		{"every problem reported", map[string]any{keyInstanceARN: "nope", keyQueueID: "q q", keyStackName: "-x"}, []string{"instanceArn", "queueId", "stackName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadSettings(tt.context)
			if err == nil {
				t.Fatalf("LoadSettings = %+v, want an error", s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
