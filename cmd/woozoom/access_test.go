package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/woozoom/woozoom/woo/wootest"
)

// The shop's own templates write the note, per event where it says so;
// every attendee gets a calendar link that serves the event, and CANCELLED
// once the order is cancelled.
func TestTemplatesAndCalendarLinks(t *testing.T) {
	e := startE2E(t)
	dir := t.TempDir()
	note := filepath.Join(dir, "note.tmpl")
	webinar := filepath.Join(dir, "webinar.tmpl")
	if err := os.WriteFile(note, []byte("Hallo {{(index .Entries 0).FirstName}}!{{range .Entries}}\n* {{entry .}}{{end}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(webinar, []byte("Webinar {{.Topic}} ({{.MeetingID}}): {{.JoinURL}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, fmt.Sprintf("    webinar_id: %d\n", e.webinar), fmt.Sprintf("    webinar_id: %d\n    note_template: %s\n", e.webinar, webinar), 1)
		return cfg + fmt.Sprintf("templates:\n  note: %s\ncalendar:\n  url: https://shop.example/woozoom\n", note)
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org", Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	var text string
	e.eventually("the note is written", func() bool {
		for _, n := range e.shop.Notes(id) {
			if n.Customer {
				text = n.Note
				return true
			}
		}
		return false
	})
	if !strings.HasPrefix(text, "Hallo Rita!\n* Online guided tour, Thu 3 Dec 2026 19:00 CET, for Rita: https://") {
		t.Errorf("note from the shop's template:\n%s", text)
	}
	if !strings.Contains(text, "* Webinar Restoring paintings (") {
		t.Errorf("the webinar's own template was not used:\n%s", text)
	}
	link := regexp.MustCompile(`https://shop\.example/woozoom/calendar/([A-Za-z0-9_-]+)\.ics`).FindStringSubmatch(text)
	if link == nil {
		t.Fatalf("no calendar link in the note:\n%s", text)
	}
	fetch := func() *ics.VEvent {
		t.Helper()
		resp, err := http.Get(e.url + "/calendar/" + link[1] + ".ics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("calendar file: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		cal, err := ics.ParseCalendar(strings.NewReader(string(body)))
		if err != nil || len(cal.Events()) != 1 {
			t.Fatalf("calendar file does not parse to one event (%v):\n%s", err, body)
		}
		return cal.Events()[0]
	}
	ev := fetch()
	if got := ev.GetProperty(ics.ComponentPropertyDtStart).Value; got != "20261203T180000Z" {
		t.Errorf("DTSTART %s", got)
	}
	if loc := ev.GetProperty(ics.ComponentPropertyLocation).Value; !strings.HasPrefix(loc, "https://") || !strings.Contains(text, loc) {
		t.Errorf("LOCATION %q is not the attendee's join link", loc)
	}
	if n := len(ev.Alarms()); n != 3 {
		t.Errorf("%d alarms, want 3", n)
	}
	for _, bad := range []string{"/calendar/nope.ics", "/calendar/" + link[1], "/calendar/.ics"} {
		if code, _ := get(t, e.url+bad); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, code)
		}
	}

	time.Sleep(1100 * time.Millisecond)
	if err := e.shop.SetStatus(id, "cancelled"); err != nil {
		t.Fatal(err)
	}
	e.eventually("the registration is cancelled", func() bool { return e.zoomStatus(e.meeting, "rita@example.org") == "denied" })
	e.eventually("the calendar file says CANCELLED", func() bool {
		return fetch().GetProperty(ics.ComponentPropertyStatus).Value == "CANCELLED"
	})
}

// A broken template stops woozoom from starting, naming its file, line and
// column.
func TestBrokenTemplateRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "note.tmpl")
	if err := os.WriteFile(tmpl, []byte("Your links:\n{{range .Entries}}- {{entry .}}{{end}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("listen: 127.0.0.1:0\ndatabase: %s\ntemplates:\n  note: %s\n", filepath.Join(dir, "w.db"), tmpl)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve", "--config", cfg}, &out, &out)
	if code == 0 || !strings.Contains(out.String(), tmpl+":2:") {
		t.Logf("%s", out.String())
		t.Errorf("serve with a broken template: exit %d\n%s", code, out.String())
	}
}

// An event held at a link (Jitsi here) goes through the same notes, meta
// and calendar file, with no Zoom call; cancelling takes the link back.
func TestLinkEventEndToEnd(t *testing.T) {
	e := startE2E(t)
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "events:\n", `events:
  - product_id: 13
    link: https://meet.jit.si/woozoom-restoration-class
    passcode: paint42
    topic: Restoration class
    start: "2026-12-05T10:00:00+01:00"
    duration: 90
    timezone: Europe/Berlin
`, 1)
		return cfg + "calendar:\n  url: https://shop.example/woozoom\n"
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	// Zoom is asked about the mapped meetings at start; a link event makes
	// no registrant call.
	registrantCalls := func() int {
		n := 0
		for _, c := range e.zoom.Calls() {
			if strings.Contains(c.Path, "/registrants") {
				n++
			}
		}
		return n
	}
	calls := registrantCalls()
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Lia", Email: "lia@example.org", Items: []wootest.Item{{ProductID: 13}}})
	var note string
	e.eventually("the link is written back", func() bool {
		for _, n := range e.shop.Notes(id) {
			if n.Customer {
				note = n.Note
			}
		}
		return note != "" && len(e.metaEntries(id)) == 1 && e.settled()
	})
	if !strings.HasPrefix(note, "Your access:\n- Restoration class, Sat 5 Dec 2026 10:00 CET, for Lia: https://meet.jit.si/woozoom-restoration-class (passcode paint42)") {
		t.Errorf("note:\n%s", note)
	}
	if m := e.metaEntries(id)[0]; m.Type != "link" || m.JoinURL != "https://meet.jit.si/woozoom-restoration-class" || m.ID != "" || m.CalendarURL == "" {
		t.Errorf("meta entry: %+v", m)
	}
	link := regexp.MustCompile(`/calendar/([A-Za-z0-9_-]+)\.ics`).FindStringSubmatch(e.metaEntries(id)[0].CalendarURL)
	code, body := get(t, e.url+"/calendar/"+link[1]+".ics")
	if code != http.StatusOK || !strings.Contains(body, "DTSTART:20261205T090000Z") || !strings.Contains(body, "LOCATION:https://meet.jit.si/woozoom-restoration-class") {
		t.Errorf("calendar file: %d\n%s", code, body)
	}
	if n := registrantCalls() - calls; n != 0 {
		t.Errorf("%d Zoom registrant calls for an event held at a link", n)
	}

	time.Sleep(1100 * time.Millisecond)
	if err := e.shop.SetStatus(id, "cancelled"); err != nil {
		t.Fatal(err)
	}
	e.eventually("the link is taken back", func() bool { return len(e.metaEntries(id)) == 0 && e.settled() })
	if e.notesWith(id, true, "withdrawn because the order is cancelled") != 1 {
		t.Errorf("no withdrawn note: %+v", e.shop.Notes(id))
	}
	if code, body := get(t, e.url+"/calendar/"+link[1]+".ics"); code != http.StatusOK || !strings.Contains(body, "STATUS:CANCELLED") {
		t.Errorf("calendar file after cancel: %d\n%s", code, body)
	}
	if n := registrantCalls() - calls; n != 0 {
		t.Errorf("%d Zoom registrant calls for an event held at a link", n)
	}
}

// A link event without a topic is called by the name of the product it was
// bought as, read from the shop: in the note, the meta and the calendar
// file, and again after a restart.
func TestLinkEventNamedByItsProduct(t *testing.T) {
	e := startE2E(t)
	product := e.shop.CreateProduct(wootest.Product{Name: "Watercolour basics"})
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "events:\n", fmt.Sprintf(`events:
  - product_id: %d
    link: https://meet.jit.si/woozoom-watercolour
    start: "2026-12-06T10:00:00+01:00"
    duration: 60
`, product), 1)
		return cfg + "calendar:\n  url: https://shop.example/woozoom\n"
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Lia", Email: "lia@example.org", Items: []wootest.Item{{ProductID: product}}})
	e.eventually("the link is written back", func() bool { return len(e.metaEntries(id)) == 1 && e.settled() })
	if e.notesWith(id, true, "- Watercolour basics, Sun 6 Dec 2026 09:00 UTC, for Lia: https://meet.jit.si/woozoom-watercolour") != 1 {
		t.Errorf("the note does not call the event by its product's name: %+v", e.shop.Notes(id))
	}
	if m := e.metaEntries(id)[0]; m.Topic != "Watercolour basics" {
		t.Errorf("meta topic %q", m.Topic)
	}
	calendar := func() string {
		link := regexp.MustCompile(`/calendar/([A-Za-z0-9_-]+)\.ics`).FindStringSubmatch(e.metaEntries(id)[0].CalendarURL)
		_, body := get(t, e.url+"/calendar/"+link[1]+".ics")
		return body
	}
	if body := calendar(); !strings.Contains(body, "SUMMARY:Watercolour basics") {
		t.Errorf("calendar file:\n%s", body)
	}
	e.serveWith(func(cfg string) string { return cfg })
	if body := calendar(); !strings.Contains(body, "SUMMARY:Watercolour basics") || !strings.Contains(body, "SEQUENCE:1") {
		t.Errorf("calendar file after a restart (renamed, or its sequence raised):\n%s", body)
	}
}
