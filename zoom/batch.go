package zoom

import (
	"context"
	"errors"
	"sync"

	"github.com/woozoom/woozoom/rules"
)

// statusBatcher joins status changes (approve, cancel) of one meeting or
// webinar asked for at the same time, by any number of jobs, into calls of
// up to 30 registrants: while one call waits for its turn in the Medium
// pace, the changes asked for meanwhile gather behind it. Each caller gets
// the outcome of the call that carried its registrants, so the worker's
// per-seat bookkeeping is unchanged. When Zoom refuses a joined call (one
// registrant over its daily status limit, say), each caller's part is sent
// again alone, so one registrant cannot hold back the others.
type statusBatcher struct {
	c *Client

	mu     sync.Mutex
	queues map[statusKey]*statusQueue
}

type statusKey struct {
	target rules.Target
	action rules.ActionKind
}

type statusQueue struct {
	waiting []*statusReq
	sending bool
}

type statusReq struct {
	seats []rules.Seat
	done  chan error    // gets exactly one outcome
	lead  chan struct{} // told to send for the queue when its leader leaves
}

// update asks for a status change and waits for its outcome. The first
// caller of a meeting and action sends for everyone queued until the queue
// is empty; if it leaves, the next waiting caller takes over.
func (b *statusBatcher) update(ctx context.Context, t rules.Target, action rules.ActionKind, seats []rules.Seat) error {
	key := statusKey{t, action}
	req := &statusReq{seats: seats, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	b.mu.Lock()
	q := b.queues[key]
	if q == nil {
		q = &statusQueue{}
		b.queues[key] = q
	}
	q.waiting = append(q.waiting, req)
	lead := !q.sending
	q.sending = true
	b.mu.Unlock()
	if lead {
		b.send(ctx, key, q, req)
	}
	for {
		select {
		case err := <-req.done:
			return err
		case <-req.lead:
			b.send(ctx, key, q, req)
		case <-ctx.Done():
			b.leave(key, q, req)
			// Sent or not, the worker left the seat unsettled: whatever Zoom
			// did is looked up before the seat is decided again.
			return ctx.Err()
		}
	}
}

// leave takes a caller that gives up out of the queue, passing on the lead
// if it had just been handed to it.
func (b *statusBatcher) leave(key statusKey, q *statusQueue, req *statusReq) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drop(q, req)
	select {
	case <-req.lead:
		b.handOver(key, q)
	default:
	}
}

// send sends the queue's changes until none are left, or until the
// leader's own context ends: then the next caller in the queue leads.
func (b *statusBatcher) send(ctx context.Context, key statusKey, q *statusQueue, self *statusReq) {
	for {
		// Wait for the turn first: what is asked for meanwhile joins.
		err := b.c.medium.wait(ctx)
		b.mu.Lock()
		if err != nil {
			// This caller is going away; another one leads the rest.
			b.drop(q, self)
			b.handOver(key, q)
			b.mu.Unlock()
			return
		}
		var batch []*statusReq
		n := 0
		rest := q.waiting[:0]
		for _, r := range q.waiting {
			if n+len(r.seats) <= MaxStatusBatch {
				batch = append(batch, r)
				n += len(r.seats)
			} else {
				rest = append(rest, r)
			}
		}
		q.waiting = rest
		b.mu.Unlock()

		var seats []rules.Seat
		for _, r := range batch {
			seats = append(seats, r.seats...)
		}
		err = b.c.sendStatus(context.WithoutCancel(ctx), key.target, key.action, seats, true)
		if err != nil && len(batch) > 1 && refusal(err) {
			// One refused registrant must not hold back the others.
			for _, r := range batch {
				r.done <- b.c.sendStatus(context.WithoutCancel(ctx), key.target, key.action, r.seats, false)
			}
		} else {
			for _, r := range batch {
				r.done <- err
			}
		}

		b.mu.Lock()
		if len(q.waiting) == 0 {
			q.sending = false
			delete(b.queues, key)
			b.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			b.drop(q, self)
			b.handOver(key, q)
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// handOver lets the first waiting caller lead; with the lock held.
func (b *statusBatcher) handOver(key statusKey, q *statusQueue) {
	if len(q.waiting) == 0 {
		q.sending = false
		delete(b.queues, key)
		return
	}
	q.sending = true
	select {
	case q.waiting[0].lead <- struct{}{}:
	default: // already told
	}
}

// drop takes a request out of the queue; with the lock held.
func (b *statusBatcher) drop(q *statusQueue, req *statusReq) {
	for i, r := range q.waiting {
		if r == req {
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			return
		}
	}
}

// refusal reports a call Zoom refused for something about its registrants
// (one not found, one over its daily status changes): nothing was changed,
// and the parts may fare differently alone. Refusals of the whole account
// (credentials, per-second or account-wide daily limits) are not.
func refusal(err error) bool {
	var ze *Error
	if !errors.As(err, &ze) || ze.HTTPStatus < 400 || ze.HTTPStatus >= 500 || ze.HTTPStatus == 401 {
		return false
	}
	return ze.HTTPStatus != 429 || (ze.Daily() && !ze.accountDaily())
}
