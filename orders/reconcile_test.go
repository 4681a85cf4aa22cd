package orders_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
)

func TestReconcilePagesAndCheckpoints(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const n = 150 // two pages of 100
	for i := range n {
		h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "P", Email: fmt.Sprintf("p%03d@example.org", i), Items: []wootest.Item{{ProductID: 10}}})
	}
	rec := &orders.Reconciler{List: h.wc, Store: h.db, Decode: woo.ParseDelivery, Log: discard(), Lookback: 24 * time.Hour, Overlap: time.Minute}
	var pages []int
	since, _ := rec.Since(ctx)
	res, err := rec.Pass(ctx, since, func(page, total int, _ orders.PassResult) { pages = append(pages, page*10+total) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Orders != n || res.New != n || fmt.Sprint(pages) != "[12 22]" {
		t.Fatalf("first pass: %+v, progress %v; want %d orders over pages 1/2 and 2/2", res, pages, n)
	}
	h.drain()
	for i := range n {
		if got := h.status(h.meeting, fmt.Sprintf("p%03d@example.org", i)); got != "approved" {
			t.Fatalf("order %d's attendee after reconciliation: %s", i, got)
		}
	}
	// Again from the checkpoint: only what changed since (our own write-backs)
	// is read, and it changes nothing on Zoom.
	calls := len(h.zoom.Calls())
	since, _ = rec.Since(ctx)
	if _, err := rec.Pass(ctx, since, nil); err != nil {
		t.Fatal(err)
	}
	h.drain()
	for _, c := range h.zoom.Calls()[calls:] {
		if c.Method != "GET" {
			t.Errorf("a second pass changed Zoom: %s %s", c.Method, c.Path)
		}
	}
	// The same pass twice records nothing new.
	res2, _ := rec.Pass(ctx, since, nil)
	if res2.New != 0 {
		t.Errorf("repeating a pass recorded %d new deliveries, want 0", res2.New)
	}
}

// The orders of a product that register are all read while the shop goes
// on: an order cancelled between two pages, and one placed, move no other
// order out of the pages not yet read.
func TestOrdersOfAProductReadWhileTheShopGoesOn(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const n = 150 // two pages of 100
	ids := make([]int64, n)
	for i := range n {
		status := "completed"
		if i%10 == 0 {
			status = "processing" // read, but not queued
		}
		ids[i] = h.shop.CreateOrder(wootest.Order{Status: status, FirstName: "P", Email: fmt.Sprintf("p%03d@example.org", i), Items: []wootest.Item{{ProductID: 10}}})
	}
	list := func(ctx context.Context, page int) ([][]byte, int, error) {
		if page == 2 {
			// Between the pages: the first order is cancelled, a new one placed.
			if err := h.shop.SetStatus(ids[1], "cancelled"); err != nil {
				t.Fatal(err)
			}
			h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Q", Email: "late@example.org", Items: []wootest.Item{{ProductID: 10}}})
		}
		return h.wc.OrdersOfProduct(ctx, 10, page)
	}
	res, err := orders.EnqueueAs(ctx, h.db, woo.ParseDelivery, orders.Registering(list, woo.ParseDelivery, rules.DefaultPolicy()), "remade-test")
	if err != nil {
		t.Fatal(err)
	}
	queued := recordedOrders(t, h, res.Deliveries)
	for _, o := range queued {
		if o.Status != rules.StatusCompleted {
			t.Errorf("order %d (%s) queued", o.ID, o.Status)
		}
	}
	for i, id := range ids {
		if _, ok := queued[id]; i%10 != 0 && i != 1 && !ok {
			t.Errorf("completed order %d (the %dth) was never read", id, i+1)
		}
	}
}

// shiftingLister changes the shop between the first and the second page of
// a pass, as a busy shop (and woozoom's own write-backs) do.
type shiftingLister struct {
	wc      *woo.Client
	between func()
	read    map[int]bool
}

func (l *shiftingLister) OrdersModifiedSince(ctx context.Context, since time.Time, page int) ([][]byte, int, error) {
	if page == 2 && !l.read[2] {
		l.between()
	}
	l.read[page] = true
	return l.wc.OrdersModifiedSince(ctx, since, page)
}

// A pass reads every order modified after its start while orders change
// between its pages: an order of the first page saved again moves no other
// order out of the pages not yet read, and the next pass reads it again.
func TestReconcileReadsEveryOrderWhileTheShopGoesOn(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const n = 150 // two pages of 100
	ids := make([]int64, n)
	for i := range n {
		ids[i] = h.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "P", Email: fmt.Sprintf("p%03d@example.org", i), Items: []wootest.Item{{ProductID: 10}}})
	}
	time.Sleep(1100 * time.Millisecond) // the saves below are a second later
	lister := &shiftingLister{wc: h.wc, read: map[int]bool{}, between: func() {
		for _, id := range ids[:3] {
			if err := h.shop.SetStatus(id, "cancelled"); err != nil {
				t.Fatal(err)
			}
		}
		// A later save of an order on the page to come: the newest
		// modification this pass reads is after the cancellations.
		time.Sleep(1100 * time.Millisecond)
		if err := h.shop.SetStatus(ids[n-1], "processing"); err != nil {
			t.Fatal(err)
		}
	}}
	rec := &orders.Reconciler{List: lister, Store: h.db, Decode: woo.ParseDelivery, Log: discard(), Lookback: 24 * time.Hour, Overlap: time.Second}
	since, _ := rec.Since(ctx)
	res, err := rec.Pass(ctx, since, nil)
	if err != nil {
		t.Fatal(err)
	}
	read := recordedOrders(t, h, res.Deliveries)
	for i, id := range ids {
		if _, ok := read[id]; !ok {
			t.Errorf("order %d (the %dth) was not read by the pass", id, i+1)
		}
	}
	// The cancellations came after the pass read those orders: the next
	// pass reads them.
	since, _ = rec.Since(ctx)
	res, err = rec.Pass(ctx, since, nil)
	if err != nil {
		t.Fatal(err)
	}
	again := recordedOrders(t, h, res.Deliveries)
	for _, id := range ids[:3] {
		if again[id].Status != "cancelled" {
			t.Errorf("order %d's cancellation was not read by the next pass (%q)", id, again[id].Status)
		}
	}
}

// recordedOrders reads the orders a pass recorded, by id.
func recordedOrders(t *testing.T, h *harness, deliveries []int64) map[int64]rules.Order {
	t.Helper()
	out := map[int64]rules.Order{}
	for _, id := range deliveries {
		d, err := h.db.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		o, err := woo.ParseDelivery(d.Topic, d.Body)
		if err != nil {
			t.Fatal(err)
		}
		out[o.ID] = o
	}
	return out
}
