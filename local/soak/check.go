package soak

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// check is the end of one campaign: every recipient final with a reason, at most one call per
// attempt (from connectsim's own record of contacts), every call preceded by its own do-not-call
// lookup that said "not listed", no lookup after an acknowledged opt-out that missed it, and
// every contact-flow invocation so far answered within its budget.
func (r *Rig) check(ctx context.Context, c campaignstore.Campaign) []string {
	var problems []string
	byPhone := map[string]recip{}
	err := r.store.Recipients(ctx, c.ID, c.Shards, func(rec campaignstore.Recipient) error {
		if !rec.State.Final() || rec.Reason == "" {
			problems = append(problems, fmt.Sprintf("%s/%s ended %s (%q): not a final state with a reason", c.ID, rec.RecipientID, rec.State, rec.Reason))
		}
		byPhone[rec.Phone] = recip{rec.RecipientID, rec.Attempt, rec.Shard}
		r.mu.Lock()
		r.stats.States[string(rec.State)]++
		r.mu.Unlock()
		return nil
	})
	if err != nil {
		return append(problems, fmt.Sprintf("%s: read the recipients: %v", c.ID, err))
	}
	if len(byPhone) != r.cfg.Recipients {
		problems = append(problems, fmt.Sprintf("%s: %d recipients in the store, %d launched", c.ID, len(byPhone), r.cfg.Recipients))
	}

	problems = append(problems, r.callProblems(c.ID, byPhone)...)
	return append(problems, r.flowProblems(false)...)
}

// callProblems checks the calls and lookups of a campaign's numbers.
func (r *Rig) callProblems(campaignID string, byPhone map[string]recip) []string {
	var problems []string
	calls := map[string][]connectsim.ContactView{}
	for _, ct := range r.sim.Contacts() {
		if _, ours := byPhone[ct.CustomerNumber]; ours && ct.InitiationMethod == "API" {
			calls[ct.CustomerNumber] = append(calls[ct.CustomerNumber], ct)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Campaigns++
	r.stats.Recipients += len(byPhone)
	for phone, cts := range calls {
		rec := byPhone[phone]
		r.stats.Calls += len(cts)
		r.stats.CallsByPartition[fmt.Sprint(rec.shard%r.cfg.executions())] += len(cts)
		// Each attempt has its ClientToken (dialer.ClientToken): a contact with a token of no
		// attempt, or two contacts with one token, is a call the dialer should not have made.
		attempts := map[string]int{}
		for k := 1; k <= rec.attempt; k++ {
			attempts[dialer.ClientToken(campaignID, rec.id, k)] = k
		}
		perToken := map[string]int{}
		for _, ct := range cts {
			k, ok := attempts[ct.ClientToken]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s/%s: contact %s is no attempt's call (%d attempts)", campaignID, rec.id, ct.ID, rec.attempt))
				continue
			}
			if perToken[ct.ClientToken]++; perToken[ct.ClientToken] == 2 {
				problems = append(problems, fmt.Sprintf("%s/%s: attempt %d called twice", campaignID, rec.id, k))
			}
		}
		problems = append(problems, r.lookupProblems(campaignID, rec.id, phone, cts)...)
	}
	// An opt-out acknowledged is seen by every lookup that starts after it.
	for number := range byPhone {
		at, ok := r.optOuts[number]
		if !ok {
			continue
		}
		for _, l := range r.lookups[number] {
			if l.sent.After(at) && !l.listed {
				problems = append(problems, fmt.Sprintf("%s: a do-not-call lookup of %s sent %v after its opt-out was acknowledged said not listed", campaignID, phone.Mask(number), l.sent.Sub(at).Round(time.Millisecond)))
			}
		}
	}
	return problems
}

// recip is a recipient as the checks need it.
type recip struct {
	id      string
	attempt int
	shard   int
}

// lookupProblems: every call of the number was preceded by a do-not-call lookup, answered after
// the number's previous call, that said "not listed". A call after the number's opt-out was
// acknowledged is a violation unless that lookup was sent before the acknowledgement (the dial
// was already decided: counted as a race). Called with r.mu held.
func (r *Rig) lookupProblems(campaignID, recipientID, phone string, cts []connectsim.ContactView) []string {
	var problems []string
	sort.Slice(cts, func(i, j int) bool { return cts[i].InitiationTimestamp.Before(cts[j].InitiationTimestamp) })
	lookups := slices.Clone(r.lookups[phone])
	sort.Slice(lookups, func(i, j int) bool { return lookups[i].answered.Before(lookups[j].answered) })
	optOutAt, optedOut := r.optOuts[phone]
	var prev time.Time
	for _, ct := range cts {
		var last *lookup
		for i := range lookups {
			if lookups[i].answered.Before(ct.InitiationTimestamp) {
				last = &lookups[i]
			}
		}
		switch {
		case last == nil || !last.answered.After(prev):
			problems = append(problems, fmt.Sprintf("%s/%s: contact %s placed without a do-not-call lookup since the number's previous call", campaignID, recipientID, ct.ID))
		case last.listed:
			problems = append(problems, fmt.Sprintf("%s/%s: contact %s placed after a do-not-call lookup said listed", campaignID, recipientID, ct.ID))
		case optedOut && ct.InitiationTimestamp.After(optOutAt):
			if last.sent.After(optOutAt) {
				problems = append(problems, fmt.Sprintf("%s/%s: contact %s placed after the opt-out, on a lookup sent after it", campaignID, recipientID, ct.ID))
			} else {
				r.stats.OptOutRaces++
			}
		}
		prev = ct.InitiationTimestamp
	}
	return problems
}
