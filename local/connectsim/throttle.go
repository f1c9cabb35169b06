package connectsim

import (
	"sync"
	"time"
)

// bucket is a token bucket on the wall clock: quotas in Amazon Connect are
// requests per real second, whatever the simulation's time scale.
type bucket struct {
	mu     sync.Mutex
	limit  RateLimit
	tokens float64
	last   time.Time
}

func newBucket(l RateLimit, now time.Time) *bucket {
	return &bucket{limit: l, tokens: float64(l.Burst), last: now}
}

func (b *bucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last); el > 0 {
		b.tokens += el.Seconds() * b.limit.Rate
		if b.tokens > float64(b.limit.Burst) {
			b.tokens = float64(b.limit.Burst)
		}
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
