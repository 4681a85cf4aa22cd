package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/store"
)

func auditCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var order int64
	var limit int
	var database string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the calls woozoom made to Zoom and WooCommerce",
		Long: `Every call woozoom makes to Zoom and to the shop's REST API is logged with its
time, operation, path (never a query, which may carry a signature), answer,
Zoom's or WooCommerce's error code, duration, and the job and order it served.
Calls are kept for audit.keep (default 30 days).`,
		Example: "  woozoom audit --order 1234\n  woozoom audit --limit 50",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				calls, err := db.Calls(ctx, store.CallFilter{OrderID: order, Limit: limit})
				if err != nil {
					return err
				}
				if len(calls) == 0 {
					if order != 0 {
						fmt.Fprintf(out, "no calls recorded for order %d\n", order)
					} else {
						fmt.Fprintln(out, "no calls recorded")
					}
					return nil
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TIME (UTC)\tSERVICE\tOPERATION\tPATH\tSTATUS\tCODE\tMS\tJOB\tORDER")
				for _, c := range calls {
					status := strconv.Itoa(c.Status)
					if c.Status == 0 {
						status = "no answer"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", c.At.Format("2006-01-02 15:04:05.000"), c.Service, c.Operation, c.Path,
						status, orDash(c.Code), c.Duration.Milliseconds(), idOrDash(c.JobID), idOrDash(c.OrderID))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().Int64Var(&order, "order", 0, "only the calls made for this order")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many, newest first")
	cmd.Flags().StringVar(&database, "database", "", "database: a SQLite file or a postgres:// URL (default: database from the config)")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func idOrDash(id int64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatInt(id, 10)
}
