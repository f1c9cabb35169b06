package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-connect/switchboard/shared/safeharbour"
)

// The Flow language as documented, for the actions a Switchboard flow may use. Sources: the
// reference at flowLanguageSource (and one page per action under it, named in each entry), read
// through the search tool in 2026-12, and its last public source, awsdocs/amazon-connect-admin-guide
// doc_source/<page>.md at 01658057 (2023-01-31). A flow is held to this table: an action type
// missing here, a parameter the page does not name, an error type it does not list, or a flow type
// it is not supported in fails the test. Add an action by reading its page, not by copying ours.
const flowLanguageSource = "https://docs.aws.amazon.com/connect/latest/APIReference/flow-language-actions.html"

// flowOperators are the Condition operators of the reference's "List of Operators", each with one
// string operand.
var flowOperators = []string{"Equals", "TextStartsWith", "TextEndsWith", "TextContains", "NumberGreaterThan",
	"NumberGreaterOrEqualTo", "NumberLessThan", "NumberLessOrEqualTo"}

// flowIdentifierForbidden are the characters an Identifier may not hold ("Actions in the Amazon
// Connect Flow Language", Identifier); it is at most 50 characters long.
const flowIdentifierForbidden = `%:(\/)=$,;[]{}`

type documentedAction struct {
	page string // the action's page under the reference
	// params are the documented parameter names.
	params []string
	// errors are the documented error types; a flow must branch on each. errorsFor, when set,
	// gives them from the parameters (some errors "must be defined only if" a parameter says so).
	errors    []string
	errorsFor func(p map[string]any) []string
	// flowTypes are the flow types, of the two Switchboard deploys, the page supports it in.
	flowTypes []string
	// terminal actions end the flow: Transitions is an empty object.
	terminal bool
	// conditions checks the Conditions; nil means "No conditions are supported".
	conditions func(p map[string]any, ops []flowOperation) error
	// check holds the parameters to the page's restrictions.
	check func(p map[string]any) error
}

var bothFlowTypes = []string{flowTypeContactFlow, flowTypeCustomerQueue}

var documentedActions = map[string]documentedAction{
	"UpdateFlowLoggingBehavior": {
		// "Errors: None." "This action is available in every type of flow."
		page: "flow-control-actions-updateflowloggingbehavior", params: []string{"FlowLoggingBehavior"}, flowTypes: bothFlowTypes,
		check: func(p map[string]any) error { return oneOf(p["FlowLoggingBehavior"], "Enabled", "Disabled") },
	},
	"UpdateContactEventHooks": {
		// "Only one entry may be present in this map." "This is supported in all types of flows."
		page: "contact-actions-updatecontacteventhooks", params: []string{"EventHooks"}, errors: []string{"NoMatchingError"}, flowTypes: bothFlowTypes,
		check: func(p map[string]any) error {
			if m, _ := p["EventHooks"].(map[string]any); len(m) != 1 {
				return fmt.Errorf("EventHooks must hold exactly one entry, has %v", p["EventHooks"])
			}
			return nil
		},
	},
	"TransferContactToQueue": {
		// "No parameters are expected." Errors QueueAtCapacity, NoMatchingError; "supported in
		// inbound contact flows and transfer flows ... not supported in ... customer queue flows".
		page: "contact-actions-transfercontacttoqueue", errors: []string{"QueueAtCapacity", "NoMatchingError"}, flowTypes: []string{flowTypeContactFlow},
	},
	"UpdateContactTargetQueue": {
		page: "contact-actions-updatecontacttargetqueue", params: []string{"QueueId", "AgentId"}, errors: []string{"NoMatchingError"}, flowTypes: []string{flowTypeContactFlow},
		check: exactlyOne("QueueId", "AgentId"),
	},
	"UpdateContactAttributes": {
		// "None. This can be used in any type of flow and any channel."
		page: "contact-actions-updatecontactattributes", params: []string{"Attributes"}, errors: []string{"NoMatchingError"}, flowTypes: bothFlowTypes,
		check: func(p map[string]any) error {
			m, _ := p["Attributes"].(map[string]any)
			if len(m) == 0 {
				return fmt.Errorf("Attributes must hold the attributes to set")
			}
			return nil
		},
	},
	"Compare": {
		// ComparisonValue: "Any **single** JSONPath identifier"; errors NoMatchingCondition.
		page: "flow-control-actions-compare", params: []string{"ComparisonValue"}, errors: []string{"NoMatchingCondition"}, flowTypes: bothFlowTypes,
		conditions: anyOperator,
		check: func(p map[string]any) error {
			if v, _ := p["ComparisonValue"].(string); !isSingleJSONPath(v) {
				return fmt.Errorf("ComparisonValue %q is not a single JSONPath identifier", v)
			}
			return nil
		},
	},
	"CheckMetricData": {
		page: "flow-control-actions-checkmetricdata", params: []string{"MetricType", "QueueId", "AgentId"}, flowTypes: bothFlowTypes,
		errorsFor: func(p map[string]any) []string {
			// NoMatchingCondition "only supported if the MetricType is OldestContactInQueueAgeSeconds
			// or NumberOfContactsInQueue".
			if mt, _ := p["MetricType"].(string); mt == "OldestContactInQueueAgeSeconds" || mt == "NumberOfContactsInQueue" {
				return []string{"NoMatchingError", "NoMatchingCondition"}
			}
			return []string{"NoMatchingError"}
		},
		conditions: func(p map[string]any, ops []flowOperation) error {
			if mt, _ := p["MetricType"].(string); strings.HasPrefix(mt, "NumberOfAgents") {
				for _, o := range ops {
					if o.Operator != "NumberGreaterThan" || !slices.Equal(o.Operands, []string{"0"}) {
						return fmt.Errorf(`with %s "the only supported condition is NumberGreaterThan 0", not %v`, mt, o)
					}
				}
				return nil
			}
			return anyOperator(p, ops)
		},
		check: func(p map[string]any) error {
			return oneOf(p["MetricType"], "NumberOfAgentsAvailable", "NumberOfAgentsStaffed", "NumberOfAgentsOnline", "OldestContactInQueueAgeSeconds", "NumberOfContactsInQueue")
		},
	},
	"MessageParticipant": {
		// "supported in contact flows, transfer flows, whisper flows, and customer queue flows";
		// PromptId, Text and SSML exclude one another. "No conditions are supported."
		page: "participant-actions-messageparticipant", params: []string{"PromptId", "Text", "SSML", "Media"}, errors: []string{"NoMatchingError"}, flowTypes: bothFlowTypes,
		check: exactlyOne("PromptId", "Text", "SSML", "Media"),
	},
	"MessageParticipantIteratively": {
		// "supported in Customer Queue, Customer Hold, and Agent Hold flows"; on the interrupt
		// "the action completes with the result as MessagesInterrupted ... only the Equals
		// operator is supported. The only supported operand is MessagesInterrupted."
		page: "participant-actions-messageparticipantiteratively", params: []string{"Messages", "InterruptFrequencySeconds"}, errors: []string{"NoMatchingError"},
		flowTypes: []string{flowTypeCustomerQueue},
		conditions: func(p map[string]any, ops []flowOperation) error {
			for _, o := range ops {
				if o.Operator != "Equals" || !slices.Equal(o.Operands, []string{"MessagesInterrupted"}) {
					return fmt.Errorf("only Equals MessagesInterrupted is supported, not %v", o)
				}
			}
			if _, ok := p["InterruptFrequencySeconds"]; len(ops) > 0 && !ok {
				return fmt.Errorf("a MessagesInterrupted branch without InterruptFrequencySeconds is never taken")
			}
			return nil
		},
		check: func(p map[string]any) error {
			msgs, _ := p["Messages"].([]any)
			if len(msgs) == 0 {
				return fmt.Errorf("Messages must list the messages to loop")
			}
			for _, m := range msgs {
				mm, _ := m.(map[string]any)
				if err := exactlyOne("Text", "PromptId", "SSML", "Media")(mm); err != nil {
					return fmt.Errorf("message %v: %v", m, err)
				}
			}
			if v, ok := p["InterruptFrequencySeconds"]; ok {
				s, _ := v.(string)
				if n, err := strconv.Atoi(s); err != nil || n < 1 {
					return fmt.Errorf("InterruptFrequencySeconds %v is not a whole number of seconds above zero", v)
				}
			}
			return nil
		},
	},
	"DisconnectParticipant": {
		// "No parameters are expected." "Errors: None." Supported "in contact flows, transfer
		// flows, and customer queue flows" (the 2023 page: "This action can be used everywhere").
		page: "participant-actions-disconnectparticipant", flowTypes: bothFlowTypes, terminal: true,
	},
	"EndFlowExecution": {
		// "available only in whisper flows and customer queue flows"; "always a terminal action".
		page: "flow-control-actions-endflowexecution", flowTypes: []string{flowTypeCustomerQueue}, terminal: true,
	},
	"InvokeLambdaFunction": {
		page: "interactions-invokelambdafunction", params: []string{"LambdaFunctionARN", "InvocationTimeLimitSeconds", "LambdaInvocationAttributes"},
		errors: []string{"NoMatchingError"}, flowTypes: bothFlowTypes,
		check: func(p map[string]any) error {
			s, _ := p["InvocationTimeLimitSeconds"].(string)
			if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 8 {
				return fmt.Errorf("InvocationTimeLimitSeconds %v must be 1-8", p["InvocationTimeLimitSeconds"])
			}
			return nil
		},
	},
	"TransferToFlow": {
		// "not available to hold flows, customer queue flows, or whisper flows".
		page: "flow-control-actions-transfertoflow", params: []string{"ContactFlowId"}, errors: []string{"NoMatchingError"}, flowTypes: []string{flowTypeContactFlow},
	},
}

func oneOf(v any, allowed ...string) error {
	s, _ := v.(string)
	if !slices.Contains(allowed, s) {
		return fmt.Errorf("%v must be one of %v", v, allowed)
	}
	return nil
}

func exactlyOne(keys ...string) func(p map[string]any) error {
	return func(p map[string]any) error {
		var set []string
		for _, k := range keys {
			if _, ok := p[k]; ok {
				set = append(set, k)
			}
		}
		if len(set) != 1 {
			return fmt.Errorf("exactly one of %v must be given, not %v", keys, set)
		}
		return nil
	}
}

func anyOperator(_ map[string]any, ops []flowOperation) error {
	for _, o := range ops {
		if !slices.Contains(flowOperators, o.Operator) || len(o.Operands) != 1 {
			return fmt.Errorf("condition %v: the operators are %v, each with one operand", o, flowOperators)
		}
	}
	return nil
}

// isSingleJSONPath reports whether v is one JSONPath identifier and nothing else ("If JSONPath is
// used, it must be the entirety of the value"), such as $.Attributes.key.
func isSingleJSONPath(v string) bool {
	rest, ok := strings.CutPrefix(v, "$.")
	return ok && rest != "" && !strings.ContainsAny(rest, " $")
}

// parsedAction is an Action decoded loosely, so that unknown fields show up.
type parsedAction struct {
	Identifier  string          `json:"Identifier"`
	Type        string          `json:"Type"`
	Parameters  map[string]any  `json:"Parameters"`
	Transitions flowTransitions `json:"Transitions"`
}

type parsedFlow struct {
	Version     string         `json:"Version"`
	StartAction string         `json:"StartAction"`
	Actions     []parsedAction `json:"Actions"`
}

// flowProblems holds a flow's Content to the documented language for a flow of type flowType and
// returns every problem found: unknown types, parameters or error types, errors without a branch,
// transitions to nowhere, unreachable actions, and paths that end without a terminal action.
func flowProblems(content, flowType string) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields() // Metadata aside, the reference names every field; ours writes no Metadata
	var f parsedFlow
	if err := dec.Decode(&f); err != nil {
		return []string{fmt.Sprintf("content is not a flow: %v", err)}
	}
	if f.Version != flowLanguageVersion {
		bad("Version %q, want %q (the only supported version)", f.Version, flowLanguageVersion)
	}
	if len(f.Actions) == 0 || len(f.Actions) > 250 {
		bad("%d actions; a flow has 1 to 250", len(f.Actions))
	}
	byID := map[string]parsedAction{}
	for _, a := range f.Actions {
		if a.Identifier == "" || len(a.Identifier) > 50 || strings.ContainsAny(a.Identifier, flowIdentifierForbidden) {
			bad("Identifier %q: 1-50 characters without any of %s", a.Identifier, flowIdentifierForbidden)
		}
		if _, dup := byID[a.Identifier]; dup {
			bad("Identifier %q is used twice", a.Identifier)
		}
		byID[a.Identifier] = a
	}
	if _, ok := byID[f.StartAction]; !ok {
		bad("StartAction %q names no action", f.StartAction)
	}

	next := map[string][]string{} // every action an action can lead to
	for _, a := range f.Actions {
		doc, ok := documentedActions[a.Type]
		if !ok {
			bad("%s: Type %q is not a documented action (%s)", a.Identifier, a.Type, flowLanguageSource)
			continue
		}
		where := fmt.Sprintf("%s (%s, https://docs.aws.amazon.com/connect/latest/APIReference/%s.html)", a.Identifier, a.Type, doc.page)
		if !slices.Contains(doc.flowTypes, flowType) {
			bad("%s: not supported in a %s flow", where, flowType)
		}
		if a.Parameters == nil {
			bad("%s: Parameters must be an object", where)
		}
		for k := range a.Parameters {
			if !slices.Contains(doc.params, k) {
				bad("%s: parameter %q is not documented (documented: %v)", where, k, doc.params)
			}
		}
		if doc.check != nil {
			if err := doc.check(a.Parameters); err != nil {
				bad("%s: %v", where, err)
			}
		}
		tr := a.Transitions
		if doc.terminal {
			if tr.NextAction != "" || len(tr.Errors) > 0 || len(tr.Conditions) > 0 {
				bad("%s: a terminal action's Transitions must be empty, got %+v", where, tr)
			}
			continue
		}
		wantErrors := doc.errors
		if doc.errorsFor != nil {
			wantErrors = doc.errorsFor(a.Parameters)
		}
		var handled []string
		for _, e := range tr.Errors {
			if !slices.Contains(wantErrors, e.ErrorType) {
				bad("%s: ErrorType %q is not documented for it (documented: %v)", where, e.ErrorType, wantErrors)
			}
			if slices.Contains(handled, e.ErrorType) {
				bad("%s: ErrorType %q has two branches", where, e.ErrorType)
			}
			handled = append(handled, e.ErrorType)
			next[a.Identifier] = append(next[a.Identifier], e.NextAction)
		}
		for _, e := range wantErrors {
			if !slices.Contains(handled, e) {
				bad("%s: the documented error %q has no branch", where, e)
			}
		}
		var ops []flowOperation
		for _, c := range tr.Conditions {
			ops = append(ops, c.Condition)
			next[a.Identifier] = append(next[a.Identifier], c.NextAction)
		}
		if len(ops) > 0 {
			if doc.conditions == nil {
				bad("%s: conditions are not supported", where)
			} else if err := doc.conditions(a.Parameters, ops); err != nil {
				bad("%s: %v", where, err)
			}
		}
		if tr.NextAction != "" {
			next[a.Identifier] = append(next[a.Identifier], tr.NextAction)
		} else if len(tr.Conditions) == 0 {
			bad("%s: no NextAction and no conditions: the flow stops here without ending the call", where)
		}
	}
	for id, targets := range next {
		for _, t := range targets {
			if _, ok := byID[t]; !ok {
				bad("%s: transition to %q, which names no action", id, t)
			}
		}
	}
	seen := map[string]bool{f.StartAction: true}
	for queue := []string{f.StartAction}; len(queue) > 0; queue = queue[1:] {
		for _, t := range next[queue[0]] {
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	for _, a := range f.Actions {
		if !seen[a.Identifier] {
			bad("%s: unreachable from StartAction %q", a.Identifier, f.StartAction)
		}
	}
	return problems
}

// pathsToTerminal lists every path (by identifiers) from StartAction along NextAction, Errors and
// Conditions that ends at a terminal action; a path stops at the first repeated action.
func pathsToTerminal(t *testing.T, content string) [][]parsedAction {
	t.Helper()
	var f parsedFlow
	if err := json.Unmarshal([]byte(content), &f); err != nil {
		t.Fatal(err)
	}
	byID := map[string]parsedAction{}
	for _, a := range f.Actions {
		byID[a.Identifier] = a
	}
	var out [][]parsedAction
	var walk func(path []parsedAction, id string)
	walk = func(path []parsedAction, id string) {
		a, ok := byID[id]
		if !ok || slices.ContainsFunc(path, func(p parsedAction) bool { return p.Identifier == id }) {
			return
		}
		path = append(slices.Clone(path), a)
		if documentedActions[a.Type].terminal {
			out = append(out, path)
			return
		}
		tr := a.Transitions
		for _, c := range tr.Conditions {
			walk(path, c.NextAction)
		}
		for _, e := range tr.Errors {
			walk(path, e.NextAction)
		}
		if tr.NextAction != "" {
			walk(path, tr.NextAction)
		}
	}
	walk(nil, f.StartAction)
	return out
}

// outboundFlowContext turns the outbound flow on with a default message.
func outboundFlowContext(extra map[string]any) map[string]any {
	ctx := map[string]any{keyOutboundFlow: "true", keyOutboundFlowMessage: testSafeHarbourMessage}
	for k, v := range extra {
		ctx[k] = v
	}
	return ctx
}

const testSafeHarbourMessage = "This is Acme Insurance. Sorry we missed you: please call us on 1-800-555-0100."

// outboundFlows is the synthesized pair of flows.
type outboundFlows struct {
	flowID, queueFlowID string
	flow, queueFlow     map[string]any
	// content and queueContent are the resolved Content JSON: the queue flow's ARN in the
	// outbound flow's Fn::Join replaced by queueFlowARN.
	content, queueContent string
}

func synthOutboundFlows(t *testing.T, ctx map[string]any) outboundFlows {
	t.Helper()
	s := synth(t, ctx)
	var out outboundFlows
	for id, p := range s.resourcesOfType("AWS::Connect::ContactFlow") {
		switch {
		case strings.HasPrefix(id, "OutboundQueueFlow"):
			out.queueFlowID, out.queueFlow = id, p
		case strings.HasPrefix(id, "OutboundFlow"):
			out.flowID, out.flow = id, p
		default:
			t.Errorf("unexpected flow %s", id)
		}
	}
	if out.flow == nil || out.queueFlow == nil {
		t.Fatalf("flows %v, want OutboundFlow and OutboundQueueFlow", keys(s.resourcesOfType("AWS::Connect::ContactFlow")))
	}
	out.content = resolveContent(t, out.flow["Content"], map[string]string{out.queueFlowID: queueFlowARN})
	out.queueContent = resolveContent(t, out.queueFlow["Content"], nil)
	return out
}

// queueFlowARN stands for the queue flow's ARN in the resolved outbound flow.
const queueFlowARN = testInstanceARN + "/contact-flow/queue-flow"

// resolveContent returns Content as a string: a plain string, or an Fn::Join of strings and
// Fn::GetAtt <id>.ContactFlowArn, each replaced by arns[id] (any other intrinsic fails the test).
func resolveContent(t *testing.T, v any, arns map[string]string) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	join, _ := v.(map[string]any)["Fn::Join"].([]any)
	if len(join) != 2 || join[0] != "" {
		t.Fatalf("Content %v is neither a string nor an Fn::Join", v)
	}
	var b strings.Builder
	for _, part := range asList(join[1]) {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			ga, _ := p["Fn::GetAtt"].([]any)
			if len(ga) != 2 || ga[1] != "ContactFlowArn" || arns[ga[0].(string)] == "" {
				t.Fatalf("Content refers to %v", p)
			}
			b.WriteString(arns[ga[0].(string)])
		default:
			t.Fatalf("Content part %v", part)
		}
	}
	return b.String()
}

func actionByID(t *testing.T, content, id string) parsedAction {
	t.Helper()
	var f parsedFlow
	if err := json.Unmarshal([]byte(content), &f); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.Actions {
		if a.Identifier == id {
			return a
		}
	}
	t.Fatalf("no action %q", id)
	return parsedAction{}
}

// The stack deploys no flow unless asked: a flow is created in the deployer's instance.
func TestOutboundFlowIsOffByDefault(t *testing.T) {
	s := synth(t, nil)
	if flows := s.resourcesOfType("AWS::Connect::ContactFlow"); len(flows) != 0 {
		t.Fatalf("flows without %s: %v", keyOutboundFlow, keys(flows))
	}
}

// Issue 19: both flows are held to the documented Flow language, and every error of every action
// leads somewhere.
func TestOutboundFlowsFollowTheFlowLanguage(t *testing.T) {
	f := synthOutboundFlows(t, outboundFlowContext(nil))
	for _, c := range []struct {
		name, content, wantType string
		res                     map[string]any
	}{
		{"OutboundFlow", f.content, flowTypeContactFlow, f.flow},
		{"OutboundQueueFlow", f.queueContent, flowTypeCustomerQueue, f.queueFlow},
	} {
		if c.res["Type"] != c.wantType || c.res["InstanceArn"] != testInstanceARN {
			t.Errorf("%s: Type %v InstanceArn %v, want %s in %s", c.name, c.res["Type"], c.res["InstanceArn"], c.wantType, testInstanceARN)
		}
		// AWS::Connect::ContactFlow: Content 1-256000, Name 1-127, Description at most 500.
		name, _ := c.res["Name"].(string)
		desc, _ := c.res["Description"].(string)
		if n := len(c.content); n < 1 || n > 256000 || name == "" || len([]rune(name)) > 127 || len([]rune(desc)) > 500 {
			t.Errorf("%s: content %d bytes, name %q, description %d characters", c.name, n, name, len(desc))
		}
		for _, p := range flowProblems(c.content, c.wantType) {
			t.Errorf("%s: %s", c.name, p)
		}
	}
}

// The behaviour: the answered call is queued with the queue flow as its CustomerQueue hook; the
// queue flow waits the threshold, then marks the contact, plays the campaign's message or the
// default, and hangs up; every way down (errors included) reaches the hang-up only through a
// message.
func TestOutboundFlowQueuesThenPlaysTheSafeHarbourMessage(t *testing.T) {
	f := synthOutboundFlows(t, outboundFlowContext(nil))

	hooks := actionByID(t, f.content, actSetQueueFlow).Parameters["EventHooks"].(map[string]any)
	if hooks["CustomerQueue"] != queueFlowARN {
		t.Errorf("CustomerQueue hook %v, want the queue flow's ARN (GetAtt of %s)", hooks["CustomerQueue"], f.queueFlowID)
	}
	if tr := actionByID(t, f.content, actTransfer); len(tr.Parameters) != 0 {
		t.Errorf("TransferContactToQueue takes the contact's queue (StartOutboundVoiceContact's QueueId), not %v", tr.Parameters)
	}

	wait := actionByID(t, f.queueContent, actWaitForAgent)
	if wait.Parameters["InterruptFrequencySeconds"] != "2" {
		t.Errorf("the default threshold: InterruptFrequencySeconds %v, want \"2\" (FTC 16 CFR 310.4(b)(4), FCC 47 CFR 64.1200(a)(7))", wait.Parameters["InterruptFrequencySeconds"])
	}
	for _, content := range []string{f.content, f.queueContent} {
		if got := actionByID(t, content, actCampaignMessage).Parameters["Text"]; got != "$.Attributes."+safeharbour.AttrMessage {
			t.Errorf("campaign message %v", got)
		}
		if got := actionByID(t, content, actChooseMessage).Parameters["ComparisonValue"]; got != "$.Attributes."+safeharbour.AttrMessage {
			t.Errorf("message choice compares %v", got)
		}
		if got := actionByID(t, content, actDefaultMessage).Parameters["Text"]; got != testSafeHarbourMessage {
			t.Errorf("default message %v, want the context's", got)
		}
	}
	marks := map[string]string{
		f.content:      safeharbour.OutcomeNotQueued,
		f.queueContent: safeharbour.OutcomeThreshold,
	}
	for content, want := range marks {
		var f parsedFlow
		_ = json.Unmarshal([]byte(content), &f)
		var got []string
		for _, a := range f.Actions {
			if a.Type == "UpdateContactAttributes" {
				got = append(got, fmt.Sprint(a.Parameters["Attributes"].(map[string]any)[safeharbour.AttrOutcome]))
			}
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("the flow marks %v, want %s=%s", got, safeharbour.AttrOutcome, want)
		}
	}

	for name, content := range map[string]string{"OutboundFlow": f.content, "OutboundQueueFlow": f.queueContent} {
		paths := pathsToTerminal(t, content)
		if len(paths) < 3 {
			t.Errorf("%s: %d paths to a hang-up", name, len(paths))
		}
		for _, p := range paths {
			var ids []string
			var messaged, marked bool
			for _, a := range p {
				ids = append(ids, a.Identifier)
				messaged = messaged || a.Type == "MessageParticipant"
				marked = marked || a.Type == "UpdateContactAttributes"
			}
			if last := p[len(p)-1]; last.Type != "DisconnectParticipant" || !messaged || !marked {
				t.Errorf("%s: path %v hangs up without marking the contact and trying a message", name, ids)
			}
		}
	}
	// The queue flow has no way out but the interrupt, an error, or an agent taking the call.
	if wait.Transitions.NextAction != "" {
		t.Errorf("the wait has a NextAction %q: it would end the wait before the threshold", wait.Transitions.NextAction)
	}
}

// The context keys set the threshold, the name and the default message.
func TestOutboundFlowSettingsFromContext(t *testing.T) {
	f := synthOutboundFlows(t, outboundFlowContext(map[string]any{keyOutboundFlowThreshold: "3", keyOutboundFlowName: "Acme outbound"}))
	if got := actionByID(t, f.queueContent, actWaitForAgent).Parameters["InterruptFrequencySeconds"]; got != "3" {
		t.Errorf("InterruptFrequencySeconds %v, want \"3\"", got)
	}
	if f.flow["Name"] != "Acme outbound" || f.queueFlow["Name"] != "Acme outbound"+outboundQueueFlowSuffix {
		t.Errorf("names %v, %v", f.flow["Name"], f.queueFlow["Name"])
	}
	s := synth(t, outboundFlowContext(map[string]any{keyOutboundFlowThreshold: "3"}))
	outputs, _ := s.JSON["Outputs"].(map[string]any)
	for _, o := range []string{"OutboundFlowArn", "OutboundFlowId"} {
		if outputs[o] == nil {
			t.Errorf("no output %s", o)
		}
	}
	id, _ := json.Marshal(outputs["OutboundFlowId"])
	if !strings.Contains(string(id), `"Fn::Select":[3,{"Fn::Split":["/"`) {
		t.Errorf("OutboundFlowId %s, want the fourth part of the ARN", id)
	}
}

func TestLoadSettingsOutboundFlow(t *testing.T) {
	base := func(extra map[string]any) map[string]any {
		ctx := map[string]any{keyInstanceARN: exampleInstanceARN}
		for k, v := range extra {
			ctx[k] = v
		}
		return ctx
	}
	s, err := LoadSettings(base(map[string]any{keyOutboundFlow: true, keyOutboundFlowMessage: testSafeHarbourMessage, keyOutboundFlowThreshold: 5.0}))
	if err != nil {
		t.Fatal(err)
	}
	if !s.OutboundFlow || s.OutboundFlowName != DefaultOutboundFlowName || s.OutboundFlowThreshold != 5 || s.OutboundFlowMessage != testSafeHarbourMessage {
		t.Errorf("cdk.json values (a boolean, a number): %+v", s)
	}
	if s, err := LoadSettings(base(map[string]any{keyOutboundFlow: "true", keyOutboundFlowMessage: testSafeHarbourMessage})); err != nil || s.OutboundFlowThreshold != 2 {
		t.Errorf("default threshold: %v, %v", s.OutboundFlowThreshold, err)
	}
	if s, err := LoadSettings(base(map[string]any{keyOutboundFlow: "false"})); err != nil || s.OutboundFlow {
		t.Errorf("off: %+v, %v", s, err)
	}
	for name, c := range map[string]struct {
		ctx  map[string]any
		want []string
	}{
		"no message":        {map[string]any{keyOutboundFlow: "true"}, []string{`"outboundFlowMessage" is required`}},
		"message no number": {map[string]any{keyOutboundFlow: "true", keyOutboundFlowMessage: "Sorry we missed you"}, []string{`"outboundFlowMessage"`, "telephone number"}},
		"flag not boolean":  {map[string]any{keyOutboundFlow: "yes"}, []string{`"outboundFlow": "yes" must be true or false`}},
		"flag 1":            {map[string]any{keyOutboundFlow: "1", keyOutboundFlowMessage: testSafeHarbourMessage}, []string{`must be true or false`}},
		"threshold 0":       {map[string]any{keyOutboundFlow: "true", keyOutboundFlowMessage: testSafeHarbourMessage, keyOutboundFlowThreshold: "0"}, []string{`"outboundFlowThresholdSeconds"`, "whole seconds"}},
		"threshold 1.5":     {map[string]any{keyOutboundFlow: "true", keyOutboundFlowMessage: testSafeHarbourMessage, keyOutboundFlowThreshold: "1.5"}, []string{"not a whole number"}},
		"threshold 61":      {map[string]any{keyOutboundFlow: "true", keyOutboundFlowMessage: testSafeHarbourMessage, keyOutboundFlowThreshold: 61.0}, []string{"whole seconds from 1s to 1m0s"}},
		"name too long":     {map[string]any{keyOutboundFlow: "true", keyOutboundFlowMessage: testSafeHarbourMessage, keyOutboundFlowName: strings.Repeat("n", maxOutboundFlowName+1)}, []string{`"outboundFlowName"`, "at most 110"}},
		"keys without flag": {map[string]any{keyOutboundFlowMessage: testSafeHarbourMessage, keyOutboundFlowThreshold: "2"}, []string{`"outboundFlowMessage" is set but "outboundFlow" is not`, `"outboundFlowThresholdSeconds" is set`}},
		"near miss":         {map[string]any{"outbound_flow": "true"}, []string{`did you mean "outboundFlow"`}},
	} {
		_, err := LoadSettings(base(c.ctx))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
}

// The checker itself finds what it is for: each mutation of a good flow must be reported.
func TestFlowProblemsFindsBrokenFlows(t *testing.T) {
	good := queueFlowContent(2, testSafeHarbourMessage)
	if p := flowProblems(good, flowTypeCustomerQueue); len(p) != 0 {
		t.Fatalf("the good flow: %v", p)
	}
	if p := flowProblems(outboundFlowContent(queueFlowARN, testSafeHarbourMessage), flowTypeContactFlow); len(p) != 0 {
		t.Fatalf("the good outbound flow: %v", p)
	}
	mutate := func(f func(*parsedFlow)) string {
		var pf parsedFlow
		if err := json.Unmarshal([]byte(good), &pf); err != nil {
			t.Fatal(err)
		}
		f(&pf)
		b, _ := json.Marshal(pf)
		return string(b)
	}
	find := func(pf *parsedFlow, id string) *parsedAction {
		for i := range pf.Actions {
			if pf.Actions[i].Identifier == id {
				return &pf.Actions[i]
			}
		}
		t.Fatalf("no %s", id)
		return nil
	}
	for name, c := range map[string]struct {
		content, flowType, want string
	}{
		"wrong flow type": {good, flowTypeContactFlow, "not supported in a CONTACT_FLOW flow"},
		"unknown type":    {mutate(func(pf *parsedFlow) { find(pf, actHangUp).Type = "HangUp" }), flowTypeCustomerQueue, `Type "HangUp" is not a documented action`},
		"unknown param":   {mutate(func(pf *parsedFlow) { find(pf, actDefaultMessage).Parameters["Voice"] = "Joanna" }), flowTypeCustomerQueue, `parameter "Voice" is not documented`},
		"two messages":    {mutate(func(pf *parsedFlow) { find(pf, actDefaultMessage).Parameters["SSML"] = "<speak/>" }), flowTypeCustomerQueue, "exactly one of"},
		"missing error":   {mutate(func(pf *parsedFlow) { find(pf, actCampaignMessage).Transitions.Errors = nil }), flowTypeCustomerQueue, `the documented error "NoMatchingError" has no branch`},
		"undocumented err": {mutate(func(pf *parsedFlow) {
			a := find(pf, actChooseMessage)
			a.Transitions.Errors = append(a.Transitions.Errors, flowError{actHangUp, "NoMatchingError"})
		}), flowTypeCustomerQueue, `ErrorType "NoMatchingError" is not documented`},
		"dangling next":  {mutate(func(pf *parsedFlow) { find(pf, actDefaultMessage).Transitions.NextAction = "nowhere" }), flowTypeCustomerQueue, `transition to "nowhere"`},
		"dangling error": {mutate(func(pf *parsedFlow) { find(pf, actMarkNoAgent).Transitions.Errors[0].NextAction = "nowhere" }), flowTypeCustomerQueue, `transition to "nowhere"`},
		"unreachable": {mutate(func(pf *parsedFlow) {
			find(pf, actCampaignMessage).Transitions.NextAction = actDefaultMessage
			find(pf, actDefaultMessage).Transitions.NextAction = actDefaultMessage
			find(pf, actDefaultMessage).Transitions.Errors = onError(actDefaultMessage, "NoMatchingError")
		}), flowTypeCustomerQueue, "hang-up: unreachable"},
		"no start": {mutate(func(pf *parsedFlow) { pf.StartAction = "begin" }), flowTypeCustomerQueue, `StartAction "begin" names no action`},
		"version":  {mutate(func(pf *parsedFlow) { pf.Version = "2020-01-01" }), flowTypeCustomerQueue, "the only supported version"},
		"dead end": {mutate(func(pf *parsedFlow) { find(pf, actDefaultMessage).Transitions.NextAction = "" }), flowTypeCustomerQueue, "no NextAction and no conditions"},
		"bad condition": {mutate(func(pf *parsedFlow) {
			find(pf, actWaitForAgent).Transitions.Conditions[0].Condition.Operands = []string{"Done"}
		}), flowTypeCustomerQueue, "only Equals MessagesInterrupted"},
		"bad interrupt":  {mutate(func(pf *parsedFlow) { find(pf, actWaitForAgent).Parameters["InterruptFrequencySeconds"] = "0" }), flowTypeCustomerQueue, "InterruptFrequencySeconds"},
		"terminal moves": {mutate(func(pf *parsedFlow) { find(pf, actHangUp).Transitions.NextAction = actWaitForAgent }), flowTypeCustomerQueue, "a terminal action's Transitions must be empty"},
		"bad identifier": {mutate(func(pf *parsedFlow) { find(pf, actHangUp).Identifier = "hang:up" }), flowTypeCustomerQueue, `Identifier "hang:up"`},
		"not JSON":       {"{", flowTypeCustomerQueue, "content is not a flow"},
	} {
		problems := strings.Join(flowProblems(c.content, c.flowType), "\n")
		if !strings.Contains(problems, c.want) {
			t.Errorf("%s: problems %q do not say %q", name, problems, c.want)
		}
	}
}
