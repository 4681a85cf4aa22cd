package woo_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
)

// health records the problems told to it, as health.Tracker keeps them.
type health map[string]string

func (h health) Problem(component, _, detail string) { h[component] = detail }
func (h health) OK(component string)                 { delete(h, component) }

func TestWatchReportsAndReactivates(t *testing.T) {
	shop := wootest.NewShop("ck", "cs")
	srv := httptest.NewTLSServer(shop)
	defer srv.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	wc, err := woo.New(woo.Config{URL: srv.URL, ConsumerKey: "ck", ConsumerSecret: "cs"}, srv.Client(), log)
	if err != nil {
		t.Fatal(err)
	}
	shop.AddWebhook("https://shop.example/woozoom/webhooks/woocommerce", "s", woo.OrderTopics...)
	disabled := shop.Webhooks()[1]
	shop.SetWebhookStatus(disabled.ID, "disabled")

	h, notActive := health{}, -1
	watch := &woo.Watch{Client: wc, Topics: woo.OrderTopics, Health: h, NotActive: func(n int) { notActive = n }, Log: log}
	watch.Check(context.Background())
	if p := h["webhooks"]; !strings.Contains(p, disabled.Topic) || !strings.Contains(p, "disabled") || notActive != 1 {
		t.Errorf("a disabled webhook: problem %q, %d not active", p, notActive)
	}
	if shop.Webhooks()[1].Status != "disabled" {
		t.Error("re-activated without Reactivate")
	}
	watch.Reactivate = true
	watch.Check(context.Background())
	if shop.Webhooks()[1].Status != "active" || len(h) != 0 || notActive != 0 || !strings.Contains(logs.String(), "re-activated a webhook") {
		t.Errorf("with Reactivate: status %s, problems %v, %d not active", shop.Webhooks()[1].Status, h, notActive)
	}
}
