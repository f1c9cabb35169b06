// Package outbound is the outbound dialer's logic behind functions/dialer: it takes every event
// the dialer receives (campaign control events, the scheduler's tick, Amazon Connect contact
// events), keeps each campaign and recipient in the campaign store, and places and ends calls
// through the Connect API, paced by the instance's quota, concurrency and agents, inside each
// callee's calling window, never to a number on the do-not-call list, and never twice for one
// attempt.
package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/donotcall"
	"github.com/switchboard-connect/switchboard/shared/pacing"
	"github.com/switchboard-connect/switchboard/shared/phone"
	"github.com/switchboard-connect/switchboard/shared/recipients"
	"github.com/switchboard-connect/switchboard/shared/safetext"
)

// ConnectAPI is the part of the Connect client the dialer uses.
type ConnectAPI interface {
	StartOutboundVoiceContact(ctx context.Context, in *connect.StartOutboundVoiceContactInput, optFns ...func(*connect.Options)) (*connect.StartOutboundVoiceContactOutput, error)
	DescribeContact(ctx context.Context, in *connect.DescribeContactInput, optFns ...func(*connect.Options)) (*connect.DescribeContactOutput, error)
	StopContact(ctx context.Context, in *connect.StopContactInput, optFns ...func(*connect.Options)) (*connect.StopContactOutput, error)
	GetCurrentMetricData(ctx context.Context, in *connect.GetCurrentMetricDataInput, optFns ...func(*connect.Options)) (*connect.GetCurrentMetricDataOutput, error)
}

// DoNotCall is the do-not-call list, read just before every dial.
type DoNotCall interface {
	Lookup(ctx context.Context, number string) (donotcall.Entry, bool, error)
}

// S3API reads recipients' CSV objects.
type S3API = recipients.S3API

// Clock is the dialer's only source of time: the Lambda runs it on the real clock, tests and the
// local stack on connectsim's simulated one.
type Clock interface {
	Now() time.Time
	// Sleep waits d of the clock's time, or until ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// Config wires a Dialer.
type Config struct {
	Store     Store
	Connect   ConnectAPI
	DoNotCall DoNotCall
	// S3 reads recipients' CSV objects from RecipientsBucket; nil refuses campaigns that name one.
	S3               S3API
	RecipientsBucket string
	Clock            Clock
	Log              *slog.Logger
	// Pacing is the instance's StartOutboundVoiceContact rate and concurrency cap, shared by
	// every running campaign (configuration: the quota is per account and adjustable).
	Pacing pacing.Config
	// Owner names this dialer in the lease (a Lambda's log stream, a process ID).
	Owner string
	// TickBudget is how long one tick keeps dialling at most (default 57s); a tick also stops a
	// second before the next one is due, so ticks follow each other without a gap.
	TickBudget time.Duration
	// LeaseTTL is how long the tick lease lasts without renewal (default 90s).
	LeaseTTL time.Duration
	// Shards of a new campaign's recipients (default campaignstore.DefaultShards).
	Shards int
	// WatchdogAfter: a call in progress longer than this is checked with DescribeContact, in
	// case its contact events were lost (default 2m), at most WatchdogRate times a second
	// (default DefaultWatchdogRate).
	WatchdogAfter time.Duration
	WatchdogRate  float64
	// ImportRowsPerTick bounds the CSV rows one tick imports per campaign (default 20,000).
	ImportRowsPerTick int64
	// CloseGuard: no call starts when the callee's window closes within this (default 2m).
	CloseGuard time.Duration
	// Legal are the deployment's legal calling hours, applied on top of every campaign's windows
	// (the zero value is callwindow's built-in table).
	Legal callwindow.LegalRules
	// QuietFor is how long the due and inflight indexes must agree that nothing is waiting or in
	// flight before a campaign ends (default 30s): far longer than their propagation, usually well
	// under a second.
	QuietFor time.Duration
	// DialConcurrency is how many dials one tick has under way at once (default
	// DefaultDialConcurrency): at least the rate times one dial's latency (Little's law).
	DialConcurrency int
}

// DefaultDialConcurrency: a dial takes about 0.1 to 0.3 s at the latencies of
// docs/performance.md ("Dialling at real latency"), so 32 dials under way reach about 100 calls
// a second.
const DefaultDialConcurrency = 32

// MaxDialConcurrency bounds DIAL_CONCURRENCY: past it, a Lambda's sockets and DynamoDB's
// per-partition throughput are the limit, not the dials under way.
const MaxDialConcurrency = 256

// DefaultWatchdogRate is half of DescribeContact's default quota as docs/dialer.md reads it
// (10 a second, burst 15; the Service Quotas page lists each account's own): the rest is for the
// contact events' reads and for other callers of the account.
const DefaultWatchdogRate = 5.0

// Dialer handles the dialer's events.
type Dialer struct {
	cfg     Config
	log     *slog.Logger
	metrics metrics
	// parts holds the pacing of each partition this process has ticked for (Partition).
	partsMu sync.Mutex
	parts   map[Partition]*partState
	// rates are the campaigns' own buckets, kept across ticks (a bucket rebuilt every tick would
	// start every tick with a full burst).
	ratesMu sync.Mutex
	rates   map[string]*campaignBucket
	// watchBudget paces the watchdog's DescribeContact requests; watched says when it last looked
	// at each call.
	watchBudget *pacing.Bucket
	watched     watchLog
}

type campaignBucket struct {
	limit  RateLimit
	bucket *pacing.Bucket
}

// campaignRate returns the campaign's own bucket (nil when it has no rate of its own), made once
// and kept while the campaign's rate stays the same; a partition's is its share of the rate.
func (d *Dialer) campaignRate(r *run) *pacing.Bucket {
	if r.plan.Rate == nil {
		return nil
	}
	d.ratesMu.Lock()
	defer d.ratesMu.Unlock()
	key := r.c.ID + "#" + r.part.String()
	if cb, ok := d.rates[key]; ok && cb.limit == *r.plan.Rate {
		return cb.bucket
	}
	b, err := pacing.NewBucket(r.plan.Rate.PerSecond/float64(r.part.Of), max(1, pacing.Share(r.plan.Rate.Burst, r.part.Index, r.part.Of)))
	if err != nil { // validated by NewPlan
		return nil
	}
	if d.rates == nil {
		d.rates = map[string]*campaignBucket{}
	}
	d.rates[key] = &campaignBucket{limit: *r.plan.Rate, bucket: b}
	return b
}

// Partition is one of the executions that tick for one instance at once (Of of them, Index
// from 0): each holds a lease of its own, dials the recipients of the shards it owns (shard %
// Of == Index) with its share of the rate and the cap (pacing.Config.Share), and so needs no
// counter shared with the others. Partition 0 also imports, audits and ends the campaigns, and
// alone dials agent-paced ones (their agents are one pool). The zero value is one execution.
type Partition struct{ Index, Of int }

func (p Partition) norm() Partition {
	if p.Of <= 1 {
		return Partition{0, 1}
	}
	return p
}

func (p Partition) String() string { return fmt.Sprintf("%d-of-%d", p.Index, p.Of) }

// owns reports whether the partition dials and sweeps shard.
func (p Partition) owns(shard int) bool { return shard%p.Of == p.Index }

// lease is the partition's lease name: one execution keeps the name it always had.
func (p Partition) lease() string {
	if p.Of == 1 {
		return leaseName
	}
	return leaseName + "-" + p.String()
}

// partState is one partition's pacing in this process.
type partState struct {
	pacer *pacing.Pacer
	// drained: the pacer's burst was emptied at this process's first tick for the partition.
	drained bool
}

func (d *Dialer) partition(p Partition) (*partState, error) {
	d.partsMu.Lock()
	defer d.partsMu.Unlock()
	if ps, ok := d.parts[p]; ok {
		return ps, nil
	}
	cfg, err := d.cfg.Pacing.Share(p.Index, p.Of)
	if err != nil {
		return nil, err
	}
	pc, err := pacing.NewPacer(cfg)
	if err != nil {
		return nil, err
	}
	if d.parts == nil {
		d.parts = map[Partition]*partState{}
	}
	ps := &partState{pacer: pc}
	d.parts[p] = ps
	return ps, nil
}

// New checks the configuration and returns a dialer.
func New(cfg Config) (*Dialer, error) {
	if cfg.Store == nil || cfg.Connect == nil || cfg.DoNotCall == nil || cfg.Clock == nil {
		return nil, errors.New("outbound: Store, Connect, DoNotCall and Clock are required")
	}
	if cfg.Owner == "" {
		return nil, errors.New("outbound: Owner is required (it names the lease holder)")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.TickBudget <= 0 {
		cfg.TickBudget = 57 * time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 90 * time.Second
	}
	if cfg.Shards <= 0 {
		cfg.Shards = campaignstore.DefaultShards
	}
	if cfg.WatchdogAfter <= 0 {
		cfg.WatchdogAfter = 2 * time.Minute
	}
	if cfg.ImportRowsPerTick <= 0 {
		cfg.ImportRowsPerTick = 20000
	}
	if cfg.CloseGuard <= 0 {
		cfg.CloseGuard = 2 * time.Minute
	}
	if cfg.QuietFor <= 0 {
		cfg.QuietFor = 30 * time.Second
	}
	if cfg.DialConcurrency <= 0 {
		cfg.DialConcurrency = DefaultDialConcurrency
	}
	if cfg.WatchdogRate <= 0 {
		cfg.WatchdogRate = DefaultWatchdogRate
	}
	if err := cfg.Pacing.Validate(); err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	wb, err := pacing.NewBucket(cfg.WatchdogRate, max(1, int(cfg.WatchdogRate)))
	if err != nil {
		return nil, fmt.Errorf("outbound: WatchdogRate: %w", err)
	}
	return &Dialer{cfg: cfg, log: cfg.Log, watchBudget: wb}, nil
}

// Handle takes one event as the Lambda receives it (lambda.Start takes it as it is). An event that can never succeed (refused,
// or naming a campaign that does not exist) is logged with its reason and answered with nil, so
// that it is not retried; a transient failure (the store or Connect unavailable) is returned, so
// Lambda retries the event twice and then keeps it in the function's on-failure queue
// (infra/dialer.go), from which an operator replays it: every handler must take an event it has
// seen before (docs/dialer.md, "When an event fails", says which replays are order-sensitive).
func (d *Dialer) Handle(ctx context.Context, raw json.RawMessage) error {
	ev, err := dialerevents.Decode(raw)
	if err != nil {
		var re *dialerevents.RefusedError
		if errors.As(err, &re) {
			d.log.Warn("event refused", "reason", re.Reason, "detail", re.Message, "event_id", re.EventID)
			return nil
		}
		return err
	}
	log := d.log.With("event_id", safetext.Truncate(ev.Envelope.ID, 64), "detail_type", ev.Envelope.DetailType)
	defer d.flushMetrics(ctx)
	switch det := ev.Detail.(type) {
	case *dialerevents.CampaignLaunched:
		err = d.launch(ctx, log, det.Campaign)
	case *dialerevents.CampaignUpdated:
		err = d.update(ctx, log, det)
	case *dialerevents.CampaignPaused:
		err = d.setStatus(ctx, log, det.CampaignID, campaignstore.StatusPaused, reasonOr(det.Reason, "paused"), false)
	case *dialerevents.CampaignResumed:
		err = d.setStatus(ctx, log, det.CampaignID, campaignstore.StatusRunning, reasonOr(det.Reason, "resumed"), false)
	case *dialerevents.CampaignStopped:
		err = d.setStatus(ctx, log, det.CampaignID, campaignstore.StatusStopping, reasonOr(det.Reason, "stopped"), det.EndActiveCalls)
	case *dialerevents.CallRequested:
		err = d.callRequested(ctx, log, det)
	case *dialerevents.CallStopRequested:
		err = d.callStopRequested(ctx, log, det)
	case *dialerevents.Tick:
		err = d.TickPartition(ctx, det.ScheduledTime, Partition{Index: det.Partition, Of: det.Partitions})
	case *dialerevents.ContactEvent:
		err = d.contactEvent(ctx, log, det)
	default:
		err = fmt.Errorf("outbound: no handler for %T", det)
	}
	var refused *refusal
	if errors.As(err, &refused) {
		log.Warn("event refused", "reason", refused.reason, "detail", refused.msg)
		return nil
	}
	return err
}

// refusal is a permanent problem with an event's content: logged, never retried.
type refusal struct{ reason, msg string }

func (r *refusal) Error() string { return r.reason + ": " + r.msg }

func refuse(reason, format string, args ...any) error {
	// Definition values and IDs are quoted as given: a phone number where another value belongs
	// must not reach the log in clear.
	return &refusal{reason: reason, msg: phone.Scrub(fmt.Sprintf(format, args...))}
}

func reasonOr(r, def string) string {
	if r == "" {
		return def
	}
	return r
}
