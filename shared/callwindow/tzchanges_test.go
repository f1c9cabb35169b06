package callwindow

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// withZoneDatabase makes loadZone return the given locations for their names (and the
// runtime's for the rest) for the rest of the test: a database older or newer than the
// runtime's, for the few zones a test reads.
func withZoneDatabase(t *testing.T, db map[string]*time.Location) {
	t.Helper()
	clear := func() {
		zoneCache.Range(func(k, _ any) bool { zoneCache.Delete(k); return true })
		changeClocks.Range(func(k, _ any) bool { changeClocks.Delete(k); return true })
	}
	clear()
	loadLocation = func(name string) (*time.Location, error) {
		if loc, ok := db[name]; ok {
			return loc, nil
		}
		return time.LoadLocation(name)
	}
	t.Cleanup(func() {
		loadLocation = time.LoadLocation
		clear()
	})
}

// The expected instants below are written by hand from the tz NEWS entries (2026a-c) and the
// offsets they state, for Monday 2026-12-07 under the default 09:00-20:00 (Canada's CRTC
// weekday hours, 09:00-21:30, are wider).
//
// British Columbia, permanent -07 (NEWS 2026b): 09:00 = 16:00Z, 20:00 = 03:00Z on the 8th.
// tzdata 2025c still has PST (-08) in December: 09:00 = 17:00Z, 20:00 = 04:00Z.
// Alberta, permanent -06 (NEWS 2026c): 09:00 = 15:00Z, 20:00 = 02:00Z. 2025c: MST (-07),
// 09:00 = 16:00Z, 20:00 = 03:00Z.

func TestTZChangesOnAStaleDatabase(t *testing.T) {
	// A database without 2026b/2026c: in December Vancouver reads -08 and Edmonton -07.
	withZoneDatabase(t, map[string]*time.Location{
		"America/Vancouver": time.FixedZone("PST", -8*3600),
		"America/Edmonton":  time.FixedZone("MST", -7*3600),
	})
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	// 604 is Vancouver alone (NANP table). Open only when both readings are: 17:00Z-03:00Z.
	k, err := cal.Callee("+16045550123", "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, k, []step{
		{at: "2026-12-07T16:30:00Z", next: "2026-12-07T17:00:00Z"},                                               // 09:30 at -07, 08:30 at -08
		{at: "2026-12-07T17:00:00Z", allowed: true, next: "2026-12-07T17:00:00Z", until: "2026-12-08T03:00:00Z"}, // until 20:00 at -07
		{at: "2026-12-08T03:30:00Z", next: "2026-12-08T17:00:00Z"},                                               // 20:30 at -07: closed
	})
	if ec := k.Zones().ExtraClocks; len(ec) != 1 || !strings.Contains(ec[0], "America/Vancouver also on UTC-07:00") || !strings.Contains(ec[0], "2026b") {
		t.Errorf("extra clocks %v", ec)
	}
	// 403 is Edmonton alone: 16:00Z-02:00Z.
	k, _ = cal.Callee("+14035550123", "")
	check(t, k, []step{
		{at: "2026-12-07T15:30:00Z", next: "2026-12-07T16:00:00Z"},
		{at: "2026-12-07T16:00:00Z", allowed: true, next: "2026-12-07T16:00:00Z", until: "2026-12-08T02:00:00Z"},
		{at: "2026-12-08T02:30:00Z", next: "2026-12-08T16:00:00Z"}, // 20:30 at -06
	})
	// A trusted record zone gets the same treatment: the rule is the zone's, not the number's.
	p := DefaultPolicy("UTC")
	p.TrustRecordZone = true
	k, _ = mustCalendar(t, p).Callee("+14165550123", "America/Vancouver")
	check(t, k, []step{{at: "2026-12-08T03:30:00Z", next: "2026-12-08T17:00:00Z"}})
}

func TestTZChangesOnANewDatabase(t *testing.T) {
	// A database with 2026b/2026c: the two readings agree and the window is the true one.
	withZoneDatabase(t, map[string]*time.Location{
		"America/Vancouver": time.FixedZone("MST", -7*3600),
		"America/Edmonton":  time.FixedZone("CST", -6*3600),
	})
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	k, _ := cal.Callee("+16045550123", "")
	check(t, k, []step{
		{at: "2026-12-07T16:00:00Z", allowed: true, next: "2026-12-07T16:00:00Z", until: "2026-12-08T03:00:00Z"},
	})
	k, _ = cal.Callee("+14035550123", "")
	check(t, k, []step{
		{at: "2026-12-07T15:00:00Z", allowed: true, next: "2026-12-07T15:00:00Z", until: "2026-12-08T02:00:00Z"},
	})
}

// TestTZChangesOnTheRuntimeDatabase holds whatever tzdata the process has.
func TestTZChangesOnTheRuntimeDatabase(t *testing.T) {
	cal := mustCalendar(t, DefaultPolicy("UTC"))
	k, _ := cal.Callee("+16045550123", "")
	check(t, k, []step{
		{at: "2026-12-07T17:30:00Z", allowed: true, next: "2026-12-07T17:30:00Z", until: "2026-12-08T03:00:00Z"},
	})
	if k.Allowed(utc(t, "2026-12-08T03:30:00Z")) {
		t.Error("Vancouver at 20:30 -07 allowed")
	}
	// Before the change (Monday 2026-03-02, PST in every database and in law): 09:00 PST =
	// 17:00Z, 20:00 PST = 04:00Z; the -07 reading does not hold yet.
	check(t, k, []step{{at: "2026-03-02T17:00:00Z", allowed: true, next: "2026-03-02T17:00:00Z", until: "2026-03-03T04:00:00Z"}})
	// Summer 2026 (PDT, -07, in every database): 09:00 = 16:00Z, 20:00 = 03:00Z.
	check(t, k, []step{{at: "2026-07-06T16:00:00Z", allowed: true, next: "2026-07-06T16:00:00Z", until: "2026-07-07T03:00:00Z"}})

	// Morocco, permanent +00 from 2026-09-20 (NEWS 2026c). A Moroccan mobile may be in
	// Africa/Casablanca (zone.tab) and phonenumbers' Atlantic/Canary (+00 in winter). At
	// 2026-12-07T08:30Z it is 08:30 in Casablanca: closed, whatever the database says.
	// 09:00 = 09:00Z is open on every reading.
	k, _ = cal.Callee("+212612345678", "")
	if k.Allowed(utc(t, "2026-12-07T08:30:00Z")) || !k.Allowed(utc(t, "2026-12-07T09:00:00Z")) {
		t.Errorf("Morocco: %v at 08:30Z, %v at 09:00Z; want closed, open", k.Allowed(utc(t, "2026-12-07T08:30:00Z")), k.Allowed(utc(t, "2026-12-07T09:00:00Z")))
	}
	if !slices.Contains(k.Zones().Names, "Africa/Casablanca") {
		t.Errorf("Moroccan mobile zones %v", k.Zones().Names)
	}
	// A trusted record zone alone: Casablanca's own readings (+01 in a database before 2026c,
	// +00 in law) still refuse 08:30Z.
	trusting := DefaultPolicy("UTC")
	trusting.TrustRecordZone = true
	if km, _ := mustCalendar(t, trusting).Callee("+212612345678", "Africa/Casablanca"); km.Allowed(utc(t, "2026-12-07T08:30:00Z")) {
		t.Error("Casablanca at 08:30 +00 allowed")
	}
	// At 19:30Z it is 19:30 at +00, but 20:30 on a database with +01: closed until the
	// database has 2026c. On a 2026c database it is open. Either way 18:30Z is open.
	if !k.Allowed(utc(t, "2026-12-07T18:30:00Z")) {
		t.Error("Morocco at 18:30 +00 refused")
	}
}

func TestTZChangeMoldova(t *testing.T) {
	// NEWS 2026a: since 2022 Moldova springs forward at 03:00, not 02:00, as the EU does
	// (01:00Z). Sunday 2026-03-29 (the last Sunday of March): at 00:30Z it is 02:30 EET in
	// law; a database before 2026a already reads 03:30 EEST. A window open 03:00-05:00 (no
	// legal hours for Moldova; the campaign's own week here) must not open before 01:00Z
	// (03:00 EEST, both readings).
	p := Policy{FallbackZone: "UTC"}
	p.Week[time.Sunday] = []Interval{{3 * 60, 5 * 60}}
	k, err := mustCalendar(t, p).Callee("", "Europe/Chisinau")
	if err != nil {
		t.Fatal(err)
	}
	check(t, k, []step{
		{at: "2026-03-29T00:30:00Z", next: "2026-03-29T01:00:00Z"},
		{at: "2026-03-29T01:00:00Z", allowed: true, next: "2026-03-29T01:00:00Z", until: "2026-03-29T02:00:00Z"}, // 05:00 EEST
	})
}

func TestTZChangeNorthwestTerritories(t *testing.T) {
	// A database of 2026c or later reads America/Yellowknife (a link to Edmonton) as -06 all
	// year. Northwest Territories' own move was only expected (NEWS 2026c): until it is law
	// the old Mountain clock, -07 in December, is read too. Trusted record zone, Monday
	// 2026-12-07: 09:00 at -07 = 16:00Z; 20:00 at -06 = 02:00Z.
	withZoneDatabase(t, map[string]*time.Location{"America/Yellowknife": time.FixedZone("CST", -6*3600)})
	p := DefaultPolicy("UTC")
	p.TrustRecordZone = true
	k, err := mustCalendar(t, p).Callee("+18675550123", "America/Yellowknife")
	if err != nil {
		t.Fatal(err)
	}
	check(t, k, []step{
		{at: "2026-12-07T15:30:00Z", next: "2026-12-07T16:00:00Z"},
		{at: "2026-12-07T16:00:00Z", allowed: true, next: "2026-12-07T16:00:00Z", until: "2026-12-08T02:00:00Z"},
	})
	if len(k.Zones().ExtraClocks) != 2 {
		t.Errorf("extra clocks %v, want Edmonton's -06 and the old Mountain clock", k.Zones().ExtraClocks)
	}
}

func TestTZChangesTable(t *testing.T) {
	for _, c := range tzChanges {
		if _, err := loadZone(c.zone); err != nil {
			t.Errorf("%s: %v", c.zone, err)
		}
		if _, err := c.clock(); err != nil {
			t.Errorf("%s: %v", c.zone, err)
		}
		if c.release == "" || c.why == "" || c.from.IsZero() {
			t.Errorf("%s: needs its release, reason and instant", c.zone)
		}
	}
	// A link follows its target's change: America/Yellowknife -> America/Edmonton.
	if got := len(changesOf("America/Yellowknife")); got != 2 {
		t.Errorf("Yellowknife: %d changes, want Edmonton's and its own", got)
	}
	if got := len(changesOf("Canada/Pacific")); got != 1 {
		t.Errorf("Canada/Pacific: %d changes, want Vancouver's", got)
	}
}
