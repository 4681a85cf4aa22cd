package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/woozoom/woozoom/handler"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
)

const secret = "whsec-test-123"

func setup(t testing.TB, cfg handler.Config) (*echo.Echo, *store.DB) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return handler.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil))), db
}

func post(e *echo.Echo, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/woocommerce", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func signed(body []byte, deliveryID string) map[string]string {
	return map[string]string{
		woo.HeaderSignature: woo.Sign(body, secret), woo.HeaderTopic: "order.updated",
		woo.HeaderDeliveryID: deliveryID, woo.HeaderWebhookID: "1",
	}
}

func jobs(t *testing.T, db *store.DB) int {
	c, err := db.JobCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c[rules.JobQueued]
}

func TestWebhook(t *testing.T) {
	woken := 0
	e, db := setup(t, handler.Config{WebhookSecret: secret, MaxBodyBytes: 1 << 16, Stored: func() { woken++ }})
	order := []byte(`{"id":12,"status":"completed","date_modified_gmt":"2026-11-22T16:45:50"}`)
	other := []byte(`{"id":13,"status":"completed","date_modified_gmt":"2026-11-22T16:45:50"}`)

	ping := httptest.NewRequest(http.MethodPost, "/webhooks/woocommerce", strings.NewReader("webhook_id=1"))
	ping.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, ping)
	if rec.Code != http.StatusOK {
		t.Errorf("ping answered %d, want exactly 200", rec.Code)
	}

	steps := []struct {
		name    string
		body    []byte
		headers map[string]string
		code    int
		queued  int
	}{
		{"no signature", order, map[string]string{woo.HeaderTopic: "order.updated"}, 401, 0},
		{"forged signature", order, map[string]string{woo.HeaderSignature: woo.Sign(order, "guess"), woo.HeaderTopic: "order.updated"}, 401, 0},
		{"signature of another body", order, map[string]string{woo.HeaderSignature: woo.Sign(other, secret), woo.HeaderTopic: "order.updated"}, 401, 0},
		{"signed", order, signed(order, "d1"), 200, 1},
		{"exact repeat", order, signed(order, "d1"), 200, 1},
		{"other order, same Delivery-ID", other, signed(other, "d1"), 200, 2},
		{"signed but not JSON: kept and answered", []byte("<html>oops"), signed([]byte("<html>oops"), "d2"), 200, 3},
		{"too large", bytes.Repeat([]byte("x"), 1<<16+1), signed(bytes.Repeat([]byte("x"), 1<<16+1), "d3"), 413, 3},
	}
	for _, s := range steps {
		rec := post(e, s.body, s.headers)
		if rec.Code != s.code {
			t.Errorf("%s: answered %d (%s), want %d", s.name, rec.Code, rec.Body, s.code)
		}
		if n := jobs(t, db); n != s.queued {
			t.Errorf("%s: %d jobs queued, want %d", s.name, n, s.queued)
		}
	}
	if woken != 3 {
		t.Errorf("worker woken %d times, want once per new delivery (3)", woken)
	}
	var dup map[string]any
	json.Unmarshal(post(e, order, signed(order, "d1")).Body.Bytes(), &dup)
	if dup["status"] != "duplicate" {
		t.Errorf("repeat answered %v, want status duplicate", dup)
	}
}

func TestWebhookWithoutSecretRefusesEverything(t *testing.T) {
	e, db := setup(t, handler.Config{})
	body := []byte(`{"id":1}`)
	for _, sig := range []string{"", woo.Sign(body, "")} {
		if rec := post(e, body, map[string]string{woo.HeaderSignature: sig}); rec.Code != http.StatusUnauthorized {
			t.Errorf("no secret configured, signature %q: answered %d, want 401", sig, rec.Code)
		}
	}
	if n := jobs(t, db); n != 0 {
		t.Errorf("%d jobs stored without a secret", n)
	}
}

func TestHealth(t *testing.T) {
	e, _ := setup(t, handler.Config{WebhookSecret: secret, Demo: true})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var got map[string]any
	json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != 200 || got["mode"] != "demo" || !strings.Contains(got["warning"].(string), "DEMO") {
		t.Errorf("healthz = %d %s", rec.Code, rec.Body)
	}
}

// Each delivery's job names its resource, for the claim to serialise: the
// order, the product.
func TestDeliveriesNameTheirResource(t *testing.T) {
	e, db := setup(t, handler.Config{WebhookSecret: secret, MaxBodyBytes: 1 << 16})
	for _, d := range []struct {
		topic, body string
	}{
		{"order.updated", `{"id":12,"status":"completed"}`},
		{"product.updated", `{"id":812,"name":"Tour"}`},
		{"product.deleted", `{"id":813}`},
	} {
		h := signed([]byte(d.body), d.topic)
		h[woo.HeaderTopic] = d.topic
		if rec := post(e, []byte(d.body), h); rec.Code != http.StatusOK {
			t.Fatalf("%s answered %d", d.topic, rec.Code)
		}
	}
	list, err := db.Jobs(context.Background(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var keys []rules.Key
	for _, j := range list {
		keys = append(keys, j.Key)
	}
	if want := []rules.Key{"product:813", "product:812", "order:12"}; !slices.Equal(keys, want) {
		t.Errorf("resources %v, want %v", keys, want)
	}
}
