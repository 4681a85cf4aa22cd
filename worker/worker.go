// Package worker runs the queue that deliveries leave in the store: it
// claims due jobs under a lease, keeps the lease alive while a job runs,
// hands each job to the room that works its kind (orders, a product's
// meetings, Zoom's events), and records the outcome: done, retried with
// backoff, waiting for a person or a service, or parked. It knows neither
// Zoom nor WooCommerce.
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

	"github.com/woozoom/woozoom/rules"
)

// Store is what the runner needs of the queue.
type Store interface {
	ClaimJob(ctx context.Context, lease time.Duration) (rules.Job, bool, error)
	CompleteJob(ctx context.Context, job rules.Job, result string) error
	CompleteOrderJob(ctx context.Context, job rules.Job, result string, st *rules.AppliedOrder, folded []int64) error
	CompleteAndClaim(ctx context.Context, job rules.Job, result string, st *rules.AppliedOrder, folded []int64, lease time.Duration) (rules.Job, bool, error)
	RetryJob(ctx context.Context, job rules.Job, at time.Time, wait rules.WaitReason, lastErr string) error
	FailJob(ctx context.Context, job rules.Job, reason string) error
	ReleaseJob(ctx context.Context, job rules.Job) error
	PostponeJob(ctx context.Context, job rules.Job, at time.Time, wait rules.WaitReason, reason string) error
	ExtendLease(ctx context.Context, job rules.Job, lease time.Duration) (bool, error)
	RequeueExpired(ctx context.Context) (int, error)
	Delivery(ctx context.Context, id int64) (rules.Delivery, error)
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

// LeasePoll is how often a job waiting for a lease held by another process
// looks again; waiters in this process are woken at its release.
const LeasePoll = 25 * time.Millisecond

// Health is told what needs a person while the work waits for it.
type Health interface {
	Problem(component, summary, detail string)
}

// Job is a claimed job as a room works it.
type Job struct {
	rules.Job
	Delivery rules.Delivery
	// Leases is the job's hold on leases; they are released when the job
	// ends, and lapse if its process dies.
	Leases Holder
	// LeaseTTL is how long a lease the job takes lasts without its
	// heartbeat.
	LeaseTTL time.Duration
	// Slot is the worker slot the job holds: a job that waits for others
	// to join a call gives it up meanwhile (see rules.Slot).
	Slot rules.Slot
	Log  *slog.Logger
}

// Done is what a job that succeeded leaves to be saved with its completion,
// in one transaction.
type Done struct {
	Result string
	// Applied is the view of an order the job applied, if any.
	Applied *rules.AppliedOrder
	// Folded are queued jobs of the same order whose views this one stood
	// for; they complete with it.
	Folded []int64
}

// Room works one kind of job.
type Room interface {
	Work(ctx context.Context, job Job) (Done, error)
}

// Holding is a Room whose jobs hold leases for all their work (a product
// job its product exclusive, an order job its products shared): the runner
// takes them before the work begins, waiting while another job holds them,
// and releases them when the job ends.
type Holding interface {
	Holds(ctx context.Context, job Job) ([]rules.Lease, error)
}

// RoomFunc is a function that is a Room.
type RoomFunc func(ctx context.Context, job Job) (Done, error)

// Work calls f.
func (f RoomFunc) Work(ctx context.Context, job Job) (Done, error) { return f(ctx, job) }

// Kind is the kind of job a delivery makes, by its topic.
type Kind string

// The kinds of job.
const (
	OrderJob        Kind = "order"   // order.* deliveries and reconcile passes
	ProductJob      Kind = "product" // product.* deliveries and queued product jobs
	RegistrantEvent Kind = "zoom registrant"
	MeetingEvent    Kind = "zoom meeting"
	AttendanceEvent Kind = "zoom attendance" // a meeting or webinar ended
	RecordingEvent  Kind = "zoom recording"  // its cloud recording came or went
	ActionJob       Kind = "action"          // action.* deliveries: recorded, nothing to do
)

// KindOf says which kind of job a delivery of topic makes ("" for none
// woozoom knows).
func KindOf(topic string) Kind {
	if event, ok := strings.CutPrefix(topic, "zoom:"); ok {
		resource, action, _ := strings.Cut(event, ".")
		switch {
		case resource == "recording":
			return RecordingEvent
		case strings.HasPrefix(action, "registration_"):
			return RegistrantEvent
		case action == "ended":
			return AttendanceEvent
		}
		return MeetingEvent
	}
	resource, _, _ := strings.Cut(topic, ".")
	switch Kind(resource) {
	case OrderJob, ProductJob, ActionJob:
		return Kind(resource)
	}
	return ""
}

// Config tunes the runner.
type Config struct {
	Workers int
	// Joiners is how many more jobs may wait, without a slot, for a status
	// call that gathers changes of many orders (default two calls' worth).
	Joiners int
	// Lease is how long a claimed job (and every lease it takes) is held
	// without a heartbeat; a worker that dies lets them go after this.
	// Renewed every Lease/3.
	Lease time.Duration
	Poll  time.Duration // how often to look for due jobs when not woken
	// Grace is how long jobs in flight may finish after Run's context ends;
	// then they are cancelled and handed back to the queue.
	Grace time.Duration
	// RetryBase and RetryMax bound the backoff between tries of a job.
	RetryBase, RetryMax time.Duration
	// Health, if set, hears of refused credentials and untrusted
	// certificates; they are logged there once, not on every try.
	Health Health
	// Holders returns the hold on leases of a job's claim token.
	Holders func(token string) Holder
	// Rooms work the jobs, by kind. A kind without a room: the job is
	// done with nothing to do.
	Rooms map[Kind]Room
	// Shop names the shop whose queue the store gives (each shop has its
	// worker); empty with one shop. The log and the audit log say it.
	Shop string
}

// Worker runs jobs.
type Worker struct {
	cfg    Config
	store  Store
	log    *slog.Logger
	now    func() time.Time
	wake   chan struct{}
	active atomic.Bool
	busy   atomic.Int64 // jobs holding slots
	// outage is the database's, so it is logged once, not by every loop
	// at every poll.
	outage outage
}

// outage tracks whether the database answers. It is over only once the
// database has answered for a second since the last failure: while a
// server shuts down, one pooled session may still answer as the next is
// cut, and the outage would seem to end and begin again.
type outage struct {
	mu       sync.Mutex
	down     bool
	lastFail time.Time
}

// failed notes a failure; it says whether the outage begins with it.
func (o *outage) failed(now time.Time) (begins bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	begins, o.down, o.lastFail = !o.down, true, now
	return begins
}

// answered notes an answer; it says whether the outage ends with it.
func (o *outage) answered(now time.Time) (ends bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down && now.Sub(o.lastFail) >= time.Second {
		o.down = false
		return true
	}
	return false
}

// Running reports whether Run is working the queue.
func (w *Worker) Running() bool { return w.active.Load() }

// New returns a worker.
func New(cfg Config, store Store, log *slog.Logger) *Worker {
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
	return &Worker{cfg: cfg, store: store, log: log, now: time.Now, wake: make(chan struct{}, 1)}
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
	// status call gives its slot up (Slot.Yield), and one of the extra
	// loops takes it, so a call gathers changes from more orders than there
	// are workers.
	slots := make(chan struct{}, w.cfg.Workers)
	var wg sync.WaitGroup
	for i := range w.cfg.Workers + w.cfg.Joiners {
		wg.Go(func() { w.loop(ctx, work, slots, i < w.cfg.Workers) })
	}
	wg.Go(func() { w.requeueLapsed(ctx) })
	wg.Wait()
	close(stopped)
}

// requeueLapsed puts back the jobs whose process died, every half lease.
func (w *Worker) requeueLapsed(ctx context.Context) {
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
		ran, err := w.runOne(work, sl)
		sl.release()
		if work.Err() == nil {
			w.reportStore(err)
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

// reportStore logs what the queue's own reads and writes met: a database
// that stopped answering once, and once more when it answers again; any
// other error each time.
func (w *Worker) reportStore(err error) {
	switch {
	case err == nil:
		if w.outage.answered(w.now()) {
			w.log.Info("the database answers again; the queue goes on")
		}
	case errors.Is(err, rules.ErrUnavailable):
		if w.outage.failed(w.now()) {
			w.log.Error("the database does not answer; jobs wait until it does", "err", err)
		} else {
			w.log.Debug("the database still does not answer", "err", err)
		}
	default:
		w.log.Error("worker", "err", err)
	}
}

// settle writes a job's end, trying again while the database does not
// answer, for at most a lease (then the job is requeued anyway) and only
// once when stopping. Its leases are released first, the same way, so the
// next job of its order need not wait for them to lapse.
func (w *Worker) settle(ctx context.Context, write func() error) error {
	deadline := w.now().Add(w.cfg.Lease)
	wait := 100 * time.Millisecond
	for {
		err := write()
		if err == nil || !errors.Is(err, rules.ErrUnavailable) || ctx.Err() != nil || w.now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
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

// RunOne claims and runs one due job, outside the worker's loop (tests,
// commands); ran is false when none was due.
func (w *Worker) RunOne(ctx context.Context) (ran bool, err error) {
	return w.runOne(ctx, rules.NoSlot{})
}

// runOne claims and runs a due job. Holding a slot, a job that succeeds
// claims the next one as it completes, and that one runs too.
func (w *Worker) runOne(ctx context.Context, sl rules.Slot) (ran bool, err error) {
	job, ok, err := w.store.ClaimJob(ctx, w.cfg.Lease)
	for err == nil && ok {
		// More may be due: an idle loop looks too, so a burst of deliveries
		// is worked by every slot, not by the one loop a single wake reached.
		w.Wake()
		ran = true
		job, ok, err = w.run(ctx, job, sl)
	}
	return ran, err
}

// run runs a claimed job; next is the job claimed with its completion.
func (w *Worker) run(ctx context.Context, job rules.Job, sl rules.Slot) (next rules.Job, hasNext bool, err error) {
	log := w.log.With("job_id", job.ID, "order_id", job.OrderID, "topic", job.Topic, "attempt", job.Attempts)
	ctx = rules.WithJob(ctx, rules.JobRef{Shop: w.cfg.Shop, JobID: job.ID, OrderID: job.OrderID, Run: job.Claim})
	h := w.cfg.Holders(job.Claim)
	stopBeat := w.heartbeat(ctx, job, h, log)
	done, err := w.work(ctx, Job{Job: job, Leases: h, LeaseTTL: w.cfg.Lease, Slot: sl, Log: log})
	stopBeat()
	// The job's final state is written even while shutting down.
	final := context.WithoutCancel(ctx)
	if rerr := w.settle(ctx, func() error { return h.Release(final) }); rerr != nil {
		log.Warn("could not release the job's leases; they lapse on their own", "err", rerr)
	}
	if err != nil {
		return next, false, w.settle(ctx, func() error { return w.failed(ctx, final, job, err, log) })
	}
	log.Info("job done", "result", done.Result)
	err = w.settle(ctx, func() (err error) {
		switch {
		case sl.Holding() && ctx.Err() == nil:
			next, hasNext, err = w.store.CompleteAndClaim(final, job, done.Result, done.Applied, done.Folded, w.cfg.Lease)
		case done.Applied != nil || len(done.Folded) > 0:
			err = w.store.CompleteOrderJob(final, job, done.Result, done.Applied, done.Folded)
		default:
			err = w.store.CompleteJob(final, job, done.Result)
		}
		return err
	})
	return next, hasNext, err
}

// work hands the job to the room of its kind.
func (w *Worker) work(ctx context.Context, j Job) (Done, error) {
	del, err := w.store.Delivery(ctx, j.Job.Delivery)
	if err != nil {
		return Done{}, err
	}
	j.Delivery = del
	kind := KindOf(del.Topic)
	if kind == "" {
		return Done{}, fmt.Errorf("%w: delivery %d has topic %q, which woozoom does not know (check the webhook's topic in WooCommerce)", rules.ErrPermanent, del.ID, del.Topic)
	}
	room, ok := w.cfg.Rooms[kind]
	if !ok {
		return Done{Result: fmt.Sprintf("%s delivery recorded; nothing to do", del.Topic)}, nil
	}
	if h, ok := room.(Holding); ok {
		leases, err := h.Holds(ctx, j)
		if err != nil {
			return Done{}, err
		}
		if err := j.Leases.Take(ctx, leases, j.LeaseTTL, LeasePoll); err != nil {
			return Done{}, fmt.Errorf("wait for what other jobs hold: %w", err)
		}
	}
	return room.Work(ctx, j)
}

// failed records what becomes of a job that did not succeed.
func (w *Worker) failed(ctx, final context.Context, job rules.Job, err error, log *slog.Logger) error {
	switch {
	case ctx.Err() != nil:
		log.Info("job handed back at shutdown")
		return w.store.ReleaseJob(final, job)
	case errors.Is(err, rules.ErrUnavailable):
		// The job keeps its place and its tries; the circuit says when to
		// come back, and wakes it sooner when the service answers again.
		at, ok := rules.RetryAt(err)
		if !ok || at.Before(w.now()) {
			at = w.now().Add(time.Second)
		}
		log.Debug("job waits for the service to answer", "err", err, "retry_at", at)
		return w.store.PostponeJob(final, job, at, rules.WaitForService, err.Error())
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
			return w.store.RetryJob(final, job, at, rules.WaitForPerson, err.Error())
		}
		log.Warn("job will be retried", "err", err, "retry_at", at)
		wait := rules.NotWaiting
		if rules.Daily(err) {
			wait = rules.WaitForDailyLimit
		}
		return w.store.RetryJob(final, job, at, wait, err.Error())
	default:
		log.Error("job parked: it needs a person", "err", err)
		return w.store.FailJob(final, job, err.Error())
	}
}

// heartbeat renews the job's lease, and the leases it took, until the
// returned stop is called.
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
