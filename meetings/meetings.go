// Package meetings keeps the meetings woozoom makes from products in step
// with them: a product job reads the product, plans (rules.PlanMeetings),
// and makes, changes or deletes its meetings on Zoom, one job of a product
// at a time in any process; a meeting made queues the product's orders to
// register on it. It also works Zoom's meeting events (updated, deleted).
// Only this room queues order jobs.
package meetings

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/worker"
)

// Zoom is what the room needs of Zoom.
type Zoom interface {
	CreateMeeting(ctx context.Context, m rules.EventMeeting, agenda string) (rules.TargetDetails, error)
	UpdateMeeting(ctx context.Context, t rules.Target, m rules.EventMeeting) error
	DeleteMeeting(ctx context.Context, t rules.Target, notify bool) error
	// FollowMeeting sends only the topic and times to a meeting woozoom
	// did not make; HostOf names its host.
	FollowMeeting(ctx context.Context, t rules.Target, m rules.EventMeeting) error
	HostOf(ctx context.Context, t rules.Target) (string, error)
	// FindMeeting looks among the host's meetings for the one whose agenda
	// holds ref.
	FindMeeting(ctx context.Context, host string, kind rules.TargetKind, ref string) (rules.Target, bool, error)
	Details(ctx context.Context, t rules.Target) (rules.TargetDetails, error)
}

// Shop is what the room needs of the shop.
type Shop interface {
	Product(ctx context.Context, id int64) (rules.Product, error)
	UpdateProductMeta(ctx context.Context, id int64, meta []rules.Meta) error
	OrdersOfProduct(ctx context.Context, productID int64, page int) ([][]byte, int, error)
	AddOrderNote(ctx context.Context, id int64, note string, customer bool) error
}

// Store is what the room needs of the store.
type Store interface {
	orders.DeliveryRecorder
	MadeMeetings(ctx context.Context, productID int64) ([]rules.MadeMeeting, error)
	SaveMadeMeeting(ctx context.Context, m rules.MadeMeeting) error
	ForgetMadeMeeting(ctx context.Context, productID int64, day int) error
	OrdersQueued(ctx context.Context, productID int64) error
	SaveProductMeetings(ctx context.Context, productID int64, state rules.ProductMeetings) error
	TakeHostCall(ctx context.Context, host string, at time.Time, limit int) (used int, ok bool, err error)
	ReleaseTarget(ctx context.Context, t rules.Target, reason string) ([]int64, error)
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
	SaveTargetDetails(ctx context.Context, td rules.TargetDetails) error
	MarkTargetBroken(ctx context.Context, t rules.Target, reason string) error
	ActiveRegistrationsOn(ctx context.Context, t rules.Target, email string) ([]rules.Registration, error)
	RequeueOrder(ctx context.Context, orderID int64) (bool, error)
}

// Maker says how to make the meetings of one product's event.
type Maker struct {
	Kind rules.TargetKind
	Host string // email or Zoom user id
	// Recurring makes a multi-day event one daily recurring meeting
	// instead of a meeting per day.
	Recurring bool
	// Topic names a meeting (day 0: the event's one meeting; else day of
	// days).
	Topic func(p rules.Product, day, days int) (string, error)
	// Follow, if set, is a meeting woozoom did not make whose topic and
	// times follow the product (follow: true); it is never deleted.
	Follow rules.Target
}

// Config says which products' meetings woozoom makes or follows, and how.
type Config struct {
	Events map[int64]Maker // by product id
	// Schedule reads when a product's event takes place; ok is false for a
	// product without a date.
	Schedule func(p rules.Product) (s rules.Schedule, ok bool, err error)
	// HostDailyLimit is how many meeting creates, updates and deletes
	// woozoom makes per host per UTC day (Zoom allows 100 creates and
	// updates; default 100).
	HostDailyLimit int
	// DetailsTTL is how long meeting details read from Zoom are trusted
	// (default an hour).
	DetailsTTL time.Duration
	// Wake, if set, tells the worker order jobs were queued.
	Wake func()
	// Policy says which orders register: those are queued when a meeting
	// is made (default rules.DefaultPolicy).
	Policy rules.Policy
}

// Meetings is the room of product jobs and Zoom's meeting events.
type Meetings struct {
	cfg    Config
	store  Store
	zoom   Zoom
	shop   Shop
	decode orders.Decoder
	log    *slog.Logger
	now    func() time.Time
}

// New returns the room.
func New(cfg Config, store Store, zoom Zoom, shop Shop, decode orders.Decoder, log *slog.Logger) *Meetings {
	if len(cfg.Policy.RegisterStatuses) == 0 {
		cfg.Policy = rules.DefaultPolicy()
	}
	if cfg.HostDailyLimit <= 0 {
		cfg.HostDailyLimit = 100
	}
	if cfg.DetailsTTL <= 0 {
		cfg.DetailsTTL = time.Hour
	}
	return &Meetings{cfg: cfg, store: store, zoom: zoom, shop: shop, decode: decode, log: log, now: time.Now}
}

// Made says which products' meetings woozoom makes (not those it follows).
func (ms *Meetings) Made() map[int64]bool {
	out := map[int64]bool{}
	for id, ev := range ms.cfg.Events {
		if ev.Follow.ID == 0 {
			out[id] = true
		}
	}
	return out
}

// Kept says which products' meetings a product job changes: those woozoom
// makes and those that follow their product.
func (ms *Meetings) Kept() map[int64]bool {
	out := map[int64]bool{}
	for id := range ms.cfg.Events {
		out[id] = true
	}
	return out
}

func (ms *Meetings) wake() {
	if ms.cfg.Wake != nil {
		ms.cfg.Wake()
	}
}

// MeetingsMetaKey is the product meta where woozoom shows the meetings it
// made for the product.
const MeetingsMetaKey = "_woozoom_meetings"

// MadeEntry is one meeting in the product's _woozoom_meetings meta.
type MadeEntry struct {
	Day       int    `json:"day,omitempty"`
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	JoinURL   string `json:"join_url,omitempty"`
	StartTime string `json:"start_time,omitempty"`
}

// productEvent works a product delivery: the meetings woozoom makes for
// the product follow it. The delivery only says which product changed; the
// product is read again, so deliveries out of order or repeated change
// nothing, and woozoom's own meta write (which WooCommerce echoes as
// product.updated) sends nothing to Zoom.
func (ms *Meetings) Work(ctx context.Context, j worker.Job) (worker.Done, error) {
	result, err := ms.productJob(ctx, j)
	return worker.Done{Result: result}, err
}

func (ms *Meetings) productJob(ctx context.Context, j worker.Job) (string, error) {
	id, err := productOf(j.Delivery)
	if err != nil {
		return "", err
	}
	ev, ok := ms.cfg.Events[id]
	if !ok {
		return fmt.Sprintf("product %d: no events entry makes or follows its meetings; nothing to do", id), nil
	}
	if ev.Follow.ID != 0 {
		return ms.followProduct(ctx, id, ev, j.Log)
	}
	return ms.syncProduct(ctx, id, j.Log)
}

// Holds says what a product job holds for all its work (worker.Holding):
// its product, exclusive. One job makes or changes a product's meetings at
// a time, in any process, and no order job of the product registers
// meanwhile (they hold it shared).
func (ms *Meetings) Holds(_ context.Context, j worker.Job) ([]rules.Lease, error) {
	// A body that names no product, or a product whose meetings woozoom
	// neither makes nor follows, holds nothing.
	if id, err := productOf(j.Delivery); err == nil {
		if _, ok := ms.cfg.Events[id]; ok {
			return []rules.Lease{rules.ProductLease(id, false)}, nil
		}
	}
	return nil, nil
}

// productOf reads which product a product delivery is about.
func productOf(del rules.Delivery) (int64, error) {
	var body struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(del.Body, &body); err != nil || body.ID <= 0 {
		return 0, rules.Permanent("delivery %d (%s) names no product", del.ID, del.Topic)
	}
	return body.ID, nil
}

// syncProduct makes the meetings of a product match its event: made,
// changed, or deleted with the product (its job holds the product). It
// says what it did.
func (ms *Meetings) syncProduct(ctx context.Context, id int64, log *slog.Logger) (string, error) {
	p, gone, err := ms.readProduct(ctx, id)
	if err != nil {
		return "", err
	}
	var want []rules.EventMeeting
	noDate := false
	if !gone {
		if want, noDate, err = ms.eventMeetings(p, ms.cfg.Events[id]); err != nil {
			return "", err
		}
	}
	made, err := ms.store.MadeMeetings(ctx, id)
	if err != nil {
		return "", err
	}
	if !gone {
		if made, err = ms.settleDeletes(ctx, made); err != nil {
			return "", err
		}
	}
	did, created, stepErr := ms.steps(ctx, id, rules.PlanMeetings(want, made, gone), gone, log)
	for _, m := range made {
		if m.OrdersPending && m.State == rules.MadeDone {
			created++ // made before a crash, its orders not yet queued
		}
	}
	if created > 0 {
		n, err := ms.queueOrders(ctx, id)
		if err != nil {
			return "", err
		}
		did = append(did, fmt.Sprintf("%d completed orders queued to register again", n))
	}
	if stepErr != nil {
		return "", stepErr
	}
	shown, err := ms.record(ctx, p, gone, noDate)
	if err != nil {
		return "", err
	}
	if shown {
		did = append(did, "meetings shown in the product's "+MeetingsMetaKey)
	}
	switch {
	case len(did) > 0:
		return fmt.Sprintf("product %d: %s", id, strings.Join(did, "; ")), nil
	case noDate:
		return fmt.Sprintf("product %d has no event date yet; no meeting made", id), nil
	}
	return fmt.Sprintf("product %d: its meetings already match; nothing sent", id), nil
}

// readProduct reads a product; gone is true when it is trashed or deleted.
func (ms *Meetings) readProduct(ctx context.Context, id int64) (p rules.Product, gone bool, err error) {
	p, err = ms.shop.Product(ctx, id)
	switch {
	case errors.Is(err, rules.ErrNotFound):
		return p, true, nil
	case err != nil:
		return p, false, fmt.Errorf("read product %d: %w", id, err)
	}
	return p, p.Status == "trash", nil
}

// steps makes, changes and deletes the product's meetings as planned, up
// to the first that fails; did says what was done, created how many were
// made.
func (ms *Meetings) steps(ctx context.Context, id int64, plan []rules.MeetingStep, gone bool, log *slog.Logger) (did []string, created int, err error) {
	for _, s := range plan {
		switch s.Kind {
		case rules.MakeMeeting:
			var t rules.Target
			if t, err = ms.makeMeeting(ctx, id, s); err == nil {
				created++
				did = append(did, "made "+t.String())
				log.Info("meeting made for product", "product_id", id, "day", s.Want.Day, "target", t.String(), "host", s.Want.Host)
			}
		case rules.ChangeMeeting:
			if err = ms.changeMeeting(ctx, s); err == nil {
				did = append(did, "updated "+s.Made.Target.String())
				log.Info("meeting of product updated", "product_id", id, "day", s.Want.Day, "target", s.Made.Target.String())
			}
		case rules.RemoveMeeting:
			why := fmt.Sprintf("deleted with product %d", id)
			if !gone {
				why = fmt.Sprintf("deleted: product %d no longer has that day, or moved it to another host or kind", id)
			}
			if err = ms.removeMeeting(ctx, s.Made, why); err == nil {
				did = append(did, "deleted "+s.Made.Target.String())
				log.Info("meeting of product deleted", "product_id", id, "day", s.Made.Day, "target", s.Made.Target.String(), "gone", gone)
			}
		}
		if err != nil {
			// The meetings made before it still get their orders.
			return did, created, fmt.Errorf("%s the meeting of product %d (day %d): %w", s.Kind, id, max(s.Want.Day, s.Made.Day), err)
		}
	}
	return did, created, nil
}

// queueOrders queues every completed order of the product to register on
// a meeting made for it (first, or again after a restore), also those
// worked while the product was trashed or had no meeting yet: the shop
// says which they are. The pass is named for this making: an order
// unchanged since an earlier pass would otherwise be a repeat, and not
// worked again.
func (ms *Meetings) queueOrders(ctx context.Context, id int64) (int, error) {
	res, err := orders.EnqueueAs(ctx, ms.store, ms.decode, orders.Registering(func(ctx context.Context, page int) ([][]byte, int, error) {
		return ms.shop.OrdersOfProduct(ctx, id, page)
	}, ms.decode, ms.cfg.Policy), "remade-"+newRef(id, 0))
	if err != nil {
		return 0, fmt.Errorf("queue the orders of product %d to register on its new meetings: %w", id, err)
	}
	if res.New > 0 {
		ms.wake()
	}
	return res.Orders, ms.store.OrdersQueued(ctx, id)
}

// record shows the product's meetings in its meta, and keeps what order
// jobs read instead of making the meetings themselves: ready, no date, or
// gone. shown is true when the meta was written.
func (ms *Meetings) record(ctx context.Context, p rules.Product, gone, noDate bool) (shown bool, err error) {
	made, err := ms.store.MadeMeetings(ctx, p.ID)
	if err != nil {
		return false, err
	}
	n := 0
	for _, m := range made {
		if m.State == rules.MadeDone {
			n++
		}
	}
	if !gone {
		if shown, err = ms.showMeetings(ctx, p, made); err != nil {
			return false, err
		}
	}
	state := rules.MeetingsReady
	switch {
	case gone:
		state = rules.MeetingsGone
	case n == 0 && noDate:
		state = rules.MeetingsNoDate
	case n == 0:
		return shown, nil // nothing made yet: orders go on waiting
	}
	return shown, ms.store.SaveProductMeetings(ctx, p.ID, state)
}

// eventMeetings are the meetings a product's event needs.
func (ms *Meetings) eventMeetings(p rules.Product, ev Maker) (want []rules.EventMeeting, noDate bool, err error) {
	sched, ok, err := ms.cfg.Schedule(p)
	if err != nil {
		return nil, false, rules.Permanent("product %d (%s): %v", p.ID, p.Name, err)
	}
	if !ok || len(sched.Sessions) == 0 {
		return nil, true, nil
	}
	recurring := ev.Recurring && len(sched.Sessions) > 1
	if recurring && !rules.Consecutive(sched) {
		return nil, false, rules.Permanent("product %d (%s): multi_day: recurring needs days in a row at the same time, and its days are not; use multi_day: days", p.ID, p.Name)
	}
	var terr error
	topic := func(day, days int) string {
		s, err := ev.Topic(p, day, days)
		terr = errors.Join(terr, err)
		return s
	}
	want = rules.EventMeetings(sched, ev.Kind, ev.Host, recurring, topic)
	if terr != nil {
		return nil, false, rules.Permanent("product %d: topic: %v", p.ID, terr)
	}
	return want, false, nil
}

// makeMeeting makes a product's meeting. It is recorded as being made
// before Zoom is asked, with a reference in its agenda: if the answer is
// lost, the next try finds the meeting by it instead of making another.
func (ms *Meetings) makeMeeting(ctx context.Context, productID int64, s rules.MeetingStep) (rules.Target, error) {
	m := s.Made
	if m.State == rules.MadeCreating {
		t, found, err := ms.zoom.FindMeeting(ctx, m.Host, m.Kind, m.Ref)
		if err != nil {
			return t, fmt.Errorf("look for the meeting whose create went unanswered: %w", err)
		}
		if found {
			// The create carried what the product said then; an update
			// follows if that has changed.
			d, err := ms.zoom.Details(ctx, t)
			if err != nil {
				return t, err
			}
			if err := ms.store.SaveTargetDetails(ctx, d); err != nil {
				return t, err
			}
			m.State, m.Target, m.OrdersPending = rules.MadeDone, t, true
			return t, ms.store.SaveMadeMeeting(ctx, m)
		}
	} else {
		m = rules.MadeMeeting{ProductID: productID, Day: s.Want.Day, Kind: s.Want.Kind, Host: s.Want.Host, Ref: newRef(productID, s.Want.Day), State: rules.MadeCreating}
	}
	if err := ms.takeHostCall(ctx, s.Want.Host); err != nil {
		return rules.Target{}, err
	}
	m.Kind, m.Host, m.Digest = s.Want.Kind, s.Want.Host, s.Want.Digest()
	if err := ms.store.SaveMadeMeeting(ctx, m); err != nil {
		return rules.Target{}, err
	}
	d, err := ms.zoom.CreateMeeting(ctx, s.Want, "woozoom ref "+m.Ref)
	if rules.Refused(err) {
		if ferr := ms.store.ForgetMadeMeeting(ctx, productID, m.Day); ferr != nil {
			return rules.Target{}, errors.Join(err, ferr)
		}
	}
	if err != nil {
		return rules.Target{}, err
	}
	if err := ms.store.SaveTargetDetails(ctx, d); err != nil {
		return d.Target, err
	}
	m.State, m.Target, m.OrdersPending = rules.MadeDone, d.Target, true
	return d.Target, ms.store.SaveMadeMeeting(ctx, m)
}

// changeMeeting sends a product's new name, date or time to its meeting;
// orders holding it write back the new details.
func (ms *Meetings) changeMeeting(ctx context.Context, s rules.MeetingStep) error {
	if err := ms.takeHostCall(ctx, s.Made.Host); err != nil {
		return err
	}
	if err := ms.zoom.UpdateMeeting(ctx, s.Made.Target, s.Want); err != nil {
		return err
	}
	m := s.Made
	m.Digest = s.Want.Digest()
	if err := ms.store.SaveMadeMeeting(ctx, m); err != nil {
		return err
	}
	_, _, err := ms.readAgain(ctx, m.Target)
	return err
}

// removeMeeting deletes a meeting woozoom made, with Zoom's cancellation
// email to its registrants; orders holding it write back without it.
func (ms *Meetings) removeMeeting(ctx context.Context, m rules.MadeMeeting, why string) error {
	if m.State == rules.MadeCreating {
		t, found, err := ms.zoom.FindMeeting(ctx, m.Host, m.Kind, m.Ref)
		if err != nil {
			return fmt.Errorf("look for the meeting whose create went unanswered: %w", err)
		}
		if !found {
			m.State = rules.MadeDeleted
			return ms.store.SaveMadeMeeting(ctx, m)
		}
		m.Target = t
	}
	// Zoom may count deletes against the host's daily 100 (its documents
	// say so; observed headers do not): counted, to stay under it.
	if err := ms.takeHostCall(ctx, m.Host); err != nil {
		return err
	}
	// Recorded before the call: if its answer is lost, whether the meeting
	// still exists is looked up before it is relied on again.
	was := m.State
	m.State = rules.MadeDeleting
	if err := ms.store.SaveMadeMeeting(ctx, m); err != nil {
		return err
	}
	err := ms.zoom.DeleteMeeting(ctx, m.Target, true)
	switch {
	case err == nil || errors.Is(err, rules.ErrNotFound):
		return ms.meetingDeleted(ctx, m, why)
	case rules.Refused(err) && was == rules.MadeDone:
		m.State = was // not deleted: it stands until the next try
		return errors.Join(err, ms.store.SaveMadeMeeting(ctx, m))
	default:
		return err
	}
}

// meetingDeleted records a made meeting as deleted: new work for it is
// parked, the paid claims on it are released (a removed mapping keeps
// them; a deleted meeting cannot) and the orders write back without it.
func (ms *Meetings) meetingDeleted(ctx context.Context, m rules.MadeMeeting, why string) error {
	if err := ms.store.MarkTargetBroken(ctx, m.Target, fmt.Sprintf("%s was %s", m.Target, why)); err != nil {
		return err
	}
	m.State = rules.MadeDeleted
	if err := ms.store.SaveMadeMeeting(ctx, m); err != nil {
		return err
	}
	orders, err := ms.store.ReleaseTarget(ctx, m.Target, fmt.Sprintf("%s was %s", m.Target, why))
	if err != nil {
		return err
	}
	return ms.requeueOrders(ctx, orders)
}

// settleDeletes learns whether meetings whose delete went unanswered still
// exist, before a product that is back relies on them; it returns made as
// it is now.
func (ms *Meetings) settleDeletes(ctx context.Context, made []rules.MadeMeeting) ([]rules.MadeMeeting, error) {
	for i, m := range made {
		if m.State != rules.MadeDeleting {
			continue
		}
		_, err := ms.zoom.Details(ctx, m.Target)
		switch {
		case errors.Is(err, rules.ErrNotFound):
			if err := ms.meetingDeleted(ctx, m, fmt.Sprintf("deleted with product %d", m.ProductID)); err != nil {
				return made, err
			}
			made[i].State = rules.MadeDeleted
		case err != nil:
			return made, fmt.Errorf("look up %s, whose delete went unanswered: %w", m.Target, err)
		default:
			// Kept: orders worked while it was being deleted registered on
			// nothing, so they are queued again, as for a meeting made.
			made[i].State, made[i].OrdersPending = rules.MadeDone, true
			if err := ms.store.SaveMadeMeeting(ctx, made[i]); err != nil {
				return made, err
			}
		}
	}
	return made, nil
}

// showMeetings writes the product's meetings to its meta when they differ
// from what it shows; false when nothing was written.
func (ms *Meetings) showMeetings(ctx context.Context, p rules.Product, made []rules.MadeMeeting) (bool, error) {
	entries := []MadeEntry{}
	for _, m := range made {
		if m.State != rules.MadeDone {
			continue
		}
		e := MadeEntry{Day: m.Day, Type: string(m.Kind), ID: m.Target.ID}
		if d, ok, err := ms.store.TargetDetails(ctx, m.Target, time.Time{}); err == nil && ok {
			e.JoinURL = d.JoinURL
			if !d.StartTime.IsZero() {
				e.StartTime = d.StartTime.UTC().Format(time.RFC3339)
			}
		}
		entries = append(entries, e)
	}
	want, err := json.Marshal(entries)
	if err != nil {
		return false, err
	}
	if have := rules.MetaValue(p.Meta, MeetingsMetaKey); have != nil && sameJSON(have, want) {
		return false, nil
	}
	if len(entries) == 0 && rules.MetaValue(p.Meta, MeetingsMetaKey) == nil {
		return false, nil
	}
	if err := ms.shop.UpdateProductMeta(ctx, p.ID, []rules.Meta{{Key: MeetingsMetaKey, Value: want}}); err != nil {
		return false, fmt.Errorf("show the meetings of product %d in its meta: %w", p.ID, err)
	}
	return true, nil
}

// sameJSON compares two JSON values as values.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// heldError holds work until a host's daily meeting budget comes back.
type heldError struct {
	until time.Time
	msg   string
}

func (e *heldError) Error() string      { return e.msg }
func (e *heldError) RetryAt() time.Time { return e.until }
func (e *heldError) Unwrap() error      { return rules.ErrRateLimited }
func (e *heldError) Reason() string     { return e.msg }
func (e *heldError) Service() string    { return "zoom" }
func (e *heldError) Daily() bool        { return true }

func nextUTCMidnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// takeHostCall counts a meeting change of host today, or holds the work
// until 00:00 UTC when the host's budget is spent.
func (ms *Meetings) takeHostCall(ctx context.Context, host string) error {
	limit := ms.cfg.HostDailyLimit
	_, ok, err := ms.store.TakeHostCall(ctx, host, ms.now(), limit)
	if err != nil {
		return err
	}
	if !ok {
		until := nextUTCMidnight(ms.now())
		return &heldError{until: until, msg: fmt.Sprintf("held until %s: host %s made its %d meeting creates and updates of today (Zoom's daily limit per host)",
			until.Format("2006-01-02 15:04 UTC"), host, limit)}
	}
	return nil
}

// newRef is the reference woozoom writes into a meeting it makes.
func newRef(productID int64, day int) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return fmt.Sprintf("p%dd%d-%s", productID, day, hex.EncodeToString(b))
}

// followProduct sends a product's name, date and time to the meeting it is
// linked to, when they differ from what Zoom has (as woozoom last read it).
// A trashed product leaves the meeting alone: it is not woozoom's.
func (ms *Meetings) followProduct(ctx context.Context, id int64, ev Maker, log *slog.Logger) (string, error) {

	t := ev.Follow
	p, err := ms.shop.Product(ctx, id)
	switch {
	case errors.Is(err, rules.ErrNotFound) || (err == nil && p.Status == "trash"):
		return fmt.Sprintf("product %d is trashed: %s follows it but is not woozoom's, so it stays", id, t), nil
	case err != nil:
		return "", fmt.Errorf("read product %d: %w", id, err)
	}
	want, noDate, err := ms.eventMeetings(p, ev)
	switch {
	case err != nil:
		return "", err
	case noDate:
		return fmt.Sprintf("product %d has no event date; %s keeps its own", id, t), nil
	case len(want) != 1:
		return "", rules.Permanent("product %d has %d days: a linked meeting follows a one-day event (use create: to make a meeting per day)", id, len(want))
	}
	m := want[0]
	d, err := ms.details(ctx, t)
	if err != nil {
		return "", err
	}
	if d.Topic == m.Topic && d.StartTime.Equal(m.Start) && d.Duration == m.Duration && (m.Timezone == "" || d.Timezone == m.Timezone) {
		return fmt.Sprintf("product %d: %s already matches it; nothing sent", id, t), nil
	}
	host, err := ms.zoom.HostOf(ctx, t)
	if err != nil {
		return "", err
	}
	if err := ms.takeHostCall(ctx, host); err != nil {
		return "", err
	}
	if err := ms.zoom.FollowMeeting(ctx, t, m); err != nil {
		return "", fmt.Errorf("send product %d's name and time to %s: %w", id, t, err)
	}
	_, n, err := ms.readAgain(ctx, t)
	if err != nil {
		return "", err
	}
	log.Info("linked meeting follows its product", "product_id", id, "target", t.String())
	return fmt.Sprintf("product %d: %s updated to follow it (%q, %s); %d orders written back again", id, t, m.Topic, m.Start.Format(time.RFC3339), n), nil
}
