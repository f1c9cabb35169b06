package callwindow

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestResolveZones(t *testing.T) {
	// The expected zones are the rows of nanpzones.csv (NANPA npa_report, tzdata) for +1
	// numbers, and tzdata zone.tab for a country's zones; Reasons are the package's words.
	strict := Policy{FallbackZone: "Europe/Paris"}
	trusting := Policy{FallbackZone: "Europe/Paris", TrustRecordZone: true}
	fallback := Policy{FallbackZone: "Europe/Paris", UnknownZone: UnknownZoneFallback}
	tests := []struct {
		name, number, record string
		p                    Policy
		want                 Zones
	}{
		{"number", "+12025550123", "", strict, Zones{Names: []string{"America/New_York"}, Source: SourceNumber, AreaCode: "202", Jurisdictions: []string{"US", "US-DC"}}},
		{"split area code", "+18505550123", "", strict, Zones{Names: []string{"America/Chicago", "America/New_York"}, Source: SourceNumber, AreaCode: "850", Jurisdictions: []string{"US", "US-FL"}}},
		{"overlay inherits its parent's zones", "+14485550123", "", strict, Zones{Names: []string{"America/Chicago", "America/New_York"}, Source: SourceNumber, AreaCode: "448", Jurisdictions: []string{"US", "US-FL"}}},
		{"Idaho", "+12085550123", "", strict, Zones{Names: []string{"America/Boise", "America/Los_Angeles"}, Source: SourceNumber, AreaCode: "208", Jurisdictions: []string{"US", "US-ID"}}},
		// Was "explicit wins over the number" (the defect of #17): the record is checked with
		// the number's zones unless the policy trusts it.
		{"record checked with the number", "+12705550123", "America/Chicago", strict, Zones{Names: []string{"America/Chicago", "America/New_York"}, Source: SourceNumber, AreaCode: "270", Record: "America/Chicago", Jurisdictions: []string{"US", "US-KY"}}},
		{"record outside the number's zones", "+12125550123", "America/Los_Angeles", strict, Zones{Names: []string{"America/Los_Angeles", "America/New_York"}, Source: SourceNumber, AreaCode: "212", Record: "America/Los_Angeles", Jurisdictions: []string{"US", "US-NY"}}},
		{"trusted record decides alone", "+12125550123", "America/Los_Angeles", trusting, Zones{Names: []string{"America/Los_Angeles"}, Source: SourceExplicit, AreaCode: "212", Record: "America/Los_Angeles", Jurisdictions: []string{"US", "US-NY"}}},
		{"record needs no number", "", "Asia/Kolkata", strict, Zones{Names: []string{"Asia/Kolkata"}, Source: SourceExplicit, Record: "Asia/Kolkata", Jurisdictions: []string{"IN"}}},
		// Was "unknown prefix falls back": the fallback is now the policy's choice.
		{"unknown prefix falls back when the policy says so", "+80012345678", "", fallback, Zones{Names: []string{"Europe/Paris"}, Source: SourceFallback, Reason: "no time zone known for country code +800; the fallback zone Europe/Paris is used", Jurisdictions: []string{"FR"}}},
		{"toll-free falls back when the policy says so", "+18002345678", "", fallback, Zones{Names: []string{"Europe/Paris"}, Source: SourceFallback, AreaCode: "800", Reason: "area code 800 is not in the table of geographic NANP area codes (NANPA npa_report, USE=G): toll-free, non-geographic or unassigned; the fallback zone Europe/Paris is used", Jurisdictions: []string{"FR"}}},
		{"a number with no zone: the record decides", "+18002345678", "America/Toronto", strict, Zones{Names: []string{"America/Toronto"}, Source: SourceExplicit, AreaCode: "800", Record: "America/Toronto", Reason: "area code 800 is not in the table of geographic NANP area codes (NANPA npa_report, USE=G): toll-free, non-geographic or unassigned; the record's zone decides alone", Jurisdictions: []string{"CA"}}},
		{"UK fixed line", "+442079460958", "", strict, Zones{Names: []string{"Europe/London"}, Source: SourceNumber, Jurisdictions: []string{"GB"}}},
		// Indonesia's zones in zone.tab: Jakarta, Pontianak, Makassar, Jayapura.
		{"mobile of a multi-zone country", "+628123456789", "", strict, Zones{Names: []string{"Asia/Jakarta", "Asia/Jayapura", "Asia/Makassar", "Asia/Pontianak"}, Source: SourceCountry, Jurisdictions: []string{"ID"}}},
		{"mobile with a trusted record", "+628123456789", "Asia/Makassar", trusting, Zones{Names: []string{"Asia/Makassar"}, Source: SourceExplicit, Record: "Asia/Makassar", Jurisdictions: []string{"ID"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveZones(tt.number, tt.record, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got.Names, tt.want.Names) || got.Source != tt.want.Source || got.AreaCode != tt.want.AreaCode || got.Record != tt.want.Record ||
				got.Reason != tt.want.Reason || !equal(got.Jurisdictions, tt.want.Jurisdictions) {
				t.Errorf("ResolveZones =\n %+v, want\n %+v", got, tt.want)
			}
		})
	}
}

func TestExplicitZoneChangesTheWindow(t *testing.T) {
	// The premise of this test was the defect of #17 (a record zone replaced the number's): it
	// now holds only for a campaign that trusts record zones.
	p := DefaultPolicy("UTC")
	p.TrustRecordZone = true
	cal := mustCalendar(t, p)
	// The same 270 number: with both zones the window is 16:00Z–01:00Z (see TestMultiZone:
	// Kentucky's hours start at 10:00); with the recipient's trusted Central zone it is
	// 10:00–20:00 CST = 16:00Z–02:00Z (the number's state rules still apply).
	k, err := cal.Callee("+12705550123", "America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	check(t, k, []step{{at: "2026-03-02T16:00:00Z", allowed: true, next: "2026-03-02T16:00:00Z", until: "2026-03-03T02:00:00Z"}})
	// A trusted zone far from the number's: Kolkata 09:00 = 03:30Z, whatever +1 202 says.
	k, _ = cal.Callee("+12025550123", "Asia/Kolkata")
	check(t, k, []step{{at: "2026-03-02T00:00:00Z", next: "2026-03-02T03:30:00Z"}})

	// Strict (the default): the record is checked with the number. 270 + Chicago keeps the two
	// zones' window, 16:00Z–01:00Z (20:00 EST). 202 + Kolkata: Monday 09:00 EST = 14:00Z and
	// 20:00 IST = 14:30Z, so only 14:00Z–14:30Z.
	cal = mustCalendar(t, DefaultPolicy("UTC"))
	k, _ = cal.Callee("+12705550123", "America/Chicago")
	check(t, k, []step{{at: "2026-03-02T16:00:00Z", allowed: true, next: "2026-03-02T16:00:00Z", until: "2026-03-03T01:00:00Z"}})
	k, _ = cal.Callee("+12025550123", "Asia/Kolkata")
	check(t, k, []step{
		{at: "2026-03-02T00:00:00Z", next: "2026-03-02T14:00:00Z"},
		{at: "2026-03-02T14:00:00Z", allowed: true, next: "2026-03-02T14:00:00Z", until: "2026-03-02T14:30:00Z"},
	})
}

func TestResolveZonesRejects(t *testing.T) {
	tests := []struct {
		name, number, explicit, fallback string
		want                             error
		wantText                         string
	}{
		{"toll-free", "+18002345678", "", "UTC", ErrNoZoneForNumber, "area code 800 is not in the table of geographic NANP area codes"},
		{"unassigned area code", "+19995550123", "", "UTC", ErrNoZoneForNumber, "area code 999"},
		{"no zone for the country code", "+80012345678", "", "UTC", ErrNoZoneForNumber, "country code +800"},
		{"+1 with eleven digits", "+120255501234", "", "UTC", ErrInvalidNumber, "ten digits"},
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
			p := Policy{FallbackZone: tt.fallback}
			if tt.name == "bad fallback" {
				p.UnknownZone = UnknownZoneFallback
			}
			z, err := ResolveZones(tt.number, tt.explicit, p)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("ResolveZones = %+v, %v; want %v containing %q", z, err, tt.want, tt.wantText)
			}
			if tt.number != "" && strings.Contains(err.Error(), tt.number) {
				t.Errorf("error %q holds the number in clear", err)
			}
		})
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
		z, err := ResolveZones(n, "", Policy{FallbackZone: "UTC", UnknownZone: UnknownZoneFallback})
		if err != nil {
			continue // not a possible number: nothing to check
		}
		if strings.Contains(z.Reason, "unknown to the time zone database") {
			t.Errorf("%s: %s", n, z.Reason)
		}
	}
}
