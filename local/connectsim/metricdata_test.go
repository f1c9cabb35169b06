package connectsim_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

func hm(name types.HistoricalMetricName, unit types.Unit, stat types.Statistic) types.HistoricalMetric {
	return types.HistoricalMetric{Name: name, Unit: unit, Statistic: stat}
}

func serviceLevel(x float64) types.HistoricalMetric {
	m := hm(types.HistoricalMetricNameServiceLevel, types.UnitPercent, types.StatisticAvg)
	m.Threshold = &types.Threshold{Comparison: types.ComparisonLt, ThresholdValue: aws.Float64(x)}
	return m
}

// historicalValues maps each metric of a result to its value (NaN for null).
func historicalValues(r types.HistoricalMetricResult) map[string]float64 {
	out := map[string]float64{}
	for _, c := range r.Collections {
		k := string(c.Metric.Name)
		if c.Metric.Threshold != nil {
			k += "<" + time.Duration(aws.ToFloat64(c.Metric.Threshold.ThresholdValue)*float64(time.Second)).String()
		}
		out[k] = math.NaN()
		if c.Value != nil {
			out[k] = *c.Value
		}
	}
	return out
}

// TestGetMetricDataFromSimulatedContacts: one agent, three answered calls that queue at once,
// people who hang up after 100 s in the queue. The agent takes the first at 12 s (talk 60 s,
// after-contact work 30 s), the second at 102 s, after 90 s in the queue; the third hangs up at
// 112 s. Every expected value below is worked out from that timeline by hand.
func TestGetMetricDataFromSimulatedContacts(t *testing.T) {
	t.Parallel()
	w := callWorld()
	w.Calls.Patience = connectsim.Patience{Distribution: connectsim.PatienceUniform, Min: connectsim.Duration(100 * time.Second), Max: connectsim.Duration(100 * time.Second)}
	srv, cl, _ := startCalls(t, w)
	if err := srv.SetStaffedAgents(connectsim.DefaultInstanceID, 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := dial(cl, numAnswer); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dial(cl, numNoAnswer); err != nil { // never queued: in no queue's metrics
		t.Fatal(err)
	}
	_ = srv.Advance(10 * time.Minute)
	ctx := context.Background()
	all := []types.HistoricalMetric{
		hm("CONTACTS_QUEUED", "COUNT", "SUM"), hm("CONTACTS_HANDLED", "COUNT", "SUM"), hm("API_CONTACTS_HANDLED", "COUNT", "SUM"),
		hm("CONTACTS_HANDLED_OUTBOUND", "COUNT", "SUM"), hm("CONTACTS_HANDLED_INCOMING", "COUNT", "SUM"), hm("CONTACTS_ABANDONED", "COUNT", "SUM"),
		hm("CONTACTS_AGENT_HUNG_UP_FIRST", "COUNT", "SUM"), hm("CONTACTS_MISSED", "COUNT", "SUM"), hm("CONTACTS_TRANSFERRED_OUT", "COUNT", "SUM"),
		hm("ABANDON_TIME", "SECONDS", "AVG"), hm("QUEUE_ANSWER_TIME", "SECONDS", "AVG"), hm("QUEUED_TIME", "SECONDS", "MAX"),
		hm("INTERACTION_TIME", "SECONDS", "AVG"), hm("INTERACTION_AND_HOLD_TIME", "SECONDS", "AVG"), hm("HANDLE_TIME", "SECONDS", "AVG"),
		hm("AFTER_CONTACT_WORK_TIME", "SECONDS", "AVG"), hm("HOLD_TIME", "SECONDS", "AVG"), hm("CONTACTS_CONSULTED", "COUNT", "SUM"),
		hm("OCCUPANCY", "PERCENT", "AVG"), serviceLevel(60), serviceLevel(95),
	}
	query := func(start, end time.Time, groupings ...types.Grouping) *connect.GetMetricDataOutput {
		t.Helper()
		out, err := cl.GetMetricData(ctx, &connect.GetMetricDataInput{InstanceId: inst, StartTime: aws.Time(start), EndTime: aws.Time(end),
			Filters: &types.Filters{Queues: []string{connectsim.DefaultQueueID}, Channels: []types.Channel{types.ChannelVoice}}, Groupings: groupings, HistoricalMetrics: all})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := map[string]float64{
		"CONTACTS_QUEUED": 3, "CONTACTS_HANDLED": 2, "API_CONTACTS_HANDLED": 2, "CONTACTS_HANDLED_OUTBOUND": 0, "CONTACTS_HANDLED_INCOMING": 0,
		"CONTACTS_ABANDONED": 1, "CONTACTS_AGENT_HUNG_UP_FIRST": 0, "CONTACTS_MISSED": 0, "CONTACTS_TRANSFERRED_OUT": 0,
		"ABANDON_TIME": 100, "QUEUE_ANSWER_TIME": 45, "QUEUED_TIME": 100, "INTERACTION_TIME": 60, "INTERACTION_AND_HOLD_TIME": 60,
		"HANDLE_TIME": 90, "AFTER_CONTACT_WORK_TIME": 30, "HOLD_TIME": math.NaN(), "CONTACTS_CONSULTED": math.NaN(),
		// On contact 12-192 s (180 s), idle 0-12 s and 192-600 s (420 s).
		"OCCUPANCY":          30,
		"SERVICE_LEVEL<1m0s": 100.0 / 3, "SERVICE_LEVEL<1m35s": 200.0 / 3,
	}
	check := func(what string, got map[string]float64, want map[string]float64) {
		t.Helper()
		for k, v := range want {
			g, ok := got[k]
			if !ok || (math.IsNaN(v) != math.IsNaN(g)) || (!math.IsNaN(v) && math.Abs(g-v) > 1e-9) {
				t.Errorf("%s: %s = %v, want %v", what, k, g, v)
			}
		}
	}
	out := query(t0, t0.Add(10*time.Minute))
	if len(out.MetricResults) != 1 || out.MetricResults[0].Dimensions != nil || len(out.MetricResults[0].Collections) != len(all) {
		t.Fatalf("no groupings: %+v", out.MetricResults)
	}
	check("summary", historicalValues(out.MetricResults[0]), want)
	if c := out.MetricResults[0].Collections[0].Metric; c.Name != "CONTACTS_QUEUED" || c.Unit != types.UnitCount || c.Statistic != types.StatisticSum {
		t.Fatalf("the metric is not echoed: %+v", c)
	}

	out = query(t0, t0.Add(10*time.Minute), types.GroupingQueue, types.GroupingChannel)
	if len(out.MetricResults) != 1 {
		t.Fatalf("by queue and channel: %d results", len(out.MetricResults))
	}
	d := out.MetricResults[0].Dimensions
	if d == nil || aws.ToString(d.Queue.Id) != connectsim.DefaultQueueID || aws.ToString(d.Queue.Arn) != srv.InstanceARN(connectsim.DefaultInstanceID)+"/queue/"+connectsim.DefaultQueueID || d.Channel != types.ChannelVoice {
		t.Fatalf("dimensions %+v", d)
	}
	check("by queue and channel", historicalValues(out.MetricResults[0]), want)

	// By routing profile: the contacts its agents handled (the abandoned one had none).
	out = query(t0, t0.Add(10*time.Minute), types.GroupingRoutingProfile)
	if len(out.MetricResults) != 1 || aws.ToString(out.MetricResults[0].Dimensions.RoutingProfile.Id) != connectsim.DefaultRoutingProfileID {
		t.Fatalf("by routing profile: %+v", out.MetricResults)
	}
	check("by routing profile", historicalValues(out.MetricResults[0]), map[string]float64{"CONTACTS_QUEUED": 2, "CONTACTS_HANDLED": 2, "CONTACTS_ABANDONED": 0, "OCCUPANCY": 30})

	// The first 5 minutes: the same contacts (they began at 0 s), the agent's first 300 s.
	out = query(t0, t0.Add(5*time.Minute))
	check("first 5 minutes", historicalValues(out.MetricResults[0]), map[string]float64{"CONTACTS_QUEUED": 3, "OCCUPANCY": 60})
	// After the calls and the clock: no data at all.
	if out := query(t0.Add(10*time.Minute), t0.Add(15*time.Minute)); len(out.MetricResults) != 0 {
		t.Fatalf("an interval without data: %+v", out.MetricResults)
	}
}

func TestGetMetricDataValidation(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{DisableThrottling: true, Clock: connectsim.NewManualClock(t0)})
	_ = srv.Advance(time.Hour)
	now := t0.Add(time.Hour)
	ctx := context.Background()
	handled := hm("CONTACTS_HANDLED", "COUNT", "SUM")
	base := func() *connect.GetMetricDataInput {
		return &connect.GetMetricDataInput{InstanceId: inst, StartTime: aws.Time(t0), EndTime: aws.Time(now),
			Filters: &types.Filters{Queues: []string{connectsim.DefaultQueueID}}, HistoricalMetrics: []types.HistoricalMetric{handled}}
	}
	for _, tc := range []struct {
		name   string
		mod    func(*connect.GetMetricDataInput)
		code   string
		status int
	}{
		{"a valid request", func(*connect.GetMetricDataInput) {}, "", 200},
		{"start off the 5-minute grid", func(in *connect.GetMetricDataInput) { in.StartTime = aws.Time(t0.Add(time.Minute)) }, "InvalidParameterException", 400},
		{"end off the grid", func(in *connect.GetMetricDataInput) { in.EndTime = aws.Time(now.Add(30 * time.Second)) }, "InvalidParameterException", 400},
		{"end before start", func(in *connect.GetMetricDataInput) { in.EndTime = aws.Time(t0) }, "InvalidParameterException", 400},
		{"24 hours apart", func(in *connect.GetMetricDataInput) {
			in.StartTime, in.EndTime = aws.Time(now.Add(-23*time.Hour)), aws.Time(now.Add(time.Hour))
		}, "InvalidParameterException", 400},
		{"23:55 apart", func(in *connect.GetMetricDataInput) {
			in.StartTime, in.EndTime = aws.Time(now.Add(-23*time.Hour)), aws.Time(now.Add(55*time.Minute))
		}, "", 200},
		{"start over 24 hours ago", func(in *connect.GetMetricDataInput) { in.StartTime = aws.Time(now.Add(-24*time.Hour - 5*time.Minute)) }, "InvalidParameterException", 400},
		{"no queue", func(in *connect.GetMetricDataInput) { in.Filters = &types.Filters{} }, "InvalidParameterException", 400},
		{"a routing profile filter", func(in *connect.GetMetricDataInput) {
			in.Filters.RoutingProfiles = []string{connectsim.DefaultRoutingProfileID}
		}, "InvalidParameterException", 400},
		{"101 queues", func(in *connect.GetMetricDataInput) { in.Filters.Queues = slices.Repeat([]string{"q"}, 101) }, "InvalidRequestException", 400},
		{"unknown queue", func(in *connect.GetMetricDataInput) { in.Filters.Queues = []string{"nope"} }, "ResourceNotFoundException", 404},
		{"queue by ARN", func(in *connect.GetMetricDataInput) {
			in.Filters.Queues = []string{srv.InstanceARN(connectsim.DefaultInstanceID) + "/queue/" + connectsim.DefaultQueueID}
		}, "", 200},
		{"unknown instance", func(in *connect.GetMetricDataInput) { in.InstanceId = aws.String("nope") }, "ResourceNotFoundException", 404},
		{"wrong unit", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{hm("HANDLE_TIME", "COUNT", "AVG")}
		}, "InvalidParameterException", 400},
		{"wrong statistic", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{hm("QUEUED_TIME", "SECONDS", "AVG")}
		}, "InvalidParameterException", 400},
		{"no statistic", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{{Name: "CONTACTS_HANDLED", Unit: "COUNT"}}
		}, "InvalidParameterException", 400},
		{"unknown metric", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{hm("CONTACTS_INCOMING", "COUNT", "SUM")}
		}, "InvalidRequestException", 400},
		{"no metric", func(in *connect.GetMetricDataInput) { in.HistoricalMetrics = []types.HistoricalMetric{} }, "InvalidParameterException", 400},
		{"SERVICE_LEVEL without a threshold", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{hm("SERVICE_LEVEL", "PERCENT", "AVG")}
		}, "InvalidParameterException", 400},
		{"threshold 0", func(in *connect.GetMetricDataInput) { in.HistoricalMetrics = []types.HistoricalMetric{serviceLevel(0)} }, "InvalidParameterException", 400},
		{"threshold 604801", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{serviceLevel(604801)}
		}, "InvalidParameterException", 400},
		{"threshold 1.5", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{serviceLevel(1.5)}
		}, "InvalidParameterException", 400},
		{"threshold 604800", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = []types.HistoricalMetric{serviceLevel(604800)}
		}, "", 200},
		{"a threshold on CONTACTS_HANDLED", func(in *connect.GetMetricDataInput) {
			m := handled
			m.Threshold = serviceLevel(60).Threshold
			in.HistoricalMetrics = []types.HistoricalMetric{m}
		}, "InvalidParameterException", 400},
		{"20 SERVICE_LEVEL metrics", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = slices.Repeat([]types.HistoricalMetric{serviceLevel(20)}, 20)
		}, "", 200},
		{"21 SERVICE_LEVEL metrics", func(in *connect.GetMetricDataInput) {
			in.HistoricalMetrics = slices.Repeat([]types.HistoricalMetric{serviceLevel(20)}, 21)
		}, "InvalidParameterException", 400},
		{"grouping AGENT_STATUS", func(in *connect.GetMetricDataInput) { in.Groupings = []types.Grouping{types.GroupingAgentStatus} }, "InvalidParameterException", 400},
		{"three groupings", func(in *connect.GetMetricDataInput) {
			in.Groupings = []types.Grouping{types.GroupingQueue, types.GroupingChannel, types.GroupingRoutingProfile}
		}, "InvalidRequestException", 400},
		{"MaxResults 101", func(in *connect.GetMetricDataInput) { in.MaxResults = aws.Int32(101) }, "InvalidRequestException", 400},
		{"a forged NextToken", func(in *connect.GetMetricDataInput) { in.NextToken = aws.String("connectsim-1") }, "InvalidParameterException", 400},
	} {
		in := base()
		tc.mod(in)
		_, err := cl.GetMetricData(ctx, in)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		mustFail(t, tc.name, err, tc.code, tc.status)
	}
}

func TestGetMetricDataPagination(t *testing.T) {
	t.Parallel()
	w := callWorld()
	w.Instances[0].Queues = append(w.Instances[0].Queues, connectsim.Queue{ID: "q-2", Name: "Second"})
	srv, cl, _ := startCalls(t, w)
	_, _ = dial(cl, numAnswer)
	_, _ = dial(cl, numAnswer, func(in *connect.StartOutboundVoiceContactInput) {
		in.QueueId, in.SourcePhoneNumber = aws.String("q-2"), aws.String(connectsim.DefaultPhoneNumber)
	})
	_ = srv.Advance(5 * time.Minute)
	var queues []string
	p := connect.NewGetMetricDataPaginator(cl, &connect.GetMetricDataInput{InstanceId: inst, StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)),
		Filters: &types.Filters{Queues: []string{connectsim.DefaultQueueID, "q-2"}}, Groupings: []types.Grouping{types.GroupingQueue}, MaxResults: aws.Int32(1),
		HistoricalMetrics: []types.HistoricalMetric{hm("CONTACTS_HANDLED", "COUNT", "SUM")}})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.MetricResults {
			queues = append(queues, aws.ToString(r.Dimensions.Queue.Id))
			if aws.ToFloat64(r.Collections[0].Value) != 1 {
				t.Fatalf("CONTACTS_HANDLED of %s: %v", aws.ToString(r.Dimensions.Queue.Id), aws.ToFloat64(r.Collections[0].Value))
			}
		}
	}
	if !slices.Equal(queues, []string{connectsim.DefaultQueueID, "q-2"}) {
		t.Fatalf("pages: %v", queues)
	}
}
