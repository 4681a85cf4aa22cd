package woo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/woo"
)

func TestPlanWebhooks(t *testing.T) {
	const url = "https://shop.example/woozoom/webhooks/woocommerce"
	ours := func(id int64, topic, status, u string) woo.Webhook {
		return woo.Webhook{ID: id, Name: woo.WebhookName(topic), Topic: topic, Status: status, DeliveryURL: u}
	}
	topics := []string{"order.created", "order.updated"}
	for name, c := range map[string]struct {
		hooks []woo.Webhook
		want  []woo.WebhookChange // Why is not compared
	}{
		"none: create both": {nil, []woo.WebhookChange{{Topic: "order.created"}, {Topic: "order.updated"}}},
		"all well: nothing": {[]woo.Webhook{ours(1, "order.created", "active", url), ours(2, "order.updated", "active", url+"/")}, nil},
		"disabled: activate": {[]woo.Webhook{ours(1, "order.created", "disabled", url), ours(2, "order.updated", "paused", url)},
			[]woo.WebhookChange{{Topic: "order.created", ID: 1, Activate: true}, {Topic: "order.updated", ID: 2, Activate: true}}},
		"ours with an old URL: repoint": {[]woo.Webhook{ours(1, "order.created", "active", "http://old:8080/webhooks/woocommerce"), ours(2, "order.updated", "active", url)},
			[]woo.WebhookChange{{Topic: "order.created", ID: 1, SetURL: true}}},
		"ours with an old URL, disabled: repoint and activate": {[]woo.Webhook{ours(1, "order.created", "disabled", "http://old/x"), ours(2, "order.updated", "active", url)},
			[]woo.WebhookChange{{Topic: "order.created", ID: 1, SetURL: true, Activate: true}}},
		"someone else's webhook of the topic is left alone": {[]woo.Webhook{{ID: 7, Name: "Zapier", Topic: "order.created", Status: "active", DeliveryURL: "https://hooks.zapier.com/x"}, ours(2, "order.updated", "active", url)},
			[]woo.WebhookChange{{Topic: "order.created"}}},
		"an active duplicate wins over a disabled one": {[]woo.Webhook{ours(1, "order.created", "disabled", url), ours(3, "order.created", "active", url), ours(2, "order.updated", "active", url)}, nil},
	} {
		got := woo.PlanWebhooks(c.hooks, topics, url)
		for i := range got {
			if got[i].Why == "" {
				t.Errorf("%s: change %d has no reason", name, i)
			}
			got[i].Why = ""
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %+v, want %+v", name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: change %d = %+v, want %+v", name, i, got[i], c.want[i])
			}
		}
	}
}

func TestCheckWebhooksWithoutAURLAcceptsWoozoomsPath(t *testing.T) {
	hooks := []woo.Webhook{
		{ID: 1, Topic: "order.created", Status: "active", DeliveryURL: "https://shop.example/woozoom/webhooks/woocommerce"},
		{ID: 2, Topic: "order.updated", Status: "active", DeliveryURL: "https://elsewhere.example/hook"},
	}
	st := woo.CheckWebhooks(hooks, []string{"order.created", "order.updated"}, "")
	if st[0].Problem != "" || st[1].Problem == "" || !strings.Contains(st[1].Problem, "https://elsewhere.example/hook") {
		t.Errorf("states = %+v", st)
	}
}

func TestClientManagesWebhooksOnTheFakeShop(t *testing.T) {
	shop, c, _ := shopServer(t)
	pinged := make(chan string, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		pinged <- r.PostForm.Get("webhook_id")
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	ctx := context.Background()
	topic, url, secret, paused := "order.created", recv.URL+"/webhooks/woocommerce", "s3cretLetters", "paused"
	created, err := c.CreateWebhook(ctx, woo.WebhookFields{Name: ptr(woo.WebhookName(topic)), Topic: &topic, DeliveryURL: &url, Secret: &secret, Status: &paused})
	if err != nil {
		t.Fatal(err)
	}
	if created.Status != "active" || created.Topic != topic || created.DeliveryURL != url {
		t.Errorf("created = %+v; WooCommerce makes a new webhook active", created)
	}
	if id := <-pinged; id == "" {
		t.Error("the shop did not ping the new webhook's URL")
	}
	if got := shop.Webhooks()[0]; got.Secret != secret || got.APIVersion != "wp_api_v3" {
		t.Errorf("stored webhook = %+v", got)
	}
	bad := "coupon.sold"
	if _, err := c.CreateWebhook(ctx, woo.WebhookFields{Topic: &bad, DeliveryURL: &url}); err == nil || !strings.Contains(err.Error(), "woocommerce_rest_webhook_invalid_topic") {
		t.Errorf("invalid topic: %v", err)
	}
	disabled := "disabled"
	if _, err := c.UpdateWebhook(ctx, created.ID, woo.WebhookFields{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	list, err := c.Webhooks(ctx)
	if err != nil || len(list) != 1 || list[0].Status != "disabled" {
		t.Errorf("Webhooks = %+v, %v", list, err)
	}
}

func ptr[T any](v T) *T { return &v }
