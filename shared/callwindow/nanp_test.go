package callwindow

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// phonenumbersZoneData decodes the prefix -> time zones table embedded in
// github.com/nyaruka/phonenumbers (data/prefix_to_timezone.xml.gz, read from the module's
// directory): gzip of a uint32le length, that many bytes of '\n'-separated zone names, a
// uint32le entry count, then per entry a uvarint key delta, a uint8 n and n uint16le name
// indexes (the library's loadIntArrayMap; the format as research/compare/main.go reads it).
func phonenumbersZoneData(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nyaruka/phonenumbers").Output()
	if err != nil {
		t.Fatalf("locating the phonenumbers module (needs the go command): %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "data", "prefix_to_timezone.xml.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(b)
	var n uint32
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("decoding phonenumbers' zone data: %v", err)
		}
	}
	must(binary.Read(r, binary.LittleEndian, &n))
	names := make([]byte, n)
	_, err = io.ReadFull(r, names)
	must(err)
	values := strings.Split(string(names), "\n")
	must(binary.Read(r, binary.LittleEndian, &n))
	m := make(map[string][]string, n)
	key := uint64(0)
	for range n {
		d, err := binary.ReadUvarint(r)
		must(err)
		key += d
		var k uint8
		must(binary.Read(r, binary.LittleEndian, &k))
		zs := make([]string, k)
		for j := range zs {
			var v uint16
			must(binary.Read(r, binary.LittleEndian, &v))
			zs[j] = values[v]
		}
		m[strconv.FormatUint(key, 10)] = zs
	}
	if r.Len() != 0 {
		t.Fatalf("decoding phonenumbers' zone data: %d bytes left over", r.Len())
	}
	return m
}

// sameClock reports whether two zones show the same UTC offset at every instant of 2026 and
// 2027 on the runtime's time zone database (checked at every transition of either).
func sameClock(t *testing.T, a, b string) bool {
	la, err1 := time.LoadLocation(a)
	lb, err2 := time.LoadLocation(b)
	if err1 != nil || err2 != nil {
		t.Fatalf("loading %s, %s: %v %v", a, b, err1, err2)
	}
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, loc := range []*time.Location{la, lb} {
		for at := from; at.Before(to); {
			_, x := at.In(la).Zone()
			_, y := at.In(lb).Zone()
			if x != y {
				return false
			}
			_, end := at.In(loc).ZoneBounds()
			if end.IsZero() {
				break
			}
			at = end
		}
	}
	return true
}

// libraryZonesNotInTheTable are zones phonenumbers v1.8.1 gives for a geographic area code
// that the NANP table leaves out although their clock differs from every zone of the row, each
// with the reason the table is right (research/phonenumbers-compare.md lists them all).
var libraryZonesNotInTheTable = map[string]map[string]string{
	"689": {"America/Chicago": "689 overlays 407 (Orlando, Florida); NANPA npa_report TIME_ZONE=E; the panhandle's Central time is 850/448"},
	"709": {"America/Puerto_Rico": "no part of Newfoundland and Labrador keeps Atlantic standard time all year: tzdata zone.tab has America/St_Johns (Newfoundland, Labrador SE) and America/Goose_Bay (Labrador, most areas, with DST), both in the row"},
	"879": {"America/Puerto_Rico": "overlay of 709: as 709"},
	"867": {"America/Vancouver": "exchanges of Yukon (Whitehorse 867-667/668 and others): Yukon has kept -07 all year since 2020 (tz NEWS 2020a, America/Whitehorse and America/Dawson, in the row)"},
	"907": {"Pacific/Honolulu": "one exchange (907-581): no part of Alaska keeps Hawaii time; the Aleutians west of 169.5 W are America/Adak (tzdata northamerica), in the row"},
}

// TestEveryGeographicNANPAreaCodeIsInTheTable walks every +1 area code phonenumbers' metadata
// knows as geographic, two ways: every key of its prefix -> zone data under 1NPA, and every
// area code 200-999 for which some sample number is a fixed line or mobile by its number
// patterns. Each must be a row of the NANP table, and every zone phonenumbers gives under the
// area code (down to single exchanges) must be in the row: the same name after resolving tzdata
// links, or a zone with the same clock (2026-2027), or an exception listed with its reason.
func TestEveryGeographicNANPAreaCodeIsInTheTable(t *testing.T) {
	data := phonenumbersZoneData(t)
	// The decoder reads what the library reads.
	for _, key := range []string{"1270", "1270202", "1867667", "1907581", "61", "1"} {
		want, _ := phonenumbers.GetTimezonesForPrefix(key)
		if got := data[key]; !slices.Equal(got, want) {
			t.Fatalf("decoded %s = %v, the library says %v", key, got, want)
		}
	}
	areas := nanpAreas()
	libZones := map[string]map[string]bool{} // NPA -> zones under 1NPA
	for key, zs := range data {
		if len(key) < 4 || key[0] != '1' {
			continue
		}
		npa := key[1:4]
		if libZones[npa] == nil {
			libZones[npa] = map[string]bool{}
		}
		for _, z := range zs {
			libZones[npa][z] = true
		}
	}
	// Area codes whose numbers the library types as geographic, whatever its zone data says.
	typed := 0
	for npa := 200; npa <= 999; npa++ {
		for _, nxx := range []string{"201", "255", "468", "555", "730", "987"} {
			pn, err := phonenumbers.Parse(fmt.Sprintf("+1%d%s0100", npa, nxx), "ZZ")
			if err != nil {
				continue
			}
			switch phonenumbers.GetNumberType(pn) {
			case phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
				s := strconv.Itoa(npa)
				if libZones[s] == nil {
					libZones[s] = map[string]bool{}
				}
				typed++
			}
		}
	}
	if len(libZones) < 400 || typed == 0 {
		t.Fatalf("only %d area codes found in phonenumbers' metadata: the walk is broken", len(libZones))
	}
	used := map[string]bool{}
	equivalent := 0
	for _, npa := range slices.Sorted(func(yield func(string) bool) {
		for k := range libZones {
			if !yield(k) {
				return
			}
		}
	}) {
		row := areas[npa]
		if row == nil {
			t.Errorf("area code %s: geographic in phonenumbers v1.8.1, missing from the NANP table", npa)
			continue
		}
		canon := map[string]bool{}
		for _, z := range row.zones {
			canon[canonicalZone(z)] = true
		}
	zones:
		for z := range libZones[npa] {
			if canon[canonicalZone(z)] {
				continue
			}
			for _, tz := range row.zones {
				if sameClock(t, z, tz) {
					equivalent++
					continue zones
				}
			}
			if why := libraryZonesNotInTheTable[npa][z]; why != "" {
				used[npa+" "+z] = true
				continue
			}
			t.Errorf("area code %s: phonenumbers gives %s, not in the table's %v (nor a zone with its clock)", npa, z, row.zones)
		}
	}
	for npa, zs := range libraryZonesNotInTheTable {
		for z := range zs {
			if !used[npa+" "+z] {
				t.Errorf("exception %s %s is no longer needed: remove it", npa, z)
			}
		}
	}
	t.Logf("%d area codes in phonenumbers' metadata, all in the table (%d rows); %d library zones covered by a table zone with the same clock, %d listed exceptions",
		len(libZones), len(areas), equivalent, len(used))
}

func TestNANPTable(t *testing.T) {
	areas := nanpAreas()
	if len(areas) != 457 {
		t.Errorf("%d rows, want the 457 of nanpzones.csv (NANPA file of 2025-11-26)", len(areas))
	}
	for npa, a := range areas {
		for _, z := range a.zones {
			if _, err := loadZone(z); err != nil {
				t.Errorf("%s: %v", npa, err)
			}
			// A row's zones are zones of its country (zone.tab).
			if c := countryOfZone(z); c != a.country {
				t.Errorf("%s (%s): zone %s is in %q per zone.tab", npa, a.country, z, c)
			}
		}
		if (a.country == "US" || a.country == "CA") && len(a.regions) == 0 {
			t.Errorf("%s: a %s row needs its state or province", npa, a.country)
		}
		for _, r := range a.regions {
			if len(r) != 2 || strings.ToUpper(r) != r {
				t.Errorf("%s: region %q is not a two-letter code", npa, r)
			}
		}
		if !strings.Contains(a.source, "NANPA") {
			t.Errorf("%s: the source does not cite NANPA: %q", npa, a.source)
		}
	}
}

// TestOverlaysInheritTheirParentsZones: an overlay's numbers may be anywhere its parents'
// numbers may be.
func TestOverlaysInheritTheirParentsZones(t *testing.T) {
	areas := nanpAreas()
	overlays := 0
	for npa, a := range areas {
		for _, parent := range a.overlayOf {
			p := areas[parent]
			if p == nil {
				t.Errorf("%s overlays %s, which is not in the table", npa, parent)
				continue
			}
			overlays++
			for _, z := range p.zones {
				if !slices.Contains(a.zones, z) {
					t.Errorf("overlay %s lacks %s of its parent %s (%v vs %v)", npa, z, parent, a.zones, p.zones)
				}
			}
			for _, r := range p.regions {
				if !slices.Contains(a.regions, r) {
					t.Errorf("overlay %s lacks the region %s of its parent %s", npa, r, parent)
				}
			}
		}
	}
	if overlays < 150 {
		t.Errorf("only %d overlay links: the overlay_of column was not read", overlays)
	}
}

func TestParseNANPRejects(t *testing.T) {
	head := "npa,country,region,zones,overlay_of,source\n"
	for text, want := range map[string]string{
		"":                      "no rows",
		head:                    "no rows",
		"npa,country\n201,US\n": `no "region" column`,
		head + "21,US,NJ,America/New_York,,NANPA\n":                                     "not an area code",
		head + "121,US,NJ,America/New_York,,NANPA\n":                                    "not an area code",
		head + "201,US,NJ,,,NANPA\n":                                                    "needs zones",
		head + "201,US,NJ,America/New_York,,NANPA\n201,US,NJ,America/New_York,,NANPA\n": "listed twice",
	} {
		if _, err := parseNANP(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseNANP(%q) = %v, want %q", text, err, want)
		}
	}
}

func BenchmarkCallee(b *testing.B) {
	cal, err := NewCalendar(DefaultPolicy("UTC"))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []struct{ name, number, zone string }{
		{"+1 one zone", "+12125550123", ""},
		{"+1 BC five zones", "+12505550123", ""},
		{"+1 with a record zone", "+12125550123", "America/Los_Angeles"},
		{"UK fixed line", "+442079460958", ""},
		{"Australian mobile", "+61412345678", ""},
	} {
		b.Run(n.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k, err := cal.Callee(n.number, n.zone)
				if err != nil {
					b.Fatal(err)
				}
				_ = k.Allowed(time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC))
			}
		})
	}
}
