package store

import (
	"context"
	"fmt"
	"math"
	"time"
)

// ReserveSlots reserves the next n send slots of the pace named key, shared
// by every process on the database: slots follow each other at the key's
// rate, after the last one handed out (or now), so the calls of all
// processes together never go faster than the rate. The first use sets the
// rate to pace. It returns when the first slot is, the rate (calls per
// second) the slots follow and the limit learned of Zoom (0: none yet).
func (d *DB) ReserveSlots(ctx context.Context, key string, n int, pace float64) (first time.Time, rate, limit float64, err error) {
	if n < 1 || pace <= 0 {
		return time.Time{}, 0, 0, fmt.Errorf("reserve %d slots of %s at %g a second: nothing to reserve", n, key, pace)
	}
	now := float64(d.Now().UnixMicro()) / 1000
	var next float64
	err = d.leaseTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO zoom_slots (key, next_at, rate, changed_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, key, now, pace, d.Now().UnixMilli()); err != nil {
			return err
		}
		return q.QueryRowContext(ctx, `UPDATE zoom_slots
			SET next_at = CASE WHEN next_at > ? THEN next_at ELSE ? END + ? * 1000.0 / rate
			WHERE key = ? RETURNING next_at, rate, rate_limit`, now, now, n, key).Scan(&next, &rate, &limit)
	})
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("reserve %d slots of %s: %w", n, key, err)
	}
	start := next - float64(n)*1000/rate
	ms := math.Floor(start)
	return time.UnixMilli(int64(ms)).Add(time.Duration((start - ms) * float64(time.Millisecond))), rate, limit, nil
}

// SetSharedPace sets the rate of the pace named key and the limit learned
// of Zoom (0: none) for every process, and hands out no slot before hold
// (a refused second).
func (d *DB) SetSharedPace(ctx context.Context, key string, rate, limit float64, hold time.Time) error {
	if rate <= 0 {
		return fmt.Errorf("set the pace of %s to %g a second: not a pace", key, rate)
	}
	now := d.Now()
	holdMs := float64(hold.UnixMicro()) / 1000
	err := d.leaseTx(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO zoom_slots (key, next_at, rate, rate_limit, changed_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET rate = excluded.rate, rate_limit = excluded.rate_limit, changed_at = excluded.changed_at,
				next_at = CASE WHEN zoom_slots.next_at > excluded.next_at THEN zoom_slots.next_at ELSE excluded.next_at END`,
			key, math.Max(holdMs, float64(now.UnixMicro())/1000), rate, limit, now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("set the shared pace of %s: %w", key, err)
	}
	return nil
}
