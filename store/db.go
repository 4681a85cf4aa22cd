// Package store keeps woozoom's state in one SQLite file, or on a PostgreSQL
// server that several processes share: deliveries, the job queue, mappings,
// what Zoom holds and each order's registrations. Methods speak the domain
// (rules) and each runs in one transaction.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is the store, on SQLite or PostgreSQL, as one shop sees it: Open
// returns the default shop's; Shop gives another shop's on the same
// database.
type DB struct {
	*engine
	// shop names the shop whose deliveries, jobs, orders, registrations,
	// mappings and made meetings this DB reads and writes. What is Zoom's
	// (meetings' details, seats, the pace, hosts' daily ledger) is shared.
	shop string
}

// DefaultShop is the shop of a configuration without shops: (and of every
// row written before there were shops).
const DefaultShop = "default"

// Shop is the store as the named shop sees it, on the same database.
func (d *DB) Shop(name string) *DB { return &DB{engine: d.engine, shop: name} }

// key names a shop's row of what all shops keep in one table
// (checkpoints, turns, product leases): the default shop's as before
// shops, another's after its name.
func (d *DB) key(name string) string {
	if d.shop == DefaultShop {
		return name
	}
	return d.shop + "/" + name
}

// ShopName names the shop this DB works for.
func (d *DB) ShopName() string { return d.shop }

// engine is the database all shops share.
type engine struct {
	db  *sql.DB
	Now func() time.Time
	// pg is set on PostgreSQL. The SQL is the same on both engines (see
	// pgConnector); what differs is how a write transaction starts.
	pg bool
	// pgConfig opens the connection that listens for other processes' work.
	pgConfig *pgx.ConnConfig
	// writes queues this process's writers in Go. SQLite's own busy wait
	// sleeps and retries, so under a stream of webhook commits a waiting
	// worker could lose the race for the lock again and again.
	writes sync.Mutex
	// others queues every writer but the webhooks' before writes, so a
	// commit of deliveries waits for at most one job's commit, not for one
	// of every worker's.
	others sync.Mutex
	// ingest group-commits deliveries.
	ingest *ingest
	// freed is closed when a lease is released, to wake this process's
	// waiters at once.
	leaseMu sync.Mutex
	freed   chan struct{}
	// leases is the connection lease writes go through (see openLeases).
	leases *sql.Conn
	stmts  stmts
}

// idleConns is how many connections stay open between queries: one for
// each of worker.workers' default 16 jobs.
const idleConns = 16

// Open opens the database and applies the migrations it does not have yet:
// a postgres:// URL connects to that server, anything else is the path of
// a SQLite file, created owner-only if needed. It refuses a database
// written by a newer woozoom.
func Open(ctx context.Context, file string) (*DB, error) {
	if file == "" {
		return nil, errors.New("open database: no path given")
	}
	if IsPostgres(file) {
		return openPostgres(ctx, file)
	}
	// The file holds order data and registrant links: owner-only from birth.
	if f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	} else if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	// Set through the DSN so that every pooled connection gets them.
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "FULL")
	sqldb, err := sql.Open("sqlite3", "file:"+file+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	// database/sql keeps two idle connections and closes the others after
	// use: with a job per worker reading at once, queries kept opening
	// connections (each parsing the schema again) and the C heap grew with
	// the churn, by 9 MB over 5,000 cancellations.
	sqldb.SetMaxIdleConns(idleConns)
	sqldb.SetConnMaxIdleTime(time.Minute)
	d := &DB{engine: &engine{db: sqldb, Now: time.Now}, shop: DefaultShop}
	if err := d.start(ctx); err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	return d, nil
}

// start migrates the schema and opens the ingest and lease connections;
// on an error it closes the database.
func (d *DB) start(ctx context.Context) error {
	if err := d.migrate(ctx); err != nil {
		_ = d.db.Close() // the migration's error is the one to report
		return fmt.Errorf("migrate: %w", err)
	}
	if err := d.startIngest(ctx); err != nil {
		_ = d.db.Close()
		return err
	}
	if err := d.openLeases(ctx); err != nil {
		_ = d.ingest.close()
		_ = d.db.Close()
		return err
	}
	return nil
}

// Close commits the deliveries already queued and closes the database.
func (d *DB) Close() error {
	ierr := d.ingest.close()
	var lerr error
	if d.leases != nil {
		lerr = d.leases.Close()
	}
	return errors.Join(ierr, lerr, d.stmts.close(), d.db.Close())
}

func (d *DB) now() int64 { return d.Now().UnixMilli() }

// migrate applies the engine's migrations the database lacks. On
// PostgreSQL it holds an advisory lock meanwhile, so replicas starting
// together migrate once.
func (d *DB) migrate(ctx context.Context) error {
	dir := "migrations/*.sql"
	if d.pg {
		conn, err := d.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close() }() // back to the pool; nothing written on it
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("wait for other processes' migrations: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(?)`, int64(migrateLock)); err != nil {
				// A session that may still hold the lock is closed, not
				// pooled: the lock ends with it.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
		dir = "migrations/postgres/*.sql"
	}
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, dir)
	if err != nil {
		return err
	}
	sort.Strings(names)
	var have int
	if err := d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return err
	}
	latest := 0
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		latest = max(latest, v)
		if v <= have {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = d.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("apply %s: %w", name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v)
			return err
		})
		if err != nil {
			return err
		}
	}
	if have > latest {
		return fmt.Errorf("database schema version %d is newer than this woozoom knows (%d); upgrade woozoom", have, latest)
	}
	return nil
}

// exec runs one write statement.
func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.pg {
		var res sql.Result
		err := d.tx(ctx, func(tx *sql.Tx) error {
			var err error
			res, err = tx.ExecContext(ctx, query, args...)
			return err
		})
		return res, err
	}
	defer d.lockWrites(false)()
	return d.db.ExecContext(ctx, query, args...)
}

// lockWritesOnServer takes the server's write lock for the transaction that
// runs on q (PostgreSQL only; SQLite's immediate transactions have it).
func (d *DB) lockWritesOnServer(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) error {
	if !d.pg {
		return nil
	}
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(writeLock)); err != nil {
		return fmt.Errorf("take the write lock: %w", err)
	}
	return nil
}

// lockWrites queues a writer of this process and returns its unlock;
// deliveries are first in line.
func (d *DB) lockWrites(deliveries bool) (unlock func()) {
	if deliveries {
		d.writes.Lock()
		return d.writes.Unlock
	}
	d.others.Lock()
	d.writes.Lock()
	return func() { d.writes.Unlock(); d.others.Unlock() }
}

// rawTx runs fn in one immediate transaction on conn, whose prepared
// statements fn uses; it queues with the process's other writers, first in
// line if it writes deliveries.
func (d *DB) rawTx(ctx context.Context, conn *sql.Conn, deliveries bool, fn func() error) error {
	defer d.lockWrites(deliveries)()
	begin := "BEGIN IMMEDIATE"
	if d.pg {
		begin = "BEGIN"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return err
	}
	err := d.lockWritesOnServer(ctx, conn)
	if err == nil {
		err = fn()
	}
	if err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	return nil
}

// tx runs fn in one immediate transaction.
func (d *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return d.txFor(ctx, false, fn)
}

// txFor runs fn in one immediate transaction, first in line if it writes
// deliveries.
func (d *DB) txFor(ctx context.Context, deliveries bool, fn func(*sql.Tx) error) error {
	defer d.lockWrites(deliveries)()
	return d.runTx(ctx, true, fn)
}

// runTx runs fn in one transaction, which takes the server's write lock
// if writeLock is set. On PostgreSQL the deliveries' batches do without
// it: a delivery is unique by its Delivery-ID and body whoever writes it,
// and a new queued job changes nothing another writer relies on (a claim
// looks for running jobs), so replicas store deliveries side by side.
func (d *DB) runTx(ctx context.Context, writeLock bool, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if writeLock {
		err = d.lockWritesOnServer(ctx, tx)
	}
	if err == nil {
		err = fn(tx)
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
