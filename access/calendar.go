package access

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// DefaultReminders are the calendar alarms before an event.
var DefaultReminders = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour}

// CalendarEvent is what a calendar file says about one registration.
type CalendarEvent struct {
	Entry
	// Sequence goes up each time the event moves, so calendar apps update it.
	Sequence  int
	Cancelled bool
	// Occurrences are the starts of the occurrences of a recurring meeting
	// the attendee is registered for; empty: the one event at Start.
	Occurrences []time.Time
	Reminders   []time.Duration
	Stamp       time.Time // when the file is made
	Host        string    // for the UID's domain part
}

// UID is stable for one attendee (by normalised email) on one event, so a
// file fetched again updates the same calendar entry. An occurrence of a
// recurring meeting has its own, named by its start.
func (c CalendarEvent) UID(occurrence time.Time) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(c.Email))))
	host := c.Host
	if host == "" {
		host = "woozoom"
	}
	occ := ""
	if !occurrence.IsZero() {
		occ = fmt.Sprintf("-%d", occurrence.Unix())
	}
	return fmt.Sprintf("%s-%d%s-%s@%s", c.Target.Kind, c.Target.ID, occ, hex.EncodeToString(sum[:8]), host)
}

// Calendar renders the iCalendar file, its lines ended by CRLF and its
// values without control characters. An event without a start has no
// calendar entry.
func Calendar(c CalendarEvent) (string, error) {
	c.Entry = c.clean()
	starts := c.Occurrences
	if len(starts) == 0 {
		if c.Start.IsZero() {
			return "", fmt.Errorf("%s has no fixed start time", c.Target)
		}
		starts = []time.Time{c.Start}
	}
	cal := ics.NewCalendarFor("woozoom")
	cal.SetMethod(ics.MethodPublish)
	dur := time.Duration(max(c.Duration, 1)) * time.Minute
	for _, start := range starts {
		var occ time.Time
		if len(c.Occurrences) > 0 {
			occ = start
		}
		ev := cal.AddEvent(c.UID(occ))
		ev.SetDtStampTime(c.Stamp.UTC())
		ev.SetSequence(c.Sequence)
		ev.SetStartAt(start.UTC())
		ev.SetEndAt(start.UTC().Add(dur))
		ev.SetSummary(c.Topic)
		if c.JoinURL != "" {
			ev.SetLocation(c.JoinURL)
			ev.SetURL(c.JoinURL)
		}
		ev.SetDescription(description(c.Entry))
		if c.Cancelled {
			ev.SetStatus(ics.ObjectStatusCancelled)
			continue
		}
		ev.SetStatus(ics.ObjectStatusConfirmed)
		for _, before := range c.Reminders {
			a := ev.AddAlarm()
			a.SetAction(ics.ActionDisplay)
			a.SetTrigger("-" + icsDuration(before))
			a.SetProperty(ics.ComponentPropertyDescription, "Reminder: "+c.Topic)
		}
	}
	return cal.Serialize(ics.WithNewLineWindows), nil // RFC 5545 3.1: lines end in CRLF
}

func description(e Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s for %s.", e.Topic, e.Name())
	if e.JoinURL != "" {
		fmt.Fprintf(&b, " Join: %s", e.JoinURL)
	}
	if id := e.MeetingID(); id != "" {
		fmt.Fprintf(&b, " (%s ID %s", e.KindName(), id)
		if e.Passcode != "" {
			fmt.Fprintf(&b, ", passcode %s", e.Passcode)
		}
		b.WriteString(")")
	} else if e.Passcode != "" {
		fmt.Fprintf(&b, " (passcode %s)", e.Passcode)
	}
	return b.String()
}

// icsDuration writes a duration as RFC 5545 does: P7D, PT1H, PT30M.
func icsDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("P%dD", d/(24*time.Hour))
	}
	s := "PT"
	if h := d / time.Hour; h > 0 {
		s += fmt.Sprintf("%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		s += fmt.Sprintf("%dM", m)
		d -= m * time.Minute
	}
	if d > 0 || s == "PT" {
		s += fmt.Sprintf("%dS", d/time.Second)
	}
	return s
}
