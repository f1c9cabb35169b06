package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconnect"
	"github.com/aws/jsii-runtime-go"

	"github.com/switchboard-connect/switchboard/shared/safeharbour"
)

// The outbound flow for agent-paced campaigns: two AWS::Connect::ContactFlow resources written in
// the Amazon Connect Flow language (Version 2019-10-30).
//
//   - OutboundFlow (type CONTACT_FLOW, the flow a campaign names as its contactFlowId): it sets the
//     customer queue flow below as the contact's CustomerQueue event hook and transfers the
//     answered call to the contact's queue (the QueueId that StartOutboundVoiceContact names: "The
//     queue for the call"). A call that cannot be queued hears the safe-harbour message at once.
//   - OutboundQueueFlow (type CUSTOMER_QUEUE): it runs while the call waits. Its Loop prompts
//     action (MessageParticipantIteratively) plays silence and is interrupted after the threshold
//     (InterruptFrequencySeconds); an agent who takes the call first ends the queue flow. On the
//     interrupt the flow marks the contact, plays the campaign's message (contact attribute
//     safe_harbour_message) or the deployment's default, and hangs up (DisconnectParticipant,
//     CONTACT_FLOW_DISCONNECT in the contact record).
//
// Why a customer queue flow: the Flow language has no queue-time limit on TransferContactToQueue,
// and its Wait action is "supported only by the chat channel"; a customer queue flow is what runs
// "while the contact waits", and the interrupt of its Loop prompts is the documented timer there.
// The admin guide recommends an interrupt over 20 seconds "to ensure that queued contacts that
// are being connected to an agent are not interrupted": the safe harbour needs 2, so a call being
// joined to an agent at the threshold may hear the message start (docs/infra.md).
//
// Sources: the Flow language reference, https://docs.aws.amazon.com/connect/latest/APIReference/flow-language.html
// (read through the search tool, 2026-12) and its last public source, awsdocs/amazon-connect-admin-guide
// doc_source/*actions*.md at 01658057 (2023-01-31); AWS::Connect::ContactFlow,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-connect-contactflow.html.

// flowLanguageVersion is "Currently the only supported version" of the Flow language.
const flowLanguageVersion = "2019-10-30"

// Flow types (AWS::Connect::ContactFlow Type; the SDK's ContactFlowType enum).
const (
	flowTypeContactFlow   = "CONTACT_FLOW"
	flowTypeCustomerQueue = "CUSTOMER_QUEUE"
)

// outboundQueueFlowSuffix names the customer queue flow after the outbound flow. CloudFormation
// allows flow names of 1-127 characters, so the outbound flow's name may have 127 less this.
const outboundQueueFlowSuffix = " (customer queue)"

// maxOutboundFlowName is the longest outboundFlowName.
const maxOutboundFlowName = 127 - len(outboundQueueFlowSuffix)

// waitSilence is what the caller hears while the queue flow waits for an agent: a second of
// silence, looped until the interrupt. A prompt would be a recorded message before any agent
// speaks, which is what the rules allow only after the threshold.
const waitSilence = `<speak><break time="1s"/></speak>`

// readOutboundFlow reads the outbound flow's context keys into s and reports every problem. The
// flag accepts true/false as a string (-c outboundFlow=true) or a JSON boolean (cdk.json); the
// threshold a string or a JSON number.
func (s *Settings) readOutboundFlow(context map[string]any) []error {
	var errs []error
	raw := func(key string) (string, bool) {
		switch v := context[key].(type) {
		case nil:
			return "", false
		case string:
			return strings.TrimSpace(v), strings.TrimSpace(v) != ""
		case *string:
			if v == nil {
				return "", false
			}
			return strings.TrimSpace(*v), strings.TrimSpace(*v) != ""
		case bool:
			return strconv.FormatBool(v), true
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), true
		default:
			errs = append(errs, fmt.Errorf("context %q must be a string, got %T %v", key, v, v))
			return "", false
		}
	}

	if v, ok := raw(keyOutboundFlow); ok {
		on, err := strconv.ParseBool(v)
		if err != nil || (v != "true" && v != "false") {
			errs = append(errs, fmt.Errorf("context %q: %q must be true or false, e.g. -c %s=true", keyOutboundFlow, v, keyOutboundFlow))
		}
		s.OutboundFlow = on && err == nil
	}
	name, hasName := raw(keyOutboundFlowName)
	message, hasMessage := raw(keyOutboundFlowMessage)
	threshold, hasThreshold := raw(keyOutboundFlowThreshold)
	if !s.OutboundFlow {
		for _, k := range []struct {
			key string
			set bool
		}{{keyOutboundFlowName, hasName}, {keyOutboundFlowMessage, hasMessage}, {keyOutboundFlowThreshold, hasThreshold}} {
			if k.set {
				errs = append(errs, fmt.Errorf("context %q is set but %q is not: set -c %s=true to deploy the outbound flow", k.key, keyOutboundFlow, keyOutboundFlow))
			}
		}
		return errs
	}

	s.OutboundFlowName = DefaultOutboundFlowName
	if hasName {
		s.OutboundFlowName = name
		if n := len([]rune(name)); n > maxOutboundFlowName {
			errs = append(errs, fmt.Errorf("context %q: %d characters, at most %d (CloudFormation allows 127 for a flow name, and the customer queue flow adds %q), e.g. -c %s='Acme outbound'",
				keyOutboundFlowName, n, maxOutboundFlowName, outboundQueueFlowSuffix, keyOutboundFlowName))
		}
	}

	s.OutboundFlowMessage = message
	if !hasMessage {
		errs = append(errs, fmt.Errorf("context %q is required with %s=true: the message a caller hears when no agent takes the call, naming the seller and a number to call back, e.g. -c %s='This is Acme Insurance. Sorry we missed you: please call us on 1-800-555-0100.'",
			keyOutboundFlowMessage, keyOutboundFlow, keyOutboundFlowMessage))
	} else if err := safeharbour.CheckMessage(message); err != nil {
		errs = append(errs, fmt.Errorf("context %q: %v, e.g. -c %s='This is Acme Insurance. Sorry we missed you: please call us on 1-800-555-0100.'",
			keyOutboundFlowMessage, err, keyOutboundFlowMessage))
	}

	s.OutboundFlowThreshold = int(safeharbour.DefaultThreshold / time.Second)
	if hasThreshold {
		n, err := strconv.Atoi(threshold)
		if err == nil {
			err = safeharbour.CheckThreshold(time.Duration(n) * time.Second)
		} else {
			err = fmt.Errorf("%q is not a whole number of seconds", threshold)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("context %q: %v (the FTC's and the FCC's rule is 2), e.g. -c %s=2", keyOutboundFlowThreshold, err, keyOutboundFlowThreshold))
		}
		s.OutboundFlowThreshold = n
	}
	return errs
}

// outboundFlowResources are what the outbound flow capability creates; nil when it is off.
type outboundFlowResources struct {
	Flow      awsconnect.CfnContactFlow
	QueueFlow awsconnect.CfnContactFlow
}

// createOutboundFlow adds the outbound flow and its customer queue flow when outboundFlow is true.
// They are template resources in the instance: no function, role or permission comes with them.
func (s *switchboardStack) createOutboundFlow() *outboundFlowResources {
	set := s.settings
	if !set.OutboundFlow {
		return nil
	}
	queueFlow := awsconnect.NewCfnContactFlow(s.Stack, jsii.String("OutboundQueueFlow"), &awsconnect.CfnContactFlowProps{
		InstanceArn: jsii.String(set.InstanceARN),
		Name:        jsii.String(set.OutboundFlowName + outboundQueueFlowSuffix),
		Type:        jsii.String(flowTypeCustomerQueue),
		Description: jsii.String(fmt.Sprintf("Switchboard: waits %d s for an agent, then plays the safe-harbour message and hangs up", set.OutboundFlowThreshold)),
		Content:     jsii.String(queueFlowContent(set.OutboundFlowThreshold, set.OutboundFlowMessage)),
	})
	flow := awsconnect.NewCfnContactFlow(s.Stack, jsii.String("OutboundFlow"), &awsconnect.CfnContactFlowProps{
		InstanceArn: jsii.String(set.InstanceARN),
		Name:        jsii.String(set.OutboundFlowName),
		Type:        jsii.String(flowTypeContactFlow),
		Description: jsii.String("Switchboard: agent-paced campaigns; queues the answered call, safe-harbour message when no agent takes it in time"),
		// The queue flow's ARN is a token: CDK writes Content as an Fn::Join around its GetAtt.
		Content: jsii.String(outboundFlowContent(*queueFlow.AttrContactFlowArn(), set.OutboundFlowMessage)),
	})

	awscdk.NewCfnOutput(s.Stack, jsii.String("OutboundFlowArn"), &awscdk.CfnOutputProps{
		Value:       flow.AttrContactFlowArn(),
		Description: jsii.String("Outbound flow for agent-paced campaigns (safe-harbour message when no agent takes the call in time)"),
	})
	// <instance ARN>/contact-flow/<flow id>: "The ContactFlowId is the last part of the ARN"
	// (StartOutboundVoiceContact, ContactFlowId), the fourth part when split on "/".
	awscdk.NewCfnOutput(s.Stack, jsii.String("OutboundFlowId"), &awscdk.CfnOutputProps{
		Value:       awscdk.Fn_Select(jsii.Number(3), awscdk.Fn_Split(jsii.String("/"), flow.AttrContactFlowArn(), nil)),
		Description: jsii.String("The outbound flow's ID: a campaign's contactFlowId"),
	})
	return &outboundFlowResources{Flow: flow, QueueFlow: queueFlow}
}

// flowContent is a flow in the Flow language: Version, StartAction and Actions (Metadata, "an
// object that may be filled in with data as desired", is left out).
type flowContent struct {
	Version     string       `json:"Version"`
	StartAction string       `json:"StartAction"`
	Actions     []flowAction `json:"Actions"`
}

// flowAction is one Action: Identifier (unique, up to 50 characters), Type, Parameters and
// Transitions (NextAction, Errors, Conditions; an empty object for a terminal action).
type flowAction struct {
	Identifier  string          `json:"Identifier"`
	Type        string          `json:"Type"`
	Parameters  map[string]any  `json:"Parameters"`
	Transitions flowTransitions `json:"Transitions"`
}

type flowTransitions struct {
	NextAction string          `json:"NextAction,omitempty"`
	Errors     []flowError     `json:"Errors,omitempty"`
	Conditions []flowCondition `json:"Conditions,omitempty"`
}

type flowError struct {
	NextAction string `json:"NextAction"`
	ErrorType  string `json:"ErrorType"`
}

type flowCondition struct {
	NextAction string        `json:"NextAction"`
	Condition  flowOperation `json:"Condition"`
}

type flowOperation struct {
	Operator string   `json:"Operator"`
	Operands []string `json:"Operands"`
}

// Action identifiers. None holds a character the Flow language forbids (% : ( \ / ) = $ , ; [ ] { }).
const (
	actEnableLogs      = "enable-flow-logs"
	actSetQueueFlow    = "set-customer-queue-flow"
	actTransfer        = "transfer-to-queue"
	actMarkNotQueued   = "mark-not-queued"
	actWaitForAgent    = "wait-for-agent"
	actMarkNoAgent     = "mark-no-agent"
	actChooseMessage   = "choose-message"
	actCampaignMessage = "play-campaign-message"
	actDefaultMessage  = "play-default-message"
	actHangUp          = "hang-up"
)

// campaignMessagePath is the JSONPath of the campaign's message: "a single valid JSONPath
// identifier" on the flow data ($.Attributes.<key> is a contact attribute).
var campaignMessagePath = "$.Attributes." + safeharbour.AttrMessage

// onError sends each documented error type of an action to next.
func onError(next string, types ...string) []flowError {
	out := make([]flowError, 0, len(types))
	for _, t := range types {
		out = append(out, flowError{NextAction: next, ErrorType: t})
	}
	return out
}

// safeHarbourActions mark the contact with outcome, play the campaign's message (or the default)
// and hang up. Every error leads on: a failed mark still plays the message, a failed campaign
// message falls back to the default, a failed default still hangs up.
func safeHarbourActions(markID, outcome, defaultMessage string) []flowAction {
	return []flowAction{
		{
			Identifier: markID, Type: "UpdateContactAttributes",
			Parameters:  map[string]any{"Attributes": map[string]string{safeharbour.AttrOutcome: outcome}},
			Transitions: flowTransitions{NextAction: actChooseMessage, Errors: onError(actChooseMessage, "NoMatchingError")},
		},
		{
			// Compare's only documented error is NoMatchingCondition: a missing, empty or one-word
			// attribute takes the default (safeharbour.UsesCampaignMessage).
			Identifier: actChooseMessage, Type: "Compare",
			Parameters: map[string]any{"ComparisonValue": campaignMessagePath},
			Transitions: flowTransitions{
				NextAction: actDefaultMessage,
				Conditions: []flowCondition{{NextAction: actCampaignMessage, Condition: flowOperation{Operator: "TextContains", Operands: []string{" "}}}},
				Errors:     onError(actDefaultMessage, "NoMatchingCondition"),
			},
		},
		{
			Identifier: actCampaignMessage, Type: "MessageParticipant",
			Parameters:  map[string]any{"Text": campaignMessagePath},
			Transitions: flowTransitions{NextAction: actHangUp, Errors: onError(actDefaultMessage, "NoMatchingError")},
		},
		{
			Identifier: actDefaultMessage, Type: "MessageParticipant",
			Parameters:  map[string]any{"Text": defaultMessage},
			Transitions: flowTransitions{NextAction: actHangUp, Errors: onError(actHangUp, "NoMatchingError")},
		},
		{Identifier: actHangUp, Type: "DisconnectParticipant", Parameters: map[string]any{}, Transitions: flowTransitions{}},
	}
}

// outboundFlowContent is the outbound flow (CONTACT_FLOW): logging on, the customer queue flow set,
// the call queued; a call that cannot be queued hears the safe-harbour message and is hung up.
func outboundFlowContent(queueFlowARN, defaultMessage string) string {
	actions := []flowAction{
		{
			// Flow logs are the deployment's record of each call's path; the setting "is also
			// automatically inherited by new segments in the chain" (the queue flow's).
			Identifier: actEnableLogs, Type: "UpdateFlowLoggingBehavior",
			Parameters:  map[string]any{"FlowLoggingBehavior": "Enabled"},
			Transitions: flowTransitions{NextAction: actSetQueueFlow},
		},
		{
			// Without the queue flow nothing would bound the wait: the call is not queued.
			Identifier: actSetQueueFlow, Type: "UpdateContactEventHooks",
			Parameters:  map[string]any{"EventHooks": map[string]string{"CustomerQueue": queueFlowARN}},
			Transitions: flowTransitions{NextAction: actTransfer, Errors: onError(actMarkNotQueued, "NoMatchingError")},
		},
		{
			// No parameters: the contact's TargetQueue, which StartOutboundVoiceContact's QueueId
			// sets. A successful transfer ends this flow; NextAction is never taken then.
			Identifier: actTransfer, Type: "TransferContactToQueue",
			Parameters:  map[string]any{},
			Transitions: flowTransitions{NextAction: actMarkNotQueued, Errors: onError(actMarkNotQueued, "QueueAtCapacity", "NoMatchingError")},
		},
	}
	actions = append(actions, safeHarbourActions(actMarkNotQueued, safeharbour.OutcomeNotQueued, defaultMessage)...)
	return mustFlowJSON(flowContent{Version: flowLanguageVersion, StartAction: actEnableLogs, Actions: actions})
}

// queueFlowContent is the customer queue flow (CUSTOMER_QUEUE): silence until the threshold, then
// the safe-harbour message and the hang-up.
func queueFlowContent(thresholdSeconds int, defaultMessage string) string {
	actions := []flowAction{{
		// The console writes InterruptFrequencySeconds as a string ("30" in its sample
		// interruptible queue flow) with the MessagesInterrupted condition and no NextAction:
		// the loop ends only by the interrupt, an error, or an agent taking the call.
		Identifier: actWaitForAgent, Type: "MessageParticipantIteratively",
		Parameters: map[string]any{
			"Messages":                  []map[string]string{{"SSML": waitSilence}},
			"InterruptFrequencySeconds": strconv.Itoa(thresholdSeconds),
		},
		Transitions: flowTransitions{
			Conditions: []flowCondition{{NextAction: actMarkNoAgent, Condition: flowOperation{Operator: "Equals", Operands: []string{"MessagesInterrupted"}}}},
			Errors:     onError(actMarkNoAgent, "NoMatchingError"),
		},
	}}
	actions = append(actions, safeHarbourActions(actMarkNoAgent, safeharbour.OutcomeThreshold, defaultMessage)...)
	return mustFlowJSON(flowContent{Version: flowLanguageVersion, StartAction: actWaitForAgent, Actions: actions})
}

// mustFlowJSON encodes a flow. HTML escaping is off so that SSML's < and > stay readable in the
// template; JSON does not need it.
func mustFlowJSON(f flowContent) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		panic(fmt.Sprintf("encode flow: %v", err)) // plain maps and strings: cannot fail
	}
	return strings.TrimSuffix(b.String(), "\n")
}
