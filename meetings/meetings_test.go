package meetings_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/woozoom/woozoom/meetings"
	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

const host = "host@shop.example"

// span is one job's work, as its room did it.
type span struct {
	kind       worker.Kind
	products   []int64
	start, end time.Time
}

// recorder wraps a room and records when each of its jobs worked (after
// the runner took what the room's jobs hold).
type recorder struct {
	mu    *sync.Mutex
	spans *[]span
	kind  worker.Kind
	room  worker.Room
	of    func(worker.Job) []int64
}

func (r recorder) Work(ctx context.Context, j worker.Job) (worker.Done, error) {
	start := time.Now()
	done, err := r.room.Work(ctx, j)
	r.mu.Lock()
	*r.spans = append(*r.spans, span{kind: r.kind, products: r.of(j), start: start, end: time.Now()})
	r.mu.Unlock()
	return done, err
}

func (r recorder) Holds(ctx context.Context, j worker.Job) ([]rules.Lease, error) {
	if h, ok := r.room.(worker.Holding); ok {
		return h.Holds(ctx, j)
	}
	return nil, nil
}

func fooEvent(date, hour string) []wootest.Meta {
	return []wootest.Meta{
		{Key: "WooCommerceEventsEvent", Value: "Event"}, {Key: "WooCommerceEventsDate", Value: date},
		{Key: "WooCommerceEventsHour", Value: hour}, {Key: "WooCommerceEventsMinutes", Value: "00"},
		{Key: "WooCommerceEventsPeriod", Value: "p.m."}, {Key: "WooCommerceEventsHourEnd", Value: "5"},
		{Key: "WooCommerceEventsMinutesEnd", Value: "30"}, {Key: "WooCommerceEventsEndPeriod", Value: "p.m."},
		{Key: "WooCommerceEventsTimeZone", Value: "Europe/Berlin"},
	}
}

// A job of a product (which makes, moves and renames the product's
// meeting) and a job of an order of that product never work at once:
// orders delivered in a stream while the product is saved again and again,
// worked by eight slots against a Zoom that answers slowly.
func TestProductAndItsOrdersNeverWorkAtOnce(t *testing.T) {
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
	fz.AddUser(zoomtest.User{Email: host, Type: 2})
	fz.SetLatency(3 * time.Millisecond)
	zs := httptest.NewServer(fz)
	t.Cleanup(zs.Close)
	zc := zoom.New(zoom.Config{AccountID: "a", ClientID: "c", ClientSecret: "s", APIURL: zs.URL + "/v2", OAuthURL: zs.URL + "/oauth/token",
		LightPerSecond: 1000, MediumPerSecond: 1000}, nil, log)
	shop := wootest.NewShop("ck", "cs")
	ss := httptest.NewTLSServer(shop)
	t.Cleanup(ss.Close)
	wc, err := woo.New(woo.Config{URL: ss.URL, ConsumerKey: "ck", ConsumerSecret: "cs"}, ss.Client(), log)
	if err != nil {
		t.Fatal(err)
	}
	product := shop.CreateProduct(wootest.Product{Name: "Course", Meta: fooEvent("2026-12-15", "3")})

	var mu sync.Mutex
	var spans []span
	ms := meetings.New(meetings.Config{
		Events: map[int64]meetings.Maker{product: {Kind: rules.Meeting, Host: host,
			Topic: func(p rules.Product, _, _ int) (string, error) { return p.Name, nil }}},
		Schedule: func(p rules.Product) (rules.Schedule, bool, error) { return woo.FooEventsSchedule(p.Meta, "UTC") },
	}, db, zoom.EventMeetings{Accounts: zoom.OneAccount(zc)}, wc, woo.ParseDelivery, log)
	om := orders.New(orders.Config{CustomerNote: true, Made: ms.Made(), Kept: ms.Kept()}, db, zc, wc, woo.ParseDelivery, log)
	orderProducts := func(j worker.Job) []int64 {
		o, _ := woo.ParseDelivery(j.Delivery.Topic, j.Delivery.Body)
		return o.ProductIDs()
	}
	w := worker.New(worker.Config{Workers: 8, Poll: 20 * time.Millisecond, Lease: 5 * time.Second,
		RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Holders: func(token string) worker.Holder { return db.Holder(token) },
		Rooms: map[worker.Kind]worker.Room{
			worker.OrderJob:   recorder{&mu, &spans, worker.OrderJob, om, orderProducts},
			worker.ProductJob: recorder{&mu, &spans, worker.ProductJob, ms, func(worker.Job) []int64 { return []int64{product} }},
		},
	}, db, log)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	deliver := func(d rules.Delivery) {
		d.DeliveryID = fmt.Sprint(time.Now().UnixNano())
		if _, _, err := db.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		w.Wake()
	}
	var ids []int64
	for round := range 6 {
		for i := range 5 {
			id := shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ana", Email: fmt.Sprintf("ana%d-%d@example.org", round, i),
				Items: []wootest.Item{{ProductID: product, Quantity: 1}}})
			ids = append(ids, id)
			body, _ := shop.OrderJSON(id)
			deliver(rules.Delivery{Topic: "order.updated", OrderID: id, Body: body})
		}
		name := fmt.Sprintf("Course, part %d", round)
		shop.SetProduct(product, func(p *wootest.Product) { p.Name = name })
		deliver(rules.Delivery{Topic: "product.updated", Key: rules.ProductKey(product), Body: []byte(fmt.Sprintf(`{"id":%d}`, product))})
		time.Sleep(15 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := db.JobCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c[rules.JobQueued]+c[rules.JobRunning] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still open: %v", c)
		}
		time.Sleep(20 * time.Millisecond)
	}

	made, _ := db.MadeMeetings(ctx, product)
	if len(made) != 1 || made[0].State != rules.MadeDone {
		t.Fatalf("made meetings: %+v", made)
	}
	for _, id := range ids {
		body, _ := shop.OrderJSON(id)
		o, _ := woo.ParseOrder(body)
		if r, ok := fz.Registrant(made[0].Target.ID, o.Billing.Email); !ok || r.Status != "approved" {
			t.Errorf("order %d's attendee is not registered on the product's meeting", id)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var products, ordersOf int
	for _, a := range spans {
		if a.kind != worker.ProductJob {
			continue
		}
		products++
		for _, b := range spans {
			if b.kind != worker.OrderJob || !slices.Contains(b.products, product) {
				continue
			}
			if b.start.Before(a.end) && a.start.Before(b.end) {
				t.Errorf("an order job of product %d worked %s to %s, while a job of the product worked %s to %s",
					product, b.start.Format("15:04:05.000"), b.end.Format("15:04:05.000"), a.start.Format("15:04:05.000"), a.end.Format("15:04:05.000"))
			}
		}
	}
	for _, b := range spans {
		if b.kind == worker.OrderJob {
			ordersOf++
		}
	}
	if products < 3 || ordersOf < len(ids) {
		t.Errorf("%d product jobs and %d order jobs worked; the test needs several of each interleaved", products, ordersOf)
	}
}

func TestTopic(t *testing.T) {
	p := rules.Product{ID: 812, Name: "Watercolour basics"}
	for _, c := range []struct {
		text      string
		day, days int
		want      string
	}{
		{"", 0, 0, "Watercolour basics"},
		{"", 2, 3, "Watercolour basics (day 2 of 3)"},
		{"{{.Name}} live", 0, 0, "Watercolour basics live"},
	} {
		topic, err := meetings.Topic(c.text)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := topic(p, c.day, c.days); err != nil || got != c.want {
			t.Errorf("Topic(%q)(day %d of %d) = %q, %v; want %q", c.text, c.day, c.days, got, err, c.want)
		}
	}
	long, _ := meetings.Topic("")
	if got, _ := long(rules.Product{ID: 1, Name: strings.Repeat("x", 300)}, 0, 0); len(got) != 200 {
		t.Errorf("a 300-character name gives a topic of %d characters, want Zoom's 200", len(got))
	}
	if _, err := meetings.Topic("{{.Title}}"); err == nil {
		t.Error("a topic naming an unknown field was accepted")
	}
}
