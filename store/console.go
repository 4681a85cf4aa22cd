package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// OrderSummary is one order as the admin console lists it.
type OrderSummary struct {
	OrderID  int64
	Status   string    // of the newest view applied ("" if none yet)
	Modified time.Time // of that view
	Emails   []string  // attendees registered or refused
}

// FindOrders finds orders by number or attendee email (a part of it), newest
// first, at most limit.
func (d *DB) FindOrders(ctx context.Context, q string, limit int) ([]OrderSummary, error) {
	q = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(q), "#"))
	var ids []int64
	if id, err := strconv.ParseInt(q, 10, 64); err == nil {
		ids = []int64{id}
	} else {
		rows, err := d.db.QueryContext(ctx, `
			SELECT order_id FROM registrations WHERE shop = ? AND instr(email, ?) > 0
			GROUP BY order_id ORDER BY order_id DESC LIMIT ?`, d.shop, strings.ToLower(q), limit)
		if err != nil {
			return nil, fmt.Errorf("find orders by %q: %w", q, err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("find orders by %q: %w", q, err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("find orders by %q: %w", q, err)
		}
	}
	var out []OrderSummary
	for _, id := range ids {
		s := OrderSummary{OrderID: id}
		st, seen, err := d.OrderState(ctx, id)
		if err != nil {
			return nil, err
		}
		regs, err := d.Registrations(ctx, id)
		if err != nil {
			return nil, err
		}
		jobs, err := d.JobsOfOrder(ctx, id)
		if err != nil {
			return nil, err
		}
		if !seen && len(regs) == 0 && len(jobs) == 0 {
			continue
		}
		if seen {
			s.Status, s.Modified = st.Status, st.Modified
		}
		for _, r := range regs {
			if !slices.Contains(s.Emails, r.Attendee.Email) {
				s.Emails = append(s.Emails, r.Attendee.Email)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// JobsOfOrder returns an order's jobs, newest first.
func (d *DB) JobsOfOrder(ctx context.Context, orderID int64) ([]rules.Job, error) {
	return d.queryJobs(ctx, fmt.Sprintf("jobs of order %d", orderID), `WHERE j.shop = ? AND j.resource = ? AND j.resource != '' ORDER BY j.id DESC LIMIT 200`, d.shop, string(rules.OrderKey(orderID)))
}

// SeatCounts counts what Zoom holds on each meeting or webinar, by status.
func (d *DB) SeatCounts(ctx context.Context) (map[rules.Target]map[rules.SeatStatus]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT target_kind, target_id, status, COUNT(*) FROM seats GROUP BY target_kind, target_id, status`)
	if err != nil {
		return nil, fmt.Errorf("count registrants: %w", err)
	}
	defer rows.Close()
	out := map[rules.Target]map[rules.SeatStatus]int{}
	for rows.Next() {
		var t rules.Target
		var s rules.SeatStatus
		var n int
		if err := rows.Scan(&t.Kind, &t.ID, &s, &n); err != nil {
			return nil, fmt.Errorf("count registrants: %w", err)
		}
		if out[t] == nil {
			out[t] = map[rules.SeatStatus]int{}
		}
		out[t][s] = n
	}
	return out, rows.Err()
}
