package rules

import (
	"reflect"
	"testing"
	"time"
)

func TestPlanMeetings(t *testing.T) {
	start := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	day := func(d int, topic string) EventMeeting {
		return EventMeeting{Day: d, Kind: Meeting, Host: "host@shop.example", Topic: topic, Start: start.AddDate(0, 0, max(d-1, 0)), Duration: 60, Timezone: "Europe/Berlin"}
	}
	made := func(w EventMeeting, id int64, state string) MadeMeeting {
		return MadeMeeting{ProductID: 7, Day: w.Day, Kind: w.Kind, Host: w.Host, Ref: "r", State: state, Target: Target{Kind: w.Kind, ID: id}, Digest: w.Digest()}
	}
	one := day(0, "Tour")
	renamed := day(0, "Tour (new)")
	moved := one
	moved.Start = start.Add(time.Hour)
	webinar := one
	webinar.Kind = Webinar
	otherHost := one
	otherHost.Host = "other@shop.example"
	kinds := func(steps []MeetingStep) []string {
		var out []string
		for _, s := range steps {
			out = append(out, string(s.Kind))
		}
		return out
	}
	tests := []struct {
		name string
		want []EventMeeting
		made []MadeMeeting
		gone bool
		do   []string
	}{
		{"nothing made yet", []EventMeeting{one}, nil, false, []string{"create"}},
		{"made and unchanged: nothing", []EventMeeting{one}, []MadeMeeting{made(one, 1, MadeDone)}, false, nil},
		{"renamed", []EventMeeting{renamed}, []MadeMeeting{made(one, 1, MadeDone)}, false, []string{"update"}},
		{"moved", []EventMeeting{moved}, []MadeMeeting{made(one, 1, MadeDone)}, false, []string{"update"}},
		{"answer lost: create resumes", []EventMeeting{one}, []MadeMeeting{made(one, 0, MadeCreating)}, false, []string{"create"}},
		{"trashed", []EventMeeting{one}, []MadeMeeting{made(one, 1, MadeDone)}, true, []string{"delete"}},
		{"trashed while creating: look it up and delete", nil, []MadeMeeting{made(one, 0, MadeCreating)}, true, []string{"delete"}},
		{"delete unanswered, still trashed: delete again", nil, []MadeMeeting{made(one, 1, MadeDeleting)}, true, []string{"delete"}},
		{"deleted before: nothing more", nil, []MadeMeeting{made(one, 1, MadeDeleted)}, true, nil},
		{"restored", []EventMeeting{one}, []MadeMeeting{made(one, 1, MadeDeleted)}, false, []string{"create"}},
		{"became a webinar: replaced, delete first", []EventMeeting{webinar}, []MadeMeeting{made(one, 1, MadeDone)}, false, []string{"delete", "create"}},
		{"another host: replaced", []EventMeeting{otherHost}, []MadeMeeting{made(one, 1, MadeDone)}, false, []string{"delete", "create"}},
		{"a third day added", []EventMeeting{day(1, "D1"), day(2, "D2"), day(3, "D3")}, []MadeMeeting{made(day(1, "D1"), 1, MadeDone), made(day(2, "D2"), 2, MadeDone)}, false, []string{"create"}},
		{"a day dropped", []EventMeeting{day(1, "D1")}, []MadeMeeting{made(day(1, "D1"), 1, MadeDone), made(day(2, "D2"), 2, MadeDone)}, false, []string{"delete"}},
		{"no date any more: delete", nil, []MadeMeeting{made(one, 1, MadeDone)}, false, []string{"delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := PlanMeetings(tt.want, tt.made, tt.gone)
			if got := kinds(steps); !reflect.DeepEqual(got, tt.do) {
				t.Fatalf("steps %v, want %v", got, tt.do)
			}
			for _, s := range steps {
				if s.Kind == MakeMeeting && s.Made.State == MadeCreating && s.Made.Ref == "" {
					t.Error("a resumed create lost its reference")
				}
			}
		})
	}
}

func TestEventMeetings(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	sess := func(d int) Session {
		s := time.Date(2026, 3, 28+d, 18, 0, 0, 0, berlin) // crosses the change to summer time
		return Session{Start: s, End: s.Add(90 * time.Minute)}
	}
	s := Schedule{Timezone: "Europe/Berlin", Sessions: []Session{sess(0), sess(1), sess(2)}}
	topic := func(day, days int) string { return "Course" + map[bool]string{true: " day", false: ""}[day > 0] }
	days := EventMeetings(s, Meeting, "h", false, topic)
	if len(days) != 3 || days[0].Day != 1 || days[2].Day != 3 || days[1].Duration != 90 || days[2].Topic != "Course day" {
		t.Fatalf("days: %+v", days)
	}
	if !days[2].Start.Equal(time.Date(2026, 3, 30, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("day 3 starts %s (18:00 summer time is 16:00 UTC)", days[2].Start)
	}
	rec := EventMeetings(s, Webinar, "h", true, topic)
	if len(rec) != 1 || rec[0].Daily != 3 || rec[0].Day != 0 || rec[0].Topic != "Course" {
		t.Fatalf("recurring: %+v", rec)
	}
	if !Consecutive(s) {
		t.Error("three days in a row at 18:00 are consecutive")
	}
	gap := Schedule{Sessions: []Session{sess(0), sess(2)}}
	if Consecutive(gap) {
		t.Error("a gap is not consecutive")
	}
	if len(EventMeetings(Schedule{}, Meeting, "h", false, topic)) != 0 {
		t.Error("no sessions, no meetings")
	}
}
