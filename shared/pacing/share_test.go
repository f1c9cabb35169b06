package pacing

import "testing"

func TestShare(t *testing.T) {
	for _, c := range []struct {
		total, n int
		want     []int
	}{
		{10, 1, []int{10}},
		{10, 3, []int{4, 3, 3}},
		{1000, 4, []int{250, 250, 250, 250}},
		{5, 4, []int{2, 1, 1, 1}},
		{2, 4, []int{1, 1, 0, 0}},
	} {
		sum := 0
		for i := 0; i < c.n; i++ {
			got := Share(c.total, i, c.n)
			if got != c.want[i] {
				t.Errorf("Share(%d, %d, %d) = %d, want %d", c.total, i, c.n, got, c.want[i])
			}
			sum += got
		}
		if sum != c.total {
			t.Errorf("shares of %d over %d add up to %d", c.total, c.n, sum)
		}
	}
}

func TestConfigShare(t *testing.T) {
	c := Config{CallsPerSecond: 50, Burst: 5, MaxLive: 1000}
	got, err := c.Share(0, 4)
	if err != nil || got != (Config{CallsPerSecond: 12.5, Burst: 2, MaxLive: 250}) {
		t.Errorf("part 0 of 4: %+v, %v", got, err)
	}
	got, err = c.Share(3, 4)
	if err != nil || got != (Config{CallsPerSecond: 12.5, Burst: 1, MaxLive: 250}) {
		t.Errorf("part 3 of 4: %+v, %v", got, err)
	}
	if got, err := c.Share(0, 1); err != nil || got != c {
		t.Errorf("part 0 of 1: %+v, %v", got, err)
	}
	for _, bad := range [][2]int{{4, 4}, {-1, 2}, {0, 0}, {0, 17}} {
		if _, err := c.Share(bad[0], bad[1]); err == nil {
			t.Errorf("part %d of %d accepted", bad[0], bad[1])
		}
	}
	if _, err := (Config{CallsPerSecond: 2, Burst: 5, MaxLive: 3}).Share(0, 4); err == nil {
		t.Error("a cap of 3 split over 4 accepted")
	}
}
