package callwindow

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	// Embedded zone data: the calendar must not depend on whether the image has
	// /usr/share/zoneinfo (a static bootstrap on provided.al2023 may run without it) and must
	// know every name phonenumbers returns. The system's data is still preferred when present.
	_ "time/tzdata"

	"github.com/nyaruka/phonenumbers"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// ErrUnknownZone is returned for a zone name the time zone database does not know.
var ErrUnknownZone = errors.New("unknown time zone")

// ErrInvalidNumber is returned for a number that is not in E.164 form.
var ErrInvalidNumber = errors.New("not an E.164 number")

// Source says where the zones of a callee came from.
type Source string

const (
	// SourceExplicit: the recipient's own zone, which wins over the number.
	SourceExplicit Source = "explicit"
	// SourceNumber: the number's prefix, from phonenumbers, widened by the split-area-code table.
	SourceNumber Source = "number"
	// SourceFallback: the policy's fallback zone, because the number gave no usable zone.
	SourceFallback Source = "fallback"
)

// Zones is the outcome of resolving a callee's time zones.
type Zones struct {
	// Names are the IANA zones the callee may be in, sorted and without duplicates.
	Names []string
	// Source says where Names came from.
	Source Source
	// Override is the split area code (for example "270") whose table entry widened the
	// zones of the number, or "" if none applied.
	Override string
	// Reason is set when Source is SourceFallback (or when the fallback zone was added to
	// the number's zones) and says why, for the caller to record. It never holds the number.
	Reason string
}

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
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownZone, name)
	}
	return loc, nil
}

// ResolveZones returns the zones a callee may be in. A non-empty explicitZone wins (and must
// be a known IANA zone); otherwise the zones come from the number's prefix with phonenumbers,
// widened by the split-area-code table; if the number gives no known zone, fallbackZone is used
// and Reason says why.
func ResolveZones(number, explicitZone, fallbackZone string) (Zones, error) {
	z, _, err := resolve(number, explicitZone, fallbackZone)
	return z, err
}

func resolve(number, explicitZone, fallbackZone string) (Zones, []*time.Location, error) {
	if explicitZone != "" {
		loc, err := loadZone(explicitZone)
		if err != nil {
			return Zones{}, nil, fmt.Errorf("explicit zone: %w", err)
		}
		return Zones{Names: []string{explicitZone}, Source: SourceExplicit}, []*time.Location{loc}, nil
	}
	if !phone.IsE164(number) {
		return Zones{}, nil, ErrInvalidNumber
	}
	fallback, err := loadZone(fallbackZone)
	if err != nil {
		return Zones{}, nil, fmt.Errorf("fallback zone: %w", err)
	}
	pn, err := phonenumbers.Parse(number, "ZZ")
	if err != nil {
		// phonenumbers' messages do not quote the number.
		return Zones{}, nil, fmt.Errorf("%w: %v", ErrInvalidNumber, err)
	}
	names, err := phonenumbers.GetTimezonesForNumber(pn)
	if err != nil {
		return Zones{}, nil, fmt.Errorf("zones of number: %w", err)
	}
	z := Zones{Source: SourceNumber}
	if pn.GetCountryCode() == 1 {
		nsn := phonenumbers.GetNationalSignificantNumber(pn)
		if len(nsn) == 10 {
			if s, ok := splitAreaCodes[nsn[:3]]; ok {
				z.Override = nsn[:3]
				names = append(slices.Clone(names), s.zones...)
			}
		}
	}
	var unknown []string
	known := map[string]*time.Location{}
	for _, n := range names {
		if n == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		loc, err := loadZone(n)
		if err != nil {
			unknown = append(unknown, n)
			continue
		}
		known[n] = loc
	}
	unknown = dedupe(unknown)
	switch {
	case len(known) == 0:
		z = Zones{Names: []string{fallbackZone}, Source: SourceFallback, Reason: "no time zone known for the number's prefix"}
		if len(unknown) > 0 {
			z.Reason = "zones of the number's prefix unknown to the time zone database: " + strings.Join(unknown, ",")
		}
		return z, []*time.Location{fallback}, nil
	case len(unknown) > 0:
		// A zone we cannot compute in is replaced by the fallback, never dropped: dropping it
		// could allow a call outside the window there.
		known[fallbackZone] = fallback
		z.Reason = "fallback zone added for zones unknown to the time zone database: " + strings.Join(unknown, ",")
	}
	z.Names = slices.Sorted(maps.Keys(known))
	locs := make([]*time.Location, len(z.Names))
	for i, n := range z.Names {
		locs[i] = known[n]
	}
	return z, locs, nil
}

func dedupe(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
