package authstate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/local/faultproxy"
	"github.com/switchboard-connect/switchboard/shared/authstate"
)

const table = "auth-state"

// lease is the pending lease of the tests' claims (every test store lives at least a minute).
const lease = time.Minute

// clock is a settable time source.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)     { c.t.Store(t.UnixNano()) }
func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }

func newStore(t *testing.T, ttl time.Duration) (*authstate.Store, *clock, *dynamodb.Client) {
	t.Helper()
	srv := dynalitetest.Start(t)
	srv.CreateTable(t, authstate.CreateTableInput(table))
	client := srv.Client()
	s, err := authstate.New(client, table, ttl)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	return s.WithClock(clk.now), clk, client
}

// newProxiedStore is a store whose client reaches dynalite through a fault proxy, with the SDK's
// standard retries (3 attempts) and short backoffs; direct is a client without the proxy.
func newProxiedStore(t *testing.T, ttl time.Duration) (s *authstate.Store, p *faultproxy.Server, direct *authstate.Store, clk *clock) {
	t.Helper()
	srv := dynalitetest.Start(t)
	srv.CreateTable(t, authstate.CreateTableInput(table))
	p = faultproxy.StartTest(t, srv.URL)
	cfg := srv.AWSConfig()
	cfg.BaseEndpoint = aws.String(p.URL)
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 20*time.Millisecond)
	})
	clk = newClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	s, err := authstate.New(client, table, ttl)
	if err != nil {
		t.Fatal(err)
	}
	direct, err = authstate.New(srv.Client(), table, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return s.WithClock(clk.now), p, direct.WithClock(clk.now), clk
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestClaimOnceThenRefuse(t *testing.T) {
	s, clk, client := newStore(t, 15*time.Minute)
	const state = "st4te-from-connect"

	c, err := s.Claim(ctx(t), state, lease)
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if c.Hash != authstate.Hash(state) || c.ID == "" || !c.Pending || !c.ExpiresAt.Equal(clk.now().Add(lease)) {
		t.Fatalf("claim = %+v", c)
	}
	if _, err := s.Claim(ctx(t), state, lease); !errors.Is(err, authstate.ErrPending) {
		t.Fatalf("claim during the lease: %v, want ErrPending", err)
	}
	clk.add(time.Second)
	ext, err := s.Extend(ctx(t), c)
	if err != nil {
		t.Fatalf("extend: %v", err)
	}
	if ext.ID != c.ID || ext.Pending || !ext.ExpiresAt.Equal(clk.now().Add(15*time.Minute)) {
		t.Fatalf("extended claim = %+v", ext)
	}
	if _, err := s.Claim(ctx(t), state, lease); !errors.Is(err, authstate.ErrAlreadyUsed) {
		t.Fatalf("replay: %v, want ErrAlreadyUsed", err)
	}
	if used, err := s.Used(ctx(t), state); err != nil || !used {
		t.Fatalf("Used = %v, %v; want true", used, err)
	}
	// Another state is independent.
	if _, err := s.Claim(ctx(t), state+"x", lease); err != nil {
		t.Fatalf("other state: %v", err)
	}

	// The item holds the hash and the expiry, never the state.
	out, err := client.Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		for name, v := range item {
			if s, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(s.Value, state) {
				t.Errorf("attribute %s holds the state in clear", name)
			}
		}
		if _, ok := item[authstate.AttrExpiresAt].(*types.AttributeValueMemberN); !ok {
			t.Errorf("item without a numeric %s: %v", authstate.AttrExpiresAt, item)
		}
	}
}

func TestHashIsHexSHA256(t *testing.T) {
	// echo -n abc | sha256sum
	if got := authstate.Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash(abc) = %s", got)
	}
}

// TTL deletion is lazy: an expired item may still be there, and must count as absent.
func TestExpiredClaimCountsAsAbsent(t *testing.T) {
	s, clk, _ := newStore(t, time.Minute)
	if _, err := s.Claim(ctx(t), "s", lease); err != nil {
		t.Fatal(err)
	}
	clk.add(59 * time.Second)
	if _, err := s.Claim(ctx(t), "s", lease); !errors.Is(err, authstate.ErrPending) {
		t.Fatalf("claim before expiry: %v", err)
	}
	clk.add(time.Second)
	if used, err := s.Used(ctx(t), "s"); err != nil || used {
		t.Fatalf("Used after expiry = %v, %v; want false", used, err)
	}
	if _, err := s.Claim(ctx(t), "s", lease); err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
}

func TestReleaseAllowsTheSameStateAgain(t *testing.T) {
	s, _, _ := newStore(t, 15*time.Minute)
	c, err := s.Claim(ctx(t), "s", lease)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.Used(ctx(t), "s"); used {
		t.Fatal("still used after release")
	}
	if _, err := s.Claim(ctx(t), "s", lease); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	// The state is held again, by the new claim: the old one is no longer ours to release.
	if err := s.Release(ctx(t), c); !errors.Is(err, authstate.ErrNotHeld) {
		t.Fatalf("release of a claim the state no longer holds: %v, want ErrNotHeld", err)
	}
	if used, _ := s.Used(ctx(t), "s"); !used {
		t.Fatal("the old claim's release freed the new one")
	}
}

// Releasing twice is harmless: the second finds the state free, which is what a release is for.
func TestReleaseTwice(t *testing.T) {
	s, _, _ := newStore(t, 15*time.Minute)
	c, err := s.Claim(ctx(t), "s", lease)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Release(ctx(t), c); err != nil {
			t.Fatalf("release %d: %v", i+1, err)
		}
	}
	if _, err := s.Claim(ctx(t), "s", lease); err != nil {
		t.Fatalf("claim after the releases: %v", err)
	}
}

// A PutItem that DynamoDB applied but whose reply was lost is retried by the SDK: the retry
// finds the item holding this very claim, and that is a successful claim, not a replay.
func TestClaimWhoseReplyWasLostIsRetriedIntoSuccess(t *testing.T) {
	for _, f := range []faultproxy.Kind{faultproxy.InternalAfter, faultproxy.DropAfter} {
		t.Run(string(f), func(t *testing.T) {
			s, p, _, _ := newProxiedStore(t, 15*time.Minute)
			p.Set(faultproxy.OpPutItem, f, 1)
			if _, err := s.Claim(ctx(t), "s", lease); err != nil {
				t.Fatalf("claim with a lost first reply: %v", err)
			}
			if n := p.Requests(faultproxy.OpPutItem); n != 2 {
				t.Fatalf("%d PutItem requests, want the lost one and its retry", n)
			}
			if _, err := s.Claim(ctx(t), "s", lease); !errors.Is(err, authstate.ErrPending) {
				t.Fatalf("claim after the claim: %v, want ErrPending", err)
			}
		})
	}
}

// Every reply lost: the claim fails, yet DynamoDB holds it. Claim returns the attempted claim
// with the error, and releasing it makes the state usable again.
func TestFailedClaimReturnsTheAttemptForRelease(t *testing.T) {
	for _, f := range []faultproxy.Kind{faultproxy.InternalAfter, faultproxy.DropAfter} {
		t.Run(string(f), func(t *testing.T) {
			s, p, direct, _ := newProxiedStore(t, 15*time.Minute)
			p.Set(faultproxy.OpPutItem, f, 0)
			c, err := s.Claim(ctx(t), "s", lease)
			if err == nil || errors.Is(err, authstate.ErrAlreadyUsed) {
				t.Fatalf("claim with every reply lost: %v, want a store error", err)
			}
			if used, err := direct.Used(ctx(t), "s"); err != nil || !used {
				t.Fatalf("Used = %v, %v: the proxy did not apply the write", used, err)
			}
			if c.Hash != authstate.Hash("s") || c.ID == "" {
				t.Fatalf("failed claim returned %+v, want the attempted claim", c)
			}
			if err := s.Release(ctx(t), c); err != nil {
				t.Fatalf("release of the attempted claim: %v", err)
			}
			p.Clear()
			if _, err := s.Claim(ctx(t), "s", lease); err != nil {
				t.Fatalf("claim after the release: %v", err)
			}
		})
	}
}

// A claim whose write never happened holds nothing: releasing it frees (and is) nothing.
func TestReleaseOfAClaimNeverWritten(t *testing.T) {
	s, p, _, _ := newProxiedStore(t, 15*time.Minute)
	p.Set(faultproxy.OpPutItem, faultproxy.Internal, 0)
	c, err := s.Claim(ctx(t), "s", lease)
	if err == nil {
		t.Fatal("claim succeeded through a failing store")
	}
	if err := s.Release(ctx(t), c); err != nil {
		t.Fatalf("release of a claim never written: %v", err)
	}
	p.Clear()
	if _, err := s.Claim(ctx(t), "s", lease); err != nil {
		t.Fatalf("claim: %v", err)
	}
}

// A release of a claim that expired and was taken over must not free the new claim, and says so.
func TestStaleReleaseKeepsTheNewClaim(t *testing.T) {
	s, clk, _ := newStore(t, time.Minute)
	old, err := s.Claim(ctx(t), "s", lease)
	if err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Minute)
	if _, err := s.Claim(ctx(t), "s", lease); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx(t), old); !errors.Is(err, authstate.ErrNotHeld) {
		t.Fatalf("stale release: %v, want ErrNotHeld", err)
	}
	if used, _ := s.Used(ctx(t), "s"); !used {
		t.Fatal("stale release freed the new claim")
	}
}

func TestConcurrentClaimsExactlyOneWins(t *testing.T) {
	s, _, _ := newStore(t, 15*time.Minute)
	const n = 16
	var wins, refused atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Claim(ctx(t), "raced", lease)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, authstate.ErrPending):
				refused.Add(1)
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if wins.Load() != 1 || refused.Load() != n-1 {
		t.Fatalf("wins %d refused %d, want 1 and %d", wins.Load(), refused.Load(), n-1)
	}
}

func TestStoreErrorsCarryNoState(t *testing.T) {
	srv := dynalitetest.Start(t) // no table: every call fails
	s, err := authstate.New(srv.Client(), "missing-table", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	const state = "SECRET-STATE"
	if _, err := s.Claim(ctx(t), state, lease); err == nil || strings.Contains(err.Error(), state) || errors.Is(err, authstate.ErrAlreadyUsed) {
		t.Fatalf("Claim on a missing table: %v", err)
	}
	if _, err := s.Used(ctx(t), state); err == nil || strings.Contains(err.Error(), state) {
		t.Fatalf("Used on a missing table: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := authstate.New(nil, "", time.Minute); err == nil {
		t.Error("accepted an empty table name")
	}
	if _, err := authstate.New(nil, "t", 0); err == nil {
		t.Error("accepted a zero lifetime")
	}
}

// Issue 8 item 9: a claim write that reaches DynamoDB after the caller gave up (its context
// ended, it released the claim and told the customer to try again) holds the state only until
// the claim's pending lease ends, never for the store's lifetime: the expiry is fixed when the
// write is made, however late it lands.
func TestLateClaimWriteHoldsTheStateOnlyForItsLease(t *testing.T) {
	const ttl = 15 * time.Minute
	const shortLease = 4 * time.Second
	s, p, direct, clk := newProxiedStore(t, ttl)
	p.Delay(faultproxy.OpPutItem, 500*time.Millisecond, 0)

	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	c, err := s.Claim(cctx, "s", shortLease)
	cancel()
	if err == nil {
		t.Fatal("claim succeeded although its write was held past the caller's deadline")
	}
	// The release runs before the write lands: it finds nothing, so the state looks free.
	if err := s.Release(ctx(t), c); err != nil {
		t.Fatalf("release before the late write: %v", err)
	}
	p.WaitDelayed()
	p.Clear()
	if used, err := direct.Used(ctx(t), "s"); err != nil || !used {
		t.Fatalf("Used = %v, %v: the late write did not land", used, err)
	}
	// During the lease a new claim is told the state is pending, not used.
	if _, err := direct.Claim(ctx(t), "s", shortLease); !errors.Is(err, authstate.ErrPending) {
		t.Fatalf("claim during the late write's lease: %v, want ErrPending", err)
	}
	// Nothing can extend the late claim: its caller is gone, and Extend needs its ID anyway.
	clk.add(shortLease)
	if _, err := direct.Claim(ctx(t), "s", shortLease); err != nil {
		t.Fatalf("claim once the late write's lease ended: %v (the late write locked the link)", err)
	}
}

func TestExtendNeedsTheClaim(t *testing.T) {
	s, clk, _ := newStore(t, 15*time.Minute)
	c, err := s.Claim(ctx(t), "s", lease)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Extend(ctx(t), c); !errors.Is(err, authstate.ErrNotHeld) {
		t.Fatalf("extend of a released claim: %v, want ErrNotHeld", err)
	}
	if used, _ := s.Used(ctx(t), "s"); used {
		t.Fatal("extend of a released claim wrote the state")
	}
	// A claim whose lease ended and was taken over cannot be extended either.
	old, err := s.Claim(ctx(t), "s", lease)
	if err != nil {
		t.Fatal(err)
	}
	clk.add(lease)
	if _, err := s.Claim(ctx(t), "s", lease); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Extend(ctx(t), old); !errors.Is(err, authstate.ErrNotHeld) {
		t.Fatalf("extend of a claim taken over: %v, want ErrNotHeld", err)
	}
	if _, err := s.Claim(ctx(t), "other", 20*time.Minute); err == nil {
		t.Fatal("accepted a lease longer than the lifetime")
	}
}
