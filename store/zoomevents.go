package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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

// RequeueOrder queues a job that applies the order as the shop has it now
// (woozoom's own order.refresh), so its write-back follows a change
// woozoom learned elsewhere (Zoom's events, a recording, attendance). Not
// the order's last delivery again: that may be a stale view, which is
// skipped without a write-back. One queued refresh of an order is enough;
// a running job may have read the old state, so the new one runs after it.
func (d *DB) RequeueOrder(ctx context.Context, orderID int64) (bool, error) {
	n, err := d.RequeueOrders(ctx, []int64{orderID})
	return n == 1, err
}

// RequeueOrders is RequeueOrder for many orders (every order of an ended
// webinar), a transaction per requeueBatch of them, and says how many it
// queued.
func (d *DB) RequeueOrders(ctx context.Context, orderIDs []int64) (int, error) {
	queued := 0
	for start := 0; start < len(orderIDs); start += requeueBatch {
		n, err := d.requeueOrders(ctx, orderIDs[start:min(start+requeueBatch, len(orderIDs))])
		queued += n
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// requeueBatch keeps each transaction short: SQLite takes no other write
// (a delivery) while one is open.
const requeueBatch = 500

func (d *DB) requeueOrders(ctx context.Context, orderIDs []int64) (int, error) {
	if len(orderIDs) == 0 {
		return 0, nil
	}
	queued := 0
	err := d.tx(ctx, func(tx *sql.Tx) error {
		queued = 0
		now := d.now()
		for _, orderID := range orderIDs {
			key := string(rules.OrderKey(orderID))
			var busy bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs j JOIN deliveries d ON d.id = j.delivery
				WHERE j.shop = ? AND j.resource = ? AND j.state = 'queued' AND d.topic = ?)`, d.shop, key, OrderRefreshTopic).Scan(&busy); err != nil {
				return err
			}
			if busy {
				continue
			}
			body := []byte(fmt.Sprintf(`{"id":%d}`, orderID))
			sum := sha256.Sum256(body)
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (delivery_id, body_sha256, topic, source, order_id, body, received_at, shop)
				VALUES (?, ?, ?, 'woozoom', ?, ?, ?, ?) RETURNING id`,
				"woozoom-"+NewToken(), hex.EncodeToString(sum[:]), OrderRefreshTopic, orderID, body, now, d.shop).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (delivery, order_id, resource, state, run_at, created_at, updated_at, shop)
				VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`, id, orderID, key, now, now, now, d.shop); err != nil {
				return err
			}
			queued++
		}
		return nil
	})
	if err != nil {
		if len(orderIDs) == 1 {
			return 0, fmt.Errorf("queue order %d again: %w", orderIDs[0], err)
		}
		return 0, fmt.Errorf("queue %d orders again: %w", len(orderIDs), err)
	}
	if queued > 0 {
		d.wakeOthers(ctx)
	}
	return queued, nil
}

// OrderRefreshTopic is woozoom's own order job: apply the order as the
// shop has it now.
const OrderRefreshTopic = "order.refresh"

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
