package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// ErrNoCalendar is a calendar link that leads nowhere (unknown token, or an
// event without a fixed time).
var ErrNoCalendar = errors.New("no such calendar file")

// CalendarStore is what calendar files are made from.
type CalendarStore interface {
	RegistrationByCalendar(ctx context.Context, token string) (rules.Registration, bool, error)
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
	Seats(ctx context.Context, keys []rules.SeatKey) (map[rules.SeatKey]rules.Seat, error)
}

// Calendars serves each registration's calendar file.
type Calendars struct {
	Store     CalendarStore
	Reminders []time.Duration
	Host      string // the UID's domain part
	Now       func() time.Time
}

// File renders the calendar file of a token: the event as woozoom last read
// it from Zoom, CANCELLED once the registration is.
func (c *Calendars) File(ctx context.Context, token string) (string, error) {
	r, ok, err := c.Store.RegistrationByCalendar(ctx, token)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrNoCalendar
	}
	d, ok, err := c.Store.TargetDetails(ctx, r.Target, time.Time{})
	if err != nil {
		return "", err
	}
	if !ok || d.StartTime.IsZero() {
		return "", fmt.Errorf("%w: %s has no fixed start time", ErrNoCalendar, r.Target)
	}
	seats, err := c.Store.Seats(ctx, []rules.SeatKey{r.Key()})
	if err != nil {
		return "", err
	}
	seat, held := seats[r.Key()]
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ev := CalendarEvent{
		Entry: Entry{Target: r.Target, FirstName: r.Attendee.FirstName, LastName: r.Attendee.LastName, Email: r.Attendee.Email,
			Topic: d.Topic, Start: d.StartTime, Timezone: d.Timezone, Duration: d.Duration, Passcode: d.Passcode},
		Sequence:  d.Sequence,
		Cancelled: r.State != rules.Active || !held || seat.Status == rules.SeatDenied,
		Reminders: c.Reminders,
		Stamp:     now(),
		Host:      c.Host,
	}
	if !ev.Cancelled {
		ev.JoinURL = seat.JoinURL
	}
	return Calendar(ev)
}
