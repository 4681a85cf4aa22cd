package woo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
)

func readCapture(t *testing.T, name string) ([]byte, map[string]string) {
	t.Helper()
	body, err := os.ReadFile("testdata/" + name + ".body.json")
	if err != nil {
		body, err = os.ReadFile("testdata/" + name + ".body")
	}
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/" + name + ".headers.json")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return body, h.Headers
}

func TestVerifyRealDelivery(t *testing.T) {
	body, h := readCapture(t, "order-updated-processing")
	const secret = "whsec-real-123" // the real install's webhook secret
	if !woo.Verify(body, h[woo.HeaderSignature], secret) {
		t.Fatal("the real delivery's signature does not verify")
	}
	if got := woo.Sign(body, secret); got != h[woo.HeaderSignature] {
		t.Errorf("Sign = %s, want the real signature %s", got, h[woo.HeaderSignature])
	}
	for name, tc := range map[string]struct {
		body      []byte
		sig, secr string
	}{
		"wrong secret":     {body, h[woo.HeaderSignature], "whsec-real-124"},
		"empty secret":     {body, h[woo.HeaderSignature], ""},
		"no signature":     {body, "", secret},
		"body changed":     {append(append([]byte(nil), body[:len(body)-1]...), ' '), h[woo.HeaderSignature], secret},
		"not base64":       {body, "%%%", secret},
		"hex, not base64":  {body, "af0a0c6075", secret},
		"re-encoded JSON":  {reencode(t, body), h[woo.HeaderSignature], secret},
		"truncated digest": {body, h[woo.HeaderSignature][:20], secret},
	} {
		if woo.Verify(tc.body, tc.sig, tc.secr) {
			t.Errorf("%s: verified", name)
		}
	}
}

func reencode(t *testing.T, body []byte) []byte {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return b
}

func TestIsPing(t *testing.T) {
	body, h := readCapture(t, "ping")
	if !woo.IsPing(h["Content-Type"], body) {
		t.Errorf("the real ping (%q, %q) is not recognised", h["Content-Type"], body)
	}
	for _, tc := range []struct{ ct, body string }{
		{"application/json", "webhook_id=1"},
		{"application/x-www-form-urlencoded", "webhook_id=abc"},
		{"application/x-www-form-urlencoded", "webhook=1"},
		{"application/x-www-form-urlencoded", `{"id":1}`},
	} {
		if woo.IsPing(tc.ct, []byte(tc.body)) {
			t.Errorf("IsPing(%q, %q) = true", tc.ct, tc.body)
		}
	}
}

func TestParseRealOrder(t *testing.T) {
	body, _ := readCapture(t, "order-updated-processing")
	o, err := woo.ParseDelivery("order.updated", body)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != 12 || o.Status != "processing" || o.Billing.Email != "Rita.Doro@Example.org" {
		t.Errorf("order = %+v", o)
	}
	if want := time.Date(2026, 11, 22, 16, 45, 50, 0, time.UTC); !o.Modified.Equal(want) || o.Modified.Location() != time.UTC {
		t.Errorf("Modified = %v, want %v in UTC", o.Modified, want)
	}
	if len(o.Items) != 2 || o.Items[0].ProductID != 10 || o.Items[0].Quantity != 2 || o.Items[1].ProductID != 11 {
		t.Errorf("items = %+v", o.Items)
	}
	if woo.ResourceID(body) != 12 {
		t.Errorf("ResourceID = %d", woo.ResourceID(body))
	}
}

func TestParseExamplesAndOddBodies(t *testing.T) {
	for file, status := range map[string]string{"order-completed.json": "completed", "order-cancelled.json": "cancelled", "order-refunded.json": "refunded"} {
		body, err := os.ReadFile("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		o, err := woo.ParseOrder(body)
		if err != nil || o.Status != status || len(o.Items) == 0 || rules.MetaValue(o.Meta, "WooCommerceEventsOrderTickets") == nil {
			t.Errorf("%s: %+v, %v", file, o, err)
		}
	}
	o, err := woo.ParseDelivery("order.deleted", []byte(`{"id":12}`))
	if err != nil || !o.Deleted || o.ID != 12 {
		t.Errorf("order.deleted = %+v, %v", o, err)
	}
	if o, err := woo.ParseDelivery("order.refresh", []byte(`{"id":12}`)); err != nil || !o.Reread || o.Deleted || o.ID != 12 {
		t.Errorf("woozoom's order.refresh = %+v, %v", o, err)
	}
	product, _ := os.ReadFile("testdata/product-updated.json")
	for name, tc := range map[string]struct {
		topic string
		body  string
	}{
		"product topic":   {"product.updated", string(product)},
		"not JSON":        {"order.updated", "<html>"},
		"error object":    {"order.updated", `{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot view this resource.","data":{"status":401}}`},
		"no id":           {"order.updated", `{"status":"completed"}`},
		"negative id":     {"order.updated", `{"id":-4,"status":"completed"}`},
		"no status":       {"order.updated", `{"id":4}`},
		"bad date":        {"order.updated", `{"id":4,"status":"completed","date_modified_gmt":"yesterday"}`},
		"deleted, no id":  {"order.deleted", `{}`},
		"truncated order": {"order.updated", `{"id":4,"status":"comp`},
	} {
		if _, err := woo.ParseDelivery(tc.topic, []byte(tc.body)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	_, err = woo.ParseDelivery("order.updated", []byte(`{"code":"woocommerce_rest_cannot_view","message":"x"}`))
	if !errors.Is(err, woo.ErrNotAnOrder) || !strings.Contains(err.Error(), "permissions") {
		t.Errorf("error-object body: %v", err)
	}
}

func TestPHPJSON(t *testing.T) {
	got, err := wootest.PHPJSON(map[string]any{"url": "http://x/y", "name": "Jürgen €5 <b>&", "emoji": "🎟"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"emoji":"\ud83c\udf9f","name":"J\u00fcrgen \u20ac5 <b>&","url":"http:\/\/x\/y"}`
	if string(got) != want {
		t.Errorf("PHPJSON = %s\nwant      %s", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil || back["name"] != "Jürgen €5 <b>&" || back["emoji"] != "🎟" {
		t.Errorf("PHPJSON does not decode back: %v %v", back, err)
	}
}

func shopServer(t *testing.T) (*wootest.Shop, *woo.Client, *httptest.Server) {
	t.Helper()
	shop := wootest.NewShop("ck_test", "cs_test_secret")
	srv := httptest.NewTLSServer(shop)
	t.Cleanup(srv.Close)
	c, err := woo.New(woo.Config{URL: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_test_secret"}, srv.Client(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return shop, c, srv
}

func TestClientReadsAndWritesBack(t *testing.T) {
	shop, c, _ := shopServer(t)
	ctx := context.Background()
	id := shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org",
		Items: []wootest.Item{{ProductID: 10, Quantity: 2, Name: "Tour"}},
		Meta:  []wootest.Meta{{Key: "_woozoom", Value: "old"}, {Key: "_woozoom", Value: "older"}}})
	o, err := c.Order(ctx, id)
	if err != nil || o.ID != id || o.Status != "completed" || o.Items[0].Quantity != 2 {
		t.Fatalf("Order = %+v, %v", o, err)
	}
	if err := c.UpdateOrderMeta(ctx, id, []rules.Meta{{Key: "_woozoom", Value: json.RawMessage(`[{"join_url":"https://z/j/1"}]`)}, {Key: "n", Value: json.RawMessage(`5`)}}); err != nil {
		t.Fatal(err)
	}
	v, _ := shop.Meta(id, "_woozoom")
	if b, _ := json.Marshal(v); string(b) != `[{"join_url":"https://z/j/1"}]` {
		t.Errorf("meta after update = %s", b)
	}
	o, _ = c.Order(ctx, id)
	count := 0
	for _, m := range o.Meta {
		if m.Key == "_woozoom" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d rows of _woozoom after a key-only update, want 1 (WooCommerce deletes the others)", count)
	}
	if n, _ := shop.Meta(id, "n"); n != "5" {
		t.Errorf("scalar meta came back as %#v, want the string \"5\"", n)
	}
	if err := c.AddOrderNote(ctx, id, "Your Zoom link: https://z/j/1", true); err != nil {
		t.Fatal(err)
	}
	if notes := shop.Notes(id); len(notes) != 1 || !notes[0].Customer {
		t.Errorf("notes = %+v", notes)
	}
	_, err = c.Order(ctx, 999999)
	if !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("missing order: %v", err)
	}
}

func TestClientAuthFailuresAreClear(t *testing.T) {
	_, _, srv := shopServer(t)
	bad, _ := woo.New(woo.Config{URL: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "wrong"}, srv.Client(), slog.Default())
	_, err := bad.Order(context.Background(), 1)
	if !errors.Is(err, rules.ErrCredentials) || !rules.Retryable(err) || rules.Service(err) != "woocommerce" || !strings.Contains(err.Error(), "consumer_secret") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong secret: %v, want a credentials error of woocommerce that waits", err)
	}
	// A certificate woozoom does not trust is named, and waits for a person.
	untrusting, _ := woo.New(woo.Config{URL: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_test_secret"}, nil, slog.Default())
	_, err = untrusting.Order(context.Background(), 1)
	if !errors.Is(err, rules.ErrCredentials) || errors.Is(err, rules.ErrTemporary) || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("unknown certificate authority: %v, want a trust error, not a temporary one", err)
	}
	if _, err := woo.New(woo.Config{URL: "ftp://shop.example", ConsumerKey: "k", ConsumerSecret: "s"}, nil, slog.Default()); err == nil {
		t.Error("an ftp:// shop URL was accepted")
	}
	// The fake refuses Basic auth over plain HTTP, as WordPress does.
	shop := wootest.NewShop("k", "s")
	plain := httptest.NewServer(shop)
	defer plain.Close()
	req, _ := http.NewRequest(http.MethodGet, plain.URL+"/wp-json/wc/v3/orders/1", nil)
	req.SetBasicAuth("k", "s")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("fake over plain HTTP with Basic auth answered %d, want 401", resp.StatusCode)
	}
}

func TestShopCoalescesAndBuildsPayloadAtDelivery(t *testing.T) {
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !woo.Verify(body, r.Header.Get(woo.HeaderSignature), "sec") {
			t.Errorf("fake shop delivery does not verify")
		}
		o, _ := woo.ParseDelivery(r.Header.Get(woo.HeaderTopic), body)
		got = append(got, r.Header.Get(woo.HeaderTopic)+":"+o.Status)
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	shop := wootest.NewShop("k", "s")
	shop.AddWebhook(recv.URL, "sec", "order.updated")
	id := shop.CreateOrder(wootest.Order{Status: "pending", Email: "a@b.org"})
	for _, s := range []string{"processing", "completed", "cancelled"} {
		shop.SetStatus(id, s)
	}
	shop.Flush()
	if len(got) != 1 || got[0] != "order.updated:cancelled" {
		t.Errorf("deliveries = %v, want one showing cancelled", got)
	}
}

func TestShopDisablesWebhookAfterFailures(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer recv.Close()
	shop := wootest.NewShop("k", "s")
	wh := shop.AddWebhook(recv.URL, "sec", "order.updated")
	id := shop.CreateOrder(wootest.Order{Status: "pending"})
	for i := range 6 {
		shop.SetStatus(id, []string{"processing", "on-hold"}[i%2])
		shop.Flush()
	}
	if wh.Status != "disabled" {
		t.Errorf("webhook status after 6 failed deliveries = %s, want disabled", wh.Status)
	}
}

// recorder keeps the URL of every request it passes on.
type recorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func TestClientOverPlainHTTPSignsWithOAuth1(t *testing.T) {
	shop := wootest.NewShop("ck_plain", "cs_plain_secret")
	srv := httptest.NewServer(shop)
	defer srv.Close()
	rec := &recorder{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := woo.New(woo.Config{URL: srv.URL, ConsumerKey: "ck_plain", ConsumerSecret: "cs_plain_secret"}, &http.Client{Transport: rec}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := shop.CreateOrder(wootest.Order{Status: "completed", Email: "rita@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	if o, err := c.Order(ctx, id); err != nil || o.ID != id {
		t.Fatalf("signed GET refused: %+v, %v", o, err)
	}
	// Query parameters of the call are signed too.
	if _, _, err := c.OrdersModifiedSince(ctx, time.Now().Add(-time.Hour), 1); err != nil {
		t.Fatalf("signed list refused: %v", err)
	}
	if err := c.UpdateOrderMeta(ctx, id, []rules.Meta{{Key: "_woozoom", Value: json.RawMessage(`"x"`)}}); err != nil {
		t.Fatalf("signed PUT refused: %v", err)
	}
	if err := c.AddOrderNote(ctx, id, "note", false); err != nil {
		t.Fatalf("signed POST refused: %v", err)
	}
	rec.mu.Lock()
	first := rec.urls[0]
	rec.mu.Unlock()
	if strings.Contains(first, "cs_plain_secret") || !strings.Contains(first, "oauth_signature_method=HMAC-SHA256") {
		t.Errorf("signed URL %s shows the secret or is not HMAC-SHA256", first)
	}

	// The same request again is a replay: its nonce was used.
	resp, err := http.Get(first)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "nonce has already been used") {
		t.Errorf("replayed request answered %d %s, want 401 for the nonce", resp.StatusCode, body)
	}

	// A wrong secret makes a signature the shop does not accept.
	bad, _ := woo.New(woo.Config{URL: srv.URL, ConsumerKey: "ck_plain", ConsumerSecret: "wrong"}, nil, quiet)
	if _, err := bad.Order(ctx, id); err == nil || !strings.Contains(err.Error(), "signature does not match") {
		t.Errorf("wrong secret over HTTP: %v", err)
	}
	// A tampered parameter breaks the signature too.
	tampered := strings.Replace(first, fmt.Sprintf("/orders/%d", id), fmt.Sprintf("/orders/%d", id+1), 1)
	resp, err = http.Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered request answered %d, want 401", resp.StatusCode)
	}

	// A clock off by more than 15 minutes is refused.
	late := &woo.OAuth1{ConsumerKey: "ck_plain", ConsumerSecret: "cs_plain_secret", Now: func() time.Time { return time.Now().Add(-20 * time.Minute) }}
	resp, err = (&http.Client{Transport: late}).Get(fmt.Sprintf("%s/wp-json/wc/v3/orders/%d", srv.URL, id))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "Invalid timestamp") {
		t.Errorf("stale timestamp answered %d %s", resp.StatusCode, body)
	}
}

func TestResourceID(t *testing.T) {
	for body, want := range map[string]int64{
		`{"id":12,"status":"completed"}`:                            12,
		` { "parent_id": 0, "line_items": [{"id": 5}], "id" : 77 }`: 77,
		`{"meta":{"id":3},"id":4}`:                                  4,
		`{"id":"x"}`:                                                0,
		`{"id":-3}`:                                                 0,
		`[{"id":1}]`:                                                0,
		`{"status":"completed"}`:                                    0,
		`not json`:                                                  0,
		`{"id":9,"rest": broken`:                                    9,
	} {
		if got := woo.ResourceID([]byte(body)); got != want {
			t.Errorf("ResourceID(%s) = %d, want %d", body, got, want)
		}
	}
}

func BenchmarkResourceID(b *testing.B) {
	body, err := os.ReadFile("testdata/order-completed.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if woo.ResourceID(body) == 0 {
			b.Fatal("no id")
		}
	}
}

// The REST API does not redirect: a redirect is refused with where it
// pointed, and neither the Basic credentials (an https shop sent to http)
// nor an OAuth 1.0a signature (a plain-HTTP shop sent to another host)
// reach its target.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"id":1,"status":"completed"}`)
	}))
	defer target.Close()
	shop := wootest.NewShop("ck_test", "cs_test_secret")
	shop.CreateOrder(wootest.Order{Status: "completed", Email: "a@example.org"})
	secure := httptest.NewTLSServer(shop)
	defer secure.Close()
	plain := httptest.NewServer(shop)
	defer plain.Close()
	shop.RedirectTo(target.URL)
	for _, srv := range []*httptest.Server{secure, plain} {
		c, err := woo.New(woo.Config{URL: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_test_secret", Retries: 2}, srv.Client(), slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Order(context.Background(), 1)
		want := "the shop redirected to " + target.URL + "/wp-json/wc/v3/orders/1; set woocommerce.url to the final address"
		if !errors.Is(err, rules.ErrCredentials) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "oauth_signature") {
			t.Errorf("%s: %v, want %q, waiting for a person", srv.URL, err, want)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want none", n)
	}
}
