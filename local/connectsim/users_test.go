package connectsim_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

const (
	agent1 = "aaaaaaaa-0000-4000-8000-000000000001"
	agent2 = "aaaaaaaa-0000-4000-8000-000000000002"
	agent3 = "aaaaaaaa-0000-4000-8000-000000000003"
)

var inst = aws.String(connectsim.DefaultInstanceID)

// httpStatus is the HTTP status of an API error answered by the server.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// mustFail checks an error's type (the SDK's typed error, or the code of a generic one) and
// HTTP status.
func mustFail(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if apiCode(err) != code || httpStatus(err) != status {
		t.Errorf("%s: %v (code %q, HTTP %d), want %s %d", what, err, apiCode(err), httpStatus(err), code, status)
	}
}

// mary is the reference's create-user example.
func mary() *connect.CreateUserInput {
	return &connect.CreateUserInput{
		InstanceId: inst, Username: aws.String("Mary"), Password: aws.String("Pass@Word1"),
		IdentityInfo: &types.UserIdentityInfo{FirstName: aws.String("Mary"), LastName: aws.String("Major")},
		PhoneConfig: &types.UserPhoneConfig{PhoneType: types.PhoneTypeDeskPhone, AutoAccept: true, AfterContactWorkTimeLimit: 60,
			DeskPhoneNumber: aws.String("+15555551212")},
		SecurityProfileIds: []string{connectsim.DefaultSecurityProfileAgentID},
		RoutingProfileId:   aws.String(connectsim.DefaultRoutingProfileID),
	}
}

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	srv, cl := start(t, connectsim.Options{})
	ctx := context.Background()
	in := mary()
	in.HierarchyGroupId = aws.String(connectsim.DefaultHierarchyGroupID)
	in.Tags = map[string]string{"team": "reminders"}
	in.IdentityInfo.Email = aws.String("mary.major@example.com")
	in.IdentityInfo.Mobile = aws.String("+15555550177")
	out, err := cl.CreateUser(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.UserId)
	wantARN := "arn:aws:connect:us-east-1:123456789012:instance/" + connectsim.DefaultInstanceID + "/agent/" + id
	if len(id) != 36 || aws.ToString(out.UserArn) != wantARN {
		t.Fatalf("CreateUser: %q %q", id, aws.ToString(out.UserArn))
	}
	d, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	u := d.User
	if aws.ToString(u.Id) != id || aws.ToString(u.Arn) != wantARN || aws.ToString(u.Username) != "Mary" ||
		aws.ToString(u.IdentityInfo.FirstName) != "Mary" || aws.ToString(u.IdentityInfo.LastName) != "Major" ||
		aws.ToString(u.IdentityInfo.Email) != "mary.major@example.com" || aws.ToString(u.IdentityInfo.Mobile) != "+15555550177" ||
		u.PhoneConfig.PhoneType != types.PhoneTypeDeskPhone || !u.PhoneConfig.AutoAccept || u.PhoneConfig.AfterContactWorkTimeLimit != 60 ||
		aws.ToString(u.PhoneConfig.DeskPhoneNumber) != "+15555551212" ||
		!slices.Equal(u.SecurityProfileIds, []string{connectsim.DefaultSecurityProfileAgentID}) ||
		aws.ToString(u.RoutingProfileId) != connectsim.DefaultRoutingProfileID || aws.ToString(u.HierarchyGroupId) != connectsim.DefaultHierarchyGroupID ||
		u.Tags["team"] != "reminders" || u.LastModifiedTime == nil || !u.LastModifiedTime.Equal(t0) || aws.ToString(u.LastModifiedRegion) != "us-east-1" {
		t.Fatalf("DescribeUser: %+v %+v %+v", u, u.IdentityInfo, u.PhoneConfig)
	}
	// A new user is not logged in: it is no agent until staffed.
	for _, a := range srv.Agents(connectsim.DefaultInstanceID) {
		if a.ID == id {
			t.Fatalf("a new user on the roster: %+v", a)
		}
	}
	// The default world's users are the three agents.
	d, err = cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(agent1)})
	if err != nil || aws.ToString(d.User.Username) != "agent1" || d.User.PhoneConfig.PhoneType != types.PhoneTypeSoftPhone || d.User.PhoneConfig.AfterContactWorkTimeLimit != 0 {
		t.Fatalf("agent1: %v %+v", err, d)
	}
	if _, err := cl.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: inst, UserId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(id)})
	mustFail(t, "DescribeUser of a deleted user", err, "ResourceNotFoundException", 404)
	_, err = cl.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: inst, UserId: aws.String(id)})
	mustFail(t, "DeleteUser twice", err, "ResourceNotFoundException", 404)
	_, err = cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String("nope"), UserId: aws.String(agent1)})
	mustFail(t, "DescribeUser of an unknown instance", err, "ResourceNotFoundException", 404)
	// The username is free again.
	if _, err := cl.CreateUser(ctx, mary()); err != nil {
		t.Fatalf("re-create Mary: %v", err)
	}
}

func TestListUsersPagination(t *testing.T) {
	t.Parallel()
	_, cl := start(t, connectsim.Options{DisableThrottling: true})
	ctx := context.Background()
	want := []string{"agent1", "agent2", "agent3"}
	for i := 0; i < 7; i++ {
		in := mary()
		in.Username = aws.String(fmt.Sprintf("user%02d", 7-i))
		if _, err := cl.CreateUser(ctx, in); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("user%02d", i+1))
	}
	var got []string
	pages := 0
	p := connect.NewListUsersPaginator(cl, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.UserSummaryList) > 3 {
			t.Fatalf("page of %d", len(out.UserSummaryList))
		}
		for _, u := range out.UserSummaryList {
			got = append(got, aws.ToString(u.Username))
			if !strings.HasSuffix(aws.ToString(u.Arn), "/agent/"+aws.ToString(u.Id)) || u.LastModifiedTime == nil {
				t.Fatalf("summary %+v", u)
			}
		}
	}
	if pages != 4 || !slices.Equal(got, want) {
		t.Fatalf("%d pages: %v, want 4 pages of %v", pages, got, want)
	}
	// Default page size: everything (10 < 100), no NextToken.
	out, err := cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst})
	if err != nil || len(out.UserSummaryList) != 10 || out.NextToken != nil {
		t.Fatalf("one page: %v %d %v", err, len(out.UserSummaryList), out.NextToken)
	}
	// A page goes on after the last key answered, even when users were deleted meanwhile.
	first, _ := cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(4)})
	_, _ = cl.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: inst, UserId: first.UserSummaryList[3].Id})
	next, err := cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(4), NextToken: first.NextToken})
	if err != nil || aws.ToString(next.UserSummaryList[0].Username) != "user02" {
		t.Fatalf("after a delete: %v %+v", err, next)
	}
	for _, bad := range []int32{0, 1001} {
		_, err := cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(bad)})
		mustFail(t, fmt.Sprintf("MaxResults %d", bad), err, "InvalidRequestException", 400)
	}
	_, err = cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, NextToken: aws.String("not-a-token")})
	mustFail(t, "a forged NextToken", err, "InvalidParameterException", 400)
	// A token of another List operation is refused too.
	groups, _ := cl.ListUserHierarchyGroups(ctx, &connect.ListUserHierarchyGroupsInput{InstanceId: inst, MaxResults: aws.Int32(1)})
	_, err = cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, NextToken: groups.NextToken})
	mustFail(t, "ListUserHierarchyGroups' NextToken", err, "InvalidParameterException", 400)
	_, err = cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: aws.String("nope")})
	mustFail(t, "unknown instance", err, "ResourceNotFoundException", 404)
}

// instanceWorld is the default world whose instance uses another identity management type.
func instanceWorld(identity string) connectsim.World {
	w := connectsim.DefaultWorld()
	w.Instances[0].IdentityManagementType = identity
	return w
}

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	type mod func(*connect.CreateUserInput)
	_, managed := start(t, connectsim.Options{DisableThrottling: true})
	_, saml := start(t, connectsim.Options{World: instanceWorld(connectsim.IdentitySAML), DisableThrottling: true})
	_, directory := start(t, connectsim.Options{World: instanceWorld(connectsim.IdentityExistingDirectory), DisableThrottling: true})
	samlUser := func(in *connect.CreateUserInput) { in.Password = nil }
	for _, tc := range []struct {
		name   string
		cl     *connect.Client
		mod    mod
		code   string
		status int
	}{
		{"the reference's example", managed, nil, "", 200},
		{"email-format username", managed, func(in *connect.CreateUserInput) { in.Username = aws.String("mary@example.com") }, "", 200},
		{"21-character username", managed, func(in *connect.CreateUserInput) { in.Username = aws.String(strings.Repeat("m", 21)) }, "InvalidParameterException", 400},
		{"101-character username (model)", managed, func(in *connect.CreateUserInput) { in.Username = aws.String(strings.Repeat("m", 101)) }, "InvalidRequestException", 400},
		{"username with a space", managed, func(in *connect.CreateUserInput) { in.Username = aws.String("mary major") }, "InvalidParameterException", 400},
		{"@ outside an email format", managed, func(in *connect.CreateUserInput) { in.Username = aws.String("testuser@example") }, "InvalidParameterException", 400},
		{"duplicate username, other case", managed, func(in *connect.CreateUserInput) { in.Username = aws.String("AGENT1") }, "DuplicateResourceException", 409},
		{"no password (Connect-managed)", managed, func(in *connect.CreateUserInput) { in.Password = nil }, "InvalidParameterException", 400},
		{"weak password", managed, func(in *connect.CreateUserInput) { in.Password = aws.String("password1") }, "InvalidRequestException", 400},
		{"password with a space", managed, func(in *connect.CreateUserInput) { in.Password = aws.String("Pass Word1") }, "InvalidRequestException", 400},
		{"no first name", managed, func(in *connect.CreateUserInput) { in.IdentityInfo.FirstName = nil }, "InvalidParameterException", 400},
		{"256-character first name", managed, func(in *connect.CreateUserInput) { in.IdentityInfo.FirstName = aws.String(strings.Repeat("M", 256)) }, "InvalidRequestException", 400},
		{"bad email", managed, func(in *connect.CreateUserInput) { in.IdentityInfo.Email = aws.String("example.com") }, "InvalidParameterException", 400},
		{"mobile not E.164", managed, func(in *connect.CreateUserInput) { in.IdentityInfo.Mobile = aws.String("5555550177") }, "InvalidParameterException", 400},
		{"desk phone without a number", managed, func(in *connect.CreateUserInput) { in.PhoneConfig.DeskPhoneNumber = nil }, "InvalidParameterException", 400},
		{"desk number not E.164", managed, func(in *connect.CreateUserInput) { in.PhoneConfig.DeskPhoneNumber = aws.String("555-1212") }, "InvalidParameterException", 400},
		{"soft phone without a number", managed, func(in *connect.CreateUserInput) {
			in.PhoneConfig.PhoneType, in.PhoneConfig.DeskPhoneNumber = types.PhoneTypeSoftPhone, nil
		}, "", 200},
		{"ACW over 2,000,000 s", managed, func(in *connect.CreateUserInput) { in.PhoneConfig.AfterContactWorkTimeLimit = 2_000_001 }, "InvalidParameterException", 400},
		{"negative ACW (model)", managed, func(in *connect.CreateUserInput) { in.PhoneConfig.AfterContactWorkTimeLimit = -1 }, "InvalidRequestException", 400},
		{"PhoneConfig ACW and AfterContactWorkConfigs", managed, func(in *connect.CreateUserInput) {
			in.AfterContactWorkConfigs = []types.AfterContactWorkConfigPerChannel{{Channel: types.ChannelVoice, AfterContactWorkConfig: &types.AfterContactWorkConfig{AfterContactWorkTimeLimit: 30}}}
		}, "InvalidParameterException", 400},
		{"per-channel configuration alone", managed, func(in *connect.CreateUserInput) {
			in.PhoneConfig = nil
			in.AfterContactWorkConfigs = []types.AfterContactWorkConfigPerChannel{{Channel: types.ChannelVoice, AfterContactWorkConfig: &types.AfterContactWorkConfig{AfterContactWorkTimeLimit: 30}}}
			in.AutoAcceptConfigs = []types.AutoAcceptConfig{{Channel: types.ChannelVoice, AutoAccept: true}}
		}, "", 200},
		{"a channel twice", managed, func(in *connect.CreateUserInput) {
			in.PhoneConfig = nil
			in.AutoAcceptConfigs = []types.AutoAcceptConfig{{Channel: types.ChannelVoice, AutoAccept: true}, {Channel: types.ChannelVoice, AutoAccept: false}}
		}, "InvalidParameterException", 400},
		{"no security profile", managed, func(in *connect.CreateUserInput) { in.SecurityProfileIds = []string{} }, "InvalidRequestException", 400},
		{"11 security profiles", managed, func(in *connect.CreateUserInput) {
			in.SecurityProfileIds = slices.Repeat([]string{connectsim.DefaultSecurityProfileAgentID}, 11)
		}, "InvalidRequestException", 400},
		{"unknown security profile", managed, func(in *connect.CreateUserInput) { in.SecurityProfileIds = []string{"nope"} }, "ResourceNotFoundException", 404},
		{"unknown routing profile", managed, func(in *connect.CreateUserInput) { in.RoutingProfileId = aws.String("nope") }, "ResourceNotFoundException", 404},
		{"unknown hierarchy group", managed, func(in *connect.CreateUserInput) { in.HierarchyGroupId = aws.String("nope") }, "ResourceNotFoundException", 404},
		{"unknown instance", managed, func(in *connect.CreateUserInput) { in.InstanceId = aws.String("nope") }, "ResourceNotFoundException", 404},
		{"an aws: tag", managed, func(in *connect.CreateUserInput) { in.Tags = map[string]string{"aws:team": "x"} }, "InvalidRequestException", 400},
		{"SAML: 64-character username", saml, func(in *connect.CreateUserInput) { samlUser(in); in.Username = aws.String(strings.Repeat("m", 64)) }, "", 200},
		{"SAML: 65-character username", saml, func(in *connect.CreateUserInput) { samlUser(in); in.Username = aws.String(strings.Repeat("m", 65)) }, "InvalidParameterException", 400},
		{"SAML: a password", saml, nil, "InvalidParameterException", 400},
		{"SAML: an email", saml, func(in *connect.CreateUserInput) {
			samlUser(in)
			in.IdentityInfo.Email = aws.String("mary@example.com")
		}, "InvalidParameterException", 400},
		{"SAML: a directory user ID", saml, func(in *connect.CreateUserInput) { samlUser(in); in.DirectoryUserId = aws.String("d-1") }, "InvalidParameterException", 400},
		{"SAML: no last name", saml, func(in *connect.CreateUserInput) { samlUser(in); in.IdentityInfo.LastName = nil }, "InvalidParameterException", 400},
		{"directory: no names, no password", directory, func(in *connect.CreateUserInput) { samlUser(in); in.IdentityInfo = nil }, "", 200},
		{"directory: a password", directory, nil, "InvalidParameterException", 400},
	} {
		in := mary()
		in.Username = aws.String("u" + fmt.Sprint(time.Now().UnixNano()%1e9))
		if tc.mod != nil {
			tc.mod(in)
		}
		_, err := tc.cl.CreateUser(context.Background(), in)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		mustFail(t, tc.name, err, tc.code, tc.status)
		// Sensitive values never come back in an error.
		for _, secret := range []string{"Pass@Word1", "password1", "Pass Word1", "5551212", "555-1212", "5555550177", "MMMMMMMM", "Major"} {
			if msg := fmt.Sprint(err); strings.Contains(msg, secret) {
				t.Errorf("%s: the error echoes a sensitive value: %s", tc.name, msg)
			}
		}
	}
}

func TestUsersPerInstanceQuota(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	w.Instances[0].MaxUsers = 4 // three users already
	_, cl := start(t, connectsim.Options{World: w, DisableThrottling: true})
	if _, err := cl.CreateUser(context.Background(), mary()); err != nil {
		t.Fatal(err)
	}
	in := mary()
	in.Username = aws.String("Paulo")
	_, err := cl.CreateUser(context.Background(), in)
	mustFail(t, "the fifth user", err, "LimitExceededException", 429)
	if _, err := connectsim.ParseWorld([]byte(`{"instances": [{"id": "i", "maxUsers": 1, "users": [{"id": "u1", "username": "a"}, {"id": "u2", "username": "b"}]}]}`)); err == nil ||
		!strings.Contains(err.Error(), "over maxUsers 1") {
		t.Fatalf("a world over its quota: %v", err)
	}
}

func TestUpdateUserOperations(t *testing.T) {
	t.Parallel()
	w := connectsim.DefaultWorld()
	in0 := &w.Instances[0]
	in0.Queues = append(in0.Queues, connectsim.Queue{ID: "q-sales", Name: "Sales"})
	in0.RoutingProfiles = append(in0.RoutingProfiles, connectsim.RoutingProfile{ID: "rp-sales", Name: "Sales", Queues: []string{"q-sales"}})
	srv, cl := start(t, connectsim.Options{World: w, DisableThrottling: true})
	ctx := context.Background()
	user := aws.String(agent2)
	describeU := func() *types.User {
		t.Helper()
		d, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: user})
		if err != nil {
			t.Fatal(err)
		}
		return d.User
	}

	// Identity: members left out keep their value.
	if _, err := cl.UpdateUserIdentityInfo(ctx, &connect.UpdateUserIdentityInfoInput{InstanceId: inst, UserId: user,
		IdentityInfo: &types.UserIdentityInfo{FirstName: aws.String("Jane"), Email: aws.String("jane@example.com")}}); err != nil {
		t.Fatal(err)
	}
	if u := describeU(); aws.ToString(u.IdentityInfo.FirstName) != "Jane" || aws.ToString(u.IdentityInfo.LastName) != "2" || aws.ToString(u.IdentityInfo.Email) != "jane@example.com" {
		t.Fatalf("identity %+v", u.IdentityInfo)
	}
	_, err := cl.UpdateUserIdentityInfo(ctx, &connect.UpdateUserIdentityInfoInput{InstanceId: inst, UserId: user, IdentityInfo: &types.UserIdentityInfo{LastName: aws.String(" ")}})
	mustFail(t, "a blank last name", err, "InvalidParameterException", 400)

	// Phone: replaced, and the agent's after-contact work follows it.
	if _, err := cl.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: user,
		PhoneConfig: &types.UserPhoneConfig{PhoneType: types.PhoneTypeSoftPhone, AfterContactWorkTimeLimit: 45, DeskPhoneNumber: aws.String("+18005551212")}}); err != nil {
		t.Fatal(err)
	}
	if u := describeU(); u.PhoneConfig.AfterContactWorkTimeLimit != 45 || u.PhoneConfig.AutoAccept || aws.ToString(u.PhoneConfig.DeskPhoneNumber) != "+18005551212" {
		t.Fatalf("phone %+v", u.PhoneConfig)
	}
	for _, a := range srv.Agents(connectsim.DefaultInstanceID) {
		if a.ID == agent2 && (a.AfterContactWork.D() != 45*time.Second || !a.User) {
			t.Fatalf("agent2 %+v", a)
		}
	}
	_, err = cl.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: user, PhoneConfig: &types.UserPhoneConfig{PhoneType: types.PhoneTypeDeskPhone}})
	mustFail(t, "a desk phone without its number", err, "InvalidParameterException", 400)
	_, err = cl.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: user, PhoneConfig: &types.UserPhoneConfig{AfterContactWorkTimeLimit: 2_000_001}})
	mustFail(t, "ACW over the maximum", err, "InvalidParameterException", 400)

	// Routing profile: the agent serves the new profile's queues.
	if _, err := cl.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: inst, UserId: user, RoutingProfileId: aws.String("rp-sales")}); err != nil {
		t.Fatal(err)
	}
	for _, a := range srv.Agents(connectsim.DefaultInstanceID) {
		if a.ID == agent2 && (a.RoutingProfileID != "rp-sales" || !slices.Equal(a.Queues, []string{"q-sales"})) {
			t.Fatalf("agent2 after the new routing profile: %+v", a)
		}
	}
	_, err = cl.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: inst, UserId: user, RoutingProfileId: aws.String("nope")})
	mustFail(t, "unknown routing profile", err, "ResourceNotFoundException", 404)

	// Security profiles: 1 to 10 that exist.
	if _, err := cl.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: inst, UserId: user,
		SecurityProfileIds: []string{connectsim.DefaultSecurityProfileAgentID, connectsim.DefaultSecurityProfileManagerID}}); err != nil {
		t.Fatal(err)
	}
	if u := describeU(); len(u.SecurityProfileIds) != 2 || u.SecurityProfileIds[1] != connectsim.DefaultSecurityProfileManagerID {
		t.Fatalf("security profiles %v", u.SecurityProfileIds)
	}
	_, err = cl.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: inst, UserId: user, SecurityProfileIds: []string{}})
	mustFail(t, "no security profile", err, "InvalidRequestException", 400)
	_, err = cl.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: inst, UserId: user, SecurityProfileIds: []string{"nope"}})
	mustFail(t, "unknown security profile", err, "ResourceNotFoundException", 404)

	// Hierarchy: set, then taken out with no group.
	level1 := "77777777-8888-4999-8aaa-000000000001"
	if _, err := cl.UpdateUserHierarchy(ctx, &connect.UpdateUserHierarchyInput{InstanceId: inst, UserId: user, HierarchyGroupId: aws.String(level1)}); err != nil {
		t.Fatal(err)
	}
	if u := describeU(); aws.ToString(u.HierarchyGroupId) != level1 {
		t.Fatalf("hierarchy group %v", aws.ToString(u.HierarchyGroupId))
	}
	if _, err := cl.UpdateUserHierarchy(ctx, &connect.UpdateUserHierarchyInput{InstanceId: inst, UserId: user}); err != nil {
		t.Fatal(err)
	}
	if u := describeU(); u.HierarchyGroupId != nil {
		t.Fatalf("hierarchy group after removal: %v", aws.ToString(u.HierarchyGroupId))
	}
	_, err = cl.UpdateUserHierarchy(ctx, &connect.UpdateUserHierarchyInput{InstanceId: inst, UserId: user, HierarchyGroupId: aws.String("nope")})
	mustFail(t, "unknown hierarchy group", err, "ResourceNotFoundException", 404)

	// Every update of an unknown user: ResourceNotFoundException.
	nobody := aws.String("00000000-0000-4000-8000-000000000000")
	for name, call := range map[string]func() error{
		"UpdateUserIdentityInfo": func() error {
			_, err := cl.UpdateUserIdentityInfo(ctx, &connect.UpdateUserIdentityInfoInput{InstanceId: inst, UserId: nobody, IdentityInfo: &types.UserIdentityInfo{}})
			return err
		},
		"UpdateUserPhoneConfig": func() error {
			_, err := cl.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: nobody, PhoneConfig: &types.UserPhoneConfig{}})
			return err
		},
		"UpdateUserRoutingProfile": func() error {
			_, err := cl.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: inst, UserId: nobody, RoutingProfileId: aws.String(connectsim.DefaultRoutingProfileID)})
			return err
		},
		"UpdateUserSecurityProfiles": func() error {
			_, err := cl.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: inst, UserId: nobody, SecurityProfileIds: []string{connectsim.DefaultSecurityProfileAgentID}})
			return err
		},
		"UpdateUserHierarchy": func() error {
			_, err := cl.UpdateUserHierarchy(ctx, &connect.UpdateUserHierarchyInput{InstanceId: inst, UserId: nobody})
			return err
		},
	} {
		mustFail(t, name+" of an unknown user", call(), "ResourceNotFoundException", 404)
	}
	_, err = cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(strings.Repeat("x", 257))})
	mustFail(t, "a 257-character user ID", err, "InvalidRequestException", 400)
}
