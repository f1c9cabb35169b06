// Command campaignreport writes a campaign's final report (every recipient with its state and
// reason, numbers masked, then the import report) as CSV to standard output:
//
//	go run ./local/cmd/campaignreport -table <CampaignsTableName> -campaign <campaignId> > report.csv
//
// It reads the table with the default AWS configuration (AWS_ENDPOINT_URL_DYNAMODB reaches a
// local one).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

func main() {
	table := flag.String("table", "", "the campaigns table (stack output CampaignsTableName)")
	campaign := flag.String("campaign", "", "the campaign ID")
	flag.Parse()
	if *table == "" || *campaign == "" {
		fmt.Fprintln(os.Stderr, "usage: campaignreport -table <CampaignsTableName> -campaign <campaignId>")
		os.Exit(2)
	}
	ctx := context.Background()
	// The SDK's whole default chain (profiles, SSO, ...): this runs on an operator's machine.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "campaignreport: load AWS configuration:", err)
		os.Exit(1)
	}
	n, err := outbound.WriteReport(ctx, campaignstore.New(dynamodb.NewFromConfig(cfg), *table), *campaign, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "campaignreport:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d rows\n", n)
}
