// Package wootest is a stateful fake of a WooCommerce shop: orders over the
// REST API (wc/v3) with WooCommerce's authentication, meta semantics and
// error shapes, and webhooks delivered as Action Scheduler delivers them
// (queued, coalesced per order, payload built at delivery time, signed).
package wootest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/woozoom/woozoom/woo"
)

// Order is what a test or demo needs to create an order.
type Order struct {
	Status    string
	FirstName string
	LastName  string
	Email     string
	Items     []Item
	Meta      []Meta
}

// Item is an order line.
type Item struct {
	ProductID   int64
	VariationID int64
	Quantity    int
	Name        string
	Meta        []Meta
}

// Meta is a meta_data row.
type Meta struct {
	ID    int64  `json:"id"`
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// Note is an order note.
type Note struct {
	ID       int64  `json:"id"`
	Note     string `json:"note"`
	Customer bool   `json:"customer_note"`
}

type order struct {
	id       int64
	status   string
	prev     string // status before trash
	created  time.Time
	modified time.Time
	billing  map[string]string
	items    []map[string]any
	meta     []Meta
	notes    []Note
	refunds  []refund
}

type refund struct {
	id     int64
	reason string
	lines  map[int64]int // line item id -> units refunded
}

// Webhook is a webhook configured in the fake shop. As in WooCommerce, a
// webhook has one topic.
type Webhook struct {
	ID          int64
	Name        string
	Topic       string // e.g. order.updated, order.created, order.deleted, order.restored
	DeliveryURL string
	Secret      string
	Status      string // active, paused (by an admin) or disabled (after failures)
	APIVersion  string // wp_api_v3
	Failures    int
	Created     time.Time
	Modified    time.Time
	pingPending bool // saved active, and no ping has had 200 yet
}

// Delivery is one delivery the shop attempted.
type Delivery struct {
	Topic      string
	OrderID    int64
	Status     int // 0: transport error
	DeliveryID string
	Body       []byte
}

// Shop is the fake WooCommerce.
type Shop struct {
	ConsumerKey    string
	ConsumerSecret string
	Home           string // the shop's home URL
	// Version is the WooCommerce version the shop behaves as (default
	// 10.0.2); orders carry it, and product restores follow it.
	Version string
	Now     func() time.Time
	// Client posts deliveries (nil: a default client).
	Client *http.Client

	mu           sync.Mutex
	orders       map[int64]*order
	nextOrder    int64
	nextID       int64
	webhooks     []*Webhook
	pending      []pendingDelivery
	deliveries   []Delivery
	writes       int // REST PUTs of orders
	restFaults   []int
	nonces       map[string]int64 // OAuth 1.0a nonces seen, with their timestamp
	pings        []Ping
	webhookSaves int
	products     map[int64]*Product
	redirect     string
}

// RedirectTo makes every REST request answer 302 to target plus the
// request's path and query, as a site moved to another address (or from
// https to http) does; "" ends it.
func (s *Shop) RedirectTo(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirect = target
}

// FailNext makes the next n REST requests answer status (500, 503, ...).
func (s *Shop) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.restFaults = append(s.restFaults, status)
	}
}

// ClearFaults drops REST faults not yet served.
func (s *Shop) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restFaults = nil
}

// ActivateWebhooks sets every webhook active again, as an admin would. The
// failure count stays (WooCommerce keeps it across re-activation).
func (s *Shop) ActivateWebhooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.webhooks {
		w.Status = "active"
	}
}

// Webhooks returns copies of the configured webhooks.
func (s *Shop) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, len(s.webhooks))
	for i, w := range s.webhooks {
		out[i] = *w
	}
	return out
}

type pendingDelivery struct {
	webhook *Webhook
	topic   string
	orderID int64 // or the product's id, for product topics
}

// NewShop returns an empty shop that accepts the given REST credentials.
func NewShop(key, secret string) *Shop {
	return &Shop{
		ConsumerKey: key, ConsumerSecret: secret, Home: "https://shop.example/", Now: time.Now, Version: "10.0.2",
		orders: map[int64]*order{}, nextOrder: 100, nextID: 5000,
	}
}

// AddWebhook configures an active webhook for each topic, as an admin would
// in WooCommerce's settings, and returns the last; deliveries go to url
// signed with secret.
func (s *Shop) AddWebhook(url, secret string, topics ...string) *Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w *Webhook
	for _, t := range topics {
		w = s.addWebhookLocked("Webhook "+t, t, url, secret)
	}
	return w
}

func (s *Shop) addWebhookLocked(name, topic, url, secret string) *Webhook {
	now := s.Now()
	w := &Webhook{ID: int64(len(s.webhooks) + 1), Name: name, Topic: topic, DeliveryURL: url, Secret: secret,
		Status: "active", APIVersion: "wp_api_v3", Created: now, Modified: now}
	s.webhooks = append(s.webhooks, w)
	return w
}

// SetWebhookStatus sets a webhook's status as an admin would (active,
// paused, disabled).
func (s *Shop) SetWebhookStatus(id int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.webhookLocked(id); w != nil {
		w.Status = status
	}
}

// CreateOrder adds an order (as checkout would) and returns its id. It fires
// order.created.
func (s *Shop) CreateOrder(o Order) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createLocked(o)
}

func (s *Shop) createLocked(o Order) int64 {
	s.nextOrder++
	now := s.Now().UTC().Truncate(time.Second)
	ord := &order{
		id: s.nextOrder, status: o.Status, created: now, modified: now,
		billing: map[string]string{
			"first_name": o.FirstName, "last_name": o.LastName, "company": "", "address_1": "", "address_2": "",
			"city": "", "state": "", "postcode": "", "country": "", "email": o.Email, "phone": "",
		},
	}
	if ord.status == "" {
		ord.status = "pending"
	}
	for _, it := range o.Items {
		s.nextID++
		q := max(it.Quantity, 1)
		ord.items = append(ord.items, map[string]any{
			"id": s.nextID, "name": it.Name, "product_id": it.ProductID, "variation_id": it.VariationID,
			"quantity": q, "tax_class": "", "subtotal": "25.00", "subtotal_tax": "0.00", "total": "25.00",
			"total_tax": "0.00", "taxes": []any{}, "meta_data": s.metaRows(it.Meta), "sku": "", "price": 25,
			"image": map[string]any{"id": "", "src": ""}, "parent_name": nil,
		})
	}
	ord.meta = s.metaRows(o.Meta)
	s.orders[ord.id] = ord
	s.enqueueLocked("order.created", ord.id)
	return ord.id
}

func (s *Shop) metaRows(ms []Meta) []Meta {
	out := []Meta{}
	for _, m := range ms {
		s.nextID++
		out = append(out, Meta{ID: s.nextID, Key: m.Key, Value: m.Value})
	}
	return out
}

// SetStatus changes an order's status as the shop admin would; it fires
// order.updated.
func (s *Shop) SetStatus(id int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return fmt.Errorf("no order %d", id)
	}
	o.status = status
	s.touchLocked(o)
	s.enqueueLocked("order.updated", id)
	return nil
}

// Refund refunds units of order lines (line item id -> quantity), as the
// shop admin would; the status stays, and order.updated fires.
func (s *Shop) Refund(id int64, reason string, lines map[int64]int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return fmt.Errorf("no order %d", id)
	}
	s.nextID++
	o.refunds = append(o.refunds, refund{id: s.nextID, reason: reason, lines: lines})
	s.touchLocked(o)
	s.enqueueLocked("order.updated", id)
	return nil
}

// LineItemIDs returns an order's line item ids in order.
func (s *Shop) LineItemIDs(id int64) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	if o := s.orders[id]; o != nil {
		for _, it := range o.items {
			out = append(out, it["id"].(int64))
		}
	}
	return out
}

// Trash moves an order to the trash; it fires order.deleted with only the id.
func (s *Shop) Trash(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return fmt.Errorf("no order %d", id)
	}
	o.prev, o.status = o.status, "trash"
	s.touchLocked(o)
	s.enqueueLocked("order.deleted", id)
	return nil
}

// Untrash restores a trashed order; it fires order.restored.
func (s *Shop) Untrash(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil || o.status != "trash" {
		return fmt.Errorf("order %d is not in the trash", id)
	}
	o.status = o.prev
	s.touchLocked(o)
	s.enqueueLocked("order.restored", id)
	return nil
}

// touchLocked moves date_modified on, by at least a second, as every save does.
func (s *Shop) touchLocked(o *order) {
	now := s.Now().UTC().Truncate(time.Second)
	if !now.After(o.modified) {
		now = o.modified.Add(time.Second)
	}
	o.modified = now
}

// OrderJSON returns the order as the REST API (and a webhook) shows it now.
func (s *Shop) OrderJSON(id int64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return nil, false
	}
	b, _ := PHPJSON(s.renderLocked(o))
	return b, true
}

// Meta returns an order's meta value for key.
func (s *Shop) Meta(id int64, key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.orders[id]; o != nil {
		for _, m := range o.meta {
			if m.Key == key {
				return m.Value, true
			}
		}
	}
	return nil, false
}

// Notes returns an order's notes.
func (s *Shop) Notes(id int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.orders[id]; o != nil {
		return slices.Clone(o.notes)
	}
	return nil
}

// Writes returns how many REST updates of orders the shop has taken.
func (s *Shop) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Deliveries returns every delivery attempted.
func (s *Shop) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

func (s *Shop) renderLocked(o *order) map[string]any {
	date := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }
	base := strings.TrimRight(s.Home, "/")
	return map[string]any{
		"id": o.id, "parent_id": 0, "status": o.status, "currency": "EUR", "version": s.Version,
		"prices_include_tax": false, "date_created": date(o.created), "date_modified": date(o.modified),
		"discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "0.00", "shipping_tax": "0.00",
		"cart_tax": "0.00", "total": "25.00", "total_tax": "0.00", "customer_id": 0,
		"order_key": fmt.Sprintf("wc_order_%d", o.id), "billing": o.billing,
		"shipping":       map[string]string{"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "", "state": "", "postcode": "", "country": "", "phone": ""},
		"payment_method": "bacs", "payment_method_title": "", "transaction_id": "", "customer_ip_address": "",
		"customer_user_agent": "", "created_via": "", "customer_note": "", "date_completed": nil,
		"date_paid": date(o.created), "cart_hash": "", "number": strconv.FormatInt(o.id, 10),
		"meta_data": o.meta, "line_items": o.items, "tax_lines": []any{}, "shipping_lines": []any{},
		"fee_lines": []any{}, "coupon_lines": []any{}, "refunds": s.refundSummaryLocked(o),
		"date_created_gmt": date(o.created), "date_modified_gmt": date(o.modified),
		"date_completed_gmt": nil, "date_paid_gmt": date(o.created), "currency_symbol": "€",
		"_links": map[string]any{
			"self":       []any{map[string]string{"href": fmt.Sprintf("%s/wp-json/wc/v3/orders/%d", base, o.id)}},
			"collection": []any{map[string]string{"href": base + "/wp-json/wc/v3/orders"}},
		},
	}
}

func (s *Shop) refundSummaryLocked(o *order) []any {
	out := []any{}
	for _, r := range o.refunds {
		units := 0
		for _, q := range r.lines {
			units += q
		}
		out = append(out, map[string]any{"id": r.id, "reason": r.reason, "total": fmt.Sprintf("-%d.00", 25*units)})
	}
	return out
}

// refundsLocked renders GET /orders/{id}/refunds: refund lines carry a
// negative quantity and the refunded line's id in _refunded_item_id.
func (s *Shop) refundsLocked(o *order) []any {
	out := []any{}
	for _, r := range o.refunds {
		lines := []any{}
		for _, it := range o.items {
			id := it["id"].(int64)
			q := r.lines[id]
			if q == 0 {
				continue
			}
			lines = append(lines, map[string]any{
				"id": r.id*100 + id, "name": it["name"], "product_id": it["product_id"], "variation_id": it["variation_id"],
				"quantity": -q, "total": fmt.Sprintf("-%d.00", 25*q),
				"meta_data": []any{map[string]any{"id": r.id*1000 + id, "key": "_refunded_item_id", "value": strconv.FormatInt(id, 10)}},
			})
		}
		out = append(out, map[string]any{"id": r.id, "reason": r.reason, "amount": fmt.Sprintf("%d.00", 25*len(lines)), "refunded_payment": false, "line_items": lines})
	}
	return out
}

// enqueueLocked queues a delivery for every webhook of the topic, unless one
// for the same webhook and order is already pending (WooCommerce coalesces).
func (s *Shop) enqueueLocked(topic string, orderID int64) {
	for _, w := range s.webhooks {
		if w.Status != "active" || w.Topic != topic {
			continue
		}
		dup := slices.ContainsFunc(s.pending, func(p pendingDelivery) bool {
			return p.webhook == w && p.orderID == orderID && p.topic == topic
		})
		if !dup {
			s.pending = append(s.pending, pendingDelivery{webhook: w, topic: topic, orderID: orderID})
		}
	}
}

// Pending returns how many deliveries are queued.
func (s *Shop) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Flush runs the delivery queue now, as Action Scheduler's runner does:
// each payload is the order as it is at this moment. Deliveries queued while
// it runs (an echo of a write-back) wait for the next Flush.
func (s *Shop) Flush() {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, p := range batch {
		s.deliver(p)
	}
}

func (s *Shop) deliver(p pendingDelivery) {
	s.mu.Lock()
	o := s.orders[p.orderID]
	var body []byte
	switch {
	case strings.HasPrefix(p.topic, "product."):
		// orderID names the product: WooCommerce builds its payload the same way.
		if prod := s.products[p.orderID]; prod != nil && p.topic != "product.deleted" {
			body, _ = PHPJSON(s.productJSONLocked(prod))
		} else {
			body, _ = PHPJSON(map[string]any{"id": p.orderID})
		}
	case p.topic == "order.deleted" || o == nil:
		body, _ = PHPJSON(map[string]any{"id": p.orderID})
	default:
		body, _ = PHPJSON(s.renderLocked(o))
	}
	w := *p.webhook
	s.mu.Unlock()

	sender := &Sender{URL: w.DeliveryURL, Secret: w.Secret, WebhookID: w.ID, Source: s.Home, Client: s.Client, Now: s.Now}
	deliveryID := DeliveryID(w.ID, sender.now())
	status, err := sender.SendAs(p.topic, body, deliveryID, woo.Sign(body, w.Secret))
	if err != nil {
		status = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = append(s.deliveries, Delivery{Topic: p.topic, OrderID: p.orderID, Status: status, DeliveryID: deliveryID, Body: body})
	if status >= 200 && status <= 302 {
		p.webhook.Failures = 0
		return
	}
	p.webhook.Failures++
	if p.webhook.Failures > 5 {
		p.webhook.Status = "disabled"
	}
}

// Run flushes the delivery queue every interval until stop is closed.
func (s *Shop) Run(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.Flush()
		}
	}
}

var (
	reOrder   = regexp.MustCompile(`^/wp-json/wc/v3/orders/(\d+)$`)
	reNotes   = regexp.MustCompile(`^/wp-json/wc/v3/orders/(\d+)/notes$`)
	reRefunds = regexp.MustCompile(`^/wp-json/wc/v3/orders/(\d+)/refunds$`)
	reWebhook = regexp.MustCompile(`^/wp-json/wc/v3/webhooks/(\d+)$`)
)

// ServeHTTP serves the REST API under /wp-json/wc/v3.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/wp-json/wc/v3/") {
		restError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
		return
	}
	s.mu.Lock()
	var fault int
	if len(s.restFaults) > 0 {
		fault, s.restFaults = s.restFaults[0], s.restFaults[1:]
	}
	redirect := s.redirect
	s.mu.Unlock()
	if redirect != "" {
		http.Redirect(w, r, redirect+r.URL.RequestURI(), http.StatusFound)
		return
	}
	if fault != 0 {
		restError(w, fault, "internal_server_error", "There has been a critical error on this website.")
		return
	}
	if code, msg := s.authenticate(r); code != "" {
		restError(w, http.StatusUnauthorized, code, msg)
		return
	}
	switch {
	case r.URL.Path == "/wp-json/wc/v3/orders" && r.Method == http.MethodPost:
		s.restCreate(w, r)
	case r.URL.Path == "/wp-json/wc/v3/orders" && r.Method == http.MethodGet:
		s.restList(w, r)
	case reOrder.MatchString(r.URL.Path):
		id, _ := strconv.ParseInt(reOrder.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		switch r.Method {
		case http.MethodGet:
			s.restGet(w, id)
		case http.MethodPut, http.MethodPost, http.MethodPatch:
			s.restUpdate(w, r, id)
		default:
			restError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
		}
	case reRefunds.MatchString(r.URL.Path) && r.Method == http.MethodGet:
		id, _ := strconv.ParseInt(reRefunds.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		s.mu.Lock()
		defer s.mu.Unlock()
		o := s.orderLocked(w, id)
		if o == nil {
			return
		}
		writeJSON(w, http.StatusOK, s.refundsLocked(o))
	case reNotes.MatchString(r.URL.Path):
		id, _ := strconv.ParseInt(reNotes.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		s.restNotes(w, r, id)
	case reProduct.MatchString(r.URL.Path):
		id, _ := strconv.ParseInt(reProduct.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		s.restProduct(w, r, id)
	case r.URL.Path == "/wp-json/wc/v3/webhooks" || reWebhook.MatchString(r.URL.Path):
		s.restWebhooks(w, r)
	default:
		restError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

// restList serves GET /orders with modified_after (strictly after, read as site-local time
// unless dates_are_gmt=true; the fake's site runs at UTC+2 to make that
// visible), status, product, paging (per_page at most 100), and orderby
// date (the creation date, WooCommerce's default), modified or id, in
// order desc (the default) or asc.
// paging reads per_page (1 to 100, default 10) and page (default 1) as
// WooCommerce does; bad names the parameter it refuses.
func paging(q url.Values) (perPage, page int, bad string) {
	perPage, page = 10, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, "per_page"
		}
		perPage = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, "page"
		}
		page = n
	}
	return perPage, page, ""
}

func (s *Shop) restList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	orderby, direction := cmp.Or(q.Get("orderby"), "date"), cmp.Or(q.Get("order"), "desc")
	if !slices.Contains([]string{"date", "id", "include", "title", "slug", "modified"}, orderby) {
		restError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): orderby")
		return
	}
	if direction != "asc" && direction != "desc" {
		restError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): order")
		return
	}
	perPage, page, bad := paging(q)
	if bad != "" {
		restError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): "+bad)
		return
	}
	var after time.Time
	if v := q.Get("modified_after"); v != "" {
		t, err := time.Parse("2006-01-02T15:04:05", strings.TrimSuffix(v, "Z"))
		if err != nil {
			restError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): modified_after")
			return
		}
		if q.Get("dates_are_gmt") != "true" {
			t = t.Add(-2 * time.Hour) // site-local time, UTC+2
		}
		after = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	product, _ := strconv.ParseInt(q.Get("product"), 10, 64)
	status := q.Get("status")
	var matched []*order
	for _, o := range s.orders {
		if o.status == "trash" || !o.modified.After(after) || (status != "" && status != "any" && o.status != status) {
			continue
		}
		if product != 0 && !slices.ContainsFunc(o.items, func(it map[string]any) bool { return it["product_id"] == product }) {
			continue
		}
		matched = append(matched, o)
	}
	slices.SortFunc(matched, func(a, b *order) int {
		switch orderby {
		case "date":
			if c := a.created.Compare(b.created); c != 0 {
				return c
			}
		case "modified":
			if c := a.modified.Compare(b.modified); c != 0 {
				return c
			}
		}
		return int(a.id - b.id)
	})
	if direction == "desc" {
		slices.Reverse(matched)
	}
	total := len(matched)
	pages := (total + perPage - 1) / perPage
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	list := make([]map[string]any, 0, end-start)
	for _, o := range matched[start:end] {
		list = append(list, s.renderLocked(o))
	}
	w.Header().Set("X-WP-Total", strconv.Itoa(total))
	w.Header().Set("X-WP-TotalPages", strconv.Itoa(pages))
	writeJSON(w, http.StatusOK, list)
}

// orderLocked finds an order or answers WooCommerce's 404 for it.
func (s *Shop) orderLocked(w http.ResponseWriter, id int64) *order {
	o := s.orders[id]
	if o == nil {
		restError(w, http.StatusNotFound, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
	}
	return o
}

func (s *Shop) restGet(w http.ResponseWriter, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderLocked(w, id)
	if o == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.renderLocked(o))
}

type restOrderInput struct {
	Status  *string `json:"status"`
	Billing *struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
	} `json:"billing"`
	LineItems []struct {
		ProductID   int64  `json:"product_id"`
		VariationID int64  `json:"variation_id"`
		Quantity    int    `json:"quantity"`
		Name        string `json:"name"`
		MetaData    []Meta `json:"meta_data"`
	} `json:"line_items"`
	MetaData []struct {
		ID    int64           `json:"id"`
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"meta_data"`
}

func (s *Shop) restCreate(w http.ResponseWriter, r *http.Request) {
	var in restOrderInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		restError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	o := Order{}
	if in.Status != nil {
		o.Status = *in.Status
	}
	if in.Billing != nil {
		o.FirstName, o.LastName, o.Email = in.Billing.FirstName, in.Billing.LastName, in.Billing.Email
	}
	for _, li := range in.LineItems {
		o.Items = append(o.Items, Item{ProductID: li.ProductID, VariationID: li.VariationID, Quantity: li.Quantity, Name: li.Name, Meta: li.MetaData})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.createLocked(o)
	writeJSON(w, http.StatusCreated, s.renderLocked(s.orders[id]))
}

func (s *Shop) restUpdate(w http.ResponseWriter, r *http.Request, id int64) {
	var in restOrderInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		restError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderLocked(w, id)
	if o == nil {
		return
	}
	if in.Status != nil {
		o.status = *in.Status
	}
	for _, m := range in.MetaData {
		var v any
		if len(m.Value) > 0 {
			json.Unmarshal(m.Value, &v)
		}
		s.setMetaLocked(o, m.ID, m.Key, v)
	}
	s.writes++
	// Every save of an existing order fires order.updated, this one too.
	s.touchLocked(o)
	s.enqueueLocked("order.updated", id)
	writeJSON(w, http.StatusOK, s.renderLocked(o))
}

// setMetaLocked applies WooCommerce's meta rules: with an id that row is
// updated; with only a key the first row with the key is updated and other
// rows with it deleted; a null value deletes. Scalars come back as strings.
func (s *Shop) setMetaLocked(o *order, id int64, key string, v any) {
	s.setMetaIn(&o.meta, id, key, v)
}

// setMetaIn applies those rules to a list of meta rows.
func (s *Shop) setMetaIn(meta *[]Meta, id int64, key string, v any) {
	switch x := v.(type) {
	case float64:
		v = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		v = map[bool]string{true: "1", false: ""}[x]
	}
	if id != 0 {
		for i := range *meta {
			if (*meta)[i].ID == id {
				if v == nil {
					*meta = slices.Delete(*meta, i, i+1)
				} else {
					(*meta)[i].Value = v
				}
				return
			}
		}
		return
	}
	first := -1
	kept := (*meta)[:0]
	for _, m := range *meta {
		if m.Key == key {
			if first >= 0 {
				continue
			}
			first = len(kept)
		}
		kept = append(kept, m)
	}
	*meta = kept
	switch {
	case v == nil && first >= 0:
		*meta = slices.Delete(*meta, first, first+1)
	case v == nil:
	case first >= 0:
		(*meta)[first].Value = v
	default:
		s.nextID++
		*meta = append(*meta, Meta{ID: s.nextID, Key: key, Value: v})
	}
}

func (s *Shop) restNotes(w http.ResponseWriter, r *http.Request, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderLocked(w, id)
	if o == nil {
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, o.notes)
	case http.MethodPost:
		var in struct {
			Note     string `json:"note"`
			Customer bool   `json:"customer_note"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			restError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
			return
		}
		if in.Note == "" {
			restError(w, http.StatusBadRequest, "rest_missing_callback_param", "Missing parameter(s): note")
			return
		}
		s.nextID++
		n := Note{ID: s.nextID, Note: in.Note, Customer: in.Customer}
		o.notes = append(o.notes, n)
		// Adding a note does not save the order: no order.updated.
		writeJSON(w, http.StatusCreated, n)
	default:
		restError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := PHPJSON(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

func restError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "data": map[string]int{"status": status}})
}
