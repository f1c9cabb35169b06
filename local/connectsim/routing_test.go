package connectsim_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// salesWorld has a second queue served by a second routing profile; the basic profile serves
// only the first queue.
func salesWorld() connectsim.World {
	w := callWorld()
	in := &w.Instances[0]
	in.Queues = append(in.Queues, connectsim.Queue{ID: "q-sales", Name: "Sales"})
	in.RoutingProfiles[0].Queues = []string{connectsim.DefaultQueueID}
	in.RoutingProfiles = append(in.RoutingProfiles, connectsim.RoutingProfile{ID: "rp-sales", Name: "Sales", Queues: []string{"q-sales"}})
	return w
}

// byProfile asks GetCurrentMetricData for metrics of routing profiles, grouped by profile when
// grouped is set, and answers them by profile ID ("" without grouping).
func byProfile(t *testing.T, cl *connect.Client, grouped bool, profiles []string, names ...types.CurrentMetricName) map[string]map[types.CurrentMetricName]float64 {
	t.Helper()
	in := &connect.GetCurrentMetricDataInput{InstanceId: inst, Filters: &types.Filters{RoutingProfiles: profiles}}
	for _, n := range names {
		in.CurrentMetrics = append(in.CurrentMetrics, types.CurrentMetric{Name: n})
	}
	if grouped {
		in.Groupings = []types.Grouping{types.GroupingRoutingProfile}
	}
	out, err := cl.GetCurrentMetricData(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]map[types.CurrentMetricName]float64{}
	for _, r := range out.MetricResults {
		key := ""
		if r.Dimensions != nil && r.Dimensions.RoutingProfile != nil {
			key = aws.ToString(r.Dimensions.RoutingProfile.Id)
		}
		res[key] = map[types.CurrentMetricName]float64{}
		for _, c := range r.Collections {
			res[key][c.Metric.Name] = aws.ToFloat64(c.Value)
		}
	}
	return res
}

// TestUsersRoutingProfilesDecideRouting: a user serves the queues of its routing profile, the
// admin API sets its agent state, and GetCurrentMetricData filters and groups by profile.
func TestUsersRoutingProfilesDecideRouting(t *testing.T) {
	t.Parallel()
	srv, cl, _ := startCalls(t, salesWorld())
	ctx := context.Background()
	if _, err := cl.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: inst, UserId: aws.String(agent3), RoutingProfileId: aws.String("rp-sales")}); err != nil {
		t.Fatal(err)
	}
	basic := connectsim.DefaultRoutingProfileID
	salesARN := srv.InstanceARN(connectsim.DefaultInstanceID) + "/routing-profile/rp-sales"
	if m := byProfile(t, cl, false, []string{basic}, "AGENTS_AVAILABLE"); m[""]["AGENTS_AVAILABLE"] != 2 {
		t.Fatalf("basic profile: %v", m)
	}
	if m := byProfile(t, cl, false, []string{salesARN}, "AGENTS_AVAILABLE"); m[""]["AGENTS_AVAILABLE"] != 1 {
		t.Fatalf("sales profile by ARN: %v", m)
	}
	out, err := cl.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{InstanceId: inst, Filters: &types.Filters{RoutingProfiles: []string{basic, "rp-sales"}},
		Groupings: []types.Grouping{types.GroupingRoutingProfile}, CurrentMetrics: []types.CurrentMetric{{Name: "AGENTS_ONLINE"}}})
	if err != nil || len(out.MetricResults) != 2 || aws.ToString(out.MetricResults[1].Dimensions.RoutingProfile.Arn) != salesARN ||
		aws.ToFloat64(out.MetricResults[0].Collections[0].Value) != 2 || aws.ToFloat64(out.MetricResults[1].Collections[0].Value) != 1 {
		t.Fatalf("grouped by routing profile: %v %+v", err, out)
	}
	_, err = cl.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{InstanceId: inst, Filters: &types.Filters{RoutingProfiles: []string{"nope"}},
		CurrentMetrics: []types.CurrentMetric{{Name: "AGENTS_ONLINE"}}})
	mustFail(t, "unknown routing profile", err, "ResourceNotFoundException", 404)

	// A sales call goes to the sales agent; a second one waits although two agents are free.
	sales := func(in *connect.StartOutboundVoiceContactInput) {
		in.QueueId, in.SourcePhoneNumber = aws.String("q-sales"), aws.String(connectsim.DefaultPhoneNumber)
	}
	first, _ := dial(cl, numAnswer, sales)
	second, _ := dial(cl, numAnswer, sales)
	_ = srv.Advance(13 * time.Second)
	if c, _ := srv.Contact(first); c.AgentID != agent3 {
		t.Fatalf("first sales call: agent %q", c.AgentID)
	}
	if c, _ := srv.Contact(second); c.Status != connectsim.StatusQueued {
		t.Fatalf("second sales call: %s", c.Status)
	}
	m := byProfile(t, cl, true, []string{basic, "rp-sales"}, "AGENTS_AVAILABLE", "CONTACTS_IN_QUEUE", "AGENTS_ON_CALL")
	if m[basic]["AGENTS_AVAILABLE"] != 2 || m[basic]["CONTACTS_IN_QUEUE"] != 0 || m["rp-sales"]["CONTACTS_IN_QUEUE"] != 1 || m["rp-sales"]["AGENTS_ON_CALL"] != 1 {
		t.Fatalf("while the sales agent is busy: %v", m)
	}
	// agent1 moves to sales: the waiting call is routed to it at once.
	if _, err := cl.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: inst, UserId: aws.String(agent1), RoutingProfileId: aws.String("rp-sales")}); err != nil {
		t.Fatal(err)
	}
	srv.Drain(5 * time.Second)
	if c, _ := srv.Contact(second); c.Status != connectsim.StatusConnectedToAgent || c.AgentID != agent1 {
		t.Fatalf("after agent1 joined sales: %s %q", c.Status, c.AgentID)
	}

	// The admin API sets a user's agent state.
	adm := srv.URL + "/_connectsim/agents/" + connectsim.DefaultInstanceID + "/"
	if resp, b := doJSON(t, http.MethodPut, adm+agent2+"/status", nil, map[string]string{"status": "BREAK"}, nil); resp.StatusCode != 200 {
		t.Fatalf("PUT status: %d %s", resp.StatusCode, b)
	}
	if m := byProfile(t, cl, false, []string{basic}, "AGENTS_AVAILABLE", "AGENTS_NON_PRODUCTIVE"); m[""]["AGENTS_AVAILABLE"] != 0 || m[""]["AGENTS_NON_PRODUCTIVE"] != 1 {
		t.Fatalf("agent2 on break: %v", m)
	}
	for _, bad := range []struct {
		id, body string
		status   int
	}{{agent2, "LUNCH", 400}, {"nobody", "AVAILABLE", 400}} {
		if resp, _ := doJSON(t, http.MethodPut, adm+bad.id+"/status", nil, map[string]string{"status": bad.body}, nil); resp.StatusCode != bad.status {
			t.Errorf("PUT status %s of %s: %d", bad.body, bad.id, resp.StatusCode)
		}
	}
	// A new user joins the roster when staffed, in its routing profile.
	in := mary()
	in.RoutingProfileId = aws.String("rp-sales")
	created, err := cl.CreateUser(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetAgentStatus(connectsim.DefaultInstanceID, aws.ToString(created.UserId), connectsim.AgentAvailable); err != nil {
		t.Fatal(err)
	}
	if m := byProfile(t, cl, false, []string{"rp-sales"}, "AGENTS_AVAILABLE", "AGENTS_ONLINE"); m[""]["AGENTS_AVAILABLE"] != 1 || m[""]["AGENTS_ONLINE"] != 3 {
		t.Fatalf("Mary staffed: %v", m)
	}
	// Deleting a user on a call: the call goes on, without after-contact work.
	if _, err := cl.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: inst, UserId: aws.String(agent3)}); err != nil {
		t.Fatal(err)
	}
	_ = srv.Advance(2 * time.Minute)
	if c, _ := srv.Contact(first); c.Status != connectsim.StatusDisconnected {
		t.Fatalf("the deleted user's call: %s", c.Status)
	}
}
