// Package orders works the jobs of orders: it reads the order a delivery
// shows (or the newest of the order's queued views), asks the rules what
// to do, makes Zoom match under the seats' leases, and writes the join
// details back to the order. It also works Zoom's registrant events (a host
// cancelled an attendee), the dry run, and the passes that queue orders
// (reconcile, backfill). It never makes a meeting: an order whose product's
// meetings do not exist yet queues the product's job and waits for it.
package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/worker"
)

// Store is what order jobs need of the store.
type Store interface {
	DeliveryRecorder
	Delivery(ctx context.Context, id int64) (rules.Delivery, error)
	DueJobsOfOrder(ctx context.Context, orderID, except int64, limit int) ([]rules.Job, error)
	ActiveMappings(ctx context.Context) ([]rules.Mapping, error)
	Registrations(ctx context.Context, orderID int64) ([]rules.Registration, error)
	Seats(ctx context.Context, keys []rules.SeatKey) (map[rules.SeatKey]rules.Seat, error)
	SaveSeats(ctx context.Context, seats ...rules.Seat) error
	UnsettledSeats(ctx context.Context, keys []rules.SeatKey) ([]rules.SeatKey, error)
	HeldElsewhere(ctx context.Context, orderID int64, keys []rules.SeatKey) (map[rules.SeatKey]bool, error)
	OrderState(ctx context.Context, orderID int64) (rules.AppliedOrder, bool, error)
	MetaDigest(ctx context.Context, orderID int64) (digest string, basis time.Time, err error)
	SaveMetaDigest(ctx context.Context, orderID int64, digest string, basis time.Time) error
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
	SaveTargetDetails(ctx context.Context, td rules.TargetDetails) error
	Recordings(ctx context.Context, t rules.Target) ([]rules.Recording, error)
	Attendance(ctx context.Context, t rules.Target, orderID int64) ([]rules.AttendanceRecord, error)
	OrderAttendance(ctx context.Context, orderID int64) ([]rules.AttendanceRecord, error)
	AttendanceNoted(ctx context.Context, t rules.Target, instance string, orderID int64) error
	AttendanceThanked(ctx context.Context, t rules.Target, instance string, orderID int64, email string) error
	AttendanceDigest(ctx context.Context, orderID int64) (string, error)
	SaveAttendanceDigest(ctx context.Context, orderID int64, digest string) error
	CalendarToken(ctx context.Context, r rules.Registration) (string, error)
	ActiveRegistrationsOn(ctx context.Context, t rules.Target, email string) ([]rules.Registration, error)
	RequeueOrder(ctx context.Context, orderID int64) (bool, error)
	BrokenTargets(ctx context.Context) (map[rules.Target]string, error)
	BeingDeleted(ctx context.Context, t rules.Target) (bool, error)
	ProductMeetings(ctx context.Context, productID int64) (rules.ProductMeetings, bool, error)
	QueueProductJob(ctx context.Context, productID int64) (bool, error)
}

// Leases is a job's hold on the seats and products it decides about, and
// the writes fenced by it (worker.Holder).
type Leases interface {
	Take(ctx context.Context, want []rules.Lease, ttl, poll time.Duration) error
	Release(ctx context.Context, keys ...rules.Lease) error
	SaveSeats(ctx context.Context, seats ...rules.Seat) error
	SaveRegistrations(ctx context.Context, regs []rules.Registration) error
	BeginSeatChange(ctx context.Context, keys ...rules.SeatKey) error
	EndSeatChange(ctx context.Context, keys ...rules.SeatKey) error
}

// Zoom is what order jobs need of Zoom.
type Zoom interface {
	AddRegistrant(ctx context.Context, t rules.Target, p rules.Person, occurrences string) (rules.Seat, error)
	// UpdateStatus approves or cancels registrants; it may wait for other
	// jobs' changes to join the call, giving the job's slot up meanwhile.
	UpdateStatus(ctx context.Context, slot rules.Slot, t rules.Target, action rules.ActionKind, seats []rules.Seat) error
	Registrants(ctx context.Context, t rules.Target, status rules.SeatStatus) ([]rules.Seat, error)
	Registrant(ctx context.Context, t rules.Target, id string) (rules.Seat, error)
	Details(ctx context.Context, t rules.Target) (rules.TargetDetails, error)
}

// Shop is what order jobs need of WooCommerce.
type Shop interface {
	Order(ctx context.Context, id int64) (rules.Order, error)
	UpdateOrderMeta(ctx context.Context, id int64, meta []rules.Meta) error
	AddOrderNote(ctx context.Context, id int64, note string, customer bool) error
	RefundedQuantities(ctx context.Context, orderID int64) (map[int64]int, error)
	Product(ctx context.Context, id int64) (rules.Product, error)
}

// Metrics is what order jobs report.
type Metrics interface {
	WriteBackFailed()
}

// Decoder turns a delivery body of a topic into the order it shows.
type Decoder func(topic string, body []byte) (rules.Order, error)

// Config tunes order jobs.
type Config struct {
	Policy       rules.Policy
	CustomerNote bool // the order note with the links is a customer note (emailed)
	// Replays, if set, says who of a product's paid attendees gets its
	// event's recording (rules.ReplayOff, ReplayShare, ReplayNoShows).
	Replays    func(productID int64) string
	DetailsTTL time.Duration // how long meeting details are cached
	// Metrics, if set, counts failed write-backs.
	Metrics Metrics
	// Templates render the notes and the meta text (nil: the defaults).
	Templates *access.Templates
	// CalendarURL, if set, is where attendees reach woozoom's calendar
	// files (https://shop.example/woozoom): notes and meta then link them.
	CalendarURL string
	// NamedByProduct are the link events config.yaml gives no topic: the
	// notes call them by the product's name, read from the shop.
	NamedByProduct map[rules.Target]bool
	// Made are the products whose meetings woozoom makes (create:): an
	// order waits for their meetings.
	Made map[int64]bool
	// Kept are the products whose meetings a product job changes (create:
	// or follow:): an order job holds them shared, so it never works while
	// their job does.
	Kept map[int64]bool
	// Wake, if set, tells the worker a job was queued.
	Wake func()
}

// Orders works order jobs.
type Orders struct {
	cfg       Config
	store     Store
	zoom      Zoom
	shop      Shop
	decode    Decoder
	log       *slog.Logger
	now       func() time.Time
	templates *access.Templates
	// detailsOnce shares one Zoom read of a meeting's details.
	detailsOnce singleflight.Group
}

// New returns the room of order jobs.
func New(cfg Config, store Store, zoom Zoom, shop Shop, decode Decoder, log *slog.Logger) *Orders {
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
	return &Orders{cfg: cfg, store: store, zoom: zoom, shop: shop, decode: decode, log: log, now: time.Now, templates: tm}
}

// Work works an order job (worker.Room): the newest view of the order
// among the job's and its order's queued ones is applied.
func (o *Orders) Work(ctx context.Context, j worker.Job) (worker.Done, error) {
	var done worker.Done
	order, err := o.view(ctx, j.Delivery)
	if err != nil {
		return done, err
	}
	if j.OrderID != 0 {
		order = o.fold(ctx, j, order, &done)
	}
	result, err := o.apply(ctx, j, order, &done)
	if err == nil && len(done.Folded) > 0 {
		result += fmt.Sprintf(" (stood for %d more queued deliveries of the order)", len(done.Folded))
	}
	done.Result = result
	return done, err
}

// Holds says what an order job holds for all its work (worker.Holding):
// the order's products, shared. A product's job, which makes and deletes
// its meetings, holds the product exclusive, so the two never run at once.
func (o *Orders) Holds(ctx context.Context, j worker.Job) ([]rules.Lease, error) {
	if len(o.cfg.Kept) == 0 {
		return nil, nil
	}
	// A body that cannot be read holds nothing; the job says why it fails.
	order, _ := o.decode(j.Delivery.Topic, j.Delivery.Body)
	return o.productLeases(order), nil
}

// productLeases are the order's products whose meetings a product job
// changes, shared.
func (o *Orders) productLeases(order rules.Order) []rules.Lease {
	var leases []rules.Lease
	for _, id := range order.ProductIDs() {
		if o.cfg.Kept[id] {
			leases = append(leases, rules.ProductLease(id, true))
		}
	}
	return leases
}

// productsReady finds the meetings of the order's products woozoom makes:
// with none yet, their product's job is queued and the order waits for it.
// The view applied may be a newer one than the job's own delivery: its
// products are held too.
func (o *Orders) productsReady(ctx context.Context, j worker.Job, order rules.Order) error {
	if err := j.Leases.Take(ctx, o.productLeases(order), j.LeaseTTL, worker.LeasePoll); err != nil {
		return fmt.Errorf("wait for the jobs that change the order's products' meetings: %w", err)
	}
	for _, id := range order.ProductIDs() {
		if !o.cfg.Made[id] {
			continue
		}
		state, ok, err := o.store.ProductMeetings(ctx, id)
		switch {
		case err != nil:
			return err
		case ok && state == rules.MeetingsNoDate:
			return rules.Permanent("product %d has no event date, so woozoom cannot make its meeting; set its date in the shop (the product's update makes it), then retry", id)
		case ok:
			// Ready, or gone: a trashed product's tickets register on none.
			continue
		}
		queued, err := o.store.QueueProductJob(ctx, id)
		if err != nil {
			return err
		}
		if queued && o.cfg.Wake != nil {
			o.cfg.Wake()
		}
		return waitForMeetings{productID: id, at: o.now().Add(time.Second)}
	}
	return nil
}

// waitForMeetings is an order job waiting for its product's job to make
// the product's meetings: retried shortly.
type waitForMeetings struct {
	productID int64
	at        time.Time
}

func (e waitForMeetings) Error() string {
	return fmt.Sprintf("waits for the meetings of product %d, which its job makes now", e.productID)
}
func (e waitForMeetings) Unwrap() error      { return rules.ErrTemporary }
func (e waitForMeetings) RetryAt() time.Time { return e.at }

// view reads the order a delivery shows.
func (o *Orders) view(ctx context.Context, del rules.Delivery) (rules.Order, error) {
	order, err := o.decode(del.Topic, del.Body)
	if err != nil {
		return order, rules.Permanent("delivery %d (%s) cannot be read: %v", del.ID, del.Topic, err)
	}
	if !order.Deleted && !order.Reread {
		return order, nil
	}
	// order.deleted carries only the id; the trashed order still has a
	// modification date to order it against other deliveries. woozoom's
	// order.refresh asks for the order as it is now.
	cur, err := o.shop.Order(ctx, order.ID)
	switch {
	case err == nil:
		cur.Deleted = cur.Status == rules.StatusTrash
		return cur, nil
	case errors.Is(err, rules.ErrNotFound):
		order.Modified, order.Deleted = del.ReceivedAt.UTC(), true
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
func (o *Orders) fold(ctx context.Context, j worker.Job, own rules.Order, done *worker.Done) rules.Order {
	job, log := j.Job, j.Log
	siblings, err := o.store.DueJobsOfOrder(ctx, job.OrderID, job.ID, foldLimit)
	if err != nil || len(siblings) == 0 {
		if err != nil {
			log.Warn("could not read the order's other queued jobs; each runs on its own", "err", err)
		}
		return own
	}
	best, bestJob := own, job.ID
	counts := func(v rules.Order) bool { return o.cfg.Policy.Intent(v) != rules.Hold }
	for _, sj := range siblings {
		if !strings.HasPrefix(sj.Topic, "order.") {
			continue
		}
		del, err := o.store.Delivery(ctx, sj.Delivery)
		if err != nil {
			continue
		}
		v, err := o.view(ctx, del)
		if err != nil || v.ID != job.OrderID {
			continue
		}
		done.Folded = append(done.Folded, sj.ID)
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
		log.Info("applying a newer queued view of the order", "view_job", bestJob, "status", best.Status, "folded", len(done.Folded))
	}
	return best
}

// apply makes Zoom and the order's write-back match one view of an order,
// unless a newer view was applied already.
func (o *Orders) apply(ctx context.Context, j worker.Job, order rules.Order, done *worker.Done) (string, error) {
	prev, seen, err := o.store.OrderState(ctx, order.ID)
	if err != nil {
		return "", err
	}
	intent := o.cfg.Policy.Intent(order)
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
		if order.RefundedQty, err = o.shop.RefundedQuantities(ctx, order.ID); err != nil {
			return "", err
		}
	}
	if intent == rules.Register {
		if err := o.productsReady(ctx, j, order); err != nil {
			return "", err
		}
	}
	state := rules.AppliedOrder{Status: order.Status, Modified: order.Modified, NoteDigest: prev.NoteDigest}
	if order.Deleted {
		state.Status = rules.StatusTrash
	}
	out, err := o.onZoom(ctx, j, order, intent)
	if err != nil {
		return "", err
	}
	// Write back what the order holds, even when some attendees failed.
	if err := o.writeBack(ctx, order, intent, out, &state); err != nil {
		if o.cfg.Metrics != nil {
			o.cfg.Metrics.WriteBackFailed()
		}
		return "", errors.Join(out.err, err)
	}
	if out.err != nil {
		return "", out.err
	}
	done.Applied = &state
	return out.summary(intent), nil
}

// onZoom decides about the order's seats and makes Zoom match, holding the
// seats meanwhile: from reading them to acting on Zoom, no other job
// decides about them.
func (o *Orders) onZoom(ctx context.Context, j worker.Job, order rules.Order, intent rules.Intent) (outcome, error) {
	mappings, err := o.store.ActiveMappings(ctx)
	if err != nil {
		return outcome{}, err
	}
	in := rules.Input{Order: order, Intent: intent, Wants: o.cfg.Policy.Wants(order, mappings)}
	if in.Registrations, err = o.store.Registrations(ctx, order.ID); err != nil {
		return outcome{}, err
	}
	keys := seatKeys(in.Wants, in.Registrations)
	leases := make([]rules.Lease, len(keys))
	for i, k := range keys {
		leases[i] = rules.SeatLease(k)
	}
	if err := j.Leases.Take(ctx, leases, j.LeaseTTL, worker.LeasePoll); err != nil {
		return outcome{}, fmt.Errorf("wait for %d seats other jobs decide about: %w", len(keys), err)
	}
	defer func() {
		if err := j.Leases.Release(context.WithoutCancel(ctx), leases...); err != nil {
			j.Log.Warn("could not release the seats; they lapse on their own", "err", err)
		}
	}()
	if in.Seats, err = o.store.Seats(ctx, keys); err != nil {
		return outcome{}, err
	}
	if err := o.settle(ctx, j, keys, in.Seats); err != nil {
		return outcome{}, err
	}
	if in.HeldElsewhere, err = o.store.HeldElsewhere(ctx, order.ID, keys); err != nil {
		return outcome{}, err
	}
	plan := rules.Decide(in)
	// Claims first: a crash after this point is finished by the next run.
	if err := j.Leases.SaveRegistrations(ctx, append(append([]rules.Registration(nil), plan.Activate...), plan.Release...)); err != nil {
		return outcome{}, err
	}
	broken, err := o.store.BrokenTargets(ctx)
	if err != nil {
		return outcome{}, err
	}
	out := o.execute(ctx, j, order.ID, plan, in.Registrations, broken)
	out.released = plan.Release
	out.occurrences = map[rules.SeatKey]string{}
	for _, w := range in.Wants {
		out.occurrences[w.Key()] = w.Occurrences
	}
	return out, nil
}

// settle learns from Zoom what became of seat changes whose answer was
// never read (a crash, a timeout, a lost reply), and records it in seats.
// Guessing would go wrong both ways: adding again spends one of Zoom's 3
// adds per email per meeting per day, and a cancel made but not recorded
// leaves another order's attendee shut out.
func (o *Orders) settle(ctx context.Context, j worker.Job, keys []rules.SeatKey, seats map[rules.SeatKey]rules.Seat) error {
	h, log := j.Leases, j.Log
	open, err := o.store.UnsettledSeats(ctx, keys)
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
			list, err := o.zoom.Registrants(ctx, t, status)
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
func (o *Orders) giveLink(ctx context.Context, h Leases, a rules.Action, out *outcome) error {
	seat := rules.Seat{SeatKey: a.Seat, RegistrantID: "link", Status: rules.SeatApproved}
	if a.Kind == rules.Cancel {
		seat.Status = rules.SeatDenied
	} else {
		d, err := o.details(ctx, a.Seat.Target)
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
func (o *Orders) unlessUnmapped(ctx context.Context, t rules.Target, err error) error {
	if !errors.Is(err, rules.ErrNotFound) && !errors.Is(err, rules.ErrPermanent) {
		return err
	}
	broken, berr := o.store.BrokenTargets(ctx)
	_, gone := broken[t]
	if !gone && berr == nil {
		gone, berr = o.store.BeingDeleted(ctx, t) // its DELETE may still be on its way
	}
	if berr != nil || !gone {
		return err
	}
	ms, merr := o.store.ActiveMappings(ctx)
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
	refused                    []rules.Registration     // attendees Zoom refused, with the reason
	released                   []rules.Registration     // registrations this run gave up
	occurrences                map[rules.SeatKey]string // the occurrences the order asks of each seat ("": all)
	err                        error                    // first failure that stops the job (retry or park)
}

// note keeps the failure that decides what becomes of the job: the first,
// unless a later one needs a person where the first would be retried.
func (o *outcome) note(err error) {
	if o.err == nil || (rules.Retryable(o.err) && !rules.Retryable(err)) {
		o.err = err
	}
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
func (o *Orders) execute(ctx context.Context, j worker.Job, orderID int64, plan rules.Plan, existing []rules.Registration, broken map[rules.Target]string) outcome {
	var out outcome
	claims := map[rules.SeatKey]rules.Registration{}
	for _, r := range existing {
		claims[r.Key()] = r
	}
	for _, r := range plan.Activate {
		claims[r.Key()] = r
	}
	route := rules.RouteActions(plan.Zoom, broken)
	// A meeting deleted in Zoom takes no change: the job is parked with
	// why, after the other meetings were done.
	for _, t := range route.GoneTargets() {
		out.note(o.unlessUnmapped(ctx, t, rules.Permanent("%s", route.Gone[t])))
	}
	// Events held at a link take no call: giving or taking the link is
	// recorded as a seat, so the write-back and calendar files treat them
	// like Zoom's.
	for _, a := range route.Links {
		if err := o.giveLink(ctx, j.Leases, a, &out); err != nil {
			out.note(err)
		}
	}
	pending := o.addRegistrants(ctx, j, orderID, route.Zoom, claims, &out)
	// A webinar that asks for manual approval holds a paid attendee as
	// pending: approve them now rather than leave them without a link.
	actions := route.Zoom
	for _, s := range pending {
		actions = append(actions, rules.Action{Kind: rules.Approve, Seat: s.SeatKey, RegistrantID: s.RegistrantID})
	}
	for _, batch := range rules.Batches(actions, 30) {
		if ctx.Err() != nil {
			break
		}
		o.updateStatus(ctx, j, batch, &out)
	}
	if ctx.Err() != nil {
		out.note(ctx.Err())
	}
	return out
}

// addRegistrants sends the plan's adds, one call each, and returns the
// seats Zoom holds as pending.
func (o *Orders) addRegistrants(ctx context.Context, j worker.Job, orderID int64, actions []rules.Action, claims map[rules.SeatKey]rules.Registration, out *outcome) (pending []rules.Seat) {
	h, log := j.Leases, j.Log
	for _, a := range actions {
		if a.Kind != rules.AddRegistrant || ctx.Err() != nil {
			continue
		}
		if err := h.BeginSeatChange(ctx, a.Seat); err != nil {
			out.note(err)
			continue
		}
		seat, err := o.zoom.AddRegistrant(ctx, a.Seat.Target, a.Attendee, a.Occurrences)
		if rules.Refused(err) {
			if eerr := h.EndSeatChange(ctx, a.Seat); eerr != nil {
				out.note(eerr)
			}
		}
		switch {
		case err == nil:
			if err := h.SaveSeats(ctx, seat); err != nil {
				out.note(err)
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
				out.note(err)
				continue
			}
			r.State, r.Error = rules.Failed, err.Error()
			if serr := h.SaveRegistrations(ctx, []rules.Registration{r}); serr != nil {
				out.note(serr)
				continue
			}
			out.refused = append(out.refused, r)
			log.Warn("attendee refused by Zoom", "email", a.Seat.Email, "target", a.Seat.Target.String(), "err", err)
		default:
			out.note(o.unlessUnmapped(ctx, a.Seat.Target, err))
		}
	}
	return pending
}

// updateStatus sends one status call (approve or cancel, one target, up to
// 30 seats); the call may gather other jobs' changes.
func (o *Orders) updateStatus(ctx context.Context, j worker.Job, batch []rules.Action, out *outcome) {
	h := j.Leases
	seats := make([]rules.Seat, len(batch))
	keys := make([]rules.SeatKey, len(batch))
	for i, a := range batch {
		seats[i] = rules.Seat{SeatKey: a.Seat, RegistrantID: a.RegistrantID}
		keys[i] = a.Seat
	}
	kind, target := batch[0].Kind, batch[0].Seat.Target
	if err := h.BeginSeatChange(ctx, keys...); err != nil {
		out.note(err)
		return
	}
	if err := o.zoom.UpdateStatus(ctx, j.Slot, target, kind, seats); err != nil {
		if rules.Refused(err) {
			if eerr := h.EndSeatChange(ctx, keys...); eerr != nil {
				out.note(eerr)
			}
		}
		out.note(o.unlessUnmapped(ctx, target, err))
		return
	}
	status := rules.SeatApproved
	if kind == rules.Cancel {
		status = rules.SeatDenied
	}
	for i := range seats {
		seats[i].Status = status
	}
	if err := h.SaveSeats(ctx, seats...); err != nil {
		out.note(err)
		return
	}
	if kind == rules.Cancel {
		out.cancelled += len(seats)
	} else {
		out.approved += len(seats)
	}
	j.Log.Info("registrant status updated", "action", string(kind), "target", target.String(), "registrants", len(seats))
}
