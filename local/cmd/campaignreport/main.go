// Command campaignreport writes a campaign's reports to standard output:
//
//	go run ./local/cmd/campaignreport -table <CampaignsTableName> -campaign <campaignId> > report.csv
//	go run ./local/cmd/campaignreport -table T -campaign C -kind audit [-recipient R] > audit.jsonl
//	go run ./local/cmd/campaignreport -table T -campaign C -kind compliance [-format json] > compliance.csv
//
// -kind report (default): every recipient with its state and reason, numbers masked, then the
// import report, as CSV. -kind audit: the audit trail (one JSON record per line), of the campaign or
// of one recipient. -kind compliance: the compliance report (abandonment per day and over the
// rule set's windows, calls by callee-local hour, contact-limit hits, opt-outs honoured), as CSV or
// JSON.
//
// It reads the table with the default AWS configuration (AWS_ENDPOINT_URL_DYNAMODB reaches a
// local one).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/dialer"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

func main() {
	table := flag.String("table", "", "the campaigns table (stack output CampaignsTableName)")
	campaign := flag.String("campaign", "", "the campaign ID")
	kind := flag.String("kind", "report", "report, audit or compliance")
	recipient := flag.String("recipient", "", "with -kind audit: one recipient's trail")
	format := flag.String("format", "csv", "with -kind compliance: csv or json")
	flag.Parse()
	if *table == "" || *campaign == "" || (*kind != "report" && *kind != "audit" && *kind != "compliance") || (*format != "csv" && *format != "json") {
		fmt.Fprintln(os.Stderr, "usage: campaignreport -table <CampaignsTableName> -campaign <campaignId> [-kind report|audit|compliance] [-recipient <id>] [-format csv|json]")
		os.Exit(2)
	}
	ctx := context.Background()
	// The SDK's whole default chain (profiles, SSO, ...): this runs on an operator's machine.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "campaignreport: load AWS configuration:", err)
		os.Exit(1)
	}
	store := campaignstore.New(dynamodb.NewFromConfig(cfg), *table)
	if err := run(ctx, store, *campaign, *kind, *recipient, *format, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "campaignreport:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, store *campaignstore.Store, campaign, kind, recipient, format string, w io.Writer) error {
	switch kind {
	case "audit":
		c, err := store.Campaign(ctx, campaign)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		if recipient != "" {
			recs, err := store.AuditTrail(ctx, campaign, recipient, c.Shards)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
			return nil
		}
		return store.ExportAudit(ctx, campaign, c.Shards, func(r dialer.AuditRecord) error { return enc.Encode(r) })
	case "compliance":
		rep, err := outbound.BuildCompliance(ctx, store, campaign)
		if err != nil {
			return err
		}
		if format == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		return rep.WriteCSV(w)
	}
	n, err := outbound.WriteReport(ctx, store, campaign, w)
	if err == nil {
		fmt.Fprintf(os.Stderr, "%d rows\n", n)
	}
	return err
}
