package dialer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/shared/dialer"
)

// spans is a hand-written window: the instants of [open, close) pairs, in order.
type spans [][2]time.Time

func (s spans) Allowed(t time.Time) bool { _, ok := s.Until(t); return ok }

func (s spans) Until(t time.Time) (time.Time, bool) {
	for _, sp := range s {
		if !t.Before(sp[0]) && t.Before(sp[1]) {
			return sp[1], true
		}
	}
	return time.Time{}, false
}

func (s spans) NextOpening(t time.Time) (time.Time, error) {
	for _, sp := range s {
		if t.Before(sp[1]) {
			if t.After(sp[0]) {
				return t, nil
			}
			return sp[0], nil
		}
	}
	return time.Time{}, errors.New("none within the horizon")
}

func TestGate(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2027, 3, 10, h, m, 0, 0, time.UTC) }
	now := at(15, 0)
	// Open 14:00-20:00 today and 14:00-20:00 tomorrow.
	win := spans{{at(14, 0), at(20, 0)}, {at(14, 0).Add(24 * time.Hour), at(20, 0).Add(24 * time.Hour)}}
	notListed := &dialer.DoNotCallFact{CheckedAt: now}
	limit := &dialer.ContactLimit{MaxDials: 2, Days: 1}
	two := []time.Time{now.Add(-3 * time.Hour), now.Add(-time.Hour)} // both inside the day: 14:00 tomorrow frees one
	one := []time.Time{now.Add(-time.Hour)}
	base := func(mod func(*dialer.Facts)) dialer.Facts {
		f := dialer.Facts{State: dialer.StatePending, Attempt: 0, NextAttemptAt: now, Running: true, Window: win, CloseGuard: 2 * time.Minute, DoNotCall: notListed}
		if mod != nil {
			mod(&f)
		}
		return f
	}
	tests := []struct {
		name    string
		f       dialer.Facts
		verdict dialer.Verdict
		to      dialer.State
		until   time.Time
		need    dialer.Fact
		reason  string // in the reason
	}{
		{"due, open, not listed: dial", base(nil), dialer.Dial, "", time.Time{}, "", "window open until 2027-03-10T20:00:00Z"},
		{"waiting for a retry and due: dial", base(func(f *dialer.Facts) { f.State, f.Attempt = dialer.StateWaitingRetry, 1 }), dialer.Dial, "", time.Time{}, "", ""},
		{"already dialling: skip", base(func(f *dialer.Facts) { f.State = dialer.StateDialing }), dialer.Skip, "", time.Time{}, "", "dialing, not due"},
		{"final: skip", base(func(f *dialer.Facts) { f.State = dialer.StateCompleted }), dialer.Skip, "", time.Time{}, "", "not due"},
		{"due later (index behind): skip", base(func(f *dialer.Facts) { f.NextAttemptAt = now.Add(time.Minute) }), dialer.Skip, "", time.Time{}, "", "not due until"},
		{"paused campaign: skip", base(func(f *dialer.Facts) { f.Running = false }), dialer.Skip, "", time.Time{}, "", "not running"},
		{"campaign ended: expired", base(func(f *dialer.Facts) { f.End = now }), dialer.Final, dialer.StateExpired, time.Time{}, "", "campaign ended"},
		{"campaign ends within the guard: expired", base(func(f *dialer.Facts) { f.End = now.Add(time.Minute) }), dialer.Final, dialer.StateExpired, time.Time{}, "", "campaign ended"},
		{"campaign ends just after the guard: dial", base(func(f *dialer.Facts) { f.End = now.Add(2*time.Minute + time.Second) }), dialer.Dial, "", time.Time{}, "", ""},
		{"campaign not started: wait for its start", base(func(f *dialer.Facts) { f.Start = at(16, 0) }), dialer.Wait, dialer.StatePending, at(16, 0), "", "starts at"},
		{"no zone: invalid", base(func(f *dialer.Facts) { f.WindowErr = errors.New("area code 999 unknown") }), dialer.Final, dialer.StateInvalidNumber, time.Time{}, "", "area code 999 unknown"},
		{"before the window: wait for it", base(func(f *dialer.Facts) { f.Window = spans{{at(17, 0), at(20, 0)}} }), dialer.Wait, dialer.StatePending, at(17, 0), "", "outside the callee's calling window until 2027-03-10T17:00:00Z"},
		{"window closes within the guard: wait for tomorrow", base(func(f *dialer.Facts) {
			f.Window = spans{{at(14, 0), at(15, 1)}, {at(14, 0).Add(24 * time.Hour), at(20, 0).Add(24 * time.Hour)}}
		}), dialer.Wait, dialer.StatePending, at(14, 0).Add(24 * time.Hour), "", "outside"},
		{"window closed, reopens after the end: expired", base(func(f *dialer.Facts) { f.Window = spans{{at(17, 0), at(20, 0)}}; f.End = at(17, 1) }), dialer.Final, dialer.StateExpired, time.Time{}, "", "ends before the callee's next calling window"},
		{"window never opens: expired", base(func(f *dialer.Facts) { f.Window = spans{} }), dialer.Final, dialer.StateExpired, time.Time{}, "", "no calling window opens"},
		{"do-not-call not read: need it", base(func(f *dialer.Facts) { f.DoNotCall = nil }), dialer.Need, "", time.Time{}, dialer.NeedDoNotCall, ""},
		{"closed window needs no lookup", base(func(f *dialer.Facts) { f.DoNotCall = nil; f.Window = spans{{at(17, 0), at(20, 0)}} }), dialer.Wait, dialer.StatePending, at(17, 0), "", ""},
		{"listed: suppressed", base(func(f *dialer.Facts) { f.DoNotCall = &dialer.DoNotCallFact{Listed: true, CheckedAt: now} }), dialer.Final, dialer.StateSuppressedDNC, time.Time{}, "", "do-not-call list (checked 2027-03-10T15:00:00Z)"},
		{"limit, ledger not read: need it", base(func(f *dialer.Facts) { f.Limit = limit }), dialer.Need, "", time.Time{}, dialer.NeedLedger, ""},
		{"limit not reached: dial", base(func(f *dialer.Facts) { f.Limit, f.Ledger = limit, &one }), dialer.Dial, "", time.Time{}, "", ""},
		{"limit reached: wait until a dial leaves the day", base(func(f *dialer.Facts) { f.Limit, f.Ledger = limit, &two }), dialer.Wait, dialer.StatePending, now.Add(21 * time.Hour), "", "2 dials in 1 days reached until 2027-03-11T12:00:00Z"},
		{"limit reached past the end: contact_limit", base(func(f *dialer.Facts) { f.Limit, f.Ledger, f.End = limit, &two, at(23, 0) }), dialer.Final, dialer.StateContactLimit, time.Time{}, "", "the campaign ends first"},
		{"listed wins over the limit", base(func(f *dialer.Facts) {
			f.Limit, f.Ledger, f.DoNotCall = limit, &two, &dialer.DoNotCallFact{Listed: true, CheckedAt: now}
		}), dialer.Final, dialer.StateSuppressedDNC, time.Time{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dialer.Gate(tt.f, now)
			if got.Verdict != tt.verdict || got.To != tt.to || !got.Until.Equal(tt.until) || got.Need != tt.need || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("Gate = %v %s until %v need %q (%q); want %v %s until %v need %q (%q)", got.Verdict, got.To, got.Until, got.Need, got.Reason, tt.verdict, tt.to, tt.until, tt.need, tt.reason)
			}
			if (got.Verdict == dialer.Final || got.Verdict == dialer.Wait) && (got.Reason == "" || got.Counter == "") {
				t.Errorf("a %v without a reason or a counter: %+v", got.Verdict, got)
			}
		})
	}
}

// Refused dials back off: doubling from 10 s, capped at 10 min, jittered within the upper half.
func TestRefusalBackoff(t *testing.T) {
	for _, tt := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 5 * time.Second, 10 * time.Second}, {2, 10 * time.Second, 20 * time.Second}, {3, 20 * time.Second, 40 * time.Second},
		{6, 160 * time.Second, 320 * time.Second}, {7, 5 * time.Minute, 10 * time.Minute}, {50, 5 * time.Minute, 10 * time.Minute},
		{0, 5 * time.Second, 10 * time.Second},
	} {
		got := dialer.RefusalBackoff(tt.n, "c1/r1")
		if got < tt.min || got > tt.max {
			t.Errorf("RefusalBackoff(%d) = %v, want %v-%v", tt.n, got, tt.min, tt.max)
		}
		if again := dialer.RefusalBackoff(tt.n, "c1/r1"); again != got {
			t.Errorf("RefusalBackoff(%d) is not reproducible: %v then %v", tt.n, got, again)
		}
	}
	seen := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		seen[dialer.RefusalBackoff(5, string(rune('a'+i)))] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 recipients refused together come back at %d distinct times", len(seen))
	}
}

func TestSettle(t *testing.T) {
	now := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	ended := now.Add(-2 * time.Minute)
	connected, agent := ended.Add(-time.Minute), ended.Add(-50*time.Second)
	policy := dialer.RetryPolicy{
		dialer.OutcomeBusy:      {Delay: 30 * time.Minute, MaxAttempts: 2},
		dialer.OutcomeFailed:    {Delay: time.Hour, MaxAttempts: 2},
		dialer.OutcomeAbandoned: {Delay: 72 * time.Hour, MaxAttempts: 2},
	}
	rep := func(r dialer.Report) *dialer.Report { return &r }
	tests := []struct {
		name    string
		a       dialer.AttemptFacts
		e       dialer.Ending
		again   bool
		outcome dialer.Outcome
		state   dialer.State
		next    time.Time
		reason  string
	}{
		{"answered", dialer.AttemptFacts{}, dialer.Ending{Report: rep(dialer.Report{ConnectedToSystem: &connected, DisconnectReason: "CUSTOMER_DISCONNECT"}), EndedAt: ended},
			false, dialer.OutcomeHuman, dialer.StateCompleted, time.Time{}, "answered (disconnect reason CUSTOMER_DISCONNECT, AMD none)"},
		{"busy, first time: retry in 30 min", dialer.AttemptFacts{}, dialer.Ending{Report: rep(dialer.Report{DisconnectReason: "TELECOM_BUSY"}), EndedAt: ended},
			false, dialer.OutcomeBusy, dialer.StateWaitingRetry, ended.Add(30 * time.Minute), "busy (1 of 2)"},
		{"busy, second time: exhausted", dialer.AttemptFacts{Outcomes: []dialer.Outcome{dialer.OutcomeBusy}}, dialer.Ending{Report: rep(dialer.Report{DisconnectReason: "TELECOM_BUSY"}), EndedAt: ended},
			false, dialer.OutcomeBusy, dialer.StateExhausted, time.Time{}, "busy on 2 of 2"},
		{"busy, retry after the end: expired", dialer.AttemptFacts{End: ended.Add(10 * time.Minute)}, dialer.Ending{Report: rep(dialer.Report{DisconnectReason: "TELECOM_BUSY"}), EndedAt: ended},
			false, dialer.OutcomeBusy, dialer.StateExpired, time.Time{}, "ends before the retry"},
		{"busy while stopping: cancelled", dialer.AttemptFacts{Stopping: true}, dialer.Ending{Report: rep(dialer.Report{DisconnectReason: "TELECOM_BUSY"}), EndedAt: ended},
			false, dialer.OutcomeBusy, dialer.StateCancelled, time.Time{}, "the campaign was stopped"},
		{"answered while stopping stays completed", dialer.AttemptFacts{Stopping: true}, dialer.Ending{Report: rep(dialer.Report{ConnectedToSystem: &connected, DisconnectReason: "CUSTOMER_DISCONNECT"}), EndedAt: ended},
			false, dialer.OutcomeHuman, dialer.StateCompleted, time.Time{}, "answered"},
		{"unknown: counts as failed", dialer.AttemptFacts{}, dialer.Ending{EndedAt: ended, Why: "no answer from Connect"},
			false, dialer.OutcomeUnknown, dialer.StateWaitingRetry, ended.Add(time.Hour), "result unknown: no answer from Connect"},
		{"queue abandoned: its own outcome and rule", dialer.AttemptFacts{}, dialer.Ending{Report: rep(dialer.Report{ConnectedToSystem: &connected, DisconnectReason: "CUSTOMER_DISCONNECT", ExpectsAgent: true}), EndedAt: ended},
			false, dialer.OutcomeAbandoned, dialer.StateWaitingRetry, ended.Add(72 * time.Hour), "abandoned (1 of 2)"},
		{"reached an agent: answered", dialer.AttemptFacts{}, dialer.Ending{Report: rep(dialer.Report{ConnectedToSystem: &connected, ConnectedToAgent: &agent, DisconnectReason: "AGENT_DISCONNECT", ExpectsAgent: true}), EndedAt: ended},
			false, dialer.OutcomeHuman, dialer.StateCompleted, time.Time{}, "answered"},
		{"agentless flow, connected: answered", dialer.AttemptFacts{}, dialer.Ending{Report: rep(dialer.Report{ConnectedToSystem: &connected, DisconnectReason: "CONTACT_FLOW_DISCONNECT"}), EndedAt: ended},
			false, dialer.OutcomeHuman, dialer.StateCompleted, time.Time{}, ""},
		{"machine detected on an agent campaign: voicemail, not abandoned", dialer.AttemptFacts{}, dialer.Ending{AMD: true, Report: rep(dialer.Report{ConnectedToSystem: &connected, AMDStatus: "VOICEMAIL_BEEP", DisconnectReason: "CONTACT_FLOW_DISCONNECT", ExpectsAgent: true}), EndedAt: ended},
			false, dialer.OutcomeVoicemail, dialer.StateExhausted, time.Time{}, "does not retry voicemail"},
		{"ended a moment ago, no reason yet: read again", dialer.AttemptFacts{}, dialer.Ending{Report: rep(dialer.Report{}), EndedAt: now.Add(-10 * time.Second)},
			true, "", "", time.Time{}, ""},
		{"AMD on, connected, no status yet: read again", dialer.AttemptFacts{}, dialer.Ending{AMD: true, Report: rep(dialer.Report{ConnectedToSystem: &connected, DisconnectReason: "CUSTOMER_DISCONNECT"}), EndedAt: now.Add(-30 * time.Second)},
			true, "", "", time.Time{}, ""},
		{"no reason after the grace: classified with what there is", dialer.AttemptFacts{}, dialer.Ending{Report: rep(dialer.Report{}), EndedAt: now.Add(-dialer.ReasonGrace)},
			false, dialer.OutcomeFailed, dialer.StateWaitingRetry, now.Add(-dialer.ReasonGrace + time.Hour), "disconnect reason none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dialer.Settle(tt.a, tt.e, policy, now)
			if got.ReadAgain != tt.again || got.Outcome != tt.outcome || got.State != tt.state || !got.NextAttemptAt.Equal(tt.next) || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("Settle = again %v %s %s next %v (%q); want again %v %s %s next %v (%q)", got.ReadAgain, got.Outcome, got.State, got.NextAttemptAt, got.Reason, tt.again, tt.outcome, tt.state, tt.next, tt.reason)
			}
		})
	}
}

// Every state is open or final, never both; due and in flight split the open ones.
func TestStatePredicates(t *testing.T) {
	for _, s := range dialer.States {
		if s.Open() == s.Final() {
			t.Errorf("%s: open %v, final %v", s, s.Open(), s.Final())
		}
		if s.Open() && s.Due() == s.InFlight() {
			t.Errorf("%s: due %v, in flight %v", s, s.Due(), s.InFlight())
		}
	}
	want := []dialer.State{"pending", "dialing", "in_call", "waiting_retry"}
	got := dialer.OpenStates()
	if len(got) != len(want) {
		t.Fatalf("OpenStates = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("OpenStates = %v, want %v", got, want)
		}
	}
}
