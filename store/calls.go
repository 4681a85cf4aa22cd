package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// RecordCalls adds outbound calls to the audit log in one transaction.
func (d *DB) RecordCalls(ctx context.Context, calls []rules.Call) error {
	if len(calls) == 0 {
		return nil
	}
	err := d.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `
			INSERT INTO calls (at, service, operation, method, path, status, code, duration_ms, job_id, order_id, run, shop)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer func() { _ = st.Close() }() // the transaction's end closes it too
		for _, c := range calls {
			shop := c.Shop
			if shop == "" {
				shop = d.shop
			}
			if _, err := st.ExecContext(ctx, c.At.UnixMilli(), c.Service, c.Operation, c.Method, c.Path, c.Status, c.Code,
				c.Duration.Milliseconds(), c.JobID, c.OrderID, c.Run, shop); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d calls in the audit log: %w", len(calls), err)
	}
	return nil
}

// PruneCalls deletes the audit log's calls made before before, and says how
// many.
func (d *DB) PruneCalls(ctx context.Context, before time.Time) (int, error) {
	res, err := d.exec(ctx, `DELETE FROM calls WHERE at < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune the audit log: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CallFilter selects the shop's audit log entries: of one order (0: any),
// newest first, at most Limit.
type CallFilter struct {
	OrderID int64
	Limit   int
}

// Calls returns audit log entries, newest first.
func (d *DB) Calls(ctx context.Context, f CallFilter) ([]rules.Call, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := `SELECT id, at, service, operation, method, path, status, code, duration_ms, job_id, order_id, run, shop FROM calls WHERE shop = ?`
	args := []any{d.shop}
	if f.OrderID != 0 {
		q += ` AND order_id = ?`
		args = append(args, f.OrderID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := d.db.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	var out []rules.Call
	for rows.Next() {
		var c rules.Call
		var at, ms int64
		if err := rows.Scan(&c.ID, &at, &c.Service, &c.Operation, &c.Method, &c.Path, &c.Status, &c.Code, &ms, &c.JobID, &c.OrderID, &c.Run, &c.Shop); err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		c.At, c.Duration = time.UnixMilli(at).UTC(), time.Duration(ms)*time.Millisecond
		out = append(out, c)
	}
	return out, rows.Err()
}

// CallsSince counts the calls to a service since a time, by operation.
func (d *DB) CallsSince(ctx context.Context, service string, since time.Time) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT operation, COUNT(*) FROM calls WHERE service = ? AND at >= ? GROUP BY operation`, service, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("count calls to %s: %w", service, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var op string
		var n int
		if err := rows.Scan(&op, &n); err != nil {
			return nil, fmt.Errorf("count calls to %s: %w", service, err)
		}
		out[op] = n
	}
	return out, rows.Err()
}
