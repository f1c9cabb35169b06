package predictive

import (
	"math"
	"time"
)

// maxSlots bounds the forecast's horizon: 64 slots of the default 2 s are 128 s, more than
// Connect's longest ring (RingTimeoutInSeconds is at most 60).
const maxSlots = 64

// tiny is the probability below which the forecast drops a state or a term.
const tiny = 1e-10

// forecast is the near future of one campaign as Decide sees it, cut into slots as long as the
// connection threshold: an answer finds an agent if one is idle, or counts as free (see lead),
// in its slot.
type forecast struct {
	queued    int       // answered, waiting for an agent now
	available int       // agents idle now
	busy      int       // agents on the campaign's contacts
	base      []float64 // per slot: expected person answers of the calls already ringing
	perCall   []float64 // per slot: P(a call dialled now is answered by a person in the slot)
	ringing   int       // calls ringing that may still be answered by a person
	frees     [][]float64
	soonFree  float64 // expected busy agents free within the horizon

	cur, nxt, binom []float64 // scratch
}

// newForecast builds the forecast of a state: pUp is the (upper bound of the) probability
// that a dial is answered by a person, pMachine by a machine.
func newForecast(s State, slot time.Duration, pUp, pMachine float64) *forecast {
	est := s.Estimates
	ds := slot.Seconds()
	top := est.PersonAnswer.quantile(1)
	k := int(math.Ceil(top / ds))
	k = max(1, min(maxSlots, k))
	f := &forecast{
		available: max(0, s.Available),
		busy:      len(s.Busy),
		base:      make([]float64, k),
		perCall:   make([]float64, k),
		frees:     make([][]float64, k),
	}
	pa, ma, na := est.PersonAnswer, est.MachineAnswer, est.Unanswered
	pNone := math.Max(0, 1-pUp-pMachine)
	for j := range k {
		f.perCall[j] = pUp * (pa.cdf(float64(j+1)*ds) - pa.cdf(float64(j)*ds))
	}
	for _, c := range s.Waiting {
		if !c.AnsweredAt.IsZero() {
			f.queued++
			continue
		}
		tau := math.Max(0, s.Now.Sub(c.PlacedAt).Seconds())
		// P(still ringing after tau s): not answered by a person or a machine, and not ended
		// unanswered (busy, failed, rung out); of this, pUp × (1 − F(tau)) is a person's answer
		// to come. An unknown end-time distribution counts every unanswered call as ringing
		// still, which understates that share.
		surv := 1 - pUp*pa.cdf(tau) - pMachine*ma.cdf(tau) - pNone*na.cdf(tau)
		if surv <= 1e-9 || pa.cdf(tau) >= 1 {
			continue
		}
		f.ringing++
		for j := range k {
			f.base[j] += pUp * (pa.cdf(tau+float64(j+1)*ds) - pa.cdf(tau+float64(j)*ds)) / surv
		}
	}

	// Each busy agent counts as free in slot j with probability q[j]: its remaining talk (given
	// the talk so far) and then its after-contact work, or its remaining after-contact work,
	// advanced by lead. An agent past every talk (or after-contact work) ever measured is counted
	// as not freeing: a guess there would only add dials.
	//
	// Why advance: with answers served first come first served and never back within the
	// horizon, the answers lost up to t are sup over s ≤ t of (N(s) − S(s + θ))⁺ (N the answers,
	// S the agents free, θ the connection threshold; the reflection of a queue without
	// returns), so waiting up to θ for an agent is the same as no waiting with every agent
	// free θ earlier. Within a slot the forecast lets frees come first, which favours the
	// answers by half a slot on average: the lead is θ − slot/2.
	talk, acw := est.Talk, est.AfterWork
	// lead is θ − slot/2, the slot being θ; bound(j) is the end of slot j in free time.
	lead := ds / 2
	bound := func(j int) float64 { return float64(j+1)*ds + lead }
	// acwAt[d+1] = P(after-contact work ≤ (d + ½) slots + lead), for d from −1.
	acwAt := make([]float64, k+2)
	for d := -1; d <= k; d++ {
		acwAt[d+1] = acw.cdf((float64(d)+0.5)*ds + lead)
	}
	qs := make([][]float64, k)
	q := make([]float64, k)
	r := make([]float64, k+1)
	for _, b := range s.Busy {
		clear(q)
		prev := 0.0
		if b.WrapUpSince.IsZero() {
			e := math.Max(0, s.Now.Sub(b.Since).Seconds())
			surv := 1 - talk.cdf(e)
			// Past every talk measured, or sure to talk past the horizon plus the shortest
			// after-contact work: no chance of freeing within the horizon.
			if surv < 1e-6 || talk.cdf(e+bound(k-1)) <= talk.cdf(e) || acwAt[k] == 0 {
				continue
			}
			for m := range r {
				r[m] = (talk.cdf(e+float64(m+1)*ds) - talk.cdf(e+float64(m)*ds)) / surv
			}
			for j := range k {
				g := 0.0 // P(free by bound(j)): talk ends in slot m, at about (m + ½) slots
				for m := 0; m <= j+1; m++ {
					g += r[m] * acwAt[j-m+1]
				}
				q[j] = math.Max(0, g-prev)
				prev = math.Max(prev, g)
			}
		} else {
			a := math.Max(0, s.Now.Sub(b.WrapUpSince).Seconds())
			surv := 1 - acw.cdf(a)
			if surv < 1e-6 {
				continue
			}
			for j := range k {
				g := (acw.cdf(a+bound(j)) - acw.cdf(a)) / surv
				q[j] = math.Max(0, g-prev)
				prev = math.Max(prev, g)
			}
		}
		collapse(q)
		for j, x := range q {
			if x > 1e-9 {
				qs[j] = append(qs[j], x)
				f.soonFree += x
			}
		}
	}
	// The number freeing in a slot is a sum of independent Bernoulli variables (a Poisson
	// binomial): exact, since a fixed after-contact work makes some of them near-certain, which
	// a Poisson approximation would spread out.
	for j := range k {
		pmf := []float64{1}
		for _, x := range qs[j] {
			next := make([]float64, len(pmf)+1)
			for i, p := range pmf {
				next[i] += p * (1 - x)
				next[i+1] += p * x
			}
			pmf = next
		}
		// Many agents each a little likely to free make a long tail of negligible terms.
		for len(pmf) > 1 && pmf[len(pmf)-1] < tiny {
			pmf = pmf[:len(pmf)-1]
		}
		f.frees[j] = pmf
	}
	return f
}

// run returns the expected person answers of the calls in flight and n more dialled now, and
// how many of them are expected to find no agent in their slot (abandoned).
//
// It follows the joint distribution of (idle agents, calls answered so far) slot by slot:
// busy agents free (frees[j]), then the slot's answers take idle agents, and an answer finding
// none is abandoned. An agent who takes a call is not free again within the horizon (a talk
// lasts minutes, the horizon seconds). The calls in flight are taken as exchangeable: of the m
// calls that may still be answered, k answered so far, each of the m − k others is answered in
// slot j with the hazard h_j / (1 − H_j), where h_j is the mean probability of an answer in slot j
// and H_j before it. This keeps each slot's expected answers exact and each call answered at
// most once, and makes the total Binomial(m, mean probability). For a convex function of the
// total, such as the pooled loss E[(X − A)+], the binomial gives at least what the true sum of
// unequal Bernoulli variables gives (Hoeffding, "On the distribution of the number of successes
// in independent trials", Ann. Math. Statist. 27 (1956) 713-721); slot by slot it is an
// approximation, which errs toward more abandonment in TestForecastAgainstMonteCarlo. Queued
// calls are answers in the first slot.
func (f *forecast) run(n int) (answers, abandoned float64) {
	m := f.ringing + n
	top := f.available + f.busy // idle agents never exceed the agents
	w := m + 1                  // row width: k = 0..m
	size := (top + 1) * w
	if cap(f.cur) < size {
		f.cur = make([]float64, size)
		f.nxt = make([]float64, size)
	}
	cur, nxt := f.cur[:size], f.nxt[:size]
	clear(cur)
	cur[f.available*w] = 1
	iLo, iHi, kLo, kHi := f.available, f.available, 0, 0
	answers = float64(f.queued)
	before := 0.0 // expected answers of the m calls before slot j
	for j := range f.base {
		if fr := f.frees[j]; len(fr) > 1 {
			nHi := min(top, iHi+len(fr)-1)
			for i := iLo; i <= nHi; i++ {
				clear(nxt[i*w+kLo : i*w+kHi+1])
			}
			for i := iLo; i <= iHi; i++ {
				for k := kLo; k <= kHi; k++ {
					p := cur[i*w+k]
					if p == 0 {
						continue
					}
					for d, pd := range fr {
						nxt[min(top, i+d)*w+k] += p * pd
					}
				}
			}
			cur, nxt = nxt, cur
			iHi = nHi
		}
		lam := f.base[j] + float64(n)*f.perCall[j]
		answers += lam
		shift := 0
		if j == 0 {
			shift = f.queued
		}
		hazard := 0.0
		if m > 0 && lam > 0 {
			hazard = math.Min(1, lam/(float64(m)-before))
		}
		before += lam
		if hazard <= 0 && shift == 0 {
			continue
		}
		nkHi := min(m, kHi+m)
		for i := 0; i <= iHi; i++ {
			clear(nxt[i*w+kLo : i*w+nkHi+1])
		}
		for k := kLo; k <= kHi; k++ {
			pmf := f.binomial(m-k, hazard)
			for i := iLo; i <= iHi; i++ {
				p := cur[i*w+k]
				if p < tiny {
					continue
				}
				for d, pd := range pmf {
					x := p * pd
					if dd := d + shift; dd <= i {
						nxt[(i-dd)*w+k+d] += x
					} else {
						nxt[k+d] += x // no idle agent left
						abandoned += x * float64(dd-i)
					}
				}
			}
		}
		cur, nxt = nxt, cur
		// Shrink the box to where the probability is.
		iLo, kHi = 0, nkHi
		nLoI, nHiI, nLoK, nHiK := top+1, -1, m+1, -1
		for i := iLo; i <= iHi; i++ {
			for k := kLo; k <= kHi; k++ {
				if cur[i*w+k] >= tiny {
					nLoI, nHiI = min(nLoI, i), max(nHiI, i)
					nLoK, nHiK = min(nLoK, k), max(nHiK, k)
				}
			}
		}
		if nHiI < 0 {
			break
		}
		iLo, iHi, kLo, kHi = nLoI, nHiI, nLoK, nHiK
	}
	f.cur, f.nxt = cur, nxt
	return answers, abandoned
}

// binomial returns the pmf of a Binomial(n, p) count up to where the remaining mass is
// negligible.
func (f *forecast) binomial(n int, p float64) []float64 {
	b := f.binom[:0]
	if n <= 0 || p <= 0 {
		f.binom = append(b, 1)
		return f.binom
	}
	if p >= 1 {
		b = append(b, make([]float64, n+1)...)
		b[n] = 1
		f.binom = b
		return b
	}
	x := math.Pow(1-p, float64(n))
	ratio := p / (1 - p)
	cum := 0.0
	for d := 0; d <= n; d++ {
		if d > 0 {
			x *= ratio * float64(n-d+1) / float64(d)
		}
		b = append(b, x)
		cum += x
		if cum > 1-1e-12 && float64(d) > float64(n)*p {
			break
		}
	}
	f.binom = b
	return b
}

// collapse puts an agent's free probability, when nearly all of it lies in two adjacent slots,
// into the one slot where half of it is reached. The forecast treats slots as independent, so
// an agent sure to free within a second or so (after-contact work with a fixed timeout) would
// otherwise free "in neither slot" or "in both" a fair share of the time, which exaggerates the
// spread of the agents' supply and with it the abandonment; moving the free by less than a slot
// costs much less.
func collapse(q []float64) {
	total := 0.0
	for _, x := range q {
		total += x
	}
	if total <= 0 {
		return
	}
	for j := range q {
		pair := q[j]
		if j+1 < len(q) {
			pair += q[j+1]
		}
		if pair < 0.95*total {
			continue
		}
		to := j
		if j+1 < len(q) && q[j] < total/2 {
			to = j + 1
		}
		clear(q)
		q[to] = total
		return
	}
}
