package woo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
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
		// The handler's quick read of the id agrees with the full parse (for
		// bodies PHP can write: one top-level "id").
		if id := woo.ResourceID(body); id != o.ID && topLevelIDs(body) == 1 {
			t.Fatalf("ResourceID = %d, the parsed order's id %d", id, o.ID)
		}
	})
}

// topLevelIDs counts the top-level "id" keys of a JSON object.
func topLevelIDs(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	n := 0
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return n
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return n
		}
		if k == "id" {
			n++
		}
	}
	return n
}

// FuzzOAuth1 signs requests with any query values and secret, and the fake
// shop, which rebuilds the signature as WooCommerce's PHP does, must accept
// every one; a changed value must be refused.
func FuzzOAuth1(f *testing.F) {
	f.Add("modified_after", "2026-11-01T00:00:00", "cs_secret", "orders")
	f.Add("search", "Müller & Söhne +1 ~/%20", "s&e=c r+e/t", "orders/12/notes")
	f.Add("a", "", "x", "")
	shop := wootest.NewShop("ck_fuzz", "")
	srv := httptest.NewServer(shop)
	f.Cleanup(srv.Close)
	keyOK := regexp.MustCompile(`^[a-z_]{1,20}$`)
	pathOK := regexp.MustCompile(`^[a-z0-9/]{0,30}$`)
	f.Fuzz(func(t *testing.T, key, value, secret, path string) {
		if !keyOK.MatchString(key) || strings.HasPrefix(key, "oauth_") || !pathOK.MatchString(path) || !utf8.ValidString(value) || !utf8.ValidString(secret) {
			return
		}
		shop.ConsumerSecret = secret
		client := &http.Client{Transport: &woo.OAuth1{ConsumerKey: "ck_fuzz", ConsumerSecret: secret}}
		u := srv.URL + "/wp-json/wc/v3/" + path + "?" + url.Values{key: {value}}.Encode()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			t.Fatalf("the shop refused a signed request (%s=%q, secret %q): %s", key, value, secret, body)
		}
		// The same signature over another value is refused.
		tamper := &tamperer{key: key, value: value + "x"}
		client.Transport = &woo.OAuth1{ConsumerKey: "ck_fuzz", ConsumerSecret: secret, Base: tamper}
		resp, err = client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a request changed after signing was accepted (%s=%q)", key, value)
		}
	})
}

// tamperer changes one query value of a signed request before sending it.
type tamperer struct{ key, value string }

func (t *tamperer) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	q.Set(t.key, t.value)
	r.URL.RawQuery = q.Encode()
	return http.DefaultTransport.RoundTrip(r)
}
