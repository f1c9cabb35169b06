package devstack

import (
	"strings"
	"testing"
)

// The chart draws the running rate against the ceiling: a ceiling of 3 % on a scale of twice it
// sits at half the height; a rate of 6 % at the top.
func TestAbandonmentChart(t *testing.T) {
	got := string(abandonmentChart(&AbandonmentStatus{Rate: 0.06, Ceiling: 0.03, Running: []float64{0, 0.03, 0.06}}))
	for _, want := range []string{
		`aria-label="abandonment 6.0 % against a ceiling of 3.0 %"`,
		`<line class="ceiling" x1="0" x2="240" y1="30.0" y2="30.0"/>`,
		`points="0.0,60.0 120.0,30.0 240.0,0.0 "`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("chart lacks %q:\n%s", want, got)
		}
	}
	if got := string(abandonmentChart(&AbandonmentStatus{Ceiling: 0.03})); strings.Contains(got, "polyline") {
		t.Errorf("a campaign with no answered call drew a line: %s", got)
	}
}
