package contactflow

import "runtime/debug"

// GCPercent is the garbage collector's target (GOGC) when the environment sets none. With Go's
// default of 100 and this function's small live heap (about 4 MB), a collection runs every
// hundred or so warm invocations, and the invocations that meet one are the slowest 1 %; at 400
// they are four times rarer and peak RSS stays near 33 MB, far inside Lambda's smallest memory
// size (128 MB). docs/performance.md has the measurements.
const GCPercent = 400

// TuneGC applies GCPercent unless GOGC is set, and returns the percent in force.
func TuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		p := debug.SetGCPercent(100) // read the runtime's value (from GOGC) back
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(GCPercent)
	return GCPercent
}
