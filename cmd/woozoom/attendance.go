package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

func attendanceCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database, event string
	cmd := &cobra.Command{
		Use:   "attendance",
		Short: "Show who attended an ended meeting or webinar, and who was there without a paid ticket",
		Long: `Show, for each ended instance of a meeting or webinar, each paid attendee of each
order: attended or not, minutes (overlapping sessions counted once), first join and
last leave; then the participants woozoom could not match to a paid ticket (a guest
under another email, someone who joined without registering). woozoom records it
when Zoom's meeting.ended or webinar.ended event arrives (Zoom's webhooks), or,
for an account without them, shortly after the scheduled end (attendance.after).`,
		Example: "  woozoom attendance --event 91234567890",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := rules.ParseZoomID(event)
			if err != nil {
				return fmt.Errorf("--event: %w", err)
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error { return printAttendance(ctx, db, id, out) })
		},
	}
	cmd.Flags().StringVar(&database, "database", "", "database: a SQLite file or a postgres:// URL (default: database from the config)")
	cmd.Flags().StringVar(&event, "event", "", "the Zoom meeting or webinar id")
	return cmd
}

// printAttendance prints what woozoom recorded of an event's attendance.
func printAttendance(ctx context.Context, db *store.DB, id int64, out io.Writer) error {
	var rows []rules.AttendanceRecord
	var t rules.Target
	for _, kind := range []rules.TargetKind{rules.Meeting, rules.Webinar} {
		t = rules.Target{Kind: kind, ID: id}
		var err error
		if rows, err = db.Attendance(ctx, t, 0); err != nil {
			return err
		}
		if len(rows) > 0 {
			break
		}
	}
	if len(rows) == 0 {
		return errors.New("no attendance recorded of this meeting or webinar: it has not ended, Zoom's ended event has not come (set up Zoom's webhooks), or no paid attendee of this shop was registered on it")
	}
	attended, minutes := 0, 0
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tORDER\tEMAIL\tATTENDED\tMINUTES\tFIRST JOIN\tLAST LEAVE")
	for _, r := range rows {
		first, last, yes := "-", "-", "no"
		if r.Attended {
			attended++
			minutes += r.Minutes
			first, last, yes = r.FirstJoin.Format("2006-01-02 15:04"), r.LastLeave.Format("15:04"), "yes"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\n", r.Instance, r.OrderID, r.Email, yes, r.Minutes, first, last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	avg := 0
	if attended > 0 {
		avg = (minutes + attended/2) / attended
	}
	fmt.Fprintf(out, "\n%s: %d registered, %d attended, %d no-shows, %d minutes on average (UTC times)\n", t, len(rows), attended, len(rows)-attended, avg)
	unmatched, err := db.UnmatchedParticipants(ctx, t)
	if err != nil || len(unmatched) == 0 {
		return err
	}
	fmt.Fprintln(out, "\nnot matched to a paid ticket (not assigned to any order):")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tNAME\tEMAIL\tMINUTES")
	for _, u := range unmatched {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", u.Instance, orDash(strings.TrimSpace(u.Name)), orDash(u.Email), u.Minutes)
	}
	return tw.Flush()
}
