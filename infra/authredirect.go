package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/authstate"
)

// Context keys of the auth redirect capability, read here rather than in Settings because
// only this capability uses them. Both are optional.
const (
	// keyAuthCognito ("true") also creates a Cognito user pool, an app client without a secret
	// whose callback is this endpoint, and a hosted sign-in domain. Off by default: most
	// deployers bring their own user pool.
	keyAuthCognito = "authCognito"
	// keyAuthCognitoDomain is the hosted domain prefix (<prefix>.auth.<region>.amazoncognito.com);
	// by default "<stack name>-<12 hex digits of the stack's random UUID>", lowercased: unique
	// per stack, and without the account ID, which a public domain name would disclose.
	keyAuthCognitoDomain = "authCognitoDomainPrefix"
)

// Auth redirect function settings.
const (
	// The customer waits on a blank popup: the function answers within its call budget (3 s)
	// plus the state claim; the timeout only catches a stuck runtime.
	authRedirectTimeout  = 10 * time.Second
	authRedirectMemoryMB = 256
	authRedirectBudget   = "3s"
	authStateTTL         = "15m"
	// authCallbackPath is the route Cognito redirects to.
	authCallbackPath = "/auth/callback"
	// Sign-ins are paced by people: a few per second is plenty, and the cap keeps a flood of
	// forged callbacks from reaching Connect's shared API quota.
	authRedirectRateLimit  = 10
	authRedirectBurstLimit = 20
	// authAccessLogRetention is how long the API's access logs are kept.
	authAccessLogRetention = awslogs.RetentionDays_ONE_WEEK
)

// authAccessLogFormat is one JSON line per request. It never has the query string, which holds
// the code and the state: $context.routeKey and $context.path carry no query.
var authAccessLogFormat = func() string {
	b, err := json.Marshal(map[string]string{
		"requestId":        "$context.requestId",
		"requestTime":      "$context.requestTimeEpoch",
		"routeKey":         "$context.routeKey",
		"path":             "$context.path",
		"status":           "$context.status",
		"responseLength":   "$context.responseLength",
		"responseLatency":  "$context.responseLatency",
		"integrationError": "$context.integrationErrorMessage",
		"sourceIp":         "$context.identity.sourceIp",
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// cognitoDomainPrefix is Cognito's rule for a hosted domain prefix.
var cognitoDomainPrefix = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// authRedirectResources are what the capability creates.
type authRedirectResources struct {
	Function   awslambda.Function
	StateTable awsdynamodb.Table
	API        awsapigatewayv2.HttpApi
}

// createAuthRedirect adds the endpoint Amazon Cognito redirects the chat customer's browser
// to: an HTTP API with GET /auth/callback, the function behind it, the table of used states,
// and optionally a Cognito user pool for it. It needs the chat widget's origin (-c chatOrigin):
// without it the capability is left out with a warning, since the page could not tell the
// widget anything.
func (s *switchboardStack) createAuthRedirect() *authRedirectResources {
	if s.settings.ChatOrigin == "" {
		awscdk.Annotations_Of(s.Stack).AddWarningV2(jsii.String("switchboard:authRedirectDisabled"), jsii.String(fmt.Sprintf(
			"chat authentication redirect not created: set -c %s=https://<chat widget host> to enable it", keyChatOrigin)))
		return nil
	}
	cognito, err := s.authCognitoSettings()
	if err != nil {
		awscdk.Annotations_Of(s.Stack).AddError(jsii.String(err.Error()))
		return nil
	}
	waf, err := s.authWafSettings()
	if err != nil {
		awscdk.Annotations_Of(s.Stack).AddError(jsii.String(err.Error()))
		return nil
	}

	table := awsdynamodb.NewTable(s.Stack, jsii.String("AuthStateTable"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(authstate.AttrStateHash), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(authstate.AttrExpiresAt),
		// Used states matter for minutes; nothing to keep when the stack goes.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	suppressNag(table, "AwsSolutions-DDB3", "The table only holds SHA-256 hashes of OAuth states for their 15-minute life (TTL); a point-in-time restore makes a new table the function does not read, and a state older than 15 minutes is refused anyway, so there is nothing to recover")

	fn := NewGoFunction(s.Stack, "AuthRedirectFunction", &GoFunctionProps{
		AssetsDir:   s.settings.AssetsDir,
		Name:        "authredirect",
		Description: "Switchboard: Cognito redirect for chat customer authentication (UpdateParticipantAuthentication)",
		Environment: map[string]string{
			authredirect.EnvInstanceID: s.settings.InstanceID,
			authredirect.EnvChatOrigin: s.settings.ChatOrigin,
			authredirect.EnvStateTable: *table.TableName(),
			authredirect.EnvStateTTL:   authStateTTL,
			authredirect.EnvCallBudget: authRedirectBudget,
		},
		Timeout:  authRedirectTimeout,
		MemoryMB: authRedirectMemoryMB,
	})
	// The request names only the instance (InstanceId and State), so the instance ARN is the
	// resource the action is authorized on.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("connect:UpdateParticipantAuthentication"),
		Resources: jsii.Strings(s.settings.InstanceARN),
	}))
	// A claim and its extension are conditional PutItems, a release one conditional DeleteItem,
	// and a refused claim reads the item (GetItem) to tell a pending lease from a used state;
	// the table has no index, so its ARN is the only resource.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:GetItem"),
		Resources: &[]*string{table.TableArn()},
	}))

	api := awsapigatewayv2.NewHttpApi(s.Stack, jsii.String("AuthRedirectApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Switchboard chat authentication redirect (" + authCallbackPath + ")"),
		CreateDefaultStage: jsii.Bool(false),
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("AuthRedirectIntegration"), fn,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
		})
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path: jsii.String(authCallbackPath),
		// GET serves the confirmation page (never calls Connect); POST is the page's completion.
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET, awsapigatewayv2.HttpMethod_POST},
		Integration: integration,
	})
	// The chat page's form POST that sets the binding cookie and sends the popup on to Cognito.
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(authredirect.StartPath),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_POST},
		Integration: integration,
	})
	suppressNag(api, "AwsSolutions-APIG4", "The routes are the OAuth redirect of a customer who is not signed in yet: the browser arrives from Cognito with an authorization code and state, holding no token an authorizer could check. The function authenticates each request itself: the state must be unused and match the binding cookie set by "+authredirect.StartPath+", and Connect validates the code")
	// Access logs hold client addresses: keep them long enough to investigate an abuse report,
	// no longer.
	accessLogs := awslogs.NewLogGroup(s.Stack, jsii.String("AuthRedirectAccessLogs"), &awslogs.LogGroupProps{
		Retention: authAccessLogRetention,
	})
	stage := awsapigatewayv2.NewHttpStage(s.Stack, jsii.String("AuthRedirectStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(authRedirectRateLimit),
			BurstLimit: jsii.Number(authRedirectBurstLimit),
		},
	})
	// The L2 stage takes its log format as an AccessLogFormat built for REST APIs; set the
	// HTTP API's own setting directly.
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(authAccessLogFormat),
	})

	base := api.ApiEndpoint()
	if waf.enabled() {
		base = s.createAuthRedirectWAF(waf, api, fn)
	}
	callbackURL := awscdk.Fn_Join(jsii.String(""), &[]*string{base, jsii.String(authCallbackPath)})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AuthCallbackUrl"), &awscdk.CfnOutputProps{
		Value:       callbackURL,
		Description: jsii.String("Callback URL to register in the Cognito app client used by Connect's customer authentication"),
	})

	s.createAuthRedirectAlarms(fn)

	if cognito.enabled {
		prefix := s.defaultCognitoDomainPrefix()
		if cognito.domainPrefix != "" {
			prefix = jsii.String(cognito.domainPrefix)
		}
		s.createAuthCognito(prefix, callbackURL)
	}
	return &authRedirectResources{Function: fn, StateTable: table, API: api}
}

// Alarms of the capability. The rates are over completions (the page's POSTs), in percent, and
// only count once a period has a few completions: one failed sign-in at night is no incident.
const (
	authMetricNamespace   = "Switchboard/AuthRedirect"
	authAlarmPeriod       = 5 * time.Minute
	authAlarmMinSignIns   = 5  // completions in a period before a rate counts
	authErrorRatePercent  = 10 // completions answered with a server-side error
	authRetryRatePercent  = 20 // completions answered "please try again"
	authFunctionErrorsMin = 1  // invocations that failed (crash, timeout): the handler never returns an error
)

// createAuthRedirectAlarms adds metrics from the function's JSON log lines (one per request,
// with step, outcome and status; Lambda does not re-encode lines that are already JSON, see
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html) and
// alarms on the error and retry rates of completions and on failed invocations. The alarms have
// no action: subscribe your own (SNS, incident tool) to them.
func (s *switchboardStack) createAuthRedirectAlarms(fn awslambda.Function) {
	period := awscdk.Duration_Minutes(jsii.Number(authAlarmPeriod.Minutes()))
	metric := func(id, name, pattern string) awscloudwatch.IMetric {
		mf := awslogs.NewMetricFilter(s.Stack, jsii.String(id), &awslogs.MetricFilterProps{
			LogGroup:        fn.LogGroup(),
			FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(pattern)),
			MetricNamespace: jsii.String(authMetricNamespace),
			MetricName:      jsii.String(name),
			MetricValue:     jsii.String("1"),
			DefaultValue:    jsii.Number(0),
		})
		return mf.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period})
	}
	// The fields and values of the handler's log line (shared/authredirect logDecision).
	completions := metric("AuthRedirectCompletionsMetric", "Completions",
		fmt.Sprintf(`{ $.step = %q }`, authredirect.StepComplete))
	serverErrors := metric("AuthRedirectServerErrorsMetric", "ServerErrors",
		fmt.Sprintf(`{ $.step = %q && $.status >= 500 && $.outcome != %q }`, authredirect.StepComplete, authredirect.OutcomeRetry))
	retries := metric("AuthRedirectRetriesMetric", "Retries",
		fmt.Sprintf(`{ $.step = %q && $.outcome = %q }`, authredirect.StepComplete, authredirect.OutcomeRetry))
	rate := func(id, what string, count awscloudwatch.IMetric, percent float64) {
		awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("Switchboard chat sign-in: %.0f%% or more of the completions in %s were %s (with at least %d completions)",
				percent, authAlarmPeriod, what, authAlarmMinSignIns)),
			Metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression:   jsii.String(fmt.Sprintf("IF(c >= %d, 100 * n / c, 0)", authAlarmMinSignIns)),
				UsingMetrics: &map[string]awscloudwatch.IMetric{"c": completions, "n": count},
				Period:       period,
				Label:        jsii.String(what + " (% of completions)"),
			}),
			Threshold:          jsii.Number(percent),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	rate("AuthRedirectErrorRateAlarm", "server-side errors (Connect refused the call, or a state could not be released)", serverErrors, authErrorRatePercent)
	rate("AuthRedirectRetryRateAlarm", `answered "please try again" (Connect or the state table unavailable)`, retries, authRetryRatePercent)
	awscloudwatch.NewAlarm(s.Stack, jsii.String("AuthRedirectFunctionErrorsAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("Switchboard chat sign-in: the function failed (crash or timeout); API Gateway answered 500 without the page"),
		Metric:             fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}),
		Threshold:          jsii.Number(authFunctionErrorsMin),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

type authCognitoSettings struct {
	enabled bool
	// domainPrefix is the prefix of -c authCognitoDomainPrefix; empty for the default.
	domainPrefix string
}

// maxStackPrefixLen leaves room in Cognito's 63 characters for "-" and 12 hex digits.
const maxStackPrefixLen = 63 - 13

// authCognitoSettings reads the optional Cognito keys from the stack's context.
func (s *switchboardStack) authCognitoSettings() (authCognitoSettings, error) {
	var out authCognitoSettings
	switch v := s.Stack.Node().TryGetContext(jsii.String(keyAuthCognito)).(type) {
	case nil:
	case bool:
		out.enabled = v
	case string:
		switch strings.ToLower(v) {
		case "", "false":
		case "true":
			out.enabled = true
		default:
			return out, fmt.Errorf("context %q: %q must be true or false, e.g. -c %s=true", keyAuthCognito, v, keyAuthCognito)
		}
	default:
		return out, fmt.Errorf("context %q must be true or false, got %T", keyAuthCognito, v)
	}
	prefix, _ := s.Stack.Node().TryGetContext(jsii.String(keyAuthCognitoDomain)).(string)
	if !out.enabled {
		if prefix != "" {
			return out, fmt.Errorf("context %q is set but %q is not: set -c %s=true to create the user pool", keyAuthCognitoDomain, keyAuthCognito, keyAuthCognito)
		}
		return out, nil
	}
	if prefix == "" {
		// The default's fixed part must pass the same rules as a prefix given in full.
		stem := cognitoPrefixStem(s.settings.StackName)
		if err := checkCognitoDomainPrefix(stem); err != nil {
			return out, fmt.Errorf("the default %s from the stack name: %w", keyAuthCognitoDomain, err)
		}
		return out, nil
	}
	if err := checkCognitoDomainPrefix(prefix); err != nil {
		return out, err
	}
	out.domainPrefix = prefix
	return out, nil
}

func checkCognitoDomainPrefix(prefix string) error {
	if !cognitoDomainPrefix.MatchString(prefix) || strings.Contains(prefix, "aws") || strings.Contains(prefix, "amazon") || strings.Contains(prefix, "cognito") {
		return fmt.Errorf("context %q: %q is not a Cognito domain prefix (1-63 of [a-z0-9-], not starting or ending with '-', without aws, amazon or cognito), e.g. -c %s=acme-chat-signin",
			keyAuthCognitoDomain, prefix, keyAuthCognitoDomain)
	}
	return nil
}

// cognitoPrefixStem is the fixed part of the default domain prefix: the stack name, lowercased
// and cut to leave room for the UUID digits.
func cognitoPrefixStem(stackName string) string {
	return strings.TrimRight(strings.ToLower(stackName[:min(len(stackName), maxStackPrefixLen)]), "-")
}

// defaultCognitoDomainPrefix is "<stack name>-<last 12 hex digits of the stack's UUID>": the
// UUID in AWS::StackId (arn:...:stack/<name>/<uuid>) is random per stack and stable for its
// life, so the prefix is unique without naming the account.
func (s *switchboardStack) defaultCognitoDomainPrefix() *string {
	stem := cognitoPrefixStem(s.settings.StackName)
	uuid := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), awscdk.Aws_STACK_ID(), nil))
	tail := awscdk.Fn_Select(jsii.Number(4), awscdk.Fn_Split(jsii.String("-"), uuid, nil))
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String(stem), tail})
}

// createAuthCognito adds a user pool for chat customers, an app client without a secret that
// may only use the authorization code grant and redirect to callbackURL, and a hosted domain.
func (s *switchboardStack) createAuthCognito(domainPrefix *string, callbackURL *string) {
	pool := awscognito.NewUserPool(s.Stack, jsii.String("AuthUserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		// Customer accounts outlive a stack update gone wrong.
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		DeletionProtection: jsii.Bool(true),
		// Cognito's own default, stated so that it cannot change under the pool.
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:        jsii.Number(8),
			RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true),
			RequireDigits:    jsii.Bool(true),
			RequireSymbols:   jsii.Bool(true),
		},
	})
	suppressNag(pool, "AwsSolutions-COG2", "A chat customer signs in to answer a contact centre, often once: requiring MFA would make every customer enrol an authenticator app or a phone before the agent can help. Deployers who need MFA bring their own user pool (the option is for trying the capability)")
	suppressNag(pool, "AwsSolutions-COG8", "The Plus feature plan (threat protection) is billed per monthly active user, and a deployer may have many one-off chat customers: that is the deployer's choice, made on their own user pool. The pool has no self sign-up, so only users the deployer creates can sign in")
	client := pool.AddClient(jsii.String("AuthChatClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()},
			CallbackUrls: &[]*string{callbackURL},
		},
	})
	domain := pool.AddDomain(jsii.String("AuthHostedDomain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: domainPrefix},
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AuthUserPoolId"), &awscdk.CfnOutputProps{
		Value:       pool.UserPoolId(),
		Description: jsii.String("Cognito user pool to select in Connect's customer authentication settings"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AuthUserPoolClientId"), &awscdk.CfnOutputProps{
		Value:       client.UserPoolClientId(),
		Description: jsii.String("App client (no secret) for Connect's customer authentication"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AuthHostedDomainUrl"), &awscdk.CfnOutputProps{
		Value:       domain.BaseUrl(nil),
		Description: jsii.String("Cognito hosted sign-in domain"),
	})
}
