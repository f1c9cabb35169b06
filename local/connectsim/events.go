package connectsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Contact event types emitted by the simulation.
const (
	EventInitiated         = "INITIATED"
	EventConnectedToSystem = "CONNECTED_TO_SYSTEM"
	EventQueued            = "QUEUED"
	EventConnectedToAgent  = "CONNECTED_TO_AGENT"
	EventDisconnected      = "DISCONNECTED"
	// EventCompleted: "a contact has fully ended, including After Contact Work (ACW) if
	// applicable"; published straight after DISCONNECTED when no agent did ACW.
	EventCompleted = "COMPLETED"
	// EventContactDataUpdated follows UpdateContactAttributes ("user-defined attributes").
	EventContactDataUpdated = "CONTACT_DATA_UPDATED"
)

// Event is an Amazon Connect contact event in its EventBridge envelope, with
// the field names and casing of the samples in the Amazon Connect
// Administrator Guide ("Amazon Connect contact events").
type Event struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     EventDetail `json:"detail"`
}

// EventDetail is the contact part of a contact event. Timestamps are
// RFC 3339 UTC strings with milliseconds, as Connect sends them.
type EventDetail struct {
	EventType                  string          `json:"eventType"`
	ContactID                  string          `json:"contactId"`
	InitialContactID           string          `json:"initialContactId"`
	PreviousContactID          string          `json:"previousContactId,omitempty"`
	RelatedContactID           string          `json:"relatedContactId,omitempty"`
	Channel                    string          `json:"channel"`
	InstanceARN                string          `json:"instanceArn"`
	InitiationMethod           string          `json:"initiationMethod"`
	InitiationTimestamp        string          `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp string          `json:"connectedToSystemTimestamp,omitempty"`
	DisconnectTimestamp        string          `json:"disconnectTimestamp,omitempty"`
	QueueInfo                  *EventQueueInfo `json:"queueInfo,omitempty"`
	AgentInfo                  *EventAgentInfo `json:"agentInfo,omitempty"`
	DisconnectReason           string          `json:"disconnectReason,omitempty"`
	Campaign                   *EventCampaign  `json:"campaign,omitempty"`
	// AnsweringMachineDetectionStatus is set on events of an AMD call once detection has a
	// result (CONNECTED_TO_SYSTEM and later, or DISCONNECTED for a call that never connected).
	AnsweringMachineDetectionStatus string `json:"answeringMachineDetectionStatus,omitempty"`
	// UpdatedProperties is set on CONTACT_DATA_UPDATED: ["UserDefinedAttributes"].
	UpdatedProperties []string `json:"updatedProperties,omitempty"`
	// Tags are the contact's tags; Connect adds aws:connect:instanceId and, for voice,
	// aws:connect:systemEndpoint (the samples' last detail field).
	Tags map[string]string `json:"tags,omitempty"`
}

// EventQueueInfo is detail.queueInfo.
type EventQueueInfo struct {
	QueueARN         string `json:"queueArn"`
	QueueType        string `json:"queueType"`
	EnqueueTimestamp string `json:"enqueueTimestamp"`
}

// EventAgentInfo is detail.agentInfo. The after-contact-work fields are set on COMPLETED when
// the agent did ACW.
type EventAgentInfo struct {
	AgentARN                       string `json:"agentArn"`
	ConnectedToAgentTimestamp      string `json:"connectedToAgentTimestamp"`
	AfterContactWorkStartTimestamp string `json:"afterContactWorkStartTimestamp,omitempty"`
	AfterContactWorkEndTimestamp   string `json:"afterContactWorkEndTimestamp,omitempty"`
	AfterContactWorkDuration       *int   `json:"afterContactWorkDuration,omitempty"`
}

// EventCampaign is detail.campaign.
type EventCampaign struct {
	CampaignID string `json:"campaignId"`
}

const eventTimeLayout = "2006-01-02T15:04:05.000Z"

func eventTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(eventTimeLayout)
}

// eventBus delivers events in order to OnEvent and, through one worker per
// URL, to HTTP subscribers.
type eventBus struct {
	s    *Sim
	opts Options

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []queuedEvent
	busy     bool
	closed   bool
	held     *Event // reorder knob
	heldDup  bool   // the held event is to be delivered twice
	delivery EventDelivery
	delayed  int // events held back by the delay knob
	lost     int
	// rng decides duplicates and reordering, under mu. It is the bus's own, so that delivery
	// knobs neither change the call outcomes a seed gives nor need the Sim's lock.
	rng       *mrand.Rand
	subs      []*subscriber
	delivered int
	failures  int
	done      chan struct{}
}

// queuedEvent is an event waiting for the bus. A final one has been through the loss and delay
// knobs already (it was delayed) and is delivered as it is.
type queuedEvent struct {
	ev    Event
	final bool
}

type subscriber struct {
	url    string
	bus    *eventBus
	queue  []Event
	busy   bool
	cancel context.CancelFunc
	ctx    context.Context
	done   chan struct{}
}

func newEventBus(s *Sim, opts Options, d EventDelivery) *eventBus {
	b := &eventBus{s: s, opts: opts, delivery: d, done: make(chan struct{}), rng: mrand.New(mrand.NewPCG(uint64(opts.Seed), 0xde11))}
	b.cond = sync.NewCond(&b.mu)
	go b.run()
	return b
}

func (b *eventBus) push(evs []Event) {
	b.mu.Lock()
	if !b.closed {
		for _, ev := range evs {
			b.queue = append(b.queue, queuedEvent{ev: ev})
		}
		b.cond.Broadcast()
	}
	b.mu.Unlock()
}

func (b *eventBus) run() {
	defer close(b.done)
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.closed {
			if b.held != nil {
				// Nothing followed the held event: release it.
				ev, dup := *b.held, b.heldDup
				b.held, b.heldDup = nil, false
				b.busy = true
				b.mu.Unlock()
				b.deliver(ev)
				if dup {
					b.deliver(ev)
				}
				b.mu.Lock()
				b.busy = false
				continue
			}
			b.cond.Broadcast()
			b.cond.Wait()
		}
		if b.closed {
			b.mu.Unlock()
			return
		}
		qe := b.queue[0]
		b.queue = b.queue[1:]
		ev := qe.ev
		var dup, reorder bool
		d := b.delivery
		if !qe.final && d.LossProbability > 0 && b.rng.Float64() < d.LossProbability {
			b.lost++
			b.mu.Unlock()
			continue
		}
		if !qe.final && d.DelayProbability > 0 && b.rng.Float64() < d.DelayProbability {
			b.delayed++
			wait := time.Duration(b.rng.Int64N(int64(d.MaxDelay) + 1))
			time.AfterFunc(wait, func() {
				b.mu.Lock()
				b.delayed--
				if !b.closed {
					b.queue = append(b.queue, queuedEvent{ev: ev, final: true})
				}
				b.cond.Broadcast()
				b.mu.Unlock()
			})
			b.mu.Unlock()
			continue
		}
		b.busy = true
		if d.DuplicateProbability > 0 || d.ReorderProbability > 0 {
			dup = b.rng.Float64() < d.DuplicateProbability
			reorder = b.rng.Float64() < d.ReorderProbability
		}
		held, heldDup := b.held, b.heldDup
		b.held, b.heldDup = nil, false
		if held == nil && reorder {
			b.held, b.heldDup = &ev, dup
		}
		b.mu.Unlock()
		if held != nil || !reorder {
			b.deliver(ev)
			if dup {
				b.deliver(ev)
			}
			if held != nil {
				b.deliver(*held)
				if heldDup {
					b.deliver(*held)
				}
			}
		}
		b.mu.Lock()
		b.busy = false
		b.cond.Broadcast()
		b.mu.Unlock()
	}
}

func (b *eventBus) deliver(ev Event) {
	if f := b.opts.OnEvent; f != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					b.s.log.Error("OnEvent panicked", "panic", fmt.Sprint(r))
				}
			}()
			f(ev)
		}()
	}
	b.mu.Lock()
	for _, sub := range b.subs {
		sub.queue = append(sub.queue, ev)
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (b *eventBus) addSubscriber(u string) {
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscriber{url: u, bus: b, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	b.mu.Lock()
	b.subs = append(b.subs, sub)
	b.mu.Unlock()
	go sub.run()
}

func (sub *subscriber) run() {
	defer close(sub.done)
	b := sub.bus
	client := &http.Client{Timeout: b.opts.Delivery.AttemptTimeout}
	for {
		b.mu.Lock()
		for len(sub.queue) == 0 && !b.closed {
			b.cond.Wait()
		}
		if b.closed {
			b.mu.Unlock()
			return
		}
		ev := sub.queue[0]
		sub.queue = sub.queue[1:]
		sub.busy = true
		b.mu.Unlock()
		ok := sub.post(client, ev)
		b.mu.Lock()
		sub.busy = false
		if ok {
			b.delivered++
		} else {
			b.failures++
		}
		b.cond.Broadcast()
		b.mu.Unlock()
	}
}

// post delivers one event with bounded retries: network errors, 429 and 5xx
// are retried with exponential backoff, other statuses are final.
func (sub *subscriber) post(client *http.Client, ev Event) bool {
	body, _ := json.Marshal(ev)
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(sub.ctx, http.MethodPost, sub.url, bytes.NewReader(body))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		status := 0
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
			if status < 300 {
				return true
			}
			if status != 429 && status < 500 {
				sub.bus.s.log.Warn("event subscriber refused event", "url", sub.url, "status", status, "event_id", ev.ID)
				return false
			}
		}
		if attempt >= sub.bus.opts.Delivery.MaxAttempts {
			sub.bus.s.log.Warn("event delivery failed", "url", sub.url, "status", status, "event_id", ev.ID, "attempts", attempt)
			return false
		}
		select {
		case <-sub.ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (b *eventBus) idleLocked() bool {
	if len(b.queue) > 0 || b.busy || b.held != nil || b.delayed > 0 {
		return false
	}
	for _, s := range b.subs {
		if len(s.queue) > 0 || s.busy {
			return false
		}
	}
	return true
}

func (b *eventBus) drain(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	stop := time.AfterFunc(timeout, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer stop.Stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.idleLocked() && !b.closed {
		if time.Now().After(deadline) {
			return false
		}
		b.cond.Wait()
	}
	return true
}

func (b *eventBus) counts() (delivered, failures, lost int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delivered, b.failures, b.lost
}

func (b *eventBus) setDelivery(d EventDelivery) {
	b.mu.Lock()
	b.delivery = d
	b.mu.Unlock()
}

func (b *eventBus) getDelivery() EventDelivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delivery
}

func (b *eventBus) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	subs := b.subs
	b.cond.Broadcast()
	b.mu.Unlock()
	for _, s := range subs {
		s.cancel()
	}
	<-b.done
	for _, s := range subs {
		<-s.done
	}
}

// AddSubscriber starts delivering every later event to an HTTP URL.
func (s *Sim) AddSubscriber(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("connectsim: subscriber %q is not an http(s) URL", rawURL)
	}
	s.events.addSubscriber(rawURL)
	return nil
}
