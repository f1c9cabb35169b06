package devstack

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/local/connectsim"
)

// scheduler is the dialer's minute schedule: at every simulated minute it invokes the dialer
// asynchronously with the payload the CDK's schedule sends (infra/dialer.go: the envelope with
// the Scheduler's context attributes), as EventBridge Scheduler does, not through a bus.
type scheduler struct {
	clock   connectsim.Clock
	fns     *Functions
	log     *slog.Logger
	region  string
	account string

	mu      sync.Mutex
	timer   connectsim.Timer
	stopped bool
	seq     int
	ticks   int
}

func (s *scheduler) arn() string {
	return fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/Switchboard-DialerTick", s.region, s.account)
}

func (s *scheduler) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scheduleLocked()
}

func (s *scheduler) scheduleLocked() {
	if s.stopped {
		return
	}
	now := s.clock.Now()
	next := now.Truncate(time.Minute).Add(time.Minute)
	s.timer = s.clock.AfterFunc(next.Sub(now), func() { s.fire(next) })
}

func (s *scheduler) fire(at time.Time) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.seq++
	s.ticks++
	id := fmt.Sprintf("devstack-%08d", s.seq)
	s.scheduleLocked()
	s.mu.Unlock()
	scheduled := at.UTC().Format(time.RFC3339)
	payload, err := json.Marshal(map[string]any{
		"version": "0", "id": id, "detail-type": dialerevents.TypeTick, "source": dialerevents.Source,
		"account": s.account, "time": scheduled, "region": s.region, "resources": []string{s.arn()},
		"detail": map[string]string{"scheduledTime": scheduled, "executionId": id, "attemptNumber": "1"},
	})
	if err != nil {
		s.log.Error("tick not encoded", "error", err)
		return
	}
	s.fns.InvokeAsync(FnDialer, payload, "tick "+scheduled)
}

// Ticks reports how many ticks were sent.
func (s *scheduler) Ticks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ticks
}

func (s *scheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.timer != nil {
		s.timer.Stop()
	}
}
