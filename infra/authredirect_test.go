package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/authstate"
)

const testChatOrigin = "https://chat.example.com"

// authTemplate is a synthesized stack with the auth redirect's resources found by logical ID.
type authTemplate struct {
	synthesized
	fnID, roleID, tableID string
	fn                    map[string]any
}

func synthAuthRedirect(t *testing.T, extra map[string]any) authTemplate {
	t.Helper()
	ctx := map[string]any{keyChatOrigin: testChatOrigin}
	for k, v := range extra {
		ctx[k] = v
	}
	s := synth(t, ctx)
	at := authTemplate{synthesized: s}
	at.fnID, at.fn = onlyResource(t, s, "AWS::Lambda::Function", "AuthRedirectFunction")
	at.tableID, _ = onlyResource(t, s, "AWS::DynamoDB::Table", "AuthStateTable")
	role, _ := at.fn["Role"].(map[string]any)
	getAtt, _ := role["Fn::GetAtt"].([]any)
	if len(getAtt) != 2 {
		t.Fatalf("function role %v is not a GetAtt", at.fn["Role"])
	}
	at.roleID, _ = getAtt[0].(string)
	return at
}

// onlyResource returns the one resource of typ whose logical ID starts with prefix.
func onlyResource(t *testing.T, s synthesized, typ, prefix string) (string, map[string]any) {
	t.Helper()
	var ids []string
	var props map[string]any
	for id, p := range s.resourcesOfType(typ) {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
			props = p
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%d %s resources named %s*: %v", len(ids), typ, prefix, ids)
	}
	return ids[0], props
}

// authPolicyStatements returns every statement of the IAM policies attached to role.
func authPolicyStatements(t *testing.T, s synthesized, roleID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, props := range s.resourcesOfType("AWS::IAM::Policy") {
		roles, _ := props["Roles"].([]any)
		attached := false
		for _, r := range roles {
			if m, _ := r.(map[string]any); m["Ref"] == roleID {
				attached = true
			}
		}
		if !attached {
			continue
		}
		doc, _ := props["PolicyDocument"].(map[string]any)
		for _, st := range asList(doc["Statement"]) {
			m, _ := st.(map[string]any)
			out = append(out, m)
		}
	}
	return out
}

func strList(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		} else {
			b, _ := json.Marshal(x)
			out = append(out, string(b))
		}
	}
	sort.Strings(out)
	return out
}

func TestAuthRedirectIsLeftOutWithoutChatOrigin(t *testing.T) {
	s := synth(t, nil)
	for id := range s.resourcesOfType("AWS::Lambda::Function") {
		if strings.HasPrefix(id, "AuthRedirect") {
			t.Fatalf("auth redirect function %s created without a chat origin", id)
		}
	}
	if len(s.resourcesOfType("AWS::ApiGatewayV2::Api")) != 0 {
		t.Fatal("HTTP API created without a chat origin")
	}
	var warned bool
	for _, e := range *s.Stack.Node().Metadata() {
		if e.Type != nil && *e.Type == "aws:cdk:warning" && strings.Contains(jsonString(e.Data), keyChatOrigin) {
			warned = true
		}
	}
	if !warned {
		t.Fatal("no warning saying how to enable the auth redirect")
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAuthRedirectFunction(t *testing.T) {
	at := synthAuthRedirect(t, nil)
	fn := at.fn
	if fn["Runtime"] != "provided.al2023" || fn["Handler"] != "bootstrap" || !reflect.DeepEqual(fn["Architectures"], []any{"arm64"}) {
		t.Errorf("runtime %v handler %v architectures %v", fn["Runtime"], fn["Handler"], fn["Architectures"])
	}
	if fn["Timeout"] != float64(authRedirectTimeout.Seconds()) || fn["MemorySize"] != float64(authRedirectMemoryMB) {
		t.Errorf("timeout %v memory %v", fn["Timeout"], fn["MemorySize"])
	}
	env, _ := fn["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	want := map[string]any{
		authredirect.EnvInstanceID: "11111111-2222-4333-8444-555555555555",
		authredirect.EnvChatOrigin: testChatOrigin,
		authredirect.EnvStateTable: map[string]any{"Ref": at.tableID},
		authredirect.EnvStateTTL:   authStateTTL,
		authredirect.EnvCallBudget: authRedirectBudget,
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("environment = %v, want %v", vars, want)
	}
	// What the template sets must be what the function accepts at start-up.
	cfg, err := authredirect.ConfigFromEnv(func(k string) string {
		if s, ok := want[k].(string); ok {
			return s
		}
		if k == authredirect.EnvStateTable {
			return "a-table" // a Ref in the template
		}
		return ""
	})
	if err != nil {
		t.Errorf("the function would refuse this environment: %v", err)
	}
	if cfg.CallBudget.Total.Seconds()+2 > authRedirectTimeout.Seconds() {
		t.Errorf("budget %s leaves no room in the %s timeout", cfg.CallBudget.Total, authRedirectTimeout)
	}
}

func TestAuthRedirectStateTable(t *testing.T) {
	at := synthAuthRedirect(t, nil)
	table := at.resourcesOfType("AWS::DynamoDB::Table")[at.tableID]
	if !reflect.DeepEqual(table["KeySchema"], []any{map[string]any{"AttributeName": authstate.AttrStateHash, "KeyType": "HASH"}}) {
		t.Errorf("key schema %v", table["KeySchema"])
	}
	if !reflect.DeepEqual(table["AttributeDefinitions"], []any{map[string]any{"AttributeName": authstate.AttrStateHash, "AttributeType": "S"}}) {
		t.Errorf("attribute definitions %v", table["AttributeDefinitions"])
	}
	if table["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("billing mode %v", table["BillingMode"])
	}
	if !reflect.DeepEqual(table["TimeToLiveSpecification"], map[string]any{"AttributeName": authstate.AttrExpiresAt, "Enabled": true}) {
		t.Errorf("TTL %v, want %s enabled", table["TimeToLiveSpecification"], authstate.AttrExpiresAt)
	}
}

// The function may call exactly one Connect action, on this instance, and only claim and
// release items of its own table.
func TestAuthRedirectIAMIsLeastPrivilege(t *testing.T) {
	at := synthAuthRedirect(t, nil)
	requireNoIAMWildcards(t, at.JSON)

	var connectActions, dynamoActions []string
	for _, st := range authPolicyStatements(t, at.synthesized, at.roleID) {
		if st["Effect"] != "Allow" {
			continue
		}
		actions := strList(st["Action"])
		resources := asList(st["Resource"])
		for _, a := range actions {
			switch {
			case strings.HasPrefix(a, "connect:"):
				connectActions = append(connectActions, a)
				if !reflect.DeepEqual(resources, []any{testInstanceARN}) {
					t.Errorf("%s on %v, want only the instance %s", a, st["Resource"], testInstanceARN)
				}
			case strings.HasPrefix(a, "dynamodb:"):
				dynamoActions = append(dynamoActions, a)
				for _, r := range resources {
					if !strings.Contains(jsonString(r), at.tableID) {
						t.Errorf("%s on %s, want only the state table %s", a, jsonString(r), at.tableID)
					}
				}
			case strings.HasPrefix(a, "logs:"):
			default:
				t.Errorf("unexpected action %s", a)
			}
		}
	}
	sort.Strings(dynamoActions)
	if !reflect.DeepEqual(connectActions, []string{"connect:UpdateParticipantAuthentication"}) {
		t.Errorf("connect actions %v, want only UpdateParticipantAuthentication", connectActions)
	}
	if !reflect.DeepEqual(dynamoActions, []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}) {
		t.Errorf("dynamodb actions %v, want PutItem, DeleteItem and GetItem", dynamoActions)
	}
}

func TestAuthRedirectHTTPAPI(t *testing.T) {
	at := synthAuthRedirect(t, nil)
	apiID, api := onlyResource(t, at.synthesized, "AWS::ApiGatewayV2::Api", "AuthRedirectApi")
	if api["ProtocolType"] != "HTTP" {
		t.Errorf("protocol %v", api["ProtocolType"])
	}

	// GET serves the confirmation page, POST is its completion, POST /auth/start the chat
	// page's binding (issue 8 item 7); nothing else.
	routes := at.resourcesOfType("AWS::ApiGatewayV2::Route")
	var keys []string
	for _, r := range routes {
		keys = append(keys, fmt.Sprint(r["RouteKey"]))
	}
	sort.Strings(keys)
	if want := []string{"GET " + authCallbackPath, "POST " + authCallbackPath, "POST " + authredirect.StartPath}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("route keys %v, want %v", keys, want)
	}
	for _, r := range routes {
		if r["AuthorizationType"] != nil && r["AuthorizationType"] != "NONE" {
			t.Errorf("authorization %v: Cognito redirects an anonymous browser here", r["AuthorizationType"])
		}
	}
	integrations := at.resourcesOfType("AWS::ApiGatewayV2::Integration")
	if len(integrations) != 1 {
		t.Fatalf("integrations %v", keysOf(integrations))
	}
	for _, in := range integrations {
		if in["IntegrationType"] != "AWS_PROXY" || in["PayloadFormatVersion"] != "2.0" || !strings.Contains(jsonString(in["IntegrationUri"]), at.fnID) {
			t.Errorf("integration %v", in)
		}
	}

	_, stage := onlyResource(t, at.synthesized, "AWS::ApiGatewayV2::Stage", "AuthRedirectStage")
	if stage["StageName"] != "$default" || stage["AutoDeploy"] != true || stage["ApiId"].(map[string]any)["Ref"] != apiID {
		t.Errorf("stage %v", stage)
	}
	rs, _ := stage["DefaultRouteSettings"].(map[string]any)
	if rs["ThrottlingRateLimit"] != float64(authRedirectRateLimit) || rs["ThrottlingBurstLimit"] != float64(authRedirectBurstLimit) {
		t.Errorf("throttling %v", rs)
	}

	logs, _ := stage["AccessLogSettings"].(map[string]any)
	logGroupID, logGroup := onlyResource(t, at.synthesized, "AWS::Logs::LogGroup", "AuthRedirectAccessLogs")
	// Issue 8 item 12: access logs hold client addresses; a week, not a month.
	if logGroup["RetentionInDays"] != float64(7) {
		t.Errorf("access log retention %v days, want 7", logGroup["RetentionInDays"])
	}
	if !strings.Contains(jsonString(logs["DestinationArn"]), logGroupID) {
		t.Errorf("access logs go to %v, want %s", logs["DestinationArn"], logGroupID)
	}
	format, _ := logs["Format"].(string)
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Fatalf("access log format is not one JSON object: %q", format)
	}
	if fields["requestId"] != "$context.requestId" || fields["routeKey"] != "$context.routeKey" || fields["status"] != "$context.status" {
		t.Errorf("access log format %v lacks request ID, route or status", fields)
	}
	// Nothing that can hold the query string (code and state) is logged.
	for _, banned := range []string{"querystring", "rawquery", "$request.", "requestoverride", "$context.identity.useragent"} {
		if strings.Contains(strings.ToLower(format), banned) {
			t.Errorf("access log format logs %s: %s", banned, format)
		}
	}

	// API Gateway, and only this API, may invoke the function: one permission per route.
	var invokers int
	for _, p := range at.resourcesOfType("AWS::Lambda::Permission") {
		if !strings.Contains(jsonString(p["FunctionName"]), at.fnID) {
			continue
		}
		invokers++
		if p["Principal"] != "apigateway.amazonaws.com" || !strings.Contains(jsonString(p["SourceArn"]), apiID) {
			t.Errorf("permission %v", p)
		}
	}
	if invokers != len(routes) {
		t.Errorf("%d invoke permissions on the function, want one per route (%d)", invokers, len(routes))
	}
}

func TestAuthRedirectCallbackURLOutput(t *testing.T) {
	at := synthAuthRedirect(t, nil)
	outputs, _ := at.JSON["Outputs"].(map[string]any)
	out, _ := outputs["AuthCallbackUrl"].(map[string]any)
	v := jsonString(out["Value"])
	apiID, _ := onlyResource(t, at.synthesized, "AWS::ApiGatewayV2::Api", "AuthRedirectApi")
	if !strings.Contains(v, apiID) || !strings.Contains(v, `"`+authCallbackPath+`"`) {
		t.Fatalf("AuthCallbackUrl = %s, want the API endpoint joined with %s", v, authCallbackPath)
	}
	if len(at.resourcesOfType("AWS::Cognito::UserPool")) != 0 {
		t.Fatal("a user pool was created without -c authCognito=true")
	}
}

func TestAuthRedirectOptionalCognito(t *testing.T) {
	at := synthAuthRedirect(t, map[string]any{keyAuthCognito: "true"})
	poolID, _ := onlyResource(t, at.synthesized, "AWS::Cognito::UserPool", "AuthUserPool")
	_, client := onlyResource(t, at.synthesized, "AWS::Cognito::UserPoolClient", "AuthUserPool")
	if client["GenerateSecret"] != false {
		t.Errorf("GenerateSecret %v, want false", client["GenerateSecret"])
	}
	if !reflect.DeepEqual(client["AllowedOAuthFlows"], []any{"code"}) || client["AllowedOAuthFlowsUserPoolClient"] != true {
		t.Errorf("OAuth flows %v", client["AllowedOAuthFlows"])
	}
	if !reflect.DeepEqual(client["SupportedIdentityProviders"], []any{"COGNITO"}) {
		t.Errorf("identity providers %v", client["SupportedIdentityProviders"])
	}
	apiID, _ := onlyResource(t, at.synthesized, "AWS::ApiGatewayV2::Api", "AuthRedirectApi")
	callbacks := asList(client["CallbackURLs"])
	if len(callbacks) != 1 || !strings.Contains(jsonString(callbacks[0]), apiID) || !strings.Contains(jsonString(callbacks[0]), authCallbackPath) {
		t.Errorf("callback URLs %s, want only the endpoint's %s", jsonString(client["CallbackURLs"]), authCallbackPath)
	}
	if !strings.Contains(jsonString(client["UserPoolId"]), poolID) {
		t.Errorf("client of pool %v", client["UserPoolId"])
	}
	// Issue 8 item 12: the default prefix is public (<prefix>.auth.<region>.amazoncognito.com)
	// and must not disclose the account: the stack name and 12 hex digits of the stack's UUID.
	_, domain := onlyResource(t, at.synthesized, "AWS::Cognito::UserPoolDomain", "AuthUserPool")
	wantDomain := `{"Fn::Join":["-",["switchboard",{"Fn::Select":[4,{"Fn::Split":["-",{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}]}]}]]}`
	if got := jsonString(domain["Domain"]); got != wantDomain {
		t.Errorf("domain prefix %s, want %s", got, wantDomain)
	}
	if d := jsonString(domain["Domain"]); strings.Contains(d, "123456789012") || strings.Contains(d, "AWS::AccountId") {
		t.Errorf("domain prefix %s holds the account ID", d)
	}
	outputs, _ := at.JSON["Outputs"].(map[string]any)
	for _, o := range []string{"AuthCallbackUrl", "AuthUserPoolId", "AuthUserPoolClientId", "AuthHostedDomainUrl"} {
		if _, ok := outputs[o]; !ok {
			t.Errorf("no %s output", o)
		}
	}
	requireNoIAMWildcards(t, at.JSON)

	custom := synthAuthRedirect(t, map[string]any{keyAuthCognito: true, keyAuthCognitoDomain: "acme-chat-signin"})
	if _, d := onlyResource(t, custom.synthesized, "AWS::Cognito::UserPoolDomain", "AuthUserPool"); d["Domain"] != "acme-chat-signin" {
		t.Errorf("domain prefix %v, want acme-chat-signin", d["Domain"])
	}
}

// Bad Cognito settings fail the synth with one readable line naming the key.
func TestAuthRedirectCognitoSettingsErrors(t *testing.T) {
	for _, tt := range []struct {
		ctx  map[string]any
		want string
	}{
		{map[string]any{keyAuthCognito: "yes"}, keyAuthCognito},
		{map[string]any{keyAuthCognito: "true", keyAuthCognitoDomain: "Has_Caps"}, keyAuthCognitoDomain},
		{map[string]any{keyAuthCognito: "true", keyAuthCognitoDomain: "my-aws-login"}, keyAuthCognitoDomain},
		{map[string]any{keyAuthCognitoDomain: "acme"}, keyAuthCognito},
		// The default prefix starts with the stack name, which must pass Cognito's rules too.
		{map[string]any{keyAuthCognito: "true", keyStackName: "AwsChat"}, keyAuthCognitoDomain},
	} {
		errs := authSynthErrors(t, tt.ctx)
		if len(errs) != 1 || !strings.Contains(errs[0], tt.want) {
			t.Errorf("%v: errors %q, want one naming %s", tt.ctx, errs, tt.want)
		}
	}
}

func keysOf(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Issue 8 item 12: alarms on the error and retry rates of completions, from metric filters on
// the function's own log group, and on failed invocations.
func TestAuthRedirectAlarms(t *testing.T) {
	at := synthAuthRedirect(t, nil)
	logGroupID, _ := onlyResource(t, at.synthesized, "AWS::Logs::LogGroup", "AuthRedirectFunctionLogs")
	filters := map[string]string{} // metric name -> pattern
	for id, f := range at.resourcesOfType("AWS::Logs::MetricFilter") {
		if jsonString(f["LogGroupName"]) != `{"Ref":"`+logGroupID+`"}` {
			t.Errorf("metric filter %s is on %s, want the function's log group", id, jsonString(f["LogGroupName"]))
		}
		tr := asList(f["MetricTransformations"])
		if len(tr) != 1 {
			t.Fatalf("metric filter %s: transformations %v", id, tr)
		}
		m, _ := tr[0].(map[string]any)
		if m["MetricNamespace"] != authMetricNamespace || m["MetricValue"] != "1" || m["DefaultValue"] != float64(0) {
			t.Errorf("metric filter %s: %v", id, m)
		}
		filters[m["MetricName"].(string)], _ = f["FilterPattern"].(string)
	}
	want := map[string]string{
		"Completions":  `{ $.step = "complete" }`,
		"ServerErrors": `{ $.step = "complete" && $.status >= 500 && $.outcome != "retry" }`,
		"Retries":      `{ $.step = "complete" && $.outcome = "retry" }`,
	}
	if !reflect.DeepEqual(filters, want) {
		t.Errorf("metric filters %v, want %v", filters, want)
	}

	alarms := at.resourcesOfType("AWS::CloudWatch::Alarm")
	for id := range alarms {
		if !strings.HasPrefix(id, "AuthRedirect") { // other capabilities' alarms (the dialer's)
			delete(alarms, id)
		}
	}
	if len(alarms) != 3 {
		t.Fatalf("alarms %v, want error rate, retry rate and function errors", keysOf(alarms))
	}
	rates := map[string]float64{} // the counted metric's name -> threshold
	var functionErrors bool
	for id, a := range alarms {
		if a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || a["EvaluationPeriods"] != float64(1) || a["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: %v", id, a)
		}
		if a["MetricName"] == "Errors" && a["Namespace"] == "AWS/Lambda" {
			functionErrors = a["Threshold"] == float64(1) && a["Period"] == float64(300) && strings.Contains(jsonString(a["Dimensions"]), at.fnID)
			continue
		}
		var expr string
		counted := ""
		for _, q := range asList(a["Metrics"]) {
			m, _ := q.(map[string]any)
			if e, ok := m["Expression"].(string); ok {
				expr = e
			}
			if m["Id"] == "n" {
				stat, _ := m["MetricStat"].(map[string]any)
				metric, _ := stat["Metric"].(map[string]any)
				counted, _ = metric["MetricName"].(string)
				if metric["Namespace"] != authMetricNamespace || stat["Stat"] != "Sum" || stat["Period"] != float64(300) {
					t.Errorf("alarm %s counts %v", id, stat)
				}
			}
		}
		if expr != "IF(c >= 5, 100 * n / c, 0)" {
			t.Errorf("alarm %s expression %q", id, expr)
		}
		rates[counted], _ = a["Threshold"].(float64)
	}
	if !reflect.DeepEqual(rates, map[string]float64{"ServerErrors": authErrorRatePercent, "Retries": authRetryRatePercent}) {
		t.Errorf("rate alarms %v", rates)
	}
	if !functionErrors {
		t.Error("no alarm on the function's Errors (>= 1 in 5 minutes)")
	}
}

// authSynthErrors builds the app with the auth redirect enabled and extra context, and returns
// the stack's error annotations (what `cdk synth` would stop on).
func authSynthErrors(t *testing.T, extra map[string]any) []string {
	t.Helper()
	ctx := map[string]any{keyInstanceARN: testInstanceARN, keyAssetsDir: fakeAssets(t), keyChatOrigin: testChatOrigin}
	for k, v := range extra {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
	stack, err := buildApp(app)
	if err != nil {
		t.Fatalf("%v: buildApp: %v", extra, err)
	}
	return errorAnnotations(stack)
}
