package handler_test

import (
	"fmt"
	"testing"

	"github.com/woozoom/woozoom/handler"
)

// BenchmarkWebhookIngest measures a signed delivery from the socket's view:
// verify, commit delivery and job to a SQLite file (synchronous=FULL), answer.
func BenchmarkWebhookIngest(b *testing.B) {
	e, _ := setup(b, handler.Config{WebhookSecret: secret})
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf(`{"id":%d,"status":"completed","date_modified_gmt":"2026-11-22T16:45:50","billing":{"email":"a%d@example.org"}}`, i+1, i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if rec := post(e, bodies[i], signed(bodies[i], fmt.Sprint(i))); rec.Code != 200 {
			b.Fatalf("answered %d", rec.Code)
		}
	}
}
