package connectsim

import (
	"sort"
	"sync"
	"time"
)

// Clock is the simulation clock: call progress, event timestamps, session
// expiry and ClientToken validity all read it. Throttling does not: quotas
// are wall-clock rates, as in the real service.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f once the clock has moved d past now.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a scheduled callback of a Clock.
type Timer interface {
	// Stop prevents the callback from running; it reports whether it did.
	Stop() bool
}

// ScaledClock runs Scale times faster than the wall clock, from Start.
type ScaledClock struct {
	start time.Time
	wall  time.Time
	scale float64
}

// NewScaledClock returns a clock that starts at start and advances scale
// simulated seconds per wall second (60: a minute per second).
func NewScaledClock(start time.Time, scale float64) *ScaledClock {
	if scale <= 0 {
		scale = 1
	}
	return &ScaledClock{start: start, wall: time.Now(), scale: scale}
}

// Now returns the simulated time.
func (c *ScaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.wall)) * c.scale))
}

// AfterFunc schedules f after d of simulated time.
func (c *ScaledClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(time.Duration(float64(d)/c.scale), f)
}

// ManualClock only moves when told to, which makes tests deterministic:
// Advance runs every callback that falls due, in time order, on the calling
// goroutine, before it returns.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers []*manualTimer
	// running serialises Advance calls, so callbacks never run concurrently.
	running sync.Mutex
}

type manualTimer struct {
	c       *ManualClock
	due     time.Time
	seq     int
	f       func()
	stopped bool
}

// NewManualClock returns a stopped clock reading start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the current simulated time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run when Advance moves the clock d past now.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &manualTimer{c: c, due: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Stop cancels the timer.
func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.stopped {
		return false
	}
	t.stopped = true
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves the clock forward by d, running due callbacks in order of
// due time (then of scheduling). Callbacks scheduled by callbacks run too if
// they fall due within d.
func (c *ManualClock) Advance(d time.Duration) {
	c.running.Lock()
	defer c.running.Unlock()
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool {
			if !c.timers[i].due.Equal(c.timers[j].due) {
				return c.timers[i].due.Before(c.timers[j].due)
			}
			return c.timers[i].seq < c.timers[j].seq
		})
		if len(c.timers) == 0 || c.timers[0].due.After(target) {
			c.now = target
			c.mu.Unlock()
			return
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		t.stopped = true
		if t.due.After(c.now) {
			c.now = t.due
		}
		c.mu.Unlock()
		t.f()
	}
}

// Pending reports how many callbacks are scheduled.
func (c *ManualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
