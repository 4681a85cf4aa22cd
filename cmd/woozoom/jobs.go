package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

func jobsCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "Show the work queue and run parked or waiting jobs again",
	}
	cmd.PersistentFlags().StringVar(&database, "database", "", "database: a SQLite file or a postgres:// URL (default: database from the config)")
	var failed bool
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error { return listJobs(ctx, db, failed, limit, out) })
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
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error { return runJobsNow(ctx, db, ids, waiting, out) })
		},
	}
	retry.Flags().BoolVar(&waiting, "waiting", false, "also run every job that waits for its retry time")
	cmd.AddCommand(list, retry)
	return cmd
}

func listJobs(ctx context.Context, db *store.DB, failed bool, limit int, out io.Writer) error {
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
}

// runJobsNow makes the named jobs (and with waiting, every waiting one)
// due now.
func runJobsNow(ctx context.Context, db *store.DB, ids []int64, waiting bool, out io.Writer) error {
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
}
