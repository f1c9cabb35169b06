package pacing

import (
	"errors"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, time.March, 2, 14, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestBucket(t *testing.T) {
	b, err := NewBucket(2, 5) // Connect's default StartOutboundVoiceContact quota
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   time.Duration
		take int
		ok   bool
		left int // Available after the take
	}{
		{0, 5, true, 0}, // starts full
		{0, 1, false, 0},
		{499 * time.Millisecond, 1, false, 0}, // 0.998 tokens
		{500 * time.Millisecond, 1, true, 0},  // 1 token after 0.5 s at 2/s
		{2 * time.Second, 3, true, 0},         // 3 more after 1.5 s
		{10 * time.Second, 0, true, 5},        // capped at the burst, not 16
		{10 * time.Second, 6, false, 5},       // more than the burst is never allowed
	}
	for _, s := range steps {
		if got := b.Take(at(s.at), s.take); got != s.ok {
			t.Errorf("Take(t0+%v, %d) = %v, want %v", s.at, s.take, got, s.ok)
		}
		if got := b.Available(at(s.at)); got != s.left {
			t.Errorf("Available(t0+%v) = %d, want %d", s.at, got, s.left)
		}
	}
}

func TestBucketReady(t *testing.T) {
	b, _ := NewBucket(2, 5)
	b.Drain(t0)
	if got := b.Available(t0); got != 0 {
		t.Fatalf("after Drain: %d tokens", got)
	}
	ready, err := b.Ready(t0, 3)
	if err != nil || !ready.Equal(at(1500*time.Millisecond)) {
		t.Fatalf("Ready(3) = %v, %v; want t0+1.5s", ready, err)
	}
	if !b.Take(ready, 3) {
		t.Error("the tokens Ready promised are not there")
	}
	if _, err := b.Ready(t0, 6); !errors.Is(err, ErrOverBurst) {
		t.Errorf("Ready(6) with burst 5: %v, want ErrOverBurst", err)
	}
	if r, _ := b.Ready(at(time.Hour), 1); !r.Equal(at(time.Hour)) {
		t.Errorf("Ready with tokens there = %v, want now", r)
	}
}

// A clock that steps back must not mint tokens (x/time/rate, which Bucket once used, moves its
// clock back on a take at an earlier instant and then counts the same seconds again).
func TestBucketClockStepsBack(t *testing.T) {
	b, _ := NewBucket(2, 5)
	b.Drain(at(10 * time.Second))
	b.Take(at(5*time.Second), 0)
	if got := b.Available(at(10 * time.Second)); got != 0 {
		t.Errorf("after a step back: %d tokens at the same instant, want 0", got)
	}
	if b.Take(at(7*time.Second), 1) {
		t.Error("took a token at an earlier instant")
	}
	if got := b.Available(at(11 * time.Second)); got != 2 {
		t.Errorf("one second later: %d tokens, want 2", got)
	}
}

func TestBucketSet(t *testing.T) {
	b, _ := NewBucket(2, 5)
	b.Drain(t0)
	b.Take(at(time.Second), 1) // earned 2, 1 left
	if err := b.Set(at(time.Second), 10, 20); err != nil {
		t.Fatal(err)
	}
	if got := b.Available(at(2 * time.Second)); got != 11 { // 1 kept + 10 in one second
		t.Errorf("after raising the rate: %d, want 11", got)
	}
	if err := b.Set(at(2*time.Second), 1, 3); err != nil {
		t.Fatal(err)
	}
	if got := b.Available(at(2 * time.Second)); got != 3 {
		t.Errorf("after lowering the burst: %d, want 3", got)
	}
}

func TestBucketRejects(t *testing.T) {
	for _, c := range []struct {
		rate  float64
		burst int
	}{{0, 5}, {-1, 5}, {math.NaN(), 5}, {math.Inf(1), 5}, {1001, 5}, {2, 0}, {2, -1}, {2, 10001}} {
		if _, err := NewBucket(c.rate, c.burst); err == nil {
			t.Errorf("NewBucket(%v, %d) accepted", c.rate, c.burst)
		}
	}
	b, _ := NewBucket(2, 5)
	if b.Take(t0, -1) {
		t.Error("Take(-1) accepted")
	}
	if err := b.Set(t0, 0, 5); err == nil {
		t.Error("Set(0) accepted")
	}
}

// A token taken and not used comes back; one used does not; a token never comes back twice.
func TestBucketReturn(t *testing.T) {
	t0 := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	b, err := NewBucket(2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Take(t0, 4) || b.Available(t0) != 1 {
		t.Fatalf("after taking 4 of 5: %d", b.Available(t0))
	}
	b.Return(t0, 3)
	if got := b.Available(t0); got != 4 {
		t.Errorf("after returning 3: %d, want 4", got)
	}
	b.Return(t0, 3) // only one of the four is left to return
	if got := b.Available(t0); got != 5 {
		t.Errorf("after returning 3 more: %d, want 5 (one was left)", got)
	}
	b.Return(t0, 1)
	if got := b.Available(t0); got != 5 {
		t.Errorf("a return with nothing taken: %d", got)
	}
	if b.Take(t0, 6) {
		t.Error("took more than the burst")
	}
}

// Dials are under way concurrently: a token given back after others were taken comes back whole
// (x/time/rate's Reservation.CancelAt would restore nothing here, the reason Bucket keeps its own
// arithmetic).
func TestBucketReturnAfterLaterTakes(t *testing.T) {
	b, err := NewBucket(50, 50)
	if err != nil {
		t.Fatal(err)
	}
	b.Drain(t0)
	if !b.Take(at(100*time.Millisecond), 5) { // 5 earned in 0.1 s
		t.Fatal("5 tokens not there after 0.1 s at 50/s")
	}
	if !b.Take(at(300*time.Millisecond), 10) { // 10 more earned since
		t.Fatal("10 tokens not there 0.2 s later")
	}
	// The ten of the second grant and one of the first placed no call.
	b.Return(at(300*time.Millisecond), 11)
	if got := b.Available(at(300 * time.Millisecond)); got != 11 {
		t.Errorf("after giving 11 back: %d tokens, want 11", got)
	}
	// Never above the burst, however many come back.
	b.Return(at(10*time.Second), 4)
	if got := b.Available(at(10 * time.Second)); got != 50 {
		t.Errorf("a full bucket after returns: %d, want the burst 50", got)
	}
}
