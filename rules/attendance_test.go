package rules

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMatchAttendance(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, time.UTC) }
	reg := func(order int64, email string) Registration {
		return Registration{OrderID: order, Attendee: Person{Email: email}, State: Active}
	}
	rita, bob, ann := reg(101, "rita@example.org"), reg(102, "bob@example.org"), reg(103, "ann@example.org")
	ann2 := reg(104, "ann@example.org") // Ann's second order
	three := []Invitee{{rita, "reg-rita"}, {bob, "reg-bob"}, {ann, "reg-ann"}}
	for _, c := range []struct {
		name      string
		in        []Participant
		want      []Attendance
		unmatched []Unmatched
	}{
		{
			name: "nobody came",
			want: []Attendance{{Registration: rita}, {Registration: bob}, {Registration: ann}},
		},
		{
			name: "a rejoiner's sessions are summed; two devices at once count once",
			in: []Participant{
				{RegistrantID: "reg-rita", Email: "rita@example.org", Join: at(18, 0), Leave: at(18, 20)},
				{RegistrantID: "reg-rita", Email: "rita@example.org", Join: at(18, 30), Leave: at(18, 50)},
				{RegistrantID: "reg-bob", Email: "bob@example.org", Join: at(18, 0), Leave: at(18, 40)},
				{RegistrantID: "reg-bob", Email: "bob@example.org", Join: at(18, 10), Leave: at(18, 45)}, // phone too
			},
			want: []Attendance{
				{Registration: rita, Attended: true, FirstJoin: at(18, 0), LastLeave: at(18, 50), Minutes: 40},
				{Registration: bob, Attended: true, FirstJoin: at(18, 0), LastLeave: at(18, 45), Minutes: 45},
				{Registration: ann},
			},
		},
		{
			name: "registrant id first: Ann signed in under another email",
			in: []Participant{
				{RegistrantID: "reg-ann", Email: "ann.private@example.net", Join: at(18, 5), Leave: at(18, 35)},
			},
			want: []Attendance{{Registration: rita}, {Registration: bob},
				{Registration: ann, Attended: true, FirstJoin: at(18, 5), LastLeave: at(18, 35), Minutes: 30}},
		},
		{
			name: "then the email, in any case; a guest under another email and an unregistered joiner are listed, not assigned",
			in: []Participant{
				{Email: " Bob@Example.org ", Join: at(18, 0), Leave: at(18, 10)},
				{Email: "carol@example.org", Name: "Carol (guest of Rita)", Join: at(18, 0), Leave: at(18, 30)},
				{Name: "iPhone", Join: at(18, 0), Leave: at(18, 4)},
				{Name: "iPhone", Join: at(18, 10), Leave: at(18, 12)},
				{RegistrantID: "reg-someone-else", Email: "dave@example.org", Name: "Dave", Join: at(18, 0), Leave: at(18, 1)},
			},
			want: []Attendance{{Registration: rita},
				{Registration: bob, Attended: true, FirstJoin: at(18, 0), LastLeave: at(18, 10), Minutes: 10}, {Registration: ann}},
			unmatched: []Unmatched{{Name: "Carol (guest of Rita)", Email: "carol@example.org", Minutes: 30},
				{Name: "iPhone", Minutes: 6}, {Name: "Dave", Email: "dave@example.org", Minutes: 1}},
		},
		{
			name: "two orders of one attendee (one registrant on Zoom) both attended",
			in:   []Participant{{RegistrantID: "reg-ann", Email: "ann@example.org", Join: at(18, 0), Leave: at(18, 30)}},
			want: []Attendance{{Registration: rita}, {Registration: bob},
				{Registration: ann, Attended: true, FirstJoin: at(18, 0), LastLeave: at(18, 30), Minutes: 30},
				{Registration: ann2, Attended: true, FirstJoin: at(18, 0), LastLeave: at(18, 30), Minutes: 30}},
		},
		{
			name: "seconds round to the nearest minute",
			in: []Participant{
				{RegistrantID: "reg-rita", Join: at(18, 0), Leave: at(18, 0).Add(89 * time.Second)},
				{RegistrantID: "reg-bob", Join: at(18, 0), Leave: at(18, 0).Add(90 * time.Second)},
			},
			want: []Attendance{
				{Registration: rita, Attended: true, FirstJoin: at(18, 0), LastLeave: at(18, 0).Add(89 * time.Second), Minutes: 1},
				{Registration: bob, Attended: true, FirstJoin: at(18, 0), LastLeave: at(18, 0).Add(90 * time.Second), Minutes: 2},
				{Registration: ann},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			invitees := three
			if len(c.want) == 4 {
				invitees = append(invitees, Invitee{ann2, "reg-ann"})
			}
			got, unmatched := MatchAttendance(invitees, c.in)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("attendance (-want +got)\n%s", diff)
			}
			if diff := cmp.Diff(c.unmatched, unmatched, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("unmatched (-want +got)\n%s", diff)
			}
		})
	}
}

func TestRecordingsFor(t *testing.T) {
	day := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, time.UTC) }
	id := func(at time.Time) string { return strconv.FormatInt(at.UnixMilli(), 10) }
	// A three-day course at 17:00 UTC, and hourly slots on the 10th.
	d1, d2, d3 := day(3, 17, 0), day(4, 17, 0), day(5, 17, 0)
	s1, s2 := day(10, 9, 0), day(10, 10, 0)
	rec := func(name string, at time.Time) Recording { return Recording{Instance: name, Start: at} }
	course := []Recording{rec("day1", d1.Add(4*time.Minute)), rec("day2", d2.Add(-3*time.Minute)), rec("day3", d3.Add(time.Minute))}
	slots := []Recording{rec("slot1", s1.Add(2*time.Minute)), rec("slot2", s2.Add(35*time.Minute))}
	window := 90*time.Minute + time.Hour
	for _, tc := range []struct {
		name        string
		recs        []Recording
		occurrences string
		series      []time.Time
		want        string
	}{
		{"every occurrence: every recording", course, "", nil, "day1 day2 day3"},
		{"a day-one ticket: day one's only", course, id(d1), []time.Time{d1, d2, d3}, "day1"},
		{"days one and three", course, id(d1) + "," + id(d3), []time.Time{d1, d2, d3}, "day1 day3"},
		// Zoom stops listing past occurrences: the ticket's own start and the
		// window still keep day two's recording away from day one.
		{"the series forgotten", course, id(d1), nil, "day1"},
		{"day two, the series forgotten", course, id(d2), nil, "day2"},
		// A slot started 35 minutes late is still its own, not the next
		// slot's (nearest scheduled start wins).
		{"slot two, late", slots, id(s2), []time.Time{s1, s2}, "slot2"},
		{"slot one", slots, id(s1), []time.Time{s1, s2}, "slot1"},
		{"an occurrence with no recording", course, id(day(6, 17, 0)), []time.Time{d1, d2, d3, day(6, 17, 0)}, ""},
		{"no recordings", nil, id(d1), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range RecordingsFor(tc.recs, tc.occurrences, tc.series, window) {
				got = append(got, r.Instance)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func TestMissed(t *testing.T) {
	rec := func(email, instance string, attended bool) AttendanceRecord {
		return AttendanceRecord{Email: email, Instance: instance, Attended: attended}
	}
	records := []AttendanceRecord{
		rec("ann@example.org", "day1", true), rec("ann@example.org", "day2", false),
		rec("bob@example.org", "scheduled 2026-12-14T16:00:00Z", false),
		rec("cal@example.org", "scheduled 2026-12-14T16:00:00Z", true),
	}
	for _, tc := range []struct {
		email, instance string
		want            bool
	}{
		{"ann@example.org", "day1", false},
		{"ann@example.org", "day2", true},
		// The poll's stand-in names no UUID: all of theirs decide.
		{"bob@example.org", "day1", true},
		{"cal@example.org", "day1", false},
		// No attendance yet: not known to have missed it.
		{"dan@example.org", "day1", false},
	} {
		if got := Missed(records, tc.email, tc.instance); got != tc.want {
			t.Errorf("Missed(%s, %s) = %v, want %v", tc.email, tc.instance, got, tc.want)
		}
	}
}
