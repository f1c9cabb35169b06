package callwindow

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
)

// nanpZonesCSV is Switchboard's cited table of the North American Numbering Plan's geographic
// area codes: for each, every IANA zone a number of the area code may be in, its country and
// regions, and the overlay's parents, with the sources of each row (NANPA's npa_report and
// tzdata). Its header comment says how it was built.
//
//go:embed nanpzones.csv
var nanpZonesCSV string

// nanpArea is one row of the table.
type nanpArea struct {
	npa       string
	country   string   // ISO 3166 code: US, CA, PR, JM, ...
	regions   []string // states, provinces or territories (ISO 3166-2 suffixes), for a US or Canadian row
	zones     []string // zone.tab names
	overlayOf []string // the area codes it overlays, "" for a base area code
	source    string
}

// jurisdictions returns the legal jurisdictions of the row: the country's (see
// countryJurisdictions) and "US-<state>" or "CA-<province>" for each region.
func (a *nanpArea) jurisdictions() []string {
	out := countryJurisdictions(a.country)
	if a.country == "US" || a.country == "CA" {
		for _, r := range a.regions {
			out = append(out, a.country+"-"+r)
		}
	}
	return out
}

// nanpAreas parses the table on first use. A malformed table is a build defect: the tests parse
// it, so a panic here cannot reach a deployment unnoticed.
var nanpAreas = sync.OnceValue(func() map[string]*nanpArea {
	m, err := parseNANP(nanpZonesCSV)
	if err != nil {
		panic("callwindow: nanpzones.csv: " + err.Error())
	}
	return m
})

func parseNANP(text string) (map[string]*nanpArea, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("no rows")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"npa", "country", "region", "zones", "overlay_of", "source"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("no %q column", h)
		}
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ";")
	}
	m := make(map[string]*nanpArea, len(rows)-1)
	for n, row := range rows[1:] {
		a := &nanpArea{
			npa:       row[col["npa"]],
			country:   row[col["country"]],
			regions:   split(row[col["region"]]),
			zones:     split(row[col["zones"]]),
			overlayOf: split(row[col["overlay_of"]]),
			source:    row[col["source"]],
		}
		if len(a.npa) != 3 || a.npa[0] < '2' || a.npa[0] > '9' || strings.Trim(a.npa, "0123456789") != "" {
			return nil, fmt.Errorf("row %d: %q is not an area code", n+2, a.npa)
		}
		if len(a.zones) == 0 || a.country == "" || a.source == "" {
			return nil, fmt.Errorf("area code %s: needs zones, a country and a source", a.npa)
		}
		if m[a.npa] != nil {
			return nil, fmt.Errorf("area code %s: listed twice", a.npa)
		}
		m[a.npa] = a
	}
	return m, nil
}
