// Package woo is woozoom's WooCommerce side: webhook signatures and payloads,
// and the REST client that reads orders and writes the meeting details back.
// wootest holds a faithful fake of WooCommerce.
package woo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Webhook delivery headers WooCommerce sends.
const (
	HeaderTopic      = "X-WC-Webhook-Topic"
	HeaderResource   = "X-WC-Webhook-Resource"
	HeaderEvent      = "X-WC-Webhook-Event"
	HeaderSignature  = "X-WC-Webhook-Signature"
	HeaderWebhookID  = "X-WC-Webhook-ID"
	HeaderDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderSource     = "X-WC-Webhook-Source"
)

// Sign returns WooCommerce's signature of a body: base64(HMAC-SHA256).
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is the body's signature under secret,
// compared in constant time on the canonical base64 text (a decoder would
// skip line breaks and accept forms WooCommerce never sends). An empty
// secret verifies nothing.
func Verify(body []byte, signature, secret string) bool {
	if secret == "" || signature == "" {
		return false
	}
	return hmac.Equal([]byte(signature), []byte(Sign(body, secret)))
}

// IsPing reports WooCommerce's ping, sent unsigned when a webhook is saved:
// a form body "webhook_id=N".
func IsPing(contentType string, body []byte) bool {
	if !strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		return false
	}
	v, ok := bytes.CutPrefix(bytes.TrimSpace(body), []byte("webhook_id="))
	if !ok {
		return false
	}
	_, err := strconv.ParseUint(string(v), 10, 64)
	return err == nil
}

// ResourceID reads the top-level "id" of a delivered resource without
// decoding the rest: it stops at the first top-level "id" (WooCommerce writes
// it first, and PHP cannot write a key twice). 0 when there is none.
func ResourceID(body []byte) int64 {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return 0
		}
		if key == "id" {
			var v json.Number
			if dec.Decode(&v) != nil {
				return 0
			}
			id, _ := strconv.ParseInt(v.String(), 10, 64)
			return max(id, 0)
		}
		if skipValue(dec) != nil {
			return 0
		}
	}
	return 0
}

// skipValue reads past one JSON value.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// ErrNotAnOrder is returned for a body that is no order (a product, or the
// error object WooCommerce delivers when the webhook's owner lost access).
var ErrNotAnOrder = errors.New("not an order")

// order is the subset of an order as WooCommerce's REST API (v3) writes it.
type order struct {
	ID              json.Number `json:"id"`
	Status          string      `json:"status"`
	DateModifiedGMT string      `json:"date_modified_gmt"`
	Billing         struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
	} `json:"billing"`
	LineItems []struct {
		ID          json.Number `json:"id"`
		Name        string      `json:"name"`
		ProductID   json.Number `json:"product_id"`
		VariationID json.Number `json:"variation_id"`
		Quantity    json.Number `json:"quantity"`
		MetaData    []meta      `json:"meta_data"`
	} `json:"line_items"`
	MetaData []meta            `json:"meta_data"`
	Refunds  []json.RawMessage `json:"refunds"`
	// An error object body has these instead.
	Code    string `json:"code"`
	Message string `json:"message"`
}

type meta struct {
	ID    json.Number     `json:"id"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// ParseOrder decodes an order as WooCommerce's REST API and webhooks send it.
func ParseOrder(body []byte) (rules.Order, error) {
	var o order
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return rules.Order{}, fmt.Errorf("decode order: %w", err)
	}
	if o.Code != "" && o.ID == "" {
		return rules.Order{}, fmt.Errorf("decode order: WooCommerce sent an error instead of the order (%s: %s); check the webhook owner's permissions: %w", o.Code, o.Message, ErrNotAnOrder)
	}
	id, err := positive(o.ID, "id")
	if err != nil {
		return rules.Order{}, fmt.Errorf("decode order: %w", err)
	}
	if o.Status == "" {
		return rules.Order{}, fmt.Errorf("decode order %d: no status: %w", id, ErrNotAnOrder)
	}
	out := rules.Order{
		ID: id, Status: o.Status,
		Billing:    rules.Person{FirstName: o.Billing.FirstName, LastName: o.Billing.LastName, Email: o.Billing.Email},
		Meta:       toMeta(o.MetaData),
		HasRefunds: len(o.Refunds) > 0,
	}
	if o.DateModifiedGMT != "" {
		// WooCommerce writes GMT dates without a zone: they are UTC.
		t, err := time.Parse("2006-01-02T15:04:05", o.DateModifiedGMT)
		if err != nil {
			return rules.Order{}, fmt.Errorf("decode order %d: date_modified_gmt %q: %w", id, o.DateModifiedGMT, err)
		}
		out.Modified = t.UTC()
	}
	for _, li := range o.LineItems {
		item := rules.LineItem{Name: li.Name, Meta: toMeta(li.MetaData)}
		if item.ID, err = positive(li.ID, "line item id"); err != nil {
			return rules.Order{}, fmt.Errorf("decode order %d: %w", id, err)
		}
		item.ProductID, _ = strconv.ParseInt(li.ProductID.String(), 10, 64)
		item.VariationID, _ = strconv.ParseInt(li.VariationID.String(), 10, 64)
		q, _ := strconv.ParseInt(li.Quantity.String(), 10, 64)
		item.Quantity = int(q)
		out.Items = append(out.Items, item)
	}
	return out, nil
}

func positive(n json.Number, what string) (int64, error) {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%s %q is not a positive number: %w", what, n, ErrNotAnOrder)
	}
	return v, nil
}

func toMeta(ms []meta) []rules.Meta {
	out := make([]rules.Meta, 0, len(ms))
	for _, m := range ms {
		id, _ := strconv.ParseInt(m.ID.String(), 10, 64)
		out = append(out, rules.Meta{ID: id, Key: m.Key, Value: m.Value})
	}
	return out
}

// ParseDelivery turns a delivery of an order topic into the order it shows.
// order.deleted (the order went to the trash) carries only the id.
func ParseDelivery(topic string, body []byte) (rules.Order, error) {
	resource, event, _ := strings.Cut(topic, ".")
	if resource != "order" {
		return rules.Order{}, fmt.Errorf("topic %q: %w", topic, ErrNotAnOrder)
	}
	if event == "deleted" || event == "refresh" {
		id := ResourceID(body)
		if id == 0 {
			return rules.Order{}, fmt.Errorf("%s without an id: %w", topic, ErrNotAnOrder)
		}
		return rules.Order{ID: id, Deleted: event == "deleted", Reread: event == "refresh"}, nil
	}
	return ParseOrder(body)
}
