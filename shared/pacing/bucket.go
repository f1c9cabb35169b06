package pacing

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// MaxCallsPerSecond bounds a configured rate; Connect's default quota for
// StartOutboundVoiceContact is 2 per second (burst 5), adjustable on request.
const MaxCallsPerSecond = 1000

// MaxBurst bounds a configured burst.
const MaxBurst = 10000

// Bucket is a token bucket on explicit instants: it holds at most burst tokens and gains
// perSecond tokens a second; each call start takes one. It is safe for concurrent use.
//
// It keeps its own arithmetic rather than x/time/rate's Limiter: a token given back (Return)
// must come back whole even after other tokens were taken since, because dials are under way
// concurrently, and the Limiter's Reservation.CancelAt restores a token only "as much as
// possible, considering that other reservations may have already been made" (nothing at all once
// a second's worth was taken after it).
type Bucket struct {
	mu        sync.Mutex
	perSecond float64
	burst     int
	tokens    float64
	last      time.Time
	// out are the tokens taken and not given back, the most Return can give back.
	out int
}

func checkRate(perSecond float64, burst int) error {
	switch {
	case math.IsNaN(perSecond) || perSecond <= 0 || perSecond > MaxCallsPerSecond:
		return fmt.Errorf("calls per second %v: want more than 0 and at most %d", perSecond, MaxCallsPerSecond)
	case burst < 1 || burst > MaxBurst:
		return fmt.Errorf("burst %d: want 1 to %d", burst, MaxBurst)
	}
	return nil
}

// NewBucket returns a full bucket (burst tokens). A process that takes over from another
// dialer less than burst/perSecond seconds after it stopped should Drain it first.
func NewBucket(perSecond float64, burst int) (*Bucket, error) {
	if err := checkRate(perSecond, burst); err != nil {
		return nil, err
	}
	return &Bucket{perSecond: perSecond, burst: burst, tokens: float64(burst)}, nil
}

// advance earns the tokens from the last instant seen to t (capped at the burst) and returns
// t, or the last instant if t is earlier: a clock that steps back never mints tokens.
func (b *Bucket) advance(t time.Time) time.Time {
	if b.last.IsZero() {
		b.last = t
	}
	if !t.After(b.last) {
		return b.last
	}
	b.tokens = math.Min(float64(b.burst), b.tokens+t.Sub(b.last).Seconds()*b.perSecond)
	b.last = t
	return t
}

// Available returns the whole tokens in the bucket at t.
func (b *Bucket) Available(t time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(t)
	return int(math.Max(0, math.Floor(b.tokens+1e-9)))
}

// Take takes n tokens at t if the bucket holds them, and reports whether it did.
func (b *Bucket) Take(t time.Time, n int) bool {
	if n < 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(t)
	if b.tokens+1e-9 < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	b.out += n
	return true
}

// Return gives back up to n tokens taken and not used (a grant that placed no call: the
// recipient was deferred or finished without a dial), never more than were taken, and never
// above the burst.
func (b *Bucket) Return(t time.Time, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(t)
	n = min(n, b.out)
	if n <= 0 {
		return
	}
	b.out -= n
	b.tokens = math.Min(float64(b.burst), b.tokens+float64(n))
}

// Drain empties the bucket at t.
func (b *Bucket) Drain(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(t)
	b.tokens = math.Min(b.tokens, 0)
}

// ErrOverBurst is returned by Ready for more tokens than the bucket can ever hold.
var ErrOverBurst = errors.New("more tokens than the burst")

// Ready returns the earliest instant at or after t at which n tokens are available.
func (b *Bucket) Ready(t time.Time, n int) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t = b.advance(t)
	if n > b.burst {
		return time.Time{}, fmt.Errorf("%d tokens, burst %d: %w", n, b.burst, ErrOverBurst)
	}
	missing := float64(n) - b.tokens
	if missing <= 1e-9 {
		return t, nil
	}
	// Round up to the next microsecond so the tokens are really there at the answer.
	d := time.Duration(math.Ceil(missing/b.perSecond*1e6)) * time.Microsecond
	return t.Add(d), nil
}

// Set changes the rate and burst at t, keeping the tokens already earned (capped by the new
// burst).
func (b *Bucket) Set(t time.Time, perSecond float64, burst int) error {
	if err := checkRate(perSecond, burst); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(t)
	b.perSecond, b.burst = perSecond, burst
	b.tokens = math.Min(b.tokens, float64(burst))
	return nil
}
