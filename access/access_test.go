package access_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

func TestDefaultTemplates(t *testing.T) {
	tm, err := access.Parse(access.Config{})
	if err != nil {
		t.Fatal(err)
	}
	n := access.Sample()
	note, err := tm.Note(n)
	if err != nil {
		t.Fatal(err)
	}
	want := "Your Zoom access:\n" +
		"- Online guided tour, Thu 3 Dec 2026 18:00 CET, for Rita Doro: https://zoom.us/w/85746065123?tk=sample (meeting ID 857 4606 5123, passcode Tour42); add to your calendar: https://shop.example/woozoom/calendar/sample.ics\n" +
		"- Restoring paintings, for Ana: https://zoom.us/w/91234567890?tk=sample (webinar ID 912 3456 7890)"
	if note != want {
		t.Errorf("note:\n%s\nwant:\n%s", note, want)
	}
	w, err := tm.Withdrawn(access.Note{Status: "cancelled", Reason: "because the order is cancelled", Entries: n.Entries[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w, "withdrawn because the order is cancelled") || !strings.Contains(w, "Online guided tour, Thu 3 Dec 2026 18:00 CET, for Rita Doro") || strings.Contains(w, "https://") {
		t.Errorf("withdrawn note: %q", w)
	}
	if s, _ := tm.Note(access.Note{}); s != "" {
		t.Errorf("a note of no entries = %q, want none", s)
	}
}

func TestTemplatesOverriddenShopWideAndPerEvent(t *testing.T) {
	webinar := rules.Target{Kind: rules.Webinar, ID: 91234567890}
	tm, err := access.Parse(access.Config{
		Note:   access.Source{Name: "note.tmpl", Text: "Hallo!{{range .Entries}}\n* {{entry .}}{{end}}"},
		Entry:  access.Source{Name: "entry.tmpl", Text: "{{.Topic}} ({{.StartUTC}}, {{.DurationText}}): {{.JoinURL}}"},
		Events: map[rules.Target]access.Source{webinar: {Name: "webinar.tmpl", Text: "Webinar {{.MeetingID}} for {{.Email}}: {{.JoinLinkHTML}}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := access.Sample()
	n.Entries[1].Topic = `Restoring <paintings> & "frames"`
	n.Entries[1].JoinURL = `https://zoom.us/w/912?tk=a&b="x"`
	note, err := tm.Note(n)
	if err != nil {
		t.Fatal(err)
	}
	want := "Hallo!\n" +
		"* Online guided tour (Thu 3 Dec 2026 17:00 UTC, 1 hour): https://zoom.us/w/85746065123?tk=sample\n" +
		`* Webinar 912 3456 7890 for ana@example.org: <a href="https://zoom.us/w/912?tk=a&amp;b=&#34;x&#34;">Restoring &lt;paintings&gt; &amp; &#34;frames&#34;</a>`
	if note != want {
		t.Errorf("note:\n%s\nwant:\n%s", note, want)
	}
}

func TestBrokenTemplateIsRefusedWithItsPosition(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"Hello\n  {{.Name}} {{if}} x", "note.tmpl:2:13: missing value for if"},
		{"Hi {{.Topic}}\n\n{{range .Entries}}{{nofunc .}}{{end}}", `note.tmpl:3:19: function "nofunc" not defined`},
		{"{{.Topic", "note.tmpl:1:1: "},
	} {
		_, err := access.Parse(access.Config{Note: access.Source{Name: "note.tmpl", Text: tc.text}})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
	// A per-event template is checked too.
	_, err := access.Parse(access.Config{Events: map[rules.Target]access.Source{{Kind: rules.Meeting, ID: 1}: {Name: "tour.tmpl", Text: "{{end}}"}}})
	if err == nil || !strings.HasPrefix(err.Error(), "tour.tmpl:1:1:") {
		t.Errorf("broken per-event template: %v", err)
	}
}

func parse(t *testing.T, s string) *ics.Calendar {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(s))
	if err != nil {
		t.Fatalf("the calendar file does not parse: %v\n%s", err, s)
	}
	return cal
}

func prop(ev *ics.VEvent, p ics.ComponentProperty) string {
	if v := ev.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func TestCalendarFile(t *testing.T) {
	e := access.Sample().Entries[0]
	c := access.CalendarEvent{Entry: e, Reminders: access.DefaultReminders, Stamp: time.Now(), Host: "shop.example"}
	text, err := access.Calendar(c)
	if err != nil {
		t.Fatal(err)
	}
	cal := parse(t, text)
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	uid := ev.Id()
	if !strings.HasPrefix(uid, "meeting-85746065123-") || !strings.HasSuffix(uid, "@shop.example") {
		t.Errorf("UID = %q", uid)
	}
	if got := prop(ev, ics.ComponentPropertyLocation); got != e.JoinURL {
		t.Errorf("LOCATION = %q", got)
	}
	if got := prop(ev, ics.ComponentPropertyUrl); got != e.JoinURL {
		t.Errorf("URL = %q", got)
	}
	if got := prop(ev, ics.ComponentPropertyDtStart); got != "20261203T170000Z" {
		t.Errorf("DTSTART = %q", got)
	}
	if got := prop(ev, ics.ComponentPropertyDtEnd); got != "20261203T180000Z" {
		t.Errorf("DTEND = %q", got)
	}
	var triggers []string
	for _, a := range ev.Alarms() {
		triggers = append(triggers, a.GetProperty(ics.ComponentPropertyTrigger).Value)
	}
	if strings.Join(triggers, ",") != "-P7D,-P1D,-PT1H" {
		t.Errorf("alarms = %v, want a week, a day and an hour before", triggers)
	}
	if got := prop(ev, ics.ComponentPropertySequence); got != "0" {
		t.Errorf("SEQUENCE = %q", got)
	}

	// Moved: the same UID with a higher SEQUENCE. The same email typed
	// otherwise is the same attendee.
	c.Start, c.Sequence, c.Email = c.Start.Add(24*time.Hour), 1, "RITA.DORO@EXAMPLE.ORG "
	moved := parse(t, mustCalendar(t, c)).Events()[0]
	if moved.Id() != uid || prop(moved, ics.ComponentPropertySequence) != "1" || prop(moved, ics.ComponentPropertyDtStart) != "20261204T170000Z" {
		t.Errorf("moved: UID %q SEQUENCE %q DTSTART %q", moved.Id(), prop(moved, ics.ComponentPropertySequence), prop(moved, ics.ComponentPropertyDtStart))
	}
	// Cancelled: the same event, CANCELLED, no alarms.
	c.Cancelled = true
	gone := parse(t, mustCalendar(t, c)).Events()[0]
	if gone.Id() != uid || prop(gone, ics.ComponentPropertyStatus) != "CANCELLED" || len(gone.Alarms()) != 0 {
		t.Errorf("cancelled: UID %q STATUS %q, %d alarms", gone.Id(), prop(gone, ics.ComponentPropertyStatus), len(gone.Alarms()))
	}
	// A recurring meeting: the occurrences registered for, each its own.
	c.Cancelled = false
	c.Occurrences = []time.Time{e.Start, e.Start.Add(7 * 24 * time.Hour)}
	occ := parse(t, mustCalendar(t, c)).Events()
	if len(occ) != 2 || occ[0].Id() == occ[1].Id() || prop(occ[1], ics.ComponentPropertyDtStart) != "20261210T170000Z" {
		t.Errorf("occurrences: %d events", len(occ))
	}
	// No start, no calendar entry.
	if _, err := access.Calendar(access.CalendarEvent{Entry: access.Sample().Entries[1]}); err == nil {
		t.Error("a calendar file for an event with no fixed time")
	}
}

func mustCalendar(t *testing.T, c access.CalendarEvent) string {
	t.Helper()
	s, err := access.Calendar(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The file of a registration on chosen occurrences of a recurring meeting
// lists those occurrences; an unknown token leads nowhere.
func TestCalendarsOfRecurringMeeting(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := rules.Target{Kind: rules.Meeting, ID: 81234560003}
	if _, err := db.AddMapping(ctx, rules.Mapping{ProductID: 870, Target: m, Occurrences: "1765558800000,1764954000000"}, store.FromCLI); err != nil {
		t.Fatal(err)
	}
	r := rules.Registration{OrderID: 5, ProductID: 870, Target: m, Attendee: rules.Person{FirstName: "Mo", Email: "mo@example.org"}, State: rules.Active}
	if err := db.SaveRegistrations(ctx, []rules.Registration{r}); err != nil {
		t.Fatal(err)
	}
	db.SaveSeats(ctx, rules.Seat{SeatKey: r.Key(), RegistrantID: "x", JoinURL: "https://zoom.us/w/81234560003?tk=mo", Status: rules.SeatApproved})
	db.SaveTargetDetails(ctx, rules.TargetDetails{Target: m, Topic: "Evening series", StartTime: time.UnixMilli(1764349200000).UTC(), Duration: 60})
	token, err := db.CalendarToken(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	c := &access.Calendars{Store: db, Reminders: access.DefaultReminders, Host: "shop.example"}
	text, err := c.File(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	evs := parse(t, text).Events()
	if len(evs) != 2 || prop(evs[0], ics.ComponentPropertyDtStart) != "20251205T170000Z" || prop(evs[1], ics.ComponentPropertyDtStart) != "20251212T170000Z" {
		var got []string
		for _, e := range evs {
			got = append(got, prop(e, ics.ComponentPropertyDtStart))
		}
		t.Errorf("occurrences in the file: %v, want the two registered for", got)
	}
	// A product mapped to the whole series gets every occurrence Zoom lists.
	whole := rules.Registration{OrderID: 6, ProductID: 871, Target: m, Attendee: rules.Person{FirstName: "Al", Email: "al@example.org"}, State: rules.Active}
	db.AddMapping(ctx, rules.Mapping{ProductID: 871, Target: m}, store.FromCLI)
	db.SaveRegistrations(ctx, []rules.Registration{whole})
	db.SaveSeats(ctx, rules.Seat{SeatKey: whole.Key(), RegistrantID: "y", JoinURL: "https://zoom.us/w/81234560003?tk=al", Status: rules.SeatApproved})
	series := []time.Time{time.UnixMilli(1764349200000).UTC(), time.UnixMilli(1764954000000).UTC(), time.UnixMilli(1765558800000).UTC()}
	db.SaveTargetDetails(ctx, rules.TargetDetails{Target: m, Topic: "Evening series", StartTime: series[0], Duration: 60, Occurrences: series})
	wtoken, _ := db.CalendarToken(ctx, whole)
	wtext, err := c.File(ctx, wtoken)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(parse(t, wtext).Events()); n != 3 {
		t.Errorf("the whole series: %d events, want 3", n)
	}
	if _, err := c.File(ctx, "unknown"); !errors.Is(err, access.ErrNoCalendar) {
		t.Errorf("unknown token: %v", err)
	}
}

// Values from orders are escaped in the notes WooCommerce e-mails as HTML,
// by the default templates and a shop's own alike; control characters are
// dropped everywhere, and the meta stays plain text.
func TestBuyerTextIsNeverHTMLInANote(t *testing.T) {
	custom := access.Source{Name: "mine.tmpl", Text: `<p>Hello {{(index .Entries 0).FirstName}}</p>{{range .Entries}}<p>{{entry .}} {{.JoinLinkHTML}}</p>{{end}}`}
	for name, cfg := range map[string]access.Config{"default": {}, "custom": {Note: custom}} {
		tm, err := access.Parse(cfg)
		if err != nil {
			t.Fatal(err)
		}
		n := access.Sample()
		n.Entries[0].FirstName = `<a href="https://evil.example/">Join</a>`
		n.Entries[0].LastName = "Doro\r\nBcc: all@example.org<script>alert(1)</script>"
		n.Entries[0].Topic = "Tour & <b>talk</b>"
		note, err := tm.Note(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{`<a href="https://evil.example/">`, "<script>", "<b>", "\r"} {
			if strings.Contains(note, bad) {
				t.Errorf("%s note carries %q:\n%s", name, bad, note)
			}
		}
		for _, want := range []string{`&lt;a href=&#34;https://evil.example/&#34;&gt;Join&lt;/a&gt;`, "DoroBcc: all@example.org&lt;script&gt;", "Tour &amp; &lt;b&gt;talk&lt;/b&gt;"} {
			if !strings.Contains(note, want) {
				t.Errorf("%s note does not show %q escaped:\n%s", name, want, note)
			}
		}
		if name == "custom" && !strings.Contains(note, `<a href="https://zoom.us/w/85746065123?tk=sample">Tour &amp; &lt;b&gt;talk&lt;/b&gt;</a>`) {
			t.Errorf("the join link's anchor is lost or double-escaped:\n%s", note)
		}
		if name == "default" && strings.Count(note, "\n") != len(n.Entries) {
			t.Errorf("a name started a line of its own:\n%s", note)
		}
		w, err := tm.Withdrawn(access.Note{Status: "cancelled", Reason: "because the order is cancelled", Entries: n.Entries[:1]})
		if err != nil || strings.Contains(w, "<script>") || strings.Contains(w, "\r") || !strings.Contains(w, "&lt;script&gt;") {
			t.Errorf("%s withdrawn note: %q, %v", name, w, err)
		}
		meta, err := tm.Meta(n)
		if err != nil || !strings.Contains(meta, `for <a href="https://evil.example/">Join</a> DoroBcc: all@example.org<script>`) || strings.Contains(meta, "\r") {
			t.Errorf("%s meta is not the name as typed, on one line: %q, %v", name, meta, err)
		}
	}
	// A template html/template cannot escape (a string left open in a
	// script) is refused at start, not when the first order meets it.
	if _, err := access.Parse(access.Config{Note: access.Source{Name: "js.tmpl", Text: `<script>var n = "{{range .Entries}}{{.FirstName}}{{end}}</script>`}}); err == nil || !strings.Contains(err.Error(), "js.tmpl") {
		t.Errorf("a template that cannot be escaped: %v, want refused naming its file", err)
	}
}

// A CR in a name does not survive into the calendar file, whose lines end
// in CRLF as RFC 5545 requires; the file parses back.
func TestCalendarFileHasNoControlCharacters(t *testing.T) {
	e := access.Sample().Entries[0]
	e.FirstName = "Rita\rSUMMARY:Free money"
	e.Topic = "Tour\r\nATTENDEE:mailto:x@evil.example"
	text, err := access.Calendar(access.CalendarEvent{Entry: e, Stamp: time.Now(), Reminders: access.DefaultReminders})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text, "\r\n")
	if lines[len(lines)-1] != "" {
		t.Errorf("the file does not end in CRLF")
	}
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d holds a bare CR or LF: %q", i+1, l)
		}
	}
	cal, err := ics.ParseCalendar(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	ev := cal.Events()[0]
	if got := ev.GetProperty(ics.ComponentPropertySummary).Value; got != "TourATTENDEE:mailto:x@evil.example" {
		t.Errorf("summary = %q", got)
	}
	if ev.GetProperty(ics.ComponentPropertyAttendee) != nil || len(cal.Events()) != 1 {
		t.Error("a name made a property of its own")
	}
	if d := ev.GetProperty(ics.ComponentPropertyDescription).Value; !strings.Contains(d, `RitaSUMMARY:Free money`) {
		t.Errorf("description = %q", d)
	}
}

func TestFormatID(t *testing.T) {
	for in, want := range map[string]string{"85746065123": "857 4606 5123", "1234567890": "123 456 7890", "12": "12"} {
		if got := access.FormatID(in); got != want {
			t.Errorf("FormatID(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestThanksTemplate(t *testing.T) {
	none, err := access.Parse(access.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := none.Thanks(access.SampleAttended()); ok || err != nil {
		t.Errorf("no thanks template: ok %v, %v; want no note", ok, err)
	}
	tm, err := access.Parse(access.Config{Thanks: access.Source{Name: "thanks.html", Text: `Thank you, {{.Name}}{{if .Attended}}: {{.Minutes}} minutes in {{.Topic}}{{end}}.`}})
	if err != nil {
		t.Fatal(err)
	}
	a := access.SampleAttended()
	a.FirstName, a.Topic = "<b>Rita</b>", "Tour of the <vaults>\r\n"
	note, ok, err := tm.Thanks(a)
	if err != nil || !ok || note != "Thank you, &lt;b&gt;Rita&lt;/b&gt; Doro: 55 minutes in Tour of the &lt;vaults&gt;." {
		t.Errorf("thanks note = %q, %v, %v", note, ok, err)
	}
	if _, err := access.Parse(access.Config{Thanks: access.Source{Name: "thanks.html", Text: `{{.Certificate}}`}}); err == nil || !strings.Contains(err.Error(), "thanks.html") {
		t.Errorf("a template naming a field attendees lack: %v", err)
	}
}
