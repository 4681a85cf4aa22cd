package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/woozoom/woozoom/rules"
)

// maxBatch bounds one group commit; under any load a batch is whatever
// queued while the previous commit ran, rarely near this.
const maxBatch = 1024

// errClosed answers deliveries offered after Close.
var errClosed = errors.New("the database is closing")

// ingest is the group committer of deliveries: requests queue their delivery,
// one goroutine takes whatever is queued (no timer: a lone request commits at
// once), writes all of it in one transaction on its own connection with
// statements prepared once, commits, and only then answers each request.
// One fsync then covers many deliveries, so ingest is no longer bound by one
// commit per request, and the worker's writes get the lock between batches.
type ingest struct {
	d     *DB
	queue chan *pendingDelivery
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once

	// conn and st: SQLite's ingest keeps one connection with its
	// statements prepared on it. PostgreSQL's uses pooled transactions (a
	// held session would stay broken after the server restarts).
	conn *sql.Conn
	st   deliveryStmts
	// batches counts commits; beforeCommit, if set, sees each batch first
	// (tests).
	batches      atomic.Int64
	beforeCommit func(batch []*pendingDelivery)
}

type pendingDelivery struct {
	shop   string
	del    rules.Delivery
	digest string
	now    int64
	// answer gets exactly one result, after the batch's commit.
	answer chan ingestResult
}

type ingestResult struct {
	id    int64
	isNew bool
	err   error
}

// The statements of a batch.
const (
	insertDelivery = `INSERT INTO deliveries (delivery_id, body_sha256, webhook_id, topic, source, order_id, body, received_at, shop)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, body_sha256) DO NOTHING RETURNING id`
	existingDelivery = `SELECT id FROM deliveries WHERE delivery_id = ? AND body_sha256 = ?`
	addDeliveryJob   = `INSERT INTO jobs (delivery, order_id, resource, state, run_at, created_at, updated_at, shop) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`
)

type deliveryStmts struct{ insert, existing, addJob *sql.Stmt }

// prepare prepares the batch's statements on conn.
func (st *deliveryStmts) prepare(ctx context.Context, conn *sql.Conn) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&st.insert, insertDelivery}, {&st.existing, existingDelivery}, {&st.addJob, addDeliveryJob}} {
		var err error
		if *p.st, err = conn.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("prepare the delivery statements: %w", err)
		}
	}
	return nil
}

func (d *DB) startIngest(ctx context.Context) error {
	g := &ingest{d: d, queue: make(chan *pendingDelivery, maxBatch), quit: make(chan struct{}), done: make(chan struct{})}
	if !d.pg {
		conn, err := d.db.Conn(ctx)
		if err != nil {
			return err
		}
		if err := g.st.prepare(ctx, conn); err != nil {
			_ = conn.Close()
			return err
		}
		g.conn = conn
	}
	d.ingest = g
	go g.run()
	return nil
}

// writeBatch writes a batch on PostgreSQL in three statements, whatever its
// size (one statement per delivery would cost a round trip to the server
// each): the new deliveries, the ids of the repeats, the new deliveries'
// jobs. It fills results in the batch's order; of the same delivery twice
// in the batch, the first is new.
func writeBatch(ctx context.Context, tx *sql.Tx, batch []*pendingDelivery, results []ingestResult) error {
	n := len(batch)
	ids, digests, hooks, topics, sources := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	orders, received, shops := make([]*int64, n), make([]int64, n), make([]string, n)
	bodies := make([][]byte, n)
	for i, p := range batch {
		ids[i], digests[i], hooks[i], topics[i], sources[i], shops[i] = p.del.DeliveryID, p.digest, p.del.WebhookID, p.del.Topic, p.del.Source, p.shop
		if p.del.OrderID != 0 {
			orders[i] = &p.del.OrderID
		}
		bodies[i], received[i] = p.del.Body, p.now
	}
	inserted, err := deliveryIDs(ctx, tx, `INSERT INTO deliveries (delivery_id, body_sha256, webhook_id, topic, source, order_id, body, received_at, shop)
		SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bytea[], ?::bigint[], ?::text[])
		ON CONFLICT (delivery_id, body_sha256) DO NOTHING RETURNING id, delivery_id, body_sha256`,
		ids, digests, hooks, topics, sources, orders, bodies, received, shops)
	if err != nil {
		return fmt.Errorf("record %d deliveries: %w", n, err)
	}
	known, err := deliveryIDs(ctx, tx, `SELECT id, delivery_id, body_sha256 FROM deliveries
		WHERE (delivery_id, body_sha256) IN (SELECT * FROM unnest(?::text[], ?::text[]))`, ids, digests)
	if err != nil {
		return fmt.Errorf("look up %d deliveries: %w", n, err)
	}
	var jobDelivery, jobOrder []int64
	var jobKey, jobShop []string
	for i, p := range batch {
		k := [2]string{p.del.DeliveryID, p.digest}
		id, isNew := inserted[k]
		if isNew {
			delete(inserted, k) // a repeat later in the batch is not new
			jobDelivery, jobOrder, jobKey = append(jobDelivery, id), append(jobOrder, p.del.OrderID), append(jobKey, string(jobResource(p.del)))
			jobShop = append(jobShop, p.shop)
		} else {
			id = known[k]
		}
		results[i] = ingestResult{id: id, isNew: isNew}
	}
	if len(jobDelivery) == 0 {
		return nil
	}
	now := batch[0].now
	_, err = tx.ExecContext(ctx, `INSERT INTO jobs (delivery, order_id, resource, state, run_at, created_at, updated_at, shop)
		SELECT d, NULLIF(o, 0), r, 'queued', ?, ?, ?, s FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[]) AS t(d, o, r, s)`,
		now, now, now, jobDelivery, jobOrder, jobKey, jobShop)
	if err != nil {
		return fmt.Errorf("queue the jobs of %d deliveries: %w", len(jobDelivery), err)
	}
	return nil
}

// deliveryIDs runs a query that returns id, delivery_id, body_sha256 rows.
func deliveryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) (map[[2]string]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]int64{}
	for rows.Next() {
		var id int64
		var k [2]string
		if err := rows.Scan(&id, &k[0], &k[1]); err != nil {
			return nil, err
		}
		out[k] = id
	}
	return out, rows.Err()
}

// jobResource is the resource key of a delivery's job.
func jobResource(del rules.Delivery) rules.Key {
	if del.Key == "" && del.OrderID != 0 {
		return rules.OrderKey(del.OrderID)
	}
	return del.Key
}

// record queues a shop's delivery and waits for its batch to commit.
func (g *ingest) record(ctx context.Context, shop string, del rules.Delivery) (int64, bool, error) {
	sum := sha256.Sum256(del.Body)
	p := &pendingDelivery{shop: shop, del: del, digest: hex.EncodeToString(sum[:]), now: g.d.now(), answer: make(chan ingestResult, 1)}
	select {
	case <-g.quit:
		return 0, false, errClosed
	default:
	}
	select {
	case g.queue <- p:
	case <-g.quit:
		return 0, false, errClosed
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
	// Once queued the delivery is committed or refused with its batch; the
	// answer is awaited even if the caller gave up, so a committed delivery
	// is never reported as lost.
	select {
	case r := <-p.answer:
		return r.id, r.isNew, r.err
	case <-g.done:
		// Queued as the writer stopped: answered if it was taken.
		select {
		case r := <-p.answer:
			return r.id, r.isNew, r.err
		default:
			return 0, false, errClosed
		}
	}
}

func (g *ingest) run() {
	defer close(g.done)
	batch := make([]*pendingDelivery, 0, maxBatch)
	for {
		var first *pendingDelivery
		select {
		case first = <-g.queue:
		case <-g.quit:
			// Finish what was queued before Close, then stop.
			batch = batch[:0]
			for {
				select {
				case p := <-g.queue:
					batch = append(batch, p)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				g.commit(batch)
			}
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-g.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		g.commit(batch)
	}
}

// commit writes a batch in one transaction and answers every request in it:
// all with their rows after the commit, or all with the error.
func (g *ingest) commit(batch []*pendingDelivery) {
	ctx := context.Background()
	if g.beforeCommit != nil {
		g.beforeCommit(batch)
	}
	g.batches.Add(1)
	results := make([]ingestResult, len(batch))
	var err error
	if g.d.pg {
		err = g.d.runTx(ctx, false, func(tx *sql.Tx) error { return writeBatch(ctx, tx, batch, results) })
	} else {
		// SQLite's ingest connection, first in line among the writers.
		err = g.d.rawTx(ctx, g.conn, true, func() error { return g.writeEach(ctx, batch, results) })
	}
	for i, p := range batch {
		if err != nil {
			results[i] = ingestResult{err: fmt.Errorf("commit %d deliveries: %w", len(batch), err)}
		}
		p.answer <- results[i]
	}
	if err == nil && slices.ContainsFunc(results, func(r ingestResult) bool { return r.isNew }) {
		g.d.wakeOthers(ctx)
	}
}

// writeEach writes a batch on SQLite, a delivery at a time through the
// statements prepared on the ingest connection (calls into the process
// cost no round trip).
func (g *ingest) writeEach(ctx context.Context, batch []*pendingDelivery, results []ingestResult) error {
	for i, p := range batch {
		id, isNew, err := g.write(ctx, g.st, p)
		if err != nil {
			return fmt.Errorf("record delivery %s: %w", p.del.DeliveryID, err)
		}
		results[i] = ingestResult{id: id, isNew: isNew}
	}
	return nil
}

func (g *ingest) write(ctx context.Context, st deliveryStmts, p *pendingDelivery) (id int64, isNew bool, err error) {
	var orderID any
	if p.del.OrderID != 0 {
		orderID = p.del.OrderID
	}
	err = st.insert.QueryRowContext(ctx, p.del.DeliveryID, p.digest, p.del.WebhookID, p.del.Topic, p.del.Source, orderID, p.del.Body, p.now, p.shop).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// An exact repeat (same Delivery-ID and body), maybe in this batch.
		return id, false, st.existing.QueryRowContext(ctx, p.del.DeliveryID, p.digest).Scan(&id)
	}
	if err != nil {
		return 0, false, err
	}
	_, err = st.addJob.ExecContext(ctx, id, orderID, jobResource(p.del), p.now, p.now, p.now, p.shop)
	return id, true, err
}

// close stops taking deliveries, commits those already queued, and
// releases the connection.
func (g *ingest) close() error {
	g.once.Do(func() { close(g.quit) })
	<-g.done
	if g.conn == nil {
		return nil
	}
	for _, st := range []*sql.Stmt{g.st.insert, g.st.existing, g.st.addJob} {
		_ = st.Close()
	}
	return g.conn.Close()
}
