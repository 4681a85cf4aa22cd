package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

const zoomHookSecret = "zoom-event-secret-e2e"

func (e *e2e) notesWith(id int64, customer bool, part string) int {
	n := 0
	for _, note := range e.shop.Notes(id) {
		if note.Customer == customer && strings.Contains(note.Note, part) {
			n++
		}
	}
	return n
}

func (e *e2e) metaEntries(id int64) []orders.MetaEntry {
	v, ok := e.shop.Meta(id, orders.MetaKey)
	if !ok {
		return nil
	}
	b, _ := json.Marshal(v)
	var out []orders.MetaEntry
	_ = json.Unmarshal(b, &out)
	return out
}

// webhooksHere points the shop's webhooks and Zoom's events at the server
// as it now listens (serveWith starts it on a new port).
func (e *e2e) webhooksHere() {
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	e.zoom.SetWebhook(e.url+"/webhooks/zoom", zoomHookSecret)
}

// jobsDone counts the jobs of a topic the server's log says are done.
func (e *e2e) jobsDone(topic string) int {
	n := 0
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, `msg="job done"`) && strings.Contains(l, "topic="+topic+" ") {
			n++
		}
	}
	return n
}

func (e *e2e) settled() bool {
	c := e.jobCounts()
	return e.shop.Pending() == 0 && c[rules.JobQueued]+c[rules.JobRunning] == 0
}

// What a host does in Zoom reaches the shop: a cancelled attendee loses the
// link and is not approved again by woozoom until an admin restores them;
// a moved webinar is written back; a deleted meeting parks new work with
// the reason and tells staff.
func TestZoomEventsEndToEnd(t *testing.T) {
	e := startE2E(t)
	e.serveWith(func(cfg string) string {
		return strings.Replace(cfg, "zoom:\n", "zoom:\n  webhook_secret_token: "+zoomHookSecret+"\n", 1)
	})
	e.webhooksHere()

	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org", Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	e.eventually("registered on both", func() bool { return len(e.metaEntries(id)) == 2 && e.settled() })

	// Zoom's other registration events change nothing: an app subscribed
	// to registration_created hears of woozoom's own add.
	rita, _ := e.zoom.Registrant(e.meeting, "rita@example.org")
	if code, err := e.zoom.SendEvent("meeting.registration_created", map[string]any{"account_id": "acct-e2e", "object": map[string]any{
		"id": e.meeting, "uuid": "m-uuid==", "topic": "Online guided tour", "host_id": "h1",
		"registrant": map[string]any{"id": rita.ID, "email": rita.Email, "first_name": rita.FirstName, "status": "approved"},
	}}); err != nil || code != http.StatusOK {
		t.Fatalf("registration_created answered %d, %v", code, err)
	}
	e.eventually("the created event worked", func() bool { return e.jobsDone("zoom:meeting.registration_created") == 1 && e.settled() })
	if m := e.metaEntries(id); len(m) != 2 || e.notesWith(id, true, "withdrawn") != 0 || e.zoomStatus(e.meeting, "rita@example.org") != "approved" {
		t.Fatalf("after registration_created the order has %d links and notes %+v", len(m), e.shop.Notes(id))
	}

	// The host cancels Rita on the meeting in Zoom.
	if code, err := e.zoom.HostCancel(e.meeting, "rita@example.org", "host@shop.example", false); err != nil || code != http.StatusOK {
		t.Fatalf("event answered %d, %v", code, err)
	}
	e.eventually("the meeting link leaves the order", func() bool {
		m := e.metaEntries(id)
		return len(m) == 1 && m[0].Type == "webinar" && e.settled()
	})
	if e.notesWith(id, false, fmt.Sprintf("rita@example.org was cancelled on meeting %d in Zoom by host@shop.example", e.meeting)) != 1 {
		t.Errorf("staff note about the cancel: %+v", e.shop.Notes(id))
	}
	if e.notesWith(id, true, "withdrawn by the organiser in Zoom") != 1 {
		t.Errorf("the customer was not told in words: %+v", e.shop.Notes(id))
	}
	regs := e.registrations(id)
	if r := regs[fmt.Sprintf("meeting %d", e.meeting)]; r.State != rules.Failed || !strings.HasPrefix(r.Error, "cancelled in Zoom by host@shop.example") {
		t.Errorf("registration after the host's cancel: %+v", r)
	}
	// Another delivery of the completed order does not approve her again.
	time.Sleep(1100 * time.Millisecond)
	if err := e.shop.SetStatus(id, "completed"); err != nil { // a save in the shop
		t.Fatal(err)
	}
	e.shop.Flush()
	e.eventually("the order's deliveries worked", e.settled)
	if got := e.zoomStatus(e.meeting, "rita@example.org"); got != "denied" {
		t.Fatalf("woozoom re-approved an attendee the host cancelled: %s", got)
	}

	// The admin restores her.
	if out, code := e.cli("registrations", "restore", "--order", fmt.Sprint(id)); code != 0 || !strings.Contains(out, "1 registrations restored") {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	e.eventually("approved again with her link back", func() bool {
		return e.zoomStatus(e.meeting, "rita@example.org") == "approved" && len(e.metaEntries(id)) == 2
	})

	// The webinar moves: the order's meta follows.
	moved := time.Date(2026, 12, 17, 15, 30, 0, 0, time.UTC)
	if code, err := e.zoom.UpdateMeeting(e.webinar, moved, "", "host@shop.example"); err != nil || code != http.StatusOK {
		t.Fatalf("meeting.updated answered %d, %v", code, err)
	}
	e.eventually("the new start written back", func() bool {
		for _, m := range e.metaEntries(id) {
			if m.Type == "webinar" && m.StartTime == "2026-12-17T15:30:00Z" {
				return true
			}
		}
		return false
	})

	// The meeting is deleted in Zoom: staff are told, new orders park.
	if code, err := e.zoom.DeleteMeetingAsHost(e.meeting, "host@shop.example"); err != nil || code != http.StatusOK {
		t.Fatalf("meeting.deleted answered %d, %v", code, err)
	}
	e.eventually("staff told of the deleted meeting", func() bool { return e.notesWith(id, false, "was deleted in Zoom by host@shop.example") == 1 })
	late := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Lou", Email: "lou@example.org", Items: []wootest.Item{{ProductID: 10}}})
	e.eventually("the new order's job parked with the reason", func() bool {
		out, _ := e.cli("jobs", "list", "--failed")
		return strings.Contains(out, fmt.Sprint(late)) && strings.Contains(out, "deleted in Zoom")
	})
	for _, c := range e.zoom.Calls() {
		if strings.Contains(c.Path, fmt.Sprintf("/meetings/%d/registrants", e.meeting)) && c.Status == http.StatusNotFound {
			t.Errorf("woozoom called the deleted meeting: %s %s", c.Method, c.Path)
		}
	}
}

// registrations reads an order's registrations by target.
func (e *e2e) registrations(id int64) map[string]rules.Registration {
	e.t.Helper()
	db, err := store.Open(context.Background(), e.dbFile)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	regs, err := db.Registrations(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]rules.Registration{}
	for _, r := range regs {
		out[r.Target.String()] = r
	}
	return out
}

// A host deletes one occurrence of a series in Zoom: Zoom sends
// meeting.deleted all the same (operation "single"). The series lives on:
// woozoom reads it again and keeps its attendees, with no "no longer work"
// note; new orders still register.
func TestOccurrenceDeletedInZoom(t *testing.T) {
	e := startE2E(t)
	d1 := time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC)
	series := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Drawing week", HostEmail: "host@shop.example", Duration: 90,
		Occurrences: []time.Time{d1, d1.Add(24 * time.Hour), d1.Add(48 * time.Hour)}})
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "zoom:\n", "zoom:\n  webhook_secret_token: "+zoomHookSecret+"\n", 1)
		return cfg + fmt.Sprintf("  - product_id: 21\n    meeting_id: %d\n", series)
	})
	e.webhooksHere()
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Cy", Email: "cy@example.org", Items: []wootest.Item{{ProductID: 21}}})
	e.eventually("registered", func() bool { return e.zoomStatus(series, "cy@example.org") == "approved" && e.settled() })

	if code, err := e.zoom.DeleteOccurrenceAsHost(series, d1.Add(24*time.Hour), "host@shop.example"); err != nil || code != http.StatusOK {
		t.Fatalf("meeting.deleted answered %d, %v", code, err)
	}
	e.eventually("the event worked", func() bool { return e.jobsDone("zoom:meeting.deleted") == 1 && e.settled() })
	if want := fmt.Sprintf("an occurrence of meeting %d deleted in Zoom by host@shop.example: 2 occurrences left", series); !strings.Contains(e.logs.String(), want) {
		t.Errorf("the log does not say %q", want)
	}
	if m := e.metaEntries(id); len(m) != 1 || m[0].JoinURL == "" || e.notesWith(id, false, "no longer work") != 0 {
		t.Errorf("after one occurrence was deleted: meta %+v, notes %+v", m, e.shop.Notes(id))
	}
	next := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Di", Email: "di@example.org", Items: []wootest.Item{{ProductID: 21}}})
	e.eventually("a new order registers", func() bool { return e.zoomStatus(series, "di@example.org") == "approved" && e.settled() })
	if m := e.metaEntries(next); len(m) != 1 {
		t.Errorf("the new order's meta: %+v", m)
	}
}
