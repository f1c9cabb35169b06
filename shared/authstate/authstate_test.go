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
	"github.com/switchboard-connect/switchboard/shared/authstate"
	"github.com/switchboard-connect/switchboard/shared/authstate/authstatetest"
)

const table = "auth-state"

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
func newProxiedStore(t *testing.T, ttl time.Duration) (s *authstate.Store, p *authstatetest.Proxy, direct *authstate.Store) {
	t.Helper()
	srv := dynalitetest.Start(t)
	srv.CreateTable(t, authstate.CreateTableInput(table))
	p = authstatetest.Start(t, srv.URL)
	cfg := srv.AWSConfig()
	cfg.BaseEndpoint = aws.String(p.URL)
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 20*time.Millisecond)
	})
	clk := newClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	s, err := authstate.New(client, table, ttl)
	if err != nil {
		t.Fatal(err)
	}
	direct, err = authstate.New(srv.Client(), table, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return s.WithClock(clk.now), p, direct.WithClock(clk.now)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestClaimOnceThenRefuse(t *testing.T) {
	s, clk, client := newStore(t, 15*time.Minute)
	const state = "st4te-from-connect"

	c, err := s.Claim(ctx(t), state)
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if c.Hash != authstate.Hash(state) || c.ID == "" || !c.ExpiresAt.Equal(clk.now().Add(15*time.Minute)) {
		t.Fatalf("claim = %+v", c)
	}
	if _, err := s.Claim(ctx(t), state); !errors.Is(err, authstate.ErrAlreadyUsed) {
		t.Fatalf("replay: %v, want ErrAlreadyUsed", err)
	}
	if used, err := s.Used(ctx(t), state); err != nil || !used {
		t.Fatalf("Used = %v, %v; want true", used, err)
	}
	// Another state is independent.
	if _, err := s.Claim(ctx(t), state+"x"); err != nil {
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
	if _, err := s.Claim(ctx(t), "s"); err != nil {
		t.Fatal(err)
	}
	clk.add(59 * time.Second)
	if _, err := s.Claim(ctx(t), "s"); !errors.Is(err, authstate.ErrAlreadyUsed) {
		t.Fatalf("claim before expiry: %v", err)
	}
	clk.add(time.Second)
	if used, err := s.Used(ctx(t), "s"); err != nil || used {
		t.Fatalf("Used after expiry = %v, %v; want false", used, err)
	}
	if _, err := s.Claim(ctx(t), "s"); err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
}

func TestReleaseAllowsTheSameStateAgain(t *testing.T) {
	s, _, _ := newStore(t, 15*time.Minute)
	c, err := s.Claim(ctx(t), "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.Used(ctx(t), "s"); used {
		t.Fatal("still used after release")
	}
	if _, err := s.Claim(ctx(t), "s"); err != nil {
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
	c, err := s.Claim(ctx(t), "s")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Release(ctx(t), c); err != nil {
			t.Fatalf("release %d: %v", i+1, err)
		}
	}
	if _, err := s.Claim(ctx(t), "s"); err != nil {
		t.Fatalf("claim after the releases: %v", err)
	}
}

// A PutItem that DynamoDB applied but whose reply was lost is retried by the SDK: the retry
// finds the item holding this very claim, and that is a successful claim, not a replay.
func TestClaimWhoseReplyWasLostIsRetriedIntoSuccess(t *testing.T) {
	for _, f := range []authstatetest.Fault{authstatetest.AppliedThen500, authstatetest.AppliedThenHangUp} {
		t.Run(f.String(), func(t *testing.T) {
			s, p, _ := newProxiedStore(t, 15*time.Minute)
			p.Set(authstatetest.OpPutItem, f, 1)
			if _, err := s.Claim(ctx(t), "s"); err != nil {
				t.Fatalf("claim with a lost first reply: %v", err)
			}
			if n := p.Requests(authstatetest.OpPutItem); n != 2 {
				t.Fatalf("%d PutItem requests, want the lost one and its retry", n)
			}
			if _, err := s.Claim(ctx(t), "s"); !errors.Is(err, authstate.ErrAlreadyUsed) {
				t.Fatalf("replay after the claim: %v, want ErrAlreadyUsed", err)
			}
		})
	}
}

// Every reply lost: the claim fails, yet DynamoDB holds it. Claim returns the attempted claim
// with the error, and releasing it makes the state usable again.
func TestFailedClaimReturnsTheAttemptForRelease(t *testing.T) {
	for _, f := range []authstatetest.Fault{authstatetest.AppliedThen500, authstatetest.AppliedThenHangUp} {
		t.Run(f.String(), func(t *testing.T) {
			s, p, direct := newProxiedStore(t, 15*time.Minute)
			p.Set(authstatetest.OpPutItem, f, 0)
			c, err := s.Claim(ctx(t), "s")
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
			if _, err := s.Claim(ctx(t), "s"); err != nil {
				t.Fatalf("claim after the release: %v", err)
			}
		})
	}
}

// A claim whose write never happened holds nothing: releasing it frees (and is) nothing.
func TestReleaseOfAClaimNeverWritten(t *testing.T) {
	s, p, _ := newProxiedStore(t, 15*time.Minute)
	p.Set(authstatetest.OpPutItem, authstatetest.NotApplied500, 0)
	c, err := s.Claim(ctx(t), "s")
	if err == nil {
		t.Fatal("claim succeeded through a failing store")
	}
	if err := s.Release(ctx(t), c); err != nil {
		t.Fatalf("release of a claim never written: %v", err)
	}
	p.Clear()
	if _, err := s.Claim(ctx(t), "s"); err != nil {
		t.Fatalf("claim: %v", err)
	}
}

// A release of a claim that expired and was taken over must not free the new claim, and says so.
func TestStaleReleaseKeepsTheNewClaim(t *testing.T) {
	s, clk, _ := newStore(t, time.Minute)
	old, err := s.Claim(ctx(t), "s")
	if err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Minute)
	if _, err := s.Claim(ctx(t), "s"); err != nil {
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
			_, err := s.Claim(ctx(t), "raced")
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, authstate.ErrAlreadyUsed):
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
	if _, err := s.Claim(ctx(t), state); err == nil || strings.Contains(err.Error(), state) || errors.Is(err, authstate.ErrAlreadyUsed) {
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
