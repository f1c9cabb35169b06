package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/contactflow"
	"github.com/switchboard-connect/switchboard/shared/flowbudget"
)

// flowConcurrency is how many contact-flow invocations run at once (one execution environment
// each).
const flowConcurrency = 3

// flowRun is one contact-flow invocation as the rig, standing in for Connect's block, saw it.
type flowRun struct {
	op, contactID string
	resp          map[string]string
	// problem says why the answer is not one a flow can branch on; "" when it is.
	problem string
}

// flowLog is the function's own line about one invocation.
type flowLog struct {
	duration      time.Duration
	outcome, code string
}

// flowLogLine takes one stdout line of a contact-flow process.
func (r *Rig) flowLogLine(line string) {
	var l struct {
		Msg        string `json:"msg"`
		DurationMS *int64 `json:"duration_ms"`
		Outcome    string `json:"outcome"`
		ErrorCode  string `json:"error_code"`
	}
	if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "contact-flow invocation" || l.DurationMS == nil {
		return
	}
	r.mu.Lock()
	r.flowLogs = append(r.flowLogs, flowLog{duration: time.Duration(*l.DurationMS) * time.Millisecond, outcome: l.Outcome, code: l.ErrorCode})
	r.mu.Unlock()
}

// flows runs the contact flow of every call that connected, as the flow's "Invoke AWS Lambda
// function" blocks would: it writes an attribute, and for the numbers planned to, records the
// callee's opt-out.
func (r *Rig) flows(ctx context.Context) {
	sem := make(chan struct{}, flowConcurrency)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for i := 0; i < flowConcurrency; i++ {
				sem <- struct{}{}
			}
			return
		case <-t.C:
		}
		for _, ct := range r.sim.Contacts() {
			if ct.InitiationMethod != "API" || ct.ConnectedToSystemTimestamp.IsZero() {
				continue
			}
			r.mu.Lock()
			seen := r.contacted[ct.ID]
			r.contacted[ct.ID] = true
			optOut := r.optOutPlan[ct.CustomerNumber]
			r.mu.Unlock()
			if seen {
				continue
			}
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				r.invokeFlow(ctx, ct, map[string]any{"operation": "update", "reminder_played": "yes", "soak_attempt": time.Now().UnixMilli()})
				if optOut {
					r.optOut(ctx, ct, "pressed 9 in the reminder call")
				}
			}()
		}
	}
}

// hotlineOptOut is a recipient calling the hotline and opting out there: an inbound contact
// whose flow records its number.
func (r *Rig) hotlineOptOut(ctx context.Context, phone string) {
	ct, err := r.sim.CreateContact(connectsim.NewContact{CustomerNumber: phone})
	if err != nil {
		r.t.Errorf("create the hotline contact: %v", err)
		return
	}
	r.optOut(ctx, ct, "asked the hotline")
	r.hangUp(ctx, ct.ID)
}

// hangUp ends a hotline contact, as the caller hanging up: connectsim does not end an inbound
// contact by itself, and every one left open holds one of the instance's concurrent calls. Through
// the API, faults included: tried until Connect answers, ContactNotFoundException (410) meaning the
// contact has ended.
func (r *Rig) hangUp(ctx context.Context, contactID string) {
	for try := 0; try < 50 && ctx.Err() == nil; try++ {
		_, err := r.connect.StopContact(ctx, &connect.StopContactInput{InstanceId: aws.String(connectsim.DefaultInstanceID), ContactId: aws.String(contactID)})
		var gone *types.ContactNotFoundException
		if err == nil || errors.As(err, &gone) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Errorf("the hotline contact %s could not be ended", contactID)
}

// optOut invokes the opt-out until the function acknowledges it, as a flow looping back on its
// error branch would, and keeps the instant of the first acknowledgement.
func (r *Rig) optOut(ctx context.Context, ct connectsim.ContactView, reason string) {
	for try := 0; try < 10 && ctx.Err() == nil; try++ {
		resp := r.invokeFlow(ctx, ct, map[string]any{"operation": "optout", "reason": reason})
		if resp[contactflow.RespResult] == contactflow.ResultOK {
			at := r.clock.Now()
			r.mu.Lock()
			if _, ok := r.optOuts[ct.CustomerNumber]; !ok {
				r.optOuts[ct.CustomerNumber] = at
			}
			r.mu.Unlock()
			return
		}
	}
}

// invokeFlow runs one invocation and judges its answer.
func (r *Rig) invokeFlow(ctx context.Context, ct connectsim.ContactView, params map[string]any) map[string]string {
	payload, _ := json.Marshal(map[string]any{
		"Name": "ContactFlowEvent",
		"Details": map[string]any{
			"ContactData": map[string]any{
				"Attributes": ct.Attributes, "Channel": "VOICE", "ContactId": ct.ID, "InitialContactId": ct.InitialContactID,
				"InitiationMethod": ct.InitiationMethod, "InstanceARN": r.sim.InstanceARN(ct.InstanceID),
				"CustomerEndpoint": map[string]string{"Address": ct.CustomerNumber, "Type": "TELEPHONE_NUMBER"},
			},
			"Parameters": params,
		},
	})
	op, _ := params["operation"].(string)
	run := flowRun{op: op, contactID: ct.ID}
	res, err := r.flowRT.Invoke(ctx, payload, flowBlockTimeout)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil // the run is over
	case err != nil:
		run.problem = fmt.Sprintf("no answer within %v: %v", flowBlockTimeout, err)
	case res.Error != nil:
		run.problem = fmt.Sprintf("a Lambda error instead of a flat map: %.200s", res.Error)
	default:
		run.resp, run.problem = judge(op, res.Payload)
	}
	r.mu.Lock()
	r.flowRuns = append(r.flowRuns, run)
	key := run.resp[contactflow.RespResult]
	if c := run.resp[contactflow.RespErrorCode]; c != "" {
		key += ":" + c
	}
	if run.problem != "" {
		key = "unanswered"
	}
	r.stats.FlowResults[op+" "+key]++
	r.mu.Unlock()
	return run.resp
}

// judge reports what is wrong with an answer a flow must be able to branch on: a flat JSON map
// of strings with result ok or error, an error with a known code and a message, an opt-out
// with its status.
func judge(op string, payload []byte) (map[string]string, string) {
	var resp map[string]string
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, fmt.Sprintf("not a flat map of strings: %v: %.200s", err, payload)
	}
	if len(payload) >= contactflow.MaxResponseBytes {
		return resp, fmt.Sprintf("answer of %d bytes, over Connect's limit", len(payload))
	}
	switch resp[contactflow.RespResult] {
	case contactflow.ResultOK:
		if op == string(contactflow.OpOptOut) && !slices.Contains([]string{contactflow.OptOutRecorded, contactflow.OptOutAlreadyRecorded}, resp[contactflow.RespOptOutStatus]) {
			return resp, fmt.Sprintf("opt-out acknowledged without its status: %v", resp)
		}
	case contactflow.ResultError:
		if !slices.Contains(contactflow.Codes, contactflow.Code(resp[contactflow.RespErrorCode])) || resp[contactflow.RespErrorMessage] == "" {
			return resp, fmt.Sprintf("error without a known code and a message: %v", resp)
		}
	default:
		return resp, fmt.Sprintf("result %q is neither ok nor error", resp[contactflow.RespResult])
	}
	return resp, ""
}

// flowProblems checks every invocation so far: each answered as a flow can branch on, and each
// within its budget by the function's own measure (its log line's duration), with flowbudget's
// headroom for what the function cannot see (the answer's way back). It also checks that the
// function logged one line per answered invocation.
func (r *Rig) flowProblems(final bool) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	answered := 0
	for _, run := range r.flowRuns {
		if run.problem != "" {
			out = append(out, fmt.Sprintf("contact-flow %s for contact %s: %s", run.op, run.contactID, run.problem))
			continue
		}
		answered++
	}
	limit := FlowBudget + flowbudget.FlowHeadroom
	for _, l := range r.flowLogs {
		if l.duration > limit {
			out = append(out, fmt.Sprintf("a contact-flow invocation (%s %s) took %v by its own log, over its budget %v plus the %v headroom", l.outcome, l.code, l.duration, FlowBudget, flowbudget.FlowHeadroom))
		}
	}
	if final && len(r.flowLogs) != len(r.flowRuns) {
		out = append(out, fmt.Sprintf("%d contact-flow invocations (%d answered), but %d invocation lines logged by the function", len(r.flowRuns), answered, len(r.flowLogs)))
	}
	return out
}
