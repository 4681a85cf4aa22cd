package zoom_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// Meetings made, changed and deleted through the client, against the fake
// (its answers checked against Zoom's spec by the validator).
func TestCreateUpdateDeleteMeetings(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{LightPerSecond: 100, MediumPerSecond: 100, Retries: 1})
	ctx := context.Background()
	host := e.fake.AddUser(zoomtest.User{Email: "host@shop.example", Type: 2})
	basic := e.fake.AddUser(zoomtest.User{Email: "basic@shop.example", Type: 1})
	start := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)

	m, err := e.client.CreateMeeting(ctx, host.Email, rules.Meeting, zoom.MeetingSpec{Topic: "Online guided tour", Start: start, Duration: 60,
		Timezone: "Europe/Berlin", Passcode: "Tour42", Settings: map[string]any{"waiting_room": true}})
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := e.fake.Meeting(m.Target.ID)
	if !ok || m.Target.Kind != rules.Meeting || m.JoinURL == "" || !m.RegistrationOn() || spec.ApprovalType != 0 ||
		!spec.StartTime.Equal(start) || spec.Topic != "Online guided tour" || spec.Password != "Tour42" || spec.HostEmail != host.Email {
		t.Errorf("created %+v; the fake holds %+v", m, spec)
	}

	series, err := e.client.CreateMeeting(ctx, host.ID, rules.Meeting, zoom.MeetingSpec{Topic: "Evening series", Start: start, Duration: 90, Weekly: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(series.Occurrences) != 4 || !series.Occurrences[3].Equal(start.Add(21*24*time.Hour)) {
		t.Errorf("weekly series: occurrences %v", series.Occurrences)
	}
	if _, err := e.client.CreateMeeting(ctx, host.ID, rules.Meeting, zoom.MeetingSpec{Topic: "Too long", Start: start, Weekly: 51}); !errors.Is(err, rules.ErrPermanent) {
		t.Errorf("51 occurrences: %v, want refused before any call", err)
	}
	web, err := e.client.CreateMeeting(ctx, host.Email, rules.Webinar, zoom.MeetingSpec{Topic: "Restoring paintings", Start: start, Duration: 90})
	if err != nil || web.Target.Kind != rules.Webinar {
		t.Fatalf("webinar: %+v %v", web, err)
	}
	if _, err := e.client.CreateMeeting(ctx, basic.Email, rules.Meeting, zoom.MeetingSpec{Topic: "Intern call", Start: start}); err == nil || !strings.Contains(err.Error(), "basic user") {
		t.Errorf("registration on a Basic host's meeting: %v", err)
	}
	if _, err := e.client.CreateMeeting(ctx, "nobody@shop.example", rules.Meeting, zoom.MeetingSpec{Topic: "X", Start: start}); err == nil {
		t.Error("a meeting for a user the account does not have")
	}

	moved := start.Add(48 * time.Hour)
	if err := e.client.UpdateMeeting(ctx, m.Target, zoom.MeetingSpec{Topic: "Online guided tour (new date)", Start: moved, Duration: 75}); err != nil {
		t.Fatal(err)
	}
	if spec, _ := e.fake.Meeting(m.Target.ID); !spec.StartTime.Equal(moved) || spec.Topic != "Online guided tour (new date)" || spec.Duration != 75 {
		t.Errorf("after update: %+v", spec)
	}

	if err := e.client.DeleteMeeting(ctx, m.Target, true); err != nil {
		t.Fatal(err)
	}
	if !e.fake.DeletedWithReminder(m.Target.ID) {
		t.Error("deleted without cancel_meeting_reminder")
	}
	if _, err := e.client.Meeting(ctx, m.Target); !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("the deleted meeting: %v", err)
	}
}

// A host may make or change 100 meetings a UTC day; the 101st is Zoom's
// daily limit, which waits for 00:00 UTC.
func TestHostDailyMeetingLimit(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{LightPerSecond: 1000, MediumPerSecond: 1000, Retries: 1})
	ctx := context.Background()
	host := e.fake.AddUser(zoomtest.User{Email: "busy@shop.example", Type: 2})
	start := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	first, err := e.client.CreateMeeting(ctx, host.Email, rules.Meeting, zoom.MeetingSpec{Topic: "M0", Start: start, Duration: 30})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < zoomtest.HostDailyLimit; i++ {
		if err := e.client.UpdateMeeting(ctx, first.Target, zoom.MeetingSpec{Topic: "M0", Start: start.Add(time.Duration(i) * time.Minute), Duration: 30}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if n := e.fake.HostUsedToday(host.Email); n != zoomtest.HostDailyLimit {
		t.Fatalf("the fake counted %d, want %d", n, zoomtest.HostDailyLimit)
	}
	_, err = e.client.CreateMeeting(ctx, host.Email, rules.Meeting, zoom.MeetingSpec{Topic: "one too many", Start: start, Duration: 30})
	if !errors.Is(err, rules.ErrRateLimited) {
		t.Fatalf("the 101st create or update: %v, want Zoom's daily limit", err)
	}
	if at, ok := rules.RetryAt(err); !ok || at.Hour() != 0 || at.Minute() != 0 || !at.After(time.Now()) {
		t.Errorf("retry at %v (%v), want the next 00:00 UTC", at, ok)
	}
}

// A host's meetings are listed with their agenda, where woozoom finds a
// meeting whose create answer it lost; daily series are made as Zoom makes
// them.
func TestHostMeetingsAndDailySeries(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{LightPerSecond: 100, MediumPerSecond: 100, Retries: 1})
	ctx := context.Background()
	host := e.fake.AddUser(zoomtest.User{Email: "host@shop.example", Type: 2})
	other := e.fake.AddUser(zoomtest.User{Email: "other@shop.example", Type: 2})
	start := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	days, err := e.client.CreateMeeting(ctx, host.Email, rules.Meeting, zoom.MeetingSpec{Topic: "Course", Start: start, Duration: 90, Daily: 3, Agenda: "woozoom ref p7d0-abc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(days.Occurrences) != 3 || !days.Occurrences[2].Equal(start.AddDate(0, 0, 2)) {
		t.Errorf("daily series: %v", days.Occurrences)
	}
	if _, err := e.client.CreateMeeting(ctx, other.Email, rules.Meeting, zoom.MeetingSpec{Topic: "Not the host's", Start: start}); err != nil {
		t.Fatal(err)
	}
	web, err := e.client.CreateMeeting(ctx, host.Email, rules.Webinar, zoom.MeetingSpec{Topic: "Talk", Start: start, Agenda: "woozoom ref p8d0-def"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.client.HostMeetings(ctx, host.Email, rules.Meeting)
	if err != nil || len(list) != 1 || list[0].Target != days.Target || list[0].Agenda != "woozoom ref p7d0-abc" {
		t.Fatalf("the host's meetings: %+v, %v", list, err)
	}
	list, err = e.client.HostMeetings(ctx, host.ID, rules.Webinar)
	if err != nil || len(list) != 1 || list[0].Target != web.Target {
		t.Fatalf("the host's webinars: %+v, %v", list, err)
	}
	if _, err := e.client.HostMeetings(ctx, "nobody@shop.example", rules.Meeting); !errors.Is(err, rules.ErrPermanent) {
		t.Errorf("an unknown host: %v", err)
	}
	if _, err := e.client.CreateMeeting(ctx, host.Email, rules.Meeting, zoom.MeetingSpec{Topic: strings.Repeat("x", 201)}); !errors.Is(err, rules.ErrPermanent) {
		t.Errorf("a topic over 200 characters: %v", err)
	}
}
