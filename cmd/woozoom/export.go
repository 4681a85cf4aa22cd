package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

func exportCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var product int64
	var database, output string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a CSV of a product's attendees and their registration state",
		Long: `Write a CSV of a product's attendees: order, attendee, meeting or webinar,
woozoom's state, Zoom's status, the join link and any error. Buyers type their
names, so a cell that a spreadsheet would run as a formula (starting with
= + - @, a tab or a carriage return) is written with a leading ' as OWASP's
CSV-injection guidance says. A file is written owner-only (0600), complete or
not at all.`,
		Example: "  woozoom export --product 812 --output attendees-812.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if product <= 0 {
				return errors.New("--product is required: the WooCommerce product id")
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				rows, err := exportRows(ctx, db, product)
				if err != nil {
					return err
				}
				if output == "" || output == "-" {
					return writeCSV(out, rows)
				}
				if err := writeFileAtomically(output, func(w io.Writer) error { return writeCSV(w, rows) }); err != nil {
					return fmt.Errorf("write %s: %w", output, err)
				}
				fmt.Fprintf(out, "wrote %d attendees of product %d to %s\n", len(rows)-1, product, output)
				return nil
			})
		},
	}
	cmd.Flags().Int64Var(&product, "product", 0, "WooCommerce product id")
	cmd.Flags().StringVar(&database, "database", "", "database: a SQLite file or a postgres:// URL (default: database from the config)")
	cmd.Flags().StringVarP(&output, "output", "o", "-", "CSV file to write (- for standard output)")
	return cmd
}

// exportRows are the CSV's header and a row per registration.
func exportRows(ctx context.Context, db *store.DB, product int64) ([][]string, error) {
	regs, err := db.ProductRegistrations(ctx, product)
	if err != nil {
		return nil, err
	}
	keys := make([]rules.SeatKey, len(regs))
	for i, r := range regs {
		keys[i] = r.Key()
	}
	seats, err := db.Seats(ctx, keys)
	if err != nil {
		return nil, err
	}
	attended, err := attendanceByRegistration(ctx, db, regs)
	if err != nil {
		return nil, err
	}
	rows := [][]string{{"order_id", "line_item_id", "product_id", "email", "first_name", "last_name", "target_type", "target_id", "state", "zoom_status", "join_url", "error", "updated_at",
		"attended", "minutes", "first_join", "last_leave"}}
	for _, r := range regs {
		s := seats[r.Key()]
		row := []string{strconv.FormatInt(r.OrderID, 10), strconv.FormatInt(r.LineItemID, 10), strconv.FormatInt(r.ProductID, 10),
			r.Attendee.Email, r.Attendee.FirstName, r.Attendee.LastName, string(r.Target.Kind), strconv.FormatInt(r.Target.ID, 10),
			string(r.State), string(s.Status), s.JoinURL, r.Error, r.UpdatedAt.UTC().Format(time.RFC3339), "", "", "", ""}
		if a, ok := attended[attendanceKey{r.OrderID, r.Attendee.Email, r.Target}]; ok {
			row[13], row[14] = "no", strconv.Itoa(a.Minutes)
			if a.Attended {
				row[13], row[15], row[16] = "yes", a.FirstJoin.UTC().Format(time.RFC3339), a.LastLeave.UTC().Format(time.RFC3339)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

type attendanceKey struct {
	order  int64
	email  string
	target rules.Target
}

// attendanceByRegistration sums what was recorded of each registration's
// attendance over its meeting's ended instances: attended any, minutes in
// all, the first join and the last leave.
func attendanceByRegistration(ctx context.Context, db *store.DB, regs []rules.Registration) (map[attendanceKey]rules.AttendanceRecord, error) {
	out := map[attendanceKey]rules.AttendanceRecord{}
	seen := map[rules.Target]bool{}
	for _, r := range regs {
		if seen[r.Target] || !r.Target.OnZoom() {
			continue
		}
		seen[r.Target] = true
		records, err := db.Attendance(ctx, r.Target, 0)
		if err != nil {
			return nil, err
		}
		for _, a := range records {
			k := attendanceKey{a.OrderID, a.Email, a.Target}
			sum, ok := out[k]
			if !ok {
				out[k] = a
				continue
			}
			sum.Minutes += a.Minutes
			if a.Attended {
				if !sum.Attended || a.FirstJoin.Before(sum.FirstJoin) {
					sum.FirstJoin = a.FirstJoin
				}
				if a.LastLeave.After(sum.LastLeave) {
					sum.LastLeave = a.LastLeave
				}
				sum.Attended = true
			}
			out[k] = sum
		}
	}
	return out, nil
}

// writeCSV writes rows with every cell made safe for spreadsheets.
func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, cell := range row {
			safe[i] = spreadsheetSafe(cell)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// spreadsheetSafe keeps a spreadsheet from reading a cell as a formula
// (=HYPERLINK(...), +cmd|...): a cell that starts with = + - @, a tab or a
// carriage return gets a leading ', as OWASP's CSV-injection guidance says.
func spreadsheetSafe(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}

// writeFileAtomically writes a new owner-only file beside path and renames
// it over path once it is complete and on disk: an existing file's mode
// does not carry over, and a failed write leaves nothing half-written.
func writeFileAtomically(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close() // already failed; the error to report is err
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
