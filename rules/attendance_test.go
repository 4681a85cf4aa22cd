package rules

import (
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
