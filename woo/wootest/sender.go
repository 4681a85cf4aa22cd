package wootest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/woozoom/woozoom/woo"
)

// Sender posts webhook deliveries the way WooCommerce does: same headers,
// same signature, same User-Agent, the ping's form body.
type Sender struct {
	URL       string // delivery URL
	Secret    string
	WebhookID int64
	Source    string // the shop's home URL with a trailing slash
	Client    *http.Client
	Now       func() time.Time
}

// DeliveryID is WooCommerce's delivery id: a hash of the webhook id and the
// current second, so every delivery of a webhook in one second shares it.
func DeliveryID(webhookID int64, at time.Time) string {
	sum := md5.Sum([]byte(strconv.FormatInt(webhookID, 10) + strconv.FormatInt(at.Unix(), 10) + "wp-salt"))
	return hex.EncodeToString(sum[:])
}

// Send signs and posts body as a delivery of topic and returns the status.
func (s *Sender) Send(topic string, body []byte) (int, error) {
	return s.SendAs(topic, body, DeliveryID(s.WebhookID, s.now()), woo.Sign(body, s.Secret))
}

// SendAs posts body with a given delivery id and signature (for replays and
// forgeries).
func (s *Sender) SendAs(topic string, body []byte, deliveryID, signature string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resource, event, _ := strings.Cut(topic, ".")
	req.Header.Set("User-Agent", "WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(woo.HeaderSource, s.Source)
	req.Header.Set(woo.HeaderTopic, topic)
	req.Header.Set(woo.HeaderResource, resource)
	req.Header.Set(woo.HeaderEvent, event)
	if signature != "" {
		req.Header.Set(woo.HeaderSignature, signature)
	}
	req.Header.Set(woo.HeaderWebhookID, strconv.FormatInt(s.WebhookID, 10))
	req.Header.Set(woo.HeaderDeliveryID, deliveryID)
	return s.do(req)
}

// Ping posts the unsigned "webhook_id=N" form WooCommerce sends when a
// webhook is saved; WooCommerce activates the webhook only on exactly 200.
func (s *Sender) Ping() (int, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("webhook_id="+strconv.FormatInt(s.WebhookID, 10)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

func (s *Sender) do(req *http.Request) (int, error) {
	req.Close = true // WooCommerce sends Connection: close
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	// WordPress follows no redirect.
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// PHPJSON encodes v as wp_json_encode does: "/" escaped as "\/", every
// non-ASCII character as \uXXXX, and <, >, & left as they are. A signature
// over these bytes matches WooCommerce's.
func PHPJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	in := bytes.TrimRight(buf.Bytes(), "\n")
	out := make([]byte, 0, len(in)+len(in)/8)
	for len(in) > 0 {
		r, size := utf8.DecodeRune(in)
		switch {
		case r == '/':
			out = append(out, '\\', '/')
		case r >= 0x80 && r <= 0xFFFF:
			out = fmt.Appendf(out, `\u%04x`, r)
		case r > 0xFFFF:
			r -= 0x10000
			out = fmt.Appendf(out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			out = append(out, in[:size]...)
		}
		in = in[size:]
	}
	return out, nil
}
