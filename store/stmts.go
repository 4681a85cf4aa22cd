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

// queryCached runs a read through its prepared statement.
func (d *DB) queryCached(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	s, err := d.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// scanCached runs a one-row read through its prepared statement.
func (d *DB) scanCached(ctx context.Context, tx *sql.Tx, query string, args []any, dest ...any) error {
	s, err := d.stmt(ctx, tx, query)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

// execCached runs a write through its prepared statement in tx.
func (d *DB) execCached(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
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
