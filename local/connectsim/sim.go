package connectsim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/switchboard-connect/switchboard/local/latency"
)

// Options configure a Sim. The zero value is usable: the default world, a
// real-time clock, seed 0.
type Options struct {
	// World replaces DefaultWorld when it has at least one instance.
	World World
	// TimeScale makes the simulation clock run faster than real time (60: a
	// minute per second). Ignored when Clock is set.
	TimeScale float64
	// Clock overrides the simulation clock; tests pass a *ManualClock.
	Clock Clock
	// Start is the simulated instant the clock starts from (default: the world's start, else
	// now). Ignored when Clock is set: a ManualClock carries its own start.
	Start time.Time
	// Seed makes call outcomes, ring and talk times reproducible.
	Seed int64
	// Subscribers are URLs that receive every contact event as an HTTP POST
	// of the EventBridge envelope.
	Subscribers []string
	// OnEvent is called, in emission order, from one goroutine, for every
	// contact event. It may call the Sim (even over HTTP).
	OnEvent func(Event)
	// Logger receives one line per decision. Phone numbers are masked.
	Logger *slog.Logger
	// WallClock is the time source of the throttling token buckets;
	// time.Now by default.
	WallClock func() time.Time
	// DisableThrottling turns the request-rate quotas off.
	DisableThrottling bool
	// RetainContacts bounds memory in long runs (default 20,000): beyond it the oldest ended
	// contacts are forgotten, and ClientTokens past their 7 days with them. Active contacts are
	// always kept; a replayed ClientToken still answers its ContactId.
	RetainContacts int
	// PublicURL is the base URL put into AuthenticationUrl; by default it is
	// derived from the Host header of the GetAuthenticationUrl request.
	PublicURL string
	// Delivery tunes event delivery to subscribers.
	Delivery DeliveryOptions
	// Latency, when set, delays every API request by a draw from its operation's distribution,
	// on the simulation clock, before the operation runs (a benchmark then sees the service's
	// latency; see local/latency). With a ManualClock a request waits until the clock is advanced.
	Latency *latency.Model
}

// DeliveryOptions tune event delivery. The defaults deliver each event once,
// in order. Probabilities left at zero take the world's delivery settings.
type DeliveryOptions struct {
	// MaxAttempts per event and subscriber URL (default 3).
	MaxAttempts int
	// AttemptTimeout bounds one HTTP POST (default 5 s).
	AttemptTimeout time.Duration
	// LossProbability drops an event before it reaches OnEvent or any subscriber: contact
	// events are "emitted on a best effort basis".
	LossProbability float64
	// DuplicateProbability delivers an event twice, as EventBridge's
	// at-least-once delivery may.
	DuplicateProbability float64
	// ReorderProbability swaps an event with the next one.
	ReorderProbability float64
	// DelayProbability holds an event back for up to MaxDelay of wall time (default 1 s),
	// behind the events emitted meanwhile.
	DelayProbability float64
	MaxDelay         time.Duration
}

// EventDelivery is the best-effort behaviour of contact event delivery, as the world file,
// the -event-* flags and PUT /_connectsim/delivery set it.
type EventDelivery struct {
	LossProbability      float64  `json:"lossProbability,omitempty"`
	DuplicateProbability float64  `json:"duplicateProbability,omitempty"`
	ReorderProbability   float64  `json:"reorderProbability,omitempty"`
	DelayProbability     float64  `json:"delayProbability,omitempty"`
	MaxDelay             Duration `json:"maxDelay,omitempty"`
}

// Validate reports a probability outside [0, 1] or a negative delay.
func (d EventDelivery) Validate() error {
	var errs []error
	for name, p := range map[string]float64{"lossProbability": d.LossProbability, "duplicateProbability": d.DuplicateProbability,
		"reorderProbability": d.ReorderProbability, "delayProbability": d.DelayProbability} {
		if p < 0 || p > 1 || p != p {
			errs = append(errs, fmt.Errorf("delivery.%s %v must be within [0, 1]", name, p))
		}
	}
	if d.MaxDelay < 0 {
		errs = append(errs, errors.New("delivery.maxDelay must not be negative"))
	}
	return errors.Join(errs...)
}

func (d EventDelivery) withDefaults() EventDelivery {
	if d.DelayProbability > 0 && d.MaxDelay == 0 {
		d.MaxDelay = Duration(time.Second)
	}
	return d
}

// SetDelivery changes event delivery from now on.
func (s *Sim) SetDelivery(d EventDelivery) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("connectsim: %w", err)
	}
	s.events.setDelivery(d.withDefaults())
	return nil
}

// Delivery returns the event delivery in force.
func (s *Sim) Delivery() EventDelivery { return s.events.getDelivery() }

// Sim is the emulator. It is an http.Handler; create it with New and stop it
// with Close.
type Sim struct {
	opts     Options
	world    World
	delivery EventDelivery // as configured, for Reset
	clock    Clock
	log      *slog.Logger
	wall     func() time.Time

	mu       sync.Mutex
	rng      *mrand.Rand
	gen      int // incremented by Reset: timers of an older generation do nothing
	closed   bool
	nextID   int
	timers   map[int]Timer
	pending  []Event
	contacts map[string]*contact
	active   map[string]*contact // the contacts that have not ended, by ID
	order    []string
	seq      int                   // numbers contacts in creation order
	tokens   map[string]tokenEntry // instance + "\x00" + ClientToken
	// tokensAfterPrune is len(tokens) after the last pruning.
	tokensAfterPrune int
	agents           map[string][]*agentState
	dirs             map[string]*directory // users of each instance
	directorySince   time.Time             // LastModifiedTime of the world's profiles and groups
	chats            chatState
	sessions         map[string]*authSession // by SessionId
	states           map[string]*authSession // by OAuth state
	pTokens          map[string]string       // participant connection token -> contact ID
	buckets          map[string]*bucket
	faults           map[string]*faultState
	faultRng         *mrand.Rand
	signIn           SignInOutcome
	stats            statsState

	events *eventBus
}

type tokenEntry struct {
	contactID string
	created   time.Time
}

type statsState struct {
	requests       map[string]map[string]int
	maxActiveCalls map[string]int
	inFlight       int
	maxInFlight    int
	eventsEmitted  int
	// forgottenUpTo is the latest initiation of a placed call the record has forgotten
	// (RetainContacts): a measurement of calls initiated before it is incomplete.
	forgottenUpTo time.Time
}

// Stats are the request counters of a Sim.
type Stats struct {
	// Requests counts requests by operation and outcome: "ok" or the error
	// type returned.
	Requests map[string]map[string]int `json:"requests"`
	// MaxActiveCalls is the highest number of simultaneously active voice
	// contacts seen per instance.
	MaxActiveCalls map[string]int `json:"maxActiveCalls"`
	// ActiveCalls is the current number of active voice contacts per
	// instance.
	ActiveCalls map[string]int `json:"activeCalls"`
	// MaxInFlightRequests is the highest number of API requests served at
	// once.
	MaxInFlightRequests int `json:"maxInFlightRequests"`
	EventsEmitted       int `json:"eventsEmitted"`
	// EventsLost counts events the delivery settings dropped (LossProbability).
	EventsLost       int `json:"eventsLost"`
	EventsDelivered  int `json:"eventsDelivered"`
	DeliveryFailures int `json:"deliveryFailures"`
}

// SignInOutcome is what the Cognito hosted sign-in stand-in answers: a code
// when Error is empty, otherwise an error redirect.
type SignInOutcome struct {
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"errorDescription,omitempty"`
}

// New validates the options and returns a running Sim.
func New(opts Options) (*Sim, error) {
	w := opts.World
	if len(w.Instances) == 0 && w.Region == "" && w.AccountID == "" {
		w = DefaultWorld()
	}
	w = w.withDefaults()
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("connectsim world: %w", err)
	}
	if opts.TimeScale < 0 {
		return nil, errors.New("connectsim: TimeScale must not be negative")
	}
	d := &opts.Delivery
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 3
	}
	if d.AttemptTimeout <= 0 {
		d.AttemptTimeout = 5 * time.Second
	}
	delivery := w.Delivery
	for _, o := range []struct {
		from float64
		to   *float64
	}{{d.LossProbability, &delivery.LossProbability}, {d.DuplicateProbability, &delivery.DuplicateProbability},
		{d.ReorderProbability, &delivery.ReorderProbability}, {d.DelayProbability, &delivery.DelayProbability}} {
		if o.from != 0 {
			*o.to = o.from
		}
	}
	if d.MaxDelay != 0 {
		delivery.MaxDelay = Duration(d.MaxDelay)
	}
	if err := delivery.Validate(); err != nil {
		return nil, fmt.Errorf("connectsim: %w", err)
	}
	s := &Sim{opts: opts, world: w, clock: opts.Clock, log: opts.Logger, wall: opts.WallClock}
	if s.clock == nil {
		s.clock = NewScaledClock(StartInstant(opts.Start, w), opts.TimeScale)
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.wall == nil {
		s.wall = time.Now
	}
	s.delivery = delivery.withDefaults()
	s.events = newEventBus(s, opts, s.delivery)
	for _, u := range opts.Subscribers {
		if err := s.AddSubscriber(u); err != nil {
			s.events.close()
			return nil, err
		}
	}
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
	return s, nil
}

// resetLocked puts the Sim back to its initial state.
func (s *Sim) resetLocked() {
	s.gen++
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = map[int]Timer{}
	s.rng = mrand.New(mrand.NewPCG(uint64(s.opts.Seed), 0x5eed))
	s.contacts = map[string]*contact{}
	s.active = map[string]*contact{}
	s.order = nil
	s.tokens = map[string]tokenEntry{}
	s.tokensAfterPrune = 0
	s.sessions = map[string]*authSession{}
	s.states = map[string]*authSession{}
	s.pTokens = map[string]string{}
	s.buckets = map[string]*bucket{}
	s.faults = map[string]*faultState{}
	for op, f := range s.world.Faults {
		s.faults[op] = &faultState{Fault: f}
	}
	s.faultRng = mrand.New(mrand.NewPCG(uint64(s.opts.Seed), 0xfa17))
	s.signIn = SignInOutcome{}
	s.stats = statsState{requests: map[string]map[string]int{}, maxActiveCalls: map[string]int{}}
	s.agents = map[string][]*agentState{}
	s.resetDirectoryLocked()
	s.resetAttachmentsLocked()
}

// Reset forgets every contact, session, token, counter, fault, agent and delivery
// change, as if the Sim had just been created (the world's faults are in force again).
// Subscribers stay.
func (s *Sim) Reset() {
	s.mu.Lock()
	s.resetLocked()
	s.events.setDelivery(s.delivery)
	s.mu.Unlock()
	s.log.Info("connectsim reset")
}

// Close stops timers and event delivery. Events not yet delivered are
// dropped.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.gen++
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	s.mu.Unlock()
	s.events.close()
	return nil
}

// StartInstant is where a clock starts: start if set, else the world's start, else now.
func StartInstant(start time.Time, w World) time.Time {
	switch {
	case !start.IsZero():
		return start
	case !w.Start.IsZero():
		return w.Start
	}
	return time.Now().UTC()
}

// ClockState is what GET /_connectsim/clock answers.
type ClockState struct {
	Now    time.Time `json:"now"`
	Manual bool      `json:"manual"`
	// TimeScale is the simulated seconds per wall second of a scaled clock (0 for others).
	TimeScale float64 `json:"timeScale,omitempty"`
}

// ClockState tells the current simulated time and the kind of clock.
func (s *Sim) ClockState() ClockState {
	st := ClockState{Now: s.clock.Now()}
	switch c := s.clock.(type) {
	case *ManualClock:
		st.Manual = true
	case *ScaledClock:
		st.TimeScale = c.scale
	}
	return st
}

// World returns the world the Sim was built from.
func (s *Sim) World() World { return s.world }

// Clock returns the simulation clock.
func (s *Sim) Clock() Clock { return s.clock }

// InstanceARN returns the ARN of an instance of the world.
func (s *Sim) InstanceARN(instanceID string) string {
	return fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s", s.world.Region, s.world.AccountID, instanceID)
}

func (s *Sim) queueARN(instanceID, queueID string) string {
	return s.InstanceARN(instanceID) + "/queue/" + queueID
}

func (s *Sim) agentARN(instanceID, agentID string) string {
	return s.InstanceARN(instanceID) + "/agent/" + agentID
}

func (s *Sim) contactARN(instanceID, contactID string) string {
	return s.InstanceARN(instanceID) + "/contact/" + contactID
}

// Advance moves a manual clock forward and waits until the events emitted
// meanwhile have been delivered. It fails when the clock is not a
// *ManualClock. It must not be called from OnEvent.
func (s *Sim) Advance(d time.Duration) error {
	mc, ok := s.clock.(*ManualClock)
	if !ok {
		return errors.New("connectsim: the clock is not a manual clock")
	}
	mc.Advance(d)
	s.Drain(10 * time.Second)
	return nil
}

// Drain waits (at most timeout) until every event emitted so far has been
// handed to OnEvent and to every subscriber URL. It reports whether it got
// there. It must not be called from OnEvent.
func (s *Sim) Drain(timeout time.Duration) bool { return s.events.drain(timeout) }

// schedule runs f under s.mu after d of simulated time, unless the Sim was
// reset or closed meanwhile. It returns an id for cancel.
func (s *Sim) schedule(d time.Duration, f func()) int {
	s.nextID++
	if s.closed {
		// A request that raced Close: nothing runs any more.
		return s.nextID
	}
	id, gen := s.nextID, s.gen
	if d < 0 {
		d = 0
	}
	t := s.clock.AfterFunc(d, func() {
		s.mu.Lock()
		if s.closed || s.gen != gen {
			s.mu.Unlock()
			return
		}
		delete(s.timers, id)
		f()
		s.unlockAndFlush()
	})
	s.timers[id] = t
	return id
}

func (s *Sim) cancel(id int) {
	if t, ok := s.timers[id]; ok {
		t.Stop()
		delete(s.timers, id)
	}
}

// unlockAndFlush releases s.mu and hands the events emitted under it to the
// event bus, preserving emission order.
func (s *Sim) unlockAndFlush() {
	evs := s.pending
	s.pending = nil
	if len(evs) > 0 {
		// Pushing while still holding s.mu keeps the bus order identical to
		// the emission order across goroutines; push never blocks.
		s.events.push(evs)
	}
	s.mu.Unlock()
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	out := Stats{
		Requests:            map[string]map[string]int{},
		MaxActiveCalls:      map[string]int{},
		ActiveCalls:         map[string]int{},
		MaxInFlightRequests: s.stats.maxInFlight,
		EventsEmitted:       s.stats.eventsEmitted,
	}
	for op, m := range s.stats.requests {
		out.Requests[op] = map[string]int{}
		for k, v := range m {
			out.Requests[op][k] = v
		}
	}
	for _, in := range s.world.Instances {
		out.MaxActiveCalls[in.ID] = s.stats.maxActiveCalls[in.ID]
		out.ActiveCalls[in.ID] = s.activeCallsLocked(in.ID)
	}
	s.mu.Unlock()
	out.EventsDelivered, out.DeliveryFailures, out.EventsLost = s.events.counts()
	return out
}

func (s *Sim) count(op, outcome string) {
	m := s.stats.requests[op]
	if m == nil {
		m = map[string]int{}
		s.stats.requests[op] = m
	}
	m[outcome]++
}
