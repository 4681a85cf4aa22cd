package orders

import (
	"context"
	"fmt"
	"strconv"
	"time"

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
	ActiveMappings(ctx context.Context) ([]rules.Mapping, error)
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
	RequeueOrders(ctx context.Context, orderIDs []int64) (int, error)
}

// Participants reads who was in an ended meeting.
type Participants interface {
	Participants(ctx context.Context, t rules.Target, uuid string) ([]rules.Participant, error)
}

// Attendance is the room of Zoom's meeting.ended and webinar.ended: it
// reads who was there, matches them to the shop's paid attendees and keeps
// it. Each order's own job then writes it to the order (writeAttendance):
// one order at a time with the order's other work, each retried on its
// own, so a shop failing at the thousandth order of a large webinar costs
// that order a retry, not the other 999 a second write.
type Attendance struct {
	store AttendanceStore
	zoom  Participants
}

// NewAttendance returns the attendance room.
func NewAttendance(store AttendanceStore, z Participants) *Attendance {
	return &Attendance{store: store, zoom: z}
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
	if regs, err = a.holding(ctx, t, ev.Payload.Object.StartTime, regs); err != nil {
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
	attended, seen := 0, map[int64]bool{}
	var ids []int64
	for _, x := range att {
		if x.Attended {
			attended++
		}
		if id := x.Registration.OrderID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if _, err := a.store.RequeueOrders(ctx, ids); err != nil {
		return worker.Done{}, err
	}
	return worker.Done{Result: fmt.Sprintf("%s ended: %d of %d paid attendees came; %d participants without a paid registration listed for the organiser; %d orders queued to get it",
		t, attended, len(att), len(unmatched), len(ids))}, nil
}

// holding keeps the registrations that hold the ended instance of t,
// which began at start: of a series, a ticket for some occurrences (a day)
// was not invited to the others, so it neither attended nor missed them.
func (a *Attendance) holding(ctx context.Context, t rules.Target, start string, regs []rules.Registration) ([]rules.Registration, error) {
	var began time.Time
	if at, err := time.Parse(time.RFC3339, start); err == nil {
		began = at
	}
	if began.IsZero() {
		return regs, nil // no start said: every registration
	}
	mappings, err := a.store.ActiveMappings(ctx)
	if err != nil {
		return nil, err
	}
	d, _, err := a.store.TargetDetails(ctx, t, time.Time{})
	if err != nil {
		return nil, err
	}
	window := time.Duration(d.Duration)*time.Minute + time.Hour
	var out []rules.Registration
	for _, r := range regs {
		if rules.HoldsInstance(rules.OccurrencesOn(mappings, r.ProductID, t), d.Occurrences, began, window) {
			out = append(out, r)
		}
	}
	return out, nil
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
