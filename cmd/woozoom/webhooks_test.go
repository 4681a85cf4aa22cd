package main

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
)

func (e *e2e) cli(args ...string) (string, int) {
	e.t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), append(args, "--config", e.cfgFile), &out, &out)
	return out.String(), code
}

func TestWebhooksInstallAndStatus(t *testing.T) {
	e := startE2E(t)
	e.shop.DeleteWebhooks()
	url := e.url + "/webhooks/woocommerce"

	out, code := e.cli("webhooks", "status")
	if code == 0 || strings.Count(out, "missing") != 4 {
		t.Errorf("status with no webhooks: exit %d\n%s", code, out)
	}

	// A URL that does not reach woozoom creates nothing.
	out, code = e.cli("webhooks", "install", "--url", "http://127.0.0.1:1/webhooks/woocommerce")
	if code == 0 || !strings.Contains(out, "start woozoom first") || len(e.shop.Webhooks()) != 0 {
		t.Errorf("install to an unreachable URL: exit %d, %d webhooks\n%s", code, len(e.shop.Webhooks()), out)
	}

	out, code = e.cli("webhooks", "install", "--url", url)
	if code != 0 || strings.Count(out, "created webhook") != 4 {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	var topics []string
	for _, w := range e.shop.Webhooks() {
		topics = append(topics, w.Topic)
		if w.Secret != e.secret || w.Status != "active" || w.DeliveryURL != url || w.APIVersion != "wp_api_v3" || w.Name != woo.WebhookName(w.Topic) {
			t.Errorf("installed webhook %+v", w)
		}
	}
	slices.Sort(topics)
	if strings.Join(topics, ",") != "order.created,order.deleted,order.restored,order.updated" {
		t.Errorf("topics = %v", topics)
	}
	for _, p := range e.shop.Pings() {
		if p.Status != http.StatusOK {
			t.Errorf("the shop's ping of webhook %d got %d, want 200", p.WebhookID, p.Status)
		}
	}
	if strings.Contains(out, e.secret) {
		t.Error("install printed the webhook secret")
	}

	// Again: nothing changes.
	saves := e.shop.WebhookSaves()
	out, code = e.cli("webhooks", "install", "--url", url)
	if code != 0 || !strings.Contains(out, "nothing changed") || len(e.shop.Webhooks()) != 4 || e.shop.WebhookSaves() != saves {
		t.Errorf("second install changed something: exit %d, %d webhooks, %d saves\n%s", code, len(e.shop.Webhooks()), e.shop.WebhookSaves()-saves, out)
	}
	if out, code := e.cli("webhooks", "status"); code != 0 || strings.Contains(out, "problem") {
		t.Errorf("status after install: exit %d\n%s", code, out)
	}

	// The webhooks deliver, signed with the right secret.
	e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ines", Email: "ines@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	e.eventually("the order delivered through the installed webhooks is registered", func() bool {
		return e.zoomStatus(e.meeting, "ines@example.org") == "approved"
	})

	// WooCommerce disabled one; someone repointed another: install repairs both.
	hooks := e.shop.Webhooks()
	e.shop.SetWebhookStatus(hooks[0].ID, "disabled")
	e.shop.SetWebhookURL(hooks[1].ID, "http://old-host:8080/webhooks/woocommerce")
	out, code = e.cli("webhooks", "status")
	if code == 0 || !strings.Contains(out, "disabled") {
		t.Errorf("status with a disabled webhook: exit %d\n%s", code, out)
	}
	out, code = e.cli("webhooks", "install", "--url", url)
	if code != 0 || strings.Count(out, "corrected webhook") != 2 || len(e.shop.Webhooks()) != 4 {
		t.Errorf("repair: exit %d, %d webhooks\n%s", code, len(e.shop.Webhooks()), out)
	}
	for _, w := range e.shop.Webhooks() {
		if w.Status != "active" || w.DeliveryURL != url {
			t.Errorf("after repair: %+v", w)
		}
	}
}
