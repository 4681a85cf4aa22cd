package rules

import (
	"slices"
	"time"
)

// Participant is one session of someone in a past meeting or webinar, as
// Zoom's participants report lists it: one entry per join, so a person who
// rejoined appears more than once.
type Participant struct {
	RegistrantID string // empty for someone who joined without registering
	Email        string // may be empty: a guest who did not sign in
	Name         string
	Join, Leave  time.Time
}

// Invitee is a paid attendee to look for among the participants: the
// registration and the id of its registrant on Zoom.
type Invitee struct {
	Registration Registration
	RegistrantID string
}

// Attendance is what one attendee of one order did in one meeting.
type Attendance struct {
	Registration Registration
	Attended     bool
	FirstJoin    time.Time
	LastLeave    time.Time
	// Minutes in the meeting: the sessions' union, so two devices at once
	// count once.
	Minutes int
}

// Unmatched is someone in the meeting whom no paid attendee accounts for:
// a guest under another email, or someone who joined without registering.
// Listed for the organiser, never guessed onto an order.
type Unmatched struct {
	Name, Email string
	Minutes     int
}

// MatchAttendance matches participants to invitees by registrant id first
// (the reliable link), then by normalised email, and sums each one's time.
// Every invitee gets an Attendance, attended or not; orders that share an
// attendee (one registrant on Zoom) share what they did.
func MatchAttendance(invitees []Invitee, participants []Participant) ([]Attendance, []Unmatched) {
	byRegistrant, byEmail := map[string][]int{}, map[string][]int{}
	for i, inv := range invitees {
		if inv.RegistrantID != "" {
			byRegistrant[inv.RegistrantID] = append(byRegistrant[inv.RegistrantID], i)
		}
		email := NormalizeEmail(inv.Registration.Attendee.Email)
		byEmail[email] = append(byEmail[email], i)
	}
	sessions := make([][]Participant, len(invitees))
	others := map[string][]Participant{} // by who they seem to be
	var order []string
	for _, p := range participants {
		matched := byRegistrant[p.RegistrantID]
		if p.RegistrantID == "" || len(matched) == 0 {
			matched = nil
			if p.Email != "" {
				matched = byEmail[NormalizeEmail(p.Email)]
			}
		}
		for _, i := range matched {
			sessions[i] = append(sessions[i], p)
		}
		if len(matched) > 0 {
			continue
		}
		key := NormalizeEmail(p.Email) + "\x00" + p.Name
		if _, seen := others[key]; !seen {
			order = append(order, key)
		}
		others[key] = append(others[key], p)
	}
	out := make([]Attendance, len(invitees))
	for i, inv := range invitees {
		a := Attendance{Registration: inv.Registration}
		if len(sessions[i]) > 0 {
			a.Attended = true
			a.FirstJoin, a.LastLeave, a.Minutes = span(sessions[i])
		}
		out[i] = a
	}
	unmatched := make([]Unmatched, 0, len(order))
	for _, key := range order {
		ps := others[key]
		_, _, minutes := span(ps)
		unmatched = append(unmatched, Unmatched{Name: ps[0].Name, Email: ps[0].Email, Minutes: minutes})
	}
	return out, unmatched
}

// span returns the first join, the last leave and the minutes of the
// sessions' union (overlapping sessions merged), rounded to the nearest
// minute.
func span(ps []Participant) (first, last time.Time, minutes int) {
	sorted := slices.Clone(ps)
	slices.SortFunc(sorted, func(a, b Participant) int { return a.Join.Compare(b.Join) })
	var total time.Duration
	var from, to time.Time
	for i, p := range sorted {
		leave := p.Leave
		if leave.Before(p.Join) {
			leave = p.Join
		}
		switch {
		case i == 0:
			first, from, to = p.Join, p.Join, leave
		case p.Join.After(to):
			total += to.Sub(from)
			from, to = p.Join, leave
		case leave.After(to):
			to = leave
		}
		if leave.After(last) {
			last = leave
		}
	}
	total += to.Sub(from)
	return first, last, int((total + 30*time.Second) / time.Minute)
}

// AttendanceRecord is one attendee's attendance of one instance (by its
// UUID) of a meeting or webinar, as woozoom keeps it.
type AttendanceRecord struct {
	Target    Target
	Instance  string
	OrderID   int64
	Email     string
	Attended  bool
	Minutes   int
	FirstJoin time.Time
	LastLeave time.Time
	Noted     bool // the order's note was written
	Thanked   bool // the attendee's customer note was written
}

// Recording is the cloud recording of a meeting or webinar: the replay
// ticket holders may get.
type Recording struct {
	Target   Target
	Instance string // the recorded instance's UUID
	ShareURL string
	Passcode string
}

// Replay modes: who of a recorded event's paid attendees gets the replay.
const (
	ReplayOff     = "off"      // nobody (the default)
	ReplayShare   = "share"    // every attendee whose registration is paid
	ReplayNoShows = "no_shows" // those of them who did not attend
)
