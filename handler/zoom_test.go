package handler_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/woozoom/woozoom/handler"
)

const zoomSecret = "zoom-webhook-secret-token"

// zoomPost signs a body as Zoom does, computed here independently of the
// code under test.
func zoomPost(e *echo.Echo, body []byte, ts time.Time, key string) *httptest.ResponseRecorder {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("v0:" + stamp + ":" + string(body)))
	req := httptest.NewRequest(http.MethodPost, "/webhooks/zoom", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-zm-request-timestamp", stamp)
	req.Header.Set("x-zm-signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestZoomWebhook(t *testing.T) {
	e, db := setup(t, handler.Config{WebhookSecret: secret, ZoomSecretToken: zoomSecret})
	now := time.Now()

	// The endpoint validation challenge.
	rec := zoomPost(e, []byte(`{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680}`), now, zoomSecret)
	var answer map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("validation: %d %s", rec.Code, rec.Body)
	}
	mac := hmac.New(sha256.New, []byte(zoomSecret))
	mac.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
	if answer["plainToken"] != "qgg8vlvZRS6UYooatFL8Aw" || answer["encryptedToken"] != hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("validation answer = %v", answer)
	}

	event := []byte(`{"event":"meeting.registration_cancelled","event_ts":1764600000000,"payload":{"account_id":"a","operator":"host@shop.example","object":{"id":85746065123,"topic":"Tour","registrant":{"id":"r1","email":"ana@example.org","first_name":"Ana"}}}}`)
	for _, tc := range []struct {
		name string
		ts   time.Time
		key  string
		want int
	}{
		{"forged", now, "not-the-secret", http.StatusUnauthorized},
		{"stale", now.Add(-6 * time.Minute), zoomSecret, http.StatusUnauthorized},
		{"from the future", now.Add(6 * time.Minute), zoomSecret, http.StatusUnauthorized},
		{"signed", now, zoomSecret, http.StatusOK},
		{"retried", now.Add(time.Second), zoomSecret, http.StatusOK},
	} {
		if rec := zoomPost(e, event, tc.ts, tc.key); rec.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Body, tc.want)
		}
	}
	n, _ := db.CountDeliveries(context.Background())
	if n != 1 {
		t.Errorf("%d deliveries stored, want the signed event once", n)
	}
	// Its job works on the meeting: events of one meeting run one at a time.
	if list, _ := db.Jobs(context.Background(), "", 10); len(list) != 1 || list[0].Key != "meeting:85746065123" {
		t.Errorf("jobs %+v, want one of meeting:85746065123", list)
	}
	// An unsigned request is refused too.
	req := httptest.NewRequest(http.MethodPost, "/webhooks/zoom", bytes.NewReader(event))
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", rec.Code)
	}

	// Without a secret token the endpoint does not exist.
	off, _ := setup(t, handler.Config{WebhookSecret: secret})
	if rec := zoomPost(off, event, now, zoomSecret); rec.Code != http.StatusNotFound {
		t.Errorf("without zoom.webhook_secret_token: %d, want 404", rec.Code)
	}
}
