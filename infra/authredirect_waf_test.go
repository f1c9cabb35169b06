package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
)

// Issue 8 item 12: the optional per-client rate limit. AWS WAF cannot be attached to an HTTP API,
// so the option is a CloudFront distribution with a CLOUDFRONT web ACL in front of it, and a
// secret header that lets the function refuse requests that went around it.

func TestAuthRedirectWithoutWafHasNoCDN(t *testing.T) {
	at := synthAuthRedirect(t, nil)
	for _, typ := range []string{"AWS::CloudFront::Distribution", "AWS::WAFv2::WebACL", "AWS::SecretsManager::Secret"} {
		if n := len(at.resourcesOfType(typ)); n != 0 {
			t.Errorf("%d %s without -c %s", n, typ, keyAuthWafRateLimit)
		}
	}
	env, _ := at.fn["Environment"].(map[string]any)
	if vars, _ := env["Variables"].(map[string]any); vars[authredirect.EnvOriginSecret] != nil {
		t.Errorf("%s set without the CDN", authredirect.EnvOriginSecret)
	}
}

func TestAuthRedirectWafRateLimit(t *testing.T) {
	at := synthAuthRedirect(t, map[string]any{keyAuthWafRateLimit: "300"}) // us-east-1
	aclID, acl := onlyResource(t, at.synthesized, "AWS::WAFv2::WebACL", "AuthRedirectWebAcl")
	if acl["Scope"] != "CLOUDFRONT" || jsonString(acl["DefaultAction"]) != `{"Allow":{}}` {
		t.Errorf("web ACL %v", acl)
	}
	rules := asList(acl["Rules"])
	if len(rules) != 1 {
		t.Fatalf("rules %v", rules)
	}
	rule, _ := rules[0].(map[string]any)
	stmt, _ := rule["Statement"].(map[string]any)
	rate, _ := stmt["RateBasedStatement"].(map[string]any)
	if rate["Limit"] != float64(300) || rate["AggregateKeyType"] != "IP" || rate["EvaluationWindowSec"] != float64(300) ||
		jsonString(rule["Action"]) != `{"Block":{}}` {
		t.Errorf("rule %v", rule)
	}

	_, dist := onlyResource(t, at.synthesized, "AWS::CloudFront::Distribution", "AuthRedirectDistribution")
	cfg, _ := dist["DistributionConfig"].(map[string]any)
	if jsonString(cfg["WebACLId"]) != `{"Fn::GetAtt":["`+aclID+`","Arn"]}` {
		t.Errorf("distribution web ACL %s, want the stack's", jsonString(cfg["WebACLId"]))
	}
	beh, _ := cfg["DefaultCacheBehavior"].(map[string]any)
	methods := strList(beh["AllowedMethods"])
	if !reflect.DeepEqual(methods, []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}) {
		t.Errorf("allowed methods %v: the page's POST must pass", methods)
	}
	// CloudFront's managed policies: CachingDisabled, AllViewerExceptHostHeader.
	if beh["CachePolicyId"] != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" || beh["OriginRequestPolicyId"] != "b689b0a8-53d0-40ab-baf2-68738e2966ac" ||
		beh["ViewerProtocolPolicy"] != "https-only" {
		t.Errorf("behavior %v", beh)
	}
	origins := asList(cfg["Origins"])
	if len(origins) != 1 {
		t.Fatalf("origins %v", origins)
	}
	origin, _ := origins[0].(map[string]any)
	apiID, _ := onlyResource(t, at.synthesized, "AWS::ApiGatewayV2::Api", "AuthRedirectApi")
	if d := jsonString(origin["DomainName"]); !strings.Contains(d, apiID) || !strings.Contains(d, `"Fn::Split":["/"`) {
		t.Errorf("origin domain %s, want the API's host", d)
	}
	if co, _ := origin["CustomOriginConfig"].(map[string]any); co["OriginProtocolPolicy"] != "https-only" {
		t.Errorf("origin %v", co)
	}
	secretID, _ := onlyResource(t, at.synthesized, "AWS::SecretsManager::Secret", "AuthRedirectOriginSecret")
	var header string
	for _, h := range asList(origin["OriginCustomHeaders"]) {
		m, _ := h.(map[string]any)
		if m["HeaderName"] == authredirect.OriginVerifyHeader {
			header = jsonString(m["HeaderValue"])
		}
	}
	if !strings.Contains(header, "{{resolve:secretsmanager:") || !strings.Contains(header, secretID) {
		t.Errorf("origin header %s %s, want a dynamic reference to the secret", authredirect.OriginVerifyHeader, header)
	}
	env, _ := at.fn["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if got := jsonString(vars[authredirect.EnvOriginSecret]); got != header {
		t.Errorf("function %s = %s, want the same reference as the header (%s)", authredirect.EnvOriginSecret, got, header)
	}

	// The callback (output, and the Cognito client's with authCognito) is the distribution's.
	outputs, _ := at.JSON["Outputs"].(map[string]any)
	out, _ := outputs["AuthCallbackUrl"].(map[string]any)
	distID, _ := onlyResource(t, at.synthesized, "AWS::CloudFront::Distribution", "AuthRedirectDistribution")
	if v := jsonString(out["Value"]); !strings.Contains(v, distID) || strings.Contains(v, apiID) {
		t.Errorf("AuthCallbackUrl = %s, want the distribution's domain", v)
	}
	requireNoIAMWildcards(t, at.JSON)
}

func TestAuthRedirectWafExistingWebACL(t *testing.T) {
	const arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/chat-limits/0123abcd-0123-4567-89ab-0123456789ab"
	at := synthAuthRedirect(t, map[string]any{keyAuthWafWebACLArn: arn,
		keyInstanceARN: "arn:aws:connect:eu-west-2:123456789012:instance/11111111-2222-4333-8444-555555555555"})
	if n := len(at.resourcesOfType("AWS::WAFv2::WebACL")); n != 0 {
		t.Errorf("%d web ACLs created with an existing one given", n)
	}
	_, dist := onlyResource(t, at.synthesized, "AWS::CloudFront::Distribution", "AuthRedirectDistribution")
	cfg, _ := dist["DistributionConfig"].(map[string]any)
	if cfg["WebACLId"] != arn {
		t.Errorf("web ACL %v, want %s", cfg["WebACLId"], arn)
	}
}

func TestAuthRedirectWafSettingsErrors(t *testing.T) {
	const otherRegion = "arn:aws:connect:eu-west-2:123456789012:instance/11111111-2222-4333-8444-555555555555"
	for _, tt := range []struct {
		ctx  map[string]any
		want []string
	}{
		{map[string]any{keyAuthWafRateLimit: "50"}, []string{keyAuthWafRateLimit, "100"}},
		{map[string]any{keyAuthWafRateLimit: "lots"}, []string{keyAuthWafRateLimit}},
		{map[string]any{keyAuthWafRateLimit: 300.5}, []string{keyAuthWafRateLimit}},
		{map[string]any{keyAuthWafRateLimit: true}, []string{keyAuthWafRateLimit}},
		{map[string]any{keyAuthWafRateLimit: "300", keyInstanceARN: otherRegion}, []string{keyAuthWafRateLimit, "us-east-1", "eu-west-2", keyAuthWafWebACLArn}},
		{map[string]any{keyAuthWafWebACLArn: "arn:aws:wafv2:eu-west-2:123456789012:regional/webacl/x/0123abcd-0123-4567-89ab-0123456789ab"}, []string{keyAuthWafWebACLArn, "CLOUDFRONT"}},
		{map[string]any{keyAuthWafRateLimit: "300", keyAuthWafWebACLArn: "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/0123abcd-0123-4567-89ab-0123456789ab"}, []string{"exclusive"}},
	} {
		errs := authSynthErrors(t, tt.ctx)
		if len(errs) != 1 {
			t.Errorf("%v: errors %q, want one", tt.ctx, errs)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(errs[0], w) {
				t.Errorf("%v: error %q does not say %s", tt.ctx, errs[0], w)
			}
		}
	}
}
