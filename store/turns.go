package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TakeTurn says whether taker does this tick's periodic work called name
// (of the shop):
// true for the first of the processes sharing the database to ask since
// the last turn was taken, which was at least nine tenths of every ago.
// Each process asks on its own ticker; the slack lets the taker of the last
// turn take the next one though its ticks drift, and one that died is
// replaced by another within a tick.
func (d *DB) TakeTurn(ctx context.Context, name, taker string, every time.Duration) (bool, error) {
	now := d.now()
	var took string
	err := d.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO turns (name, at, taker) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET at = excluded.at, taker = excluded.taker WHERE turns.at <= ?
			RETURNING name`, d.key(name), now, taker, now-every.Milliseconds()*9/10).Scan(&took)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take the turn of %s: %w", name, err)
	}
	return true, nil
}
