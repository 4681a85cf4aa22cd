package woo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
)

func meta(kv ...any) []rules.Meta {
	var out []rules.Meta
	for i := 0; i < len(kv); i += 2 {
		b, _ := json.Marshal(kv[i+1])
		out = append(out, rules.Meta{Key: kv[i].(string), Value: b})
	}
	return out
}

func TestFooEventsSchedule(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	at := func(loc *time.Location, y int, mo time.Month, d, h, m int) time.Time {
		return time.Date(y, mo, d, h, m, 0, 0, loc)
	}
	for _, tc := range []struct {
		name     string
		meta     []rules.Meta
		zone     string
		want     []rules.Session
		wantZone string
		notEvent bool
		bad      bool
	}{
		{name: "not a FooEvents product", meta: meta("_price", "10"), notEvent: true},
		{
			name: "MySQL date, 12-hour clock with end, zone from the product",
			meta: meta("WooCommerceEventsDateMySQLFormat", "2026-12-03", "WooCommerceEventsHour", "06", "WooCommerceEventsMinutes", "30",
				"WooCommerceEventsPeriod", "p.m.", "WooCommerceEventsHourEnd", "08", "WooCommerceEventsMinutesEnd", "00",
				"WooCommerceEventsEndPeriod", "p.m.", "WooCommerceEventsTimeZone", "America/New_York"),
			zone: "Europe/Berlin", wantZone: "America/New_York",
			want: []rules.Session{{Start: at(ny, 2026, 12, 3, 18, 30), End: at(ny, 2026, 12, 3, 20, 0)}},
		},
		{
			name: "site date format, 24-hour clock, no end, shop's zone",
			meta: meta("WooCommerceEventsDate", "December 03, 2026", "WooCommerceEventsHour", "18", "WooCommerceEventsMinutes", "00",
				"WooCommerceEventsHourEnd", "00", "WooCommerceEventsMinutesEnd", "00"),
			zone: "Europe/Berlin", wantZone: "Europe/Berlin",
			want: []rules.Session{{Start: at(berlin, 2026, 12, 3, 18, 0), End: at(berlin, 2026, 12, 3, 19, 0)}},
		},
		{
			name: "12 a.m. is midnight; an unknown zone falls back to the shop's",
			meta: meta("WooCommerceEventsDateMySQLFormat", "2026-12-03", "WooCommerceEventsHour", "12", "WooCommerceEventsMinutes", "15",
				"WooCommerceEventsPeriod", "AM", "WooCommerceEventsTimeZone", "Not/AZone"),
			zone: "Europe/Berlin", wantZone: "Europe/Berlin",
			want: []rules.Session{{Start: at(berlin, 2026, 12, 3, 0, 15), End: at(berlin, 2026, 12, 3, 1, 15)}},
		},
		{
			name: "time only in the MySQL date",
			meta: meta("WooCommerceEventsDateMySQLFormat", "2026-12-03 09:45:00"),
			zone: "", wantZone: "UTC",
			want: []rules.Session{{Start: at(time.UTC, 2026, 12, 3, 9, 45), End: at(time.UTC, 2026, 12, 3, 10, 45)}},
		},
		{
			name: "sequential days at the same times",
			meta: meta("WooCommerceEventsDateMySQLFormat", "2026-12-30", "WooCommerceEventsHour", "10", "WooCommerceEventsMinutes", "00",
				"WooCommerceEventsHourEnd", "12", "WooCommerceEventsMinutesEnd", "30", "WooCommerceEventsType", "sequential", "WooCommerceEventsNumDays", "3"),
			zone: "Europe/Berlin", wantZone: "Europe/Berlin",
			want: []rules.Session{
				{Start: at(berlin, 2026, 12, 30, 10, 0), End: at(berlin, 2026, 12, 30, 12, 30)},
				{Start: at(berlin, 2026, 12, 31, 10, 0), End: at(berlin, 2026, 12, 31, 12, 30)},
				{Start: at(berlin, 2027, 1, 1, 10, 0), End: at(berlin, 2027, 1, 1, 12, 30)},
			},
		},
		{
			name: "selected days",
			meta: meta("WooCommerceEventsDate", "December 3, 2026", "WooCommerceEventsHour", "07", "WooCommerceEventsMinutes", "00", "WooCommerceEventsPeriod", "pm",
				"WooCommerceEventsType", "select", "WooCommerceEventsSelectDate", []string{"December 3, 2026", "December 10, 2026"}),
			zone: "Europe/Berlin", wantZone: "Europe/Berlin",
			want: []rules.Session{
				{Start: at(berlin, 2026, 12, 3, 19, 0), End: at(berlin, 2026, 12, 3, 20, 0)},
				{Start: at(berlin, 2026, 12, 10, 19, 0), End: at(berlin, 2026, 12, 10, 20, 0)},
			},
		},
		{name: "unreadable date", meta: meta("WooCommerceEventsDate", "3/12/26"), zone: "UTC", bad: true},
		{name: "select without dates", meta: meta("WooCommerceEventsDate", "December 3, 2026", "WooCommerceEventsType", "select"), zone: "UTC", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok, err := woo.FooEventsSchedule(tc.meta, tc.zone)
			switch {
			case tc.notEvent:
				if ok || err != nil {
					t.Errorf("ok %v err %v, want not an event", ok, err)
				}
				return
			case tc.bad:
				if !ok || err == nil {
					t.Errorf("ok %v err %v, want an error", ok, err)
				}
				return
			case !ok || err != nil:
				t.Fatalf("ok %v err %v", ok, err)
			}
			if s.Timezone != tc.wantZone {
				t.Errorf("zone %q, want %q", s.Timezone, tc.wantZone)
			}
			if len(s.Sessions) != len(tc.want) {
				t.Fatalf("sessions %v, want %v", s.Sessions, tc.want)
			}
			for i, w := range tc.want {
				if !s.Sessions[i].Start.Equal(w.Start) || !s.Sessions[i].End.Equal(w.End) {
					t.Errorf("session %d = %v–%v, want %v–%v", i, s.Sessions[i].Start, s.Sessions[i].End, w.Start, w.End)
				}
			}
		})
	}
}

func TestMetaKeySchedule(t *testing.T) {
	s, ok, err := woo.MetaKeySchedule(meta("event_start", "2026-12-03T18:00:00+01:00", "event_end", "2026-12-03T20:00:00+01:00"), "event_start", "event_end", "Europe/Berlin")
	if err != nil || !ok || len(s.Sessions) != 1 || s.Sessions[0].End.Sub(s.Sessions[0].Start) != 2*time.Hour || s.Sessions[0].Start.UTC().Hour() != 17 {
		t.Errorf("ISO keys: %+v %v %v", s, ok, err)
	}
	if s, _, err := woo.MetaKeySchedule(meta("event_start", "2026-12-03T18:00:00"), "event_start", "event_end", "Europe/Berlin"); err != nil || s.Sessions[0].Start.UTC().Hour() != 17 || s.Sessions[0].End.Sub(s.Sessions[0].Start) != time.Hour {
		t.Errorf("local time without an end: %+v %v", s, err)
	}
	if _, ok, _ := woo.MetaKeySchedule(meta("other", "x"), "event_start", "event_end", ""); ok {
		t.Error("a product without the start key read as an event")
	}
	if _, _, err := woo.MetaKeySchedule(meta("event_start", "2026-12-03T18:00:00Z", "event_end", "2026-12-03T17:00:00Z"), "event_start", "event_end", ""); err == nil {
		t.Error("an end before the start accepted")
	}
}

// A product is read over REST, its event schedule taken from its meta, and
// woozoom's own meta written back to it.
func TestClientReadsProductsAndWritesTheirMeta(t *testing.T) {
	shop, client, _ := shopServer(t)
	ctx := context.Background()
	stock := 40
	id := shop.CreateProduct(wootest.Product{Name: "Online guided tour", Stock: &stock, Meta: []wootest.Meta{
		{Key: "WooCommerceEventsDateMySQLFormat", Value: "2026-12-03"}, {Key: "WooCommerceEventsHour", Value: "06"},
		{Key: "WooCommerceEventsMinutes", Value: "00"}, {Key: "WooCommerceEventsPeriod", Value: "p.m."},
		{Key: "WooCommerceEventsTimeZone", Value: "Europe/Berlin"},
	}})
	p, err := client.Product(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != id || p.Name != "Online guided tour" || p.Status != "publish" || p.Stock == nil || *p.Stock != 40 || p.Modified.IsZero() {
		t.Errorf("product = %+v", p)
	}
	s, ok, err := woo.FooEventsSchedule(p.Meta, "UTC")
	if err != nil || !ok || len(s.Sessions) != 1 || s.Sessions[0].Start.UTC().Hour() != 17 {
		t.Errorf("schedule from the product's meta: %+v %v %v", s, ok, err)
	}
	value := json.RawMessage(`[{"day":1,"type":"meeting","id":"85746065123"}]`)
	if err := client.UpdateProductMeta(ctx, id, []rules.Meta{{Key: "_woozoom_meetings", Value: value}}); err != nil {
		t.Fatal(err)
	}
	if v, ok := shop.ProductMeta(id, "_woozoom_meetings"); !ok || fmt.Sprint(v) != "[map[day:1 id:85746065123 type:meeting]]" {
		t.Errorf("product meta after the write: %v %v", v, ok)
	}
	if _, err := client.Product(ctx, id+999); !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("an unknown product: %v, want not found", err)
	}
}

// The fake shop delivers product webhooks as WooCommerce does: signed, the
// product as it is when the queue runs, and only its id once it is trashed.
func TestShopDeliversProductWebhooks(t *testing.T) {
	type got struct {
		topic string
		body  []byte
		sigOK bool
	}
	var mu sync.Mutex
	var received []got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, got{r.Header.Get(woo.HeaderTopic), body, woo.Verify(body, r.Header.Get(woo.HeaderSignature), "whsec-products")})
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	shop := wootest.NewShop("ck", "cs")
	shop.AddWebhook(srv.URL, "whsec-products", "product.created", "product.updated", "product.deleted")
	id := shop.CreateProduct(wootest.Product{Name: "Tour", Meta: []wootest.Meta{{Key: "WooCommerceEventsDateMySQLFormat", Value: "2026-12-03"}}})
	shop.SetProduct(id, func(p *wootest.Product) { p.Name = "Tour (new date)" })
	shop.Flush()
	shop.SetProduct(id, func(p *wootest.Product) { p.Status = "trash" })
	shop.Flush()
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 3 {
		t.Fatalf("%d deliveries, want created, updated, deleted", len(received))
	}
	for i, want := range []string{"product.created", "product.updated", "product.deleted"} {
		g := received[i]
		if g.topic != want || !g.sigOK || woo.ResourceID(g.body) != id {
			t.Errorf("delivery %d: topic %s, signature ok %v, id %d", i, g.topic, g.sigOK, woo.ResourceID(g.body))
		}
	}
	p, err := woo.ParseProduct(received[1].body)
	if err != nil || p.Name != "Tour (new date)" || len(p.Meta) != 1 {
		t.Errorf("the update's payload (built when the queue ran): %+v %v", p, err)
	}
	if string(received[2].body) != fmt.Sprintf(`{"id":%d}`, id) {
		t.Errorf("product.deleted payload %s, want only the id", received[2].body)
	}
}

// Restoring a product from the trash saves it first on WooCommerce 9.2 and
// later (its global unique ID is checked), so product.updated goes out
// before product.restored; 7.9 sends product.restored alone.
func TestShopRestoresProductsAsItsVersionDoes(t *testing.T) {
	for version, want := range map[string][]string{
		"10.0.2": {"product.updated", "product.restored"},
		"7.9.0":  {"product.restored"},
	} {
		var mu sync.Mutex
		var topics []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			topics = append(topics, r.Header.Get(woo.HeaderTopic))
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}))
		shop := wootest.NewShop("ck", "cs")
		shop.Version = version
		id := shop.CreateProduct(wootest.Product{Name: "Tour", Status: "trash"})
		shop.AddWebhook(srv.URL, "whsec-products", "product.updated", "product.restored")
		shop.SetProduct(id, func(p *wootest.Product) { p.Status = "publish" })
		shop.Flush()
		srv.Close()
		if !slices.Equal(topics, want) {
			t.Errorf("WooCommerce %s: restoring a product delivered %v, want %v", version, topics, want)
		}
	}
}
