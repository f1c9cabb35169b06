package connectsim_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// TestNewOperationsQuotasAndInternalErrors: each new operation throttles at its documented
// default (2/s burst 5, GetMetricData 5/8, GetAttachment 8/12) with ThrottlingException (429),
// and answers InternalServiceException (500) or, on the Participant Service,
// InternalServerException (500) when the service fails.
func TestNewOperationsQuotasAndInternalErrors(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, connectsim.Options{})
	cl := srv.ConnectClient(t, func(o *connect.Options) {
		o.RetryMaxAttempts = 1
		o.Credentials = credentials.NewStaticCredentialsProvider("agent1", "secret", "")
	})
	chat, err := srv.StartChat("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	user := aws.String(agent1)
	participant := func(path string, body any) func() (string, int) {
		return func() (string, int) {
			resp, _ := doJSON(t, http.MethodPost, srv.URL+path, map[string]string{"X-Amz-Bearer": chat.ParticipantToken}, body, nil)
			return resp.Header.Get("X-Amzn-ErrorType"), resp.StatusCode
		}
	}
	sdk := func(f func() error) func() (string, int) {
		return func() (string, int) {
			err := f()
			return apiCode(err), httpStatus(err)
		}
	}
	// refusedAs counts an expected refusal as a success of the call.
	refusedAs := func(typ string, call func() (string, int)) func() (string, int) {
		return func() (string, int) {
			got, status := call()
			if got == typ {
				return "", 200
			}
			return got, status
		}
	}
	start5 := t0.Truncate(5 * time.Minute)
	ops := []struct {
		op    string
		burst int
		call  func() (string, int)
	}{
		{"CreateUser", 5, sdk(func() error {
			_, err := cl.CreateUser(ctx, &connect.CreateUserInput{InstanceId: inst, Username: aws.String("agent1"), Password: aws.String("Pass@Word1"),
				IdentityInfo: &types.UserIdentityInfo{FirstName: aws.String("A"), LastName: aws.String("B")}, SecurityProfileIds: []string{"x"}, RoutingProfileId: aws.String("x")})
			if apiCode(err) == "ResourceNotFoundException" {
				return nil
			}
			return err
		})},
		{"DescribeUser", 5, sdk(func() error {
			_, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: user})
			return err
		})},
		{"ListUsers", 5, sdk(func() error { _, err := cl.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst}); return err })},
		{"DeleteUser", 5, sdk(func() error {
			_, err := cl.DeleteUser(ctx, &connect.DeleteUserInput{InstanceId: inst, UserId: aws.String("nobody")})
			if apiCode(err) == "ResourceNotFoundException" {
				return nil
			}
			return err
		})},
		{"UpdateUserIdentityInfo", 5, sdk(func() error {
			_, err := cl.UpdateUserIdentityInfo(ctx, &connect.UpdateUserIdentityInfoInput{InstanceId: inst, UserId: user, IdentityInfo: &types.UserIdentityInfo{}})
			return err
		})},
		{"UpdateUserPhoneConfig", 5, sdk(func() error {
			_, err := cl.UpdateUserPhoneConfig(ctx, &connect.UpdateUserPhoneConfigInput{InstanceId: inst, UserId: user, PhoneConfig: &types.UserPhoneConfig{}})
			return err
		})},
		{"UpdateUserRoutingProfile", 5, sdk(func() error {
			_, err := cl.UpdateUserRoutingProfile(ctx, &connect.UpdateUserRoutingProfileInput{InstanceId: inst, UserId: user, RoutingProfileId: aws.String(connectsim.DefaultRoutingProfileID)})
			return err
		})},
		{"UpdateUserSecurityProfiles", 5, sdk(func() error {
			_, err := cl.UpdateUserSecurityProfiles(ctx, &connect.UpdateUserSecurityProfilesInput{InstanceId: inst, UserId: user, SecurityProfileIds: []string{connectsim.DefaultSecurityProfileAgentID}})
			return err
		})},
		{"UpdateUserHierarchy", 5, sdk(func() error {
			_, err := cl.UpdateUserHierarchy(ctx, &connect.UpdateUserHierarchyInput{InstanceId: inst, UserId: user})
			return err
		})},
		{"DescribeUserHierarchyStructure", 5, sdk(func() error {
			_, err := cl.DescribeUserHierarchyStructure(ctx, &connect.DescribeUserHierarchyStructureInput{InstanceId: inst})
			return err
		})},
		{"DescribeUserHierarchyGroup", 5, sdk(func() error {
			_, err := cl.DescribeUserHierarchyGroup(ctx, &connect.DescribeUserHierarchyGroupInput{InstanceId: inst, HierarchyGroupId: aws.String(connectsim.DefaultHierarchyGroupID)})
			return err
		})},
		{"ListUserHierarchyGroups", 5, sdk(func() error {
			_, err := cl.ListUserHierarchyGroups(ctx, &connect.ListUserHierarchyGroupsInput{InstanceId: inst})
			return err
		})},
		{"ListRoutingProfiles", 5, sdk(func() error {
			_, err := cl.ListRoutingProfiles(ctx, &connect.ListRoutingProfilesInput{InstanceId: inst})
			return err
		})},
		{"ListSecurityProfiles", 5, sdk(func() error {
			_, err := cl.ListSecurityProfiles(ctx, &connect.ListSecurityProfilesInput{InstanceId: inst})
			return err
		})},
		{"GetFederationToken", 5, sdk(func() error {
			_, err := cl.GetFederationToken(ctx, &connect.GetFederationTokenInput{InstanceId: inst})
			return err
		})},
		{"GetMetricData", 8, sdk(func() error {
			_, err := cl.GetMetricData(ctx, &connect.GetMetricDataInput{InstanceId: inst, StartTime: aws.Time(start5), EndTime: aws.Time(start5.Add(5 * time.Minute)),
				Filters:           &types.Filters{Queues: []string{connectsim.DefaultQueueID}},
				HistoricalMetrics: []types.HistoricalMetric{{Name: types.HistoricalMetricNameContactsHandled, Unit: types.UnitCount, Statistic: types.StatisticSum}}})
			return err
		})},
		{"StartAttachmentUpload", 5, participant("/participant/start-attachment-upload", map[string]any{"ContentType": "text/plain", "AttachmentSizeInBytes": 3, "AttachmentName": "a.txt", "ClientToken": "same"})},
		// An unknown attachment is refused after the quota: the refusal takes a token too.
		{"CompleteAttachmentUpload", 5, refusedAs("ValidationException", participant("/participant/complete-attachment-upload", map[string]any{"AttachmentIds": []string{"nope"}, "ClientToken": "c"}))},
		{"GetAttachment", 12, refusedAs("ValidationException", participant("/participant/attachment", map[string]any{"AttachmentId": "nope"}))},
	}
	for _, o := range ops {
		if rl, ok := connectsim.DefaultRateLimit(o.op); !ok || rl.Burst != o.burst || rl.ErrorType != "ThrottlingException" {
			t.Fatalf("%s: default quota %+v %v", o.op, rl, ok)
		}
		for i := 0; i < o.burst; i++ {
			if typ, status := o.call(); typ != "" || status >= 300 {
				t.Fatalf("%s: request %d of the burst: %s %d", o.op, i+1, typ, status)
			}
		}
		if typ, status := o.call(); typ != "ThrottlingException" || status != 429 {
			t.Fatalf("%s: request %d: %s %d, want ThrottlingException 429", o.op, o.burst+1, typ, status)
		}
	}
	_ = srv.Advance(time.Minute)
	for _, o := range ops {
		srv.SetFault(o.op, connectsim.Fault{Kind: connectsim.FaultInternal, Count: 1})
		want := "InternalServiceException"
		if o.op == "StartAttachmentUpload" || o.op == "CompleteAttachmentUpload" || o.op == "GetAttachment" {
			want = "InternalServerException"
		}
		if typ, status := o.call(); typ != want || status != 500 {
			t.Errorf("%s with an internal fault: %s %d, want %s 500", o.op, typ, status, want)
		}
	}
}
