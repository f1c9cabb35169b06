package devstack

import (
	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
)

// Pattern is the subset of EventBridge event patterns the CDK rules use: each key names a field
// of the event; a []string value matches when the field is a string equal to one of them (or an
// array holding one), a Pattern value matches the object under that key. Matching is exact and
// case-sensitive, as EventBridge's
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html).
type Pattern map[string]any

// The dialer's rules, as infra/dialer.go declares them: both take what they list from
// events/dialer, so they cannot drift.

// DialerControlPattern matches Switchboard's control events on the dialer's bus: source
// switchboard and every detail-type but the tick (the tick comes from the scheduler).
func DialerControlPattern() Pattern {
	return Pattern{"source": []string{dialerevents.Source}, "detail-type": dialerevents.ControlDetailTypes()}
}

// DialerContactPattern matches the instance's API-initiated contacts ending, on the default bus.
func DialerContactPattern(instanceARN string) Pattern {
	return Pattern{
		"source":      []string{dialerevents.SourceConnect},
		"detail-type": []string{dialerevents.TypeContactEvent},
		"detail": Pattern{
			"instanceArn":      []string{instanceARN},
			"initiationMethod": []string{dialerevents.InitiationMethodAPI},
			"eventType":        dialerevents.ContactEventTypes,
		},
	}
}

// Match reports whether the decoded event (a JSON object) matches p. Every key of p must match.
func (p Pattern) Match(event map[string]any) bool {
	for k, want := range p {
		v, ok := event[k]
		if !ok {
			return false
		}
		switch w := want.(type) {
		case Pattern:
			obj, ok := v.(map[string]any)
			if !ok || !w.Match(obj) {
				return false
			}
		case []string:
			if !matchValue(w, v) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matchValue(want []string, v any) bool {
	switch x := v.(type) {
	case string:
		for _, w := range want {
			if x == w {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if matchValue(want, e) {
				return true
			}
		}
	}
	return false
}
