package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo"
)

func reconcileCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var since string
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Read orders modified since a time from WooCommerce and queue what woozoom missed",
		Long: `Read every order modified since --since (default: where the last pass ended)
through the WooCommerce REST API and queue each one as if its webhook had arrived.
Orders woozoom already has in that form are skipped. The running sidecar does the
work; safe to run any number of times. serve does this by itself every
reconcile.interval.`,
		Example: `  woozoom reconcile --since 2026-11-01
  woozoom reconcile --since 2026-11-20T08:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			c, live, err := openLive(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(live.db, &err)
			rec := reconciler(c, live.db, live.wc, live.log)
			from, err := rec.Since(cmd.Context())
			if err != nil {
				return err
			}
			if since != "" {
				if from, err = parseTime(since); err != nil {
					return err
				}
			}
			fmt.Fprintf(out, "reading orders modified after %s\n", from.Format(time.RFC3339))
			res, err := rec.Pass(cmd.Context(), from, func(page, pages int, r orders.PassResult) {
				fmt.Fprintf(out, "  page %d/%d: %d orders read, %d new to woozoom\n", page, max(pages, 1), r.Orders, r.New)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "done: %d orders read, %d queued, %d unchanged since woozoom applied them; the running sidecar works them (woozoom jobs list)\n", res.Orders, res.New, res.Unchanged)
			if res.Skipped > 0 {
				fmt.Fprintf(out, "%d bodies were not orders; see woozoom jobs list --failed\n", res.Skipped)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "RFC 3339 time or date (UTC), e.g. 2026-11-01 (default: the last checkpoint)")
	return cmd
}

func backfillCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var product int64
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "backfill",
		Short: "Register the attendees of a product's orders completed before its mapping existed",
		Long: `Read every order of a product through the WooCommerce REST API, queue each one
whose status registers (completed, or what statuses.register lists) as if its
webhook had come, and work the queue until they are done, showing progress. Use
it after mapping a product whose tickets were already sold (an event that moved
online, a mapping added late). Safe to run twice: attendees already registered
are not added again.`,
		Example: "  woozoom map add --product 812 --meeting \"857 4606 5123\"\n  woozoom backfill --product 812",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if product <= 0 {
				return errors.New("--product is required: the WooCommerce product id")
			}
			_, l, err := openLive(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(l.db, &err)
			ctx := cmd.Context()
			res, err := orders.Enqueue(ctx, l.db, woo.ParseDelivery, l.productOrders(product), nil, func(page, pages int, r orders.PassResult) {
				fmt.Fprintf(out, "reading the orders of product %d: page %d/%d, %d to register\n", product, page, max(pages, 1), r.Orders)
			})
			if err != nil {
				return err
			}
			if res.Orders == 0 {
				fmt.Fprintf(out, "no order of product %d is in a status that registers (statuses.register)\n", product)
				return nil
			}
			// Work the queue here, beside a running sidecar if there is one:
			// jobs are claimed and seats leased in the database.
			workCtx, stop := context.WithCancel(ctx)
			worked := make(chan struct{})
			go func() { defer close(worked); l.w.Run(workCtx) }()
			defer func() {
				stop()
				<-worked
			}()
			deadline := time.Now().Add(wait)
			for {
				counts, err := l.db.DeliveryJobCounts(ctx, res.Deliveries)
				if err != nil {
					return err
				}
				open := counts[rules.JobQueued] + counts[rules.JobRunning]
				fmt.Fprintf(out, "working: %d orders read, %d jobs done, %d failed, %d to go\n", res.Orders, counts[rules.JobDone], counts[rules.JobFailed], open)
				if open == 0 {
					if counts[rules.JobFailed] > 0 {
						return fmt.Errorf("%d orders could not be done; see woozoom jobs list --failed", counts[rules.JobFailed])
					}
					fmt.Fprintf(out, "done; see woozoom export --product %d\n", product)
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("%d jobs still waiting after %s (retries after Zoom rate limits?); they stay queued for the sidecar: woozoom jobs list", open, wait)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Second):
				}
			}
		},
	}
	cmd.Flags().Int64Var(&product, "product", 0, "WooCommerce product id")
	cmd.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to work before leaving the rest to the sidecar")
	return cmd
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use 2026-11-01 or 2026-11-01T08:00:00Z", s)
}
