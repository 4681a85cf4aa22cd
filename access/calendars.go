package access

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
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
	ActiveMappings(ctx context.Context) ([]rules.Mapping, error)
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
	if !ok || (d.StartTime.IsZero() && len(d.Occurrences) == 0) {
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
	if ev.Occurrences, err = c.occurrences(ctx, r); err != nil {
		return "", err
	}
	if len(ev.Occurrences) == 0 {
		// Registered for the whole series: every occurrence Zoom lists.
		ev.Occurrences = d.Occurrences
	}
	return Calendar(ev)
}

// occurrences are the starts of the occurrences of a recurring meeting the
// registration's product maps to. Zoom's occurrence id is its start in
// Unix milliseconds.
func (c *Calendars) occurrences(ctx context.Context, r rules.Registration) ([]time.Time, error) {
	ms, err := c.Store.ActiveMappings(ctx)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	seen := map[int64]bool{}
	for _, m := range ms {
		if m.ProductID != r.ProductID || m.Target != r.Target || m.Occurrences == "" {
			continue
		}
		for _, id := range strings.Split(m.Occurrences, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
			if err != nil || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, time.UnixMilli(n).UTC())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}
