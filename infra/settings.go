package main

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/outbound"
	"github.com/switchboard-connect/switchboard/shared/pacing"
)

// Context keys a deployer sets with `cdk synth -c key=value` or in cdk.json.
const (
	keyInstanceARN   = "instanceArn"
	keyContactFlowID = "contactFlowId"
	keyQueueID       = "queueId"
	keyChatOrigin    = "chatOrigin"
	keyStackName     = "stackName"
	keyAssetsDir     = "assetsDir"
	// The contact-flow function's behaviour (docs/contactflow.md); empty means its default.
	keyFlowBudget     = "flowBudget"
	keyFlowErrorMode  = "flowErrorMode"
	keyDefaultCountry = "defaultCountry"
	// The dialer's share of the account's StartOutboundVoiceContact quota and the instance's
	// concurrent calls (docs/dialer.md); empty means Connect's defaults (2/s, burst 5, 10 calls).
	keyDialCallsPerSecond     = "dialCallsPerSecond"
	keyDialBurst              = "dialBurst"
	keyDialMaxConcurrentCalls = "dialMaxConcurrentCalls"
	// For a raised quota: dials under way at once, and the watchdog's DescribeContact rate.
	keyDialConcurrency  = "dialConcurrency"
	keyDialWatchdogRate = "dialWatchdogRate"
	// Executions that tick at once, each for its partition (1-16, default 1).
	keyDialExecutions = "dialExecutions"
	// The deployment's legal calling hours (DIALER_LEGAL_HOURS, callwindow.ParseLegalHours):
	// empty means the built-in table; no campaign can weaken them.
	keyDialLegalHours = "dialLegalHours"
	// The outbound flow for agent-paced campaigns (infra/outboundflow.go, docs/infra.md):
	// "true" deploys it; its name, the default safe-harbour message and the threshold.
	keyOutboundFlow          = "outboundFlow"
	keyOutboundFlowName      = "outboundFlowName"
	keyOutboundFlowMessage   = "outboundFlowMessage"
	keyOutboundFlowThreshold = "outboundFlowThresholdSeconds"
)

// Defaults for the optional settings.
const (
	DefaultStackName = "Switchboard"
	DefaultAssetsDir = "build"
	// DefaultOutboundFlowName names the outbound flow; its customer queue flow adds
	// outboundQueueFlowSuffix.
	DefaultOutboundFlowName = "Switchboard outbound safe harbour"
)

// exampleInstanceARN is the ARN the docs, the Makefile and the error messages use.
const exampleInstanceARN = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555"

// Settings are the deploy-time choices of one Switchboard stack, read from CDK context.
// Capabilities read them to name resources and to scope IAM policies.
type Settings struct {
	// InstanceARN is the Amazon Connect instance every capability works for.
	InstanceARN string
	// Partition, Region, Account and InstanceID are parsed from InstanceARN. The stack deploys
	// to this account and Region: a Lambda function cannot be associated with a Connect
	// instance in another Region.
	Partition  string
	Region     string
	Account    string
	InstanceID string

	// ContactFlowID and QueueID are the dialer's defaults for StartOutboundVoiceContact; empty
	// when not set.
	ContactFlowID string
	QueueID       string
	// ChatOrigin is the https origin (scheme://host[:port]) of the page hosting the chat widget,
	// allowed by the auth redirect endpoint; empty when not set.
	ChatOrigin string

	// StackName is the CloudFormation stack name and the CDK stack id, so the template is
	// cdk.out/<StackName>.template.json. Distinct names let one account serve several instances.
	StackName string
	// AssetsDir holds what `make build` writes: <AssetsDir>/<function>/bootstrap.
	AssetsDir string

	// FlowBudget, FlowErrorMode and DefaultCountry set the contact-flow function's FLOW_BUDGET,
	// ERROR_MODE and DEFAULT_COUNTRY; empty keeps the function's defaults (2s, result, US). A
	// FlowBudget above 2s needs the flow's block timeout raised above its default of 3s.
	FlowBudget     string
	FlowErrorMode  string
	DefaultCountry string

	// DialCallsPerSecond, DialBurst and DialMaxConcurrentCalls set the dialer's pacing
	// (DIAL_CALLS_PER_SECOND, DIAL_BURST, DIAL_MAX_CONCURRENT_CALLS); empty keeps 2, 5 and 10.
	DialCallsPerSecond     string
	DialBurst              string
	DialMaxConcurrentCalls string
	// DialConcurrency and DialWatchdogRate set DIAL_CONCURRENCY and DIALER_WATCHDOG_RATE; empty
	// keeps the dialer's defaults (32, 5/s).
	DialConcurrency  string
	DialWatchdogRate string
	// DialExecutions is how many executions tick at once (one schedule each); empty is 1.
	DialExecutions string
	// DialLegalHours sets the dialer's DIALER_LEGAL_HOURS; empty keeps the built-in table.
	DialLegalHours string

	// OutboundFlow deploys the outbound flow and its customer queue flow (infra/outboundflow.go):
	// the answered call goes to the contact's queue, and if no agent takes it within
	// OutboundFlowThreshold seconds it hears the safe-harbour message and is hung up.
	// OutboundFlowMessage is the default message (required with OutboundFlow), played when the
	// call has no campaign message; OutboundFlowName names the flow (DefaultOutboundFlowName).
	OutboundFlow          bool
	OutboundFlowName      string
	OutboundFlowMessage   string
	OutboundFlowThreshold int
}

// InstanceResourceARN returns the ARN of a resource inside the Connect instance, for IAM
// policies: InstanceResourceARN("contact/*") is "<instanceArn>/contact/*". Contacts, queues,
// flows and users are all addressed below the instance ARN.
func (s Settings) InstanceResourceARN(path string) string {
	return s.InstanceARN + "/" + strings.TrimPrefix(path, "/")
}

var (
	// Partition, Region, 12-digit account, lowercase UUID: what Connect issues. Uppercase hex is
	// rejected because IAM compares ARNs case-sensitively, so a policy would silently not match.
	instanceARNPattern = regexp.MustCompile(`^arn:(aws[-a-z]*):connect:([a-z]{2}(?:-[a-z]+)+-[0-9]+):([0-9]{12}):instance/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	// The Connect API reference caps ContactFlowId at 500 characters and Connect's ARN patterns
	// (CloudFormation schemas) allow only [-a-zA-Z0-9] in resource IDs.
	connectIDPattern = regexp.MustCompile(`^[-a-zA-Z0-9]{1,500}$`)
	// CloudFormation's stack name rule.
	stackNamePattern = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)
)

// partitionRegionPrefix is the Region prefix each non-commercial partition requires: an ARN
// mixing them names no instance that can exist.
var partitionRegionPrefix = map[string]string{
	"aws-cn":     "cn-",
	"aws-us-gov": "us-gov-",
}

// knownKeys lists our context keys, to catch near-misses such as "instanceARN".
var knownKeys = []string{keyInstanceARN, keyContactFlowID, keyQueueID, keyChatOrigin, keyStackName, keyAssetsDir,
	keyAuthCognito, keyAuthCognitoDomain, keyAuthWafRateLimit, keyAuthWafWebACLArn, keyFlowBudget, keyFlowErrorMode, keyDefaultCountry,
	keyDialCallsPerSecond, keyDialBurst, keyDialMaxConcurrentCalls, keyDialConcurrency, keyDialWatchdogRate, keyDialExecutions, keyDialLegalHours,
	keyOutboundFlow, keyOutboundFlowName, keyOutboundFlowMessage, keyOutboundFlowThreshold}

// LoadSettings reads and validates Switchboard's settings from a CDK context map (all of the
// app's context: cdk.json, -c flags, feature flags). Every problem is reported, one per line,
// each naming the context key and showing an example. An empty optional value counts as unset,
// so a Makefile can pass -c queueId=$(QUEUE_ID) whether or not the variable is set.
func LoadSettings(context map[string]any) (Settings, error) {
	var errs []error
	str := func(key string) string {
		v, ok := context[key]
		if !ok || v == nil {
			return ""
		}
		switch v := v.(type) {
		case string:
			return v
		case *string:
			if v != nil {
				return *v
			}
			return ""
		default:
			errs = append(errs, fmt.Errorf("context %q must be a string, got %T %v", key, v, v))
			return ""
		}
	}

	errs = append(errs, nearMissKeys(context)...)

	s := Settings{
		InstanceARN:   str(keyInstanceARN),
		ContactFlowID: str(keyContactFlowID),
		QueueID:       str(keyQueueID),
		ChatOrigin:    str(keyChatOrigin),
		StackName:     str(keyStackName),
		AssetsDir:     str(keyAssetsDir),

		FlowBudget:     strings.TrimSpace(str(keyFlowBudget)),
		FlowErrorMode:  strings.TrimSpace(str(keyFlowErrorMode)),
		DefaultCountry: strings.TrimSpace(str(keyDefaultCountry)),

		DialCallsPerSecond:     strings.TrimSpace(str(keyDialCallsPerSecond)),
		DialBurst:              strings.TrimSpace(str(keyDialBurst)),
		DialMaxConcurrentCalls: strings.TrimSpace(str(keyDialMaxConcurrentCalls)),
		DialConcurrency:        strings.TrimSpace(str(keyDialConcurrency)),
		DialWatchdogRate:       strings.TrimSpace(str(keyDialWatchdogRate)),
		DialExecutions:         strings.TrimSpace(str(keyDialExecutions)),
		DialLegalHours:         strings.TrimSpace(str(keyDialLegalHours)),
	}
	if s.StackName == "" {
		s.StackName = DefaultStackName
	}
	if s.AssetsDir == "" {
		s.AssetsDir = DefaultAssetsDir
	}

	if err := s.parseInstanceARN(); err != nil {
		errs = append(errs, err)
	}
	if s.ContactFlowID != "" && !connectIDPattern.MatchString(s.ContactFlowID) {
		errs = append(errs, fmt.Errorf("context %q: %q is not a Connect flow ID (1-500 of [-a-zA-Z0-9]), e.g. -c %s=78ea8fd5-2659-4f2b-b528-699760ccfc1b",
			keyContactFlowID, s.ContactFlowID, keyContactFlowID))
	}
	if s.QueueID != "" && !connectIDPattern.MatchString(s.QueueID) {
		errs = append(errs, fmt.Errorf("context %q: %q is not a Connect queue ID (1-500 of [-a-zA-Z0-9]), e.g. -c %s=1b9e2a4c-3d5f-4a6b-8c7d-9e0f1a2b3c4d",
			keyQueueID, s.QueueID, keyQueueID))
	}
	if s.ChatOrigin != "" {
		// The function's own rule, without its loopback exception: a deployed endpoint answers a
		// chat page on the internet.
		err := authredirect.CheckChatOrigin(s.ChatOrigin)
		if err == nil && !strings.HasPrefix(s.ChatOrigin, "https://") {
			err = fmt.Errorf("%q must use https: http is only for local runs", s.ChatOrigin)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("context %q: %v, e.g. -c %s=https://chat.example.com", keyChatOrigin, err, keyChatOrigin))
		}
	}
	if !stackNamePattern.MatchString(s.StackName) {
		errs = append(errs, fmt.Errorf("context %q: %q is not a CloudFormation stack name (a letter, then up to 127 of [-a-zA-Z0-9]), e.g. -c %s=SwitchboardProd",
			keyStackName, s.StackName, keyStackName))
	}
	if strings.TrimSpace(s.AssetsDir) != s.AssetsDir {
		errs = append(errs, fmt.Errorf("context %q: %q has leading or trailing spaces, e.g. -c %s=build", keyAssetsDir, s.AssetsDir, keyAssetsDir))
	}

	errs = append(errs, s.checkContactFlow()...)
	errs = append(errs, s.checkDialer()...)
	errs = append(errs, s.readOutboundFlow(context)...)

	if len(errs) > 0 {
		return Settings{}, errors.Join(errs...)
	}
	return s, nil
}

// checkContactFlow validates the contact-flow settings with the function's own rules, so that a
// value the function would refuse at start-up fails the synth instead.
func (s Settings) checkContactFlow() []error {
	var errs []error
	for _, c := range []struct{ key, env, value, example string }{
		{keyFlowBudget, contactflow.EnvBudget, s.FlowBudget, "2500ms"},
		{keyFlowErrorMode, contactflow.EnvErrorMode, s.FlowErrorMode, "fail"},
		{keyDefaultCountry, contactflow.EnvDefaultCountry, s.DefaultCountry, "GB"},
	} {
		if c.value == "" {
			continue
		}
		env := map[string]string{c.env: c.value}
		if _, err := contactflow.ConfigFromEnv(func(k string) string { return env[k] }); err != nil {
			msg := strings.TrimPrefix(err.Error(), c.env+": ")
			errs = append(errs, fmt.Errorf("context %q: %s, e.g. -c %s=%s", c.key, msg, c.key, c.example))
		}
	}
	return errs
}

// DialExecutionCount is DialExecutions as a number (1 when unset; LoadSettings checked it).
func (s Settings) DialExecutionCount() int {
	n, err := strconv.Atoi(s.DialExecutions)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// checkDialer validates the dialer's pacing with the function's own rules.
func (s Settings) checkDialer() []error {
	env := map[string]string{outbound.EnvCampaignsTable: "t", outbound.EnvDoNotCallTable: "t",
		outbound.EnvCallsPerSecond: s.DialCallsPerSecond, outbound.EnvBurst: s.DialBurst, outbound.EnvMaxLive: s.DialMaxConcurrentCalls}
	if _, err := outbound.SettingsFromEnv(func(k string) string { return env[k] }); err != nil {
		return []error{fmt.Errorf("context %q/%q/%q: %v, e.g. -c %s=5 -c %s=10 -c %s=40", keyDialCallsPerSecond, keyDialBurst, keyDialMaxConcurrentCalls,
			err, keyDialCallsPerSecond, keyDialBurst, keyDialMaxConcurrentCalls)}
	}
	var errs []error
	for _, c := range []struct{ key, env, value, example string }{
		{keyDialConcurrency, outbound.EnvDialConcurrency, s.DialConcurrency, "64"},
		{keyDialWatchdogRate, outbound.EnvWatchdogRate, s.DialWatchdogRate, "20"},
	} {
		env := map[string]string{outbound.EnvCampaignsTable: "t", outbound.EnvDoNotCallTable: "t", c.env: c.value}
		if _, err := outbound.SettingsFromEnv(func(k string) string { return env[k] }); err != nil {
			msg := strings.TrimPrefix(err.Error(), c.env+": ")
			errs = append(errs, fmt.Errorf("context %q: %s, e.g. -c %s=%s", c.key, msg, c.key, c.example))
		}
	}
	if s.DialExecutions != "" {
		n, err := strconv.Atoi(s.DialExecutions)
		switch {
		case err != nil || n < 1 || n > pacing.MaxShares:
			errs = append(errs, fmt.Errorf("context %q: %q, want a whole number from 1 to %d, e.g. -c %s=4", keyDialExecutions, s.DialExecutions, pacing.MaxShares, keyDialExecutions))
		default:
			if st, err := outbound.SettingsFromEnv(func(k string) string { return env[k] }); err == nil {
				if _, err := st.Pacing.Share(0, n); err != nil {
					errs = append(errs, fmt.Errorf("context %q: %v; raise %q or lower %q", keyDialExecutions, err, keyDialMaxConcurrentCalls, keyDialExecutions))
				}
			}
		}
	}
	if _, err := callwindow.ParseLegalHours(s.DialLegalHours); err != nil {
		errs = append(errs, fmt.Errorf("context %q: %v, e.g. -c %s='default;US-NY mon-fri 09:00-20:00'", keyDialLegalHours, err, keyDialLegalHours))
	}
	return errs
}

// parseInstanceARN checks InstanceARN and fills in the fields derived from it.
func (s *Settings) parseInstanceARN() error {
	want := fmt.Sprintf("want arn:aws[-a-z]*:connect:<region>:<12-digit account>:instance/<uuid>, e.g. -c %s=%s", keyInstanceARN, exampleInstanceARN)
	if s.InstanceARN == "" {
		return fmt.Errorf("context %q is required: the ARN of your Amazon Connect instance; %s", keyInstanceARN, want)
	}
	m := instanceARNPattern.FindStringSubmatch(s.InstanceARN)
	if m == nil {
		return fmt.Errorf("context %q: %q is not an Amazon Connect instance ARN; %s", keyInstanceARN, s.InstanceARN, want)
	}
	partition, region := m[1], m[2]
	if prefix := partitionRegionPrefix[partition]; (prefix != "" && !strings.HasPrefix(region, prefix)) || (prefix == "" && isPartitionRegion(region)) {
		return fmt.Errorf("context %q: Region %q is not in partition %q; %s", keyInstanceARN, region, partition, want)
	}
	s.Partition, s.Region, s.Account, s.InstanceID = partition, region, m[3], m[4]
	return nil
}

// isPartitionRegion reports whether region belongs to one of the non-commercial partitions.
func isPartitionRegion(region string) bool {
	for _, prefix := range partitionRegionPrefix {
		if strings.HasPrefix(region, prefix) {
			return true
		}
	}
	return false
}

// nearMissKeys reports context keys that differ from one of ours only by case, '-' or '_':
// CDK would otherwise ignore "-c instanceARN=..." silently and complain that instanceArn is
// missing, which is confusing.
func nearMissKeys(context map[string]any) []error {
	fold := func(k string) string {
		return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(k))
	}
	known := make(map[string]string, len(knownKeys))
	for _, k := range knownKeys {
		known[fold(k)] = k
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(context)) {
		if want, ok := known[fold(k)]; ok && want != k {
			errs = append(errs, fmt.Errorf("unknown context key %q: did you mean %q?", k, want))
		}
	}
	return errs
}
