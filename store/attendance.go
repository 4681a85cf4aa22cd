package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// UnmatchedRow is a participant no paid attendee accounts for.
type UnmatchedRow struct {
	Target   rules.Target
	Instance string
	rules.Unmatched
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// SaveAttendance keeps the attendance of one instance of t, replacing what
// an earlier read of the same instance kept (a note written stays noted).
func (d *DB) SaveAttendance(ctx context.Context, t rules.Target, instance string, att []rules.Attendance, unmatched []rules.Unmatched) error {
	now := d.now()
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, a := range att {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO attendance (shop, target_kind, target_id, instance, order_id, email, attended, minutes, first_join, last_leave, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (shop, target_kind, target_id, instance, order_id, email) DO UPDATE SET attended = excluded.attended,
					minutes = excluded.minutes, first_join = excluded.first_join, last_leave = excluded.last_leave, updated_at = excluded.updated_at`,
				d.shop, t.Kind, t.ID, instance, a.Registration.OrderID, a.Registration.Attendee.Email, a.Attended, a.Minutes,
				millis(a.FirstJoin), millis(a.LastLeave), now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM unmatched_participants WHERE shop = ? AND target_kind = ? AND target_id = ? AND instance = ?`,
			d.shop, t.Kind, t.ID, instance); err != nil {
			return err
		}
		for _, u := range unmatched {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO unmatched_participants (shop, target_kind, target_id, instance, name, email, minutes) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (shop, target_kind, target_id, instance, name, email) DO UPDATE SET minutes = excluded.minutes`,
				d.shop, t.Kind, t.ID, instance, u.Name, u.Email, u.Minutes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keep the attendance of %s (%s): %w", t, instance, err)
	}
	return nil
}

// AttendanceNoted records that an order's note of an instance's attendance
// was written.
func (d *DB) AttendanceNoted(ctx context.Context, t rules.Target, instance string, orderID int64) error {
	_, err := d.exec(ctx, `UPDATE attendance SET noted_at = ? WHERE shop = ? AND target_kind = ? AND target_id = ? AND instance = ? AND order_id = ?`,
		d.now(), d.shop, t.Kind, t.ID, instance, orderID)
	if err != nil {
		return fmt.Errorf("record the attendance note of order %d: %w", orderID, err)
	}
	return nil
}

// AttendanceThanked records that an attendee's customer note after an
// instance was written.
func (d *DB) AttendanceThanked(ctx context.Context, t rules.Target, instance string, orderID int64, email string) error {
	_, err := d.exec(ctx, `UPDATE attendance SET thanked_at = ? WHERE shop = ? AND target_kind = ? AND target_id = ? AND instance = ? AND order_id = ? AND email = ?`,
		d.now(), d.shop, t.Kind, t.ID, instance, orderID, email)
	if err != nil {
		return fmt.Errorf("record the note to %s of order %d: %w", email, orderID, err)
	}
	return nil
}

// Attendance returns the attendance kept of t (every instance), by
// instance, order and email; orderID, if not 0, keeps one order's.
func (d *DB) Attendance(ctx context.Context, t rules.Target, orderID int64) ([]rules.AttendanceRecord, error) {
	return d.queryAttendance(ctx, fmt.Sprintf("read the attendance of %s", t), `
		WHERE shop = ? AND (? = '' OR (target_kind = ? AND target_id = ?)) AND (? = 0 OR order_id = ?)
		ORDER BY target_kind, target_id, instance, order_id, email`, d.shop, string(t.Kind), t.Kind, t.ID, orderID, orderID)
}

// OrderAttendance returns an order's attendance of every meeting.
func (d *DB) OrderAttendance(ctx context.Context, orderID int64) ([]rules.AttendanceRecord, error) {
	return d.Attendance(ctx, rules.Target{}, orderID)
}

func (d *DB) queryAttendance(ctx context.Context, what, where string, args ...any) ([]rules.AttendanceRecord, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT target_kind, target_id, instance, order_id, email, attended, minutes, first_join, last_leave, noted_at, thanked_at
		FROM attendance `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []rules.AttendanceRecord
	for rows.Next() {
		var a rules.AttendanceRecord
		var attended, first, last, noted, thanked int64
		if err := rows.Scan(&a.Target.Kind, &a.Target.ID, &a.Instance, &a.OrderID, &a.Email, &attended, &a.Minutes, &first, &last, &noted, &thanked); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		a.Attended, a.FirstJoin, a.LastLeave, a.Noted, a.Thanked = attended != 0, fromMillis(first), fromMillis(last), noted != 0, thanked != 0
		out = append(out, a)
	}
	return out, rows.Err()
}

// UnmatchedParticipants returns who was in t's instances without a paid
// registration of this shop.
func (d *DB) UnmatchedParticipants(ctx context.Context, t rules.Target) ([]UnmatchedRow, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT instance, name, email, minutes FROM unmatched_participants
		WHERE shop = ? AND target_kind = ? AND target_id = ? ORDER BY instance, name, email`, d.shop, t.Kind, t.ID)
	if err != nil {
		return nil, fmt.Errorf("read the unmatched participants of %s: %w", t, err)
	}
	defer rows.Close()
	var out []UnmatchedRow
	for rows.Next() {
		u := UnmatchedRow{Target: t}
		if err := rows.Scan(&u.Instance, &u.Name, &u.Email, &u.Minutes); err != nil {
			return nil, fmt.Errorf("read the unmatched participants of %s: %w", t, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SaveRecording keeps the recording of an instance (a new one of the same
// instance replaces it).
func (d *DB) SaveRecording(ctx context.Context, r rules.Recording) error {
	_, err := d.exec(ctx, `INSERT INTO recordings (target_kind, target_id, instance, started_at, share_url, passcode, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (target_kind, target_id, instance) DO UPDATE SET started_at = excluded.started_at, share_url = excluded.share_url,
			passcode = excluded.passcode, updated_at = excluded.updated_at`,
		r.Target.Kind, r.Target.ID, r.Instance, r.Start.UnixMilli(), r.ShareURL, r.Passcode, d.now())
	if err != nil {
		return fmt.Errorf("keep the recording of %s: %w", r.Target, err)
	}
	return nil
}

// ForgetRecording drops the recording of an instance (deleted in Zoom);
// an empty instance drops every recording of the meeting.
func (d *DB) ForgetRecording(ctx context.Context, t rules.Target, instance string) error {
	q, args := `DELETE FROM recordings WHERE target_kind = ? AND target_id = ?`, []any{t.Kind, t.ID}
	if instance != "" {
		q, args = q+` AND instance = ?`, append(args, instance)
	}
	if _, err := d.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("forget the recording of %s: %w", t, err)
	}
	return nil
}

// Recordings returns a meeting's recordings, one per instance, by start.
func (d *DB) Recordings(ctx context.Context, t rules.Target) ([]rules.Recording, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT instance, started_at, share_url, passcode FROM recordings
		WHERE target_kind = ? AND target_id = ? ORDER BY started_at, instance`, t.Kind, t.ID)
	if err != nil {
		return nil, fmt.Errorf("read the recordings of %s: %w", t, err)
	}
	defer rows.Close()
	var out []rules.Recording
	for rows.Next() {
		r := rules.Recording{Target: t}
		var start int64
		if err := rows.Scan(&r.Instance, &start, &r.ShareURL, &r.Passcode); err != nil {
			return nil, fmt.Errorf("read the recordings of %s: %w", t, err)
		}
		if start != 0 {
			r.Start = time.UnixMilli(start).UTC()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RegisteredTargets lists the meetings and webinars the shop's active
// registrations are on.
func (d *DB) RegisteredTargets(ctx context.Context) ([]rules.Target, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT target_kind, target_id FROM registrations WHERE shop = ? AND state = 'active' ORDER BY 1, 2`, d.shop)
	if err != nil {
		return nil, fmt.Errorf("list the meetings with paid attendees: %w", err)
	}
	defer rows.Close()
	var out []rules.Target
	for rows.Next() {
		var t rules.Target
		if err := rows.Scan(&t.Kind, &t.ID); err != nil {
			return nil, fmt.Errorf("list the meetings with paid attendees: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
