package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

const registrationColumns = `order_id, line_item_id, product_id, target_kind, target_id, email, first_name, last_name, state, error, updated_at, email_typed, ended, ended_by`

func scanRegistration(rows *sql.Rows) (rules.Registration, error) {
	var r rules.Registration
	var updated int64
	err := rows.Scan(&r.OrderID, &r.LineItemID, &r.ProductID, &r.Target.Kind, &r.Target.ID, &r.Attendee.Email,
		&r.Attendee.FirstName, &r.Attendee.LastName, &r.State, &r.Error, &updated, &r.Attendee.TypedEmail, &r.Ended, &r.EndedBy)
	r.UpdatedAt = time.UnixMilli(updated)
	return r, err
}

func (d *DB) queryRegistrations(ctx context.Context, what, query string, args ...any) ([]rules.Registration, error) {
	rows, err := d.queryCached(ctx, nil, `SELECT `+registrationColumns+` FROM registrations `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []rules.Registration
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Registrations returns every registration of an order, in any state.
func (d *DB) Registrations(ctx context.Context, orderID int64) ([]rules.Registration, error) {
	return d.queryRegistrations(ctx, fmt.Sprintf("registrations of order %d", orderID),
		`WHERE shop = ? AND order_id = ? ORDER BY target_kind, target_id, email`, d.shop, orderID)
}

// FailedRegistrations returns the registrations Zoom refused, newest first.
func (d *DB) FailedRegistrations(ctx context.Context, limit int) ([]rules.Registration, error) {
	return d.queryRegistrations(ctx, "failed registrations",
		`WHERE shop = ? AND state = 'failed' ORDER BY updated_at DESC LIMIT ?`, d.shop, limit)
}

// ProductRegistrations returns every registration made for a product's
// tickets, by order.
func (d *DB) ProductRegistrations(ctx context.Context, productID int64) ([]rules.Registration, error) {
	return d.queryRegistrations(ctx, fmt.Sprintf("registrations of product %d", productID),
		`WHERE shop = ? AND product_id = ? ORDER BY order_id, target_kind, target_id, email`, d.shop, productID)
}

// SaveRegistrations inserts or updates registrations in one transaction.
func (d *DB) SaveRegistrations(ctx context.Context, regs []rules.Registration) error {
	if len(regs) == 0 {
		return nil
	}
	err := d.tx(ctx, func(tx *sql.Tx) error { return d.saveRegistrationsIn(ctx, tx, regs) })
	if err != nil {
		return fmt.Errorf("save %d registrations of order %d: %w", len(regs), regs[0].OrderID, err)
	}
	return nil
}

func (d *DB) saveRegistrationsIn(ctx context.Context, tx *sql.Tx, regs []rules.Registration) error {
	now := d.now()
	for _, r := range regs {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO registrations (order_id, line_item_id, product_id, target_kind, target_id, email, first_name, last_name, state, error, created_at, updated_at, email_typed, ended, ended_by, shop)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (shop, order_id, target_kind, target_id, email) DO UPDATE SET
				line_item_id = excluded.line_item_id, product_id = excluded.product_id, first_name = excluded.first_name, last_name = excluded.last_name,
				state = excluded.state, error = excluded.error, updated_at = excluded.updated_at, email_typed = excluded.email_typed,
				ended = excluded.ended, ended_by = excluded.ended_by`,
			r.OrderID, r.LineItemID, r.ProductID, r.Target.Kind, r.Target.ID, r.Attendee.Email, r.Attendee.FirstName,
			r.Attendee.LastName, r.State, r.Error, now, now, r.Attendee.TypedEmail, r.Ended, r.EndedBy, d.shop)
		if err != nil {
			return err
		}
	}
	return nil
}

// Seats returns what Zoom holds for the given seats; unknown seats are absent.
func (d *DB) Seats(ctx context.Context, keys []rules.SeatKey) (map[rules.SeatKey]rules.Seat, error) {
	out := map[rules.SeatKey]rules.Seat{}
	for _, k := range keys {
		s := rules.Seat{SeatKey: k}
		err := d.db.QueryRowContext(ctx, `
			SELECT registrant_id, join_url, status FROM seats
			WHERE target_kind = ? AND target_id = ? AND email = ?`, k.Target.Kind, k.Target.ID, k.Email).Scan(
			&s.RegistrantID, &s.JoinURL, &s.Status)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("seat %s on %s: %w", k.Email, k.Target, err)
		}
		out[k] = s
	}
	return out, nil
}

// SaveSeats records what Zoom now holds.
func (d *DB) SaveSeats(ctx context.Context, seats ...rules.Seat) error {
	if err := d.tx(ctx, func(tx *sql.Tx) error { return d.saveSeatsIn(ctx, tx, seats) }); err != nil {
		return fmt.Errorf("save seats: %w", err)
	}
	return nil
}

func (d *DB) saveSeatsIn(ctx context.Context, tx *sql.Tx, seats []rules.Seat) error {
	now := d.now()
	for _, s := range seats {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO seats (target_kind, target_id, email, registrant_id, join_url, status, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (target_kind, target_id, email) DO UPDATE SET
				registrant_id = excluded.registrant_id,
				join_url = CASE WHEN excluded.join_url = '' THEN seats.join_url ELSE excluded.join_url END,
				status = excluded.status, updated_at = excluded.updated_at`,
			s.Target.Kind, s.Target.ID, s.Email, s.RegistrantID, s.JoinURL, s.Status, now)
		if err != nil {
			return fmt.Errorf("seat %s on %s: %w", s.Email, s.Target, err)
		}
		if err := settle(ctx, tx, s.SeatKey); err != nil {
			return err
		}
	}
	return nil
}

// BeginSeatChange records that a change of the seats (an add, an approve,
// a cancel) is about to be sent to Zoom; until SaveSeats or EndSeatChange
// records its outcome, the seats are unsettled.
func (d *DB) BeginSeatChange(ctx context.Context, keys ...rules.SeatKey) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return d.seatChangeIn(ctx, tx, true, keys) })
}

// EndSeatChange records that the seats' change is known not to have been
// made.
func (d *DB) EndSeatChange(ctx context.Context, keys ...rules.SeatKey) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return d.seatChangeIn(ctx, tx, false, keys) })
}

// seatChangeIn begins (notes as unsettled) or ends the seats' change.
func (d *DB) seatChangeIn(ctx context.Context, tx *sql.Tx, begin bool, keys []rules.SeatKey) error {
	now := d.now()
	for _, k := range keys {
		if !begin {
			if err := settle(ctx, tx, k); err != nil {
				return err
			}
			continue
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO unsettled_seats (target_kind, target_id, email, started_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (target_kind, target_id, email) DO UPDATE SET started_at = excluded.started_at`,
			k.Target.Kind, k.Target.ID, k.Email, now)
		if err != nil {
			return fmt.Errorf("record change of %s on %s: %w", k.Email, k.Target, err)
		}
	}
	return nil
}

func settle(ctx context.Context, tx *sql.Tx, k rules.SeatKey) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM unsettled_seats WHERE target_kind = ? AND target_id = ? AND email = ?`,
		k.Target.Kind, k.Target.ID, k.Email)
	if err != nil {
		return fmt.Errorf("settle %s on %s: %w", k.Email, k.Target, err)
	}
	return nil
}

// UnsettledSeats returns those of the seats whose last change has no known
// outcome.
func (d *DB) UnsettledSeats(ctx context.Context, keys []rules.SeatKey) ([]rules.SeatKey, error) {
	var out []rules.SeatKey
	for _, k := range keys {
		var n int
		err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM unsettled_seats WHERE target_kind = ? AND target_id = ? AND email = ?`,
			k.Target.Kind, k.Target.ID, k.Email).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("read change of %s on %s: %w", k.Email, k.Target, err)
		}
		if n > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}

// HeldElsewhere marks the seats that an order other than orderID holds
// actively, in this shop or another: a seat is Zoom's, one registrant for
// every shop that sells the meeting.
func (d *DB) HeldElsewhere(ctx context.Context, orderID int64, keys []rules.SeatKey) (map[rules.SeatKey]bool, error) {
	out := map[rules.SeatKey]bool{}
	for _, k := range keys {
		var n int
		err := d.db.QueryRowContext(ctx, `
			SELECT COUNT(*) FROM registrations
			WHERE target_kind = ? AND target_id = ? AND email = ? AND state = 'active' AND NOT (shop = ? AND order_id = ?)`,
			k.Target.Kind, k.Target.ID, k.Email, d.shop, orderID).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("holders of %s on %s: %w", k.Email, k.Target, err)
		}
		out[k] = n > 0
	}
	return out, nil
}

// OrderState returns what was last applied for an order; ok is false for an
// order never seen.
func (d *DB) OrderState(ctx context.Context, orderID int64) (st rules.AppliedOrder, ok bool, err error) {
	var modified int64
	err = d.scanCached(ctx, nil, `SELECT status, modified, note_digest FROM orders WHERE shop = ? AND order_id = ?`, []any{d.shop, orderID},
		&st.Status, &modified, &st.NoteDigest)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("state of order %d: %w", orderID, err)
	}
	st.Modified = time.UnixMilli(modified).UTC()
	return st, true, nil
}

const upsertOrderState = `
	INSERT INTO orders (shop, order_id, status, modified, note_digest, updated_at) VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (shop, order_id) DO UPDATE SET status = excluded.status, modified = excluded.modified,
		note_digest = excluded.note_digest, updated_at = excluded.updated_at`

// SaveOrderState records the view of an order that was applied.
func (d *DB) SaveOrderState(ctx context.Context, orderID int64, st rules.AppliedOrder) error {
	_, err := d.exec(ctx, upsertOrderState, d.shop, orderID, st.Status, st.Modified.UnixMilli(), st.NoteDigest, d.now())
	if err != nil {
		return fmt.Errorf("save state of order %d: %w", orderID, err)
	}
	return nil
}

// MetaDigest returns the digest of the meta woozoom last wrote to an order,
// and the modification time of the view that write was computed from.
func (d *DB) MetaDigest(ctx context.Context, orderID int64) (digest string, basis time.Time, err error) {
	var ms int64
	err = d.scanCached(ctx, nil, `SELECT meta_digest, meta_basis FROM orders WHERE shop = ? AND order_id = ?`, []any{d.shop, orderID}, &digest, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("meta digest of order %d: %w", orderID, err)
	}
	if ms > 0 {
		basis = time.UnixMilli(ms).UTC()
	}
	return digest, basis, nil
}

// SaveMetaDigest records what woozoom just wrote to an order's meta, computed
// from the view modified at basis.
func (d *DB) SaveMetaDigest(ctx context.Context, orderID int64, digest string, basis time.Time) error {
	_, err := d.exec(ctx, `
		INSERT INTO orders (shop, order_id, status, modified, meta_digest, meta_basis, updated_at) VALUES (?, ?, '', 0, ?, ?, ?)
		ON CONFLICT (shop, order_id) DO UPDATE SET meta_digest = excluded.meta_digest, meta_basis = excluded.meta_basis, updated_at = excluded.updated_at`,
		d.shop, orderID, digest, basis.UnixMilli(), d.now())
	if err != nil {
		return fmt.Errorf("save meta digest of order %d: %w", orderID, err)
	}
	return nil
}

// AttendanceDigest is the digest of what woozoom last wrote to an order's
// attendance meta ("" for nothing yet).
func (d *DB) AttendanceDigest(ctx context.Context, orderID int64) (string, error) {
	var digest string
	err := d.db.QueryRowContext(ctx, `SELECT attendance_digest FROM orders WHERE shop = ? AND order_id = ?`, d.shop, orderID).Scan(&digest)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("attendance digest of order %d: %w", orderID, err)
	}
	return digest, nil
}

// SaveAttendanceDigest records what woozoom wrote to an order's attendance
// meta.
func (d *DB) SaveAttendanceDigest(ctx context.Context, orderID int64, digest string) error {
	_, err := d.exec(ctx, `
		INSERT INTO orders (shop, order_id, status, modified, attendance_digest, updated_at) VALUES (?, ?, '', 0, ?, ?)
		ON CONFLICT (shop, order_id) DO UPDATE SET attendance_digest = excluded.attendance_digest, updated_at = excluded.updated_at`,
		d.shop, orderID, digest, d.now())
	if err != nil {
		return fmt.Errorf("save attendance digest of order %d: %w", orderID, err)
	}
	return nil
}

// TargetDetails returns cached meeting or webinar details fetched after since.
func (d *DB) TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error) {
	td := rules.TargetDetails{Target: t}
	var start int64
	var occ string
	err := d.db.QueryRowContext(ctx, `
		SELECT topic, start_time, duration, timezone, passcode, join_url, sequence, occurrences FROM targets
		WHERE target_kind = ? AND target_id = ? AND fetched_at >= ?`, t.Kind, t.ID, since.UnixMilli()).Scan(
		&td.Topic, &start, &td.Duration, &td.Timezone, &td.Passcode, &td.JoinURL, &td.Sequence, &occ)
	if errors.Is(err, sql.ErrNoRows) {
		return td, false, nil
	}
	if err != nil {
		return td, false, fmt.Errorf("details of %s: %w", t, err)
	}
	if start != 0 {
		td.StartTime = time.UnixMilli(start).UTC()
	}
	for _, o := range strings.Split(occ, ",") {
		if ms, err := strconv.ParseInt(o, 10, 64); err == nil {
			td.Occurrences = append(td.Occurrences, time.UnixMilli(ms).UTC())
		}
	}
	return td, true, nil
}

// SaveTargetDetails caches meeting or webinar details; a new start, length
// or topic raises the meeting's calendar sequence.
func (d *DB) SaveTargetDetails(ctx context.Context, td rules.TargetDetails) error {
	var start int64
	if !td.StartTime.IsZero() {
		start = td.StartTime.UnixMilli()
	}
	occ := make([]string, len(td.Occurrences))
	for i, o := range td.Occurrences {
		occ[i] = strconv.FormatInt(o.UnixMilli(), 10)
	}
	_, err := d.exec(ctx, `
		INSERT INTO targets (target_kind, target_id, topic, start_time, duration, timezone, passcode, join_url, fetched_at, occurrences)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (target_kind, target_id) DO UPDATE SET topic = excluded.topic, start_time = excluded.start_time,
			duration = excluded.duration, timezone = excluded.timezone, passcode = excluded.passcode,
			join_url = excluded.join_url, fetched_at = excluded.fetched_at, occurrences = excluded.occurrences,
			sequence = targets.sequence + CASE WHEN targets.start_time != excluded.start_time OR targets.duration != excluded.duration
				OR targets.topic != excluded.topic OR targets.occurrences != excluded.occurrences THEN 1 ELSE 0 END`,
		td.Target.Kind, td.Target.ID, td.Topic, start, td.Duration, td.Timezone, td.Passcode, td.JoinURL, d.now(), strings.Join(occ, ","))
	if err != nil {
		return fmt.Errorf("save details of %s: %w", td.Target, err)
	}
	return nil
}

// CalendarToken returns the token of a registration's calendar link, made
// the first time it is asked for.
func (d *DB) CalendarToken(ctx context.Context, r rules.Registration) (string, error) {
	var token string
	err := d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT calendar_token FROM registrations WHERE shop = ? AND order_id = ? AND target_kind = ? AND target_id = ? AND email = ?`,
			d.shop, r.OrderID, r.Target.Kind, r.Target.ID, r.Attendee.Email).Scan(&token)
		if err != nil || token != "" {
			return err
		}
		b := make([]byte, 18)
		_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
		token = base64.RawURLEncoding.EncodeToString(b)
		_, err = tx.ExecContext(ctx, `UPDATE registrations SET calendar_token = ? WHERE shop = ? AND order_id = ? AND target_kind = ? AND target_id = ? AND email = ?`,
			token, d.shop, r.OrderID, r.Target.Kind, r.Target.ID, r.Attendee.Email)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("calendar link of %s on %s: %w", r.Attendee.Email, r.Target, err)
	}
	return token, nil
}

// calendarLookup finds a registration by its calendar token. The unique
// index on tokens is partial (only rows with a token), and SQLite uses a
// partial index only for a query that repeats its condition.
const calendarLookup = `WHERE calendar_token = ? AND calendar_token != ''`

// RegistrationByCalendar returns the registration a calendar token belongs to.
func (d *DB) RegistrationByCalendar(ctx context.Context, token string) (rules.Registration, bool, error) {
	if token == "" {
		return rules.Registration{}, false, nil
	}
	regs, err := d.queryRegistrations(ctx, "registration of a calendar link", calendarLookup, token)
	if err != nil || len(regs) == 0 {
		return rules.Registration{}, false, err
	}
	return regs[0], true, nil
}
