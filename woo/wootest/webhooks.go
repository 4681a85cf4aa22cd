package wootest

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// hooks are the WordPress actions WooCommerce binds to each core topic.
var hooks = map[string][]string{
	"order.created":    {"woocommerce_new_order"},
	"order.updated":    {"woocommerce_update_order", "woocommerce_order_refunded"},
	"order.deleted":    {"wp_trash_post"},
	"order.restored":   {"untrashed_post"},
	"product.created":  {"woocommerce_process_product_meta", "woocommerce_new_product"},
	"product.updated":  {"woocommerce_process_product_meta", "woocommerce_update_product"},
	"product.deleted":  {"wp_trash_post"},
	"product.restored": {"untrashed_post"},
}

// validTopic is wc_is_webhook_valid_topic: resource.event of the core
// resources and events, or a custom action.
func validTopic(t string) bool {
	if strings.HasPrefix(t, "action.") && len(t) > len("action.") {
		return true
	}
	res, ev, ok := strings.Cut(t, ".")
	switch res {
	case "coupon", "customer", "order", "product":
	default:
		return false
	}
	return ok && (ev == "created" || ev == "updated" || ev == "deleted" || ev == "restored")
}

func (s *Shop) webhookJSON(w *Webhook) map[string]any {
	res, ev, _ := strings.Cut(w.Topic, ".")
	h := hooks[w.Topic]
	if h == nil {
		h = []string{}
	}
	local := func(t time.Time) string { return t.Add(2 * time.Hour).Format("2006-01-02T15:04:05") } // the site runs at UTC+2
	gmt := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }
	// The secret is never shown over REST.
	return map[string]any{
		"id": w.ID, "name": w.Name, "status": w.Status, "topic": w.Topic, "resource": res, "event": ev, "hooks": h,
		"delivery_url": w.DeliveryURL, "date_created": local(w.Created), "date_created_gmt": gmt(w.Created),
		"date_modified": local(w.Modified), "date_modified_gmt": gmt(w.Modified),
	}
}

type webhookInput struct {
	Name        *string `json:"name"`
	Status      *string `json:"status"`
	Topic       *string `json:"topic"`
	DeliveryURL *string `json:"delivery_url"`
	Secret      *string `json:"secret"`
}

// restWebhooks serves /webhooks and /webhooks/{id} as WooCommerce's v3
// controller does. Creating pings the delivery URL and answers 201 even when
// the ping failed; the ping repeats on every save until it gets 200.
func (s *Shop) restWebhooks(w http.ResponseWriter, r *http.Request) {
	var id int64
	if m := reWebhook.FindStringSubmatch(r.URL.Path); m != nil {
		id, _ = strconv.ParseInt(m[1], 10, 64)
	}
	var in webhookInput
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			restError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
			return
		}
	}
	if id == 0 && r.Method == http.MethodGet {
		list := s.listWebhooks(r.URL.Query().Get("status"))
		w.Header().Set("X-WP-Total", strconv.Itoa(len(list)))
		w.Header().Set("X-WP-TotalPages", "1")
		writeJSON(w, http.StatusOK, list)
		return
	}
	s.mu.Lock()
	var a webhookAnswer
	switch wh := s.webhookLocked(id); {
	case id == 0 && r.Method == http.MethodPost:
		a = s.createWebhookLocked(in)
	case id == 0:
		a = webhookAnswer{status: http.StatusNotFound, code: "rest_no_route", msg: "No route was found matching the URL and request method."}
	case wh == nil:
		a = webhookAnswer{status: http.StatusNotFound, code: "woocommerce_rest_webhook_invalid_id", msg: "Invalid ID."}
	case r.Method == http.MethodGet:
		a = webhookAnswer{status: http.StatusOK, body: s.webhookJSON(wh)}
	case r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodPatch:
		a = s.updateWebhookLocked(wh, in)
	case r.Method == http.MethodDelete:
		a = s.deleteWebhookLocked(wh, r.URL.Query().Get("force") == "true")
	default:
		a = webhookAnswer{status: http.StatusNotFound, code: "rest_no_route", msg: "No route was found matching the URL and request method."}
	}
	s.mu.Unlock()
	if a.code != "" {
		restError(w, a.status, a.code, a.msg)
		return
	}
	if a.ping != nil {
		s.ping(a.ping)
	}
	writeJSON(w, a.status, a.body)
}

// webhookAnswer is what a webhooks route answers, decided under the shop's
// lock: a body, or a WooCommerce error code and message, and a webhook to
// ping once the lock is released.
type webhookAnswer struct {
	status    int
	body      any
	code, msg string
	ping      *Webhook
}

// listWebhooks lists the webhooks of a status ("" or "all" for every one).
func (s *Shop) listWebhooks(status string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []map[string]any{}
	for _, x := range s.webhooks {
		if status == "" || status == "all" || status == x.Status {
			list = append(list, s.webhookJSON(x))
		}
	}
	return list
}

// createWebhookLocked makes an active webhook; the status asked for is
// ignored, as WooCommerce ignores it.
func (s *Shop) createWebhookLocked(in webhookInput) webhookAnswer {
	if in.Topic == nil || !validTopic(*in.Topic) {
		return webhookAnswer{status: http.StatusBadRequest, code: "woocommerce_rest_webhook_invalid_topic", msg: "Webhook topic is required and must be valid."}
	}
	if in.DeliveryURL == nil || !validURL(*in.DeliveryURL) {
		return webhookAnswer{status: http.StatusBadRequest, code: "woocommerce_rest_webhook_invalid_delivery_url", msg: "Webhook delivery URL must be a valid URL starting with http:// or https://."}
	}
	name := "Webhook created on " + s.Now().Format("Jan 02, 2006 @ 03:04 PM")
	if in.Name != nil && *in.Name != "" {
		name = *in.Name
	}
	secret := randomSecret()
	if in.Secret != nil && *in.Secret != "" {
		secret = *in.Secret
	}
	nw := s.addWebhookLocked(name, *in.Topic, *in.DeliveryURL, secret)
	nw.pingPending = true
	return webhookAnswer{status: http.StatusCreated, body: s.webhookJSON(nw), ping: nw}
}

// updateWebhookLocked changes the fields given; the failure count stays,
// and a save of an active webhook whose ping never got 200 pings again.
func (s *Shop) updateWebhookLocked(wh *Webhook, in webhookInput) webhookAnswer {
	if in.Status != nil && *in.Status != "active" && *in.Status != "paused" && *in.Status != "disabled" {
		return webhookAnswer{status: http.StatusBadRequest, code: "rest_invalid_param", msg: "Invalid parameter(s): status"}
	}
	if in.Topic != nil && !validTopic(*in.Topic) {
		return webhookAnswer{status: http.StatusBadRequest, code: "woocommerce_rest_webhook_invalid_topic", msg: "Webhook topic must be valid."}
	}
	if in.DeliveryURL != nil && !validURL(*in.DeliveryURL) {
		return webhookAnswer{status: http.StatusBadRequest, code: "woocommerce_rest_webhook_invalid_delivery_url", msg: "Webhook delivery URL must be a valid URL starting with http:// or https://."}
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&wh.Name, in.Name)
	set(&wh.Status, in.Status)
	set(&wh.Topic, in.Topic)
	set(&wh.DeliveryURL, in.DeliveryURL)
	set(&wh.Secret, in.Secret)
	wh.Modified = s.Now()
	s.webhookSaves++
	a := webhookAnswer{status: http.StatusOK, body: s.webhookJSON(wh)}
	if wh.pingPending && wh.Status == "active" {
		a.ping = wh
	}
	return a
}

// deleteWebhookLocked deletes a webhook; webhooks cannot be trashed.
func (s *Shop) deleteWebhookLocked(wh *Webhook, force bool) webhookAnswer {
	if !force {
		return webhookAnswer{status: http.StatusNotImplemented, code: "woocommerce_rest_trash_not_supported", msg: "Webhooks do not support trashing."}
	}
	out := s.webhookJSON(wh)
	for i, x := range s.webhooks {
		if x == wh {
			s.webhooks = append(s.webhooks[:i], s.webhooks[i+1:]...)
			break
		}
	}
	return webhookAnswer{status: http.StatusOK, body: out}
}

// ping posts WooCommerce's ping to a webhook's delivery URL; only exactly
// 200 counts.
func (s *Shop) ping(wh *Webhook) {
	s.mu.Lock()
	sender := &Sender{URL: wh.DeliveryURL, WebhookID: wh.ID, Source: s.Home, Client: s.Client, Now: s.Now}
	s.mu.Unlock()
	code, err := sender.Ping()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pings = append(s.pings, Ping{WebhookID: wh.ID, URL: wh.DeliveryURL, Status: code})
	if err == nil && code == http.StatusOK {
		wh.pingPending = false
	}
}

// Ping is one ping the shop sent.
type Ping struct {
	WebhookID int64
	URL       string
	Status    int // 0: no answer
}

// Pings returns the pings sent so far.
func (s *Shop) Pings() []Ping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ping(nil), s.pings...)
}

// WebhookSaves counts REST updates of webhooks.
func (s *Shop) WebhookSaves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookSaves
}

func validURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// randomSecret is WooCommerce's default: 50 characters with punctuation.
func randomSecret() string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
	b := make([]byte, 50)
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b)
}

// DeleteWebhooks removes every webhook, as an admin would.
func (s *Shop) DeleteWebhooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhooks = nil
}

// SetWebhookURL changes a webhook's delivery URL, as an admin would.
func (s *Shop) SetWebhookURL(id int64, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.webhookLocked(id); w != nil {
		w.DeliveryURL = url
	}
}

// webhookLocked finds a webhook by id, or nil.
func (s *Shop) webhookLocked(id int64) *Webhook {
	for _, w := range s.webhooks {
		if w.ID == id {
			return w
		}
	}
	return nil
}
