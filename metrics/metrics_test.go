package metrics_test

import (
	"testing"

	"github.com/woozoom/woozoom/metrics"
)

func TestOperationKeepsLabelValuesFew(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/v2/meetings/81235802457/registrants", "POST /meetings/{id}/registrants"},
		{"PUT", "/v2/webinars/912/registrants/status", "PUT /webinars/{id}/registrants/status"},
		{"GET", "/v2/meetings/8123/registrants/ye9LZ0I2DJpL048TXHRtGQ", "GET /meetings/{id}/registrants/{id}"},
		{"GET", "/v2/users/host@shop.example", "GET /users/{id}"},
		{"PUT", "/wp-json/wc/v3/orders/101", "PUT /orders/{id}"},
		{"POST", "/shop/wp-json/wc/v3/orders/101/notes", "POST /orders/{id}/notes"},
		{"GET", "/wp-json/wc/v3/webhooks", "GET /webhooks"},
		{"POST", "/oauth/token", "POST /oauth/token"},
	} {
		if got := metrics.Operation(c.method, c.path); got != c.want {
			t.Errorf("Operation(%s %s) = %q, want %q", c.method, c.path, got, c.want)
		}
	}
}
