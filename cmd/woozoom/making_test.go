package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/meetings"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

const eventsHost = "events@shop.example"

// fooEvent is the meta FooEvents keeps on a product: a date, start and
// end in the site's 12-hour format, and the zone.
func fooEvent(date string, hour, minutes, endHour string, extra ...wootest.Meta) []wootest.Meta {
	return append([]wootest.Meta{
		{Key: "WooCommerceEventsEvent", Value: "Event"},
		{Key: "WooCommerceEventsDate", Value: date},
		{Key: "WooCommerceEventsHour", Value: hour},
		{Key: "WooCommerceEventsMinutes", Value: minutes},
		{Key: "WooCommerceEventsPeriod", Value: "p.m."},
		{Key: "WooCommerceEventsHourEnd", Value: endHour},
		{Key: "WooCommerceEventsMinutesEnd", Value: "30"},
		{Key: "WooCommerceEventsEndPeriod", Value: "p.m."},
		{Key: "WooCommerceEventsTimeZone", Value: "Europe/Berlin"},
	}, extra...)
}

// serveMaking restarts the server with events entries that make meetings
// (and zoom settings) added, and points the shop's webhooks at it; with
// products, the shop delivers product topics too.
func (e *e2e) serveMaking(entries, zoomSettings string, products bool) {
	e.t.Helper()
	if len(e.zoom.MeetingsOf(eventsHost)) == 0 {
		e.zoom.AddUser(zoomtest.User{Email: eventsHost, FirstName: "Events", Type: 2})
	}
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "events:\n", "events:\n"+entries, 1)
		return strings.Replace(cfg, "zoom:\n", "zoom:\n"+zoomSettings, 1)
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	if products {
		e.shop.AddWebhook(e.url+"/webhooks/woocommerce", e.secret, "product.created", "product.updated", "product.deleted", "product.restored")
	}
}

func createEntry(product int64, kind string, extra ...string) string {
	s := fmt.Sprintf("  - product_id: %d\n    create: %s\n    host: %s\n", product, kind, eventsHost)
	for _, x := range extra {
		s += "    " + x + "\n"
	}
	return s
}

// madeMeetings reads the product's _woozoom_meetings meta.
func (e *e2e) madeMeetings(product int64) []meetings.MadeEntry {
	v, ok := e.shop.ProductMeta(product, meetings.MeetingsMetaKey)
	if !ok {
		return nil
	}
	var raw []byte
	switch x := v.(type) {
	case string:
		raw = []byte(x)
	default:
		raw, _ = json.Marshal(x)
	}
	var out []meetings.MadeEntry
	_ = json.Unmarshal(raw, &out)
	return out
}

func (e *e2e) zoomCalls(method, pathPart string) int {
	n := 0
	for _, c := range e.zoom.Calls() {
		if c.Method == method && strings.Contains(c.Path, pathPart) && c.Status < 400 {
			n++
		}
	}
	return n
}

// A product's meeting is made when its first order arrives before the
// product's own delivery, kept in step with the product (renamed, moved,
// an unchanged save sends nothing), deleted with a reminder when the
// product is trashed, and made again with its attendees when restored.
func TestMeetingMadeFromProductFollowsIt(t *testing.T) {
	e := startE2E(t)
	product := e.shop.CreateProduct(wootest.Product{Name: "Online guided tour", Meta: fooEvent("December 10, 2026", "6", "00", "7")})
	e.serveMaking(createEntry(product, "meeting"), "", false)
	// The order comes first: the product webhook is added only after it.
	order := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org", Items: []wootest.Item{{ProductID: product}}})
	e.eventually("the order registered on a meeting made for it", func() bool { return len(e.metaEntries(order)) == 1 && e.settled() })
	ids := e.zoom.MeetingsOf(eventsHost)
	if len(ids) != 1 {
		t.Fatalf("meetings of the host: %v, want one", ids)
	}
	m, _ := e.zoom.Meeting(ids[0])
	if m.Topic != "Online guided tour" || !m.StartTime.Equal(time.Date(2026, 12, 10, 17, 0, 0, 0, time.UTC)) || m.Duration != 90 ||
		m.Timezone != "Europe/Berlin" || m.ApprovalType != 0 || m.Password == "" || !strings.HasPrefix(m.Agenda, "woozoom ref p") {
		t.Errorf("the meeting made: %+v", m)
	}
	if e.zoomStatus(ids[0], "rita@example.org") != "approved" {
		t.Error("Rita is not approved on the made meeting")
	}
	e.shop.AddWebhook(e.url+"/webhooks/woocommerce", e.secret, "product.created", "product.updated", "product.deleted", "product.restored")
	e.eventually("the product shows its meeting", func() bool {
		mm := e.madeMeetings(product)
		return len(mm) == 1 && mm[0].ID == ids[0] && mm[0].Type == "meeting" && e.settled()
	})
	if out, code := e.cli("map", "list"); code != 0 || !strings.Contains(out, fmt.Sprint(ids[0])) || !strings.Contains(out, "made") {
		t.Errorf("map list does not show the made meeting:\n%s", out)
	}
	if out, code := e.cli("map", "remove", "--product", fmt.Sprint(product), "--meeting", fmt.Sprint(ids[0])); code == 0 || !strings.Contains(out, "woozoom made this meeting from the product") {
		t.Errorf("map remove of a made meeting: exit %d\n%s", code, out)
	}

	// Renamed: one PATCH, the order's meta follows.
	patches := e.zoomCalls(http.MethodPatch, "/meetings/")
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Name = "Online guided tour of the vaults" })
	e.eventually("the meeting renamed and written back", func() bool {
		m, _ := e.zoom.Meeting(ids[0])
		me := e.metaEntries(order)
		return m.Topic == "Online guided tour of the vaults" && len(me) == 1 && me[0].Topic == m.Topic && e.settled()
	})
	// Moved an hour later.
	e.shop.SetProduct(product, func(p *wootest.Product) {
		for i := range p.Meta {
			if p.Meta[i].Key == "WooCommerceEventsHour" {
				p.Meta[i].Value = "7"
			}
			if p.Meta[i].Key == "WooCommerceEventsHourEnd" {
				p.Meta[i].Value = "8"
			}
		}
	})
	e.eventually("the meeting moved and written back", func() bool {
		m, _ := e.zoom.Meeting(ids[0])
		me := e.metaEntries(order)
		return m.StartTime.Equal(time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)) && len(me) == 1 && me[0].StartTime == "2026-12-10T18:00:00Z" && e.settled()
	})
	if got := e.zoomCalls(http.MethodPatch, "/meetings/") - patches; got != 2 {
		t.Errorf("%d PATCHes for a rename and a move, want 2", got)
	}
	// Saved unchanged: nothing goes to Zoom (nor does the echo of
	// woozoom's own meta write).
	patches = e.zoomCalls(http.MethodPatch, "/meetings/")
	e.shop.SetProduct(product, func(p *wootest.Product) {})
	e.shop.Flush()
	e.eventually("the unchanged save worked", e.settled)
	if got := e.zoomCalls(http.MethodPatch, "/meetings/") - patches; got != 0 {
		t.Errorf("an unchanged product sent %d PATCHes", got)
	}
	if n := len(e.zoom.MeetingsOf(eventsHost)); n != 1 {
		t.Errorf("the host has %d meetings, want 1", n)
	}

	// Trashed: deleted with Zoom's email to the registrants; the order
	// loses the dead link.
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "trash" })
	e.eventually("the meeting deleted and the link gone", func() bool {
		_, still := e.zoom.Meeting(ids[0])
		return !still && len(e.metaEntries(order)) == 0 && e.settled()
	})
	if !e.zoom.DeletedWithReminder(ids[0]) {
		t.Error("deleted without cancel_meeting_reminder: registrants were not told")
	}
	// The customer is told what happened: the shop withdrew the event. The
	// order was neither refunded nor changed.
	if e.notesWith(order, true, "withdrawn because the shop withdrew the event") != 1 || e.notesWith(order, true, "refund") != 0 {
		t.Errorf("the withdrawn note does not name the event's withdrawal: %+v", e.shop.Notes(order))
	}
	// Restored: made again, and Rita registered on it again.
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "publish" })
	e.eventually("made again and Rita registered on it", func() bool {
		now := e.zoom.MeetingsOf(eventsHost)
		me := e.metaEntries(order)
		return len(now) == 1 && now[0] != ids[0] && e.zoomStatus(now[0], "rita@example.org") == "approved" && len(me) == 1 && e.settled()
	})
	if mm := e.madeMeetings(product); len(mm) != 1 || mm[0].ID == ids[0] {
		t.Errorf("product meta after the restore: %+v", mm)
	}
	// Trashed and restored once more: the order, unchanged since, registers
	// on the third meeting too.
	second := e.zoom.MeetingsOf(eventsHost)[0]
	// product.deleted carries only the id and WooCommerce's Delivery-ID is
	// per second: a second trash within the same second is a repeat.
	time.Sleep(1100 * time.Millisecond)
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "trash" })
	e.eventually("the second meeting deleted", func() bool { _, still := e.zoom.Meeting(second); return !still && e.settled() })
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "publish" })
	e.eventually("made a third time and Rita registered on it", func() bool {
		now := e.zoom.MeetingsOf(eventsHost)
		return len(now) == 1 && now[0] != second && e.zoomStatus(now[0], "rita@example.org") == "approved" && len(e.metaEntries(order)) == 1 && e.settled()
	})
}

// An order and several product deliveries arriving together make one
// meeting, never two.
func TestOneMeetingWhenOrderAndProductDeliveriesRace(t *testing.T) {
	e := startE2E(t)
	product := e.shop.CreateProduct(wootest.Product{Name: "Night lecture", Meta: fooEvent("2026-12-11", "8", "00", "9")})
	e.serveMaking(createEntry(product, "webinar"), "", true)
	for i := range 3 {
		e.shop.SetProduct(product, func(p *wootest.Product) { p.Name = fmt.Sprintf("Night lecture %d", i) })
	}
	var orders []int64
	for i := range 4 {
		orders = append(orders, e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: fmt.Sprintf("a%d@example.org", i), Items: []wootest.Item{{ProductID: product}}}))
	}
	e.eventually("every order registered", func() bool {
		for _, o := range orders {
			if len(e.metaEntries(o)) != 1 {
				return false
			}
		}
		return e.settled()
	})
	ids := e.zoom.MeetingsOf(eventsHost)
	if len(ids) != 1 {
		t.Fatalf("the host has %v, want one webinar", ids)
	}
	if m, _ := e.zoom.Meeting(ids[0]); !m.Webinar || m.Topic != "Night lecture 2" {
		t.Errorf("the webinar: %+v", m)
	}
	if n := e.zoomCalls(http.MethodPost, "/users/"); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
}

// A FooEvents event of three days gets a meeting per day and a ticket
// registers on each; multi_day: recurring makes one daily series instead.
func TestMultiDayEventMeetings(t *testing.T) {
	days := []wootest.Meta{{Key: "WooCommerceEventsType", Value: "sequential"}, {Key: "WooCommerceEventsNumDays", Value: "3"}}
	e := startE2E(t)
	perDay := e.shop.CreateProduct(wootest.Product{Name: "Restoration course", Meta: fooEvent("December 14, 2026", "2", "00", "3", days...)})
	series := e.shop.CreateProduct(wootest.Product{Name: "Drawing week", Meta: fooEvent("December 14, 2026", "5", "00", "6", days...)})
	e.serveMaking(createEntry(perDay, "meeting")+createEntry(series, "meeting", "multi_day: recurring"), "", false)
	order := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ina", Email: "ina@example.org", Items: []wootest.Item{{ProductID: perDay}, {ProductID: series}}})
	e.eventually("registered on three days and the series", func() bool { return len(e.metaEntries(order)) == 4 && e.settled() })
	ids := e.zoom.MeetingsOf(eventsHost)
	if len(ids) != 4 {
		t.Fatalf("meetings made: %v, want 3 days + 1 series", ids)
	}
	var topics []string
	recurring := 0
	for _, id := range ids {
		m, _ := e.zoom.Meeting(id)
		topics = append(topics, m.Topic)
		if len(m.Occurrences) == 3 && m.Topic == "Drawing week" && m.Occurrences[2].Equal(time.Date(2026, 12, 16, 16, 0, 0, 0, time.UTC)) {
			recurring++
		}
		if e.zoomStatus(id, "ina@example.org") != "approved" {
			t.Errorf("Ina not approved on %d (%s)", id, m.Topic)
		}
	}
	for d := 1; d <= 3; d++ {
		if !strings.Contains(strings.Join(topics, "|"), fmt.Sprintf("Restoration course (day %d of 3)", d)) {
			t.Errorf("no meeting for day %d: %q", d, topics)
		}
	}
	if recurring != 1 {
		t.Errorf("the recurring series: %q", topics)
	}
}

// When a host's daily budget of meeting changes is spent, the rest is held
// until 00:00 UTC, visibly, and made the next day.
func TestHostBudgetHeldToTheNextDay(t *testing.T) {
	e := startE2E(t)
	var products []int64
	for i := range 3 {
		products = append(products, e.shop.CreateProduct(wootest.Product{Name: fmt.Sprintf("Talk %d", i), Meta: fooEvent("2026-12-20", "6", "00", "7")}))
	}
	entries := ""
	for _, p := range products {
		entries += createEntry(p, "meeting")
	}
	e.serveMaking(entries, "  host_daily_limit: 2\n", true)
	for _, p := range products {
		e.shop.SetProduct(p, func(*wootest.Product) {})
	}
	e.eventually("one product held for the host's daily budget", func() bool {
		out, _ := e.cli("jobs", "list")
		return len(e.zoom.MeetingsOf(eventsHost)) == 2 && strings.Contains(out, "held until") && strings.Contains(out, "00:00 UTC")
	})
	if n := e.zoom.HostUsedToday(eventsHost); n != 2 {
		t.Errorf("Zoom counted %d creates for the host, want 2", n)
	}
	// The next day: the held job runs and makes the third meeting.
	e.stop()
	// The day passes: what woozoom counted is yesterday's, and the held
	// job is due.
	db, err := sql.Open("sqlite3", e.dbFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE host_usage SET day = '2000-01-01'`, `UPDATE jobs SET run_at = 0 WHERE state = 'queued'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e.serveWith(func(s string) string { return s })
	e.eventually("the third meeting made the next day", func() bool { return len(e.zoom.MeetingsOf(eventsHost)) == 3 && e.settled() })
}

// Zoom makes the meeting but its answer is lost: the next try finds it by
// the reference in its agenda instead of making a second one.
func TestLostCreateAnswerMakesNoSecondMeeting(t *testing.T) {
	e := startE2E(t)
	product := e.shop.CreateProduct(wootest.Product{Name: "Archive tour", Meta: fooEvent("2026-12-12", "4", "00", "5")})
	e.serveWith(func(cfg string) string { return strings.Replace(cfg, "worker:\n", "worker:\n  retry_base: 100ms\n", 1) })
	e.serveMaking(createEntry(product, "meeting"), "", true)
	e.zoom.LoseNextOf("POST /v2/users/")
	e.shop.SetProduct(product, func(*wootest.Product) {})
	e.eventually("the meeting found and recorded", func() bool { return len(e.madeMeetings(product)) == 1 && e.settled() })
	ids := e.zoom.MeetingsOf(eventsHost)
	if len(ids) != 1 || e.madeMeetings(product)[0].ID != ids[0] {
		t.Fatalf("meetings %v, product shows %+v", ids, e.madeMeetings(product))
	}
	if e.zoomCalls(http.MethodGet, "/users/"+eventsHost+"/meetings") == 0 {
		t.Error("the host's meetings were never looked up")
	}
	order := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ada", Email: "ada@example.org", Items: []wootest.Item{{ProductID: product}}})
	e.eventually("the order registered on it", func() bool { return len(e.metaEntries(order)) == 1 && e.settled() })
	if e.zoomStatus(ids[0], "ada@example.org") != "approved" {
		t.Error("not registered on the found meeting")
	}

	// Trashed, and Zoom's answer to the DELETE is lost; the product comes
	// back at once. woozoom must not trust the deleted meeting: it looks,
	// makes a new one and registers Ada on it.
	e.zoom.LoseNextOf("DELETE /v2/meetings/")
	e.zoom.FailNextOf("DELETE /v2/meetings/", 3, http.StatusBadGateway) // the tries after it wait
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "trash" })
	e.eventually("the DELETE sent", func() bool { _, still := e.zoom.Meeting(ids[0]); return !still })
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "publish" })
	e.eventually("a new meeting with Ada on it", func() bool {
		now := e.zoom.MeetingsOf(eventsHost)
		return len(now) == 1 && now[0] != ids[0] && e.zoomStatus(now[0], "ada@example.org") == "approved" && e.settled()
	})
	if out, _ := e.cli("jobs", "list", "--failed"); strings.Contains(out, "order.") || strings.Contains(out, "product.") {
		t.Errorf("jobs parked:\n%s", out)
	}
}

// The product is trashed but Zoom never carries out the DELETE; an order
// completed meanwhile registers on nothing (the meeting is being deleted).
// When the product comes back and the meeting is found still there, it is
// kept, and the orders worked while its delete was pending register on it.
func TestKeptMeetingTakesOrdersWorkedWhileItsDeleteWasPending(t *testing.T) {
	e := startE2E(t)
	product := e.shop.CreateProduct(wootest.Product{Name: "Harbour tour", Meta: fooEvent("2026-12-12", "4", "00", "5")})
	e.serveWith(func(cfg string) string { return strings.Replace(cfg, "worker:\n", "worker:\n  retry_base: 100ms\n", 1) })
	e.serveMaking(createEntry(product, "meeting"), "", true)
	e.shop.SetProduct(product, func(*wootest.Product) {})
	e.eventually("the meeting made", func() bool { return len(e.madeMeetings(product)) == 1 && e.settled() })
	ids := e.zoom.MeetingsOf(eventsHost)

	e.zoom.FailNextOf("DELETE /v2/meetings/", 1000, http.StatusBadGateway)
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "trash" })
	e.eventually("the DELETE tried", func() bool {
		for _, c := range e.zoom.Calls() {
			if c.Method == http.MethodDelete && c.Status == http.StatusBadGateway {
				return true
			}
		}
		return false
	})
	order := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Bo", Email: "bo@example.org", Items: []wootest.Item{{ProductID: product}}})
	e.shop.Flush()
	e.eventually("the order worked while the delete is pending", func() bool { return e.orderJobsDone(order) })
	if got := e.zoomStatus(ids[0], "bo@example.org"); got != "none" {
		t.Fatalf("registered on a meeting being deleted: %s", got)
	}

	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "publish" })
	e.eventually("the meeting kept, with Bo on it", func() bool {
		return e.zoomStatus(ids[0], "bo@example.org") == "approved" && len(e.metaEntries(order)) == 1 && e.settled()
	})
	if now := e.zoom.MeetingsOf(eventsHost); len(now) != 1 || now[0] != ids[0] {
		t.Errorf("meetings %v, want the first one kept: %v", now, ids)
	}
}

// orderJobsDone says whether an order has jobs and all are done.
func (e *e2e) orderJobsDone(orderID int64) bool {
	e.t.Helper()
	jobs := e.orderJobs(orderID)
	for _, j := range jobs {
		if j.State != rules.JobDone {
			return false
		}
	}
	return len(jobs) > 0
}

// woozoom check reads what making meetings needs: a Licensed host, a
// product date, room for the stock, and the product webhooks.
func TestCheckMakingMeetings(t *testing.T) {
	e := startE2E(t)
	e.zoom.AddUser(zoomtest.User{Email: "intern@shop.example", Type: 1})
	stock := 6000
	dated := e.shop.CreateProduct(wootest.Product{Name: "Big tour", Stock: &stock, Meta: fooEvent("2026-12-12", "4", "00", "5")})
	undated := e.shop.CreateProduct(wootest.Product{Name: "Someday talk"})
	small := 40
	webinar := e.shop.CreateProduct(wootest.Product{Name: "Small webinar", Stock: &small, Meta: fooEvent("2026-12-13", "4", "00", "5")})
	e.serveMaking(createEntry(dated, "meeting")+createEntry(undated, "meeting")+
		fmt.Sprintf("  - product_id: %d\n    create: webinar\n    host: intern@shop.example\n    capacity: 30\n", webinar), "", true)
	out, code := e.cli("check")
	if code == 0 {
		t.Fatalf("check passed:\n%s", out)
	}
	for _, want := range []string{
		fmt.Sprintf("product %d) \"Big tour\" has 6000 tickets in stock, more than Zoom's registrant limit of a meeting (4999)", dated),
		fmt.Sprintf("product %d) \"Someday talk\" has no event date", undated),
		"intern@shop.example is a Basic user",
		fmt.Sprintf("product %d) \"Small webinar\" has 40 tickets in stock, more than its capacity (30)", webinar),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "ok       Zoom: host "+eventsHost+" is Licensed") || !strings.Contains(out, "delivers product.updated") {
		t.Errorf("check of the working parts:\n%s", out)
	}
}

// A meeting made by hand and linked with follow: true takes the product's
// new name and time (one PATCH for several saves delivered together, and
// no settings touched); trashing the product leaves it alone.
func TestLinkedMeetingFollowsItsProduct(t *testing.T) {
	e := startE2E(t)
	product := e.shop.CreateProduct(wootest.Product{Name: "Online guided tour", Meta: fooEvent("December 3, 2026", "7", "00", "8")})
	e.serveWith(func(cfg string) string {
		return strings.Replace(cfg, "  - product_id: 10\n", fmt.Sprintf("  - product_id: %d\n    follow: true\n    meeting_id: %d\n  - product_id: 10\n", product, e.meeting), 1)
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	e.shop.AddWebhook(e.url+"/webhooks/woocommerce", e.secret, "product.created", "product.updated", "product.deleted", "product.restored")
	order := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org", Items: []wootest.Item{{ProductID: product}}})
	e.eventually("registered on the linked meeting", func() bool { return len(e.metaEntries(order)) == 1 && e.settled() })

	patches := e.zoomCalls(http.MethodPatch, "/meetings/")
	for i, name := range []string{"Tour A", "Tour B", "Tour of the vaults"} {
		e.shop.SetProduct(product, func(p *wootest.Product) {
			p.Name = name
			setMeta(p, "WooCommerceEventsHour", fmt.Sprint(8+i%2))
		})
	}
	e.eventually("the linked meeting follows", func() bool {
		m, _ := e.zoom.Meeting(e.meeting)
		me := e.metaEntries(order)
		return m.Topic == "Tour of the vaults" && m.StartTime.Equal(time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)) &&
			len(me) == 1 && me[0].Topic == "Tour of the vaults" && e.settled()
	})
	if got := e.zoomCalls(http.MethodPatch, "/meetings/") - patches; got != 1 {
		t.Errorf("%d PATCHes for three saves delivered together, want 1", got)
	}
	if m, _ := e.zoom.Meeting(e.meeting); m.Password != "Tour42" || m.ApprovalType != 0 {
		t.Errorf("following changed more than topic and times: %+v", m)
	}
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "trash" })
	e.shop.Flush()
	e.eventually("the trash delivery worked", e.settled)
	if _, ok := e.zoom.Meeting(e.meeting); !ok || e.zoomCalls(http.MethodDelete, "/meetings/") != 0 {
		t.Error("a linked meeting was deleted with its product")
	}
}

// An order worked while its product is in the trash, before any meeting
// was ever made, registers once the product is restored and its meeting
// made.
func TestOrderOfTrashedProductRegistersAfterRestore(t *testing.T) {
	e := startE2E(t)
	product := e.shop.CreateProduct(wootest.Product{Name: "Paused course", Status: "trash", Meta: fooEvent("2026-12-18", "5", "00", "6")})
	e.serveMaking(createEntry(product, "meeting"), "", true)
	order := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ola", Email: "ola@example.org", Items: []wootest.Item{{ProductID: product}}})
	e.eventually("the order worked", func() bool { return e.settled() && len(e.shop.Deliveries()) > 0 })
	time.Sleep(300 * time.Millisecond)
	e.eventually("the order worked", e.settled)
	if n := len(e.zoom.MeetingsOf(eventsHost)); n != 0 || len(e.metaEntries(order)) != 0 {
		t.Fatalf("a trashed product got %d meetings", n)
	}
	e.shop.SetProduct(product, func(p *wootest.Product) { p.Status = "publish" })
	e.eventually("made and the order registered on it", func() bool {
		ids := e.zoom.MeetingsOf(eventsHost)
		return len(ids) == 1 && e.zoomStatus(ids[0], "ola@example.org") == "approved" && len(e.metaEntries(order)) == 1 && e.settled()
	})
}
