package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// workChannel is the PostgreSQL channel on which a process that queued work
// wakes the others.
const workChannel = "woozoom_work"

// wakeOthers tells the other processes on the database that work was queued
// or made due (PostgreSQL only: they poll on SQLite). A lost wake costs
// only a poll interval: its error is dropped, not the write's.
func (d *DB) wakeOthers(ctx context.Context) {
	if d.pg {
		_, _ = d.db.ExecContext(ctx, `SELECT pg_notify('`+workChannel+`', '')`)
	}
}

// Listen calls wake whenever another process on the database queued work,
// until ctx ends. On SQLite it returns at once: processes there poll. A
// lost connection is opened again, at growing intervals while the server
// does not answer; wake is called after each reconnection too, since
// notifications sent meanwhile were lost.
func (d *DB) Listen(ctx context.Context, wake func(), log *slog.Logger) {
	if !d.pg {
		return
	}
	wait := time.Second
	for ctx.Err() == nil {
		err := d.listen(ctx, wake, func() { wait = time.Second })
		if ctx.Err() != nil {
			return
		}
		log.Warn("listening for other processes' work stopped; listening again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (d *DB) listen(ctx context.Context, wake, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, d.pgConfig)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // a listener writes nothing
	if _, err := conn.Exec(ctx, `LISTEN `+workChannel); err != nil {
		return err
	}
	connected()
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
