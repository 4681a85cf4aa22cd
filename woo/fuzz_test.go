package woo_test

import (
	"os"
	"testing"

	"github.com/woozoom/woozoom/woo"
)

func FuzzVerify(f *testing.F) {
	body, _ := os.ReadFile("testdata/order-updated-processing.body.json")
	f.Add(body, "r9AKYHWNYVYBI1AZPWONRjpw0C0hCfiTXLrxDetHst0=", "whsec-real-123")
	f.Add([]byte("webhook_id=1"), "", "")
	f.Add([]byte{}, "====", "s")
	f.Fuzz(func(t *testing.T, body []byte, sig, secret string) {
		ok := woo.Verify(body, sig, secret)
		if ok && secret == "" {
			t.Fatal("verified with an empty secret")
		}
		if ok && sig != woo.Sign(body, secret) {
			t.Fatalf("verified a signature that is not the body's: %q", sig)
		}
		if secret != "" && !woo.Verify(body, woo.Sign(body, secret), secret) {
			t.Fatal("the body's own signature does not verify")
		}
	})
}

func FuzzParseDelivery(f *testing.F) {
	for _, name := range []string{"order-updated-processing.body.json", "order-completed.json", "order-refunded.json", "order-cancelled.json", "product-updated.json"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add("order.updated", b)
	}
	f.Add("order.deleted", []byte(`{"id":12}`))
	f.Add("order.updated", []byte(`{"code":"woocommerce_rest_cannot_view","message":"x","data":{"status":401}}`))
	f.Add("order.updated", []byte(`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`))
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		o, err := woo.ParseDelivery(topic, body)
		if err != nil {
			return
		}
		if o.ID <= 0 {
			t.Fatalf("parsed an order without a positive id: %+v", o)
		}
		if !o.Deleted && o.Status == "" {
			t.Fatalf("parsed an order without a status: %+v", o)
		}
		for _, it := range o.Items {
			if it.ID <= 0 {
				t.Fatalf("parsed a line without a positive id: %+v", it)
			}
		}
		_ = woo.ResourceID(body)
	})
}
