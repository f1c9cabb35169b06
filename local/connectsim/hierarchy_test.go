package connectsim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

func TestUserHierarchy(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{DisableThrottling: true})
	ctx := context.Background()
	arn := srv.InstanceARN(connectsim.DefaultInstanceID)
	st, err := cl.DescribeUserHierarchyStructure(ctx, &connect.DescribeUserHierarchyStructureInput{InstanceId: inst})
	if err != nil {
		t.Fatal(err)
	}
	h := st.HierarchyStructure
	levels := []*types.HierarchyLevel{h.LevelOne, h.LevelTwo, h.LevelThree, h.LevelFour, h.LevelFive}
	for i, name := range []string{"Company", "Region", "Site", "Department", "Team"} {
		l := levels[i]
		id := string(rune('1' + i))
		if l == nil || aws.ToString(l.Name) != name || aws.ToString(l.Id) != id || aws.ToString(l.Arn) != arn+"/agent-group-level/"+id || l.LastModifiedTime == nil {
			t.Fatalf("level %d: %+v", i+1, l)
		}
	}
	g, err := cl.DescribeUserHierarchyGroup(ctx, &connect.DescribeUserHierarchyGroupInput{InstanceId: inst, HierarchyGroupId: aws.String(connectsim.DefaultHierarchyGroupID)})
	if err != nil {
		t.Fatal(err)
	}
	hg := g.HierarchyGroup
	p := hg.HierarchyPath
	if aws.ToString(hg.Name) != "Reminders" || aws.ToString(hg.LevelId) != "5" || aws.ToString(hg.Arn) != arn+"/agent-group/"+connectsim.DefaultHierarchyGroupID ||
		aws.ToString(p.LevelOne.Name) != "Switchboard" || aws.ToString(p.LevelTwo.Name) != "North America" || aws.ToString(p.LevelThree.Name) != "Atlanta" ||
		aws.ToString(p.LevelFour.Name) != "Outbound" || aws.ToString(p.LevelFive.Id) != connectsim.DefaultHierarchyGroupID {
		t.Fatalf("team: %+v path %+v", hg, p)
	}
	top, _ := cl.DescribeUserHierarchyGroup(ctx, &connect.DescribeUserHierarchyGroupInput{InstanceId: inst, HierarchyGroupId: aws.String("77777777-8888-4999-8aaa-000000000001")})
	if aws.ToString(top.HierarchyGroup.LevelId) != "1" || top.HierarchyGroup.HierarchyPath.LevelTwo != nil || aws.ToString(top.HierarchyGroup.HierarchyPath.LevelOne.Name) != "Switchboard" {
		t.Fatalf("top group: %+v", top.HierarchyGroup)
	}
	_, err = cl.DescribeUserHierarchyGroup(ctx, &connect.DescribeUserHierarchyGroupInput{InstanceId: inst, HierarchyGroupId: aws.String("nope")})
	mustFail(t, "unknown group", err, "ResourceNotFoundException", 404)
	_, err = cl.DescribeUserHierarchyStructure(ctx, &connect.DescribeUserHierarchyStructureInput{InstanceId: aws.String("nope")})
	mustFail(t, "unknown instance", err, "ResourceNotFoundException", 404)

	var names []string
	pages := 0
	pg := connect.NewListUserHierarchyGroupsPaginator(cl, &connect.ListUserHierarchyGroupsInput{InstanceId: inst, MaxResults: aws.Int32(2)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range out.UserHierarchyGroupSummaryList {
			names = append(names, aws.ToString(s.Name))
		}
	}
	if pages != 3 || strings.Join(names, ",") != "Switchboard,North America,Atlanta,Outbound,Reminders" {
		t.Fatalf("%d pages: %v", pages, names)
	}

	// A world without a hierarchy has an empty structure.
	w, err := connectsim.ParseWorld([]byte(`{"instances": [{"id": "i-1", "queues": [{"id": "q"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, cl2 := start(t, connectsim.Options{World: w})
	empty, err := cl2.DescribeUserHierarchyStructure(ctx, &connect.DescribeUserHierarchyStructureInput{InstanceId: aws.String("i-1")})
	if err != nil || empty.HierarchyStructure == nil || empty.HierarchyStructure.LevelOne != nil {
		t.Fatalf("no hierarchy: %v %+v", err, empty)
	}
	for _, bad := range []struct{ world, want string }{
		{`{"instances": [{"id": "i", "hierarchy": {"levels": ["1","2","3","4","5","6"]}}]}`, "1 to 5 levels"},
		{`{"instances": [{"id": "i", "hierarchy": {"levels": ["a"], "groups": [{"id": "g1", "name": "G1"}, {"id": "g2", "name": "G2", "parentId": "g1"}]}}]}`, "on level 2, below the 1 levels"},
		{`{"instances": [{"id": "i", "hierarchy": {"levels": ["a", "b"], "groups": [{"id": "g1", "name": "G1", "parentId": "g2"}, {"id": "g2", "name": "G2", "parentId": "g1"}]}}]}`, "cycle"},
		{`{"instances": [{"id": "i", "hierarchy": {"levels": ["a"], "groups": [{"id": "g1", "name": "G1", "parentId": "zz"}]}}]}`, `parentId "zz" is not a group`},
		{`{"instances": [{"id": "i", "users": [{"id": "u", "username": "u", "hierarchyGroupId": "g9"}]}]}`, `hierarchyGroupId "g9"`},
	} {
		if _, err := connectsim.ParseWorld([]byte(bad.world)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.world, err, bad.want)
		}
	}
}

func TestListRoutingAndSecurityProfiles(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	w.Instances[0].RoutingProfiles = append(w.Instances[0].RoutingProfiles,
		connectsim.RoutingProfile{ID: "rp-b", Name: "Sales"}, connectsim.RoutingProfile{ID: "rp-c", Name: "Support"})
	srv, cl := start(t, connectsim.Options{World: w, DisableThrottling: true})
	ctx := context.Background()
	arn := srv.InstanceARN(connectsim.DefaultInstanceID)
	var rps []string
	p := connect.NewListRoutingProfilesPaginator(cl, &connect.ListRoutingProfilesInput{InstanceId: inst, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.RoutingProfileSummaryList {
			if aws.ToString(r.Arn) != arn+"/routing-profile/"+aws.ToString(r.Id) {
				t.Fatalf("routing profile ARN %s", aws.ToString(r.Arn))
			}
			rps = append(rps, aws.ToString(r.Name))
		}
	}
	if strings.Join(rps, ",") != "Basic Routing Profile,Sales,Support" {
		t.Fatalf("routing profiles %v", rps)
	}
	sp, err := cl.ListSecurityProfiles(ctx, &connect.ListSecurityProfilesInput{InstanceId: inst})
	if err != nil {
		t.Fatal(err)
	}
	var sps []string
	for _, s := range sp.SecurityProfileSummaryList {
		sps = append(sps, aws.ToString(s.Name))
		if aws.ToString(s.Arn) != arn+"/security-profile/"+aws.ToString(s.Id) {
			t.Fatalf("security profile ARN %s", aws.ToString(s.Arn))
		}
	}
	if strings.Join(sps, ",") != "Admin,Agent,CallCenterManager,QualityAnalyst" || sp.NextToken != nil {
		t.Fatalf("security profiles %v", sps)
	}
	_, err = cl.ListRoutingProfiles(ctx, &connect.ListRoutingProfilesInput{InstanceId: aws.String("nope")})
	mustFail(t, "ListRoutingProfiles of an unknown instance", err, "ResourceNotFoundException", 404)
	_, err = cl.ListSecurityProfiles(ctx, &connect.ListSecurityProfilesInput{InstanceId: inst, MaxResults: aws.Int32(1001)})
	mustFail(t, "ListSecurityProfiles MaxResults 1001", err, "InvalidRequestException", 400)
}

func TestGetFederationToken(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{})
	as := func(key string) *connect.Client {
		return srv.ConnectClient(t, func(o *connect.Options) {
			o.RetryMaxAttempts = 1
			o.Credentials = credentials.NewStaticCredentialsProvider(key, "secret", "")
		})
	}
	ctx := context.Background()
	out, err := as("agent1").GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: inst})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if aws.ToString(out.UserId) != agent1 || aws.ToString(out.UserArn) != srv.InstanceARN(connectsim.DefaultInstanceID)+"/agent/"+agent1 ||
		len(aws.ToString(c.AccessToken)) < 32 || len(aws.ToString(c.RefreshToken)) < 32 || aws.ToString(c.AccessToken) == aws.ToString(c.RefreshToken) ||
		!c.AccessTokenExpiration.Equal(t0.Add(12*time.Hour)) || !c.RefreshTokenExpiration.Equal(t0.Add(12*time.Hour)) ||
		aws.ToString(out.SignInUrl) != "https://us-east-1.console.aws.amazon.com/connect/federate/"+connectsim.DefaultInstanceID {
		t.Fatalf("GetFederationToken: %+v %+v", out, c)
	}
	again, _ := as("AGENT1").GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: inst})
	if aws.ToString(again.Credentials.AccessToken) == aws.ToString(c.AccessToken) {
		t.Fatal("the same access token twice")
	}
	_, err = as("nobody").GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: inst})
	mustFail(t, "credentials of no user", err, "UserNotFoundException", 404)
	mustAs[*types.UserNotFoundException](t, err)
	_, err = as("agent1").GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: aws.String("nope")})
	mustFail(t, "unknown instance", err, "ResourceNotFoundException", 404)
}
