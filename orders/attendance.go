package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
)

// AttendanceMetaKey is the order meta of attendance: one entry per
// attendee and ended meeting.
const AttendanceMetaKey = "_woozoom_attendance"

// AttendanceStore is what the attendance room needs of the store.
type AttendanceStore interface {
	ActiveRegistrationsOn(ctx context.Context, t rules.Target, email string) ([]rules.Registration, error)
	Seats(ctx context.Context, keys []rules.SeatKey) (map[rules.SeatKey]rules.Seat, error)
	SaveAttendance(ctx context.Context, t rules.Target, instance string, att []rules.Attendance, unmatched []rules.Unmatched) error
	AttendanceNoted(ctx context.Context, t rules.Target, instance string, orderID int64) error
	OrderAttendance(ctx context.Context, orderID int64) ([]rules.AttendanceRecord, error)
	Attendance(ctx context.Context, t rules.Target, orderID int64) ([]rules.AttendanceRecord, error)
	AttendanceThanked(ctx context.Context, t rules.Target, instance string, orderID int64, email string) error
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
	RequeueOrder(ctx context.Context, orderID int64) (bool, error)
}

// Participants reads who was in an ended meeting.
type Participants interface {
	Participants(ctx context.Context, t rules.Target, uuid string) ([]rules.Participant, error)
}

// AttendanceShop is what the attendance room writes to the shop.
type AttendanceShop interface {
	UpdateOrderMeta(ctx context.Context, id int64, meta []rules.Meta) error
	AddOrderNote(ctx context.Context, id int64, note string, customer bool) error
}

// Attendance is the room of Zoom's meeting.ended and webinar.ended: it
// reads who was there, matches them to the shop's paid attendees, keeps
// it, and writes it to each order.
type Attendance struct {
	store     AttendanceStore
	zoom      Participants
	shop      AttendanceShop
	templates *access.Templates // its thanks note, if set, goes to each attendee
	// replays says who of a product's attendees gets its recording: with
	// no_shows, an order's replay follows its attendance.
	replays func(productID int64) string
}

// NewAttendance returns the attendance room; templates and replays may be
// nil.
func NewAttendance(store AttendanceStore, z Participants, shop AttendanceShop, templates *access.Templates, replays func(productID int64) string) *Attendance {
	return &Attendance{store: store, zoom: z, shop: shop, templates: templates, replays: replays}
}

// Work works an ended event (worker.Room). Zoom's report lags the end: a
// job that finds it not ready is tried again later (a temporary error).
func (a *Attendance) Work(ctx context.Context, j worker.Job) (worker.Done, error) {
	ev, err := zoom.ParseEvent(j.Delivery.Body)
	if err != nil {
		return worker.Done{}, rules.Permanent("Zoom event %d cannot be read: %v", j.Delivery.ID, err)
	}
	t, ok := ev.Target()
	uuid := ev.Payload.Object.UUID
	if !ok || uuid == "" {
		return worker.Done{}, rules.Permanent("Zoom event %s names no meeting instance", ev.Event)
	}
	// The attendance poll's stand-in names the meeting by its id (Zoom
	// then reads the latest instance): its scheduled start keeps the
	// instances of a series apart.
	instance := uuid
	if uuid == strconv.FormatInt(t.ID, 10) && ev.Payload.Object.StartTime != "" {
		instance = "scheduled " + ev.Payload.Object.StartTime
	}
	regs, err := a.store.ActiveRegistrationsOn(ctx, t, "")
	if err != nil {
		return worker.Done{}, err
	}
	if len(regs) == 0 {
		return worker.Done{Result: fmt.Sprintf("%s ended: no paid attendee of this shop; nothing to record", t)}, nil
	}
	invitees, err := a.invitees(ctx, regs)
	if err != nil {
		return worker.Done{}, err
	}
	parts, err := a.zoom.Participants(ctx, t, uuid)
	if err != nil {
		return worker.Done{}, fmt.Errorf("read who was in %s: %w", t, err)
	}
	att, unmatched := rules.MatchAttendance(invitees, parts)
	if err := a.store.SaveAttendance(ctx, t, instance, att, unmatched); err != nil {
		return worker.Done{}, err
	}
	attended := 0
	for _, x := range att {
		if x.Attended {
			attended++
		}
	}
	if err := a.writeBack(ctx, t, instance, att, j.Log); err != nil {
		return worker.Done{}, err
	}
	if err := a.thank(ctx, t, instance, att); err != nil {
		return worker.Done{}, err
	}
	return worker.Done{Result: fmt.Sprintf("%s ended: %d of %d paid attendees came; %d participants without a paid registration listed for the organiser",
		t, attended, len(att), len(unmatched))}, nil
}

// invitees are the registrations with their registrants' ids on Zoom.
func (a *Attendance) invitees(ctx context.Context, regs []rules.Registration) ([]rules.Invitee, error) {
	keys := make([]rules.SeatKey, len(regs))
	for i, r := range regs {
		keys[i] = r.Key()
	}
	seats, err := a.store.Seats(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]rules.Invitee, len(regs))
	for i, r := range regs {
		out[i] = rules.Invitee{Registration: r, RegistrantID: seats[r.Key()].RegistrantID}
	}
	return out, nil
}

// attendanceEntry is one attendee's attendance as the order meta shows it.
type attendanceEntry struct {
	Email     string `json:"email"`
	Event     string `json:"event"`
	Instance  string `json:"instance"`
	Attended  bool   `json:"attended"`
	Minutes   int    `json:"minutes"`
	FirstJoin string `json:"first_join,omitempty"`
	LastLeave string `json:"last_leave,omitempty"`
}

// writeBack writes every order's attendance (of all its meetings) to its
// meta, and a private note for staff once per order and instance.
func (a *Attendance) writeBack(ctx context.Context, t rules.Target, uuid string, att []rules.Attendance, log *slog.Logger) error {
	seen := map[int64]bool{}
	for _, x := range att {
		id := x.Registration.OrderID
		if seen[id] {
			continue
		}
		seen[id] = true
		noShows := a.replays != nil && a.replays(x.Registration.ProductID) == rules.ReplayNoShows
		records, err := a.store.OrderAttendance(ctx, id)
		if err != nil {
			return err
		}
		if err := a.writeMeta(ctx, id, records); err != nil {
			return err
		}
		if err := a.note(ctx, t, uuid, id, records); err != nil {
			return err
		}
		// The order's replay follows its attendance (recordings: no_shows).
		if noShows {
			if _, err := a.store.RequeueOrder(ctx, id); err != nil {
				return err
			}
		}
		log.Info("attendance written to the order", "order_id", id, "target", t.String())
	}
	return nil
}

func (a *Attendance) writeMeta(ctx context.Context, orderID int64, records []rules.AttendanceRecord) error {
	entries := make([]attendanceEntry, len(records))
	for i, r := range records {
		entries[i] = attendanceEntry{Email: r.Email, Event: r.Target.String(), Instance: r.Instance, Attended: r.Attended, Minutes: r.Minutes}
		if r.Attended {
			entries[i].FirstJoin, entries[i].LastLeave = r.FirstJoin.Format(time.RFC3339), r.LastLeave.Format(time.RFC3339)
		}
	}
	value, err := json.Marshal(entries)
	if err != nil {
		return fmt.Errorf("write the attendance of order %d: %w", orderID, err)
	}
	return a.shop.UpdateOrderMeta(ctx, orderID, []rules.Meta{{Key: AttendanceMetaKey, Value: value}})
}

// note tells staff who of the order attended the instance, once.
func (a *Attendance) note(ctx context.Context, t rules.Target, uuid string, orderID int64, records []rules.AttendanceRecord) error {
	var lines []string
	noted := true
	for _, r := range records {
		if r.Target != t || r.Instance != uuid {
			continue
		}
		noted = noted && r.Noted
		if r.Attended {
			lines = append(lines, fmt.Sprintf("%s attended, %d minutes (%s to %s UTC)", InNote(r.Email), r.Minutes,
				r.FirstJoin.UTC().Format("15:04"), r.LastLeave.UTC().Format("15:04")))
		} else {
			lines = append(lines, fmt.Sprintf("%s did not attend", InNote(r.Email)))
		}
	}
	if noted || len(lines) == 0 {
		return nil
	}
	note := fmt.Sprintf("woozoom: attendance of %s: %s.", t, strings.Join(lines, "; "))
	if err := a.shop.AddOrderNote(ctx, orderID, note, false); err != nil {
		return err
	}
	return a.store.AttendanceNoted(ctx, t, uuid, orderID)
}

// thank sends each attendee the thanks note (templates.thanks), once per
// event, attended or not: the template says what to say to whom.
func (a *Attendance) thank(ctx context.Context, t rules.Target, uuid string, att []rules.Attendance) error {
	if a.templates == nil {
		return nil
	}
	records, err := a.store.Attendance(ctx, t, 0)
	if err != nil {
		return err
	}
	thanked := map[string]bool{}
	for _, r := range records {
		if r.Instance == uuid && r.Thanked {
			thanked[fmt.Sprint(r.OrderID, " ", r.Email)] = true
		}
	}
	topic := t.String()
	if d, ok, err := a.store.TargetDetails(ctx, t, time.Time{}); err == nil && ok && d.Topic != "" {
		topic = d.Topic
	}
	for _, x := range att {
		r := x.Registration
		if thanked[fmt.Sprint(r.OrderID, " ", r.Attendee.Email)] {
			continue
		}
		note, ok, err := a.templates.Thanks(access.Attended{OrderID: r.OrderID, Email: r.Attendee.Email, FirstName: r.Attendee.FirstName,
			LastName: r.Attendee.LastName, Topic: topic, Attended: x.Attended, Minutes: x.Minutes})
		if err != nil || !ok {
			return err
		}
		if note != "" {
			if err := a.shop.AddOrderNote(ctx, r.OrderID, note, true); err != nil {
				return err
			}
		}
		if err := a.store.AttendanceThanked(ctx, t, uuid, r.OrderID, r.Attendee.Email); err != nil {
			return err
		}
	}
	return nil
}
