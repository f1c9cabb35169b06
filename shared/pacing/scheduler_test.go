package pacing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const lots = 1 << 20

func TestAllocateByHand(t *testing.T) {
	tests := []struct {
		name            string
		tokens, maxLive int
		demands         []Demand
		want            []int
	}{
		// Strides 1e12, 5e11, 3.33e11; each starts one stride in: c b c, then a b c tie at
		// 1e12 and go by ID.
		{"tokens by weight 1:2:3", 6, 100, []Demand{{"a", 1, lots, 0, 0}, {"b", 2, lots, 0, 0}, {"c", 3, lots, 0, 0}}, []int{1, 2, 3}},
		// Cap 10 by weight 1:1:3 = 2, 2, 6.
		{"cap by weight", 100, 10, []Demand{{"a", 1, lots, 0, 0}, {"b", 1, lots, 0, 0}, {"c", 3, lots, 0, 0}}, []int{2, 2, 6}},
		// 10 / 3 = 3 each and one left over, to the lowest pass and then ID: a.
		{"cap remainder", 100, 10, []Demand{{"a", 1, lots, 0, 0}, {"b", 1, lots, 0, 0}, {"c", 1, lots, 0, 0}}, []int{4, 3, 3}},
		// a has nothing to dial: b gets every token.
		{"idle campaign gives its share", 4, 100, []Demand{{"a", 1, 0, 0, 0}, {"b", 1, 10, 0, 0}}, []int{0, 4}},
		// a holds 2 live calls and wants no more: b may use the other 8 of the cap.
		{"unused cap goes to others", 100, 10, []Demand{{"a", 1, 0, 2, 0}, {"b", 1, lots, 0, 0}}, []int{0, 8}},
		// a holds 8 of 10 with a fair share of 5: nothing for a; b gets the 2 free places.
		{"over its share: waits for its calls to end", 100, 10, []Demand{{"a", 1, 5, 8, 0}, {"b", 1, 5, 0, 0}}, []int{0, 2}},
		// Want bounds the grant even with tokens and cap to spare.
		{"want bounds", 100, 100, []Demand{{"a", 1, 3, 0, 0}, {"b", 5, 2, 0, 0}}, []int{3, 2}},
		{"no tokens", 0, 100, []Demand{{"a", 1, 3, 0, 0}}, []int{0}},
		// a's own cap of 3 with 1 live leaves it 2; its unused share goes to b.
		{"campaign's own cap", 100, 10, []Demand{{"a", 1, lots, 1, 3}, {"b", 1, lots, 0, 0}}, []int{2, 7}},
		{"own cap already full", 100, 10, []Demand{{"a", 1, lots, 4, 3}}, []int{0}},
		{"cap full", 5, 10, []Demand{{"a", 1, 3, 6, 0}, {"b", 1, 3, 4, 0}}, []int{0, 0}},
		{"cap lowered below live", 5, 10, []Demand{{"a", 1, 3, 12, 0}}, []int{0}},
		{"no campaigns", 5, 10, nil, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewScheduler().Allocate(tt.tokens, tt.maxLive, tt.demands)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Allocate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAllocateRejects(t *testing.T) {
	tests := map[string]struct {
		tokens, maxLive int
		demands         []Demand
	}{
		"negative":                    {-1, 10, nil},
		"campaign ID of 0 bytes":      {1, 10, []Demand{{"", 1, 1, 0, 0}}},
		"campaign ID of 257 bytes":    {1, 10, []Demand{{strings.Repeat("x", 257), 1, 1, 0, 0}}},
		"campaign a twice":            {1, 10, []Demand{{"a", 1, 1, 0, 0}, {"a", 1, 1, 0, 0}}},
		"campaign a: weight 0":        {1, 10, []Demand{{"a", 0, 1, 0, 0}}},
		"campaign a: weight 10001":    {1, 10, []Demand{{"a", 10001, 1, 0, 0}}},
		"campaign a: want -1, live 0": {1, 10, []Demand{{"a", 1, -1, 0, 0}}},
		"campaign a: want 0, live -1": {1, 10, []Demand{{"a", 1, 0, -1, 0}}},
		"own cap -1: negative":        {1, 10, []Demand{{"a", 1, 0, 0, -1}}},
	}
	for want, tt := range tests {
		if _, err := NewScheduler().Allocate(tt.tokens, tt.maxLive, tt.demands); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v; want an error containing %q", tt.demands, err, want)
		}
	}
}

// One token a round, every campaign always wanting: after every round each campaign's total is
// within one call of round × weight / Σweights, and after 10,000 rounds exactly its share.
func TestProportionalOverRounds(t *testing.T) {
	weights := []int{1, 2, 3, 4}
	s := NewScheduler()
	got := make([]int, len(weights))
	for round := 1; round <= 10000; round++ {
		var demands []Demand
		for i, w := range weights {
			demands = append(demands, Demand{ID: fmt.Sprint("c", i), Weight: w, Want: lots})
		}
		g, err := s.Allocate(1, lots, demands)
		if err != nil {
			t.Fatal(err)
		}
		for i := range g {
			got[i] += g[i]
		}
		for i, w := range weights {
			ideal := float64(round*w) / 10
			if d := float64(got[i]) - ideal; d > 1 || d < -1 {
				t.Fatalf("round %d: campaign %d (weight %d) has %d calls, ideal %.1f", round, i, w, got[i], ideal)
			}
		}
	}
	if !slices.Equal(got, []int{1000, 2000, 3000, 4000}) {
		t.Errorf("after 10000 rounds: %v, want 1000 2000 3000 4000", got)
	}
}

// Random weights, every campaign always wanting, a few tokens a round (seeded): each
// campaign's total stays within as many calls as there are campaigns of its weighted share,
// stride scheduling's O(number of clients) bound on absolute error.
func TestProportionalRandomWeights(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		n := 2 + rng.IntN(7)
		demands := make([]Demand, n)
		total := 0
		for i := range demands {
			demands[i] = Demand{ID: fmt.Sprint("c", i), Weight: 1 + rng.IntN(50), Want: lots}
			total += demands[i].Weight
		}
		s := NewScheduler()
		got := make([]int, n)
		granted := 0
		for round := 0; round < 5000; round++ {
			g, err := s.Allocate(1+rng.IntN(3), lots, demands)
			if err != nil {
				t.Fatal(err)
			}
			for i := range g {
				got[i] += g[i]
				granted += g[i]
			}
			for i, d := range demands {
				ideal := float64(granted*d.Weight) / float64(total)
				if diff := float64(got[i]) - ideal; diff > float64(n) || diff < -float64(n) {
					t.Fatalf("seed %d round %d: %s (weight %d of %d) has %d of %d calls, ideal %.1f", seed, round, d.ID, d.Weight, total, got[i], granted, ideal)
				}
			}
		}
	}
}

func TestNoStarvation(t *testing.T) {
	s := NewScheduler()
	gap, maxGap, small := 0, 0, 0
	for round := 0; round < 50000; round++ {
		g, _ := s.Allocate(1, lots, []Demand{{"big", MaxWeight, lots, 0, 0}, {"small", 1, lots, 0, 0}})
		if g[1] == 1 {
			small++
			maxGap = max(maxGap, gap)
			gap = 0
		} else {
			gap++
		}
	}
	// Weight 1 against 10000: one call in every 10001.
	if small != 4 || maxGap > MaxWeight {
		t.Errorf("small campaign: %d calls in 50000, longest wait %d rounds; want 4 and at most %d", small, maxGap, MaxWeight)
	}
}

// A campaign that had nothing to dial is not owed the calls it skipped.
func TestIdleCampaignBanksNothing(t *testing.T) {
	s := NewScheduler()
	for round := 0; round < 100; round++ {
		g, _ := s.Allocate(1, lots, []Demand{{"a", 1, 0, 0, 0}, {"b", 1, lots, 0, 0}})
		if g[1] != 1 {
			t.Fatalf("round %d: b got %d while a was idle", round, g[1])
		}
	}
	a := 0
	for round := 0; round < 100; round++ {
		g, _ := s.Allocate(1, lots, []Demand{{"a", 1, lots, 0, 0}, {"b", 1, lots, 0, 0}})
		a += g[0]
	}
	if a != 50 {
		t.Errorf("a got %d of the 100 calls after rejoining, want 50", a)
	}
}

func TestForgetsAndRebases(t *testing.T) {
	s := NewScheduler()
	s.Allocate(3, lots, []Demand{{"a", 1, lots, 0, 0}, {"b", 1, lots, 0, 0}})
	s.Allocate(3, lots, []Demand{{"b", 1, lots, 0, 0}})
	if _, ok := s.pass["a"]; ok {
		t.Error("a is still remembered after a round without it")
	}
	s.pass = map[string]uint64{"a": 1<<62 + 5, "b": 1<<62 + 10}
	s.vt = 1<<62 + 5
	g, _ := s.Allocate(1, lots, []Demand{{"a", 1, lots, 0, 0}, {"b", 1, lots, 0, 0}})
	if g[0] != 1 || s.vt != 0 || s.pass["b"] != 5 || s.pass["a"] != strideUnit {
		t.Errorf("grants %v, vt %d, passes %v: want a served, then rebased to vt 0, b 5, a %d", g, s.vt, s.pass, uint64(strideUnit))
	}
	g, _ = s.Allocate(1, lots, []Demand{{"a", 1, lots, 0, 0}, {"b", 1, lots, 0, 0}})
	if g[1] != 1 {
		t.Errorf("after the rebase b should be next: %v", g)
	}
}

// TestRandomRounds: over random demands, tokens and caps (seeded), a round never grants more
// than the tokens, the free cap, a campaign's want, or its share of the cap.
func TestRandomRounds(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := NewScheduler()
		for round := 0; round < 500; round++ {
			n := rng.IntN(6)
			var demands []Demand
			live := 0
			for i := 0; i < n; i++ {
				d := Demand{ID: fmt.Sprint("c", rng.IntN(8)), Weight: 1 + rng.IntN(20), Want: rng.IntN(15), Live: rng.IntN(8), MaxLive: rng.IntN(3) * rng.IntN(10)}
				if slices.ContainsFunc(demands, func(x Demand) bool { return x.ID == d.ID }) {
					continue
				}
				demands = append(demands, d)
				live += d.Live
			}
			tokens, maxLive := rng.IntN(12), 1+rng.IntN(40)
			g, err := s.Allocate(tokens, maxLive, demands)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for i, d := range demands {
				if g[i] < 0 || g[i] > d.Want {
					t.Fatalf("seed %d round %d: %s granted %d, wants %d", seed, round, d.ID, g[i], d.Want)
				}
				if d.MaxLive > 0 && g[i] > 0 && d.Live+g[i] > d.MaxLive {
					t.Fatalf("seed %d round %d: %s granted %d with %d live, own cap %d", seed, round, d.ID, g[i], d.Live, d.MaxLive)
				}
				total += g[i]
			}
			if total > tokens || live+total > max(live, maxLive) {
				t.Fatalf("seed %d round %d: granted %d with %d tokens, %d live, cap %d", seed, round, total, tokens, live, maxLive)
			}
			// Work conserving: if a token and a free place were left, nobody eligible wanted one.
			if total < tokens && live+total < maxLive {
				for i, d := range demands {
					ownRoom := d.MaxLive == 0 || d.Live+g[i] < d.MaxLive
					if g[i] < d.Want && ownRoom && d.Live+g[i] < maxLive*d.Weight/sumWeights(demands) {
						t.Fatalf("seed %d round %d: %s left wanting below its share with tokens and cap to spare", seed, round, d.ID)
					}
				}
			}
		}
	}
}

func sumWeights(ds []Demand) int {
	w := 0
	for _, d := range ds {
		w += d.Weight
	}
	return w
}

func BenchmarkAllocate(b *testing.B) {
	for _, n := range []int{2, 10, 100} {
		b.Run(fmt.Sprint(n, "campaigns"), func(b *testing.B) {
			s := NewScheduler()
			demands := make([]Demand, n)
			for i := range demands {
				demands[i] = Demand{ID: fmt.Sprint("campaign-", i), Weight: 1 + i%5, Want: 50, Live: i % 3}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Allocate(10, 1000, demands); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
