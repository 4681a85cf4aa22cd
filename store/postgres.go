package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/woozoom/woozoom/rules"
)

// IsPostgres says whether a database setting names a PostgreSQL server
// (a postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Redacted returns a database setting fit for a log or an error: a
// PostgreSQL URL without its password, a file path as it is.
func Redacted(database string) string {
	if !IsPostgres(database) {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "postgres://(unreadable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Advisory lock keys. writeLock serialises the write transactions of every
// process on the database as SQLite's one write lock does, so the rules
// written for serial writes (all-or-none leases, fenced writes, folding an
// order's jobs) stay true on both engines. Batches of deliveries and claims
// do without it (see runTx and claimPostgres).
const (
	writeLock   = 0x776f6f7a6f6f6d01 // "woozoom" 1
	migrateLock = 0x776f6f7a6f6f6d02
)

// maxPGConns is how many sessions one process opens at most, besides the
// one it listens on: a job's writes are short, and three replicas stay
// under PostgreSQL's default 100.
const maxPGConns = 24

// openPostgres connects to the server at dsn and migrates its schema.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("read the PostgreSQL URL %s: %w", Redacted(dsn), err)
	}
	sqldb := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	// A server takes a bounded number of sessions (100 by default), shared
	// by every replica; beyond its own, a replica's queries wait for one.
	sqldb.SetMaxOpenConns(maxPGConns)
	sqldb.SetMaxIdleConns(idleConns)
	sqldb.SetConnMaxIdleTime(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("reach PostgreSQL at %s: %w", Redacted(dsn), err)
	}
	d := &DB{engine: &engine{db: sqldb, Now: time.Now, pg: true, pgConfig: cfg}, shop: DefaultShop}
	if err := d.start(ctx); err != nil {
		return nil, fmt.Errorf("open PostgreSQL at %s: %w", Redacted(dsn), err)
	}
	return d, nil
}

// pgConnector hands database/sql connections that take the store's SQL as
// written for SQLite: ? placeholders become $1, $2…; SQLite's planner hints
// (INDEXED BY) are dropped; a bool argument is sent as 1 or 0, the way the
// schema keeps flags on both engines.
type pgConnector struct{ inner driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, classify(err)
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("pgx gave a %T, not its stdlib connection", conn)
	}
	return &pgConn{pc}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	st, err := c.Conn.Prepare(rebind(query))
	return st, classify(err)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, rebind(query))
	return st, classify(err)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.Conn.ExecContext(ctx, rebind(query), args)
	return res, classify(err)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, rebind(query), args)
	return rows, classify(err)
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, classify(err)
	}
	return pgTx{tx}, nil
}

type pgTx struct{ driver.Tx }

func (t pgTx) Commit() error { return classify(t.Tx.Commit()) }

// classify marks the errors of a server that does not answer (refused or
// cut connections, a server shutting down or starting) as
// rules.ErrUnavailable: the work waits for the database, as it waits for
// Zoom, and is not charged a try or parked for a person.
func classify(err error) error {
	if err == nil || !lostServer(err) {
		return err
	}
	return &unavailable{err: err}
}

func lostServer(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "53300":
			// shut down by the admin, crashed, starting up, too many connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// unavailable is an error of a database that does not answer.
type unavailable struct{ err error }

func (e *unavailable) Error() string   { return "the database does not answer: " + e.err.Error() }
func (e *unavailable) Unwrap() []error { return []error{rules.ErrUnavailable, e.err} }
func (e *unavailable) Service() string { return "database" }
func (e *unavailable) Summary() string { return "the database does not answer" }

func (c *pgConn) CheckNamedValue(v *driver.NamedValue) error {
	if b, ok := v.Value.(bool); ok {
		v.Value = int64(0)
		if b {
			v.Value = int64(1)
		}
	}
	return c.Conn.CheckNamedValue(v)
}

var indexedBy = regexp.MustCompile(`(?i)\s+INDEXED\s+BY\s+\w+`)

// rebind turns SQLite's ? placeholders into PostgreSQL's numbered ones,
// leaving quoted text and comments alone.
func rebind(query string) string {
	query = indexedBy.ReplaceAllString(query, "")
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		switch c := query[i]; {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+1])
			i += end
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
