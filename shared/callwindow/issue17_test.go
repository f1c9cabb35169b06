package callwindow

import (
	"slices"
	"testing"
)

// The cases of issue #17 item 6 ("calls outside legal hours from zone gaps"), each with the
// instant and the local readings written by hand from the authority cited beside it, never
// computed by the package.

// openAllWeek is a campaign that would call at any hour of any day: what remains closed is
// closed by the callee's zones and the legal hours alone.
func openAllWeek() Policy {
	p := Policy{FallbackZone: "UTC"}
	for d := range p.Week {
		p.Week[d] = []Interval{{0, EndOfDay}}
	}
	return p
}

func TestIssue17RecordZoneIsCheckedWithTheNumber(t *testing.T) {
	// +1 212 is New York City (NANPA npa_report: NY, TIME_ZONE=E). The record says Los Angeles.
	// Monday 2026-12-07 22:30 EST (UTC-5) = 2026-12-08T03:30Z; in Los Angeles (PST, UTC-8) it is
	// 19:30, inside the default 09:00-20:00. Calling then would ring in New York at 22:30.
	k, err := mustCalendar(t, DefaultPolicy("UTC")).Callee("+12125550123", "America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	if k.Allowed(utc(t, "2026-12-08T03:30:00Z")) {
		t.Errorf("212 number with a Los Angeles record zone allowed at 22:30 New York time (zones %v)", k.Zones().Names)
	}
}

func TestIssue17OverlaysAndSplitAreaCodes(t *testing.T) {
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	// want: zones each area code's numbers must include (research/nanp-zones.csv: NANPA
	// npa_report TIME_ZONE and OVERLAY, tzdata zone.tab and northamerica comments).
	tests := []struct {
		npa  string
		want []string
		only bool // the zones must be exactly want
	}{
		// 778, 236 and 672 overlay 604 and 250; 250 reaches the East Kootenay and the Peace
		// River, on Mountain time (zone.tab America/Edmonton "Mountain - AB; BC (E)").
		{"778", []string{"America/Vancouver", "America/Edmonton"}, false},
		{"236", []string{"America/Vancouver", "America/Edmonton"}, false},
		{"672", []string{"America/Vancouver", "America/Edmonton"}, false},
		{"250", []string{"America/Vancouver", "America/Edmonton"}, false},
		// 581 and 367 overlay 418: the Magdalen Islands (Atlantic) and the Lower North Shore
		// (AST all year: zone.tab America/Blanc-Sablon "AST - QC (Lower North Shore)").
		{"418", []string{"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}, false},
		{"581", []string{"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}, false},
		{"367", []string{"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}, false},
		// Saskatchewan: Lloydminster keeps Alberta's time (northamerica: "Lloydminster ...").
		{"306", []string{"America/Regina", "America/Edmonton"}, false},
		{"639", []string{"America/Regina", "America/Edmonton"}, false},
		// Western Kentucky and its overlay; the Florida panhandle and its overlay.
		{"270", []string{"America/New_York", "America/Chicago"}, false},
		{"364", []string{"America/New_York", "America/Chicago"}, false},
		{"850", []string{"America/New_York", "America/Chicago"}, false},
		{"448", []string{"America/New_York", "America/Chicago"}, false},
		// Idaho: the panhandle is Pacific (NANPA TIME_ZONE=MP).
		{"208", []string{"America/Boise", "America/Los_Angeles"}, false},
		// Manhattan: one zone.
		{"212", []string{"America/New_York"}, true},
	}
	for _, tt := range tests {
		k, err := cal.Callee("+1"+tt.npa+"5550123", "")
		if err != nil {
			t.Errorf("%s: %v", tt.npa, err)
			continue
		}
		got := k.Zones().Names
		for _, z := range tt.want {
			if !slices.Contains(got, z) {
				t.Errorf("%s: zones %v lack %s", tt.npa, got, z)
			}
		}
		if tt.only && len(got) != len(tt.want) {
			t.Errorf("%s: zones %v, want only %v", tt.npa, got, tt.want)
		}
	}
}

func TestIssue17MobilesOfMultiZoneCountries(t *testing.T) {
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	tests := []struct {
		name, number, at, why string
	}{
		// +61 4 is an Australian mobile, anywhere in Australia. Monday 2026-12-07 09:00 in
		// Sydney (AEDT, UTC+11) = 2026-12-06T22:00Z = 06:00 in Perth (AWST, UTC+8).
		{"+61 4", "+61412345678", "2026-12-06T22:00:00Z", "06:00 in Perth"},
		// +62 8 is an Indonesian mobile. 2026-12-07T12:30Z is 19:30 in Jakarta (WIB, UTC+7) and
		// 21:30 in Jayapura (WIT, UTC+9).
		{"+62 8", "+628123456789", "2026-12-07T12:30:00Z", "21:30 in Jayapura"},
	}
	for _, tt := range tests {
		k, err := cal.Callee(tt.number, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if k.Allowed(utc(t, tt.at)) {
			t.Errorf("%s allowed at %s (%s); zones %v", tt.name, tt.at, tt.why, k.Zones().Names)
		}
	}
}

func TestIssue17LegalHours(t *testing.T) {
	p := openAllWeek()
	cal := mustCalendar(t, p)
	tests := []struct {
		name, number, at string
		allowed          bool
	}{
		// Florida (305 Miami): Fla. Stat. 501.616(6)(a), no call "after 8 p.m." local.
		// Monday 2026-12-07 20:30 EST = 2026-12-08T01:30Z.
		{"FL 20:30", "+13055550123", "2026-12-08T01:30:00Z", false},
		// Monday 19:30 EST = 00:30Z: inside 08:00-20:00.
		{"FL 19:30", "+13055550123", "2026-12-08T00:30:00Z", true},
		// US federal, 47 CFR 64.1200(c)(1): not before 8 a.m.; 212 at Monday 07:30 EST = 12:30Z.
		{"NY 07:30", "+12125550123", "2026-12-07T12:30:00Z", false},
		// and not after 9 p.m.: 21:00 EST = 2026-12-08T02:00Z.
		{"NY 21:00", "+12125550123", "2026-12-08T02:00:00Z", false},
		// Texas (214 Dallas): Tex. Bus. & Com. Code 301.051, 09:00-21:00 Monday to Saturday.
		// Monday 20:30 CST (UTC-6) = 2026-12-08T02:30Z.
		{"TX 20:30", "+12145550123", "2026-12-08T02:30:00Z", true},
		// Canada (416 Toronto): CRTC Telemarketing Rules, weekends 10:00-18:00 and weekdays
		// 09:00-21:30. Saturday 2026-12-12 18:30 EST = 23:30Z.
		{"ON Saturday 18:30", "+14165550123", "2026-12-12T23:30:00Z", false},
		// Saturday 17:30 EST = 22:30Z.
		{"ON Saturday 17:30", "+14165550123", "2026-12-12T22:30:00Z", true},
		// Tuesday 2026-12-08 21:00 EST = 2026-12-09T02:00Z: weekday, before 21:30.
		{"ON Tuesday 21:00", "+14165550123", "2026-12-09T02:00:00Z", true},
		// Tuesday 21:30 EST = 02:30Z: closed.
		{"ON Tuesday 21:30", "+14165550123", "2026-12-09T02:30:00Z", false},
	}
	for _, tt := range tests {
		k, err := cal.Callee(tt.number, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := k.Allowed(utc(t, tt.at)); got != tt.allowed {
			t.Errorf("%s: Allowed(%s) = %v, want %v", tt.name, tt.at, got, tt.allowed)
		}
	}
}

func TestIssue17UnknownAreaCodeIsReported(t *testing.T) {
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	// 800 is toll-free (not geographic); 999 is not an assigned area code (NANPA npa_report).
	for _, number := range []string{"+18002345678", "+19995550123"} {
		k, err := cal.Callee(number, "")
		if err == nil {
			t.Errorf("%s: resolved to %v (%s) with no error", number[:5], k.Zones().Names, k.Zones().Source)
		}
	}
}

func TestIssue17TimeZoneDatabaseChanges(t *testing.T) {
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	tests := []struct {
		name, number, zone, at, why string
	}{
		// tz 2026b (NEWS): British Columbia moved to permanent -07 on 2026-03-09. Monday
		// 2026-12-08T03:30Z is 20:30 at -07 in Vancouver (19:30 in tzdata 2025c's PST, -08).
		{"BC", "+16045550123", "", "2026-12-08T03:30:00Z", "20:30 in Vancouver at -07"},
		// tz 2026c (NEWS): Alberta moved to permanent -06 on 2026-06-18. 2026-12-08T02:30Z is
		// 20:30 at -06 in Edmonton (19:30 in 2025c's MST, -07).
		{"AB", "+14035550123", "", "2026-12-08T02:30:00Z", "20:30 in Edmonton at -06"},
		// tz 2026c (NEWS): Morocco moves to permanent +00 on 2026-09-20. 2026-12-07T08:30Z is
		// 08:30 in Casablanca (09:30 in 2025c's +01). The record names the zone.
		{"MA", "+212612345678", "Africa/Casablanca", "2026-12-07T08:30:00Z", "08:30 in Casablanca at +00"},
	}
	for _, tt := range tests {
		k, err := cal.Callee(tt.number, tt.zone)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if k.Allowed(utc(t, tt.at)) {
			t.Errorf("%s allowed at %s (%s)", tt.name, tt.at, tt.why)
		}
	}
}

func legalOff(t *testing.T) LegalRules {
	t.Helper()
	l, err := ParseLegalHours(LegalHoursOff)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
