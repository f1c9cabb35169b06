package callwindow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// LegalRules are the calling hours the law sets, by jurisdiction, applied on top of every
// campaign's week in the callee's local time. They are a deployment setting: a Policy carries
// them (Policy.Legal) but no campaign setting can weaken them, and the zero value is the
// built-in table (DefaultLegalHours), so a Policy that says nothing is protected.
//
// A callee's jurisdictions come from where the callee may be (Zones.Jurisdictions): the
// country of the number, the state or province of a North American area code (every one, for
// an area code that spans several), and the country of every zone the callee is checked in.
// The window in each of the callee's zones is the campaign's week intersected with the week
// of every rule of every one of those jurisdictions.
type LegalRules struct {
	spec  string // normalised; "" is the built-in table
	rules []legalRule
	off   bool
}

// DefaultLegalHours is the spec of the built-in table (legalTable): federal US and Canadian
// hours and the stricter US states' hours for telemarketing and debt-collection calls.
const DefaultLegalHours = "default"

// RecordedMessageHours is the spec item that adds the built-in rows for calls that play a
// recorded message (automatic dialing-announcing devices): "default;recorded".
const RecordedMessageHours = "recorded"

// LegalHoursOff is the only spec that turns legal hours off, for a deployment that does not
// call people (a load test against a simulator). Anything else that looks like "off" is refused.
const LegalHoursOff = "none-i-am-not-calling-people"

// ErrInvalidLegalHours wraps every error of ParseLegalHours.
var ErrInvalidLegalHours = errors.New("invalid legal calling hours")

// ParseLegalHours reads a deployment's legal-hours setting (an environment variable):
//
//	""  or "default"                 the built-in table
//	"default;recorded"               plus the rows for recorded-message calls
//	"default;US-NY mon-fri 09:00-20:00;US-NY sat,sun closed"
//	                                 plus rules of your own (they can only narrow a window)
//	"none-i-am-not-calling-people"   no legal hours at all (LegalHoursOff)
//
// A rule is "JURISDICTION DAYS HOURS [CLOCK]": JURISDICTION an ISO 3166 country ("US", "CA",
// "GB") or subdivision ("US-FL", "CA-QC"); DAYS "all" or days and ranges of mon..sun
// ("mon-fri", "sat,sun"); HOURS "closed" or intervals "HH:MM-HH:MM[,HH:MM-HH:MM]", the only
// hours allowed on those days; CLOCK, for a statute that names its own clock, "UTC-06:00":
// the hours then hold on that clock as well as on the callee's. Every spec but LegalHoursOff
// starts with the built-in table: it cannot be left out.
func ParseLegalHours(s string) (LegalRules, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", DefaultLegalHours:
		return LegalRules{}, nil
	case LegalHoursOff:
		return LegalRules{spec: LegalHoursOff, off: true}, nil
	case "none", "off", "false", "0", "no", "disabled", "disable":
		return LegalRules{}, fmt.Errorf("%w: %q cannot turn legal hours off (a deployment that does not call people says %q)", ErrInvalidLegalHours, s, LegalHoursOff)
	}
	items := strings.Split(s, ";")
	if !strings.EqualFold(strings.TrimSpace(items[0]), DefaultLegalHours) {
		return LegalRules{}, fmt.Errorf("%w: %q: a spec starts with %q (the built-in table cannot be left out)", ErrInvalidLegalHours, safetext.Truncate(s, 64), DefaultLegalHours)
	}
	l := LegalRules{rules: slices.Clone(builtinRules(DefaultLegalHours))}
	spec := []string{DefaultLegalHours}
	recorded := false
	for _, item := range items[1:] {
		item = strings.Join(strings.Fields(item), " ")
		switch {
		case item == "":
			continue
		case item == RecordedMessageHours:
			if !recorded {
				l.rules = append(l.rules, builtinRules(RecordedMessageHours)...)
				recorded = true
				spec = append(spec, item)
			}
			continue
		}
		r, err := parseLegalRule(item)
		if err != nil {
			return LegalRules{}, fmt.Errorf("%w: %w", ErrInvalidLegalHours, err)
		}
		l.rules = append(l.rules, r)
		spec = append(spec, item)
	}
	l.spec = strings.Join(spec, ";")
	if l.spec == DefaultLegalHours {
		return LegalRules{}, nil
	}
	return l, nil
}

// String returns the spec the rules were parsed from, normalised ("default" for the zero value).
func (l LegalRules) String() string {
	if l.spec == "" {
		return DefaultLegalHours
	}
	return l.spec
}

// active returns the rules in force.
func (l LegalRules) active() []legalRule {
	switch {
	case l.off:
		return nil
	case l.rules == nil:
		return builtinRules(DefaultLegalHours)
	}
	return l.rules
}

// legalRule is one parsed rule: on the days it names, calls only inside open (closed if empty),
// on the callee's clock, or on clock as well when the statute names one.
type legalRule struct {
	jurisdiction string
	days         [7]bool
	open         []Interval
	clock        *time.Location
	text         string
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseLegalRule(s string) (legalRule, error) {
	f := strings.Fields(s)
	if len(f) < 3 || len(f) > 4 {
		return legalRule{}, fmt.Errorf("rule %q: want JURISDICTION DAYS HOURS [UTC±HH:MM]", safetext.Truncate(s, 64))
	}
	r := legalRule{jurisdiction: f[0], text: strings.Join(f, " ")}
	if !validJurisdiction(f[0]) {
		return legalRule{}, fmt.Errorf("rule %q: jurisdiction %q: want an ISO 3166 code (US) or subdivision (US-FL)", r.text, safetext.Truncate(f[0], 16))
	}
	if f[1] == "all" {
		r.days = [7]bool{true, true, true, true, true, true, true}
	} else {
		for _, part := range strings.Split(f[1], ",") {
			a, b, isRange := strings.Cut(part, "-")
			from, to := slices.Index(dayNames[:], a), slices.Index(dayNames[:], b)
			if !isRange {
				to = from
			}
			if from < 0 || to < 0 || to < from {
				return legalRule{}, fmt.Errorf("rule %q: days %q: want all, or mon..sun and ranges such as mon-fri", r.text, part)
			}
			for d := from; d <= to; d++ {
				r.days[d] = true
			}
		}
	}
	if f[2] != "closed" {
		for _, part := range strings.Split(f[2], ",") {
			iv, err := ParseInterval(part)
			if err != nil {
				return legalRule{}, fmt.Errorf("rule %q: %w", r.text, err)
			}
			r.open = append(r.open, iv)
		}
		r.open = normalise(r.open)
	}
	if len(f) == 4 {
		loc, err := parseUTCOffset(f[3])
		if err != nil {
			return legalRule{}, fmt.Errorf("rule %q: %w", r.text, err)
		}
		r.clock = loc
	}
	return r, nil
}

func validJurisdiction(s string) bool {
	upper := func(s string, min, max int) bool {
		if len(s) < min || len(s) > max {
			return false
		}
		for _, c := range s {
			if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
				return false
			}
		}
		return true
	}
	country, sub, hasSub := strings.Cut(s, "-")
	return upper(country, 2, 2) && strings.Trim(country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" && (!hasSub || upper(sub, 1, 3))
}

// parseUTCOffset reads "UTC-06:00" or "UTC+05:30" into a fixed zone.
func parseUTCOffset(s string) (*time.Location, error) {
	bad := fmt.Errorf("clock %q: want UTC±HH:MM", safetext.Truncate(s, 16))
	if len(s) != 9 || !strings.HasPrefix(s, "UTC") || (s[3] != '+' && s[3] != '-') {
		return nil, bad
	}
	t, err := ParseTimeOfDay(s[4:])
	if err != nil || t > 14*60 {
		return nil, bad
	}
	off := int(t) * 60
	if s[3] == '-' {
		off = -off
	}
	return time.FixedZone(s, off), nil
}

// normalise sorts intervals and joins those that overlap or touch.
func normalise(ivs []Interval) []Interval {
	out := slices.Clone(ivs)
	slices.SortFunc(out, func(a, b Interval) int { return int(a.Start - b.Start) })
	n := 0
	for _, iv := range out {
		if n > 0 && iv.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, iv.End)
			continue
		}
		out[n] = iv
		n++
	}
	return out[:n]
}

// intersectIntervals returns the parts of two sorted, disjoint interval lists that are in both.
func intersectIntervals(a, b []Interval) []Interval {
	var out []Interval
	for i, j := 0, 0; i < len(a) && j < len(b); {
		s, e := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if s < e {
			out = append(out, Interval{s, e})
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}

// restrict narrows week by the rule (on the callee's clock).
func (r legalRule) restrict(week *[7][]Interval) {
	for d := range week {
		if r.days[d] {
			week[d] = intersectIntervals(week[d], r.open)
		}
	}
}

// ownWeek is the week of a rule on its own clock: its hours on its days, open elsewhere.
func (r legalRule) ownWeek() *[7][]Interval {
	var w [7][]Interval
	for d := range w {
		if r.days[d] {
			w[d] = r.open
		} else {
			w[d] = []Interval{{0, EndOfDay}}
		}
	}
	return &w
}

// legalRow is a row of the built-in table: a rule with its authority.
type legalRow struct {
	rule      string // in ParseLegalHours' syntax
	set       string // DefaultLegalHours, RecordedMessageHours, or "" (not applied: see decision)
	citation  string
	confirmed bool   // the primary text, or a verbatim quote of it, was read
	decision  string // why the row is in its set, or left out
}

// legalTable is the built-in table, from Switchboard's research (research/legal-hours.csv,
// 2026-12-07: the sources each citation names, and its notes). Rows marked unconfirmed rest on
// secondary sources (a compliance table quoting the statute, law-firm or DNC-industry pages);
// each is applied because it is stricter than the federal hours, so applying it can only cost
// calling time, never allow a call the law forbids. The table covers live telemarketing
// (telephone solicitation) and debt-collection calls; exemptions by purpose, consent or
// business relationship are not modelled (the strictest hours apply to every call).
// Not encoded: state holidays (Alabama, Louisiana, Rhode Island, Utah ban calls on legal
// holidays: give them to the campaign as restricted dates), Louisiana's ban during declared
// emergencies (needs a live feed), and provinces' rules (none was found; Quebec not researched).
var legalTable = []legalRow{
	// United States, federal.
	{"US all 08:00-21:00", DefaultLegalHours,
		"47 CFR 64.1200(c)(1): no telephone solicitation to a residential subscriber \"before the hour of 8 a.m. or after 9 p.m. (local time at the called party's location)\"",
		true, "federal floor for telemarketing"},
	{"US all 08:00-21:00", DefaultLegalHours,
		"16 CFR 310.4(c) (FTC Telemarketing Sales Rule): calls only between 8:00 a.m. and 9:00 p.m. local time at the called person's location",
		false, "same hours as 47 CFR 64.1200(c)(1); unconfirmed (read in secondary sources only)"},
	{"US all 08:00-21:00", DefaultLegalHours,
		"15 U.S.C. 1692c(a)(1) and 12 CFR 1006.6(b)(1)(i) (Regulation F): before 8:00 a.m. and after 9:00 p.m. local time at the consumer's location is inconvenient",
		true, "debt collection: same hours"},
	// States stricter than, or equal to, the federal hours.
	{"US-DC all 08:00-21:00", DefaultLegalHours,
		"D.C. Code 22-3226.08(3): not before 8:00 a.m. or after 9:00 p.m. local time at the place of the consumer called",
		true, "same as federal"},
	{"US-FL all 08:00-20:00", DefaultLegalHours,
		"Fla. Stat. 501.616(6)(a) as amended by 2021 SB 1120 (in force 2021-07-01): not before 8 a.m. or after 8 p.m. local time in the called person's time zone",
		true, "stricter end"},
	{"US-OK all 08:00-20:00", DefaultLegalHours,
		"15 O.S. 775C.4 (Telephone Solicitation Act of 2022, in force 2022-11-01): 8:00 a.m. to 8:00 p.m.",
		false, "stricter end; unconfirmed (the section's text was not read), applied because stricter"},
	{"US-AL mon-sat 08:00-20:00", DefaultLegalHours,
		"Ala. Admin. Code r. 770-X-5-.17(1)(b): \"No solicitation calls are allowed on Sundays or holidays. On the days that calls are allowed, none will be placed prior to 8 a.m. or after 8 p.m.\"",
		true, "read for automated solicitation calls; the same hours for live calls (r. 770-X-5-.17(2)) are unconfirmed, applied because stricter"},
	{"US-AL sun closed", DefaultLegalHours, "Ala. Admin. Code r. 770-X-5-.17(1)(b)", true, "no calls on Sundays (holidays: campaign restricted dates)"},
	{"US-LA mon-sat 08:00-20:00", DefaultLegalHours,
		"Louisiana PSC General Order R-29617 sec. V(A)", false, "unconfirmed (secondary sources), applied because stricter"},
	{"US-LA sun closed", DefaultLegalHours, "Louisiana PSC General Order R-29617 sec. V(A)", false,
		"unconfirmed, applied because stricter (legal holidays: campaign restricted dates)"},
	{"US-MS mon-sat 08:00-20:00 UTC-06:00", DefaultLegalHours,
		"Miss. Code Ann. 77-3-723(1): 8:00 a.m. to 8:00 p.m. \"Central Standard Time\"",
		false, "unconfirmed (secondary source quoting the statute), applied because stricter; the statute names Central Standard Time, so the hours hold on UTC-06:00 as well as on the callee's clock"},
	{"US-MS sun closed", DefaultLegalHours,
		"Miss. Code Ann. 77-3-723(1): \"No telephone solicitations may be made on a Sunday\" (as quoted by dnc.com, 2024-06-03)",
		true, "no calls on Sundays"},
	{"US-RI mon-fri 09:00-18:00", DefaultLegalHours,
		"R.I. Gen. Laws 5-61-3.6(a) and 5-61-2 (hours of operation): Monday to Friday 9:00 a.m. to 6:00 p.m., except state or federal holidays",
		true, "stricter (holidays: campaign restricted dates)"},
	{"US-RI sat 10:00-17:00", DefaultLegalHours, "R.I. Gen. Laws 5-61-2: Saturday 10:00 a.m. to 5:00 p.m.", true, "stricter"},
	{"US-RI sun closed", DefaultLegalHours, "R.I. Gen. Laws 5-61-2: Sunday is not within the hours of operation", true, "no calls on Sundays"},
	{"US-UT mon-sat 08:00-21:00", DefaultLegalHours,
		"Utah Code 13-25a-103(3): not between 9 p.m. and 8 a.m. local time, on a Sunday, or on a legal holiday",
		true, "same hours as federal"},
	{"US-UT sun closed", DefaultLegalHours, "Utah Code 13-25a-103(3)(b)", true, "no calls on Sundays (holidays: campaign restricted dates)"},
	{"US-TX mon-sat 09:00-21:00", DefaultLegalHours,
		"Tex. Bus. & Com. Code 301.051: 9 a.m. to 9 p.m. weekdays and Saturday", false,
		"unconfirmed (tcpaguide.org and a compliance table), applied because stricter"},
	{"US-TX sun 12:00-21:00", DefaultLegalHours, "Tex. Bus. & Com. Code 301.051: noon to 9 p.m. on Sunday", false,
		"unconfirmed, applied because stricter"},
	{"US-PA mon-sat 09:00-19:00", DefaultLegalHours,
		"73 P.S. 2245 as amended by Act 47 of 2026 (SB 992, approved 2026-07-20, in force about 2026-10-18): not on a Sunday, after 7 p.m. or before 9 a.m.",
		false, "unconfirmed (secondary only), applied because stricter; supersedes 8 a.m.-9 p.m."},
	{"US-PA sun closed", DefaultLegalHours, "73 P.S. 2245 as amended by Act 47 of 2026", false, "unconfirmed, applied because stricter"},
	{"US-KY all 10:00-21:00", DefaultLegalHours, "KRS 367.46955(16): between 10 a.m. and 9 p.m. local time at the called person's location", false,
		"unconfirmed, applied because stricter"},
	{"US-CT all 09:00-20:00", DefaultLegalHours, "Conn. Gen. Stat. 42-288a(c) as amended by P.A. 23-98", false, "unconfirmed, applied because stricter"},
	{"US-NM all 09:00-21:00", DefaultLegalHours, "NMSA 1978 57-12-22(B)(5): not before 9:00 a.m. or after 9:00 p.m.", false, "unconfirmed, applied because stricter"},
	{"US-MI all 09:00-21:00", DefaultLegalHours, "MCL 750.540e(1)(f)", false, "unconfirmed, applied because stricter"},
	{"US-MN all 09:00-21:00", DefaultLegalHours, "Minn. Stat. 325E.30", false, "unconfirmed, applied because stricter"},
	{"US-MD all 08:00-20:00", DefaultLegalHours, "Md. Code, Com. Law 14-4502(c) (Stop the Spam Calls Act, 2023 ch. 414): not between 8 p.m. and 8 a.m. in the called party's time zone", false,
		"unconfirmed, applied because stricter"},
	{"US-WA all 08:00-20:00", DefaultLegalHours, "RCW 19.158.110(4); RCW 80.36.390", false, "unconfirmed, applied because stricter"},
	{"US-MA all 08:00-20:00", DefaultLegalHours, "M.G.L. c. 159C sec. 3; 201 CMR 12.02(2)", false, "unconfirmed, applied because stricter"},
	{"US-OR all 08:00-20:00", DefaultLegalHours, "ORS 646.563(1)(b)", false, "unconfirmed, applied because stricter"},
	{"US-WY all 08:00-20:00", DefaultLegalHours, "Wyo. Stat. 40-12-302(d)", false, "unconfirmed, applied because stricter"},
	{"US-SD mon-fri 09:00-21:00", DefaultLegalHours, "SDCL 37-30-28 (solicitation with an automatic dialing device: weekdays 9:00-21:00)", false,
		"unconfirmed, applied because stricter and the dialer dials automatically; the weekend rule was not read"},
	// Canada, federal.
	{"CA mon-fri 09:00-21:30", DefaultLegalHours,
		"CRTC Unsolicited Telecommunications Rules, Part III (Telemarketing Rules): \"Telemarketing calls can only be made between the hours of 9:00 a.m. and 9:30 p.m. on weekdays and between 10:00 a.m. and 6:00 p.m. on weekends\" (crtc.gc.ca, Key Unsolicited Telecommunications Rules)",
		true, "applies to every telemarketer, including calls exempt from the National DNCL; read as the called party's local time"},
	{"CA sat,sun 10:00-18:00", DefaultLegalHours, "CRTC Unsolicited Telecommunications Rules, Part III (see above)", true, "weekends"},
	// Recorded-message (automatic dialing-announcing device) calls: RecordedMessageHours.
	{"US-OK all 09:00-21:00", RecordedMessageHours, "15 O.S. 755.1(C)(2)(a): an automated dial announcing device not used before 9 a.m. or after 9 p.m.", true,
		"recorded-message calls only"},
	{"US-CA all 09:00-21:00", RecordedMessageHours, "Cal. Pub. Util. Code 2872 (automatic dialing-announcing devices: not between 9 p.m. and 9 a.m.)", false,
		"recorded-message calls only; unconfirmed"},
	{"US-ME mon-fri 09:00-17:00", RecordedMessageHours, "10 M.R.S. 1498(3) (automated telephone calling devices)", false,
		"recorded-message calls only; unconfirmed; the weekend rule was not read"},
	{"CA mon-fri 09:30-20:00", RecordedMessageHours, "CRTC consumer brochure on ADAD calls (undated; rules then under review)", false,
		"recorded-message calls that do not solicit (soliciting by ADAD is prohibited); unconfirmed as current"},
	{"CA sat 10:30-17:00", RecordedMessageHours, "same CRTC brochure", false, "recorded-message calls that do not solicit; unconfirmed as current"},
	{"CA sun 12:00-17:00", RecordedMessageHours, "same CRTC brochure", false, "recorded-message calls that do not solicit; unconfirmed as current"},
	// Left out, and why.
	{"US-MS mon-sat 08:00-21:00 UTC-06:00", "", "Miss. Code Ann. 77-3-603(a) (unsolicited telephonic sales calls)", false,
		"wider than 77-3-723, which the table applies"},
	{"US-MS mon-sat 09:00-21:00", "", "Miss. Code Ann. 79-11-524 (charitable solicitation by fund-raisers)", true,
		"charitable fund-raising calls only: a deployment that raises funds adds it"},
	{"US-AZ all closed", "", "A.R.S. 44-1278(B)(3) (unsolicited sales calls to mobile or paging numbers)", false,
		"a ban on calls to mobiles, not calling hours: a North American number does not say whether it is a mobile"},
	{"US-PA all 08:00-21:00", "", "73 P.S. 2245(a)(1) before Act 47 of 2026", false, "superseded"},
}

// builtinRules parses the rows of one set of the table on first use.
func builtinRules(set string) []legalRule {
	return builtinSets()[set]
}

var builtinSets = sync.OnceValue(func() map[string][]legalRule {
	m := map[string][]legalRule{}
	for _, row := range legalTable {
		r, err := parseLegalRule(row.rule)
		if err != nil {
			panic("callwindow: legal table: " + err.Error()) // a build defect; TestLegalTable parses it
		}
		if row.set != "" {
			m[row.set] = append(m[row.set], r)
		}
	}
	return m
})
