package orders

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Lister is what reconciliation needs of WooCommerce.
type Lister interface {
	OrdersModifiedSince(ctx context.Context, since time.Time, page int) (bodies [][]byte, pages int, err error)
}

// Recorder is what reconciliation and backfill need of the store.
type Recorder interface {
	DeliveryRecorder
	Checkpoint(ctx context.Context, name string) (time.Time, bool, error)
	SaveCheckpoint(ctx context.Context, name string, at time.Time) error
}

// ReconcileStore is what reconciliation needs of the store: also which view
// of an order woozoom applied last.
type ReconcileStore interface {
	Recorder
	OrderState(ctx context.Context, orderID int64) (rules.AppliedOrder, bool, error)
}

// ReconcileCheckpoint names how far reconciliation has read.
const ReconcileCheckpoint = "reconcile"

// Reconciler reads the orders modified since its checkpoint through the REST
// API and records each as a delivery, so an order whose webhook never came
// (sidecar down, webhook disabled, delivery stuck) goes through the same
// queue, dedupe and rules as any other. An order that did arrive has the same
// body and makes no new job.
type Reconciler struct {
	List   Lister
	Store  ReconcileStore
	Decode Decoder
	Log    *slog.Logger
	// Overlap is read again before the checkpoint, for clock skew and
	// orders saved in the second the last pass ended.
	Overlap time.Duration
	// Lookback is how far back the first pass ever reads.
	Lookback time.Duration
	// Wake, if set, is called when a pass recorded new deliveries.
	Wake func()
	// AfterPass, if set, runs after every periodic pass that succeeded:
	// what the shop missed delivering has been caught up by then.
	AfterPass func(ctx context.Context)
	// Turn, if set, says whether this process makes this tick's pass:
	// processes sharing a database take turns, one pass per tick.
	Turn func(ctx context.Context) (bool, error)
	Now  func() time.Time
}

// PassResult says what one pass did.
type PassResult struct {
	Orders  int // orders read
	New     int // of which not seen before in that form
	Skipped int // bodies that were not orders (recorded, parked by the worker)
	// Unchanged orders were read but not queued: woozoom already applied a
	// view with the same status and modification time.
	Unchanged int
	Through   time.Time // the newest modification read
	// Deliveries are the row ids of the recorded deliveries, new or not.
	Deliveries []int64
}

// Since is where the next periodic pass starts.
func (r *Reconciler) Since(ctx context.Context) (time.Time, error) {
	at, ok, err := r.Store.Checkpoint(ctx, ReconcileCheckpoint)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return r.now().Add(-r.Lookback), nil
	}
	return at.Add(-r.Overlap), nil
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Pass reads every order modified after since, page by page; progress, if
// set, is told after each page. The next pass starts where this one began
// at the latest: an order saved while its pages were read is read again.
func (r *Reconciler) Pass(ctx context.Context, since time.Time, progress func(page, pages int, res PassResult)) (PassResult, error) {
	began := r.now()
	// The REST body of an order differs from its webhook body (links, meta),
	// so an order that came by webhook would be queued again: compare the
	// view instead.
	unchanged := func(ctx context.Context, o rules.Order) (bool, error) {
		prev, seen, err := r.Store.OrderState(ctx, o.ID)
		return seen && prev.Status == o.Status && prev.Modified.Equal(o.Modified), err
	}
	res, err := Enqueue(ctx, r.Store, r.Decode, func(ctx context.Context, page int) ([][]byte, int, error) {
		return r.List.OrdersModifiedSince(ctx, since, page)
	}, unchanged, progress)
	if err != nil {
		return res, fmt.Errorf("reconcile: %w", err)
	}
	if res.New > 0 && r.Wake != nil {
		r.Wake()
	}
	if !res.Through.IsZero() {
		through := res.Through
		if began.Before(through) {
			through = began
		}
		if err := r.Store.SaveCheckpoint(ctx, ReconcileCheckpoint, through); err != nil {
			return res, err
		}
	}
	return res, nil
}

// DeliveryRecorder stores deliveries, as the webhook endpoint does.
type DeliveryRecorder interface {
	RecordDelivery(ctx context.Context, d rules.Delivery) (id int64, isNew bool, err error)
}

// PageFunc returns one page (1-based) of orders as raw JSON and the number
// of pages.
type PageFunc func(ctx context.Context, page int) (bodies [][]byte, pages int, err error)

// Registering lists, of the orders list returns, those whose status
// registers by policy, and those that cannot be read (recorded, their jobs
// say why).
func Registering(list PageFunc, decode Decoder, policy rules.Policy) PageFunc {
	return func(ctx context.Context, page int) ([][]byte, int, error) {
		bodies, pages, err := list(ctx, page)
		if len(bodies) == 0 {
			return nil, page, err // an empty page ends the list
		}
		kept := bodies[:0]
		for _, b := range bodies {
			if o, err := decode("order.updated", b); err != nil || policy.Intent(o) == rules.Register {
				kept = append(kept, b)
			}
		}
		return kept, pages, err
	}
}

// Enqueue records every order that list returns as a delivery, as if its
// webhook had come: the same queue, dedupe and rules handle it. An order for
// which skip (if set) says true is counted as unchanged and not recorded.
func Enqueue(ctx context.Context, store DeliveryRecorder, decode Decoder, list PageFunc, skip func(context.Context, rules.Order) (bool, error), progress func(page, pages int, res PassResult)) (PassResult, error) {
	return enqueue(ctx, store, decode, list, skip, progress, "reconcile")
}

// EnqueueAs records every order list returns under deliveryID: a pass that
// must work orders again even when their bodies repeat (the orders of a
// meeting made anew) names itself anew.
func EnqueueAs(ctx context.Context, store DeliveryRecorder, decode Decoder, list PageFunc, deliveryID string) (PassResult, error) {
	return enqueue(ctx, store, decode, list, nil, nil, deliveryID)
}

// enqueue is Enqueue with the Delivery-ID to record under.
func enqueue(ctx context.Context, store DeliveryRecorder, decode Decoder, list PageFunc, skip func(context.Context, rules.Order) (bool, error), progress func(page, pages int, res PassResult), deliveryID string) (PassResult, error) {
	var res PassResult
	for page := 1; ; page++ {
		bodies, pages, err := list(ctx, page)
		if err != nil {
			return res, err
		}
		for _, body := range bodies {
			d := rules.Delivery{DeliveryID: deliveryID, Topic: "order.updated", Source: "reconcile", Body: body}
			if o, err := decode(d.Topic, body); err == nil {
				d.OrderID = o.ID
				if o.Modified.After(res.Through) {
					res.Through = o.Modified
				}
				if skip != nil {
					same, err := skip(ctx, o)
					if err != nil {
						return res, err
					}
					if same {
						res.Orders++
						res.Unchanged++
						continue
					}
				}
			} else {
				res.Skipped++
			}
			id, isNew, err := store.RecordDelivery(ctx, d)
			if err != nil {
				return res, err
			}
			res.Orders++
			res.Deliveries = append(res.Deliveries, id)
			if isNew {
				res.New++
			}
		}
		if progress != nil {
			progress(page, pages, res)
		}
		if page >= pages {
			return res, nil
		}
	}
}

// tick makes the periodic pass, if it is this process's turn.
func (r *Reconciler) tick(ctx context.Context) error {
	if r.Turn != nil {
		if mine, err := r.Turn(ctx); err != nil || !mine {
			return err
		}
	}
	since, err := r.Since(ctx)
	if err != nil {
		return err
	}
	// Said at each tick, so the admin sees that reconciliation runs, and
	// which process took the turn.
	r.Log.Info("reconcile pass", "since", since)
	res, err := r.Pass(ctx, since, nil)
	if err != nil {
		return err
	}
	if res.Orders > 0 {
		r.Log.Info("reconciled", "since", since, "orders", res.Orders, "new", res.New)
	}
	if r.AfterPass != nil {
		r.AfterPass(ctx)
	}
	return nil
}

// Run makes a pass from the checkpoint every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := r.tick(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("reconciliation pass failed; next pass retries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
