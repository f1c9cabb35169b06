package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// TestReferenceExamplesWorld runs the AWS CLI reference's examples of the user, hierarchy and
// profile operations (aws-cli awscli/examples/connect/*.rst), with their own IDs, against
// connectsim started with testdata/reference-examples.json: the requests docs/connectsim.md
// shows with the AWS CLI, sent here with the Go SDK.
func TestReferenceExamplesWorld(t *testing.T) {
	base, out, _ := start(t, "-config", "testdata/reference-examples.json")
	if !strings.Contains(out.String(), "users       2 (CONNECT_MANAGED), 3 routing and 6 security profiles") {
		t.Errorf("banner:\n%s", out.String())
	}
	cl := connect.New(connect.Options{Region: "us-west-2", BaseEndpoint: aws.String(base), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	ctx := context.Background()
	a, b := aws.String("a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"), aws.String("40c83b68-ea62-414c-97bb-d018e39e158e")
	user := aws.String("87654321-2222-1234-1234-111234567891")
	arn := "arn:aws:connect:us-west-2:123456789012:instance/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
	check := func(name string, err error, ok bool) {
		t.Helper()
		if err != nil || !ok {
			t.Errorf("%s: %v", name, err)
		}
	}

	created, err := cl.CreateUser(ctx, &connect.CreateUserInput{InstanceId: a, Username: aws.String("Mary"), Password: aws.String("Pass@Word1"),
		IdentityInfo:       &types.UserIdentityInfo{FirstName: aws.String("Mary"), LastName: aws.String("Major")},
		PhoneConfig:        &types.UserPhoneConfig{PhoneType: types.PhoneTypeDeskPhone, AutoAccept: true, AfterContactWorkTimeLimit: 60, DeskPhoneNumber: aws.String("+15555551212")},
		SecurityProfileIds: []string{"12345678-1111-2222-aaaa-a1b2c3d4f5g7"}, RoutingProfileId: aws.String("87654321-9999-3434-abcd-x1y2z3a1b2c3")})
	check("create-user", err, err == nil && strings.HasPrefix(aws.ToString(created.UserArn), arn+"/agent/"))

	g, err := cl.DescribeUserHierarchyGroup(ctx, &connect.DescribeUserHierarchyGroupInput{InstanceId: a, HierarchyGroupId: aws.String("12345678-1111-2222-800e-aaabbb555gg")})
	check("describe-user-hierarchy-group", err, err == nil && aws.ToString(g.HierarchyGroup.Name) == "Example Corporation" && aws.ToString(g.HierarchyGroup.LevelId) == "1" &&
		aws.ToString(g.HierarchyGroup.HierarchyPath.LevelOne.Name) == "Example Corporation")

	st, err := cl.DescribeUserHierarchyStructure(ctx, &connect.DescribeUserHierarchyStructureInput{InstanceId: a})
	check("describe-user-hierarchy-structure", err, err == nil && aws.ToString(st.HierarchyStructure.LevelThree.Name) == "EU Site" &&
		aws.ToString(st.HierarchyStructure.LevelOne.Arn) == arn+"/agent-group-level/1" && st.HierarchyStructure.LevelFour == nil)

	u, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: b, UserId: aws.String("0c245dc0-0cf5-4e37-800e-2a7481cc8a60")})
	check("describe-user", err, err == nil && aws.ToString(u.User.Username) == "Jane" && u.User.PhoneConfig.PhoneType == types.PhoneTypeSoftPhone &&
		slices.Equal(u.User.SecurityProfileIds, []string{"b6f85a42-1dc5-443b-b621-de0abf70c9cf"}) && aws.ToString(u.User.RoutingProfileId) == "0be36ee9-2b5f-4ef4-bcf7-87738e5be0e5")

	rp, err := cl.ListRoutingProfiles(ctx, &connect.ListRoutingProfilesInput{InstanceId: a})
	check("list-routing-profiles", err, err == nil && len(rp.RoutingProfileSummaryList) == 3)

	sp, err := cl.ListSecurityProfiles(ctx, &connect.ListSecurityProfilesInput{InstanceId: a})
	check("list-security-profiles", err, err == nil && len(sp.SecurityProfileSummaryList) == 6)

	hg, err := cl.ListUserHierarchyGroups(ctx, &connect.ListUserHierarchyGroupsInput{InstanceId: b})
	check("list-user-hierarchy-groups", err, err == nil && len(hg.UserHierarchyGroupSummaryList) == 1 &&
		aws.ToString(hg.UserHierarchyGroupSummaryList[0].Name) == "Example Corporation")

	us, err := cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: b})
	var names []string
	if err == nil {
		for _, s := range us.UserSummaryList {
			names = append(names, aws.ToString(s.Username))
		}
	}
	check("list-users", err, slices.Equal(names, []string{"Jane", "JohnD", "JohnS", "Paulo"}))

	_, err = cl.UpdateUserHierarchy(ctx, &connect.UpdateUserHierarchyInput{InstanceId: a, UserId: user, HierarchyGroupId: aws.String("12345678-a1b2-c3d4-e5f6-123456789abc")})
	check("update-user-hierarchy", err, true)
	_, err = cl.UpdateUserIdentityInfo(ctx, &connect.UpdateUserIdentityInfoInput{InstanceId: a, UserId: user,
		IdentityInfo: &types.UserIdentityInfo{FirstName: aws.String("Mary"), LastName: aws.String("Major"), Email: aws.String("marym@example.com")}})
	check("update-user-identity-info", err, true)
	_, err = cl.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: a, UserId: aws.String("12345678-4444-3333-2222-111122223333"),
		PhoneConfig: &types.UserPhoneConfig{PhoneType: types.PhoneTypeSoftPhone, AfterContactWorkTimeLimit: 60, DeskPhoneNumber: aws.String("+18005551212")}})
	check("update-user-phone-config", err, true)
	_, err = cl.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: a, UserId: user, RoutingProfileId: aws.String("12345678-1111-3333-2222-4444EXAMPLE")})
	check("update-user-routing-profile", err, true)
	_, err = cl.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: a, UserId: user, SecurityProfileIds: []string{"12345678-1234-1234-1234-1234567892111"}})
	check("update-user-security-profiles", err, true)

	after, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: a, UserId: user})
	check("the updates", err, err == nil && aws.ToString(after.User.HierarchyGroupId) == "12345678-a1b2-c3d4-e5f6-123456789abc" &&
		aws.ToString(after.User.IdentityInfo.Email) == "marym@example.com" && aws.ToString(after.User.RoutingProfileId) == "12345678-1111-3333-2222-4444EXAMPLE" &&
		slices.Equal(after.User.SecurityProfileIds, []string{"12345678-1234-1234-1234-1234567892111"}))

	_, err = cl.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: a, UserId: user})
	check("delete-user", err, true)
}

// The directory, campaign, attachment and fault settings of the documented world file decode.
func TestDocumentedWorldFileDirectory(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "connectsim.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## World file")
	_, block, _ := strings.Cut(section, "```json\n")
	block, _, _ = strings.Cut(block, "```")
	w, err := connectsim.ParseWorld([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	in := w.Instances[0]
	if !in.RefuseCampaignCalls || len(in.RoutingProfiles) != 2 || len(in.Users) != 2 || in.Users[0].AfterContactWorkTimeLimit != 45 ||
		len(in.Hierarchy.Groups) != 3 || in.Users[1].SecurityProfileIDs[0] != "sp-agent" || in.Users[1].RoutingProfileID != "rp-basic" ||
		w.Attachments.PerContact != 35 || w.Faults["StartOutboundVoiceContact"].Kind != connectsim.FaultDropAfter {
		t.Errorf("documented directory decoded as %+v", in)
	}
}
