package callwindow

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestResolveZones(t *testing.T) {
	tests := []struct {
		name, number, explicit string
		want                   Zones
	}{
		{"number", "+12025550123", "", Zones{Names: []string{"America/New_York"}, Source: SourceNumber}},
		{"split area code widened", "+18505550123", "", Zones{Names: []string{"America/Chicago", "America/New_York"}, Source: SourceNumber, Override: "850"}},
		{"overlay code widened", "+14485550123", "", Zones{Names: []string{"America/Chicago", "America/New_York"}, Source: SourceNumber, Override: "448"}},
		{"several zones from phonenumbers", "+12085550123", "", Zones{Names: []string{"America/Boise", "America/Los_Angeles"}, Source: SourceNumber}},
		{"explicit wins over the number", "+12705550123", "America/Chicago", Zones{Names: []string{"America/Chicago"}, Source: SourceExplicit}},
		{"explicit needs no number", "", "Asia/Kolkata", Zones{Names: []string{"Asia/Kolkata"}, Source: SourceExplicit}},
		{"unknown prefix falls back", "+80012345678", "", Zones{Names: []string{"Europe/Paris"}, Source: SourceFallback, Reason: "no time zone known for the number's prefix"}},
		{"not NANP: no override", "+442079460958", "", Zones{Names: []string{"Europe/London"}, Source: SourceNumber}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveZones(tt.number, tt.explicit, "Europe/Paris")
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got.Names, tt.want.Names) || got.Source != tt.want.Source || got.Override != tt.want.Override || got.Reason != tt.want.Reason {
				t.Errorf("ResolveZones = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExplicitZoneChangesTheWindow(t *testing.T) {
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	// The same 270 number: with both zones the window is 15:00Z–01:00Z (see TestMultiZone);
	// with the recipient's explicit Central zone it is 09:00–20:00 CST = 15:00Z–02:00Z.
	k, err := cal.Callee("+12705550123", "America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	check(t, k, []step{{at: "2026-03-02T15:00:00Z", allowed: true, next: "2026-03-02T15:00:00Z", until: "2026-03-03T02:00:00Z"}})
	// An explicit zone far from the number's: Kolkata 09:00 = 03:30Z, whatever +1 202 says.
	k, _ = cal.Callee("+12025550123", "Asia/Kolkata")
	check(t, k, []step{{at: "2026-03-02T00:00:00Z", next: "2026-03-02T03:30:00Z"}})
}

func TestResolveZonesRejects(t *testing.T) {
	tests := []struct {
		name, number, explicit, fallback string
		want                             error
		wantText                         string
	}{
		{"bad explicit zone", "+12025550123", "Mars/Olympus", "UTC", ErrUnknownZone, `"Mars/Olympus"`},
		{"explicit Local", "+12025550123", "Local", "UTC", ErrUnknownZone, "not a callee zone"},
		{"explicit Etc/Unknown", "", "Etc/Unknown", "UTC", ErrUnknownZone, "not a callee zone"},
		{"long explicit zone", "", strings.Repeat("A", 65), "UTC", ErrUnknownZone, "longer than 64"},
		{"not E.164", "2025550123", "", "UTC", ErrInvalidNumber, ""},
		{"empty number", "", "", "UTC", ErrInvalidNumber, ""},
		{"too long", "+1202555012345678", "", "UTC", ErrInvalidNumber, ""},
		{"bad fallback", "+80012345678", "", "Nowhere/Land", ErrUnknownZone, "fallback zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := ResolveZones(tt.number, tt.explicit, tt.fallback)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("ResolveZones = %+v, %v; want %v containing %q", z, err, tt.want, tt.wantText)
			}
			if tt.number != "" && strings.Contains(err.Error(), tt.number) {
				t.Errorf("error %q holds the number in clear", err)
			}
		})
	}
}

// TestSplitAreaCodeTable checks each entry of the table: its zones load, it has a source, it
// really widens phonenumbers' area-code default (else it is dead weight), and docs/dialer.md
// lists it.
func TestSplitAreaCodeTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/dialer.md")
	if err != nil {
		t.Fatal(err)
	}
	for code, s := range splitAreaCodes {
		if len(code) != 3 || code[0] < '2' {
			t.Errorf("%s: not an area code", code)
		}
		if s.source == "" || len(s.zones) < 2 {
			t.Errorf("%s: needs a source and at least two zones", code)
		}
		for _, z := range s.zones {
			if _, err := loadZone(z); err != nil {
				t.Errorf("%s: %v", code, err)
			}
		}
		def, err := phonenumbers.GetTimezonesForPrefix("1" + code)
		if err != nil {
			t.Fatal(err)
		}
		widens := false
		for _, z := range s.zones {
			widens = widens || !strings.Contains(strings.Join(def, " "), z)
		}
		if !widens {
			t.Errorf("%s: phonenumbers' default %v already has every zone of the entry", code, def)
		}
		if !strings.Contains(string(doc), fmt.Sprintf("| %s |", code)) {
			t.Errorf("%s: not listed in docs/dialer.md", code)
		}
	}
}

// TestNumberZonesLoad resolves one number of every +1 area code and a sample of country codes:
// every zone name phonenumbers returns must load from the embedded data (none may be replaced
// by the fallback).
func TestNumberZonesLoad(t *testing.T) {
	var numbers []string
	for npa := 201; npa < 1000; npa++ {
		numbers = append(numbers, fmt.Sprintf("+1%d5550100", npa))
	}
	for _, cc := range []string{"+7916", "+91", "+977", "+61", "+55", "+62", "+86", "+52", "+686", "+679", "+676", "+685"} {
		numbers = append(numbers, cc+"12345678")
	}
	for _, n := range numbers {
		z, err := ResolveZones(n, "", "UTC")
		if err != nil {
			continue // not a possible number: nothing to check
		}
		if strings.Contains(z.Reason, "unknown to the time zone database") {
			t.Errorf("%s: %s", n, z.Reason)
		}
	}
}
