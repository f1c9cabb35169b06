package outbound

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/phone"
)

// ReportHeader is the header row of WriteReport's CSV.
var ReportHeader = []string{"recipient_id", "number", "state", "reason", "attempts", "outcomes", "updated_at", "import_row"}

// WriteReport writes every recipient of a campaign with its state and the reason for it as CSV,
// followed by the import report's entries (rows that did not become recipients, state
// "not_imported"). Numbers are masked: the report is for people and logs, the team keeps its list.
func WriteReport(ctx context.Context, store *campaignstore.Store, campaignID string, w io.Writer) (rows int, err error) {
	c, err := store.Campaign(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	out := csv.NewWriter(w)
	if err := out.Write(ReportHeader); err != nil {
		return 0, err
	}
	err = store.Recipients(ctx, campaignID, c.Shards, func(r campaignstore.Recipient) error {
		outcomes := make([]string, len(r.Outcomes))
		for i, o := range r.Outcomes {
			outcomes[i] = string(o)
		}
		number := ""
		if r.Phone != "" {
			number = phone.Mask(r.Phone)
		}
		rows++
		return out.Write([]string{r.RecipientID, number, string(r.State), r.Reason, strconv.Itoa(r.Attempt),
			strings.Join(outcomes, " "), r.UpdatedAt.UTC().Format(time.RFC3339), strconv.FormatInt(r.Row, 10)})
	})
	if err != nil {
		return rows, err
	}
	entries, err := store.Report(ctx, campaignID)
	if err != nil {
		return rows, err
	}
	for _, e := range entries {
		rows++
		if err := out.Write([]string{e.RecipientID, "", "not_imported", e.Reason, "0", "", e.At.UTC().Format(time.RFC3339), strconv.FormatInt(e.Row, 10)}); err != nil {
			return rows, err
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return rows, fmt.Errorf("write report: %w", err)
	}
	return rows, nil
}
