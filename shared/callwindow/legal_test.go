package callwindow

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func mustLegal(t *testing.T, spec string) LegalRules {
	t.Helper()
	l, err := ParseLegalHours(spec)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLegalTable(t *testing.T) {
	sets := map[string]int{}
	for _, row := range legalTable {
		r, err := parseLegalRule(row.rule)
		if err != nil {
			t.Errorf("%q: %v", row.rule, err)
			continue
		}
		sets[row.set]++
		if row.citation == "" || row.decision == "" {
			t.Errorf("%q: needs its citation and the decision", row.rule)
		}
		// An unconfirmed row is applied only because it is stricter, and says so.
		if !row.confirmed && row.set != "" && !strings.Contains(row.decision, "unconfirmed") {
			t.Errorf("%q: unconfirmed, and its decision does not say so: %q", row.rule, row.decision)
		}
		// A rule can only narrow the federal window of its country: never open before 08:00
		// or after 21:00 in the US, nor outside 09:00-21:30 in Canada.
		floor := map[string]Interval{"US": {8 * 60, 21 * 60}, "CA": {9 * 60, 21*60 + 30}}[strings.SplitN(r.jurisdiction, "-", 2)[0]]
		for _, iv := range r.open {
			if row.set != "" && (iv.Start < floor.Start || iv.End > floor.End) {
				t.Errorf("%q: wider than the federal hours %s", row.rule, floor)
			}
		}
	}
	if sets[DefaultLegalHours] < 30 || sets[RecordedMessageHours] == 0 || sets[""] == 0 {
		t.Errorf("rows per set: %v", sets)
	}
}

func TestParseLegalHours(t *testing.T) {
	for spec, want := range map[string]string{
		"":                 "default",
		"default":          "default",
		" DEFAULT ":        "default",
		"default;":         "default",
		"default;recorded": "default;recorded",
		"default; recorded ;recorded; US-NY  mon-fri 09:00-20:00 ;US-NY sat,sun closed": "default;recorded;US-NY mon-fri 09:00-20:00;US-NY sat,sun closed",
		"default;US-MS mon-sat 08:00-20:00 UTC-06:00":                                   "default;US-MS mon-sat 08:00-20:00 UTC-06:00",
		"default;GB all 09:00-12:00,13:00-21:00":                                        "default;GB all 09:00-12:00,13:00-21:00",
		LegalHoursOff:                                                                   LegalHoursOff,
	} {
		l, err := ParseLegalHours(spec)
		if err != nil || l.String() != want {
			t.Errorf("ParseLegalHours(%q) = %q, %v; want %q", spec, l.String(), err, want)
		}
	}
	if (LegalRules{}).String() != "default" || len((LegalRules{}).active()) != len(builtinRules(DefaultLegalHours)) {
		t.Error("the zero value is not the built-in table")
	}
	for spec, want := range map[string]string{
		"none":                             LegalHoursOff,
		"OFF":                              LegalHoursOff,
		"false":                            LegalHoursOff,
		"recorded":                         `starts with "default"`,
		"US-NY all 09:00-20:00":            `starts with "default"`,
		"default;US-NY funday 09:00-20:00": `days "funday"`,
		"default;US-NY mon-fri,sat-mon 09:00-20:00": `days "sat-mon"`,
		"default;us-ny all 09:00-20:00":             `jurisdiction "us-ny"`,
		"default;USA all 09:00-20:00":               `jurisdiction "USA"`,
		"default;US-NY all 20:00-09:00":             "end is not after start",
		"default;US-NY all 9-20":                    "want HH:MM",
		"default;US-MS all 08:00-20:00 CST":         `clock "CST"`,
		"default;US-MS all 08:00-20:00 UTC-15:00":   `clock "UTC-15:00"`,
		"default;US all":                            "want JURISDICTION DAYS HOURS",
	} {
		_, err := ParseLegalHours(spec)
		if !errors.Is(err, ErrInvalidLegalHours) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLegalHours(%q) = %v, want ErrInvalidLegalHours containing %q", spec, err, want)
		}
	}
}

// TestLegalHours: every expected instant is written by hand from the statute named beside it
// (the legal table's citation), on a campaign that would call at any hour of any day.
func TestLegalHours(t *testing.T) {
	tests := []struct {
		name, number, at string
		allowed          bool
	}{
		// Oklahoma (405): 15 O.S. 775C.4, 08:00-20:00. Monday 2026-12-07 20:30 CST = 02:30Z.
		{"OK 20:30", "+14055550123", "2026-12-08T02:30:00Z", false},
		{"OK 19:30", "+14055550123", "2026-12-08T01:30:00Z", true},
		// Pennsylvania (215): 73 P.S. 2245 as amended by Act 47 of 2026, 09:00-19:00 Monday
		// to Saturday, no calls on Sunday. Monday 19:30 EST = 00:30Z; 18:30 EST = 23:30Z;
		// Sunday 2026-12-13 12:00 EST = 17:00Z.
		{"PA 19:30", "+12155550123", "2026-12-08T00:30:00Z", false},
		{"PA 18:30", "+12155550123", "2026-12-07T23:30:00Z", true},
		{"PA Sunday noon", "+12155550123", "2026-12-13T17:00:00Z", false},
		// Rhode Island (401): R.I. Gen. Laws 5-61-2, Saturday 10:00-17:00. Saturday
		// 2026-12-12 17:30 EST = 22:30Z; 16:30 EST = 21:30Z; Monday 18:30 EST = 23:30Z.
		{"RI Saturday 17:30", "+14015550123", "2026-12-12T22:30:00Z", false},
		{"RI Saturday 16:30", "+14015550123", "2026-12-12T21:30:00Z", true},
		{"RI Monday 18:30", "+14015550123", "2026-12-07T23:30:00Z", false},
		// Kentucky (502, Louisville, Eastern): KRS 367.46955(16), 10:00-21:00. Monday 09:30
		// EST = 14:30Z; 10:00 EST = 15:00Z.
		{"KY 09:30", "+15025550123", "2026-12-07T14:30:00Z", false},
		{"KY 10:00", "+15025550123", "2026-12-07T15:00:00Z", true},
		// Texas (214): Tex. Bus. & Com. Code 301.051, Sunday noon-21:00. Sunday 2026-12-13
		// 11:30 CST = 17:30Z; 12:00 CST = 18:00Z.
		{"TX Sunday 11:30", "+12145550123", "2026-12-13T17:30:00Z", false},
		{"TX Sunday 12:00", "+12145550123", "2026-12-13T18:00:00Z", true},
		// Mississippi (601): Miss. Code 77-3-723(1), 08:00-20:00 "Central Standard Time", on
		// CST as well as on the callee's clock. Monday 2026-07-06 08:30 CDT (UTC-5) = 13:30Z
		// is 07:30 CST: closed. 09:00 CDT = 14:00Z = 08:00 CST: open. 19:30 CDT = 00:30Z =
		// 18:30 CST: open. In December CST is the local clock: 08:00 CST = 14:00Z open.
		{"MS July 08:30 CDT", "+16015550123", "2026-07-06T13:30:00Z", false},
		{"MS July 09:00 CDT", "+16015550123", "2026-07-06T14:00:00Z", true},
		{"MS July 19:30 CDT", "+16015550123", "2026-07-07T00:30:00Z", true},
		{"MS December 08:00", "+16015550123", "2026-12-07T14:00:00Z", true},
		{"MS Sunday", "+16015550123", "2026-12-13T18:00:00Z", false},
		// Nova Scotia (902, Atlantic): CRTC weekend 10:00-18:00. Sunday 2026-12-13 09:30 AST
		// (UTC-4) = 13:30Z; 10:00 AST = 14:00Z.
		{"NS Sunday 09:30", "+19025550123", "2026-12-13T13:30:00Z", false},
		{"NS Sunday 10:00", "+19025550123", "2026-12-13T14:00:00Z", true},
		// No rule for Great Britain in the table: a London fixed line at 23:00 GMT on a
		// campaign open all week is called (the campaign's own week is all there is).
		{"GB 23:00", "+442079460958", "2026-12-07T23:00:00Z", true},
	}
	cal := mustCalendar(t, openAllWeek())
	for _, tt := range tests {
		k, err := cal.Callee(tt.number, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := k.Allowed(utc(t, tt.at)); got != tt.allowed {
			t.Errorf("%s: Allowed(%s) = %v, want %v (jurisdictions %v)", tt.name, tt.at, got, tt.allowed, k.Zones().Jurisdictions)
		}
	}
}

func TestLegalHoursAreADeploymentSetting(t *testing.T) {
	at := func(p Policy, number, instant string) bool {
		t.Helper()
		k, err := mustCalendar(t, p).Callee(number, "")
		if err != nil {
			t.Fatal(err)
		}
		return k.Allowed(utc(t, instant))
	}
	// A campaign's week wider than the law changes nothing: Monday 2026-12-07 21:30 EST =
	// 02:30Z is after 47 CFR 64.1200(c)(1)'s 9 p.m.
	p := openAllWeek()
	if at(p, "+12125550123", "2026-12-08T02:30:00Z") {
		t.Error("212 at 21:30 allowed by a campaign open all day")
	}
	// A deployment adds a rule of its own: New York 09:00-20:00 on weekdays, closed at weekends.
	p.Legal = mustLegal(t, "default;US-NY mon-fri 09:00-20:00;US-NY sat,sun closed")
	if at(p, "+12125550123", "2026-12-08T01:30:00Z") { // Monday 20:30 EST
		t.Error("212 at 20:30 allowed despite the deployment's US-NY rule")
	}
	if at(p, "+12125550123", "2026-12-12T17:00:00Z") { // Saturday 12:00 EST
		t.Error("212 on Saturday allowed despite the deployment's US-NY rule")
	}
	if !at(p, "+13125550123", "2026-12-08T01:30:00Z") { // Chicago, Monday 19:30 CST
		t.Error("a US-NY rule closed Illinois")
	}
	// The recorded-message rows: Ontario, CRTC ADAD hours end at 20:00 on weekdays. Tuesday
	// 2026-12-08 20:30 EST = 01:30Z on the 9th.
	p.Legal = mustLegal(t, "default")
	if !at(p, "+14165550123", "2026-12-09T01:30:00Z") {
		t.Error("416 at 20:30 on a Tuesday refused by the default table")
	}
	p.Legal = mustLegal(t, "default;recorded")
	if at(p, "+14165550123", "2026-12-09T01:30:00Z") {
		t.Error("416 at 20:30 on a Tuesday allowed with the recorded-message rows")
	}
	// Only the explicit off switch removes them: 212 at 23:00 EST.
	p.Legal = legalOff(t)
	if !at(p, "+12125550123", "2026-12-08T04:00:00Z") {
		t.Error("legal hours still applied with " + LegalHoursOff)
	}
}

func TestJurisdictions(t *testing.T) {
	tests := []struct {
		number, record string
		want           []string
	}{
		{"+13055550123", "", []string{"US", "US-FL"}},
		// Several regions in one area code: Nova Scotia and Prince Edward Island.
		{"+19025550123", "", []string{"CA", "CA-NS", "CA-PE"}},
		// Yukon, Northwest Territories, Nunavut.
		{"+18675550123", "", []string{"CA", "CA-NT", "CA-NU", "CA-YT"}},
		// A US territory is under the federal hours.
		{"+17875550123", "", []string{"US", "US-PR"}},
		// A zone's country adds its jurisdiction: a UK mobile whose record says Toronto.
		{"+447400123456", "America/Toronto", []string{"CA", "GB"}},
		// Jamaica: no rule, but its own jurisdiction.
		{"+18765550123", "", []string{"JM"}},
	}
	for _, tt := range tests {
		z, err := ResolveZones(tt.number, tt.record, Policy{FallbackZone: "UTC"})
		if err != nil {
			t.Fatalf("%s: %v", tt.number[:5], err)
		}
		if !slices.Equal(z.Jurisdictions, tt.want) {
			t.Errorf("%s %s: jurisdictions %v, want %v", tt.number[:5], tt.record, z.Jurisdictions, tt.want)
		}
	}
}

func TestTrustRecordZone(t *testing.T) {
	// The case with the campaign setting: 212 + Los Angeles at 22:30 New York time
	// (Monday 2026-12-07, 03:30Z on the 8th) is 19:30 in Los Angeles, inside 09:00-20:00 and
	// the federal hours there.
	p := DefaultPolicy("UTC")
	p.TrustRecordZone = true
	k, err := mustCalendar(t, p).Callee("+12125550123", "America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	if z := k.Zones(); !k.Allowed(utc(t, "2026-12-08T03:30:00Z")) || z.Source != SourceExplicit || !slices.Equal(z.Names, []string{"America/Los_Angeles"}) {
		t.Errorf("trusted record zone: allowed %v, zones %+v", k.Allowed(utc(t, "2026-12-08T03:30:00Z")), z)
	}
	// A trusted zone still gets the number's legal hours: Florida's 20:00 in Los Angeles time.
	// Monday 20:30 PST = 04:30Z.
	k, _ = mustCalendar(t, p).Callee("+13055550123", "America/Los_Angeles")
	if k.Allowed(utc(t, "2026-12-08T04:30:00Z")) {
		t.Error("Florida number with a trusted Los Angeles zone allowed at 20:30 there")
	}
}

func TestUnknownZonePolicy(t *testing.T) {
	p := DefaultPolicy("America/Chicago")
	_, err := mustCalendar(t, p).Callee("+18885550123", "")
	if !errors.Is(err, ErrNoZoneForNumber) || !strings.Contains(err.Error(), "area code 888") || strings.Contains(err.Error(), "5550123") {
		t.Errorf("toll-free with the default policy: %v", err)
	}
	p.UnknownZone = UnknownZoneFallback
	k, err := mustCalendar(t, p).Callee("+18885550123", "")
	if err != nil {
		t.Fatal(err)
	}
	if z := k.Zones(); z.Source != SourceFallback || !slices.Equal(z.Names, []string{"America/Chicago"}) || !strings.Contains(z.Reason, "area code 888") {
		t.Errorf("fallback: %+v", z)
	}
	// Monday 2026-12-07 09:00 CST = 15:00Z.
	check(t, k, []step{{at: "2026-12-07T14:00:00Z", next: "2026-12-07T15:00:00Z"}})
	p.UnknownZone = "guess"
	if err := p.Validate(); !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), `unknown-zone policy "guess"`) {
		t.Errorf("Validate = %v", err)
	}
}
