// Package callwindow decides when a callee may be called, in the callee's own local time, in
// every zone the callee may be in, under the campaign's week and the law's calling hours.
//
// A Policy (calling intervals per weekday, restricted dates, the record-zone and unknown-zone
// settings, a fallback zone, the deployment's legal hours, and the optional US 08:00–21:00
// check) is validated into a Calendar. Calendar.Callee resolves the zones of a number and of
// the recipient record's own zone (see ResolveZones):
//
//   - A +1 number's zones are every zone of its area code in the NANP table (nanpzones.csv:
//     NANPA's npa_report and tzdata, cited per row; an overlay has its parents' zones), not
//     phonenumbers' one-zone guesses. An area code that is not a geographic one in the table
//     (toll-free, non-geographic, unassigned) gives no zone.
//   - Another country's fixed line gets phonenumbers' prefix zones; a mobile or non-geographic
//     number gets every zone of its country (tzdata zone.tab, tztables.go) as well.
//   - The record's zone is checked with the number's zones (the callee may be in any of them)
//     unless Policy.TrustRecordZone lets it decide alone.
//   - A number with no zone and no record zone is refused with ErrNoZoneForNumber, or gets the
//     fallback zone with Policy.UnknownZone = UnknownZoneFallback; Zones.Reason says why.
//
// A callee may be called only when the window is open in every one of its zones. The window
// in a zone is the campaign's week intersected with the legal hours (LegalRules, from
// ParseLegalHours; the zero value is the built-in table, legal.go, cited per row) of every
// jurisdiction of the callee: the number's country, its area code's states or provinces, and
// the country of every zone. Zones whose clock changed in a tz release newer than the
// database the process may run with (tzchanges.go: British Columbia, Alberta, Northwest
// Territories, Morocco, Moldova) are read on the new clock as well.
//
// Nothing here reads the clock: every decision takes the instant, so the dialer can run on a
// simulated clock. Decisions follow the local wall clock across daylight-saving gaps and
// repeated hours, and across half-hour and 45-minute offsets. Sources and decisions are in
// docs/dialer.md, "Calling windows".
package callwindow
