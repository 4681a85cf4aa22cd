package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
)

type configFunc func(required bool) (Config, error)

// withDB opens the configured database for an admin command.
func withDB(cmd *cobra.Command, cfg configFunc, database string, fn func(context.Context, *store.DB) error) (err error) {
	c, err := cfg(false)
	if err != nil {
		return err
	}
	if database != "" {
		c.Database = database
	}
	db, err := store.Open(cmd.Context(), c.Database)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	return fn(cmd.Context(), db)
}

func mapCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "map",
		Short: "List, add and remove product-to-Zoom mappings",
		Long: `Mappings link a WooCommerce product (optionally one variation) to a Zoom meeting
or webinar. Mappings from config.yaml's events: are loaded at every start; those
added here are kept until removed here.`,
	}
	cmd.PersistentFlags().StringVar(&database, "database", "", "database file (default: database from the config)")

	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List every mapping",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				ms, err := db.Mappings(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PRODUCT\tVARIATION\tDAY\tSLOT\tTARGET\tID\tOCCURRENCES\tFROM")
				for _, m := range ms {
					v, day, slot, occ := "any", "-", "any", "all"
					if m.VariationID != 0 {
						v = strconv.FormatInt(m.VariationID, 10)
					}
					if m.Day != 0 {
						day = strconv.Itoa(m.Day)
					}
					if m.Slot != "" {
						slot = m.Slot
					}
					if m.Occurrences != "" {
						occ = m.Occurrences
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ProductID, v, day, slot, m.Target.Kind, m.Target.ID, occ, m.Source)
				}
				return tw.Flush()
			})
		},
	})

	var product, variation int64
	var day int
	var meeting, webinar, slot, occurrences string
	var fix, noCheck bool
	target := func() (rules.Mapping, error) {
		if product <= 0 {
			return rules.Mapping{}, errors.New("--product is required: the WooCommerce product id")
		}
		if (meeting == "") == (webinar == "") {
			return rules.Mapping{}, errors.New("give exactly one of --meeting or --webinar")
		}
		kind := rules.Meeting
		if webinar != "" {
			kind = rules.Webinar
		}
		return rules.ParseMapping(rules.MappingSpec{ProductID: product, VariationID: variation, Day: day, Slot: slot,
			Occurrences: occurrences, Kind: kind, ID: meeting + webinar})
	}
	addFlags := func(c *cobra.Command) {
		c.Flags().Int64Var(&product, "product", 0, "WooCommerce product id")
		c.Flags().Int64Var(&variation, "variation", 0, "variation id (default: every variation)")
		c.Flags().StringVar(&meeting, "meeting", "", "Zoom meeting id (spaces allowed: \"857 4606 5123\")")
		c.Flags().StringVar(&webinar, "webinar", "", "Zoom webinar id")
		c.Flags().IntVar(&day, "day", 0, "day of a multi-day event (1, 2, ...); every day's target is registered")
		c.Flags().StringVar(&slot, "slot", "", "only tickets that booked this slot (\"3\", or \"3/1698\" for one date)")
		c.Flags().StringVar(&occurrences, "occurrences", "", "occurrence ids of a recurring meeting, comma-separated (default: all)")
	}
	add := &cobra.Command{
		Use:   "add",
		Short: "Map a product to a meeting or webinar",
		Example: `  woozoom map add --product 812 --meeting "857 4606 5123"
  woozoom map add --product 812 --variation 815 --webinar 91234567890
  woozoom map add --product 840 --day 2 --meeting 81234567890
  woozoom map add --product 850 --slot evening --meeting 81234567890 --occurrences 1764608400000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := target()
			if err != nil {
				return err
			}
			if !noCheck {
				if err := verifyMapping(cmd.Context(), cfg, m.Target, fix, out); err != nil {
					return err
				}
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				added, err := db.AddMapping(ctx, m, store.FromCLI)
				if err != nil {
					return err
				}
				if !added {
					fmt.Fprintf(out, "product %d already maps to %s\n", m.ProductID, m.Target)
					return nil
				}
				fmt.Fprintf(out, "product %d now maps to %s; orders completed before now are not registered by this\n", m.ProductID, m.Target)
				return nil
			})
		},
	}
	addFlags(add)
	add.Flags().BoolVar(&fix, "fix", false, "turn on registration (automatic approval) if the meeting has it off")
	add.Flags().BoolVar(&noCheck, "no-check", false, "map without reading the meeting from Zoom")
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Remove a mapping (registrations already made stay)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := target()
			if err != nil {
				return err
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				removed, err := db.RemoveMapping(ctx, m)
				if err != nil {
					return err
				}
				if !removed {
					if made, err := db.MadeBy(ctx, m.ProductID, m.Target); err == nil && made {
						return fmt.Errorf("product %d to %s: %s", m.ProductID, m.Target, store.MadeMeetingMessage)
					}
					return fmt.Errorf("no mapping of product %d (variation %d) to %s", m.ProductID, m.VariationID, m.Target)
				}
				fmt.Fprintf(out, "removed: product %d to %s\n", m.ProductID, m.Target)
				return nil
			})
		},
	}
	addFlags(remove)
	cmd.AddCommand(add, remove)
	return cmd
}

func jobsCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "Show the work queue and run parked or waiting jobs again",
	}
	cmd.PersistentFlags().StringVar(&database, "database", "", "database file (default: database from the config)")
	var failed bool
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				state := ""
				if failed {
					state = rules.JobFailed
				}
				jobs, err := db.Jobs(ctx, state, limit)
				if err != nil {
					return err
				}
				counts, err := db.JobCounts(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "queued %d, running %d, done %d, failed %d\n", counts[rules.JobQueued], counts[rules.JobRunning], counts[rules.JobDone], counts[rules.JobFailed])
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "JOB\tORDER\tTOPIC\tSTATE\tTRIES\tUPDATED\tRESULT / ERROR")
				for _, j := range jobs {
					note := j.Result
					if j.State != rules.JobDone {
						note = j.Problem()
					}
					if j.State == rules.JobQueued && j.RunAt.After(time.Now()) {
						note = "retry at " + j.RunAt.Format(time.RFC3339) + ": " + note
					}
					fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.OrderID, j.Topic, j.State, j.Attempts, j.UpdatedAt.Format(time.RFC3339), note)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&failed, "failed", false, "only parked jobs, which need a person")
	list.Flags().IntVar(&limit, "limit", 50, "at most this many")
	var waiting bool
	retry := &cobra.Command{
		Use:   "retry [JOB_ID...]",
		Short: "Run parked jobs again (after fixing what their error names), or waiting jobs now",
		Long: `Queue parked jobs again, with their tries reset, after fixing what their
error names. A job that waits for its retry time (for example for Zoom's daily
limit, which resets at 00:00 UTC) runs at once; --waiting does this for every
waiting job, for example after Zoom raised a limit.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !waiting {
				return errors.New("name the jobs to run (see woozoom jobs list), or pass --waiting")
			}
			var ids []int64
			for _, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil {
					return fmt.Errorf("job id %q is not a number", a)
				}
				ids = append(ids, id)
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				if waiting {
					more, err := db.WaitingJobs(ctx)
					if err != nil {
						return err
					}
					ids = append(ids, more...)
				}
				for _, id := range ids {
					if err := db.RunJobNow(ctx, id); err != nil {
						return err
					}
					fmt.Fprintf(out, "job %d queued to run now; the running sidecar picks it up\n", id)
				}
				if len(ids) == 0 {
					fmt.Fprintln(out, "no job is waiting")
				}
				return nil
			})
		},
	}
	retry.Flags().BoolVar(&waiting, "waiting", false, "also run every job that waits for its retry time")
	cmd.AddCommand(list, retry)
	return cmd
}

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
	cmd.PersistentFlags().StringVar(&database, "database", "", "database file (default: database from the config)")
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

// live is what a command that talks to the shop and Zoom needs.
type live struct {
	db     *store.DB
	wc     *woo.Client
	zc     *zoom.Client
	w      *worker.Worker
	orders *orders.Orders
	log    *slog.Logger
}

// closeDB closes db and reports its error unless another came first.
// verifyMapping reads a meeting or webinar from Zoom before it is mapped and
// says what it is; one without registration is refused (or, with fix, has
// registration turned on), and so is one whose host cannot take
// registrations.
func verifyMapping(ctx context.Context, cfg configFunc, t rules.Target, fix bool, out io.Writer) error {
	c, err := cfg(false)
	if err != nil {
		return err
	}
	if !c.zoomConfigured() {
		fmt.Fprintf(out, "%s not checked on Zoom: the configuration names no Zoom app (or use --no-check)\n", t)
		return nil
	}
	zc := zoomClient(c, newLogger(c, io.Discard))
	in, err := inspectTarget(ctx, zc, t)
	if in.Meeting.Topic != "" || in.Meeting.HostEmail != "" {
		fmt.Fprintln(out, in.Describe())
	}
	if !errors.Is(err, zoom.ErrRegistrationOff) || !fix {
		if errors.Is(err, zoom.ErrRegistrationOff) {
			return fmt.Errorf("%s has registration off, so Zoom refuses every attendee: in Zoom, edit it and set Registration to Required, or run this again with --fix to turn it on with automatic approval", t)
		}
		return err
	}
	if err := zc.EnableRegistration(ctx, t); err != nil {
		return fmt.Errorf("turn on registration: %w", err)
	}
	fmt.Fprintf(out, "%s: registration turned on (required, automatic approval)\n", t)
	// The host still has to be able to take registrations.
	if _, err := inspectTarget(ctx, zc, t); err != nil {
		return err
	}
	return nil
}

// zoomCommand is what an admin asks Zoom directly.
func zoomCommand(cfg configFunc, out io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "zoom", Short: "Look at the Zoom account"}
	cmd.AddCommand(&cobra.Command{
		Use:   "users",
		Short: "List the account's users and whether each can host registration",
		Long: `List the Zoom account's active users with their type. Zoom takes registrants only
on meetings and webinars of Licensed users: pick one of them as a host.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cfg(true)
			if err != nil {
				return err
			}
			if !c.zoomConfigured() {
				return errors.New("the configuration names no Zoom app: set zoom.account_id, client_id and client_secret")
			}
			users, err := zoomClient(c, newLogger(c, io.Discard)).Users(cmd.Context())
			if err != nil {
				return fmt.Errorf("list Zoom users: %w", err)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tTYPE\tCAN HOST REGISTRATION")
			for _, u := range users {
				can := "yes"
				if !u.Licensed() {
					can = "no: Zoom refuses registration on meetings of " + u.TypeName() + " users"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, orDash(strings.TrimSpace(u.FirstName+" "+u.LastName)), u.TypeName(), can)
			}
			return tw.Flush()
		},
	})
	return cmd
}

func closeDB(db *store.DB, err *error) {
	if cerr := db.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close database: %w", cerr)
	}
}

// openLive loads and validates the configuration and opens the database
// and clients.
func openLive(ctx context.Context, cfg configFunc) (Config, *live, error) {
	c, err := cfg(true)
	if err != nil {
		return c, nil, err
	}
	if err := c.Validate(); err != nil {
		return c, nil, fmt.Errorf("the configuration has problems:\n%w", err)
	}
	hc, err := httpClient(c.WooCommerce)
	if err != nil {
		return c, nil, err
	}
	db, err := store.Open(ctx, c.Database)
	if err != nil {
		return c, nil, err
	}
	log := newLogger(c, io.Discard)
	l, err := newWorker(c, db, hc, log, nil)
	if err != nil {
		_ = db.Close() // the first error is the one to report
		return c, nil, err
	}
	return c, l, nil
}

func backfillCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var product int64
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "backfill",
		Short: "Register the attendees of a product's orders completed before its mapping existed",
		Long: `Read every completed order of a product through the WooCommerce REST API, queue
each one as if its webhook had come, and work the queue until they are done,
showing progress. Use it after mapping a product whose tickets were already sold
(an event that moved online, a mapping added late). Safe to run twice: attendees
already registered are not added again.`,
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
			res, err := orders.Enqueue(ctx, l.db, woo.ParseDelivery, func(ctx context.Context, page int) ([][]byte, int, error) {
				return l.wc.CompletedOrdersOfProduct(ctx, product, page)
			}, nil, func(page, pages int, r orders.PassResult) {
				fmt.Fprintf(out, "reading completed orders of product %d: page %d/%d, %d orders\n", product, page, max(pages, 1), r.Orders)
			})
			if err != nil {
				return err
			}
			if res.Orders == 0 {
				fmt.Fprintf(out, "no completed orders hold product %d\n", product)
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

func demoCommand(out io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Drive the demo shop of a sidecar started in demo mode",
	}
	var server, email, first, last, status, newStatus string
	var wait time.Duration
	order := &cobra.Command{
		Use:   "order",
		Short: "Place a sample order in the demo shop and show what woozoom did with it",
		Long: `Place a sample order (one tour ticket, one webinar seat) in the demo shop of a
sidecar running in demo mode. The shop delivers it to woozoom as a signed
order webhook; this command then shows the registrations on the fake Zoom, the
meta written back to the order and its notes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var created struct {
				OrderID int64 `json:"order_id"`
			}
			body := map[string]string{"email": email, "first_name": first, "last_name": last, "status": status}
			if err := demoCall(cmd.Context(), http.MethodPost, server+"/demo/orders", body, &created); err != nil {
				return err
			}
			fmt.Fprintf(out, "placed order %d (%s) in the demo shop; waiting for woozoom...\n", created.OrderID, status)
			return demoShow(cmd.Context(), out, server, created.OrderID, status, wait)
		},
	}
	order.Flags().StringVar(&email, "email", "Rita.Doro@Example.org", "attendee email")
	order.Flags().StringVar(&first, "first-name", "Rita", "attendee first name")
	order.Flags().StringVar(&last, "last-name", "Doro", "attendee last name")
	order.Flags().StringVar(&status, "status", "completed", "order status")
	var id int64
	setStatus := &cobra.Command{
		Use:     "status",
		Short:   "Change a demo order's status (cancel it, complete it again) and show the result",
		Example: "  woozoom demo status --order 101 --to cancelled",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := demoCall(cmd.Context(), http.MethodPost, fmt.Sprintf("%s/demo/orders/%d/status", server, id), map[string]string{"status": newStatus}, nil); err != nil {
				return err
			}
			fmt.Fprintf(out, "order %d is now %s in the demo shop; waiting for woozoom...\n", id, newStatus)
			return demoShow(cmd.Context(), out, server, id, newStatus, wait)
		},
	}
	setStatus.Flags().Int64Var(&id, "order", 0, "demo order id")
	setStatus.Flags().StringVar(&newStatus, "to", "cancelled", "new status")
	for _, c := range []*cobra.Command{order, setStatus} {
		c.Flags().StringVar(&server, "server", "http://localhost:8080", "the demo sidecar")
		c.Flags().DurationVar(&wait, "wait", 15*time.Second, "how long to wait for woozoom")
	}
	cmd.AddCommand(order, setStatus)
	return cmd
}

// demoShow waits until woozoom has acted on the order's status and prints
// the report.
func demoShow(ctx context.Context, out io.Writer, server string, id int64, status string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var report map[string]any
	for {
		if err := demoCall(ctx, http.MethodGet, fmt.Sprintf("%s/demo/orders/%d", server, id), nil, &report); err != nil {
			return err
		}
		if demoSettled(report, status) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	b, _ := json.MarshalIndent(report, "", "  ")
	fmt.Fprintln(out, string(b))
	if !demoSettled(report, status) {
		return fmt.Errorf("woozoom did not act on order %d within %s; see the sidecar's log and `woozoom jobs list --database %s`", id, wait, demoDatabase)
	}
	return nil
}

func demoSettled(report map[string]any, status string) bool {
	regs, _ := report["registrations"].([]any)
	if len(regs) == 0 {
		return status != rules.StatusCompleted
	}
	for _, r := range regs {
		m, _ := r.(map[string]any)
		want := "approved"
		if status != rules.StatusCompleted {
			want = "denied"
		}
		if m["zoom_status"] != want && m["state"] != string(rules.Failed) {
			return false
		}
	}
	notes, _ := report["notes"].([]any)
	return status != rules.StatusCompleted || len(notes) > 0
}

func demoCall(ctx context.Context, method, url string, body, result any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach the demo sidecar at %s (is `make run` running?): %w", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound && strings.Contains(string(b), "Not Found") {
		return fmt.Errorf("%s has no demo routes: is the sidecar running in demo mode?", url)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(b)))
	}
	if result != nil {
		return json.Unmarshal(b, result)
	}
	return nil
}

func backupCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the database to FILE, safe while woozoom serves",
		Long: `Copy the live database to FILE through SQLite's online backup API. The copy is
consistent (every delivery with its job) and is made without stopping woozoom
or holding up its writes. FILE must not exist; it is written owner-only and
appears only when the copy is complete and checked.`,
		Example: "  woozoom backup /var/backups/woozoom/woozoom-$(date +%F).db",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				pages, err := db.Backup(ctx, args[0])
				if err != nil {
					return err
				}
				st, err := os.Stat(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "backed up %d pages (%.1f MB) to %s\n", pages, float64(st.Size())/1e6, args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&database, "database", "", "database file (default: database from the config)")
	return cmd
}
