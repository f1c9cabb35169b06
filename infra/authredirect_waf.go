package main

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
)

// The optional AWS WAF front of the auth redirect. AWS WAF cannot protect an API Gateway HTTP
// API (its protected resource types list REST APIs, not HTTP APIs:
// https://docs.aws.amazon.com/waf/latest/APIReference/Welcome.html), so the option puts a
// CloudFront distribution in front of the API and attaches a CLOUDFRONT-scoped web ACL to it.
// Such a web ACL must be created in us-east-1
// (https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html): the
// stack creates one only when it deploys to us-east-1, and elsewhere takes the ARN of one you
// created there. CloudFront adds a secret header to every request it forwards, and the function
// refuses requests without it, so the API's own URL cannot be used to go around the WAF.
const (
	// keyAuthWafRateLimit (requests per 5 minutes per client address) creates the web ACL
	// with a rate-based rule that blocks a client over the limit, and the distribution.
	keyAuthWafRateLimit = "authWafRateLimit"
	// keyAuthWafWebACLArn attaches an existing CLOUDFRONT web ACL (in us-east-1) instead.
	keyAuthWafWebACLArn = "authWafWebAclArn"
	// The rate-based rule's bounds. AWS WAF's documented minimum has been 100 and later 10:
	// take the higher. The window is WAF's default, 5 minutes.
	minAuthWafRateLimit  = 100
	maxAuthWafRateLimit  = 2_000_000_000
	authWafWindowSeconds = 300
	authWafRegion        = "us-east-1"
)

// cloudFrontWebACLArn is the ARN of a CLOUDFRONT-scoped web ACL (WAFV2, "global" in us-east-1).
var cloudFrontWebACLArn = regexp.MustCompile(`^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]{1,128}/[a-f0-9-]{36}$`)

type authWafSettings struct {
	rateLimit int    // 0: create no web ACL
	webACLArn string // an existing web ACL
}

func (w authWafSettings) enabled() bool { return w.rateLimit > 0 || w.webACLArn != "" }

// authWafSettings reads and checks the optional WAF keys.
func (s *switchboardStack) authWafSettings() (authWafSettings, error) {
	var out authWafSettings
	switch v := s.Stack.Node().TryGetContext(jsii.String(keyAuthWafRateLimit)).(type) {
	case nil:
	case string, float64:
		if v == "" {
			break // an empty -c value counts as unset, as for every key
		}
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil || n < minAuthWafRateLimit || n > maxAuthWafRateLimit {
			return out, fmt.Errorf("context %q: %v must be a whole number of requests per 5 minutes per client address, %d to %d, e.g. -c %s=300",
				keyAuthWafRateLimit, v, minAuthWafRateLimit, maxAuthWafRateLimit, keyAuthWafRateLimit)
		}
		out.rateLimit = n
	default:
		return out, fmt.Errorf("context %q must be a number, got %T", keyAuthWafRateLimit, v)
	}
	if v, _ := s.Stack.Node().TryGetContext(jsii.String(keyAuthWafWebACLArn)).(string); v != "" {
		if !cloudFrontWebACLArn.MatchString(v) {
			return out, fmt.Errorf("context %q: %q is not the ARN of a CLOUDFRONT-scoped web ACL (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)", keyAuthWafWebACLArn, v)
		}
		out.webACLArn = v
	}
	switch {
	case out.rateLimit > 0 && out.webACLArn != "":
		return out, fmt.Errorf("context %q and %q are exclusive: the first creates a web ACL, the second attaches yours", keyAuthWafRateLimit, keyAuthWafWebACLArn)
	case out.rateLimit > 0 && s.settings.Region != authWafRegion:
		return out, fmt.Errorf("context %q: AWS WAF creates CloudFront web ACLs only in %s, and this stack deploys to %s; create the web ACL (a rate-based rule on the client IP) in %s and pass its ARN with -c %s=<arn>",
			keyAuthWafRateLimit, authWafRegion, s.settings.Region, authWafRegion, keyAuthWafWebACLArn)
	}
	return out, nil
}

// createAuthRedirectWAF puts a CloudFront distribution with the web ACL in front of api and
// returns the distribution's base URL (https://<id>.cloudfront.net), the callback's new origin.
func (s *switchboardStack) createAuthRedirectWAF(w authWafSettings, api awsapigatewayv2.HttpApi, fn awslambda.Function) *string {
	webACL := w.webACLArn
	if w.rateLimit > 0 {
		visibility := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
			return &awswafv2.CfnWebACL_VisibilityConfigProperty{
				CloudWatchMetricsEnabled: jsii.Bool(true),
				MetricName:               jsii.String(name),
				SampledRequestsEnabled:   jsii.Bool(true),
			}
		}
		acl := awswafv2.NewCfnWebACL(s.Stack, jsii.String("AuthRedirectWebAcl"), &awswafv2.CfnWebACLProps{
			Scope:            jsii.String("CLOUDFRONT"),
			Description:      jsii.String("Switchboard chat sign-in: per-client rate limit"),
			DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
			VisibilityConfig: visibility("SwitchboardAuthRedirect"),
			Rules: &[]interface{}{&awswafv2.CfnWebACL_RuleProperty{
				Name:     jsii.String("rate-per-client-ip"),
				Priority: jsii.Number(0),
				Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{}},
				Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
					Limit:               jsii.Number(float64(w.rateLimit)),
					AggregateKeyType:    jsii.String("IP"),
					EvaluationWindowSec: jsii.Number(authWafWindowSeconds),
				}},
				VisibilityConfig: visibility("SwitchboardAuthRedirectRatePerClientIp"),
			}},
		})
		webACL = *acl.AttrArn()
	}

	// The secret CloudFront sends and the function checks. CloudFormation resolves the
	// dynamic reference in both places at deploy time; the value shows in the distribution's
	// and the function's configuration, never in the template.
	secret := awssecretsmanager.NewSecret(s.Stack, jsii.String("AuthRedirectOriginSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Switchboard chat sign-in: header value CloudFront adds, so that the function refuses requests around the WAF"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(48),
			ExcludePunctuation: jsii.Bool(true),
		},
	})
	suppressNag(secret, "AwsSolutions-SMG4", "The value is no credential to a service: it only shows the function that a request came through CloudFront. CloudFormation resolves it into the distribution's origin header and the function's environment at deploy time, so a rotation in Secrets Manager would change neither; a redeploy after changing the secret updates both together")
	secretValue := secret.SecretValue().UnsafeUnwrap()
	fn.AddEnvironment(jsii.String(authredirect.EnvOriginSecret), secretValue, nil)

	// https://<api-id>.execute-api.<region>.amazonaws.com -> the host.
	apiHost := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), api.ApiEndpoint(), nil))
	dist := awscloudfront.NewDistribution(s.Stack, jsii.String("AuthRedirectDistribution"), &awscloudfront.DistributionProps{
		Comment: jsii.String("Switchboard chat sign-in (" + authCallbackPath + ") behind AWS WAF"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin: awscloudfrontorigins.NewHttpOrigin(apiHost, &awscloudfrontorigins.HttpOriginProps{
				ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
				CustomHeaders:  &map[string]*string{authredirect.OriginVerifyHeader: secretValue},
			}),
			// GET (the page) and POST (its completion); nothing is cached, and the query,
			// the body and every header but Host reach the API.
			AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
			CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
			OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
		},
		WebAclId: jsii.String(webACL),
	})
	suppressNag(dist, "AwsSolutions-CFR1", "Chat customers sign in from wherever the deployer's customers are; which countries to refuse is the deployer's decision, which they can make in the web ACL")
	suppressNag(dist, "AwsSolutions-CFR3", "CloudFront access logs always record the query string (cs-uri-query), and the callback's query holds the OAuth authorization code and state, which must never be logged in clear. Every request CloudFront forwards is logged by the HTTP API's access log, whose format leaves the query out; requests the web ACL blocks show in its CloudWatch metrics")
	suppressNag(dist, "AwsSolutions-CFR4", "The distribution uses its *.cloudfront.net name and CloudFront's default certificate, for which CloudFront sets the security policy to TLSv1 whatever MinimumProtocolVersion says; a stricter policy needs a custom domain with an ACM certificate, which the stack does not take")
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), dist.DistributionDomainName()})
}
