package outbound

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// MetricsNamespace is the CloudWatch namespace of the dialer's embedded metrics.
const MetricsNamespace = "Switchboard/Dialer"

// metrics accumulates the counts of one invocation per campaign; flush writes them as one
// CloudWatch embedded-metric-format log line per campaign
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
// which CloudWatch turns into metrics with no API call.
type metrics struct {
	mu sync.Mutex
	by map[string]map[string]int64
}

func (m *metrics) add(campaignID, name string, n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.by == nil {
		m.by = map[string]map[string]int64{}
	}
	if m.by[campaignID] == nil {
		m.by[campaignID] = map[string]int64{}
	}
	m.by[campaignID][name] += n
}

func (m *metrics) take() map[string]map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.by
	m.by = nil
	return out
}

// metricName turns a counter name (no_answer) into a metric name (NoAnswer).
func metricName(counter string) string {
	var b strings.Builder
	for _, part := range strings.Split(counter, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// flushMetrics logs the invocation's counts in the embedded metric format.
func (d *Dialer) flushMetrics(ctx context.Context) {
	for campaignID, counts := range d.metrics.take() {
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range counts {
				if !yield(k) {
					return
				}
			}
		})
		defs := make([]map[string]string, 0, len(names))
		args := []any{"CampaignId", campaignID}
		for _, n := range names {
			defs = append(defs, map[string]string{"Name": metricName(n), "Unit": "Count"})
			args = append(args, metricName(n), counts[n])
		}
		args = append(args, "_aws", map[string]any{
			"Timestamp": d.cfg.Clock.Now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace": MetricsNamespace, "Dimensions": [][]string{{"CampaignId"}}, "Metrics": defs,
			}},
		})
		d.log.InfoContext(ctx, "campaign metrics", args...)
	}
}
