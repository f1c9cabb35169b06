package dialer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

var t0 = time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)

func TestTransitions(t *testing.T) {
	allowed := map[[2]dialer.State]bool{}
	for _, p := range [][2]dialer.State{
		{"pending", "dialing"}, {"pending", "suppressed_dnc"}, {"pending", "contact_limit"}, {"pending", "invalid_number"},
		{"pending", "cancelled"}, {"pending", "expired"}, {"pending", "pending"},
		{"dialing", "in_call"}, {"dialing", "pending"}, {"dialing", "waiting_retry"}, {"dialing", "exhausted"},
		{"dialing", "invalid_number"}, {"dialing", "destination_refused"}, {"dialing", "completed"}, {"dialing", "cancelled"}, {"dialing", "expired"},
		{"in_call", "completed"}, {"in_call", "waiting_retry"}, {"in_call", "exhausted"}, {"in_call", "invalid_number"},
		{"in_call", "cancelled"}, {"in_call", "expired"},
		{"waiting_retry", "pending"}, {"waiting_retry", "dialing"}, {"waiting_retry", "suppressed_dnc"},
		{"waiting_retry", "contact_limit"}, {"waiting_retry", "cancelled"}, {"waiting_retry", "expired"},
	} {
		allowed[p] = true
	}
	if len(dialer.States) != 12 {
		t.Fatalf("%d states", len(dialer.States))
	}
	for _, from := range dialer.States {
		for _, to := range dialer.States {
			want := allowed[[2]dialer.State{from, to}]
			if got := dialer.CanMove(from, to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
			_, err := dialer.Move(from, to, t0, "because", 1)
			if (err == nil) != want {
				t.Errorf("Move(%s, %s) error %v, want allowed=%v", from, to, err, want)
			}
		}
		// A final state has no way out; a non-final one always has one.
		out := 0
		for _, to := range dialer.States {
			if dialer.CanMove(from, to) {
				out++
			}
		}
		if from.Final() != (out == 0) {
			t.Errorf("%s: final=%v with %d ways out", from, from.Final(), out)
		}
	}
	if _, err := dialer.Move("pending", "dialing", t0, "", 1); err == nil {
		t.Error("a transition without a reason was accepted")
	}
	if _, err := dialer.Move("pending", "dialing", time.Time{}, "x", 1); err == nil {
		t.Error("a transition without a time was accepted")
	}
	tr, err := dialer.Move("dialing", "in_call", t0.In(time.FixedZone("x", 3600)), "accepted", 2)
	if err != nil || tr.At.Location() != time.UTC || tr.Attempt != 2 || tr.Reason != "accepted" {
		t.Errorf("Move = %+v, %v", tr, err)
	}
	if dialer.State("ringing").Valid() || !dialer.StateInCall.Valid() {
		t.Error("Valid")
	}
}

func TestClassify(t *testing.T) {
	at := &t0
	cases := []struct {
		name string
		r    dialer.Report
		want dialer.Outcome
	}{
		{"answered, no AMD", dialer.Report{ConnectedToSystem: at, DisconnectReason: "CUSTOMER_DISCONNECT"}, dialer.OutcomeHuman},
		{"answered, AMD human", dialer.Report{ConnectedToSystem: at, AMDStatus: "HUMAN_ANSWERED"}, dialer.OutcomeHuman},
		{"voicemail beep", dialer.Report{ConnectedToSystem: at, AMDStatus: "VOICEMAIL_BEEP"}, dialer.OutcomeVoicemail},
		{"voicemail no beep", dialer.Report{ConnectedToSystem: at, AMDStatus: "VOICEMAIL_NO_BEEP", DisconnectReason: "CONTACT_FLOW_DISCONNECT"}, dialer.OutcomeVoicemail},
		{"AMD unresolved but connected", dialer.Report{ConnectedToSystem: at, AMDStatus: "AMD_UNRESOLVED"}, dialer.OutcomeHuman},
		{"fax", dialer.Report{ConnectedToSystem: at, AMDStatus: "FAX_MACHINE_DETECTED"}, dialer.OutcomeFailed},
		{"sit busy", dialer.Report{AMDStatus: "SIT_TONE_BUSY"}, dialer.OutcomeBusy},
		{"sit invalid", dialer.Report{AMDStatus: "SIT_TONE_INVALID_NUMBER"}, dialer.OutcomeInvalidNumber},
		{"sit other", dialer.Report{AMDStatus: "SIT_TONE_DETECTED"}, dialer.OutcomeFailed},
		{"AMD unanswered", dialer.Report{AMDStatus: "AMD_UNANSWERED"}, dialer.OutcomeNoAnswer},
		{"busy", dialer.Report{DisconnectReason: "TELECOM_BUSY"}, dialer.OutcomeBusy},
		{"ring timeout", dialer.Report{DisconnectReason: "TELECOM_TIMEOUT"}, dialer.OutcomeNoAnswer},
		{"originator cancel", dialer.Report{DisconnectReason: "TELECOM_ORIGINATOR_CANCEL"}, dialer.OutcomeNoAnswer},
		{"invalid number", dialer.Report{DisconnectReason: "TELECOM_NUMBER_INVALID"}, dialer.OutcomeInvalidNumber},
		{"network", dialer.Report{DisconnectReason: "TELECOM_PROBLEM"}, dialer.OutcomeFailed},
		{"blocking", dialer.Report{DisconnectReason: "TELECOM_POTENTIAL_BLOCKING"}, dialer.OutcomeFailed},
		{"stopped before answer", dialer.Report{DisconnectReason: "CUSTOMER_DISCONNECT"}, dialer.OutcomeFailed},
		{"nothing known", dialer.Report{}, dialer.OutcomeFailed},
		{"a future reason", dialer.Report{DisconnectReason: "TELECOM_SOMETHING_NEW"}, dialer.OutcomeFailed},
	}
	for _, tc := range cases {
		if got := dialer.Classify(tc.r); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestDecide(t *testing.T) {
	p := dialer.RetryPolicy{
		dialer.OutcomeBusy:     {Delay: 30 * time.Minute, MaxAttempts: 3},
		dialer.OutcomeNoAnswer: {Delay: 4 * time.Hour, MaxAttempts: 2},
		dialer.OutcomeFailed:   {Delay: time.Hour, MaxAttempts: 2},
	}
	cases := []struct {
		name      string
		o         dialer.Outcome
		prev      []dialer.Outcome
		state     dialer.State
		next      time.Time
		reasonHas string
	}{
		{"human", dialer.OutcomeHuman, nil, dialer.StateCompleted, time.Time{}, "answered"},
		{"first busy", dialer.OutcomeBusy, nil, dialer.StateWaitingRetry, t0.Add(30 * time.Minute), "busy (1 of 3)"},
		{"second busy after no answer", dialer.OutcomeBusy, []dialer.Outcome{"no_answer", "busy"}, dialer.StateWaitingRetry, t0.Add(30 * time.Minute), "busy (2 of 3)"},
		{"third busy", dialer.OutcomeBusy, []dialer.Outcome{"busy", "busy"}, dialer.StateExhausted, time.Time{}, "busy on 3 of 3"},
		{"second no answer", dialer.OutcomeNoAnswer, []dialer.Outcome{"no_answer"}, dialer.StateExhausted, time.Time{}, "no_answer on 2 of 2"},
		{"voicemail not in policy", dialer.OutcomeVoicemail, nil, dialer.StateExhausted, time.Time{}, "does not retry voicemail"},
		{"invalid number", dialer.OutcomeInvalidNumber, nil, dialer.StateInvalidNumber, time.Time{}, "invalid number"},
		{"unknown counts as failed", dialer.OutcomeUnknown, nil, dialer.StateWaitingRetry, t0.Add(time.Hour), "unknown (1 of 2)"},
		{"failed after unknown", dialer.OutcomeFailed, []dialer.Outcome{"unknown"}, dialer.StateExhausted, time.Time{}, "failed on 2 of 2"},
	}
	for _, tc := range cases {
		d := p.Decide(tc.o, tc.prev, t0)
		if d.State != tc.state || !d.NextAttemptAt.Equal(tc.next) || !strings.Contains(d.Reason, tc.reasonHas) {
			t.Errorf("%s: %+v, want %s at %v with %q", tc.name, d, tc.state, tc.next, tc.reasonHas)
		}
	}
	withInvalid := dialer.RetryPolicy{dialer.OutcomeInvalidNumber: {Delay: time.Hour, MaxAttempts: 2}}
	if d := withInvalid.Decide(dialer.OutcomeInvalidNumber, nil, t0); d.State != dialer.StateWaitingRetry {
		t.Errorf("a policy that retries invalid numbers: %+v", d)
	}
	if d := withInvalid.Decide(dialer.OutcomeInvalidNumber, []dialer.Outcome{"invalid_number"}, t0); d.State != dialer.StateInvalidNumber {
		t.Errorf("invalid twice: %+v", d)
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	if err := dialer.DefaultRetryPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]dialer.RetryPolicy{
		"human":        {dialer.OutcomeHuman: {Delay: time.Hour, MaxAttempts: 1}},
		"zero":         {dialer.OutcomeBusy: {Delay: time.Hour, MaxAttempts: 0}},
		"many":         {dialer.OutcomeBusy: {Delay: time.Hour, MaxAttempts: 21}},
		"short delay":  {dialer.OutcomeBusy: {Delay: time.Second, MaxAttempts: 2}},
		"long delay":   {dialer.OutcomeBusy: {Delay: 31 * 24 * time.Hour, MaxAttempts: 2}},
		"unknown name": {dialer.Outcome("maybe"): {Delay: time.Hour, MaxAttempts: 2}},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestClientToken(t *testing.T) {
	a := dialer.ClientToken("camp", "+12025550143", 1)
	if a != dialer.ClientToken("camp", "+12025550143", 1) {
		t.Fatal("not deterministic")
	}
	if len(a) != 68 || !strings.HasPrefix(a, "sbd-") || strings.Contains(a, "2025550143") {
		t.Errorf("token %q", a)
	}
	seen := map[string]bool{a: true}
	for _, other := range []string{
		dialer.ClientToken("camp", "+12025550143", 2),
		dialer.ClientToken("camp2", "+12025550143", 1),
		dialer.ClientToken("camp", "+12025550144", 1),
		// no ambiguity from joining: "a"+"b:1" vs "a:b"+"1"
		dialer.ClientToken("camp\x00+12025550143", "1", 1),
	} {
		if seen[other] {
			t.Errorf("collision: %q", other)
		}
		seen[other] = true
	}
	// A fixed vector, computed independently: printf 'switchboard-dial\0c\0r\0001' | sha256sum
	if got := dialer.ClientToken("c", "r", 1); got != "sbd-6c66b359c4603e9dd3f2573169f35df14887eb3916666eb1416640fcaf9fdd81" {
		t.Errorf("vector: %s", got)
	}
}

func TestContactLimit(t *testing.T) {
	l := dialer.ContactLimit{MaxDials: 3, Days: 7}
	day := 24 * time.Hour
	cases := []struct {
		name  string
		dials []time.Time
		want  time.Time
	}{
		{"none", nil, t0},
		{"two recent", []time.Time{t0.Add(-day), t0.Add(-2 * day)}, t0},
		{"three recent", []time.Time{t0.Add(-1 * day), t0.Add(-3 * day), t0.Add(-6 * day)}, t0.Add(day)},                                 // the one 6 days ago leaves after 1 more day
		{"unordered, four recent", []time.Time{t0.Add(-1 * day), t0.Add(-6 * day), t0.Add(-5 * day), t0.Add(-2 * day)}, t0.Add(2 * day)}, // 6d and 5d ago must leave: 5d ago leaves in 2d
		{"old ones ignored", []time.Time{t0.Add(-8 * day), t0.Add(-9 * day), t0.Add(-1 * day), t0.Add(-2 * day)}, t0},
		{"exactly the window edge", []time.Time{t0.Add(-7 * day), t0.Add(-1 * day), t0.Add(-2 * day)}, t0},
	}
	for _, tc := range cases {
		if got := l.NextAllowed(tc.dials, t0); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := l.Prune([]time.Time{t0.Add(-8 * day), t0.Add(-day)}, t0); len(got) != 1 || !got[0].Equal(t0.Add(-day)) {
		t.Errorf("Prune = %v", got)
	}
	for _, bad := range []dialer.ContactLimit{{0, 7}, {7, 0}, {101, 7}, {7, 91}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if (dialer.ContactLimit{MaxDials: 7, Days: 7}).Validate() != nil {
		t.Error("7 in 7 refused")
	}
}
