package pacing

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MaxCallsPerSecond bounds a configured rate; Connect's default quota for
// StartOutboundVoiceContact is 2 per second (burst 5), adjustable on request.
const MaxCallsPerSecond = 1000

// MaxBurst bounds a configured burst.
const MaxBurst = 10000

// Bucket is a token bucket on explicit instants: it holds at most burst tokens and gains
// perSecond tokens a second; each call start takes one. It is safe for concurrent use.
type Bucket struct {
	mu   sync.Mutex
	lim  *rate.Limiter
	last time.Time
	// taken are the tokens of the last Take, one reservation each, for Return.
	taken []*rate.Reservation
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
	return &Bucket{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}, nil
}

// at returns t, or the latest instant already seen if t is earlier: x/time/rate rewinds its
// clock to an earlier instant and would then count the same interval twice, so a clock that
// steps back must never mint tokens.
func (b *Bucket) at(t time.Time) time.Time {
	if t.Before(b.last) {
		return b.last
	}
	b.last = t
	return t
}

// Available returns the whole tokens in the bucket at t.
func (b *Bucket) Available(t time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int(math.Max(0, math.Floor(b.lim.TokensAt(b.at(t)))))
}

// Take takes n tokens at t if the bucket holds them, and reports whether it did.
func (b *Bucket) Take(t time.Time, n int) bool {
	if n < 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t = b.at(t)
	if b.lim.TokensAt(t) < float64(n) {
		return false
	}
	b.taken = b.taken[:0]
	for i := 0; i < n; i++ {
		b.taken = append(b.taken, b.lim.ReserveN(t, 1)) // each is there: no wait
	}
	return true
}

// Return gives back up to n of the tokens of the last Take, unused (a grant that placed no call:
// the recipient was deferred or finished without a dial). x/time/rate's Reservation.CancelAt
// restores them "as much as possible, considering that other reservations may have already been
// made"; a token never comes back twice.
func (b *Bucket) Return(t time.Time, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t = b.at(t)
	for ; n > 0 && len(b.taken) > 0; n-- {
		last := len(b.taken) - 1
		b.taken[last].CancelAt(t)
		b.taken = b.taken[:last]
	}
}

// Drain empties the bucket at t.
func (b *Bucket) Drain(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t = b.at(t)
	if n := int(math.Floor(b.lim.TokensAt(t))); n > 0 {
		b.lim.AllowN(t, n)
	}
}

// ErrOverBurst is returned by Ready for more tokens than the bucket can ever hold.
var ErrOverBurst = errors.New("more tokens than the burst")

// Ready returns the earliest instant at or after t at which n tokens are available.
func (b *Bucket) Ready(t time.Time, n int) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t = b.at(t)
	if n > b.lim.Burst() {
		return time.Time{}, fmt.Errorf("%d tokens, burst %d: %w", n, b.lim.Burst(), ErrOverBurst)
	}
	missing := float64(n) - b.lim.TokensAt(t)
	if missing <= 0 {
		return t, nil
	}
	// Round up to the next microsecond so the tokens are really there at the answer.
	d := time.Duration(math.Ceil(missing/float64(b.lim.Limit())*1e6)) * time.Microsecond
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
	t = b.at(t)
	b.lim.SetLimitAt(t, rate.Limit(perSecond))
	b.lim.SetBurstAt(t, burst) // the limiter caps the tokens at the new burst
	return nil
}
