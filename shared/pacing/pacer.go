package pacing

import (
	"fmt"
	"sync"
	"time"
)

// MaxLiveCalls bounds a configured concurrency cap.
const MaxLiveCalls = 100000

// Config is the pacing of one Connect instance, shared by its running campaigns. Connect's
// default throttle for StartOutboundVoiceContact is 2 a second with a burst of 5, per account
// and Region and shared with every other caller; the concurrency quota (10 active calls per
// instance by default; TrafficType=CAMPAIGN calls have a quota of their own) is per instance.
// All are adjustable: set them from the account's Service Quotas, below the quota when other
// callers use it too (docs/dialer.md, "Pacing").
type Config struct {
	CallsPerSecond float64
	Burst          int
	MaxLive        int
}

// Validate checks the rate, burst and cap.
func (c Config) Validate() error {
	if err := checkRate(c.CallsPerSecond, c.Burst); err != nil {
		return fmt.Errorf("pacing: %w", err)
	}
	if c.MaxLive < 1 || c.MaxLive > MaxLiveCalls {
		return fmt.Errorf("pacing: concurrency cap %d: want 1 to %d", c.MaxLive, MaxLiveCalls)
	}
	return nil
}

// Pacer is the bucket, the cap and the scheduler of one instance. It is safe for concurrent
// use.
type Pacer struct {
	mu     sync.Mutex
	cfg    Config
	bucket *Bucket
	sched  *Scheduler
	aimd   *AIMD
	rate   float64 // the bucket's rate now
}

// NewPacer returns a pacer with a full bucket.
func NewPacer(cfg Config) (*Pacer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b, err := NewBucket(cfg.CallsPerSecond, cfg.Burst)
	if err != nil {
		return nil, err
	}
	return &Pacer{cfg: cfg, bucket: b, sched: NewScheduler(), aimd: NewAIMD(cfg.CallsPerSecond), rate: cfg.CallsPerSecond}, nil
}

// Throttled tells the pacer Connect throttled a dial at now: the rate halves (AIMD) and grows
// back while no throttle comes.
func (p *Pacer) Throttled(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setRate(now, p.aimd.Throttled(now))
}

// setRate moves the bucket to rate at now.
func (p *Pacer) setRate(now time.Time, rate float64) {
	if rate == p.rate {
		return
	}
	if err := p.bucket.Set(now, rate, p.cfg.Burst); err == nil {
		p.rate = rate
	}
}

// Rate is the rate the pacer allows at now (the configured rate, less what throttles took).
func (p *Pacer) Rate(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setRate(now, p.aimd.Rate(now))
	return p.rate
}

// Plan decides the calls each campaign may start at now (see Scheduler.Allocate) and takes
// their tokens from the bucket. A granted call that is then not dialled (the number turned out
// to be on the do-not-call list, the window closed) gives its token back with Return.
func (p *Pacer) Plan(now time.Time, demands []Demand) ([]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setRate(now, p.aimd.Rate(now))
	grants, err := p.sched.Allocate(p.bucket.Available(now), p.cfg.MaxLive, demands)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, g := range grants {
		total += g
	}
	if !p.bucket.Take(now, total) {
		// Available said the tokens were there and only this pacer takes them.
		return nil, fmt.Errorf("pacing: %d tokens granted but not in the bucket", total)
	}
	return grants, nil
}

// Return gives back n tokens of the last Plan that placed no call (see Bucket.Return): dial
// tokens are for dials, not for recipients deferred or finished without one.
func (p *Pacer) Return(now time.Time, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bucket.Return(now, n)
}

// NextToken returns the earliest instant at or after now at which one call may start as far
// as the rate goes (the cap and agents may still say no).
func (p *Pacer) NextToken(now time.Time) time.Time {
	t, err := p.bucket.Ready(now, 1)
	if err != nil { // unreachable: the burst is at least 1
		return now
	}
	return t
}

// Update applies a new configuration at now, keeping the tokens earned so far (capped by the
// new burst). Live calls above a lowered cap are not ended: no new call starts until they are
// below it.
func (p *Pacer) Update(now time.Time, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.bucket.Set(now, cfg.CallsPerSecond, cfg.Burst); err != nil {
		return err
	}
	p.cfg, p.aimd, p.rate = cfg, NewAIMD(cfg.CallsPerSecond), cfg.CallsPerSecond
	return nil
}

// Drain empties the bucket at now (a new process taking over the dialling: see NewBucket).
func (p *Pacer) Drain(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bucket.Drain(now)
}

// Config returns the configuration in force.
func (p *Pacer) Config() Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}
