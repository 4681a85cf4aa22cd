package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// MadeMeetings returns what woozoom recorded of the meetings it made for a
// product, by day.
func (d *DB) MadeMeetings(ctx context.Context, productID int64) ([]rules.MadeMeeting, error) {
	return d.queryMade(ctx, fmt.Sprintf("meetings made for product %d", productID), `WHERE shop = ? AND product_id = ?`, d.shop, productID)
}

// AllMadeMeetings returns every meeting woozoom made or is making.
func (d *DB) AllMadeMeetings(ctx context.Context) ([]rules.MadeMeeting, error) {
	return d.queryMade(ctx, "meetings made for products", `WHERE shop = ?`, d.shop)
}

func (d *DB) queryMade(ctx context.Context, what, where string, args ...any) ([]rules.MadeMeeting, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT product_id, day, target_kind, host, ref, state, target_id, digest, orders_pending FROM made_meetings `+where+` ORDER BY product_id, day`, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	var out []rules.MadeMeeting
	for rows.Next() {
		var m rules.MadeMeeting
		if err := rows.Scan(&m.ProductID, &m.Day, &m.Kind, &m.Host, &m.Ref, &m.State, &m.Target.ID, &m.Digest, &m.OrdersPending); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		m.Target.Kind = m.Kind
		out = append(out, m)
	}
	return out, rows.Err()
}

// SaveMadeMeeting records a meeting woozoom is making, made or deleted for
// a product's day.
func (d *DB) SaveMadeMeeting(ctx context.Context, m rules.MadeMeeting) error {
	_, err := d.exec(ctx, `
		INSERT INTO made_meetings (product_id, day, target_kind, host, ref, state, target_id, digest, orders_pending, updated_at, shop)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop, product_id, day) DO UPDATE SET target_kind = excluded.target_kind, host = excluded.host, ref = excluded.ref,
			state = excluded.state, target_id = excluded.target_id, digest = excluded.digest, orders_pending = excluded.orders_pending,
			updated_at = excluded.updated_at`,
		m.ProductID, m.Day, m.Kind, m.Host, m.Ref, m.State, m.Target.ID, m.Digest, m.OrdersPending, d.now(), d.shop)
	if err != nil {
		return fmt.Errorf("record %s meeting of product %d day %d: %w", m.State, m.ProductID, m.Day, err)
	}
	return nil
}

// OrdersQueued records that the product's completed orders were queued to
// register on the meetings made for it.
func (d *DB) OrdersQueued(ctx context.Context, productID int64) error {
	_, err := d.exec(ctx, `UPDATE made_meetings SET orders_pending = 0, updated_at = ? WHERE shop = ? AND product_id = ? AND orders_pending = 1`, d.now(), d.shop, productID)
	if err != nil {
		return fmt.Errorf("record the orders of product %d queued: %w", productID, err)
	}
	return nil
}

// BeingDeleted says whether t is a meeting woozoom made and is deleting or
// deleted (with its product).
func (d *DB) BeingDeleted(ctx context.Context, t rules.Target) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM made_meetings INDEXED BY made_meetings_target
		WHERE target_kind = ? AND target_id = ? AND state IN ('deleting', 'deleted')`, t.Kind, t.ID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is %s a meeting woozoom deletes: %w", t, err)
	}
	return n > 0, nil
}

// ForgetMadeMeeting drops the record of a create that Zoom refused: it
// made nothing, so there is nothing to look for.
func (d *DB) ForgetMadeMeeting(ctx context.Context, productID int64, day int) error {
	_, err := d.exec(ctx, `DELETE FROM made_meetings WHERE shop = ? AND product_id = ? AND day = ? AND state = 'creating'`, d.shop, productID, day)
	if err != nil {
		return fmt.Errorf("forget the refused meeting of product %d day %d: %w", productID, day, err)
	}
	return nil
}

// TakeHostCall counts one meeting create, update or delete of host in the
// UTC day of at, unless limit are counted already (ok false); used is how
// many are counted with it.
func (d *DB) TakeHostCall(ctx context.Context, host string, at time.Time, limit int) (used int, ok bool, err error) {
	err = d.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO host_usage (host, day, used) VALUES (?, ?, 1)
			ON CONFLICT (host, day) DO UPDATE SET used = host_usage.used + 1 WHERE host_usage.used < ?
			RETURNING used`, host, at.UTC().Format(time.DateOnly), limit).Scan(&used)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return limit, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("count a meeting change of host %s: %w", host, err)
	}
	return used, true, nil
}

// HostUsage returns how many meeting changes each host made in the UTC day
// of at.
func (d *DB) HostUsage(ctx context.Context, at time.Time) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT host, used FROM host_usage WHERE day = ?`, at.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("read hosts' meeting changes: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var h string
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			return nil, fmt.Errorf("read hosts' meeting changes: %w", err)
		}
		out[h] = n
	}
	return out, rows.Err()
}

// ReleaseTarget records every active registration of the shop on a meeting
// woozoom deleted as cancelled, ended by the event's withdrawal, and its
// seats as denied (Zoom dropped its registrants with it). It returns the
// shop's orders that held it.
func (d *DB) ReleaseTarget(ctx context.Context, t rules.Target, reason string) ([]int64, error) {
	var orders []int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT order_id FROM registrations WHERE shop = ? AND target_kind = ? AND target_id = ? AND state = 'active' ORDER BY order_id`, d.shop, t.Kind, t.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			orders = append(orders, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := d.now()
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET state = 'cancelled', error = ?, ended = ?, ended_by = '', updated_at = ?
			WHERE shop = ? AND target_kind = ? AND target_id = ? AND state = 'active'`, reason, rules.EndedByWithdrawal, now, d.shop, t.Kind, t.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE seats SET status = 'denied', updated_at = ? WHERE target_kind = ? AND target_id = ?`, now, t.Kind, t.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("release the registrations on %s: %w", t, err)
	}
	return orders, nil
}

// SaveProductMeetings records what a product job found of the product's
// meetings.
func (d *DB) SaveProductMeetings(ctx context.Context, productID int64, state rules.ProductMeetings) error {
	_, err := d.exec(ctx, `INSERT INTO product_meetings (shop, product_id, state, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop, product_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`, d.shop, productID, state, d.now())
	if err != nil {
		return fmt.Errorf("record the meetings of product %d as %s: %w", productID, state, err)
	}
	return nil
}

// ProductMeetings returns what the last job of the product found of its
// meetings; ok is false when no job has run for it.
func (d *DB) ProductMeetings(ctx context.Context, productID int64) (state rules.ProductMeetings, ok bool, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT state FROM product_meetings WHERE shop = ? AND product_id = ?`, d.shop, productID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read the meetings of product %d: %w", productID, err)
	}
	return state, true, nil
}

// QueueProductJob queues a job of the product, unless one is queued or
// running already; it says whether it queued one. The job reads the product
// from the shop, as a product delivery's would.
func (d *DB) QueueProductJob(ctx context.Context, productID int64) (bool, error) {
	key := rules.ProductKey(productID)
	queued := false
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var busy bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE shop = ? AND resource = ? AND state IN ('queued', 'running'))`, d.shop, key).Scan(&busy); err != nil || busy {
			return err
		}
		now := d.now()
		body := fmt.Sprintf(`{"id":%d}`, productID)
		sum := sha256.Sum256([]byte(body))
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (delivery_id, body_sha256, topic, source, body, received_at, shop) VALUES (?, ?, 'product.updated', 'woozoom', ?, ?, ?) RETURNING id`,
			"woozoom-"+NewToken(), hex.EncodeToString(sum[:]), []byte(body), now, d.shop).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO jobs (delivery, resource, state, run_at, created_at, updated_at, shop) VALUES (?, ?, 'queued', ?, ?, ?, ?)`, id, key, now, now, now, d.shop)
		queued = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("queue a job of product %d: %w", productID, err)
	}
	if queued {
		d.wakeOthers(ctx)
	}
	return queued, nil
}

// SavePace keeps what woozoom learned of a Zoom account's limits.
func (d *DB) SavePace(ctx context.Context, account string, p rules.LearnedPace) error {
	_, err := d.exec(ctx, `INSERT INTO zoom_pace (account, light, medium, light_limit, medium_limit, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET light = excluded.light, medium = excluded.medium, light_limit = excluded.light_limit,
			medium_limit = excluded.medium_limit, updated_at = excluded.updated_at`, account, p.Light, p.Medium, p.LightLimit, p.MediumLimit, d.now())
	if err != nil {
		return fmt.Errorf("keep the pace learned of Zoom: %w", err)
	}
	return nil
}

// Pace returns what woozoom learned of a Zoom account's limits; ok is
// false before it learned anything.
func (d *DB) Pace(ctx context.Context, account string) (p rules.LearnedPace, ok bool, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT light, medium, light_limit, medium_limit FROM zoom_pace WHERE account = ?`, account).Scan(
		&p.Light, &p.Medium, &p.LightLimit, &p.MediumLimit)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("read the pace learned of Zoom: %w", err)
	}
	return p, true, nil
}
