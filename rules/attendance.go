package rules

import (
	"slices"
	"strconv"
	"strings"
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

// Recording is the cloud recording of one instance of a meeting or
// webinar (a series has one per occurrence held): the replay ticket
// holders may get.
type Recording struct {
	Target   Target
	Instance string    // the recorded instance's UUID
	Start    time.Time // when the recorded instance started
	ShareURL string
	Passcode string
}

// RecordingsFor picks the recordings a registration is to have: those of
// the instances it holds (HoldsInstance).
func RecordingsFor(recs []Recording, occurrences string, series []time.Time, window time.Duration) []Recording {
	var out []Recording
	for _, r := range recs {
		if HoldsInstance(occurrences, series, r.Start, window) {
			out = append(out, r)
		}
	}
	return out
}

// HoldsInstance reports whether a registration holds the instance of a
// meeting that began at start: every instance when it holds every
// occurrence (occurrences empty, as for a single meeting or a series
// registered once). A registration on some occurrences (comma-separated
// ids, their scheduled starts in epoch milliseconds) holds an instance
// when the occurrence scheduled nearest its start, of the registration's
// and the series' known ones, is one of its own and within window of it:
// a day ticket holds its day, not the next.
func HoldsInstance(occurrences string, series []time.Time, start time.Time, window time.Duration) bool {
	if occurrences == "" {
		return true
	}
	own := map[time.Time]bool{}
	starts := slices.Clone(series)
	for _, id := range strings.Split(occurrences, ",") {
		ms, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		at := time.UnixMilli(ms).UTC()
		own[at] = true
		starts = append(starts, at)
	}
	var nearest time.Time
	for _, s := range starts {
		if nearest.IsZero() || absDuration(start.Sub(s)) < absDuration(start.Sub(nearest)) {
			nearest = s.UTC()
		}
	}
	return !nearest.IsZero() && own[nearest] && absDuration(start.Sub(nearest)) <= window
}

// Missed reports whether an attendee's attendance says they did not come
// to an instance: its own records when there are any (an ended event names
// the instance), else all of theirs on the meeting (a poll's stand-in
// names the scheduled start). No record: not known yet, so not missed.
func Missed(records []AttendanceRecord, email, instance string) bool {
	var own, theirs []AttendanceRecord
	for _, a := range records {
		if a.Email != email {
			continue
		}
		theirs = append(theirs, a)
		if a.Instance == instance {
			own = append(own, a)
		}
	}
	if len(own) > 0 {
		theirs = own
	}
	for _, a := range theirs {
		if a.Attended {
			return false
		}
	}
	return len(theirs) > 0
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Replay modes: who of a recorded event's paid attendees gets the replay.
const (
	ReplayOff     = "off"      // nobody (the default)
	ReplayShare   = "share"    // every attendee whose registration is paid
	ReplayNoShows = "no_shows" // those of them who did not attend
)
