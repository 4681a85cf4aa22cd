package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmts keeps the statements of the queries every job runs, prepared once;
// database/sql then keeps each prepared on every connection it runs on.
// Parsing them again for each job took a tenth of woozoom's CPU while
// webhooks streamed in. Only constant query texts come here.
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns query's prepared statement, bound to tx if tx is not nil.
func (d *DB) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	d.stmts.mu.Lock()
	s, ok := d.stmts.m[query]
	if !ok {
		var err error
		if s, err = d.db.PrepareContext(ctx, query); err != nil {
			d.stmts.mu.Unlock()
			return nil, err
		}
		if d.stmts.m == nil {
			d.stmts.m = map[string]*sql.Stmt{}
		}
		d.stmts.m[query] = s
	}
	d.stmts.mu.Unlock()
	if tx != nil {
		return tx.StmtContext(ctx, s), nil
	}
	return s, nil
}

// On PostgreSQL the statements are not kept here: pgx prepares and keeps
// every query on the connection it runs on, and preparing through the pool
// from inside a transaction would take a second connection while the
// transaction holds one (with every connection in a transaction, none left).

// on is where a query of tx (nil: none) runs directly.
func (d *DB) on(tx *sql.Tx) querier {
	if tx != nil {
		return tx
	}
	return d.db
}

// rowCached runs a one-row read through its prepared statement.
func (d *DB) rowCached(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Row, error) {
	if d.pg {
		return d.on(tx).QueryRowContext(ctx, query, args...), nil
	}
	s, err := d.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(ctx, args...), nil
}

// queryCached runs a read through its prepared statement.
func (d *DB) queryCached(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if d.pg {
		return d.on(tx).QueryContext(ctx, query, args...)
	}
	s, err := d.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// scanCached runs a one-row read through its prepared statement.
func (d *DB) scanCached(ctx context.Context, tx *sql.Tx, query string, args []any, dest ...any) error {
	row, err := d.rowCached(ctx, tx, query, args...)
	if err != nil {
		return err
	}
	return row.Scan(dest...)
}

// execCached runs a write through its prepared statement in tx.
func (d *DB) execCached(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if d.pg {
		return d.on(tx).ExecContext(ctx, query, args...)
	}
	s, err := d.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (s *stmts) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, st := range s.m {
		errs = append(errs, st.Close())
	}
	s.m = nil
	return errors.Join(errs...)
}
