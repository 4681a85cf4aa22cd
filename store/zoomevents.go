package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/woozoom/woozoom/rules"
)

// MarkTargetBroken records that a meeting or webinar is gone from Zoom.
func (d *DB) MarkTargetBroken(ctx context.Context, t rules.Target, reason string) error {
	_, err := d.exec(ctx, `INSERT INTO broken_targets (target_kind, target_id, reason, at) VALUES (?, ?, ?, ?)
		ON CONFLICT (target_kind, target_id) DO UPDATE SET reason = excluded.reason, at = excluded.at`, t.Kind, t.ID, reason, d.now())
	if err != nil {
		return fmt.Errorf("mark %s broken: %w", t, err)
	}
	return nil
}

// BrokenTargets returns the meetings and webinars gone from Zoom, with why.
func (d *DB) BrokenTargets(ctx context.Context) (map[rules.Target]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT target_kind, target_id, reason FROM broken_targets`)
	if err != nil {
		return nil, fmt.Errorf("list broken meetings: %w", err)
	}
	defer rows.Close()
	out := map[rules.Target]string{}
	for rows.Next() {
		var t rules.Target
		var reason string
		if err := rows.Scan(&t.Kind, &t.ID, &reason); err != nil {
			return nil, fmt.Errorf("list broken meetings: %w", err)
		}
		out[t] = reason
	}
	return out, rows.Err()
}

// ActiveRegistrationsOn returns the active registrations on a target, of
// one email ("" for every attendee).
func (d *DB) ActiveRegistrationsOn(ctx context.Context, t rules.Target, email string) ([]rules.Registration, error) {
	return d.queryRegistrations(ctx, fmt.Sprintf("registrations on %s", t),
		`WHERE shop = ? AND target_kind = ? AND target_id = ? AND state = 'active' AND (? = '' OR email = ?) ORDER BY order_id, email`,
		d.shop, t.Kind, t.ID, email, email)
}

// RequeueOrder queues the order's newest delivery again, so its write-back
// follows a change woozoom learned from Zoom. A job of the order that is
// already queued will see the change, so then nothing is added; a running
// one may have read the old state, so the new job runs after it.
func (d *DB) RequeueOrder(ctx context.Context, orderID int64) (bool, error) {
	now := d.now()
	res, err := d.exec(ctx, `
		INSERT INTO jobs (delivery, order_id, resource, state, attempts, run_at, created_at, updated_at, shop)
		SELECT j.delivery, j.order_id, j.resource, 'queued', 0, ?, ?, ?, j.shop FROM jobs j
		WHERE j.shop = ? AND j.resource = ? AND j.resource != '' AND NOT EXISTS (
			SELECT 1 FROM jobs q WHERE q.shop = j.shop AND q.resource = j.resource AND q.resource != '' AND q.state = 'queued')
		ORDER BY j.id DESC LIMIT 1`, now, now, now, d.shop, string(rules.OrderKey(orderID)))
	if err != nil {
		return false, fmt.Errorf("queue order %d again: %w", orderID, err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		d.wakeOthers(ctx)
	}
	return n > 0, nil
}

// RestoreRegistrations makes active again the order's registrations a Zoom
// host cancelled (ended in Zoom), and says how many.
func (d *DB) RestoreRegistrations(ctx context.Context, orderID int64) (int, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE registrations SET state = 'active', error = '', ended = '', ended_by = '', updated_at = ?
			WHERE shop = ? AND order_id = ? AND state = 'failed' AND ended = ?`, d.now(), d.shop, orderID, rules.EndedInZoom)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("restore the registrations of order %d: %w", orderID, err)
	}
	return int(n), nil
}
