// Package callwindow decides when a callee may be called, in the callee's own local time.
//
// A Policy (calling intervals per weekday, restricted dates, a fallback zone, and the optional
// US 08:00–21:00 check) is validated into a Calendar. Calendar.Callee resolves the zones of a
// number: an explicit per-recipient zone wins; otherwise the number's prefix gives its zones
// through nyaruka/phonenumbers, widened by a table of North American split area codes
// (splitareas.go, sources in docs/dialer.md); a number with no known zone falls back to the
// policy's zone and says why. A callee whose number spans several zones may be called only
// when the window is open in all of them.
//
// Nothing here reads the clock: every decision takes the instant, so the dialer can run on a
// simulated clock. Decisions follow the local wall clock across daylight-saving gaps and
// repeated hours, and across half-hour and 45-minute offsets.
package callwindow
