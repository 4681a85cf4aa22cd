package handler_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/handler"
	"github.com/woozoom/woozoom/woo"
)

// endless yields n bytes of a repeated pattern without holding them.
type endless struct{ left int }

func (e *endless) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := min(len(p), e.left)
	for i := range n {
		p[i] = 'x'
	}
	e.left -= n
	return n, nil
}

func TestHostileRequests(t *testing.T) {
	e, db := setup(t, handler.Config{WebhookSecret: secret, MaxBodyBytes: 1 << 20})
	order := []byte(`{"id":12,"status":"completed","date_modified_gmt":"2026-11-22T16:45:50"}`)
	nested := []byte(strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000))
	for _, tc := range []struct {
		name    string
		body    []byte
		headers map[string]string
		code    int
		stored  int // deliveries stored after this request, in all
	}{
		{"forged", order, map[string]string{woo.HeaderSignature: woo.Sign(order, "not-the-secret")}, 401, 0},
		{"missing headers", order, nil, 401, 0},
		{"signature header empty", order, map[string]string{woo.HeaderSignature: ""}, 401, 0},
		{"genuine", order, signed(order, "d1"), 200, 1},
		{"replayed with a changed body", []byte(strings.Replace(string(order), "completed", "cancelled", 1)), signed(order, "d1"), 401, 1},
		{"truncated body", order[:20], signed(order, "d2"), 401, 1},
		{"signed, not JSON", []byte("not json"), signed([]byte("not json"), "d3"), 200, 2},
		{"signed, wrong content type", order, withHeader(signed(order, "d4"), "Content-Type", "text/plain"), 200, 3}, // same body as d1: a new Delivery-ID is a new delivery
		{"signed, unknown topic", []byte(`{"id":5}`), withHeader(signed([]byte(`{"id":5}`), "d5"), woo.HeaderTopic, "coupon.created"), 200, 4},
		{"signed, deeply nested JSON", nested, signed(nested, "d6"), 200, 5},
		{"ping lookalike with a JSON content type", []byte("webhook_id=1"), map[string]string{"Content-Type": "application/json"}, 401, 5},
	} {
		rec := post(e, tc.body, tc.headers)
		if rec.Code != tc.code {
			t.Errorf("%s: answered %d (%s), want %d", tc.name, rec.Code, rec.Body, tc.code)
		}
		if n, _ := db.CountDeliveries(context.Background()); n != tc.stored {
			t.Errorf("%s: %d deliveries stored, want %d", tc.name, n, tc.stored)
		}
	}
	counts, _ := db.JobCounts(context.Background())
	if counts["queued"] != 5 {
		t.Errorf("%d jobs queued, want one per stored delivery (5)", counts["queued"])
	}
}

func withHeader(h map[string]string, k, v string) map[string]string {
	h[k] = v
	return h
}

func TestHugeBodyIsRefusedInBoundedMemory(t *testing.T) {
	e, db := setup(t, handler.Config{WebhookSecret: secret, MaxBodyBytes: 1 << 20})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/woocommerce", &endless{left: 256 << 20})
	req.Header.Set(woo.HeaderSignature, "AAAA")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("256 MiB body answered %d, want 413", rec.Code)
	}
	// The cap is 1 MiB; reading stops there. Allow for buffer growth.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("a 256 MiB body made the handler allocate %d MiB", grew>>20)
	}
	if n, _ := db.CountDeliveries(context.Background()); n != 0 {
		t.Errorf("%d deliveries stored from a refused body", n)
	}
}
