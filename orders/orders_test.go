package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

type harness struct {
	t       *testing.T
	wc      *woo.Client
	zc      *zoom.Client
	db      *store.DB
	zoom    *zoomtest.Fake
	shop    *wootest.Shop
	w       *worker.Worker
	meeting int64
	webinar int64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	creds := zoomtest.Credentials{AccountID: "a", ClientID: "c", ClientSecret: "s"}
	limits := zoomtest.ProLimits
	limits.LightPerSecond, limits.MediumPerSecond = 1000, 1000
	fz := zoomtest.New(creds, limits)
	zs := httptest.NewServer(fz)
	t.Cleanup(zs.Close)
	zc := zoom.New(zoom.Config{AccountID: "a", ClientID: "c", ClientSecret: "s", APIURL: zs.URL + "/v2", OAuthURL: zs.URL + "/oauth/token",
		LightPerSecond: 1000, MediumPerSecond: 1000, CircuitWindow: 10 * time.Millisecond, CircuitProbe: 5 * time.Millisecond}, nil, log)

	shop := wootest.NewShop("ck", "cs")
	ss := httptest.NewTLSServer(shop)
	t.Cleanup(ss.Close)
	wc, err := woo.New(woo.Config{URL: ss.URL, ConsumerKey: "ck", ConsumerSecret: "cs"}, ss.Client(), log)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, zoom: fz, shop: shop, wc: wc, zc: zc}
	h.meeting = fz.CreateMeeting(zoomtest.Meeting{Topic: "Online guided tour", HostEmail: "host@shop.example", StartTime: time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC), Duration: 60, Timezone: "Europe/Berlin", Password: "Tour42"})
	h.webinar = fz.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Restoring paintings", HostEmail: "host@shop.example", Duration: 90})
	for _, m := range []rules.Mapping{
		{ProductID: 10, Target: rules.Target{Kind: rules.Meeting, ID: h.meeting}},
		{ProductID: 11, Target: rules.Target{Kind: rules.Webinar, ID: h.webinar}},
	} {
		db.AddMapping(ctx, m, store.FromCLI)
	}
	h.w = runner(orders.Config{CustomerNote: true}, worker.Config{}, db, zc, wc)
	return h
}

// deliver stores the order as the shop shows it now, as a delivery would.
func (h *harness) deliver(id int64) []byte {
	body, ok := h.shop.OrderJSON(id)
	if !ok {
		h.t.Fatalf("no order %d", id)
	}
	h.deliverBody("order.updated", body)
	return body
}

func (h *harness) deliverBody(topic string, body []byte) {
	if _, _, err := h.db.RecordDelivery(context.Background(), rules.Delivery{DeliveryID: fmt.Sprint(time.Now().UnixNano()), Topic: topic, OrderID: woo.ResourceID(body), Body: body}); err != nil {
		h.t.Fatal(err)
	}
}

// drain runs every due job.
func (h *harness) drain() {
	h.t.Helper()
	for range 10000 {
		ran, err := h.w.RunOne(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if !ran {
			return
		}
	}
	h.t.Fatal("jobs keep coming")
}

func (h *harness) status(target int64, email string) string {
	r, ok := h.zoom.Registrant(target, email)
	if !ok {
		return "none"
	}
	return r.Status
}

func (h *harness) lastJob() rules.Job {
	jobs, err := h.db.Jobs(context.Background(), "", 1)
	if err != nil || len(jobs) == 0 {
		h.t.Fatalf("no job: %v", err)
	}
	return jobs[0]
}

func TestCompleteCancelComplete(t *testing.T) {
	h := newHarness(t)
	id := h.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "Rita", LastName: "Doro", Email: "Rita.Doro@Example.org",
		Items: []wootest.Item{{ProductID: 10, Quantity: 2, Name: "Tour"}, {ProductID: 11, Name: "Webinar"}, {ProductID: 99, Name: "T-shirt"}}})

	h.deliver(id)
	h.drain()
	if got := h.status(h.meeting, "rita.doro@example.org"); got != "none" {
		t.Fatalf("processing order registered: %s", got)
	}

	h.shop.SetStatus(id, "completed")
	h.deliver(id)
	h.drain()
	if got := h.status(h.meeting, "rita.doro@example.org"); got != "approved" {
		t.Fatalf("meeting registrant after completion: %s (job: %+v)", got, h.lastJob())
	}
	if got := h.status(h.webinar, "rita.doro@example.org"); got != "approved" {
		t.Fatalf("webinar registrant after completion: %s", got)
	}
	regs, _ := h.db.Registrations(context.Background(), id)
	if len(regs) != 2 {
		t.Errorf("registrations = %+v, want one per target", regs)
	}
	v, ok := h.shop.Meta(id, orders.MetaKey)
	if !ok {
		t.Fatal("no meta written back")
	}
	b, _ := json.Marshal(v)
	var entries []orders.MetaEntry
	json.Unmarshal(b, &entries)
	if len(entries) != 2 || entries[0].Passcode != "Tour42" || entries[0].JoinURL == "" || entries[0].StartTime != "2026-12-03T18:00:00Z" {
		t.Errorf("meta = %s", b)
	}
	if entries[0].Email != "Rita.Doro@Example.org" {
		t.Errorf("meta email %q, want it as typed (compared without case)", entries[0].Email)
	}
	notes := h.shop.Notes(id)
	if len(notes) != 1 || !notes[0].Customer || strings.Count(notes[0].Note, "\n- ") != 2 || !strings.Contains(notes[0].Note, "857") && !strings.Contains(notes[0].Note, "passcode Tour42") {
		t.Errorf("notes = %+v", notes)
	}

	// The write-back fired order.updated; its echo must change nothing.
	writes := h.shop.Writes()
	h.deliver(id)
	h.drain()
	if h.shop.Writes() != writes || len(h.shop.Notes(id)) != 1 {
		t.Errorf("the echo of our own write wrote again: %d writes, %d notes", h.shop.Writes()-writes, len(h.shop.Notes(id)))
	}
	if n := h.zoom.Adds(h.meeting, "rita.doro@example.org"); n != 1 {
		t.Errorf("%d adds of one email on the meeting, want 1", n)
	}

	h.shop.SetStatus(id, "cancelled")
	h.deliver(id)
	h.drain()
	if got := h.status(h.meeting, "rita.doro@example.org"); got != "denied" {
		t.Errorf("after cancel the meeting registrant is %s, want denied", got)
	}
	if _, ok := h.shop.Meta(id, orders.MetaKey); ok {
		t.Error("join links left on a cancelled order")
	}

	h.shop.SetStatus(id, "completed")
	h.deliver(id)
	h.drain()
	if got := h.status(h.meeting, "rita.doro@example.org"); got != "approved" {
		t.Errorf("completed again: registrant is %s, want approved", got)
	}
	if n := h.zoom.Adds(h.meeting, "rita.doro@example.org"); n != 1 {
		t.Errorf("re-completion re-added (%d adds) instead of approving", n)
	}
	if _, ok := h.shop.Meta(id, orders.MetaKey); !ok {
		t.Error("no links written back after re-completion")
	}
}

func TestOlderViewIsNotApplied(t *testing.T) {
	h := newHarness(t)
	id := h.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.shop.SetStatus(id, "completed")
	completed, _ := h.shop.OrderJSON(id)
	time.Sleep(1100 * time.Millisecond) // date_modified has second resolution
	h.shop.SetStatus(id, "cancelled")
	h.deliver(id)
	h.drain()
	h.deliverBody("order.updated", completed) // the older view arrives late
	h.drain()
	if got := h.status(h.meeting, "a@example.org"); got != "none" {
		t.Errorf("a late older view registered a cancelled order's attendee: %s", got)
	}
	if j := h.lastJob(); !strings.Contains(j.Result, "older") {
		t.Errorf("late view job result = %q", j.Result)
	}
}

func TestTwoOrdersShareAnEmail(t *testing.T) {
	h := newHarness(t)
	a := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ann", Email: "ann@example.org", Items: []wootest.Item{{ProductID: 10}}})
	b := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ann", Email: "ANN@example.org ", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(a)
	h.deliver(b)
	h.drain()
	h.shop.SetStatus(a, "refunded")
	h.deliver(a)
	h.drain()
	if got := h.status(h.meeting, "ann@example.org"); got != "approved" {
		t.Errorf("order %d still holds the email, but Zoom has %s", b, got)
	}
	h.shop.SetStatus(b, "cancelled")
	h.deliver(b)
	h.drain()
	if got := h.status(h.meeting, "ann@example.org"); got != "denied" {
		t.Errorf("both orders cancelled, Zoom has %s", got)
	}
}

func TestRefusedAttendeeDoesNotStopOthers(t *testing.T) {
	h := newHarness(t)
	bad := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Jürgen", Email: "jürgen@example.de", Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	good := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Host", Email: "host@shop.example", Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	h.deliver(bad)
	h.deliver(good)
	h.drain()
	regs, _ := h.db.Registrations(context.Background(), bad)
	for _, r := range regs {
		if r.State != rules.Failed || !strings.Contains(r.Error, "email") {
			t.Errorf("umlaut email: %+v, want failed with the reason", r)
		}
	}
	regs, _ = h.db.Registrations(context.Background(), good)
	states := map[rules.TargetKind]rules.RegistrationState{}
	for _, r := range regs {
		states[r.Target.Kind] = r.State
	}
	// The webinar's host cannot register; on the meeting the same email can.
	if states[rules.Meeting] != rules.Active || states[rules.Webinar] != rules.Failed {
		t.Errorf("host email: states %v, want meeting active and webinar failed", states)
	}
	if got := h.status(h.meeting, "host@shop.example"); got != "approved" {
		t.Errorf("the meeting registration beside a refused webinar one: %s", got)
	}
	notes := h.shop.Notes(bad)
	if len(notes) == 0 || notes[0].Customer || !strings.Contains(notes[0].Note, "refused") {
		t.Errorf("no private note about the refused attendee: %+v", notes)
	}
	if j := h.lastJob(); j.State != rules.JobDone {
		t.Errorf("job with a refused attendee is %s, want done", j.State)
	}
}

func TestFaultsRetryAndPark(t *testing.T) {
	h := newHarness(t)
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.zoom.FailNext(1, 503, "")
	h.deliver(id)
	h.drain()
	j := h.lastJob()
	if j.State != rules.JobQueued || !j.RunAt.After(time.Now()) || !strings.Contains(j.LastError, "503") {
		t.Fatalf("after a 503 the job is %+v, want queued for later with the error", j)
	}

	h.zoom.DeleteMeeting(h.meeting)
	other := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "B", Email: "b@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(other)
	h.drain()
	j = h.lastJob()
	if j.State != rules.JobFailed || !strings.Contains(j.LastError, "3001") {
		t.Errorf("meeting deleted: job %+v, want parked with Zoom's reason", j)
	}
	regs, _ := h.db.Registrations(context.Background(), other)
	if len(regs) != 1 || regs[0].State != rules.Active {
		t.Errorf("registration of a parked job = %+v, want kept active for the retry", regs)
	}
}

func TestUnreadableDeliveryIsParkedVisibly(t *testing.T) {
	h := newHarness(t)
	h.deliverBody("order.updated", []byte(`{"code":"woocommerce_rest_cannot_view","message":"Sorry"}`))
	h.deliverBody("product.updated", []byte(`{"id":10,"name":"Tour"}`))
	h.drain()
	failed, _ := h.db.Jobs(context.Background(), rules.JobFailed, 10)
	if len(failed) != 1 || !strings.Contains(failed[0].LastError, "permissions") {
		t.Errorf("failed jobs = %+v, want the error-object delivery parked with a reason", failed)
	}
	done, _ := h.db.Jobs(context.Background(), rules.JobDone, 10)
	if len(done) != 1 || done[0].Topic != "product.updated" {
		t.Errorf("done jobs = %+v, want the product delivery", done)
	}
}

func TestTrashedOrderIsCancelled(t *testing.T) {
	h := newHarness(t)
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(id)
	h.drain()
	time.Sleep(1100 * time.Millisecond)
	h.shop.Trash(id)
	h.deliverBody("order.deleted", []byte(fmt.Sprintf(`{"id":%d}`, id)))
	h.drain()
	if got := h.status(h.meeting, "a@example.org"); got != "denied" {
		t.Errorf("trashed order: registrant %s, want denied", got)
	}
	time.Sleep(1100 * time.Millisecond)
	h.shop.Untrash(id)
	body, _ := h.shop.OrderJSON(id)
	h.deliverBody("order.restored", body)
	h.drain()
	if got := h.status(h.meeting, "a@example.org"); got != "approved" {
		t.Errorf("restored completed order: registrant %s, want approved", got)
	}
}

func TestShutdownHandsJobsBack(t *testing.T) {
	h := newHarness(t)
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(id)
	h.zoom.SetLatency(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if ran, err := h.w.RunOne(ctx); !ran || err != nil {
		t.Fatalf("RunOne = %v, %v", ran, err)
	}
	j := h.lastJob()
	if j.State != rules.JobQueued || j.Attempts != 0 {
		t.Errorf("job interrupted by shutdown: %+v, want queued with the attempt not counted", j)
	}
	h.zoom.SetLatency(0)
	h.drain()
	if got := h.status(h.meeting, "a@example.org"); got != "approved" {
		t.Errorf("after restart the handed-back job registered: %s", got)
	}
	// Zoom did the add whose answer the shutdown cut off; the handed-back
	// job looked it up instead of spending a second add.
	if n := h.zoom.Adds(h.meeting, "a@example.org"); n != 1 {
		t.Errorf("adds counted by Zoom = %d, want 1", n)
	}
}

func TestUnansweredAddIsLookedUpNotRepeated(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*zoomtest.Fake)
	}{
		{"answer lost after Zoom added", func(f *zoomtest.Fake) { f.LoseNext(1) }},
		{"connection dropped before Zoom added", func(f *zoomtest.Fake) { f.ResetNext(1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
			tc.fault(h.zoom)
			h.deliver(id)
			h.drain()
			if j := h.lastJob(); j.State != rules.JobQueued {
				t.Fatalf("after an unanswered add the job is %+v, want queued for a retry", j)
			}
			// The order arrives again; its job settles the add first.
			time.Sleep(1100 * time.Millisecond)
			h.deliver(id)
			h.drain()
			if got := h.status(h.meeting, "a@example.org"); got != "approved" {
				t.Errorf("registrant %s, want approved", got)
			}
			if n := h.zoom.Adds(h.meeting, "a@example.org"); n != 1 {
				t.Errorf("adds counted by Zoom = %d, want 1", n)
			}
			key := rules.SeatKey{Target: rules.Target{Kind: rules.Meeting, ID: h.meeting}, Email: "a@example.org"}
			seats, _ := h.db.Seats(context.Background(), []rules.SeatKey{key})
			r, _ := h.zoom.Registrant(h.meeting, "a@example.org")
			if seats[key].RegistrantID != r.ID || seats[key].JoinURL != r.JoinURL {
				t.Errorf("seat %+v, want Zoom's registrant %s", seats[key], r.ID)
			}
			if open, _ := h.db.UnsettledSeats(context.Background(), []rules.SeatKey{key}); len(open) != 0 {
				t.Errorf("add still uncertain after it was settled: %v", open)
			}
			if meta, ok := h.shop.Meta(id, orders.MetaKey); !ok || !strings.Contains(fmt.Sprint(meta), r.JoinURL) {
				t.Errorf("write-back lacks the registrant's join URL: %q", meta)
			}
		})
	}
}

func TestPerTicketAttendeesFromFooEvents(t *testing.T) {
	h := newHarness(t)
	ticket := func(first, email string) map[string]any {
		return map[string]any{"WooCommerceEventsProductID": "10", "WooCommerceEventsAttendeeName": first,
			"WooCommerceEventsAttendeeLastName": "X", "WooCommerceEventsAttendeeEmail": email}
	}
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Payer", Email: "payer@example.org",
		Items: []wootest.Item{{ProductID: 10, Quantity: 2}},
		Meta: []wootest.Meta{{Key: rules.FooEventsTicketsKey, Value: map[string]any{"1": map[string]any{
			"1": ticket("Mara", "mara@example.net"), "2": ticket("Jonas", "Jonas@Example.net"),
		}}}}})
	h.deliver(id)
	h.drain()
	for _, email := range []string{"mara@example.net", "jonas@example.net"} {
		if got := h.status(h.meeting, email); got != "approved" {
			t.Errorf("ticket holder %s: %s, want approved", email, got)
		}
	}
	if got := h.status(h.meeting, "payer@example.org"); got != "none" {
		t.Errorf("the payer was registered beside the ticket holders: %s", got)
	}
	if notes := h.shop.Notes(id); len(notes) != 1 || strings.Count(notes[0].Note, "\n- ") != 2 {
		t.Errorf("notes = %+v, want one note with a line per ticket holder", notes)
	}
}

// withPolicy replaces the harness's worker by one with another policy.
func (h *harness) withPolicy(p rules.Policy) {
	h.w = runner(orders.Config{Policy: p, CustomerNote: true}, worker.Config{}, h.db, h.zc, h.wc)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestPartialAndFullRefunds(t *testing.T) {
	h := newHarness(t)
	ticket := func(first, email string) map[string]any {
		return map[string]any{"WooCommerceEventsProductID": "10", "WooCommerceEventsAttendeeName": first, "WooCommerceEventsAttendeeEmail": email}
	}
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Payer", Email: "payer@example.org",
		Items: []wootest.Item{{ProductID: 10, Quantity: 3}, {ProductID: 11, Quantity: 1}},
		Meta: []wootest.Meta{{Key: rules.FooEventsTicketsKey, Value: map[string]any{"1": map[string]any{
			"1": ticket("A", "a@example.org"), "2": ticket("B", "b@example.org"), "3": ticket("C", "c@example.org"),
		}}}}})
	h.deliver(id)
	h.drain()
	lines := h.shop.LineItemIDs(id)
	// One of three tour tickets refunded: the last ticket holder goes.
	time.Sleep(1100 * time.Millisecond)
	h.shop.Refund(id, "one guest cannot come", map[int64]int{lines[0]: 1})
	h.deliver(id)
	h.drain()
	for email, want := range map[string]string{"a@example.org": "approved", "b@example.org": "approved", "c@example.org": "denied"} {
		if got := h.status(h.meeting, email); got != want {
			t.Errorf("after refunding 1 of 3: %s is %s, want %s", email, got, want)
		}
	}
	if got := h.status(h.webinar, "payer@example.org"); got != "approved" {
		t.Errorf("the unrefunded webinar line: %s", got)
	}
	// The webinar line refunded in full (order still completed): released.
	time.Sleep(1100 * time.Millisecond)
	h.shop.Refund(id, "webinar dropped", map[int64]int{lines[1]: 1})
	h.deliver(id)
	h.drain()
	if got := h.status(h.webinar, "payer@example.org"); got != "denied" {
		t.Errorf("fully refunded line: webinar registrant %s, want denied", got)
	}
	if got := h.status(h.meeting, "a@example.org"); got != "approved" {
		t.Errorf("a refund of another line touched %s", got)
	}
}

func TestMultiDayAndSlotsOfARecurringMeeting(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	day2 := h.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Workshop day 2", HostEmail: "host@shop.example", Duration: 120})
	mon := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	tue := mon.Add(24 * time.Hour)
	course := h.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Evening course", HostEmail: "host@shop.example", Duration: 60, StartTime: mon, Occurrences: []time.Time{mon, tue}})
	monID, tueID := fmt.Sprint(mon.UnixMilli()), fmt.Sprint(tue.UnixMilli())
	for _, m := range []rules.Mapping{
		{ProductID: 30, Day: 1, Target: rules.Target{Kind: rules.Meeting, ID: h.meeting}},
		{ProductID: 30, Day: 2, Target: rules.Target{Kind: rules.Meeting, ID: day2}},
		{ProductID: 31, Slot: "mon", Target: rules.Target{Kind: rules.Meeting, ID: course}, Occurrences: monID},
		{ProductID: 31, Slot: "tue", Target: rules.Target{Kind: rules.Meeting, ID: course}, Occurrences: tueID},
	} {
		h.db.AddMapping(ctx, m, store.FromCLI)
	}
	h.withPolicy(rules.Policy{RegisterStatuses: []string{"completed"}, CancelStatuses: []string{"cancelled"}, SlotKeys: []string{"Slot"}})

	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Mo", Email: "mo@example.org", Items: []wootest.Item{
		{ProductID: 30, Quantity: 1},
		{ProductID: 31, Quantity: 1, Meta: []wootest.Meta{{Key: "Slot", Value: "mon"}}},
		{ProductID: 31, Quantity: 1, Meta: []wootest.Meta{{Key: "Slot", Value: "tue"}}},
	}})
	h.deliver(id)
	h.drain()
	for _, target := range []int64{h.meeting, day2} {
		if got := h.status(target, "mo@example.org"); got != "approved" {
			t.Errorf("multi-day: day target %d has %s, want approved", target, got)
		}
	}
	r, _ := h.zoom.Registrant(course, "mo@example.org")
	if r.Status != "approved" || fmt.Sprint(r.Occurrences) != fmt.Sprint([]string{monID, tueID}) {
		t.Errorf("two slots of one recurring meeting: %+v, want one registrant on both occurrences", r)
	}
	time.Sleep(1100 * time.Millisecond)
	h.shop.SetStatus(id, "cancelled")
	h.deliver(id)
	h.drain()
	for _, target := range []int64{h.meeting, day2, course} {
		if got := h.status(target, "mo@example.org"); got != "denied" {
			t.Errorf("after cancel, target %d has %s, want denied", target, got)
		}
	}
}

// A completed view that still shows links woozoom has since removed must
// bring them back (found by the chaos harness).
func TestWriteBackCorrectsASnapshotOlderThanOurOwnWrite(t *testing.T) {
	h := newHarness(t)
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(id)
	h.drain()
	withLinks, _ := h.shop.OrderJSON(id) // completed, links present
	time.Sleep(1100 * time.Millisecond)
	h.shop.SetStatus(id, "cancelled")
	h.deliver(id)
	h.drain() // links removed
	if _, ok := h.shop.Meta(id, orders.MetaKey); ok {
		t.Fatal("links left on a cancelled order")
	}
	time.Sleep(1100 * time.Millisecond)
	h.shop.SetStatus(id, "completed")
	// The completed view arrives built before the removal landed.
	var o map[string]any
	json.Unmarshal(withLinks, &o)
	cur, _ := h.shop.OrderJSON(id)
	var now map[string]any
	json.Unmarshal(cur, &now)
	o["date_modified_gmt"] = now["date_modified_gmt"]
	stale, _ := wootest.PHPJSON(o)
	h.deliverBody("order.updated", stale)
	h.drain()
	if _, ok := h.shop.Meta(id, orders.MetaKey); !ok {
		t.Error("the links were not written back: the stale snapshot was trusted over woozoom's own last write")
	}
}

// gatedZoom holds the first add until released, to line two jobs up.
type gatedZoom struct {
	*zoom.Client
	entered, release chan struct{}
	once             sync.Once
}

func (g *gatedZoom) AddRegistrant(ctx context.Context, t rules.Target, p rules.Person, occ string) (rules.Seat, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.release
	}
	return g.Client.AddRegistrant(ctx, t, p, occ)
}

func TestTwoOrdersOfOneEmailAtOnceAddOnce(t *testing.T) {
	h := newHarness(t)
	g := &gatedZoom{Client: h.zc, entered: make(chan struct{}), release: make(chan struct{})}
	w := runner(orders.Config{CustomerNote: true}, worker.Config{}, h.db, g, h.wc)
	a := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "same@example.org", Items: []wootest.Item{{ProductID: 10}}})
	b := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "same@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(a)
	h.deliver(b)
	var wg sync.WaitGroup
	run := func() {
		if ran, err := w.RunOne(context.Background()); !ran || err != nil {
			t.Errorf("RunOne = %v, %v", ran, err)
		}
	}
	// Order a's job is about to add the seat when order b's job starts.
	wg.Go(run)
	<-g.entered
	wg.Go(run)
	time.Sleep(300 * time.Millisecond)
	close(g.release)
	wg.Wait()
	if n := h.zoom.Adds(h.meeting, "same@example.org"); n != 1 {
		t.Errorf("two orders of one email, worked at once: Zoom counted %d adds, want 1", n)
	}
	for _, id := range []int64{a, b} {
		if regs, _ := h.db.Registrations(context.Background(), id); len(regs) != 1 || regs[0].State != rules.Active {
			t.Errorf("order %d registrations = %+v, want one active", id, regs)
		}
	}
}

func TestUnansweredCancelIsLookedUpBeforeAnotherOrderClaims(t *testing.T) {
	h := newHarness(t)
	x := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(x)
	h.drain()
	// Order x is cancelled; Zoom denies the registrant, but the answer is lost.
	time.Sleep(1100 * time.Millisecond)
	h.shop.SetStatus(x, "cancelled")
	h.zoom.LoseNext(1)
	h.deliver(x)
	h.drain()
	if got := h.status(h.meeting, "a@example.org"); got != "denied" {
		t.Fatalf("after the lost cancel Zoom holds %s, want denied", got)
	}
	// Another order of the same email, completed before x's job retries.
	y := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(y)
	h.drain()
	if got := h.status(h.meeting, "a@example.org"); got != "approved" {
		t.Errorf("order y's attendee on Zoom: %s, want approved", got)
	}
	if n := h.zoom.Adds(h.meeting, "a@example.org"); n != 1 {
		t.Errorf("adds counted by Zoom = %d, want 1", n)
	}
}

func TestLongOutageNeverParksAJob(t *testing.T) {
	h := newHarness(t)
	w := runner(orders.Config{}, worker.Config{RetryBase: time.Millisecond, RetryMax: time.Millisecond}, h.db, h.zc, h.wc)
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(id)
	h.zoom.FailTokens(1 << 20) // Zoom's token endpoint is down for good
	for range 40 {
		time.Sleep(2 * time.Millisecond)
		if _, err := w.RunOne(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// Once Zoom is known to be down the job waits without being charged
	// tries: it is never parked, however long the outage.
	j := h.lastJob()
	if j.State != rules.JobQueued || j.Attempts > 6 || j.Wait != rules.WaitForService {
		t.Fatalf("after a long outage the job is %s with %d tries (%s); want queued, charged only until Zoom was known down", j.State, j.Attempts, j.LastError)
	}
	h.zoom.FailTokens(0)
	deadline := time.Now().Add(5 * time.Second)
	for h.lastJob().State != rules.JobDone && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
		if _, err := w.RunOne(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if j := h.lastJob(); j.State != rules.JobDone || h.status(h.meeting, "a@example.org") != "approved" {
		t.Errorf("once the outage ended: job %s, registrant %s; want done and approved", j.State, h.status(h.meeting, "a@example.org"))
	}
}

func TestManualApprovalWebinarIsApprovedWithItsLink(t *testing.T) {
	h := newHarness(t)
	manual := h.zoom.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Masterclass", HostEmail: "host@shop.example", Duration: 90, ApprovalType: 1})
	h.db.AddMapping(context.Background(), rules.Mapping{ProductID: 13, Target: rules.Target{Kind: rules.Webinar, ID: manual}}, store.FromCLI)
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "M", Email: "m@example.org", Items: []wootest.Item{{ProductID: 13}}})
	h.deliver(id)
	h.drain()
	r, ok := h.zoom.Registrant(manual, "m@example.org")
	if !ok || r.Status != "approved" {
		t.Fatalf("paid attendee on a manual-approval webinar: %+v (%v), want approved in the same job", r, ok)
	}
	if j := h.lastJob(); j.State != rules.JobDone {
		t.Errorf("job %s: %s", j.State, j.LastError)
	}
	meta, ok := h.shop.Meta(id, orders.MetaKey)
	if !ok || !strings.Contains(fmt.Sprint(meta), r.JoinURL) {
		t.Errorf("order meta lacks the approved registrant's join link %s: %v", r.JoinURL, meta)
	}
}

// Many orders cancelled at once, worked by fewer workers than a status call
// takes: their cancels on one meeting go out together, 30 at a time, and an
// attendee another order still holds stays approved.
func TestCancellationsOfManyOrdersShareStatusCalls(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const n = 100
	ids := make([]int64, n)
	for i := range n {
		ids[i] = h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "P", Email: fmt.Sprintf("p%03d@example.org", i), Items: []wootest.Item{{ProductID: 10}}})
		h.deliver(ids[i])
	}
	// One more order of the first attendee's email is not cancelled.
	keep := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "P", Email: "p000@example.org", Items: []wootest.Item{{ProductID: 10}}})
	h.deliver(keep)
	h.drain()
	time.Sleep(1100 * time.Millisecond) // date_modified has second resolution
	for _, id := range ids {
		h.shop.SetStatus(id, "cancelled")
		h.deliver(id)
	}
	before := len(h.zoom.Calls())
	w := runner(orders.Config{CustomerNote: true}, worker.Config{Workers: 4}, h.db, h.zc, h.wc)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts, err := h.db.JobCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[rules.JobQueued]+counts[rules.JobRunning] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs not done: %v", counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	calls := 0
	for _, c := range h.zoom.Calls()[before:] {
		if strings.HasSuffix(c.Path, "/registrants/status") {
			calls++
		}
	}
	if got := h.status(h.meeting, "p000@example.org"); got != "approved" {
		t.Errorf("an attendee another order still holds is %s, want approved", got)
	}
	for i := 1; i < n; i++ {
		if got := h.status(h.meeting, fmt.Sprintf("p%03d@example.org", i)); got != "denied" {
			t.Errorf("attendee %d of a cancelled order is %s, want denied", i, got)
		}
	}
	if want := (n-1+29)/30 + 2; calls > want {
		t.Errorf("%d cancellations of %d orders took %d status calls, want at most %d", n-1, n, calls, want)
	}
	t.Logf("%d cancellations of %d orders, 4 workers: %d status calls", n-1, n, calls)
}

// Deliveries of one order queued together run as one job: it applies the
// newest view that changes something, and completes the others with it.
func TestQueuedViewsOfAnOrderFoldIntoOne(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id := h.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "A", Email: "a@example.org", Items: []wootest.Item{{ProductID: 10}}})
	processing, _ := h.shop.OrderJSON(id)
	time.Sleep(1100 * time.Millisecond) // date_modified has second resolution
	h.shop.SetStatus(id, "completed")
	completed, _ := h.shop.OrderJSON(id)
	time.Sleep(1100 * time.Millisecond)
	h.shop.SetStatus(id, "on-hold")
	onHold, _ := h.shop.OrderJSON(id)
	// Delivered out of order: the newest view (on-hold) changes nothing and
	// must not hide the completed one.
	h.deliverBody("order.updated", onHold)
	h.deliverBody("order.created", processing)
	h.deliverBody("order.updated", completed)
	if ran, err := h.w.RunOne(ctx); !ran || err != nil {
		t.Fatalf("RunOne = %v, %v", ran, err)
	}
	if ran, err := h.w.RunOne(ctx); ran || err != nil {
		t.Errorf("a second job ran (%v, %v): the queued views were not folded", ran, err)
	}
	if got := h.status(h.meeting, "a@example.org"); got != "approved" {
		t.Errorf("after the folded views the attendee is %s, want approved", got)
	}
	jobs, _ := h.db.Jobs(ctx, "", 10)
	folded := 0
	for _, j := range jobs {
		if j.State != rules.JobDone {
			t.Errorf("job %d is %s, want done", j.ID, j.State)
		}
		if strings.Contains(j.Result, "folded into job") {
			folded++
		}
	}
	if folded != 2 {
		t.Errorf("%d jobs folded, want 2: %+v", folded, jobs)
	}

	// Completed, then cancelled, queued together: nothing is sent to Zoom
	// for the view that was already out of date.
	id2 := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "B", Email: "b@example.org", Items: []wootest.Item{{ProductID: 10}}})
	completed2, _ := h.shop.OrderJSON(id2)
	time.Sleep(1100 * time.Millisecond)
	h.shop.SetStatus(id2, "cancelled")
	cancelled2, _ := h.shop.OrderJSON(id2)
	h.deliverBody("order.created", completed2)
	h.deliverBody("order.updated", cancelled2)
	before := len(h.zoom.Calls())
	h.drain()
	if n := len(h.zoom.Calls()) - before; n != 0 {
		t.Errorf("%d Zoom calls for an order completed and cancelled before woozoom worked it, want 0", n)
	}
	if got := h.status(h.meeting, "b@example.org"); got != "none" {
		t.Errorf("the cancelled order's attendee is %s on Zoom, want none", got)
	}
}

// The customer hears of each change once: the links when access is given,
// which access ended (and why) when it is withdrawn, and nothing when the
// set of links did not change.
func TestCustomerIsToldWhatChangedOnce(t *testing.T) {
	h := newHarness(t)
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org",
		Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	customerNotes := func() []wootest.Note {
		var out []wootest.Note
		for _, n := range h.shop.Notes(id) {
			if n.Customer {
				out = append(out, n)
			}
		}
		return out
	}
	step := func(change func()) {
		time.Sleep(1100 * time.Millisecond) // date_modified has second resolution
		change()
		h.deliver(id)
		h.drain()
		h.deliver(id) // the echo of woozoom's own write
		h.drain()
	}
	h.deliver(id)
	h.drain()
	notes := customerNotes()
	if len(notes) != 1 || !strings.Contains(notes[0].Note, "Online guided tour") || !strings.Contains(notes[0].Note, "Restoring paintings") {
		t.Fatalf("after completion: customer notes %+v, want one with both links", notes)
	}
	text, ok := h.shop.Meta(id, orders.MetaTextKey)
	if !ok || !strings.Contains(fmt.Sprint(text), "passcode Tour42") {
		t.Errorf("meta %s = %v, want the access text", orders.MetaTextKey, text)
	}

	// The webinar line refunded: only that access is withdrawn.
	step(func() { h.shop.Refund(id, "cannot attend the webinar", map[int64]int{h.shop.LineItemIDs(id)[1]: 1}) })
	notes = customerNotes()
	if len(notes) != 2 {
		t.Fatalf("after a partial refund: %d customer notes, want 2", len(notes))
	}
	if n := notes[1].Note; !strings.Contains(n, "withdrawn because your ticket was refunded") || !strings.Contains(n, "Restoring paintings") || strings.Contains(n, "Online guided tour") {
		t.Errorf("partial refund note: %q, want the webinar withdrawn and nothing else", n)
	}

	// Cancelled: the rest is withdrawn, in words, and the links leave the meta.
	step(func() { h.shop.SetStatus(id, "cancelled") })
	notes = customerNotes()
	if len(notes) != 3 {
		t.Fatalf("after cancelling: %d customer notes, want 3", len(notes))
	}
	if n := notes[2].Note; !strings.Contains(n, "withdrawn because the order is cancelled") || !strings.Contains(n, "Online guided tour") || strings.Contains(n, "https://") {
		t.Errorf("cancel note: %q", n)
	}
	if _, ok := h.shop.Meta(id, orders.MetaTextKey); ok {
		t.Error("the access text stayed on a cancelled order")
	}

	// Completed again: the links are sent again.
	step(func() { h.shop.SetStatus(id, "completed") })
	notes = customerNotes()
	if len(notes) != 4 || !strings.Contains(notes[3].Note, "Online guided tour") || strings.Contains(notes[3].Note, "Restoring paintings") {
		t.Errorf("completed again: %d customer notes, last %q", len(notes), notes[len(notes)-1].Note)
	}
}

// runner wires the order room into a worker, as woozoom's serve does.
func runner(oc orders.Config, wc worker.Config, db *store.DB, z orders.Zoom, shop orders.Shop) *worker.Worker {
	room := orders.New(oc, db, z, shop, woo.ParseDelivery, discard())
	wc.Holders = func(token string) worker.Holder { return db.Holder(token) }
	wc.Rooms = map[worker.Kind]worker.Room{worker.OrderJob: room, worker.RegistrantEvent: room.Registrants()}
	return worker.New(wc, db, discard())
}

// The order's job writes its attendance once: the write's echo, read back
// in another shape than woozoom wrote (numbers as strings, as a shop may
// give nested meta), finds what it last wrote and writes nothing again.
func TestAttendanceWrittenOnceWhateverTheEchoShape(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id := h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ann", Email: "ann@example.org", Items: []wootest.Item{{ProductID: 11}}})
	h.deliver(id)
	h.drain()
	webinar := rules.Target{Kind: rules.Webinar, ID: h.webinar}
	regs, _ := h.db.Registrations(ctx, id)
	at := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	if err := h.db.SaveAttendance(ctx, webinar, "w-uuid==", []rules.Attendance{{Registration: regs[0], Attended: true, FirstJoin: at, LastLeave: at.Add(time.Hour), Minutes: 45}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.RequeueOrder(ctx, id); err != nil {
		t.Fatal(err)
	}
	before := h.shop.Writes()
	h.drain()
	if n := h.shop.Writes() - before; n != 1 {
		t.Fatalf("the attendance made %d order updates, want 1 (the meta)", n)
	}
	// The echo, its meta value with every number a string.
	body, _ := h.shop.OrderJSON(id)
	var order map[string]any
	if err := json.Unmarshal(body, &order); err != nil {
		t.Fatal(err)
	}
	for _, m := range order["meta_data"].([]any) {
		if m := m.(map[string]any); m["key"] == orders.AttendanceMetaKey {
			raw, _ := json.Marshal(m["value"])
			m["value"] = strings.ReplaceAll(string(raw), `"minutes":45`, `"minutes":"45"`)
		}
	}
	echo, _ := json.Marshal(order)
	if !strings.Contains(string(echo), `\"minutes\":\"45\"`) {
		t.Fatalf("the echo was not reshaped: %s", echo)
	}
	before = h.shop.Writes()
	h.deliverBody("order.updated", echo)
	h.drain()
	if n := h.shop.Writes() - before; n != 0 {
		t.Errorf("the echo made %d order updates, want none", n)
	}
}
