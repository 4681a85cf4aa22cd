package zoom_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// An ended webinar's participants, read page by page (more than one page of
// 300), by a UUID that must be encoded twice; before Zoom has the report,
// a temporary error.
func TestParticipantsOfAnEndedWebinar(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	id := e.fake.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Restoring paintings", HostEmail: "host@shop.example", Duration: 90})
	webinar := rules.Target{Kind: rules.Webinar, ID: id}
	start := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	var parts []zoomtest.PastParticipant
	for i := range 650 {
		parts = append(parts, zoomtest.PastParticipant{Name: fmt.Sprintf("P%d", i), Email: fmt.Sprintf("p%d@example.org", i),
			RegistrantID: fmt.Sprintf("r%d", i), Join: start, Leave: start.Add(time.Duration(i) * time.Second)})
	}
	parts = append(parts, zoomtest.PastParticipant{Name: "Guest", Join: start, Leave: start.Add(time.Minute)})
	const uuid = "/ajXp112QmuoKj4854875==" // begins with "/": encoded twice
	if _, err := e.fake.EndMeeting(id, uuid, time.Hour, parts...); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Participants(ctx, webinar, uuid); !errors.Is(err, zoom.ErrReportNotReady) || !errors.Is(err, rules.ErrTemporary) {
		t.Fatalf("before the report is ready: %v, want a temporary not-ready error", err)
	}
	e.fake.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	got, err := e.client.Participants(ctx, webinar, uuid)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(parts) {
		t.Fatalf("%d participants, want %d", len(got), len(parts))
	}
	if p := got[649]; p.RegistrantID != "r649" || p.Email != "p649@example.org" || !p.Leave.Equal(start.Add(649*time.Second)) {
		t.Errorf("participant 649 = %+v", p)
	}
	if p := got[650]; p.Name != "Guest" || p.Email != "" || p.RegistrantID != "" {
		t.Errorf("the guest = %+v", p)
	}
	if _, err := e.client.Participants(ctx, rules.Target{Kind: rules.Meeting, ID: id}, uuid); !errors.Is(err, zoom.ErrReportNotReady) {
		t.Errorf("a webinar's instance asked as a meeting's: %v", err)
	}
	// Over, the webinar takes no one more: Zoom's 3038 refuses the
	// attendee (no retry), with Zoom's words.
	_, err = e.client.AddRegistrant(ctx, webinar, rules.Person{Email: "late@example.org", FirstName: "Late"}, "")
	if !errors.Is(err, rules.ErrInvalidAttendee) || !strings.Contains(err.Error(), "Webinar is over") {
		t.Errorf("registering on the ended webinar: %v, want the attendee refused as over", err)
	}
}

func TestPastInstancePath(t *testing.T) {
	for uuid, want := range map[string]string{
		"4444AAAiAAAAAiAiAiiAii==": "4444AAAiAAAAAiAiAiiAii==",
		"/ajXp112QmuoKj4854875==":  "%252FajXp112QmuoKj4854875==",
		"abc//def==":               "abc%252F%252Fdef==",
		"abc/def==":                "abc%2Fdef==",
	} {
		if got := zoom.PastInstancePath(uuid); got != want {
			t.Errorf("PastInstancePath(%q) = %q, want %q", uuid, got, want)
		}
	}
}

// A series' recordings, one per instance: read by the instance's UUID
// (encoded twice where it must be) with its start, or by the meeting id for
// the latest; none is Zoom's 3301, taken as no recording.
func TestRecordingOfAnInstance(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	d1 := time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC)
	id := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Drawing week", HostEmail: "host@shop.example", Duration: 90,
		Occurrences: []time.Time{d1, d1.Add(24 * time.Hour)}})
	series := rules.Target{Kind: rules.Meeting, ID: id}
	if _, err := e.client.Recording(ctx, series, ""); !errors.Is(err, zoom.ErrNoRecording) {
		t.Fatalf("before any recording: %v, want ErrNoRecording", err)
	}
	for i, uuid := range []string{"/day1//x==", "day2+y=="} {
		at := d1.Add(time.Duration(i)*24*time.Hour + time.Minute)
		if _, err := e.fake.EndMeeting(id, uuid, 0, zoomtest.PastParticipant{Name: "Cy", Email: "cy@example.org", Join: at, Leave: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.fake.CompleteRecording(id, uuid, fmt.Sprintf("https://zoom.us/rec/share/%d", i+1), "pw"); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.client.Recording(ctx, series, "/day1//x==")
	if err != nil || r.Instance != "/day1//x==" || r.ShareURL != "https://zoom.us/rec/share/1" || r.Passcode != "pw" || !r.Start.Equal(d1.Add(time.Minute)) {
		t.Errorf("day one's recording = %+v, %v", r, err)
	}
	if r, err := e.client.Recording(ctx, series, ""); err != nil || r.Instance != "day2+y==" || r.ShareURL != "https://zoom.us/rec/share/2" {
		t.Errorf("the latest recording = %+v, %v", r, err)
	}
	if _, err := e.fake.DeleteRecording(id, "/day1//x=="); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Recording(ctx, series, "/day1//x=="); !errors.Is(err, zoom.ErrNoRecording) {
		t.Errorf("a deleted recording: %v, want ErrNoRecording", err)
	}
}
