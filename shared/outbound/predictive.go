package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/predictive"
)

// Predictive pacing (mode "predictive"): shared/predictive decides how many calls to start ahead
// of the agents; this file reads what it decides from and keeps what it learns.
//
// What it reads, every predictiveRefresh: the campaign's abandonment ledger (one item per hour,
// campaignstore.Abandonment) and its estimator (one item, campaignstore.PacingState). At every
// decision: the agents available (GetCurrentMetricData), the agents on the campaign's calls
// (the inflight index's agent partition, each since the agent took the call), the calls not
// with an agent yet (each since its dial), the caps and the rate.
//
// What it writes: at every settled call, its answer and abandonment to the ledger (the rule set's
// weights, atomic ADDs); at every finished call, its observation to the estimator (a versioned
// write): a call an agent took is observed at its COMPLETED event, which carries the
// after-contact work.
const predictiveRefresh = 5 * time.Second

// predictiveRun is a predictive campaign's controller during a tick.
type predictiveRun struct {
	est      *predictive.Estimator
	budget   predictive.Budget
	readAt   time.Time
	cfg      predictive.Config
	windows  []predictive.Window
	decision predictive.Decision
	allow    predictive.Allowance
}

// predictiveConfig is the controller's configuration under a campaign's rule set.
func predictiveConfig(rules dialer.RuleSet) predictive.Config {
	c := predictive.DefaultConfig()
	c.Target, c.ConnectThreshold = rules.Ceiling, rules.Threshold
	return c
}

// newEstimator is a campaign's estimator before its first call.
func newEstimator() *predictive.Estimator {
	return predictive.NewEstimator(predictive.DefaultPrior, predictive.DefaultRateMemory, predictive.DefaultTimeMemory)
}

// loadPredictive reads the campaign's ledger and estimator (again, after predictiveRefresh).
func (d *Dialer) loadPredictive(ctx context.Context, r *run, now time.Time) error {
	if r.pred != nil && now.Sub(r.pred.readAt) < predictiveRefresh {
		return nil
	}
	if r.pred == nil {
		start := r.plan.Start
		if start.IsZero() {
			start = r.c.CreatedAt
		}
		r.pred = &predictiveRun{cfg: predictiveConfig(r.plan.Rules), windows: predictive.DefaultWindows(start)}
	}
	raw, _, err := d.cfg.Store.PacingState(ctx, r.c.ID)
	if err != nil {
		return err
	}
	est := newEstimator()
	if raw != nil {
		if err := json.Unmarshal(raw, est); err != nil {
			return fmt.Errorf("pacing state of campaign %s: %w", r.c.ID, err)
		}
	}
	hours, err := d.cfg.Store.Abandonment(ctx, r.c.ID, now.Add(-predictive.DefaultRetention))
	if err != nil {
		return err
	}
	r.pred.est, r.pred.budget, r.pred.readAt = est, budgetOf(hours), now
	return nil
}

// budgetOf turns the ledger's hours (thousandths of a call) into the controller's budget, erring
// on the side of abandonment: answers rounded down, abandoned calls up.
func budgetOf(hours []campaignstore.HourCount) predictive.Budget {
	var b predictive.Budget
	for _, h := range hours {
		b.Buckets = append(b.Buckets, predictive.Bucket{Hour: h.Hour, Answered: int(h.AnsweredMilli / 1000), Abandoned: int((h.AbandonedMilli + 999) / 1000)})
	}
	return b
}

// predictiveWant is how many calls a predictive campaign may start now, within maxStart.
func (d *Dialer) predictiveWant(ctx context.Context, r *run, now time.Time, maxStart int, fl []campaignstore.InFlightEntry) (int, error) {
	if err := d.loadPredictive(ctx, r, now); err != nil {
		return 0, err
	}
	p := r.pred
	n, known := r.agents.Count()
	s := predictive.State{Now: now, AgentsKnown: known, Available: n, MaxStart: max(0, maxStart), Estimates: p.est.Estimates()}
	for _, f := range fl {
		if f.WithAgent {
			s.Busy = append(s.Busy, predictive.Busy{Since: f.Since})
		} else {
			s.Waiting = append(s.Waiting, predictive.Call{PlacedAt: f.Since})
		}
	}
	// Agents in after-contact work (GetCurrentMetricData's count): the campaign's own calls that
	// ended lately, newest first, wrap up from when each was seen ending; any others (another
	// campaign's, or one the dialer missed) count as wrapping up from now, so that they free late
	// in the forecast rather than early.
	for i := 0; i < r.agentsACW; i++ {
		b := predictive.Busy{Since: now, WrapUpSince: now}
		if j := len(r.wrapping) - 1 - i; j >= 0 {
			b = predictive.Busy{Since: r.wrapping[j].since, WrapUpSince: r.wrapping[j].at}
		}
		s.Busy = append(s.Busy, b)
	}
	p.allow = p.budget.Remaining(now, p.cfg.Target, p.windows)
	s.Allowance = p.allow
	p.decision = predictive.Decide(s, p.cfg)
	r.pacingNote = "predictive: " + p.decision.Reason
	r.budgetNote = allowanceNote(p.allow)
	return p.decision.Calls, nil
}

// allowanceNote says how many more abandoned calls each window allows, for the audit trail.
func allowanceNote(a predictive.Allowance) string {
	var parts []string
	for _, w := range a.Windows {
		parts = append(parts, fmt.Sprintf("%s: %d more (%.2f %% of %d)", w.Window.Name, w.Allowed, 100*w.Rate, w.Answered))
	}
	return strings.Join(parts, "; ")
}

// noteAbandonment adds a settled call to the campaign's abandonment ledger and counters, as its
// rule set counts it (weights): every campaign's counters, and a predictive campaign's ledger.
func (d *Dialer) noteAbandonment(ctx context.Context, r *run, answeredAt time.Time, answered, abandoned float64) {
	if answered == 0 && abandoned == 0 {
		return
	}
	am, bm := int64(answered*1000+0.5), int64(abandoned*1000+0.5)
	// Counters are integers: thousandths of a call, so that a machine detection's 0.1 counts.
	d.count(ctx, r.c.ID, "answered_by_person_milli", am)
	if bm > 0 {
		d.count(ctx, r.c.ID, "abandoned_rule_milli", bm)
	}
	if r.plan.Mode != modePredictive {
		return
	}
	if err := d.cfg.Store.AddAbandonment(context.WithoutCancel(ctx), r.c.ID, answeredAt, am, bm); err != nil {
		// The ledger missing a call would understate the rate: retried by the event's
		// redelivery (the settle is not redone, so log it loudly).
		r.log.Error("abandonment ledger: a settled call is not counted", "error", err.Error())
	}
}

// observe adds one finished call to a predictive campaign's estimator (a versioned write, tried
// again when another writer got there first).
func (d *Dialer) observe(ctx context.Context, r *run, rec predictive.CallRecord) {
	if r.plan.Mode != modePredictive {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for try := 0; try < 5; try++ {
		raw, version, err := d.cfg.Store.PacingState(ctx, r.c.ID)
		if err != nil {
			r.log.Warn("estimator: read", "error", err.Error())
			return
		}
		est := newEstimator()
		if raw != nil {
			if err := json.Unmarshal(raw, est); err != nil {
				r.log.Error("estimator: stored state unreadable; starting again", "error", err.Error())
				est = newEstimator()
			}
		}
		est.Observe(rec)
		b, err := json.Marshal(est)
		if err != nil {
			return
		}
		err = d.cfg.Store.SavePacingState(ctx, r.c.ID, version, b)
		if !errors.Is(err, campaignstore.ErrConflict) {
			if err != nil {
				r.log.Warn("estimator: write", "error", err.Error())
			}
			return
		}
	}
}

// callRecord is what the estimator learns from a finished contact (DescribeContact's record, or
// a COMPLETED event's): who answered and when, and for a call an agent took, its talk and
// after-contact work.
func callRecord(initiated, connected, agent, disconnected *time.Time, acw time.Duration, machine bool, abandoned bool) predictive.CallRecord {
	rec := predictive.CallRecord{Abandoned: abandoned}
	switch {
	case connected == nil:
		rec.Answer = predictive.NotAnswered
		if initiated != nil && disconnected != nil {
			rec.TimeToAnswer = disconnected.Sub(*initiated)
		}
		return rec
	case machine:
		rec.Answer = predictive.Machine
	default:
		rec.Answer = predictive.Person
	}
	if initiated != nil {
		rec.TimeToAnswer = connected.Sub(*initiated)
	}
	if agent != nil && disconnected != nil {
		rec.AgentTook, rec.Talk, rec.AfterWork = true, disconnected.Sub(*agent), acw
	}
	return rec
}

// describedRecord is callRecord of a DescribeContact answer.
func describedRecord(ct *types.Contact, rep *dialer.Report, machine, abandoned bool, acw time.Duration) predictive.CallRecord {
	return callRecord(ct.InitiationTimestamp, rep.ConnectedToSystem, rep.ConnectedToAgent, ct.DisconnectTimestamp, acw, machine, abandoned)
}
