package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// RecordDelivery stores a delivery and its job in one transaction, and
// returns only after that transaction committed. An exact repeat (same
// Delivery-ID and body) stores nothing and reports isNew false. Concurrent
// calls are committed together (see ingest).
func (d *DB) RecordDelivery(ctx context.Context, del rules.Delivery) (id int64, isNew bool, err error) {
	return d.ingest.record(ctx, d.shop, del)
}

// Delivery returns the stored delivery with row id.
func (d *DB) Delivery(ctx context.Context, id int64) (rules.Delivery, error) {
	var del rules.Delivery
	var orderID sql.NullInt64
	var received int64
	err := d.scanCached(ctx, nil, `
		SELECT id, delivery_id, webhook_id, topic, source, order_id, body, received_at
		FROM deliveries WHERE id = ?`, []any{id},
		&del.ID, &del.DeliveryID, &del.WebhookID, &del.Topic, &del.Source, &orderID, &del.Body, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return del, fmt.Errorf("delivery %d: %w", id, rules.ErrNotFound)
	}
	if err != nil {
		return del, fmt.Errorf("delivery %d: %w", id, err)
	}
	del.OrderID = orderID.Int64
	del.ReceivedAt = time.UnixMilli(received)
	return del, nil
}

// CountDeliveries returns how many deliveries are stored.
func (d *DB) CountDeliveries(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE shop = ?`, d.shop).Scan(&n)
	return n, err
}

const jobColumns = `j.id, j.delivery, COALESCE(j.order_id, 0), j.resource, j.claim, d.topic, j.state, j.attempts, j.run_at, j.last_error, j.wait_reason, j.result, j.updated_at`

func scanJob(row interface{ Scan(...any) error }) (rules.Job, error) {
	var j rules.Job
	var runAt, updated int64
	err := row.Scan(&j.ID, &j.Delivery, &j.OrderID, &j.Key, &j.Claim, &j.Topic, &j.State, &j.Attempts, &runAt, &j.LastError, &j.Wait, &j.Result, &updated)
	j.RunAt = time.UnixMilli(runAt)
	j.UpdatedAt = time.UnixMilli(updated)
	return j, err
}

// ClaimJob takes the oldest job that is due and whose resource (order,
// product, meeting) has no job running, marks it running under a lease,
// and counts the attempt. ok is false when nothing is due.
func (d *DB) ClaimJob(ctx context.Context, lease time.Duration) (job rules.Job, ok bool, err error) {
	claim := func(tx *sql.Tx) error {
		job, ok, err = d.claimIn(ctx, tx, lease)
		return err
	}
	if d.pg {
		// Claims of different resources go side by side (see claimPostgres).
		err = d.runTx(ctx, false, claim)
	} else {
		err = d.tx(ctx, claim)
	}
	if err != nil {
		return rules.Job{}, false, fmt.Errorf("claim job: %w", err)
	}
	return job, ok, nil
}

var claimed = `SELECT ` + jobColumns + ` FROM jobs j JOIN deliveries d ON d.id = j.delivery WHERE j.id = ?`

func (d *DB) claimIn(ctx context.Context, tx *sql.Tx, lease time.Duration) (rules.Job, bool, error) {
	if d.pg {
		return d.claimPostgres(ctx, tx, lease)
	}
	now := d.now()
	var id int64
	err := d.scanCached(ctx, tx, `
		UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?, updated_at = ?, claim = ?
		WHERE id = (
			SELECT j.id FROM jobs j
			WHERE j.shop = ? AND j.state = 'queued' AND j.run_at <= ?
			  AND (j.resource = '' OR NOT EXISTS (
			      SELECT 1 FROM jobs r WHERE r.shop = j.shop AND r.resource = j.resource AND r.resource != '' AND r.state = 'running'))
			ORDER BY j.run_at, j.id LIMIT 1)
		RETURNING id`, []any{now + lease.Milliseconds(), now, NewToken(), d.shop, now}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return rules.Job{}, false, nil
	}
	if err != nil {
		return rules.Job{}, false, err
	}
	row, err := d.rowCached(ctx, tx, claimed, id)
	if err != nil {
		return rules.Job{}, false, err
	}
	job, err := scanJob(row)
	return job, err == nil, err
}

// claimCandidates is how many due jobs a claim on PostgreSQL looks at.
const claimCandidates = 8

// resourceLockSpace is the first key of the advisory locks of resources;
// two-key advisory locks never meet the one-key write lock.
const resourceLockSpace = 0x777a

// claimPostgres claims as claimIn does, without the server's write lock, so
// replicas claim side by side: due jobs are taken FOR UPDATE SKIP LOCKED
// (a job another claim is looking at is passed over), and a job with a
// resource is claimed only under that resource's advisory lock, after
// looking again, in the lock, that no job of it runs. Two claims of one
// resource are so one after the other, and the second sees the first's.
func (d *DB) claimPostgres(ctx context.Context, tx *sql.Tx, lease time.Duration) (rules.Job, bool, error) {
	now := d.now()
	rows, err := d.queryCached(ctx, tx, `
		SELECT j.id, j.resource FROM jobs j
		WHERE j.shop = ? AND j.state = 'queued' AND j.run_at <= ?
		  AND (j.resource = '' OR NOT EXISTS (
		      SELECT 1 FROM jobs r WHERE r.shop = j.shop AND r.resource = j.resource AND r.resource != '' AND r.state = 'running'))
		ORDER BY j.run_at, j.id LIMIT ?
		FOR UPDATE OF j SKIP LOCKED`, d.shop, now, claimCandidates)
	if err != nil {
		return rules.Job{}, false, err
	}
	type candidate struct {
		id       int64
		resource string
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.id, &c.resource); err != nil {
			rows.Close()
			return rules.Job{}, false, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rules.Job{}, false, err
	}
	for _, c := range cands {
		if c.resource != "" {
			free, err := d.resourceFree(ctx, tx, c.resource)
			if err != nil {
				return rules.Job{}, false, err
			}
			if !free {
				continue
			}
		}
		if _, err := d.execCached(ctx, tx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?, updated_at = ?, claim = ?
			WHERE id = ?`, now+lease.Milliseconds(), now, NewToken(), c.id); err != nil {
			return rules.Job{}, false, err
		}
		row, err := d.rowCached(ctx, tx, claimed, c.id)
		if err != nil {
			return rules.Job{}, false, err
		}
		job, err := scanJob(row)
		return job, err == nil, err
	}
	return rules.Job{}, false, nil
}

// resourceFree takes resource's advisory lock if no other claim holds it,
// then looks whether a job of it runs. Two statements: the look's snapshot
// must be taken after the lock, to see the claim that held it before.
func (d *DB) resourceFree(ctx context.Context, tx *sql.Tx, resource string) (bool, error) {
	var locked, running bool
	if err := d.scanCached(ctx, tx, `SELECT pg_try_advisory_xact_lock(?, hashtext(?))`, []any{resourceLockSpace, d.key(resource)}, &locked); err != nil || !locked {
		return false, err
	}
	err := d.scanCached(ctx, tx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE shop = ? AND resource = ? AND state = 'running')`, []any{d.shop, resource}, &running)
	return !running, err
}

// CompleteOrderJob marks a running job done, records the view of its order
// that it applied (if st is set), and marks done the queued jobs of the
// same order whose views it folded into its own, in one transaction: a
// crash before it leaves all of them to run again.
func (d *DB) CompleteOrderJob(ctx context.Context, job rules.Job, result string, st *rules.AppliedOrder, folded []int64) error {
	err := d.tx(ctx, func(tx *sql.Tx) error { return d.completeIn(ctx, tx, job, result, st, folded) })
	if err != nil {
		return fmt.Errorf("complete job %d of order %d: %w", job.ID, job.OrderID, err)
	}
	return nil
}

// CompleteAndClaim completes a job as CompleteOrderJob does and claims the
// next due job in the same transaction: one commit instead of two, and
// the worker's commits compete with the webhooks' for the disk.
func (d *DB) CompleteAndClaim(ctx context.Context, job rules.Job, result string, st *rules.AppliedOrder, folded []int64, lease time.Duration) (next rules.Job, ok bool, err error) {
	err = d.tx(ctx, func(tx *sql.Tx) error {
		if err := d.completeIn(ctx, tx, job, result, st, folded); err != nil {
			return err
		}
		next, ok, err = d.claimIn(ctx, tx, lease)
		return err
	})
	if err != nil {
		return rules.Job{}, false, fmt.Errorf("complete job %d and claim the next: %w", job.ID, err)
	}
	return next, ok, nil
}

func (d *DB) completeIn(ctx context.Context, tx *sql.Tx, job rules.Job, result string, st *rules.AppliedOrder, folded []int64) error {
	now := d.now()
	id, orderID := job.ID, job.OrderID
	res, err := d.execCached(ctx, tx, `UPDATE jobs SET state = ?, run_at = ?, lease_until = NULL, last_error = '', wait_reason = '', result = ?, updated_at = ?
		WHERE id = ? AND claim = ? AND state = 'running'`, rules.JobDone, now, result, now, id, job.Claim)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	if st != nil {
		if _, err := d.execCached(ctx, tx, upsertOrderState, d.shop, orderID, st.Status, st.Modified.UnixMilli(), st.NoteDigest, now); err != nil {
			return err
		}
	}
	for _, f := range folded {
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, run_at = ?, last_error = '', result = ?, updated_at = ? WHERE id = ? AND state = 'queued' AND shop = ? AND order_id = ?`,
			rules.JobDone, now, fmt.Sprintf("folded into job %d, which applied the newest view of the order", id), now, f, d.shop, orderID); err != nil {
			return err
		}
	}
	return nil
}

// DueJobsOfOrder returns the order's other queued jobs that are due, oldest
// first, at most limit: their views may be folded into a running job's.
func (d *DB) DueJobsOfOrder(ctx context.Context, orderID, except int64, limit int) ([]rules.Job, error) {
	// By the resource's index: during a flood SQLite would otherwise pick
	// the (state, run_at) index and walk every queued job, for every job.
	return d.queryJobs(ctx, fmt.Sprintf("due jobs of order %d", orderID),
		`WHERE j.id IN (SELECT id FROM jobs INDEXED BY jobs_resource
			WHERE shop = ? AND resource = ? AND resource != '' AND state = 'queued' AND run_at <= ? AND id != ?)
		ORDER BY j.id LIMIT ?`, d.shop, string(rules.OrderKey(orderID)), d.now(), except, limit)
}

// CompleteJob marks a running job done with a short result for the admin.
func (d *DB) CompleteJob(ctx context.Context, job rules.Job, result string) error {
	return d.finishJob(ctx, job, rules.JobDone, d.now(), rules.NotWaiting, "", result)
}

// RetryJob puts a job back in the queue to run at at, keeping its error.
func (d *DB) RetryJob(ctx context.Context, job rules.Job, at time.Time, wait rules.WaitReason, lastErr string) error {
	return d.finishJob(ctx, job, rules.JobQueued, at.UnixMilli(), wait, lastErr, "")
}

// FailJob parks a job that cannot succeed without a person; it keeps the
// reason and runs again only on RunJobNow.
func (d *DB) FailJob(ctx context.Context, job rules.Job, reason string) error {
	return d.finishJob(ctx, job, rules.JobFailed, d.now(), rules.NotWaiting, reason, "")
}

// PostponeJob puts a running job back until at without charging it a try:
// what stopped it (a service that does not answer) was not its fault.
func (d *DB) PostponeJob(ctx context.Context, job rules.Job, at time.Time, wait rules.WaitReason, reason string) error {
	res, err := d.exec(ctx, `
		UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, run_at = ?, lease_until = NULL, last_error = ?, wait_reason = ?, updated_at = ?
		WHERE id = ? AND claim = ? AND state = 'running'`, at.UnixMilli(), reason, wait, d.now(), job.ID, job.Claim)
	return ownRow(res, err, "postpone job %d", job.ID)
}

// ReleaseJob hands a running job back unchanged (shutdown): the attempt it
// was given does not count.
func (d *DB) ReleaseJob(ctx context.Context, job rules.Job) error {
	res, err := d.exec(ctx, `
		UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_until = NULL, updated_at = ?
		WHERE id = ? AND claim = ? AND state = 'running'`, d.now(), job.ID, job.Claim)
	return ownRow(res, err, "release job %d", job.ID)
}

func (d *DB) finishJob(ctx context.Context, job rules.Job, state string, runAt int64, wait rules.WaitReason, lastErr, result string) error {
	res, err := d.exec(ctx, `
		UPDATE jobs SET state = ?, run_at = ?, lease_until = NULL, last_error = ?, wait_reason = ?, result = ?, updated_at = ?
		WHERE id = ? AND claim = ? AND state = 'running'`, state, runAt, lastErr, wait, result, d.now(), job.ID, job.Claim)
	return ownRow(res, err, "set job %d "+state, job.ID)
}

// ownRow says whether a write to a running job's row took: no row means
// another run claimed the job after this one's lease ran out.
func ownRow(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return fmt.Errorf(what+": %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf(what+": %w", id, ErrLeaseLost)
	}
	return nil
}

// ExtendLease keeps a running job's lease alive; false means the job is no
// longer this run's (its lease ran out and it was taken back).
func (d *DB) ExtendLease(ctx context.Context, job rules.Job, lease time.Duration) (bool, error) {
	now := d.now()
	res, err := d.exec(ctx, `
		UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND claim = ? AND state = 'running'`,
		now+lease.Milliseconds(), now, job.ID, job.Claim)
	if err != nil {
		return false, fmt.Errorf("extend lease of job %d: %w", job.ID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RequeueExpired puts running jobs whose lease has run out (their worker
// died) back in the queue, drops the leases that lapsed with them, and says
// how many jobs it requeued.
func (d *DB) RequeueExpired(ctx context.Context) (int, error) {
	now := d.now()
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE jobs SET state = 'queued', lease_until = NULL, run_at = ?, updated_at = ?
			WHERE state = 'running' AND lease_until < ?`, now, now, now)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM leases WHERE expires < ?`, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue expired jobs: %w", err)
	}
	return int(n), nil
}

// RunJobNow makes a job due now at an admin's request: a parked job is
// queued again with its tries reset; a job waiting for its retry time (Zoom's
// daily limit resets at 00:00 UTC) runs at once.
func (d *DB) RunJobNow(ctx context.Context, id int64) error {
	now := d.now()
	res, err := d.exec(ctx, `
		UPDATE jobs SET run_at = ?, updated_at = ?,
			attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, state = 'queued'
		WHERE id = ? AND shop = ? AND (state = 'failed' OR (state = 'queued' AND run_at > ?))`, now, now, id, d.shop, now)
	if err != nil {
		return fmt.Errorf("run job %d now: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run job %d now: no parked or waiting job with that id: %w", id, rules.ErrNotFound)
	}
	d.wakeOthers(ctx)
	return nil
}

// WakeJobsWaitingFor makes due now every queued job that waits for what
// (a person who fixed the credentials, a service that answers again), and
// says how many it woke.
func (d *DB) WakeJobsWaitingFor(ctx context.Context, what rules.WaitReason) (int, error) {
	now := d.now()
	res, err := d.exec(ctx, `UPDATE jobs SET run_at = ?, updated_at = ? WHERE state = 'queued' AND wait_reason = ? AND run_at > ?`,
		now, now, what, now)
	if err != nil {
		return 0, fmt.Errorf("wake jobs that %s: %w", what.Words(), err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		d.wakeOthers(ctx)
	}
	return int(n), nil
}

// WaitingJobs returns the ids of queued jobs whose retry time is still ahead.
func (d *DB) WaitingJobs(ctx context.Context) ([]int64, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id FROM jobs WHERE shop = ? AND state = 'queued' AND run_at > ? ORDER BY id`, d.shop, d.now())
	if err != nil {
		return nil, fmt.Errorf("list waiting jobs: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list waiting jobs: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Jobs lists jobs in a state ("" for all), newest first, at most limit.
func (d *DB) Jobs(ctx context.Context, state string, limit int) ([]rules.Job, error) {
	return d.queryJobs(ctx, "list jobs", `WHERE j.shop = ? AND (? = '' OR j.state = ?) ORDER BY j.id DESC LIMIT ?`, d.shop, state, state, limit)
}

// queryJobs reads jobs with their topics; query follows FROM.
func (d *DB) queryJobs(ctx context.Context, what, query string, args ...any) ([]rules.Job, error) {
	rows, err := d.queryCached(ctx, nil, `SELECT `+jobColumns+` FROM jobs j JOIN deliveries d ON d.id = j.delivery `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []rules.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// JobCounts returns the number of jobs in each state.
func (d *DB) JobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs WHERE shop = ? GROUP BY state`, d.shop)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int{rules.JobQueued: 0, rules.JobRunning: 0, rules.JobDone: 0, rules.JobFailed: 0}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// QueueStats returns the jobs in each state, when the oldest queued job was
// stored (zero if none), and how many queued jobs wait for a daily limit.
func (d *DB) QueueStats(ctx context.Context) (byState map[string]int, oldest time.Time, heldForDaily int, err error) {
	if byState, err = d.JobCounts(ctx); err != nil {
		return nil, time.Time{}, 0, err
	}
	var first sql.NullInt64
	err = d.db.QueryRowContext(ctx, `
		SELECT MIN(created_at), COALESCE(SUM(CASE WHEN run_at > ? AND wait_reason = ? THEN 1 ELSE 0 END), 0)
		FROM jobs WHERE shop = ? AND state = 'queued'`, d.now(), rules.WaitForDailyLimit, d.shop).Scan(&first, &heldForDaily)
	if err != nil {
		return nil, time.Time{}, 0, fmt.Errorf("read queue stats: %w", err)
	}
	if first.Valid {
		oldest = time.UnixMilli(first.Int64)
	}
	return byState, oldest, heldForDaily, nil
}

// Checkpoint returns a named point in time; ok is false if never saved.
func (d *DB) Checkpoint(ctx context.Context, name string) (at time.Time, ok bool, err error) {
	var ms int64
	err = d.db.QueryRowContext(ctx, `SELECT at FROM checkpoints WHERE name = ?`, d.key(name)).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return time.UnixMilli(ms).UTC(), true, nil
}

// SaveCheckpoint moves a named point in time forward (never back).
func (d *DB) SaveCheckpoint(ctx context.Context, name string, at time.Time) error {
	_, err := d.exec(ctx, `
		INSERT INTO checkpoints (name, at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET at = CASE WHEN excluded.at > checkpoints.at THEN excluded.at ELSE checkpoints.at END, updated_at = excluded.updated_at`,
		d.key(name), at.UnixMilli(), d.now())
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", name, err)
	}
	return nil
}

// DeliveryJobCounts counts, by state, the jobs of the given deliveries.
func (d *DB) DeliveryJobCounts(ctx context.Context, deliveries []int64) (map[string]int, error) {
	out := map[string]int{rules.JobQueued: 0, rules.JobRunning: 0, rules.JobDone: 0, rules.JobFailed: 0}
	for _, id := range deliveries {
		rows, err := d.db.QueryContext(ctx, `SELECT state FROM jobs WHERE delivery = ?`, id)
		if err != nil {
			return nil, fmt.Errorf("jobs of delivery %d: %w", id, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, err
			}
			out[s]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// HasDelivery reports whether a delivery with this Delivery-ID and body is stored.
func (d *DB) HasDelivery(ctx context.Context, deliveryID string, body []byte) (bool, error) {
	sum := sha256.Sum256(body)
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE delivery_id = ? AND body_sha256 = ?`,
		deliveryID, hex.EncodeToString(sum[:])).Scan(&n)
	return n > 0, err
}
