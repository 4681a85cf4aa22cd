package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// ErrLeaseLost is a write refused because its holder no longer holds what
// it took: its leases expired and another holder took one over, or its job
// was claimed again. Nothing was written.
var ErrLeaseLost = errors.New("lease lost: another worker holds it now")

// Holder is one job's hold on leases, named by the job's claim token. Its
// fenced writes fail with ErrLeaseLost once a lease it took was taken over.
type Holder struct {
	db    *DB
	token string
	mu    sync.Mutex
	held  []rules.Lease
}

// Holder returns the holder named token (a job's claim token).
func (d *DB) Holder(token string) *Holder { return &Holder{db: d, token: token} }

// NewToken returns a fresh random holder token.
func NewToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// Token is the holder's name.
func (h *Holder) Token() string { return h.token }

// openLeases opens the connection for lease writes. A lease is worth
// nothing after a crash (it would lapse anyway), so its commits need not
// wait for the disk: in WAL mode synchronous=NORMAL commits without an
// fsync, and the next durable commit of any connection syncs them too. The
// fenced writes, which matter, stay on the durable connections.
func (d *DB) openLeases(ctx context.Context) error {
	if d.pg {
		return nil // see leaseTx
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		_ = conn.Close()
		return fmt.Errorf("set up the lease connection: %w", err)
	}
	d.leases = conn
	return nil
}

// querier is a connection, a transaction or the pool.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// leaseTx runs fn in a write transaction for leases. On PostgreSQL it is
// a pooled transaction whose commit does not wait for the disk
// (synchronous_commit off, the same trade as SQLite's lease connection);
// a pooled one, since a PostgreSQL session that a cancelled wait cut is
// closed, and a held connection would stay broken.
func (d *DB) leaseTx(ctx context.Context, fn func(q querier) error) error {
	if d.pg {
		return d.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	return d.rawTx(ctx, d.leases, false, func() error { return fn(d.leases) })
}

// TryTake takes every lease of want for ttl, all or none, in one
// transaction; ok is false when another holder has one of them. An expired
// lease of another holder is taken over. A lease the holder has already
// (exclusive, or shared when shared is wanted) is kept as it is.
func (h *Holder) TryTake(ctx context.Context, want []rules.Lease, ttl time.Duration) (ok bool, err error) {
	want = h.notHeld(sortedLeases(want))
	if len(want) == 0 {
		return true, nil
	}
	exclusive := slices.ContainsFunc(want, func(l rules.Lease) bool { return !l.Shared })
	// A look without the write lock first: waiting holders poll. One that
	// wants an exclusive lease goes on to mark that it waits.
	if busy, err := h.busy(ctx, h.db.db, want); err != nil || (busy && !exclusive) {
		return false, err
	}
	err = h.db.leaseTx(ctx, func(q querier) error {
		now := h.db.now()
		for _, l := range want {
			if _, err := q.ExecContext(ctx, `DELETE FROM leases WHERE key = ? AND holder != ? AND expires <= ?`, h.db.leaseKey(l.Key), h.token, now); err != nil {
				return err
			}
		}
		if busy, err := h.busy(ctx, q, want); err != nil || busy {
			if err == nil {
				err = h.markWaiting(ctx, q, want, now+ttl.Milliseconds())
			}
			return err
		}
		for _, l := range want {
			shared := heldExclusive
			if l.Shared {
				shared = heldShared
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO leases (key, holder, shared, expires) VALUES (?, ?, ?, ?)
				ON CONFLICT (key, holder) DO UPDATE SET shared = excluded.shared, expires = excluded.expires`,
				h.db.leaseKey(l.Key), h.token, shared, now+ttl.Milliseconds()); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("take %d leases: %w", len(want), err)
	}
	if ok {
		h.mu.Lock()
		h.held = sortedLeases(append(h.held, want...))
		h.mu.Unlock()
	}
	return ok, nil
}

// A lease row's shared column: held exclusive, held shared, or an
// exclusive lease waited for. A waiting exclusive holder keeps new shared
// holders out, so a product's job is not starved by its orders' jobs.
const (
	heldExclusive  = 0
	heldShared     = 1
	waitsExclusive = 2
)

// notHeld drops from want what the holder has already.
func (h *Holder) notHeld(want []rules.Lease) []rules.Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.DeleteFunc(want, func(l rules.Lease) bool {
		return slices.ContainsFunc(h.held, func(have rules.Lease) bool { return have.Key == l.Key && (!have.Shared || l.Shared) })
	})
}

// busy reports whether another holder keeps one of want from this one: for
// an exclusive lease, any holder; for a shared one, an exclusive holder or
// one waiting to be.
func (h *Holder) busy(ctx context.Context, q querier, want []rules.Lease) (bool, error) {
	now := h.db.now()
	for _, l := range want {
		var busy bool
		err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM leases WHERE key = ? AND holder != ? AND expires > ?
			AND CASE WHEN ? = 1 THEN shared IN (?, ?) ELSE shared IN (?, ?) END)`,
			h.db.leaseKey(l.Key), h.token, now, l.Shared, heldExclusive, waitsExclusive, heldExclusive, heldShared).Scan(&busy)
		if err != nil || busy {
			return busy, err
		}
	}
	return false, nil
}

// markWaiting notes that the holder waits for the exclusive leases of want.
func (h *Holder) markWaiting(ctx context.Context, q querier, want []rules.Lease, expires int64) error {
	for _, l := range want {
		if l.Shared {
			continue
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO leases (key, holder, shared, expires) VALUES (?, ?, ?, ?)
			ON CONFLICT (key, holder) DO UPDATE SET expires = excluded.expires WHERE leases.shared = ?`,
			h.db.leaseKey(l.Key), h.token, waitsExclusive, expires, waitsExclusive); err != nil {
			return err
		}
	}
	return nil
}

// stopWaiting drops the holder's marks of waiting.
func (h *Holder) stopWaiting(ctx context.Context) error {
	return h.db.leaseTx(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM leases WHERE holder = ? AND shared = ?`, h.token, waitsExclusive)
		return err
	})
}

// ErrWaitedTooLong is a Take that gave up: its holder may hold leases that
// the holders it waits for are waiting for themselves.
var ErrWaitedTooLong = fmt.Errorf("%w: waited too long for what other jobs hold", rules.ErrTemporary)

// leaseWaits is how many lease times a Take waits before it gives up.
const leaseWaits = 3

// Take takes the leases as TryTake does, waiting until they are free, ctx
// ends, or leaseWaits times ttl passed. Waiters of this process are woken
// when a lease is released; those of other processes look again every
// poll. The bound breaks a cycle of waits: a job that took leases one call
// after another (an order's product, then its seats) can wait for a seat
// held by a job that waits for the product, behind a product job waiting
// to take it alone. The one that gives up is tried again later, and its
// leases go with it.
func (h *Holder) Take(ctx context.Context, want []rules.Lease, ttl, poll time.Duration) error {
	giveUp := time.Now().Add(leaseWaits * ttl)
	for {
		freed := h.db.leaseFreed()
		ok, err := h.TryTake(ctx, want, ttl)
		if ok {
			return nil
		}
		if err == nil && time.Now().After(giveUp) {
			err = fmt.Errorf("take %d leases: %w (%s)", len(want), ErrWaitedTooLong, leaseWaits*ttl)
		}
		if err == nil {
			t := time.NewTimer(poll)
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-freed:
			case <-t.C:
			}
			t.Stop()
		}
		if err != nil {
			// Given up: new shared holders need not wait for this one.
			return errors.Join(err, h.stopWaiting(context.WithoutCancel(ctx)))
		}
	}
}

// Extend pushes the expiry of every lease the holder holds; ErrLeaseLost
// if one was taken over.
func (h *Holder) Extend(ctx context.Context, ttl time.Duration) error {
	h.mu.Lock()
	want := int64(len(h.held))
	h.mu.Unlock()
	err := h.db.leaseTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE leases SET expires = ? WHERE holder = ? AND shared != ?`, h.db.now()+ttl.Milliseconds(), h.token, waitsExclusive)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != want {
			return ErrLeaseLost
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("extend %d leases: %w", want, err)
	}
	return nil
}

// leaseKey is a lease's row key: a seat is Zoom's, one for every shop; a
// product is the shop's.
func (d *DB) leaseKey(key string) string {
	if strings.HasPrefix(key, "seat:") {
		return key
	}
	return d.key(key)
}

// Release gives up the leases of keys (none: all of them). The holder
// keeps what a failed release did not give up, so a release can be tried
// again.
func (h *Holder) Release(ctx context.Context, keys ...rules.Lease) error {
	h.mu.Lock()
	if len(keys) == 0 {
		keys = slices.Clone(h.held)
	}
	h.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	err := h.db.leaseTx(ctx, func(q querier) error {
		for _, l := range keys {
			if _, err := q.ExecContext(ctx, `DELETE FROM leases WHERE key = ? AND holder = ?`, h.db.leaseKey(l.Key), h.token); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release %d leases: %w", len(keys), err)
	}
	h.mu.Lock()
	h.held = slices.DeleteFunc(h.held, func(l rules.Lease) bool {
		return slices.ContainsFunc(keys, func(k rules.Lease) bool { return k.Key == l.Key })
	})
	h.mu.Unlock()
	h.db.signalLeaseFreed()
	return nil
}

// fenced runs fn in a transaction that first checks the holder still holds
// every lease it took; if not, nothing is written and the error is
// ErrLeaseLost.
func (h *Holder) fenced(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	h.mu.Lock()
	want := len(h.held)
	h.mu.Unlock()
	err := h.db.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM leases WHERE holder = ? AND shared != ?`, h.token, waitsExclusive).Scan(&n); err != nil {
			return err
		}
		if n != want {
			return ErrLeaseLost
		}
		return fn(tx)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// SaveSeats records what Zoom holds, as DB.SaveSeats, fenced.
func (h *Holder) SaveSeats(ctx context.Context, seats ...rules.Seat) error {
	if len(seats) == 0 {
		return nil
	}
	return h.fenced(ctx, fmt.Sprintf("save %d seats", len(seats)), func(tx *sql.Tx) error { return h.db.saveSeatsIn(ctx, tx, seats) })
}

// SaveRegistrations records an order's claims, as DB.SaveRegistrations,
// fenced.
func (h *Holder) SaveRegistrations(ctx context.Context, regs []rules.Registration) error {
	if len(regs) == 0 {
		return nil
	}
	return h.fenced(ctx, fmt.Sprintf("save %d registrations of order %d", len(regs), regs[0].OrderID), func(tx *sql.Tx) error {
		return h.db.saveRegistrationsIn(ctx, tx, regs)
	})
}

// BeginSeatChange notes seats about to change on Zoom, fenced.
func (h *Holder) BeginSeatChange(ctx context.Context, keys ...rules.SeatKey) error {
	return h.fenced(ctx, "note seat changes", func(tx *sql.Tx) error { return h.db.seatChangeIn(ctx, tx, true, keys) })
}

// EndSeatChange notes seat changes as answered, fenced.
func (h *Holder) EndSeatChange(ctx context.Context, keys ...rules.SeatKey) error {
	return h.fenced(ctx, "end seat changes", func(tx *sql.Tx) error { return h.db.seatChangeIn(ctx, tx, false, keys) })
}

func sortedLeases(ls []rules.Lease) []rules.Lease {
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b rules.Lease) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(boolInt(a.Shared), boolInt(b.Shared)))
	})
	// One lease per key: exclusive wins over shared.
	return slices.CompactFunc(ls, func(a, b rules.Lease) bool { return a.Key == b.Key })
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// leaseFreed returns a channel closed at the next release in this process.
func (d *DB) leaseFreed() <-chan struct{} {
	d.leaseMu.Lock()
	defer d.leaseMu.Unlock()
	if d.freed == nil {
		d.freed = make(chan struct{})
	}
	return d.freed
}

func (d *DB) signalLeaseFreed() {
	d.leaseMu.Lock()
	defer d.leaseMu.Unlock()
	if d.freed != nil {
		close(d.freed)
		d.freed = nil
	}
}
