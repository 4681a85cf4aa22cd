package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Where woozoom is with a meeting it makes for a product.
const (
	// MadeCreating: Zoom was asked to make it and the answer was not read
	// yet (or was lost): before asking again, woozoom looks for it.
	MadeCreating = "creating"
	MadeDone     = "made"
	// MadeDeleting: Zoom was asked to delete it and the answer was not read
	// yet: whether it still exists is looked up before it is relied on.
	MadeDeleting = "deleting"
	MadeDeleted  = "deleted"
)

// EventMeeting is a meeting or webinar a product's event needs: one for a
// single-day event, one per day of a multi-day one (Day 1..n), or one
// recurring meeting with a daily occurrence per day.
type EventMeeting struct {
	Day      int // 0: the event's one meeting
	Kind     TargetKind
	Host     string // email or Zoom user id
	Topic    string
	Start    time.Time
	Duration int // minutes
	Timezone string
	Daily    int // occurrences of a recurring meeting, one a day; 0: not recurring
}

// Digest covers what Zoom is told of the meeting that a product change can
// change: topic, start, length, zone and occurrences.
func (m EventMeeting) Digest() string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%s\x00%d", m.Topic, m.Start.Unix(), m.Duration, m.Timezone, m.Daily))
	return hex.EncodeToString(h[:8])
}

// MadeMeeting is what woozoom recorded of a meeting it made for a product.
type MadeMeeting struct {
	ProductID int64
	Day       int
	Kind      TargetKind
	Host      string
	// Ref is written into the meeting's agenda: it finds the meeting when
	// the answer to the create was lost.
	Ref    string
	State  string
	Target Target // ID 0 while creating
	Digest string // of the EventMeeting Zoom has
	// OrdersPending: made, and the product's completed orders not yet
	// queued to register on it.
	OrdersPending bool
}

// MeetingStepKind is what a step does on Zoom.
type MeetingStepKind string

const (
	MakeMeeting   MeetingStepKind = "create"
	ChangeMeeting MeetingStepKind = "update"
	RemoveMeeting MeetingStepKind = "delete"
)

// MeetingStep is one change to make a product's meetings match its event.
type MeetingStep struct {
	Kind MeetingStepKind
	Want EventMeeting // create, update
	Made MadeMeeting  // update, delete; a create resuming a lost answer
}

// PlanMeetings says what to do on Zoom so that the meetings made for a
// product match what its event needs. A product that is gone (trashed or
// deleted) needs none. A meeting whose host or kind changed is made anew:
// Zoom cannot move a meeting to another host or turn it into a webinar.
// Deletes come first, so a day that moved to a new meeting never has two.
func PlanMeetings(want []EventMeeting, made []MadeMeeting, gone bool) []MeetingStep {
	byDay := map[int]MadeMeeting{}
	for _, m := range made {
		if m.State != MadeDeleted {
			byDay[m.Day] = m
		}
	}
	var deletes, rest []MeetingStep
	kept := map[int]bool{}
	if !gone {
		for _, w := range want {
			m, ok := byDay[w.Day]
			switch {
			case !ok:
				rest = append(rest, MeetingStep{Kind: MakeMeeting, Want: w})
			case m.Kind != w.Kind || m.Host != w.Host:
				// Replaced: the old one goes below.
				rest = append(rest, MeetingStep{Kind: MakeMeeting, Want: w})
			case m.State == MadeCreating:
				kept[w.Day] = true
				rest = append(rest, MeetingStep{Kind: MakeMeeting, Want: w, Made: m})
			default:
				kept[w.Day] = true
				if m.Digest != w.Digest() {
					rest = append(rest, MeetingStep{Kind: ChangeMeeting, Want: w, Made: m})
				}
			}
		}
	}
	for _, m := range made {
		if m.State != MadeDeleted && !kept[m.Day] {
			deletes = append(deletes, MeetingStep{Kind: RemoveMeeting, Made: m})
		}
	}
	return append(deletes, rest...)
}

// EventMeetings are the meetings a product's event needs: one per session
// (days numbered from 1 when there are several), or, with recurring, one
// meeting with a daily occurrence per session. topic names each.
func EventMeetings(s Schedule, kind TargetKind, host string, recurring bool, topic func(day, days int) string) []EventMeeting {
	n := len(s.Sessions)
	mk := func(day int, sess Session) EventMeeting {
		return EventMeeting{Day: day, Kind: kind, Host: host, Topic: topic(day, n), Start: sess.Start.UTC(),
			Duration: int(sess.End.Sub(sess.Start).Minutes()), Timezone: s.Timezone}
	}
	switch {
	case n == 0:
		return nil
	case n == 1:
		return []EventMeeting{mk(0, s.Sessions[0])}
	case recurring:
		m := mk(0, s.Sessions[0])
		m.Daily = n
		return []EventMeeting{m}
	}
	out := make([]EventMeeting, n)
	for i, sess := range s.Sessions {
		out[i] = mk(i+1, sess)
	}
	return out
}

// Consecutive reports whether a schedule's sessions fall on consecutive
// days at the same time, as one daily recurring meeting can hold them.
func Consecutive(s Schedule) bool {
	for i := 1; i < len(s.Sessions); i++ {
		a, b := s.Sessions[i-1], s.Sessions[i]
		if !b.Start.Equal(a.Start.AddDate(0, 0, 1)) || b.End.Sub(b.Start) != a.End.Sub(a.Start) {
			return false
		}
	}
	return true
}
