package zoom

import (
	"context"
	"errors"
	"sync"
	"time"

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
	joined  time.Time // when the newest request joined
}

// A call waits for more changes to join while they may come: until it is
// full, or no change joined for gatherQuiet while no other job is being
// worked (the caller's slot says) or for gatherBusy while some are, or it waited
// gatherMax. A single cancellation waits gatherQuiet; n arriving together go
// out in about ceil(n/30) calls, not in as many calls as there are workers.
const (
	gatherQuiet = 100 * time.Millisecond
	gatherBusy  = 250 * time.Millisecond
	gatherMax   = time.Second
	gatherTick  = 10 * time.Millisecond
)

type statusReq struct {
	seats []rules.Seat
	done  chan error    // gets exactly one outcome
	lead  chan struct{} // told to send for the queue when its leader leaves
}

func (b *statusBatcher) update(ctx context.Context, slot rules.Slot, t rules.Target, action rules.ActionKind, seats []rules.Seat) error {
	key := statusKey{t, action}
	req := &statusReq{seats: seats, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	b.mu.Lock()
	q := b.queues[key]
	if q == nil {
		q = &statusQueue{}
		b.queues[key] = q
	}
	q.waiting = append(q.waiting, req)
	q.joined = time.Now()
	lead := !q.sending
	q.sending = true
	b.mu.Unlock()
	// The job waits for others to join: its worker slot may run another.
	slot.Yield()
	if lead {
		b.send(ctx, slot, key, q, req)
	}
	for {
		select {
		case err := <-req.done:
			return err
		case <-req.lead:
			b.send(ctx, slot, key, q, req)
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
func (b *statusBatcher) send(ctx context.Context, slot rules.Slot, key statusKey, q *statusQueue, self *statusReq) {
	for {
		// Gather, then wait for the turn: what is asked for meanwhile joins.
		err := b.gather(ctx, slot, q)
		if err == nil {
			err = b.c.medium.wait(ctx)
		}
		b.mu.Lock()
		if err != nil {
			// This caller is going away; another one leads the rest.
			waiting := b.drop(q, self)
			b.handOver(key, q)
			b.mu.Unlock()
			if waiting && ctx.Err() == nil {
				// Its turn could not be waited for (a shared pace whose
				// database does not answer): its change fails with that,
				// not waits for an answer no one will send.
				self.done <- err
			}
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

// gather waits while changes may still join the queue and it is not full.
func (b *statusBatcher) gather(ctx context.Context, slot rules.Slot, q *statusQueue) error {
	end := time.Now().Add(gatherMax)
	for {
		b.mu.Lock()
		n := 0
		for _, r := range q.waiting {
			n += len(r.seats)
		}
		joined := q.joined
		b.mu.Unlock()
		wait := time.Until(joined.Add(gatherQuiet))
		if wait <= 0 && slot.Busy() > 0 && time.Since(joined) < gatherBusy {
			wait = gatherTick // others are being worked and may join
		}
		wait = min(wait, time.Until(end))
		if n >= MaxStatusBatch || wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
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

// drop takes a request out of the queue, and says whether it was there
// (not yet sent); with the lock held.
func (b *statusBatcher) drop(q *statusQueue, req *statusReq) bool {
	for i, r := range q.waiting {
		if r == req {
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			return true
		}
	}
	return false
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
