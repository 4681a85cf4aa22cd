package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/woo/wootest"
)

const academySecret = "whsec-academy-91c2"

// useTwoShops restarts woozoom with the e2e shop as museum and a second
// shop, academy, under shops: both sell product 10, the same Zoom meeting;
// academy's product 20 is the webinar. Order ids of the two fake shops
// repeat (each starts at 101). academy's keys come from the environment.
func (e *e2e) useTwoShops() *wootest.Shop {
	e.t.Helper()
	academy := wootest.NewShop("ck_academy", "cs_academy_secret")
	ca := filepath.Join(filepath.Dir(e.cfgFile), "academy-ca.pem")
	srv := serveShop(e.t, academy, ca)
	e.t.Setenv("WOOZOOM_SHOPS_ACADEMY_CONSUMER_SECRET", "cs_academy_secret")
	e.t.Setenv("WOOZOOM_SHOPS_ACADEMY_WEBHOOK_SECRET", academySecret)
	e.serveWith(func(cfg string) string {
		// museum's settings move under shops:, with its events.
		i, j := strings.Index(cfg, "woocommerce:\n"), strings.Index(cfg, "zoom:\n")
		museum := strings.ReplaceAll(cfg[i+len("woocommerce:\n"):j], "\n  ", "\n    ")
		k := strings.Index(cfg, "events:\n")
		events := strings.ReplaceAll(cfg[k:], "\n  ", "\n      ")
		cfg = cfg[:i] + cfg[j:k]
		return cfg + "shops:\n  - name: museum\n    " + strings.TrimSpace(museum) + "\n    " + strings.TrimRight(events, "\n") + "\n" +
			fmt.Sprintf("  - name: academy\n    url: %s\n    consumer_key: ck_academy\n    ca_file: %s\n    events:\n      - {product_id: 10, meeting_id: \"%d\"}\n      - {product_id: 20, webinar_id: %d}\n",
				srv.URL, ca, e.meeting, e.webinar)
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce/museum")
	}
	academy.AddWebhook(e.url+"/webhooks/woocommerce/academy", academySecret, "order.created", "order.updated", "order.deleted", "order.restored")
	return academy
}

// Two shops in one woozoom: order 101 of each is its own, registered on
// the meeting both sell and written back to its own shop; a cancel in one
// shop leaves the other's attendees, and a seat both shops' orders hold
// stays until neither does. Each shop's webhooks come in at its own path
// under its own secret, and the commands work one shop at a time.
func TestTwoShops(t *testing.T) {
	e := startE2E(t)
	academy := e.useTwoShops()
	if strings.Contains(e.logs.String(), academySecret) || strings.Contains(e.logs.String(), "cs_academy_secret") {
		t.Error("academy's secrets appear in the log")
	}
	m := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org", Items: []wootest.Item{{ProductID: 10}}})
	a := academy.CreateOrder(wootest.Order{Status: "completed", FirstName: "Bob", Email: "bob@example.org", Items: []wootest.Item{{ProductID: 10}, {ProductID: 20}}})
	if m != a {
		t.Fatalf("the fake shops gave orders %d and %d; the test needs one id in both", m, a)
	}
	flush := func() { academy.Flush() }
	e.eventually("order 101 of each shop registered", func() bool {
		flush()
		return e.zoomStatus(e.meeting, "rita@example.org") == "approved" && e.zoomStatus(e.meeting, "bob@example.org") == "approved" &&
			e.zoomStatus(e.webinar, "bob@example.org") == "approved"
	})
	e.eventually("each shop's order 101 got its own attendees' links", func() bool {
		flush()
		mm, _ := e.shop.Meta(m, orders.MetaKey)
		am, _ := academy.Meta(a, orders.MetaKey)
		return strings.Contains(fmt.Sprint(mm), "rita@example.org") && !strings.Contains(fmt.Sprint(mm), "bob@example.org") &&
			strings.Contains(fmt.Sprint(am), "bob@example.org") && !strings.Contains(fmt.Sprint(am), "rita@example.org")
	})

	// Carol buys the meeting in both shops: one registrant on Zoom.
	mc := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Carol", Email: "carol@example.org", Items: []wootest.Item{{ProductID: 10}}})
	academy.CreateOrder(wootest.Order{Status: "completed", FirstName: "Carol", Email: "carol@example.org", Items: []wootest.Item{{ProductID: 10}}})
	e.eventually("carol registered", func() bool { flush(); return e.zoomStatus(e.meeting, "carol@example.org") == "approved" && e.settled() })

	// museum cancels both its orders: Rita goes; Bob (academy's) stays, and
	// Carol stays for her academy ticket.
	e.shop.SetStatus(m, "cancelled")
	e.shop.SetStatus(mc, "cancelled")
	e.eventually("rita denied", func() bool { flush(); return e.zoomStatus(e.meeting, "rita@example.org") == "denied" && e.settled() })
	if s := e.zoomStatus(e.meeting, "bob@example.org"); s != "approved" {
		t.Errorf("academy's Bob is %s after museum's order %d was cancelled", s, m)
	}
	if s := e.zoomStatus(e.meeting, "carol@example.org"); s != "approved" {
		t.Errorf("Carol, who holds an academy ticket, is %s after her museum order was cancelled", s)
	}

	// Each shop's secret at its own path.
	body, _ := academy.OrderJSON(a)
	for _, c := range []struct {
		path, secret string
		want         int
	}{
		{"/webhooks/woocommerce/academy", academySecret, http.StatusOK},
		{"/webhooks/woocommerce/academy", e.secret, http.StatusUnauthorized},
		{"/webhooks/woocommerce/bookshop", academySecret, http.StatusNotFound},
	} {
		sender := &wootest.Sender{URL: e.url + c.path, Secret: c.secret, WebhookID: 9, Source: "https://academy.example"}
		if code, err := sender.Send("order.updated", body); err != nil || code != c.want {
			t.Errorf("a delivery signed with %s at %s answered %d (%v), want %d", c.secret, c.path, code, err, c.want)
		}
	}

	// /metrics counts each shop's deliveries and calls.
	_, text := get(t, e.url+"/metrics")
	for _, c := range []struct{ name, label string }{
		{"woozoom_deliveries_total", `shop="academy"`}, {"woozoom_deliveries_total", `shop="museum"`},
		{"woozoom_calls_total", `service="woocommerce:academy"`}, {"woozoom_calls_total", `service="woocommerce:museum"`},
	} {
		if metric(text, c.name, c.label) == 0 {
			t.Errorf("/metrics counts no %s with %s", c.name, c.label)
		}
	}
	if n := metric(text, "woozoom_deliveries_total", `shop="academy"`, `result="refused"`); n != 1 {
		t.Errorf("academy's refused deliveries counted %v, want 1", n)
	}

	// The commands work one shop at a time: academy's export has Bob and
	// Carol, museum's Rita and Carol, cancelled.
	for shop, want := range map[string][]string{"academy": {"bob@example.org", "carol@example.org"}, "museum": {"rita@example.org", "carol@example.org"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"export", "--config", e.cfgFile, "--shop", shop, "--product", "10"}, &out, &errOut); code != 0 {
			t.Fatalf("export --shop %s: %s", shop, errOut.String())
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("export --shop %s lacks %s:\n%s", shop, w, out.String())
			}
		}
		if strings.Count(out.String(), "\n") != 3 {
			t.Errorf("export --shop %s has other shops' attendees:\n%s", shop, out.String())
		}
	}
	// webhooks install --shop points the shop's webhooks at its own path.
	for _, w := range academy.Webhooks() {
		academy.SetWebhookURL(w.ID, "https://elsewhere.example/hook")
	}
	var out, installErr bytes.Buffer
	if code := run(context.Background(), []string{"webhooks", "install", "--config", e.cfgFile, "--shop", "academy", "--url", e.url + "/webhooks/woocommerce"}, &out, &installErr); code != 0 {
		t.Fatalf("webhooks install --shop academy: %s", installErr.String())
	}
	ours := 0
	for _, w := range academy.Webhooks() {
		if w.DeliveryURL == e.url+"/webhooks/woocommerce/academy" && w.Status == "active" {
			ours++
		}
	}
	if ours < 4 {
		t.Errorf("%d of academy's webhooks deliver to its path after install:\n%s", ours, out.String())
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"jobs", "list", "--config", e.cfgFile, "--shop", "bookshop"}, &bytes.Buffer{}, &errOut); code == 0 || !strings.Contains(errOut.String(), "academy") {
		t.Errorf("an unknown --shop: exit %d, %q", code, errOut.String())
	}
}
