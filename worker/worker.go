// Package worker runs the jobs that deliveries leave in the store: it reads
// the order a delivery shows, asks the rules what to do, makes Zoom match, and
// writes the join details back to the order. It knows Zoom, WooCommerce and
// the store only through the interfaces below.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/rules"
	"golang.org/x/sync/singleflight"
)

// Store is what the worker needs of the store.
type Store interface {
	ClaimJob(ctx context.Context, lease time.Duration) (rules.Job, bool, error)
	CompleteJob(ctx context.Context, job rules.Job, result string) error
	CompleteOrderJob(ctx context.Context, job rules.Job, result string, st *rules.AppliedOrder, folded []int64) error
	CompleteAndClaim(ctx context.Context, job rules.Job, result string, st *rules.AppliedOrder, folded []int64, lease time.Duration) (rules.Job, bool, error)
	DueJobsOfOrder(ctx context.Context, orderID, except int64, limit int) ([]rules.Job, error)
	RetryJob(ctx context.Context, job rules.Job, at time.Time, wait rules.WaitReason, lastErr string) error
	FailJob(ctx context.Context, job rules.Job, reason string) error
	ReleaseJob(ctx context.Context, job rules.Job) error
	PostponeJob(ctx context.Context, job rules.Job, at time.Time, wait rules.WaitReason, reason string) error
	ExtendLease(ctx context.Context, job rules.Job, lease time.Duration) (bool, error)
	RequeueExpired(ctx context.Context) (int, error)
	Delivery(ctx context.Context, id int64) (rules.Delivery, error)
	ActiveMappings(ctx context.Context) ([]rules.Mapping, error)
	Registrations(ctx context.Context, orderID int64) ([]rules.Registration, error)
	SaveRegistrations(ctx context.Context, regs []rules.Registration) error
	Seats(ctx context.Context, keys []rules.SeatKey) (map[rules.SeatKey]rules.Seat, error)
	SaveSeats(ctx context.Context, seats ...rules.Seat) error
	BeginSeatChange(ctx context.Context, keys ...rules.SeatKey) error
	EndSeatChange(ctx context.Context, keys ...rules.SeatKey) error
	UnsettledSeats(ctx context.Context, keys []rules.SeatKey) ([]rules.SeatKey, error)
	HeldElsewhere(ctx context.Context, orderID int64, keys []rules.SeatKey) (map[rules.SeatKey]bool, error)
	OrderState(ctx context.Context, orderID int64) (rules.AppliedOrder, bool, error)
	MetaDigest(ctx context.Context, orderID int64) (digest string, basis time.Time, err error)
	SaveMetaDigest(ctx context.Context, orderID int64, digest string, basis time.Time) error
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
	SaveTargetDetails(ctx context.Context, td rules.TargetDetails) error
	CalendarToken(ctx context.Context, r rules.Registration) (string, error)
	ActiveRegistrationsOn(ctx context.Context, t rules.Target, email string) ([]rules.Registration, error)
	RequeueOrder(ctx context.Context, orderID int64) (bool, error)
	MarkTargetBroken(ctx context.Context, t rules.Target, reason string) error
	BrokenTargets(ctx context.Context) (map[rules.Target]string, error)
}

// Holder is a running job's hold on the seats and products it decides
// about (leases in the store, named by the job's claim token), and the
// writes that must stop once one of its leases was taken over: they fail
// then, and write nothing.
type Holder interface {
	Take(ctx context.Context, want []rules.Lease, ttl, poll time.Duration) error
	Release(ctx context.Context, keys ...rules.Lease) error
	Extend(ctx context.Context, ttl time.Duration) error
	SaveSeats(ctx context.Context, seats ...rules.Seat) error
	SaveRegistrations(ctx context.Context, regs []rules.Registration) error
	BeginSeatChange(ctx context.Context, keys ...rules.SeatKey) error
	EndSeatChange(ctx context.Context, keys ...rules.SeatKey) error
}

// leasePoll is how often a job waiting for a lease held by another
// process looks again; waiters in this process are woken at its release.
const leasePoll = 25 * time.Millisecond

// Zoom is what the worker needs of Zoom.
type Zoom interface {
	AddRegistrant(ctx context.Context, t rules.Target, p rules.Person, occurrences string) (rules.Seat, error)
	UpdateStatus(ctx context.Context, t rules.Target, action rules.ActionKind, seats []rules.Seat) error
	Registrants(ctx context.Context, t rules.Target, status rules.SeatStatus) ([]rules.Seat, error)
	Registrant(ctx context.Context, t rules.Target, id string) (rules.Seat, error)
	Details(ctx context.Context, t rules.Target) (rules.TargetDetails, error)
}

// Shop is what the worker needs of WooCommerce.
type Shop interface {
	Order(ctx context.Context, id int64) (rules.Order, error)
	UpdateOrderMeta(ctx context.Context, id int64, meta []rules.Meta) error
	AddOrderNote(ctx context.Context, id int64, note string, customer bool) error
	RefundedQuantities(ctx context.Context, orderID int64) (map[int64]int, error)
	Product(ctx context.Context, id int64) (rules.Product, error)
}

// Health is told what needs a person while the work waits for it.
type Health interface {
	Problem(component, summary, detail string)
}

// Metrics is what the worker reports.
type Metrics interface {
	WriteBackFailed()
}

// Decoder turns a delivery body of a topic into the order it shows.
type Decoder func(topic string, body []byte) (rules.Order, error)

// Config tunes the worker.
type Config struct {
	Workers int
	// Joiners is how many more jobs may wait, without a slot, for a status
	// call that gathers changes of many orders (default two calls' worth).
	Joiners int
	// Lease is how long a claimed job is held without a heartbeat; a
	// worker that dies lets its jobs go after this. Renewed every Lease/3.
	Lease        time.Duration
	Poll         time.Duration // how often to look for due jobs when not woken
	Policy       rules.Policy
	CustomerNote bool          // the order note with the links is a customer note (emailed)
	DetailsTTL   time.Duration // how long meeting details are cached
	// Grace is how long jobs in flight may finish after Run's context ends;
	// then they are cancelled and handed back to the queue.
	Grace time.Duration
	// RetryBase and RetryMax bound the backoff between tries of a job.
	RetryBase, RetryMax time.Duration
	// Metrics, if set, counts what the worker alone sees.
	Metrics Metrics
	// Health, if set, hears of refused credentials and untrusted
	// certificates; they are logged there once, not on every try.
	Health Health
	// Templates render the notes and the meta text (nil: the defaults).
	Templates *access.Templates
	// CalendarURL, if set, is where attendees reach woozoom's calendar
	// files (https://shop.example/woozoom): notes and meta then link them.
	CalendarURL string
	// NamedByProduct are the link events config.yaml gives no topic: the
	// notes call them by the product's name, read from the shop.
	NamedByProduct map[rules.Target]bool
	// Making, if set, makes meetings from products.
	Making *Making
	// Holders returns the hold on leases of a job's claim token.
	Holders func(token string) Holder
}

// Worker runs jobs.
type Worker struct {
	cfg    Config
	store  Store
	zoom   Zoom
	shop   Shop
	decode Decoder
	log    *slog.Logger
	now    func() time.Time
	wake   chan struct{}
	active atomic.Bool
	// templates render notes and meta text.
	templates *access.Templates
	// detailsOnce shares one Zoom read of a meeting's details.
	detailsOnce singleflight.Group
	busy        atomic.Int64 // jobs holding slots
}

// Running reports whether Run is working the queue.
func (w *Worker) Running() bool { return w.active.Load() }

// New returns a worker.
func New(cfg Config, store Store, zoom Zoom, shop Shop, decode Decoder, log *slog.Logger) *Worker {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Joiners <= 0 {
		cfg.Joiners = 60
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = backoffBase
	}
	if cfg.RetryMax < cfg.RetryBase {
		cfg.RetryMax = max(backoffMax, cfg.RetryBase)
	}
	if cfg.Making != nil && cfg.Making.HostDailyLimit <= 0 {
		m := *cfg.Making // the caller's stays as given
		m.HostDailyLimit = 100
		cfg.Making = &m
	}
	if cfg.DetailsTTL <= 0 {
		cfg.DetailsTTL = time.Hour
	}
	if len(cfg.Policy.RegisterStatuses) == 0 {
		cfg.Policy = rules.DefaultPolicy()
	}
	tm := cfg.Templates
	if tm == nil {
		var err error
		if tm, err = access.Parse(access.Config{}); err != nil {
			panic(fmt.Sprintf("woozoom's default templates do not parse: %v", err)) // a bug, caught by every test
		}
	}
	return &Worker{cfg: cfg, store: store, zoom: zoom, shop: shop, decode: decode, log: log, now: time.Now,
		wake: make(chan struct{}, 1), templates: tm}
}

// Wake tells the worker a job is waiting; it never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx is cancelled: then it takes no new job, gives the
// jobs in flight Grace to finish, cancels and hands back the rest, and
// returns.
func (w *Worker) Run(ctx context.Context) {
	w.active.Store(true)
	defer w.active.Store(false)
	if n, err := w.store.RequeueExpired(ctx); err != nil {
		w.log.Error("requeue expired jobs", "err", err)
	} else if n > 0 {
		w.log.Info("requeued jobs left running by a previous run", "jobs", n)
	}
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(w.cfg.Grace)
			defer t.Stop()
			select {
			case <-t.C:
				cancelWork()
			case <-stopped:
			}
		case <-stopped:
		}
	}()
	// Workers slots run jobs. A job that waits for others to join its
	// status call gives its slot up (rules.Yield), and one of the extra loops
	// takes it, so a call gathers changes from more orders than there are
	// workers.
	slots := make(chan struct{}, w.cfg.Workers)
	var wg sync.WaitGroup
	for i := range w.cfg.Workers + w.cfg.Joiners {
		wg.Go(func() { w.loop(ctx, work, slots, i < w.cfg.Workers) })
	}
	wg.Go(func() {
		t := time.NewTicker(w.cfg.Lease / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := w.store.RequeueExpired(ctx); err != nil && ctx.Err() == nil {
					w.log.Error("requeue expired jobs", "err", err)
				}
			}
		}
	})
	wg.Wait()
	close(stopped)
}

// loop claims jobs while it holds a slot, until stop ends; jobs run under
// work. Only polling loops look for due jobs on their own; the others wait
// to be woken.
func (w *Worker) loop(stop, work context.Context, slots chan struct{}, poll bool) {
	for stop.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-stop.Done():
			return
		}
		w.busy.Add(1)
		sl := &slot{w: w, stop: stop.Done()}
		sl.release = sync.OnceFunc(func() { sl.yielded.Store(true); w.busy.Add(-1); <-slots })
		ran, err := w.RunOne(rules.WithSlot(work, sl))
		sl.release()
		if err != nil && work.Err() == nil {
			w.log.Error("worker", "err", err)
		}
		if ran {
			continue
		}
		var tick <-chan time.Time
		if poll {
			tick = time.After(w.cfg.Poll)
		}
		select {
		case <-stop.Done():
		case <-w.wake:
		case <-tick:
		}
	}
}

// slot is a job's hold on a worker slot (rules.Slot).
type slot struct {
	w       *Worker
	stop    <-chan struct{}
	release func()
	yielded atomic.Bool
}

// Holding: the slot is not given up and the worker is not stopping.
func (s *slot) Holding() bool {
	select {
	case <-s.stop:
		return false
	default:
		return !s.yielded.Load()
	}
}

func (s *slot) Yield() { s.release(); s.w.Wake() }

// Busy counts the other jobs holding slots.
func (s *slot) Busy() int {
	n := int(s.w.busy.Load())
	if !s.yielded.Load() {
		n--
	}
	return max(n, 0)
}

// RunOne claims and runs one due job; ran is false when none was due.
// Inside the worker's loop (holding a slot) a job that succeeds claims the
// next one as it completes, and that one runs too.
func (w *Worker) RunOne(ctx context.Context) (ran bool, err error) {
	job, ok, err := w.store.ClaimJob(ctx, w.cfg.Lease)
	for err == nil && ok {
		// More may be due: an idle loop looks too, so a burst of deliveries
		// is worked by every slot, not by the one loop a single wake reached.
		w.Wake()
		ran = true
		job, ok, err = w.run(ctx, job)
	}
	return ran, err
}

// run runs a claimed job; next is the job claimed with its completion.
func (w *Worker) run(ctx context.Context, job rules.Job) (next rules.Job, hasNext bool, err error) {
	log := w.log.With("job_id", job.ID, "order_id", job.OrderID, "topic", job.Topic, "attempt", job.Attempts)
	ctx = rules.WithJob(ctx, rules.JobRef{JobID: job.ID, OrderID: job.OrderID})
	h := w.cfg.Holders(job.Claim)
	stopBeat := w.heartbeat(ctx, job, h, log)
	var fin finish
	result, err := w.process(ctx, job, h, log, &fin)
	stopBeat()
	// The job's final state is written even while shutting down.
	done := context.WithoutCancel(ctx)
	if rerr := h.Release(done); rerr != nil {
		log.Warn("could not release the job's leases; they lapse on their own", "err", rerr)
	}
	switch {
	case err == nil:
		log.Info("job done", "result", result)
		if rules.Holding(ctx) && ctx.Err() == nil {
			return w.store.CompleteAndClaim(done, job, result, fin.state, fin.folded, w.cfg.Lease)
		}
		if fin.state != nil || len(fin.folded) > 0 {
			return next, false, w.store.CompleteOrderJob(done, job, result, fin.state, fin.folded)
		}
		return next, false, w.store.CompleteJob(done, job, result)
	case ctx.Err() != nil:
		log.Info("job handed back at shutdown")
		return next, false, w.store.ReleaseJob(done, job)
	case errors.Is(err, rules.ErrUnavailable):
		// The job keeps its place and its tries; the circuit says when to
		// come back, and wakes it sooner when the service answers again.
		at, ok := rules.RetryAt(err)
		if !ok || at.Before(w.now()) {
			at = w.now().Add(time.Second)
		}
		log.Debug("job waits for the service to answer", "err", err, "retry_at", at)
		return next, false, w.store.PostponeJob(done, job, at, rules.WaitForService, err.Error())
	case rules.Retryable(err):
		at := w.now().Add(BackoffWith(w.cfg.RetryBase, w.cfg.RetryMax, job.Attempts, jitter()))
		if t, ok := rules.RetryAt(err); ok && t.After(at) {
			at = t
		}
		if errors.Is(err, rules.ErrCredentials) {
			// A person must act; the job waits for them and is taken up at
			// once when woozoom restarts with a changed configuration.
			if w.cfg.Health != nil {
				w.cfg.Health.Problem(serviceOf(err), rules.Summary(err), rules.Reason(err))
			}
			log.Debug("job waits for credentials or trust to be fixed", "err", err, "retry_at", at)
			return next, false, w.store.RetryJob(done, job, at, rules.WaitForPerson, err.Error())
		}
		log.Warn("job will be retried", "err", err, "retry_at", at)
		wait := rules.NotWaiting
		if rules.Daily(err) {
			wait = rules.WaitForDailyLimit
		}
		return next, false, w.store.RetryJob(done, job, at, wait, err.Error())
	default:
		log.Error("job parked: it needs a person", "err", err)
		return next, false, w.store.FailJob(done, job, err.Error())
	}
}

// heartbeat renews the job's lease until the returned stop is called.
func (w *Worker) heartbeat(ctx context.Context, job rules.Job, h Holder, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(w.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if ok, err := w.store.ExtendLease(context.WithoutCancel(ctx), job, w.cfg.Lease); err != nil || !ok {
					log.Warn("could not extend the job's lease", "err", err, "still_ours", ok)
				}
				if err := h.Extend(context.WithoutCancel(ctx), w.cfg.Lease); err != nil {
					log.Warn("could not extend the job's leases", "err", err)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func serviceOf(err error) string {
	if s := rules.Service(err); s != "" {
		return s
	}
	return "connection"
}

// permanent is a failure that parks the job for a person.
func permanent(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{rules.ErrPermanent}, args...)...)
}

// finish is what a job that succeeds leaves to be saved with its
// completion, in the same transaction.
type finish struct {
	state  *rules.AppliedOrder // the view of the order now applied
	folded []int64             // queued jobs of the order whose views this job stood for
}

func (w *Worker) process(ctx context.Context, job rules.Job, h Holder, log *slog.Logger, fin *finish) (string, error) {
	del, err := w.store.Delivery(ctx, job.Delivery)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(del.Topic, "zoom:") {
		return w.zoomEvent(ctx, del, h, log)
	}
	resource, _, _ := strings.Cut(del.Topic, ".")
	switch resource {
	case "order":
	case "product":
		return w.productEvent(ctx, del, h, log)
	case "action":
		return fmt.Sprintf("%s delivery recorded; nothing to do", del.Topic), nil
	default:
		return "", permanent("delivery %d has topic %q, which woozoom does not know (check the webhook's topic in WooCommerce)", del.ID, del.Topic)
	}
	order, err := w.view(ctx, del)
	if err != nil {
		return "", err
	}
	if job.OrderID != 0 {
		order = w.fold(ctx, job, order, log, fin)
	}
	result, err := w.apply(ctx, h, order, log, fin)
	if err == nil && len(fin.folded) > 0 {
		result += fmt.Sprintf(" (stood for %d more queued deliveries of the order)", len(fin.folded))
	}
	return result, err
}

// view reads the order a delivery shows.
func (w *Worker) view(ctx context.Context, del rules.Delivery) (rules.Order, error) {
	order, err := w.decode(del.Topic, del.Body)
	if err != nil {
		return order, permanent("delivery %d (%s) cannot be read: %v", del.ID, del.Topic, err)
	}
	if !order.Deleted {
		return order, nil
	}
	// order.deleted carries only the id; the trashed order still has a
	// modification date to order it against other deliveries.
	cur, err := w.shop.Order(ctx, order.ID)
	switch {
	case err == nil:
		cur.Deleted = cur.Status == rules.StatusTrash
		return cur, nil
	case errors.Is(err, rules.ErrNotFound):
		order.Modified = del.ReceivedAt.UTC()
		return order, nil
	default:
		return order, fmt.Errorf("read trashed order %d: %w", order.ID, err)
	}
}

// foldLimit bounds how many queued deliveries of one order a job reads.
const foldLimit = 32

// fold picks, among the job's view and the views of the order's other due
// jobs, the one to apply: the rules are level-triggered, so only the newest
// view that changes something matters. Views that change nothing (on-hold,
// say) must not hide an older one that does, so they never win; they and
// older views are folded into this job, which completes them with its own.
// A sibling that cannot be read is left to run, and fail, on its own.
func (w *Worker) fold(ctx context.Context, job rules.Job, own rules.Order, log *slog.Logger, fin *finish) rules.Order {
	siblings, err := w.store.DueJobsOfOrder(ctx, job.OrderID, job.ID, foldLimit)
	if err != nil || len(siblings) == 0 {
		if err != nil {
			log.Warn("could not read the order's other queued jobs; each runs on its own", "err", err)
		}
		return own
	}
	best, bestJob := own, job.ID
	counts := func(o rules.Order) bool { return w.cfg.Policy.Intent(o) != rules.Hold }
	for _, sj := range siblings {
		if !strings.HasPrefix(sj.Topic, "order.") {
			continue
		}
		del, err := w.store.Delivery(ctx, sj.Delivery)
		if err != nil {
			continue
		}
		v, err := w.view(ctx, del)
		if err != nil || v.ID != job.OrderID {
			continue
		}
		fin.folded = append(fin.folded, sj.ID)
		if !counts(v) {
			continue
		}
		// Equal modification times (a second's resolution): the later
		// delivery wins, as it would running after this one.
		if !counts(best) || v.Modified.After(best.Modified) || (v.Modified.Equal(best.Modified) && sj.ID > bestJob) {
			best, bestJob = v, sj.ID
		}
	}
	if bestJob != job.ID {
		log.Info("applying a newer queued view of the order", "view_job", bestJob, "status", best.Status, "folded", len(fin.folded))
	}
	return best
}

// apply makes Zoom and the order's write-back match one view of an order,
// unless a newer view was applied already.
func (w *Worker) apply(ctx context.Context, h Holder, order rules.Order, log *slog.Logger, fin *finish) (string, error) {
	prev, seen, err := w.store.OrderState(ctx, order.ID)
	if err != nil {
		return "", err
	}
	intent := w.cfg.Policy.Intent(order)
	if intent == rules.Hold {
		// A view that changes nothing must not hide an older one that does
		// (completed, then on-hold, delivered in reverse): it sets no mark.
		return fmt.Sprintf("status %s: nothing to do", order.Status), nil
	}
	if seen && order.Modified.Before(prev.Modified) {
		return fmt.Sprintf("skipped: this view (%s, modified %s) is older than the one applied (%s, modified %s)",
			order.Status, order.Modified.Format(time.RFC3339), prev.Status, prev.Modified.Format(time.RFC3339)), nil
	}
	if intent == rules.Register && order.HasRefunds {
		if order.RefundedQty, err = w.shop.RefundedQuantities(ctx, order.ID); err != nil {
			return "", err
		}
	}
	if intent == rules.Register {
		if err := w.ensureMeetings(ctx, h, order, log); err != nil {
			return "", err
		}
	}
	state := rules.AppliedOrder{Status: order.Status, Modified: order.Modified, NoteDigest: prev.NoteDigest}
	if order.Deleted {
		state.Status = rules.StatusTrash
	}

	mappings, err := w.store.ActiveMappings(ctx)
	if err != nil {
		return "", err
	}
	in := rules.Input{Order: order, Intent: intent, Wants: w.cfg.Policy.Wants(order, mappings)}
	if in.Registrations, err = w.store.Registrations(ctx, order.ID); err != nil {
		return "", err
	}
	keys := seatKeys(in.Wants, in.Registrations)
	// From reading the seats to acting on Zoom, no other job may decide
	// about them.
	leases := make([]rules.Lease, len(keys))
	for i, k := range keys {
		leases[i] = rules.SeatLease(k)
	}
	if err := h.Take(ctx, leases, w.cfg.Lease, leasePoll); err != nil {
		return "", fmt.Errorf("wait for %d seats other jobs decide about: %w", len(keys), err)
	}
	unlock := sync.OnceFunc(func() {
		if err := h.Release(context.WithoutCancel(ctx), leases...); err != nil {
			log.Warn("could not release the seats; they lapse on their own", "err", err)
		}
	})
	defer unlock()
	if in.Seats, err = w.store.Seats(ctx, keys); err != nil {
		return "", err
	}
	if err := w.settle(ctx, h, keys, in.Seats, log); err != nil {
		return "", err
	}
	if in.HeldElsewhere, err = w.store.HeldElsewhere(ctx, order.ID, keys); err != nil {
		return "", err
	}
	plan := rules.Decide(in)
	// Claims first: a crash after this point is finished by the next run.
	if err := h.SaveRegistrations(ctx, append(append([]rules.Registration(nil), plan.Activate...), plan.Release...)); err != nil {
		return "", err
	}
	broken, err := w.store.BrokenTargets(ctx)
	if err != nil {
		return "", err
	}
	out := w.execute(ctx, h, order.ID, plan, in.Registrations, broken, log)
	out.released = plan.Release
	unlock()

	// Write back what the order holds, even when some attendees failed.
	if err := w.writeBack(ctx, order, intent, out, &state); err != nil {
		if w.cfg.Metrics != nil {
			w.cfg.Metrics.WriteBackFailed()
		}
		return "", errors.Join(out.err, err)
	}
	if out.err != nil {
		return "", out.err
	}
	fin.state = &state
	return out.summary(intent), nil
}

// refused reports a Zoom answer that says the change was not made, or a
// call that was never sent (Zoom not answering). Any other failure (a
// timeout, a lost answer, a 5xx, a crash) leaves the seat unsettled, for
// settle to look up.
func refused(err error) bool {
	notSent := errors.Is(err, rules.ErrUnavailable) && !errors.Is(err, rules.ErrTemporary) // not a failed probe
	return err != nil && (errors.Is(err, rules.ErrRateLimited) || errors.Is(err, rules.ErrPermanent) || notSent)
}

// settle learns from Zoom what became of seat changes whose answer was
// never read (a crash, a timeout, a lost reply), and records it in seats.
// Guessing would go wrong both ways: adding again spends one of Zoom's 3
// adds per email per meeting per day, and a cancel made but not recorded
// leaves another order's attendee shut out.
func (w *Worker) settle(ctx context.Context, h Holder, keys []rules.SeatKey, seats map[rules.SeatKey]rules.Seat, log *slog.Logger) error {
	open, err := w.store.UnsettledSeats(ctx, keys)
	if err != nil || len(open) == 0 {
		return err
	}
	byTarget := map[rules.Target]map[string]bool{}
	var targets []rules.Target
	for _, k := range open {
		if byTarget[k.Target] == nil {
			byTarget[k.Target] = map[string]bool{}
			targets = append(targets, k.Target)
		}
		byTarget[k.Target][k.Email] = true
	}
	for _, t := range targets {
		unsettled := byTarget[t]
		for _, status := range []rules.SeatStatus{rules.SeatApproved, rules.SeatPending, rules.SeatDenied} {
			list, err := w.zoom.Registrants(ctx, t, status)
			if errors.Is(err, rules.ErrNotFound) {
				// The meeting is gone (deleted with its product, or in
				// Zoom), and its registrants with it: nothing to learn.
				log.Info("an unanswered change on a meeting that no longer exists", "target", t.String(), "registrants", len(unsettled))
				break
			}
			if err != nil {
				return fmt.Errorf("look up %d registrants of %s whose change went unanswered: %w", len(unsettled), t, err)
			}
			for _, s := range list {
				if !unsettled[s.Email] {
					continue
				}
				if err := h.SaveSeats(ctx, s); err != nil {
					return err
				}
				seats[s.SeatKey] = s
				delete(unsettled, s.Email)
				log.Info("settled an unanswered change on Zoom", "email", s.Email, "target", t.String(), "status", string(s.Status))
			}
			if len(unsettled) == 0 {
				break
			}
		}
		for email := range unsettled {
			k := rules.SeatKey{Target: t, Email: email}
			if err := h.EndSeatChange(ctx, k); err != nil {
				return err
			}
			if s, ok := seats[k]; ok {
				// Zoom no longer has it (deleted by the host?): keep what we knew.
				log.Warn("an unanswered change: Zoom no longer lists the registrant", "email", email, "target", t.String(), "status", string(s.Status))
				continue
			}
			log.Info("settled an unanswered add: Zoom does not have it", "email", email, "target", t.String())
		}
	}
	return nil
}

// giveLink gives or takes an attendee's link to an event not on Zoom.
func (w *Worker) giveLink(ctx context.Context, h Holder, a rules.Action, out *outcome) error {
	seat := rules.Seat{SeatKey: a.Seat, RegistrantID: "link", Status: rules.SeatApproved}
	if a.Kind == rules.Cancel {
		seat.Status = rules.SeatDenied
	} else {
		d, err := w.details(ctx, a.Seat.Target)
		if err != nil {
			return err
		}
		seat.JoinURL = d.JoinURL
	}
	if err := h.SaveSeats(ctx, seat); err != nil {
		return err
	}
	switch a.Kind {
	case rules.AddRegistrant:
		out.added++
	case rules.Approve:
		out.approved++
	case rules.Cancel:
		out.cancelled++
	}
	return nil
}

func seatKeys(wants []rules.Want, regs []rules.Registration) []rules.SeatKey {
	seen := map[rules.SeatKey]bool{}
	var keys []rules.SeatKey
	add := func(k rules.SeatKey) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, w := range wants {
		add(w.Key())
	}
	for _, r := range regs {
		add(r.Key())
	}
	return keys
}

// unlessUnmapped turns a failure on a meeting that went away while the
// job ran (deleted with its product, or broken, and no longer mapped)
// into a retry: the order is read again and no longer wants it, so
// it needs no person. A meeting still mapped parks the job as before.
func (w *Worker) unlessUnmapped(ctx context.Context, t rules.Target, err error) error {
	if !errors.Is(err, rules.ErrNotFound) && !errors.Is(err, rules.ErrPermanent) {
		return err
	}
	broken, berr := w.store.BrokenTargets(ctx)
	_, gone := broken[t]
	if !gone && berr == nil && w.cfg.Making != nil {
		gone, berr = w.cfg.Making.Store.BeingDeleted(ctx, t) // its DELETE may still be on its way
	}
	if berr != nil || !gone {
		return err
	}
	ms, merr := w.store.ActiveMappings(ctx)
	if merr != nil {
		return err
	}
	for _, m := range ms {
		if m.Target == t {
			return err
		}
	}
	return fmt.Errorf("%w: %s went away while the job ran and is no longer mapped; the order is read again: %w", rules.ErrTemporary, t, err)
}

// outcome is what one run did on Zoom.
type outcome struct {
	added, approved, cancelled int
	refused                    []rules.Registration // attendees Zoom refused, with the reason
	released                   []rules.Registration // registrations this run gave up
	err                        error                // first failure that stops the job (retry or park)
}

func (o outcome) summary(intent rules.Intent) string {
	s := fmt.Sprintf("%s: %d added, %d approved, %d cancelled on Zoom", intent, o.added, o.approved, o.cancelled)
	if len(o.refused) > 0 {
		s += fmt.Sprintf(", %d attendees refused", len(o.refused))
	}
	return s
}

// execute runs the plan's Zoom actions. One attendee Zoom refuses is marked
// failed and the others go ahead; a failure that is not the attendee's
// stops the job after the other actions were tried.
func (w *Worker) execute(ctx context.Context, h Holder, orderID int64, plan rules.Plan, existing []rules.Registration, broken map[rules.Target]string, log *slog.Logger) outcome {
	var out outcome
	note := func(err error) {
		if out.err == nil || (rules.Retryable(out.err) && !rules.Retryable(err)) {
			out.err = err
		}
	}
	var pending []rules.Seat
	claims := map[rules.SeatKey]rules.Registration{}
	for _, r := range existing {
		claims[r.Key()] = r
	}
	for _, r := range plan.Activate {
		claims[r.Key()] = r
	}
	// A meeting deleted in Zoom takes no change: the job is parked with why,
	// after the other meetings were done.
	var zoomActions []rules.Action
	for _, a := range plan.Zoom {
		if reason, gone := broken[a.Seat.Target]; gone {
			if a.Kind != rules.Cancel {
				note(w.unlessUnmapped(ctx, a.Seat.Target, permanent("%s", reason)))
			}
			continue
		}
		zoomActions = append(zoomActions, a)
	}
	plan.Zoom = zoomActions
	// Events held at a link take no call: giving or taking the link is
	// recorded as a seat, so the write-back and calendar files treat them
	// like Zoom's.
	zoomActions = nil
	for _, a := range plan.Zoom {
		if a.Seat.Target.OnZoom() {
			zoomActions = append(zoomActions, a)
			continue
		}
		if err := w.giveLink(ctx, h, a, &out); err != nil {
			note(err)
		}
	}
	plan.Zoom = zoomActions
	for _, a := range plan.Zoom {
		if a.Kind != rules.AddRegistrant || ctx.Err() != nil {
			continue
		}
		if err := h.BeginSeatChange(ctx, a.Seat); err != nil {
			note(err)
			continue
		}
		seat, err := w.zoom.AddRegistrant(ctx, a.Seat.Target, a.Attendee, a.Occurrences)
		if refused(err) {
			if eerr := h.EndSeatChange(ctx, a.Seat); eerr != nil {
				note(eerr)
			}
		}
		switch {
		case err == nil:
			if err := h.SaveSeats(ctx, seat); err != nil {
				note(err)
				continue
			}
			out.added++
			if seat.Status == rules.SeatPending {
				pending = append(pending, seat)
			}
			log.Info("registered", "email", a.Seat.Email, "target", a.Seat.Target.String(), "registrant_id", seat.RegistrantID, "status", string(seat.Status))
		case errors.Is(err, rules.ErrInvalidAttendee):
			r, ok := claims[a.Seat]
			if !ok || r.OrderID != orderID {
				// Another order's attendee; that order's job reports it.
				note(err)
				continue
			}
			r.State, r.Error = rules.Failed, err.Error()
			if serr := h.SaveRegistrations(ctx, []rules.Registration{r}); serr != nil {
				note(serr)
				continue
			}
			out.refused = append(out.refused, r)
			log.Warn("attendee refused by Zoom", "email", a.Seat.Email, "target", a.Seat.Target.String(), "err", err)
		default:
			note(w.unlessUnmapped(ctx, a.Seat.Target, err))
		}
	}
	// A webinar that asks for manual approval holds a paid attendee as
	// pending: approve them now rather than leave them without a link.
	actions := plan.Zoom
	for _, s := range pending {
		actions = append(actions, rules.Action{Kind: rules.Approve, Seat: s.SeatKey, RegistrantID: s.RegistrantID})
	}
	for _, batch := range rules.Batches(actions, 30) {
		if ctx.Err() != nil {
			break
		}
		seats := make([]rules.Seat, len(batch))
		for i, a := range batch {
			seats[i] = rules.Seat{SeatKey: a.Seat, RegistrantID: a.RegistrantID}
		}
		kind, target := batch[0].Kind, batch[0].Seat.Target
		keys := make([]rules.SeatKey, len(seats))
		for i, s := range seats {
			keys[i] = s.SeatKey
		}
		if err := h.BeginSeatChange(ctx, keys...); err != nil {
			note(err)
			continue
		}
		if err := w.zoom.UpdateStatus(ctx, target, kind, seats); err != nil {
			if refused(err) {
				if eerr := h.EndSeatChange(ctx, keys...); eerr != nil {
					note(eerr)
				}
			}
			note(w.unlessUnmapped(ctx, target, err))
			continue
		}
		status := rules.SeatApproved
		if kind == rules.Cancel {
			status = rules.SeatDenied
		}
		for i := range seats {
			seats[i].Status = status
		}
		if err := h.SaveSeats(ctx, seats...); err != nil {
			note(err)
			continue
		}
		if kind == rules.Cancel {
			out.cancelled += len(seats)
		} else {
			out.approved += len(seats)
		}
		log.Info("registrant status updated", "action", string(kind), "target", target.String(), "registrants", len(seats))
	}
	if ctx.Err() != nil {
		note(ctx.Err())
	}
	return out
}
