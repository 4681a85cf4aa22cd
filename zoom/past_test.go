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
