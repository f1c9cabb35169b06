package pacing

import "fmt"

// MaxShares bounds the executions one instance's pacing is split over.
const MaxShares = 16

// Share is one of n equal parts of a whole number: total/n, and one more for the first total%n
// parts, so that the n parts add up to total exactly.
func Share(total, i, n int) int {
	if n <= 1 {
		return total
	}
	s := total / n
	if i < total%n {
		s++
	}
	return s
}

// Share returns part i of n of the pacing, for n executions that dial for one instance at once
// without sharing a counter: the rate divided by n, the cap split so that the parts add up to
// it (Share). Each burst is at least 1 (a bucket needs one), so when Burst < n the bursts add up
// to n, above Burst; the rate over time is still CallsPerSecond. A part whose cap is 0 dials
// nothing: Share refuses a cap under n.
func (c Config) Share(i, n int) (Config, error) {
	if n < 1 || n > MaxShares || i < 0 || i >= n {
		return Config{}, fmt.Errorf("pacing: part %d of %d: want 0 <= part < parts <= %d", i, n, MaxShares)
	}
	if n == 1 {
		return c, nil
	}
	if c.MaxLive < n {
		return Config{}, fmt.Errorf("pacing: a concurrency cap of %d cannot be split over %d executions", c.MaxLive, n)
	}
	return Config{CallsPerSecond: c.CallsPerSecond / float64(n), Burst: max(1, Share(c.Burst, i, n)), MaxLive: Share(c.MaxLive, i, n)}, nil
}
