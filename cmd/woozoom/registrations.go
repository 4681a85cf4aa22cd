package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

func registrationsCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database string
	var order int64
	var failed bool
	cmd := &cobra.Command{
		Use:   "registrations",
		Short: "Show an order's registrations, or every attendee Zoom refused",
		Example: `  woozoom registrations --order 4521
  woozoom registrations --failed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (order == 0) == !failed {
				return errors.New("give --order ID or --failed")
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				var regs []rules.Registration
				var err error
				if failed {
					regs, err = db.FailedRegistrations(ctx, 500)
				} else {
					regs, err = db.Registrations(ctx, order)
				}
				if err != nil {
					return err
				}
				if len(regs) == 0 {
					fmt.Fprintln(out, "no registrations")
					return nil
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ORDER\tLINE\tEMAIL\tNAME\tTARGET\tSTATE\tUPDATED\tERROR")
				for _, r := range regs {
					fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.OrderID, r.LineItemID, r.Attendee.Email,
						strings.TrimSpace(r.Attendee.FirstName+" "+r.Attendee.LastName), r.Target, r.State, r.UpdatedAt.Format(time.RFC3339), r.Error)
				}
				return tw.Flush()
			})
		},
	}
	cmd.PersistentFlags().StringVar(&database, "database", "", "database: a SQLite file or a postgres:// URL (default: database from the config)")
	cmd.Flags().Int64Var(&order, "order", 0, "WooCommerce order id")
	cmd.Flags().BoolVar(&failed, "failed", false, "every attendee Zoom refused")

	var restoreOrder int64
	restore := &cobra.Command{
		Use:   "restore",
		Short: "Register again the attendees of an order that a host cancelled in Zoom",
		Long: `When a host cancels or denies a paid attendee in Zoom, woozoom marks the
registration "cancelled in Zoom" and does not approve them again by itself. restore
makes those registrations active again and queues the order: the running woozoom
approves them on Zoom and writes the links back to the order.`,
		Example: "  woozoom registrations restore --order 4521",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if restoreOrder <= 0 {
				return errors.New("--order is required: the WooCommerce order id")
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				n, err := db.RestoreRegistrations(ctx, restoreOrder)
				if err != nil {
					return err
				}
				if n == 0 {
					return fmt.Errorf("order %d has no registration cancelled in Zoom", restoreOrder)
				}
				if _, err := db.RequeueOrder(ctx, restoreOrder); err != nil {
					return err
				}
				fmt.Fprintf(out, "order %d: %d registrations restored; the running woozoom approves them on Zoom (woozoom registrations --order %d shows them)\n", restoreOrder, n, restoreOrder)
				return nil
			})
		},
	}
	restore.Flags().Int64Var(&restoreOrder, "order", 0, "WooCommerce order id")
	cmd.AddCommand(restore)
	return cmd
}
