package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"golang.org/x/sync/errgroup"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/pacing"
	"github.com/switchboard-connect/switchboard/shared/recipients"
)

const leaseName = "dialer-tick"

// run is one active campaign during a tick.
type run struct {
	// part is the partition this tick dials for, pacer its pacing.
	part      Partition
	pacer     *pacing.Pacer
	c         campaignstore.Campaign
	plan      *Plan
	log       *slog.Logger
	queue     []campaignstore.RecipientKey
	nextShard int
	agents    pacing.Agents
	agentsACW int // agents in after-contact work (predictive pacing)
	agentsAt  time.Time
	// flight is the campaign's calls in flight at the last read, with those placed since.
	flight []campaignstore.InFlightEntry
	// wrapping are the campaign's agent calls that left the inflight index lately: their agents
	// are wrapping up, from about when each was seen gone (predictive pacing).
	wrapping []wrapUp
	// pred is a predictive campaign's controller.
	pred    *predictiveRun
	live    int
	ringing int
	liveAt  time.Time
	// dialing counts the campaign's dials under way in this tick, pending lists them: each may
	// become a call, so they stand against the caps (and the agents) as calls would.
	dialing int
	pending []campaignstore.InFlightEntry
	// full is true when the live calls and dials filled the campaign's cap at the last look.
	full bool
	// checkedAt is when c was last read from the store (see CampaignFreshness).
	checkedAt time.Time
	// ledger is the contact ledger the gate read for the recipient being dialled.
	ledger campaignstore.Ledger
	// pacingNote and budgetNote say how the campaign was paced and how much abandonment its rule
	// set still allowed at the last look (for the audit trail).
	pacingNote, budgetNote string
}

// fresh reads the campaign again when the run's copy is older than CampaignFreshness: a new
// version (a status change, an update of its windows, pacing, retries or end) replaces the
// copy and the plan, and a campaign no longer running dials nothing more.
func (d *Dialer) fresh(ctx context.Context, r *run) error {
	now := d.cfg.Clock.Now()
	if !r.checkedAt.IsZero() && now.Sub(r.checkedAt) < CampaignFreshness {
		return nil
	}
	c, err := d.cfg.Store.Campaign(ctx, r.c.ID)
	if err != nil {
		return err
	}
	r.checkedAt = now
	if c.Version != r.c.Version {
		plan, err := d.storedPlan(c.Definition)
		if err != nil {
			return err
		}
		if c.Status != r.c.Status || !slices.Equal(c.Definition, r.c.Definition) {
			r.log.Info("campaign changed during the tick", "status", c.Status, "version", c.Version)
		}
		r.c, r.plan = c, plan
	}
	if r.c.Status != campaignstore.StatusRunning {
		r.queue = nil
	}
	return nil
}

// liveRefresh is how often a tick re-reads a campaign's live calls from the inflight index;
// fullRefresh how often while they fill its cap (a call that ended frees a slot only once it is
// read gone, and short calls at a high rate free several a second).
const (
	liveRefresh = 3 * time.Second
	fullRefresh = 500 * time.Millisecond
)

// Tick runs one scheduler tick: take the lease (or leave it to the dialer that holds it), move
// every active campaign along (import, stop and end sweeps, the watchdog), then dial at the paced
// rate until the tick's budget is spent or nothing is due.
func (d *Dialer) Tick(ctx context.Context, scheduled time.Time) error {
	return d.TickPartition(ctx, scheduled, Partition{})
}

// TickPartition runs one partition's tick (Partition): its lease, its shards, its share.
func (d *Dialer) TickPartition(ctx context.Context, scheduled time.Time, part Partition) error {
	part = part.norm()
	ps, err := d.partition(part)
	if err != nil {
		return &refusal{reason: "bad-partition", msg: err.Error()}
	}
	now := d.cfg.Clock.Now()
	// The previous tick dials until just before this one was due and then releases the lease:
	// wait a few seconds for it rather than skip a minute.
	var held bool
	for wait := time.Duration(0); ; wait += leaseWaitStep {
		var err error
		if held, err = d.cfg.Store.AcquireLease(ctx, part.lease(), d.cfg.Owner, now, d.cfg.LeaseTTL); err != nil {
			return err
		}
		if held || wait >= leaseWait {
			break
		}
		if err := d.cfg.Clock.Sleep(ctx, leaseWaitStep); err != nil {
			return err
		}
		now = d.cfg.Clock.Now()
	}
	if !held {
		d.log.Info("tick skipped: another dialer holds the lease", "scheduled_time", scheduled, "partition", part.String())
		return nil
	}
	if !ps.drained {
		// A new execution environment cannot know how much of the account's burst the previous
		// holder of the lease spent: it starts with no tokens, and earns them at the rate.
		ps.pacer.Drain(now)
		ps.drained = true
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := d.cfg.Store.ReleaseLease(rctx, part.lease(), d.cfg.Owner); err != nil {
			d.log.Warn("lease release", "error", err.Error())
		}
	}()
	ids, err := d.cfg.Store.ActiveCampaigns(ctx)
	if err != nil {
		return err
	}
	deadline := now.Add(d.cfg.TickBudget)
	if !scheduled.IsZero() {
		// Never into the next tick's minute: dial until a second before it is due.
		if next := scheduled.Add(TickInterval - time.Second); next.Before(deadline) {
			deadline = next
		}
	}
	// The campaigns' upkeep (sweeps, the watchdog, audits) stops by the middle of the tick and
	// goes on at the next one: the rest of the tick is for dialling.
	upkeepBy := now.Add(deadline.Sub(now) / 2)
	var runs []*run
	for _, id := range ids {
		c, err := d.cfg.Store.Campaign(ctx, id)
		if err != nil {
			d.log.Error("tick: read campaign", "campaign_id", id, "error", err.Error())
			continue
		}
		plan, err := d.storedPlan(c.Definition)
		if err != nil {
			d.log.Error("tick: stored campaign no longer valid", "campaign_id", id, "error", err.Error())
			continue
		}
		if part.Index != 0 && plan.expectsAgent() {
			continue // an agent-paced campaign is partition 0's alone: its agents are one pool
		}
		log := d.log.With("campaign_id", id)
		if part.Of > 1 {
			log = log.With("partition", part.String())
		}
		rp := part
		if plan.expectsAgent() {
			rp = Partition{0, 1} // every shard of it, in partition 0
		}
		r := &run{part: rp, pacer: ps.pacer, c: c, plan: plan, log: log, checkedAt: d.cfg.Clock.Now()}
		if err := d.maintain(ctx, r, upkeepBy); err != nil {
			r.log.Error("tick: campaign upkeep", "error", err.Error())
		}
		if r.c.Status.Active() {
			// Paused and stopping campaigns join with nothing to dial: their live calls still
			// hold part of the instance's cap.
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return nil
	}
	return d.dialLoop(ctx, part.lease(), ps.pacer, runs, deadline, now)
}

// TickInterval is the schedule's period (infra/dialer.go: rate(1 minute)).
const TickInterval = time.Minute

// How long a tick waits for the previous one's lease, and how often it looks.
const (
	leaseWait     = 5 * time.Second
	leaseWaitStep = 500 * time.Millisecond
)

// maintain moves one campaign along outside dialling; what is left at by waits for the next tick.
func (d *Dialer) maintain(ctx context.Context, r *run, by time.Time) error {
	now := d.cfg.Clock.Now()
	if r.part.Index == 0 && r.plan.Def.RecipientsObject != nil && !r.c.ImportDone && r.c.Status != campaignstore.StatusStopping {
		if err := d.importStep(ctx, r, by); err != nil {
			r.log.Error("recipients import", "error", err.Error())
		}
	}
	ending := ""
	final := dialer.StateCancelled
	switch {
	case r.c.Status == campaignstore.StatusStopping:
		ending = "campaign stopped: " + r.c.Reason
	case !r.plan.End.IsZero() && !now.Before(r.plan.End):
		ending, final = "campaign ended before the recipient was reached", dialer.StateExpired
	}
	if ending != "" {
		return d.sweep(ctx, r, final, ending, by)
	}
	if err := d.watchdog(ctx, r, by); err != nil {
		return err
	}
	if r.part.Index == 0 && r.c.Status == campaignstore.StatusRunning && r.c.ImportDone {
		open, err := d.quiet(ctx, r, now)
		if err != nil {
			return err
		}
		if !open {
			if done, err := d.audit(ctx, r, now, "", "", by); err != nil || !done {
				return err
			}
			if _, err := d.cfg.Store.SetStatus(ctx, r.c.ID, r.c.Version, campaignstore.StatusFinished, "every recipient reached a final state", now, false); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
				return err
			}
			r.c.Status = campaignstore.StatusFinished
			r.log.Info("campaign finished")
		}
	}
	return nil
}

// quiet reports open=false only when a previous look, at least Config.QuietFor ago, also found nothing
// waiting or in flight: the due and inflight indexes are eventually consistent, and a campaign
// that ended on one stale look would leave a recipient waiting for ever.
func (d *Dialer) quiet(ctx context.Context, r *run, now time.Time) (open bool, err error) {
	open, err = d.cfg.Store.Unsettled(ctx, r.c.ID, r.c.Shards)
	if err != nil {
		return true, err
	}
	if open {
		if !r.c.QuietAt.IsZero() {
			return true, d.cfg.Store.SetQuiet(ctx, r.c.ID, false, now)
		}
		return true, nil
	}
	if r.c.QuietAt.IsZero() {
		return true, d.cfg.Store.SetQuiet(ctx, r.c.ID, true, now)
	}
	return now.Sub(r.c.QuietAt) < d.cfg.QuietFor, nil
}

// auditPagesPerTick bounds the pages (up to 1 MB each) one tick's audit reads; a campaign too
// large for it is audited over several ticks from a checkpoint.
const auditPagesPerTick = 500

// audit is the last look before a quiet campaign ends: a consistent walk of its recipients in the
// table (campaignstore.Store.Audit), resumed from the campaign's checkpoint. The indexes that
// found the campaign quiet can miss a recipient (they are eventually consistent, and dynalite's
// can lose an entry); the walk cannot. An open recipient it finds is put back into its index
// (re-indexed) and the campaign is no longer quiet; while sweeping (final set), a waiting one is
// moved to final at once instead. done is true when the walk is complete and found nothing open.
func (d *Dialer) audit(ctx context.Context, r *run, now time.Time, final dialer.State, reason string, by time.Time) (done bool, err error) {
	pages := 0
	more := func() bool {
		pages++
		return pages <= auditPagesPerTick && !d.past(ctx, by)
	}
	reopened, moved := 0, 0
	cur, walked, err := d.cfg.Store.Audit(ctx, r.c.ID, r.c.Shards, r.c.Audit, more, func(rec campaignstore.Recipient) error {
		if final != "" && rec.State.Due() {
			_, err := d.cfg.Store.Apply(ctx, rec.RecipientKey, r.c.Shards, campaignstore.Change{From: rec.State, FromAttempt: rec.Attempt, To: final, At: now, Reason: reason, Attempt: rec.Attempt})
			if err == nil {
				moved++
				return nil
			}
			if !errors.Is(err, campaignstore.ErrConflict) {
				return err
			}
		} else if err := d.cfg.Store.Reindex(ctx, rec, now); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
			return err
		}
		// Re-indexed, or it moved meanwhile: either way the campaign is not over.
		reopened++
		r.log.Warn("audit: an open recipient was missing from the indexes; put back", "recipient_id", rec.RecipientID, "state", string(rec.State))
		return nil
	})
	if moved > 0 {
		d.count(ctx, r.c.ID, string(final), int64(moved))
	}
	if err != nil {
		return false, err
	}
	if reopened > 0 {
		d.count(ctx, r.c.ID, "reindexed", int64(reopened))
		return false, d.cfg.Store.SetQuiet(ctx, r.c.ID, false, now)
	}
	if !walked {
		return false, d.cfg.Store.SaveAudit(ctx, r.c.ID, cur)
	}
	return true, nil
}

// importStep imports the next rows of the campaign's CSV object: at most ImportRowsPerTick, and
// no chunk begun after by.
func (d *Dialer) importStep(ctx context.Context, r *run, by time.Time) error {
	obj := r.plan.Def.RecipientsObject
	// The version pinned at the launch, so that the checkpoint's offset and row numbers mean the
	// same rows to every step (a campaign launched before pins has none: it reads the current one).
	im := &recipients.Importer{S3: d.cfg.S3, Bucket: obj.Bucket, Key: obj.Key, Version: recipients.ObjectVersion{VersionID: obj.VersionID, ETag: obj.ETag},
		More: func() bool { return !d.past(ctx, by) }}
	cp := recipients.Checkpoint{Offset: r.c.ImportOffset, Rows: r.c.ImportRow}
	prog, err := im.Run(ctx, cp, d.cfg.ImportRowsPerTick, d.sink(r.c, r.plan), func(next recipients.Checkpoint) error {
		if err := d.cfg.Store.Checkpoint(ctx, r.c.ID, cp.Offset, next.Offset, next.Rows, next.Done); err != nil {
			return err
		}
		cp = next
		return nil
	})
	var stop *recipients.ImportError
	if errors.As(err, &stop) {
		// The object cannot be read past this row: keep why in the report, and let the campaign
		// dial the rows before it.
		why := stop.Reason + ": the import stopped here; this row and the rows after it were not imported"
		if stop.Row == 0 {
			why = stop.Reason + ": nothing was imported"
		}
		if rerr := d.cfg.Store.AddReportEntry(ctx, campaignstore.ReportEntry{
			CampaignID: r.c.ID, Row: stop.Row, Reason: why, At: d.cfg.Clock.Now(),
		}); rerr != nil {
			return rerr
		}
		if cerr := d.cfg.Store.Checkpoint(ctx, r.c.ID, cp.Offset, cp.Offset, cp.Rows, true); cerr != nil {
			return cerr
		}
		r.c.ImportDone = true
		r.log.Error("recipients import stopped", "row", stop.Row, "reason", stop.Reason)
		return nil
	}
	r.c.ImportOffset, r.c.ImportRow, r.c.ImportDone = cp.Offset, cp.Rows, cp.Done
	r.log.Info("recipients import", "rows_read", prog.Read, "rows_total", cp.Rows, "done", cp.Done, "duplicates", prog.Duplicates, "merged", prog.Merged, "problems", prog.Problems)
	return err
}

// sweep moves a stopping or ended campaign's recipients to their final state: calls in progress
// are ended first with StopContact when the stop asked for it, waiting recipients are moved at
// once, calls in progress when they end. It stops at by and goes on at the next tick: the due
// index lists only the recipients still waiting, so it is the sweep's own checkpoint, and the
// campaign ends only once a sweep found nobody waiting and its audit walked every recipient.
func (d *Dialer) sweep(ctx context.Context, r *run, final dialer.State, reason string, by time.Time) error {
	now := d.cfg.Clock.Now()
	if r.c.Status == campaignstore.StatusStopping && r.c.EndActiveCalls {
		if err := d.endActiveCalls(ctx, r, by); err != nil {
			return err
		}
	}
	moved, done, err := d.sweepWaiting(ctx, r, final, reason, now, by)
	if moved > 0 {
		d.count(ctx, r.c.ID, string(final), int64(moved))
	}
	if err != nil {
		return err
	}
	if !done {
		r.log.Info("sweep goes on at the next tick", "swept", moved)
		return nil
	}
	if err := d.watchdog(ctx, r, by); err != nil {
		return err
	}
	if r.part.Index != 0 {
		return nil // partition 0 ends the campaign, once every shard is swept
	}
	open, err := d.quiet(ctx, r, now)
	if err != nil || open {
		return err
	}
	if done, err := d.audit(ctx, r, now, final, reason, by); err != nil || !done {
		return err
	}
	to := campaignstore.StatusStopped
	if r.c.Status != campaignstore.StatusStopping {
		to = campaignstore.StatusFinished
	}
	if _, err := d.cfg.Store.SetStatus(ctx, r.c.ID, r.c.Version, to, reason, now, r.c.EndActiveCalls); err != nil && !errors.Is(err, campaignstore.ErrConflict) {
		return err
	}
	r.c.Status = to
	r.log.Info("campaign ended", "status", to, "swept", moved)
	return nil
}

// sweepPage is how many waiting recipients a sweep reads from a shard's due index at a time.
const sweepPage = 100

// sweepWaiting moves the campaign's waiting recipients to final, Config.DialConcurrency at once,
// until none is left (done) or by is reached.
func (d *Dialer) sweepWaiting(ctx context.Context, r *run, final dialer.State, reason string, now, by time.Time) (moved int, done bool, err error) {
	never := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	var n atomic.Int64
	for shard := 0; shard < r.c.Shards; shard++ {
		if !r.part.owns(shard) {
			continue
		}
		for {
			if d.past(ctx, by) {
				return int(n.Load()), false, nil
			}
			keys, err := d.cfg.Store.Due(ctx, r.c.ID, shard, r.c.Shards, never, sweepPage)
			if err != nil {
				return int(n.Load()), false, err
			}
			var progress atomic.Bool
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(d.cfg.DialConcurrency)
			for _, k := range keys {
				g.Go(func() error {
					rec, err := d.cfg.Store.Recipient(gctx, k, r.c.Shards)
					if err != nil {
						return err
					}
					if !rec.State.Due() {
						return nil // a stale index entry: the recipient moved on
					}
					_, err = d.cfg.Store.Apply(gctx, k, r.c.Shards, campaignstore.Change{From: rec.State, FromAttempt: rec.Attempt, To: final, At: now, Reason: reason, Attempt: rec.Attempt})
					switch {
					case err == nil:
						n.Add(1)
					case !errors.Is(err, campaignstore.ErrConflict):
						return err
					}
					progress.Store(true)
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				return int(n.Load()), false, err
			}
			if len(keys) < sweepPage || !progress.Load() {
				break
			}
		}
	}
	return int(n.Load()), true, nil
}

// endActiveCalls ends the calls in progress of a campaign stopped with endActiveCalls, a few at
// once, until by (the calls still listed are ended at the next tick's sweep).
func (d *Dialer) endActiveCalls(ctx context.Context, r *run, by time.Time) error {
	fl, err := d.inFlight(ctx, r)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(connectConcurrency)
	for _, f := range fl {
		if d.past(ctx, by) {
			break
		}
		g.Go(func() error {
			rec, err := d.cfg.Store.Recipient(gctx, f.Key, r.c.Shards)
			if err != nil {
				return err
			}
			if rec.ContactID != "" {
				if _, err := d.stopContact(gctx, r.plan, rec.ContactID); err != nil {
					r.log.Warn("stop call of a stopped campaign", "contact_id", rec.ContactID, "error", err.Error())
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// connectConcurrency is how many Connect requests of the watchdog or a stop sweep are under way
// at once (their rate is the SDK's retryer's and the watchdog's own budget).
const connectConcurrency = 8

// past reports whether upkeep due by must stop: by is reached, the context ended, or the Lambda's
// own deadline is near.
func (d *Dialer) past(ctx context.Context, by time.Time) bool {
	return !d.cfg.Clock.Now().Before(by) || ctx.Err() != nil || realDeadlineNear(ctx)
}

// dialJob is one granted dial, considered by its own goroutine: it works on a copy of its run
// (w), and its result is applied to the run by the dial loop alone.
type dialJob struct {
	r   *run
	k   campaignstore.RecipientKey
	at  time.Time
	res dialed
	err error
}

// dialLoop dials for the running campaigns until the budget is spent or nothing is due. Up to
// Config.DialConcurrency dials are under way at once, each on its own goroutine: a dial is a few
// DynamoDB round trips and one StartOutboundVoiceContact, and one after another they reach a few
// calls a second whatever the quota (docs/performance.md, "Dialling at real latency"). The loop
// alone reads and changes the runs; a dial works on a copy of its run and sends back what became
// of it. The loop never sleeps while a dial is under way: it waits for one to end instead (on a
// simulated clock, time moves only while nothing is being dialled).
func (d *Dialer) dialLoop(ctx context.Context, lease string, pacer *pacing.Pacer, runs []*run, deadline, leaseAt time.Time) error {
	results := make(chan *dialJob, d.cfg.DialConcurrency)
	under := 0 // dials under way
	// hold: a refusal (throttled, or the instance's calls all taken) holds new dials until the
	// next wait; throttled says the refusal was the rate's.
	hold, throttled, progress := false, false, false
	apply := func(j *dialJob) {
		under--
		r := j.r
		r.dialing--
		r.pending = slices.DeleteFunc(r.pending, func(f campaignstore.InFlightEntry) bool { return f.Key == j.k })
		if j.err != nil {
			r.log.Warn("dial", "recipient_id", j.k.RecipientID, "error", j.err.Error())
		}
		now := d.cfg.Clock.Now()
		if !j.res.sent {
			// Dial tokens are for dials: a recipient deferred or finished without one gives its
			// tokens back.
			pacer.Return(now, 1)
			if b := d.campaignRate(r); b != nil {
				b.Return(now, 1)
			}
		}
		if j.res.paused {
			r.c.Status = campaignstore.StatusPaused
			r.queue = nil
		}
		if j.res.moved || j.res.placed {
			progress = true
		}
		if j.res.placed {
			r.live++
			r.ringing++
			r.flight = append(r.flight, campaignstore.InFlightEntry{Key: j.k, Since: j.at})
		}
		hold = hold || j.res.refused
		throttled = throttled || j.res.throttled
	}
	defer func() {
		// The tick ends when its dials have: each records what it did.
		for under > 0 {
			apply(<-results)
		}
	}()
	for {
		for drained := false; !drained; {
			select {
			case j := <-results:
				apply(j)
			default:
				drained = true
			}
		}
		now := d.cfg.Clock.Now()
		if !now.Before(deadline) || ctx.Err() != nil || realDeadlineNear(ctx) {
			return nil
		}
		if now.Sub(leaseAt) > d.cfg.LeaseTTL/3 {
			held, err := d.cfg.Store.AcquireLease(ctx, lease, d.cfg.Owner, now, d.cfg.LeaseTTL)
			switch {
			case err != nil && now.Sub(leaseAt) < d.cfg.LeaseTTL*2/3:
				// The lease taken at leaseAt still holds for a third of its time at least: one
				// failed renewal (a throttle or a 5xx past the SDK's retries) does not end the
				// tick; the next turn of the loop tries again.
				d.log.Warn("tick lease renewal failed; the lease still holds", "error", err.Error())
			case err != nil:
				return err
			case !held:
				d.log.Warn("tick lease lost: another dialer took over")
				return nil
			default:
				leaseAt = now
			}
		}
		dispatched := 0
		capBound := false
		if !hold {
			demands := make([]pacing.Demand, 0, len(runs))
			anyDue := false
			free := d.cfg.DialConcurrency - under
			for _, r := range runs {
				if err := d.fresh(ctx, r); err != nil {
					r.log.Warn("campaign read", "error", err.Error())
				}
				want, bound, err := d.want(ctx, r, now)
				if err != nil {
					r.log.Warn("pacing inputs", "error", err.Error())
				}
				capBound = capBound || bound
				anyDue = anyDue || len(r.queue) > 0
				demands = append(demands, pacing.Demand{ID: r.c.ID, Weight: r.plan.Weight, Want: min(want, free), Live: r.live + r.dialing, MaxLive: max(r.maxLive(), 1)})
			}
			if !anyDue && under == 0 && !progress {
				return nil // nothing is due: the next tick looks again
			}
			grants, err := pacer.Plan(now, demands)
			if err != nil {
				return err
			}
			for i, r := range runs {
				for g := 0; g < grants[i]; g++ {
					if len(r.queue) == 0 || under >= d.cfg.DialConcurrency {
						pacer.Return(now, 1) // granted beyond what can be dialled now
						continue
					}
					k := r.queue[0]
					r.queue = r.queue[1:]
					if b := d.campaignRate(r); b != nil {
						b.Take(now, 1)
					}
					r.dialing++
					r.pending = append(r.pending, campaignstore.InFlightEntry{Key: k, Since: now})
					under++
					dispatched++
					w := *r // the dial's own copy: the loop goes on changing r
					go func(j *dialJob) {
						j.res, j.err = d.dialOne(ctx, &w, j.k)
						j.at = d.cfg.Clock.Now()
						results <- j
					}(&dialJob{r: r, k: k})
				}
			}
		}
		if dispatched > 0 {
			continue
		}
		if under > 0 {
			apply(<-results) // a dial ending may free room, tokens or a recipient
			continue
		}
		if progress && !hold {
			// A round that moved recipients (deferred or finished them without a call, or
			// placed calls) looks again at once: its tokens came back.
			progress = false
			continue
		}
		// Nothing moved: wait for the next token. When a campaign's calls fill its cap, look
		// again (and read its calls again) in 0.5 s: a slot frees only when a call is read gone,
		// and with short calls at a high rate several free each second (a read is a query per
		// shard of the keys-only inflight index). When a campaign waits for its agents, in 1 s:
		// an agent who frees idles until the next look, and their count is read once a second.
		// After a refusal, in 3 s; after a throttle the pacer has slowed down (AIMD): wait for
		// its next token. A round that found only stale index entries waits too.
		wait := pacer.NextToken(now).Sub(now)
		switch {
		case throttled:
			wait = max(wait, 100*time.Millisecond)
		case capBound || hold || wait <= 0:
			wait = 3 * time.Second
			switch {
			case hold:
			case anyFull(runs):
				wait = fullRefresh
			case agentPaced(runs):
				wait = time.Second
			}
		}
		if wait > 5*time.Second {
			wait = 5 * time.Second
		}
		hold, throttled, progress = false, false, false
		if err := d.cfg.Clock.Sleep(ctx, wait); err != nil {
			return nil
		}
	}
}

// realDeadlineNear is true when the Lambda's own deadline (real time) is less than 10 s away.
func realDeadlineNear(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < 10*time.Second
}

// want fills the campaign's queue of due recipients and says how many calls it could start:
// at most its own cap less its live calls, its own rate, and in progressive mode its agents'
// headroom. bound reports a limit other than the queue.
func (d *Dialer) want(ctx context.Context, r *run, now time.Time) (int, bool, error) {
	// The live calls are read from the inflight index every few seconds, and counted up locally
	// for each call placed in between (calls that end meanwhile are subtracted at the next read:
	// between reads the count can only be too high, never too low).
	full := r.maxLive()-r.live-r.dialing <= 0
	if r.liveAt.IsZero() || now.Sub(r.liveAt) >= liveRefresh || (full && now.Sub(r.liveAt) >= fullRefresh) {
		fl, err := d.inFlight(ctx, r)
		if err != nil {
			return 0, false, err
		}
		// A dial under way may already be in the index (as dialing): it is counted once, as a dial.
		fl = slices.DeleteFunc(fl, func(f campaignstore.InFlightEntry) bool {
			return slices.ContainsFunc(r.pending, func(p campaignstore.InFlightEntry) bool { return p.Key == f.Key })
		})
		r.noteWrapUps(fl, now)
		r.live, r.ringing, r.liveAt, r.flight = len(fl), 0, now, fl
		for _, f := range fl {
			if !f.WithAgent {
				r.ringing++
			}
		}
	}
	if r.c.Status != campaignstore.StatusRunning || now.Before(r.plan.Start) {
		r.queue = nil
		return 0, false, nil
	}
	room := r.maxLive() - r.live - r.dialing
	r.full = room <= 0
	bound := false
	if r.plan.expectsAgent() && now.Sub(r.agentsAt) >= time.Second {
		r.agents, r.agentsACW = d.agents(ctx, r.plan)
		r.agentsAt = now
	}
	if r.plan.Mode == pacing.Progressive {
		// AGENTS_AVAILABLE already leaves out the agents on calls: only the calls no agent has
		// taken yet (dialling, ringing, queued) stand against it.
		h, _ := pacing.Campaign{Mode: r.plan.Mode, AgentRatio: r.plan.AgentsRatio, Agents: r.agents, InFlight: r.ringing + r.dialing}.AgentHeadroom()
		r.pacingNote = fmt.Sprintf("progressive: %s agents available x %.3g, %d ringing or queued: room for %d", r.agents, r.plan.AgentsRatio, r.ringing+r.dialing, h)
		if h < room {
			room, bound = h, true
		}
	}
	if b := d.campaignRate(r); b != nil {
		if a := b.Available(now); a < room {
			room, bound = a, true
		}
	}
	if r.plan.Mode == pacing.Predictive {
		// The instance's rate is shared by the pacer after this; the controller sees the
		// campaign's own room and decides within it.
		n, err := d.predictiveWant(ctx, r, now, room, slices.Concat(r.flight, r.pending))
		if err != nil {
			return 0, true, err
		}
		if n < room {
			room, bound = n, true
		}
	}
	// The queue is filled even when the campaign has no room now: a due recipient keeps the tick
	// going (its calls end and free room), an empty queue ends it.
	// It holds enough for the dials that can start before the next look, not the whole room: a
	// cap of 1,000 calls would otherwise read hundreds of keys at every turn of the loop.
	if target := max(min(room, d.queueTarget()), 1); len(r.queue) < max(target/2, 1) {
		if err := d.fill(ctx, r, now, target); err != nil {
			return 0, bound, err
		}
	}
	if room <= 0 {
		return 0, true, nil
	}
	n := min(room, len(r.queue))
	if n < room && len(r.queue) == 0 {
		bound = false
	}
	return n, bound, nil
}

// queueTarget is how many due recipients a campaign's queue holds at most: twice the dials that
// can be under way at once.
func (d *Dialer) queueTarget() int { return 2 * d.cfg.DialConcurrency }

// fill reads due recipients, shard by shard from where the last read stopped, past those already
// queued or being dialled (the index lists them first until their dial moves them).
func (d *Dialer) fill(ctx context.Context, r *run, now time.Time, need int) error {
	seen := map[string]bool{}
	inShard := map[int]int{}
	for _, k := range slices.Concat(r.queue, keysOf(r.pending)) {
		seen[k.RecipientID] = true
		inShard[k.Shard]++
	}
	for i := 0; i < r.c.Shards && len(r.queue) < need; i++ {
		shard := (r.nextShard + i) % r.c.Shards
		if !r.part.owns(shard) {
			continue
		}
		keys, err := d.cfg.Store.Due(ctx, r.c.ID, shard, r.c.Shards, now, need-len(r.queue)+inShard[shard])
		if err != nil {
			return err
		}
		for _, k := range keys {
			if !seen[k.RecipientID] {
				r.queue = append(r.queue, k)
				seen[k.RecipientID] = true
			}
		}
	}
	r.nextShard = (r.nextShard + 1) % r.c.Shards
	return nil
}

// agents reads AGENTS_AVAILABLE (and AGENTS_AFTER_CONTACT_WORK) for the campaign's queue:
// unknown when Connect has no data, the value is null, or the call fails (a progressive or
// predictive campaign then dials nothing).
func (d *Dialer) agents(ctx context.Context, plan *Plan) (pacing.Agents, int) {
	out, err := d.cfg.Connect.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{
		InstanceId: aws.String(plan.Def.InstanceID),
		Filters: &types.Filters{
			Queues:   []string{plan.Def.QueueID},
			Channels: []types.Channel{types.ChannelVoice},
		},
		CurrentMetrics: []types.CurrentMetric{
			{Name: types.CurrentMetricNameAgentsAvailable, Unit: types.UnitCount},
			{Name: types.CurrentMetricNameAgentsAfterContactWork, Unit: types.UnitCount},
		},
	})
	if err != nil {
		d.log.Warn("agents available unknown", "campaign_id", plan.Def.CampaignID, "error", err.Error())
		return pacing.UnknownAgents, 0
	}
	available, acw := pacing.UnknownAgents, 0
	for _, res := range out.MetricResults {
		for _, col := range res.Collections {
			switch {
			case col.Metric == nil:
			case col.Metric.Name == types.CurrentMetricNameAgentsAvailable:
				available = pacing.AgentsFromMetric(col.Value)
			case col.Metric.Name == types.CurrentMetricNameAgentsAfterContactWork:
				if n, ok := pacing.AgentsFromMetric(col.Value).Count(); ok {
					acw = n
				}
			}
		}
	}
	return available, acw
}

func (d *Dialer) count(ctx context.Context, campaignID, name string, n int64) {
	d.metrics.add(campaignID, name, n)
	if err := d.cfg.Store.Count(ctx, campaignID, map[string]int64{name: n}); err != nil {
		d.log.Warn("campaign counters", "campaign_id", campaignID, "error", err.Error())
	}
}

// anyFull reports whether a running campaign's live calls filled its cap at the last look.
func anyFull(runs []*run) bool {
	return slices.ContainsFunc(runs, func(r *run) bool { return r.c.Status == campaignstore.StatusRunning && r.full })
}

// agentPaced reports whether a running campaign is paced by its agents.
func agentPaced(runs []*run) bool {
	for _, r := range runs {
		if r.c.Status == campaignstore.StatusRunning && r.plan.expectsAgent() {
			return true
		}
	}
	return false
}

// wrapUp is an agent call that ended: its agent took it at since, and was seen wrapping up from
// at (the call left the inflight index between the previous read and this one).
type wrapUp struct{ since, at time.Time }

// wrapUpMemory is how long an ended agent call is remembered as an agent wrapping up: longer than
// any after-contact work the controller expects is cut off by GetCurrentMetricData's count.
const wrapUpMemory = 10 * time.Minute

// noteWrapUps remembers the agent calls of the previous read that are gone from fl, newest last,
// and forgets those older than wrapUpMemory.
func (r *run) noteWrapUps(fl []campaignstore.InFlightEntry, now time.Time) {
	if r.plan.Mode != modePredictive {
		return
	}
	still := make(map[string]bool, len(fl))
	for _, f := range fl {
		still[f.Key.RecipientID] = true
	}
	for _, f := range r.flight {
		if f.WithAgent && !still[f.Key.RecipientID] {
			r.wrapping = append(r.wrapping, wrapUp{since: f.Since, at: now})
		}
	}
	keep := r.wrapping[:0]
	for _, w := range r.wrapping {
		if now.Sub(w.at) < wrapUpMemory {
			keep = append(keep, w)
		}
	}
	r.wrapping = keep
}

// maxLive is the partition's share of the campaign's own cap.
func (r *run) maxLive() int { return pacing.Share(r.plan.MaxConcurrent, r.part.Index, r.part.Of) }

// inFlight lists the campaign's calls in flight in the partition's shards.
func (d *Dialer) inFlight(ctx context.Context, r *run) ([]campaignstore.InFlightEntry, error) {
	fl, err := d.cfg.Store.InFlight(ctx, r.c.ID, r.c.Shards)
	if err != nil || r.part.Of == 1 {
		return fl, err
	}
	return slices.DeleteFunc(fl, func(f campaignstore.InFlightEntry) bool { return !r.part.owns(f.Key.Shard) }), nil
}

func keysOf(fl []campaignstore.InFlightEntry) []campaignstore.RecipientKey {
	out := make([]campaignstore.RecipientKey, len(fl))
	for i, f := range fl {
		out[i] = f.Key
	}
	return out
}
