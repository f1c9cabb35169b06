package simtest

import (
	"testing"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
)

func TestPeakLive(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2027, 1, 1, 0, 0, s, 0, time.UTC) }
	call := func(from, to int) connectsim.ContactView {
		c := connectsim.ContactView{InitiationMethod: "API", InitiationTimestamp: at(from)}
		if to >= 0 {
			c.DisconnectTimestamp = at(to)
		}
		return c
	}
	inbound := connectsim.ContactView{InitiationMethod: "INBOUND", InitiationTimestamp: at(0)}
	for _, c := range []struct {
		name     string
		contacts []connectsim.ContactView
		want     int
	}{
		{"none", nil, 0},
		{"overlapping", []connectsim.ContactView{call(0, 10), call(5, 15), call(6, 7)}, 3},
		{"one ends as the next starts", []connectsim.ContactView{call(0, 5), call(5, 9)}, 1},
		{"not yet ended counts", []connectsim.ContactView{call(0, -1), call(100, 101)}, 2},
		{"inbound contacts do not count", []connectsim.ContactView{inbound, call(1, 2)}, 1},
	} {
		if got := PeakLive(c.contacts); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
