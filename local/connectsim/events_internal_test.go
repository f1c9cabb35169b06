package connectsim

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// With both delivery knobs certain, a batch of events arrives swapped in pairs and each twice:
// the at-least-once, unordered delivery a consumer of contact events must survive.
func TestDeliveryKnobsDuplicateAndSwap(t *testing.T) {
	var mu sync.Mutex
	var got []string
	s, err := New(Options{
		OnEvent: func(ev Event) {
			mu.Lock()
			got = append(got, ev.Detail.EventType)
			mu.Unlock()
		},
		Delivery: DeliveryOptions{DuplicateProbability: 1, ReorderProbability: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := []Event{}
	for _, typ := range []string{"E1", "E2", "E3", "E4", "E5"} {
		batch = append(batch, Event{Detail: EventDetail{EventType: typ}})
	}
	s.events.push(batch) // one push: the bus sees all five at once
	if !s.Drain(5 * time.Second) {
		t.Fatal("events not delivered within 5 s")
	}
	mu.Lock()
	defer mu.Unlock()
	// E5 has nothing behind it: it is held only until the queue is empty, then still sent twice.
	const want = "E2,E2,E1,E1,E4,E4,E3,E3,E5,E5"
	if strings.Join(got, ",") != want {
		t.Errorf("delivered %s, want %s", strings.Join(got, ","), want)
	}
}
