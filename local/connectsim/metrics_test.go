package connectsim_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

func currentMetrics(cl *connect.Client, groupings []types.Grouping, filters *types.Filters, names ...types.CurrentMetricName) (*connect.GetCurrentMetricDataOutput, error) {
	var ms []types.CurrentMetric
	for _, n := range names {
		ms = append(ms, types.CurrentMetric{Name: n})
	}
	if filters == nil {
		filters = &types.Filters{Queues: []string{connectsim.DefaultQueueID}}
	}
	return cl.GetCurrentMetricData(context.Background(), &connect.GetCurrentMetricDataInput{
		InstanceId: aws.String(connectsim.DefaultInstanceID), Filters: filters, Groupings: groupings, CurrentMetrics: ms,
	})
}

func TestGetCurrentMetricDataEdgeCases(t *testing.T) {
	t.Parallel()
	srv, cl, _ := startCalls(t, callWorld())
	// Nobody online, nothing queued: an empty MetricResults, not zeros.
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 0); err != nil {
		t.Fatal(err)
	}
	out, err := currentMetrics(cl, nil, nil, types.CurrentMetricNameAgentsAvailable)
	if err != nil || len(out.MetricResults) != 0 {
		t.Fatalf("no data: %v, %d results", err, len(out.MetricResults))
	}
	// Agents but nothing queued: counts are 0, OLDEST_CONTACT_AGE is null.
	_ = srv.SetStaffedAgents(connectsim.DefaultInstanceID, 1)
	out, err = currentMetrics(cl, nil, nil, types.CurrentMetricNameAgentsAvailable, types.CurrentMetricNameOldestContactAge)
	if err != nil || len(out.MetricResults) != 1 {
		t.Fatalf("with an agent: %v %+v", err, out)
	}
	col := out.MetricResults[0].Collections
	if col[0].Value == nil || *col[0].Value != 1 || col[1].Value != nil {
		t.Fatalf("AGENTS_AVAILABLE %v, OLDEST_CONTACT_AGE %v (want 1 and null)", col[0].Value, col[1].Value)
	}
	// Queues and routing profiles together are refused.
	_, err = currentMetrics(cl, nil, &types.Filters{Queues: []string{connectsim.DefaultQueueID}, RoutingProfiles: []string{connectsim.DefaultRoutingProfileID}}, types.CurrentMetricNameAgentsAvailable)
	if apiCode(err) != "InvalidParameterException" {
		t.Fatalf("both filters: %v", err)
	}
	// ESTIMATED_WAIT_TIME needs the queue grouping.
	if _, err := currentMetrics(cl, nil, nil, types.CurrentMetricNameEstimatedWaitTime); apiCode(err) != "InvalidParameterException" {
		t.Fatalf("ESTIMATED_WAIT_TIME without grouping: %v", err)
	}
	ewt := func() *float64 {
		t.Helper()
		out, err := currentMetrics(cl, []types.Grouping{types.GroupingQueue}, nil, types.CurrentMetricNameEstimatedWaitTime)
		if err != nil || len(out.MetricResults) != 1 || out.MetricResults[0].Dimensions == nil || out.MetricResults[0].Dimensions.Queue == nil {
			t.Fatalf("ESTIMATED_WAIT_TIME by queue: %v %+v", err, out)
		}
		return out.MetricResults[0].Collections[0].Value
	}
	if v := ewt(); v == nil || *v != 0 {
		t.Fatalf("with an agent available: %v", v)
	}
	// One agent on a call, one person waiting: (1 + 1) × (60 s talk + 30 s ACW) / 1 agent.
	_, _ = dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	_, _ = dial(cl, numAnswer)
	_ = srv.Advance(12 * time.Second)
	if v := ewt(); v == nil || *v != 180 {
		t.Fatalf("with one queued behind a busy agent: %v", v)
	}
	_ = srv.SetAgents(connectsim.DefaultInstanceID, []connectsim.Agent{{ID: "aaaaaaaa-0000-4000-8000-000000000001", Status: "OFFLINE"}})
	_ = srv.Advance(2 * time.Minute) // the agent finishes the call and ACW, then is offline
	if v := ewt(); v != nil {
		t.Fatalf("with nobody staffed: %v, want null", *v)
	}
}

// The agent-state metrics agree with the simulated agents and contacts at every instant of a
// busy run.
func TestAgentMetricsConsistentDuringARun(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	w.Instances[0].MaxConcurrentCalls = 100
	w.Calls.AgentHangupShare = 0.3
	srv, cl := start(t, connectsim.Options{World: w, DisableThrottling: true, Seed: 5})
	names := []types.CurrentMetricName{types.CurrentMetricNameAgentsOnline, types.CurrentMetricNameAgentsAvailable, types.CurrentMetricNameAgentsOnCall,
		types.CurrentMetricNameAgentsAfterContactWork, types.CurrentMetricNameAgentsNonProductive, types.CurrentMetricNameAgentsStaffed, types.CurrentMetricNameContactsInQueue}
	for step := 0; step < 240; step++ {
		if step%4 == 0 && step < 160 {
			for i := 0; i < 3; i++ {
				if _, err := dial(cl, fmt.Sprintf("+1404555%02d%02d", step, i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if step == 80 {
			_ = srv.SetStaffedAgents(connectsim.DefaultInstanceID, 6)
		}
		if step == 150 {
			_ = srv.SetStaffedAgents(connectsim.DefaultInstanceID, 2)
		}
		_ = srv.Advance(5 * time.Second)
		out, err := currentMetrics(cl, nil, nil, names...)
		if err != nil {
			t.Fatal(err)
		}
		m := map[types.CurrentMetricName]float64{}
		for _, r := range out.MetricResults {
			for _, c := range r.Collections {
				m[c.Metric.Name] = aws.ToFloat64(c.Value)
			}
		}
		want := map[types.CurrentMetricName]float64{}
		for _, a := range srv.Agents(connectsim.DefaultInstanceID) {
			if a.Status == "OFFLINE" && a.Activity == "" {
				continue
			}
			want["AGENTS_ONLINE"]++
			switch {
			case a.Activity == "ON_CONTACT":
				want["AGENTS_ON_CALL"]++
			case a.Activity == "AFTER_CONTACT_WORK":
				want["AGENTS_AFTER_CONTACT_WORK"]++
			case a.Status == "AVAILABLE":
				want["AGENTS_AVAILABLE"]++
			default:
				want["AGENTS_NON_PRODUCTIVE"]++
			}
		}
		want["AGENTS_STAFFED"] = want["AGENTS_AVAILABLE"] + want["AGENTS_ON_CALL"] + want["AGENTS_AFTER_CONTACT_WORK"]
		for _, c := range srv.Contacts() {
			if c.Status == "QUEUED" {
				want["CONTACTS_IN_QUEUE"]++
			}
		}
		for _, n := range names {
			if m[n] != want[n] {
				t.Fatalf("step %d: %s = %v, the agents and contacts say %v (all: %v)", step, n, m[n], want[n], m)
			}
		}
	}
}
