package callwindow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	// Embedded zone data: the calendar must not depend on whether the image has
	// /usr/share/zoneinfo (a static bootstrap on provided.al2023 may run without it) and must
	// know every name it uses. The system's data is still preferred when present; tzChanges
	// covers what either may lack.
	_ "time/tzdata"

	"github.com/nyaruka/phonenumbers"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// ErrUnknownZone is returned for a zone name the time zone database does not know.
var ErrUnknownZone = errors.New("unknown time zone")

// ErrInvalidNumber is returned for a number that is not in E.164 form.
var ErrInvalidNumber = errors.New("not an E.164 number")

// ErrNoZoneForNumber is returned when the number gives no zone (a +1 area code that is not a
// geographic one in the NANP table: toll-free, non-geographic or unassigned; a country code
// with no zone, such as +800), the record names none, and the policy refuses to guess
// (UnknownZoneRefuse). The error's text says why, naming the area or country code, never the
// number: the caller records it as the recipient's final reason.
var ErrNoZoneForNumber = errors.New("no time zone known for the number")

// Source says where the zones of a callee came from.
type Source string

const (
	// SourceExplicit: the recipient record's zone alone, because the policy trusts it
	// (TrustRecordZone), or there is no number, or the number gives no zone.
	SourceExplicit Source = "explicit"
	// SourceNumber: the number's location. A +1 number: its area code's row of the NANP table
	// (nanpzones.csv). Another country's fixed line: phonenumbers' prefix data.
	SourceNumber Source = "number"
	// SourceCountry: every zone of the number's country (tzdata zone.tab) with phonenumbers'
	// zones: a mobile or non-geographic number outside North America, which may be anywhere
	// in its country.
	SourceCountry Source = "country"
	// SourceFallback: the policy's fallback zone, because the number gave no zone, the record
	// named none, and the policy says UnknownZoneFallback.
	SourceFallback Source = "fallback"
)

// Zones is the outcome of resolving a callee's time zones.
type Zones struct {
	// Names are the IANA zones the callee may be in, sorted and without duplicates: a call is
	// allowed only when the window is open in every one.
	Names []string
	// Source says where Names came from (besides Record).
	Source Source
	// AreaCode is the area code of a +1 number (whose table row gave the zones), else "".
	AreaCode string
	// Record is the recipient record's own zone when it is one of Names, else "".
	Record string
	// Jurisdictions are the legal calling-hour jurisdictions of the callee's location: the
	// number's country and, for a +1 number, its area code's states or provinces ("US",
	// "US-FL", "CA"), and the country of every zone in Names. Sorted.
	Jurisdictions []string
	// ExtraClocks names every clock the window is checked on besides the zones' own: a zone's
	// newer clock the time zone database may lack (tzChanges), or a statute's own clock.
	ExtraClocks []string
	// Reason says why the zones are not simply the number's (a fallback, or a record zone that
	// decides alone because the number gave none), for the caller to record. It never holds
	// the number.
	Reason string
}

// zoneCache keeps loaded zones: time.LoadLocation reads and parses a file on every call.
var zoneCache sync.Map // name -> *time.Location

// loadLocation is time.LoadLocation; tests replace it to run on a given database.
var loadLocation = time.LoadLocation

func loadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, fmt.Errorf("%w: empty", ErrUnknownZone)
	case "Local", phonenumbers.UNKNOWN_TIMEZONE:
		// "Local" is the machine's zone, never the callee's; Etc/Unknown is phonenumbers' "no data".
		return nil, fmt.Errorf("%w: %q is not a callee zone", ErrUnknownZone, name)
	}
	if len(name) > 64 {
		return nil, fmt.Errorf("%w: name longer than 64 characters", ErrUnknownZone)
	}
	if loc, ok := zoneCache.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := loadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownZone, name)
	}
	zoneCache.Store(name, loc)
	return loc, nil
}

// resolution holds the policy settings ResolveZones applies.
type resolution struct {
	fallback string
	trust    bool
	unknown  UnknownZone
}

func resolutionOf(p Policy) resolution {
	return resolution{fallback: p.FallbackZone, trust: p.TrustRecordZone, unknown: p.UnknownZone}
}

// ResolveZones returns the zones a callee may be in under the policy p (its TrustRecordZone,
// UnknownZone and FallbackZone; p need not be otherwise valid):
//
//   - The number's zones. A +1 number (ten digits after the country code): every zone of its
//     area code in the NANP table; an overlay has its parents' zones. Another country's fixed
//     line: phonenumbers' prefix data. Another country's mobile or non-geographic number
//     (phonenumbers.GetNumberType other than FIXED_LINE): every zone of its country (zone.tab)
//     as well, and so is a single-zone country's zone.
//   - A non-empty recordZone (the recipient's own; it must be a known IANA name) is checked
//     with the number's zones: the callee may be in any of them. With p.TrustRecordZone it
//     decides alone. When the number gives no zone it decides alone too (Reason says so).
//   - A number that gives no zone, with no record zone: ErrNoZoneForNumber (the error says
//     why), or the fallback zone with UnknownZoneFallback (Reason says why).
func ResolveZones(number, recordZone string, p Policy) (Zones, error) {
	z, _, err := resolve(number, recordZone, resolutionOf(p))
	return z, err
}

// numberZones is what the number alone says: zone names (possibly unknown to the database),
// their source, the area code, the jurisdictions, and why there are none.
type numberZones struct {
	names         []string
	source        Source
	areaCode      string
	jurisdictions []string
	none          string
}

func zonesOfNumber(number string) (numberZones, error) {
	if !phone.IsE164(number) {
		return numberZones{}, ErrInvalidNumber
	}
	if strings.HasPrefix(number, "+1") {
		if len(number) != 12 {
			return numberZones{}, fmt.Errorf("%w: a +1 number has ten digits after the country code", ErrInvalidNumber)
		}
		npa := number[2:5]
		a := nanpAreas()[npa]
		if a == nil {
			return numberZones{areaCode: npa, none: "area code " + npa + " is not in the table of geographic NANP area codes (NANPA npa_report, USE=G): toll-free, non-geographic or unassigned"}, nil
		}
		return numberZones{names: a.zones, source: SourceNumber, areaCode: npa, jurisdictions: a.jurisdictions()}, nil
	}
	pn, err := phonenumbers.Parse(number, "ZZ")
	if err != nil {
		// phonenumbers' messages do not quote the number.
		return numberZones{}, fmt.Errorf("%w: %v", ErrInvalidNumber, err)
	}
	names, err := phonenumbers.GetTimezonesForNumber(pn)
	if err != nil {
		return numberZones{}, fmt.Errorf("zones of number: %w", err)
	}
	names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == phonenumbers.UNKNOWN_TIMEZONE })
	region := phonenumbers.GetRegionCodeForNumber(pn)
	nz := numberZones{names: names, source: SourceNumber}
	if len(region) == 2 && region != "ZZ" {
		nz.jurisdictions = countryJurisdictions(region)
		country := countryZones()[region]
		switch fixed := phonenumbers.GetNumberType(pn) == phonenumbers.FIXED_LINE; {
		case !fixed && len(country) > 0:
			nz.names, nz.source = append(nz.names, country...), SourceCountry
		case len(country) == 1:
			nz.names = append(nz.names, country...)
		}
	}
	if len(nz.names) == 0 {
		nz.none = fmt.Sprintf("no time zone known for country code +%d", pn.GetCountryCode())
	}
	return nz, nil
}

func resolve(number, recordZone string, r resolution) (Zones, []*time.Location, error) {
	var record *time.Location
	if recordZone != "" {
		loc, err := loadZone(recordZone)
		if err != nil {
			return Zones{}, nil, fmt.Errorf("record zone: %w", err)
		}
		record = loc
	}
	var nz numberZones
	if number != "" || record == nil {
		var err error
		if nz, err = zonesOfNumber(number); err != nil {
			return Zones{}, nil, err
		}
	}
	known := map[string]*time.Location{}
	var unknown []string
	for _, n := range nz.names {
		if loc, err := loadZone(n); err == nil {
			known[n] = loc
		} else {
			unknown = append(unknown, n)
		}
	}
	z := Zones{Source: nz.source, AreaCode: nz.areaCode}
	guess := nz.none // why the number's zones are not enough, if they are not
	if guess == "" && len(unknown) > 0 {
		guess = "zones of the number unknown to the time zone database: " + strings.Join(dedupe(unknown), ",")
	}
	switch {
	case record != nil && (r.trust || number == ""):
		known = map[string]*time.Location{recordZone: record}
		z.Source = SourceExplicit
	case record != nil && len(known) == 0:
		// The record is all there is: it decides alone, and says why.
		known = map[string]*time.Location{recordZone: record}
		z.Source, z.Reason = SourceExplicit, guess+"; the record's zone decides alone"
	default:
		if guess != "" {
			if r.unknown != UnknownZoneFallback {
				return Zones{}, nil, fmt.Errorf("%w: %s", ErrNoZoneForNumber, guess)
			}
			fallback, err := loadZone(r.fallback)
			if err != nil {
				return Zones{}, nil, fmt.Errorf("fallback zone: %w", err)
			}
			// A zone that cannot be computed in is replaced by the fallback, never dropped.
			if len(known) == 0 {
				z.Source = SourceFallback
			}
			known[r.fallback] = fallback
			z.Reason = guess + "; the fallback zone " + r.fallback + " is used"
		}
		if record != nil {
			known[recordZone] = record
		}
	}
	if record != nil && known[recordZone] != nil {
		z.Record = recordZone
	}
	z.Names = make([]string, 0, len(known))
	for n := range known {
		// A link beside its target is the same clock twice ("Pacific/Enderbury" from
		// phonenumbers, "Pacific/Kanton" from zone.tab): keep the target, and the record's name.
		if c := canonicalZone(n); c != n && known[c] != nil && n != recordZone {
			continue
		}
		z.Names = append(z.Names, n)
	}
	slices.Sort(z.Names)
	locs := make([]*time.Location, len(z.Names))
	juris := slices.Clone(nz.jurisdictions)
	for i, n := range z.Names {
		locs[i] = known[n]
		juris = append(juris, countryJurisdictions(countryOfZone(n))...)
	}
	z.Jurisdictions = dedupe(juris)
	return z, locs, nil
}

func dedupe(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
