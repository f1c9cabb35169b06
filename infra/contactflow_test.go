package main

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// contactFlowTemplate is the synthesized stack and the logical IDs of the contact-flow parts.
type contactFlowTemplate struct {
	synthesized
	fnID, roleID, tableID string
	fn                    map[string]any
}

func synthContactFlow(t *testing.T) contactFlowTemplate {
	t.Helper()
	return synthContactFlowWith(t, nil)
}

func synthContactFlowWith(t *testing.T, context map[string]any) contactFlowTemplate {
	t.Helper()
	s := synth(t, context)
	ct := contactFlowTemplate{synthesized: s}
	for id, props := range s.resourcesOfType("AWS::Lambda::Function") {
		if strings.HasPrefix(id, "ContactFlowFunction") {
			if ct.fnID != "" {
				t.Fatalf("two contact-flow functions: %s and %s", ct.fnID, id)
			}
			ct.fnID, ct.fn = id, props
		}
	}
	if ct.fnID == "" {
		t.Fatal("no ContactFlowFunction in the template")
	}
	ct.roleID = refOf(t, ct.fn["Role"], "Fn::GetAtt")
	tables := s.resourcesOfType("AWS::DynamoDB::Table")
	for id := range tables {
		if strings.HasPrefix(id, "DoNotCallTable") {
			ct.tableID = id
		}
	}
	if ct.tableID == "" {
		t.Fatalf("no DoNotCallTable among %v", keys(tables))
	}
	return ct
}

// refOf returns the logical ID in {"Ref": id} or {"Fn::GetAtt": [id, attr]}.
func refOf(t *testing.T, v any, kind string) string {
	t.Helper()
	m, _ := v.(map[string]any)
	switch kind {
	case "Ref":
		if id, ok := m["Ref"].(string); ok {
			return id
		}
	case "Fn::GetAtt":
		if l, ok := m["Fn::GetAtt"].([]any); ok && len(l) == 2 {
			id, _ := l[0].(string)
			return id
		}
	}
	t.Fatalf("%v is not a %s", v, kind)
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestContactFlowFunction(t *testing.T) {
	ct := synthContactFlow(t)
	fn := ct.fn
	if fn["Runtime"] != "provided.al2023" || fn["Handler"] != "bootstrap" || !reflect.DeepEqual(fn["Architectures"], []any{"arm64"}) {
		t.Errorf("runtime %v handler %v architectures %v", fn["Runtime"], fn["Handler"], fn["Architectures"])
	}
	// Connect's block waits at most 8 s, cold start and network included: an invocation still
	// running after 7 s answers a contact that has already taken the Error branch.
	if timeout, _ := fn["Timeout"].(float64); timeout < 1 || timeout > 7 {
		t.Errorf("timeout %v s, want at most 7 s (Connect's 8 s less a second of headroom)", fn["Timeout"])
	}
	env, _ := fn["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if refOf(t, vars[contactflow.EnvDoNotCallTable], "Ref") != ct.tableID {
		t.Errorf("%s = %v, want a Ref to %s", contactflow.EnvDoNotCallTable, vars[contactflow.EnvDoNotCallTable], ct.tableID)
	}
	// The settings the construct writes are ones the function accepts.
	cfg, err := contactflow.ConfigFromEnv(func(k string) string { s, _ := vars[k].(string); return s })
	if err != nil {
		t.Fatalf("the function would refuse its environment %v: %v", vars, err)
	}
	if cfg.Budget.Total > flowbudget.MaxFlowBudget || cfg.ErrorMode != contactflow.ErrorModeResult {
		t.Errorf("config %+v", cfg)
	}
	// The block's default timeout is 3 s: the default budget keeps a second of it.
	if vars[contactflow.EnvBudget] != "2s" {
		t.Errorf("%s = %v, want 2s (1 s below the block's default timeout of 3 s)", contactflow.EnvBudget, vars[contactflow.EnvBudget])
	}
	if budget, _ := flowbudget.Parse(vars[contactflow.EnvBudget].(string)); float64(budget.Total.Seconds()) >= fn["Timeout"].(float64) {
		t.Errorf("budget %v does not leave room before the %v s timeout", vars[contactflow.EnvBudget], fn["Timeout"])
	}
}

// The context keys flowBudget, flowErrorMode and defaultCountry reach the function's environment.
func TestContactFlowSettingsFromContext(t *testing.T) {
	ct := synthContactFlowWith(t, map[string]any{keyFlowBudget: "4500ms", keyFlowErrorMode: "fail", keyDefaultCountry: "GB"})
	env, _ := ct.fn["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	want := map[string]string{contactflow.EnvBudget: "4500ms", contactflow.EnvErrorMode: "fail", contactflow.EnvDefaultCountry: "GB"}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %v, want %s", k, vars[k], v)
		}
	}
}

func TestContactFlowDoNotCallTable(t *testing.T) {
	ct := synthContactFlow(t)
	res, _ := ct.JSON["Resources"].(map[string]any)
	table, _ := res[ct.tableID].(map[string]any)
	if table["DeletionPolicy"] != "Retain" || table["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("deletion policy %v, update replace policy %v; want Retain: opt-outs outlive the stack", table["DeletionPolicy"], table["UpdateReplacePolicy"])
	}
	props, _ := table["Properties"].(map[string]any)
	want := map[string]any{
		"KeySchema":                        []any{map[string]any{"AttributeName": "phone_number", "KeyType": "HASH"}},
		"AttributeDefinitions":             []any{map[string]any{"AttributeName": "phone_number", "AttributeType": "S"}},
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	}
	for k, v := range want {
		if !reflect.DeepEqual(props[k], v) {
			t.Errorf("%s = %v, want %v", k, props[k], v)
		}
	}
}

func TestContactFlowIsInvokableByTheInstanceOnly(t *testing.T) {
	ct := synthContactFlow(t)
	var found int
	for id, p := range ct.resourcesOfType("AWS::Lambda::Permission") {
		if refOf(t, p["FunctionName"], "Fn::GetAtt") != ct.fnID {
			continue
		}
		found++
		if p["Principal"] != "connect.amazonaws.com" || p["Action"] != "lambda:InvokeFunction" ||
			p["SourceArn"] != testInstanceARN || p["SourceAccount"] != "123456789012" {
			t.Errorf("%s: %v, want connect.amazonaws.com invoking from %s in its account", id, p, testInstanceARN)
		}
	}
	if found != 1 {
		t.Errorf("%d invoke permissions on the function, want 1", found)
	}

	assocs := ct.resourcesOfType("AWS::Connect::IntegrationAssociation")
	if len(assocs) != 1 {
		t.Fatalf("%d integration associations, want 1", len(assocs))
	}
	for _, a := range assocs {
		if a["InstanceId"] != testInstanceARN || a["IntegrationType"] != "LAMBDA_FUNCTION" || refOf(t, a["IntegrationArn"], "Fn::GetAtt") != ct.fnID {
			t.Errorf("integration association %v", a)
		}
	}
}

// The role may call the two attribute actions on this instance's contacts, put items in the
// do-not-call table, write its logs, and nothing else.
func TestContactFlowRoleIsLeastPrivilege(t *testing.T) {
	ct := synthContactFlow(t)
	requireNoIAMWildcards(t, ct.JSON)

	var statements []map[string]any
	for _, p := range ct.resourcesOfType("AWS::IAM::Policy") {
		for _, r := range asList(p["Roles"]) {
			if refOf(t, r, "Ref") != ct.roleID {
				continue
			}
			doc, _ := p["PolicyDocument"].(map[string]any)
			for _, st := range asList(doc["Statement"]) {
				m, _ := st.(map[string]any)
				statements = append(statements, m)
			}
		}
	}
	var connectStmts, dynamoStmts int
	for _, st := range statements {
		actions := strings.Join(stringsOf(asList(st["Action"])), ",")
		switch {
		case strings.HasPrefix(actions, "connect:"):
			connectStmts++
			if actions != "connect:GetContactAttributes,connect:UpdateContactAttributes" {
				t.Errorf("Connect actions %s, want exactly the two attribute actions", actions)
			}
			if !reflect.DeepEqual(asList(st["Resource"]), []any{testInstanceARN + "/contact/*"}) {
				t.Errorf("Connect resources %v, want the instance's contacts", st["Resource"])
			}
		case strings.HasPrefix(actions, "dynamodb:"):
			dynamoStmts++
			if actions != "dynamodb:PutItem" {
				t.Errorf("DynamoDB actions %s, want only PutItem", actions)
			}
			res := asList(st["Resource"])
			if len(res) == 0 {
				t.Errorf("DynamoDB statement without resources")
			}
			for _, r := range res {
				// Grant adds the table's indexes as a conditional second resource; it has none.
				if m, _ := r.(map[string]any); m["Ref"] == "AWS::NoValue" {
					continue
				}
				if refOf(t, r, "Fn::GetAtt") != ct.tableID {
					t.Errorf("DynamoDB resource %v, want the do-not-call table", r)
				}
			}
		case strings.HasPrefix(actions, "logs:"):
		default:
			t.Errorf("unexpected statement %v", st)
		}
	}
	if connectStmts != 1 || dynamoStmts != 1 {
		b, _ := json.MarshalIndent(statements, "", "  ")
		t.Errorf("%d Connect and %d DynamoDB statements, want 1 each:\n%s", connectStmts, dynamoStmts, b)
	}
}

func TestContactFlowOutputs(t *testing.T) {
	ct := synthContactFlow(t)
	outputs, _ := ct.JSON["Outputs"].(map[string]any)
	fnOut, _ := outputs["ContactFlowFunctionArn"].(map[string]any)
	tableOut, _ := outputs["DoNotCallTableName"].(map[string]any)
	if fnOut == nil || refOf(t, fnOut["Value"], "Fn::GetAtt") != ct.fnID {
		t.Errorf("ContactFlowFunctionArn output = %v", fnOut)
	}
	if tableOut == nil || refOf(t, tableOut["Value"], "Ref") != ct.tableID {
		t.Errorf("DoNotCallTableName output = %v", tableOut)
	}
}

func stringsOf(l []any) []string {
	out := make([]string, 0, len(l))
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
