package faultproxy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/local/latency"
)

const table = "items"

func setup(t *testing.T, cfg faultproxy.Config) (*faultproxy.Server, *dynamodb.Client, *dynamodb.Client) {
	t.Helper()
	db := dynalitetest.Start(t)
	db.CreateTable(t, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	cfg.Target = db.URL
	p, err := faultproxy.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	conf := db.AWSConfig()
	conf.BaseEndpoint = aws.String(p.URL)
	viaProxy := dynamodb.NewFromConfig(conf, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	return p, viaProxy, db.Client()
}

func put(ctx context.Context, c *dynamodb.Client, id string) error {
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}})
	return err
}

func exists(t *testing.T, c *dynamodb.Client, id string) bool {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

// Every kind fails the SDK's call as DynamoDB would, and only the "after" kinds let the write
// happen.
func TestEachKindFailsTheCallAsDynamoDBWould(t *testing.T) {
	for _, tc := range []struct {
		kind    faultproxy.Kind
		code    string // the SDK's error code, "" for a connection error
		status  int
		written bool
	}{
		{faultproxy.ThroughputExceeded, "ProvisionedThroughputExceededException", 400, false},
		{faultproxy.Throttling, "ThrottlingException", 400, false},
		{faultproxy.Internal, "InternalServerError", 500, false},
		{faultproxy.Drop, "", 0, false},
		{faultproxy.InternalAfter, "InternalServerError", 500, true},
		{faultproxy.DropAfter, "", 0, true},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			var seen []faultproxy.Exchange
			var mu sync.Mutex
			p, client, direct := setup(t, faultproxy.Config{Probability: 1, Kinds: []faultproxy.Kind{tc.kind}, Observe: func(e faultproxy.Exchange) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, e)
			}})
			err := put(context.Background(), client, "a")
			if err == nil {
				t.Fatal("the call succeeded through an injected fault")
			}
			var apiErr smithy.APIError
			switch {
			case tc.code != "":
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
					t.Fatalf("error %v, want the API error %s", err, tc.code)
				}
				var re *smithyhttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != tc.status {
					t.Fatalf("error %v, want HTTP %d", err, tc.status)
				}
			default:
				if errors.As(err, &apiErr) {
					t.Fatalf("error %v is an API error, want a connection error", err)
				}
				var se *smithyhttp.RequestSendError
				if !errors.As(err, &se) {
					t.Fatalf("error %T %v, want a request send error (the connection was closed)", err, err)
				}
			}
			if got := exists(t, direct, "a"); got != tc.written {
				t.Fatalf("item written: %v, want %v", got, tc.written)
			}
			c := p.Counts()
			if c.Requests != 1 || c.Faults[tc.kind] != 1 {
				t.Fatalf("counts %+v, want one request failed with %s", c, tc.kind)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.written {
				if len(seen) != 1 || seen[0].Operation != "PutItem" || seen[0].Delivered || seen[0].Status != 200 {
					t.Fatalf("observed %+v, want the PutItem answered 200 and not delivered", seen)
				}
			} else if len(seen) != 0 {
				t.Fatalf("observed %d exchanges of a request never forwarded", len(seen))
			}
		})
	}
}

// Without a fault the target's answer passes unchanged, and the SDK accepts it (checksum included).
func TestPassesAnswersThrough(t *testing.T) {
	var ops []string
	var mu sync.Mutex
	_, client, _ := setup(t, faultproxy.Config{Observe: func(e faultproxy.Exchange) {
		mu.Lock()
		defer mu.Unlock()
		if !e.Delivered {
			t.Errorf("%s not delivered without a fault", e.Operation)
		}
		ops = append(ops, e.Operation)
	}})
	ctx := context.Background()
	if err := put(ctx, client, "b"); err != nil {
		t.Fatal(err)
	}
	if !exists(t, client, "b") {
		t.Fatal("item not found through the proxy")
	}
	// A refusal of the target passes as it is.
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "b"}},
		ConditionExpression: aws.String("attribute_not_exists(id)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("error %v, want the target's ConditionalCheckFailedException", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(ops, ",") != "PutItem,GetItem,PutItem" {
		t.Fatalf("observed %v", ops)
	}
}

// At 20 %, the SDK's retries (10 attempts here) carry every call through, and about a fifth of the requests
// failed, of every kind.
func TestTwentyPercentWithSDKRetries(t *testing.T) {
	p, _, direct := setup(t, faultproxy.Config{Probability: 0.2, Seed: 7})
	conf := direct.Options()
	retrying := dynamodb.New(conf, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(p.URL)
		o.Retryer = retry.NewStandard(func(s *retry.StandardOptions) {
			s.MaxAttempts, s.MaxBackoff = 10, 20*time.Millisecond
			s.RateLimiter = ratelimit.None
		})
	})
	for i := 0; i < 300; i++ {
		id := "k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if err := put(context.Background(), retrying, id); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	c := p.Counts()
	total := 0
	for _, k := range faultproxy.AllKinds {
		if c.Faults[k] == 0 {
			t.Errorf("no %s fault in %d requests", k, c.Requests)
		}
		total += c.Faults[k]
	}
	if share := float64(total) / float64(c.Requests); share < 0.12 || share > 0.28 {
		t.Errorf("%d faults in %d requests (%.2f), want about 0.2", total, c.Requests, share)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []faultproxy.Config{
		{Target: "127.0.0.1:1"},
		{Target: "http://127.0.0.1:1", Probability: 1.5},
		{Target: "http://127.0.0.1:1", Kinds: []faultproxy.Kind{"slow"}},
	} {
		if _, err := faultproxy.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// A rule fails exactly the next N requests of its operation, ahead of the random share, and
// leaves other operations alone.
func TestARuleFailsTheNextRequestsOfItsOperation(t *testing.T) {
	p, client, direct := setup(t, faultproxy.Config{})
	ctx := context.Background()
	if err := p.Set(faultproxy.OpPutItem, faultproxy.InternalAfter, 2); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"a", "b", "c"} {
		err := put(ctx, client, id)
		if failed := err != nil; failed != (i < 2) {
			t.Errorf("put %d: %v", i, err)
		}
		if !exists(t, direct, id) {
			t.Errorf("put %d: not written (an after kind forwards the write)", i)
		}
	}
	if _, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}}}); err != nil {
		t.Errorf("GetItem under a PutItem rule: %v", err)
	}
	if got := p.Requests(faultproxy.OpPutItem); got != 3 {
		t.Errorf("Requests(PutItem) = %d, want 3", got)
	}
	if err := p.Set(faultproxy.OpPutItem, faultproxy.Kind("nonsense"), 1); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

// A delayed write is applied after the caller gave up.
func TestADelayedWriteIsAppliedAfterTheCallerGaveUp(t *testing.T) {
	p, client, direct := setup(t, faultproxy.Config{})
	p.Delay(faultproxy.OpPutItem, 300*time.Millisecond, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := put(ctx, client, "late"); err == nil {
		t.Fatal("the put returned before its delay")
	}
	if exists(t, direct, "late") {
		t.Fatal("written before the delay ran out")
	}
	p.WaitDelayed()
	if !exists(t, direct, "late") {
		t.Error("the delayed write never reached DynamoDB")
	}
}

// With a latency model, an answer takes at least its operation's draw; another operation takes
// its own.
func TestLatency(t *testing.T) {
	model, err := latency.Parse("PutItem=150ms/150ms,*=0s/0s", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, c, _ := setup(t, faultproxy.Config{Latency: model})
	ctx := context.Background()
	start := time.Now()
	if err := put(ctx, c, "a"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("PutItem answered in %v, before its 150 ms latency", took)
	}
	start = time.Now()
	if _, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}}}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= 150*time.Millisecond {
		t.Errorf("GetItem took %v: the PutItem latency reached it", took)
	}
}
