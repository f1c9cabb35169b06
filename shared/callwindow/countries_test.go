package callwindow

import (
	"slices"
	"testing"
)

// TestTZTables checks facts read by hand in tzdata's zone.tab and backward (commit b9bc7a8).
func TestTZTables(t *testing.T) {
	for zone, want := range map[string]string{
		"America/New_York":     "US",
		"America/Blanc-Sablon": "CA", // zone.tab lists it under CA; zone1970.tab links it to Puerto Rico
		"America/Puerto_Rico":  "PR",
		"Atlantic/Canary":      "ES",
		"US/Eastern":           "US", // a backward link to America/New_York
		"America/Yellowknife":  "CA", // a backward link to America/Edmonton
		"UTC":                  "",
		"Etc/GMT+5":            "",
	} {
		if got := countryOfZone(zone); got != want {
			t.Errorf("countryOfZone(%s) = %q, want %q", zone, got, want)
		}
	}
	for link, want := range map[string]string{"US/Eastern": "America/New_York", "America/Yellowknife": "America/Edmonton", "Pacific/Enderbury": "Pacific/Kanton", "America/Chicago": "America/Chicago"} {
		if got := canonicalZone(link); got != want {
			t.Errorf("canonicalZone(%s) = %s, want %s", link, got, want)
		}
	}
	au := countryZones()["AU"]
	for _, z := range []string{"Australia/Perth", "Australia/Eucla", "Australia/Lord_Howe", "Australia/Sydney", "Antarctica/Macquarie"} {
		if !slices.Contains(au, z) {
			t.Errorf("AU zones %v lack %s", au, z)
		}
	}
	if len(au) != 12 || len(countryZones()["ID"]) != 4 || len(countryZones()["RU"]) != 26 || len(countryZones()["GB"]) != 1 {
		t.Errorf("zone counts AU %d ID %d RU %d GB %d; zone.tab has 12, 4, 26, 1", len(au), len(countryZones()["ID"]), len(countryZones()["RU"]), len(countryZones()["GB"]))
	}
}
