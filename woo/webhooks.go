package woo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// DeliveryPath is the path of woozoom's webhook endpoint; a delivery URL
// that ends with it points at a woozoom (directly or through a proxy).
const DeliveryPath = "/webhooks/woocommerce"

// OrderTopics are the topics woozoom needs for orders; ProductTopics those
// it needs when a mapping makes meetings from products.
var (
	OrderTopics   = []string{"order.created", "order.updated", "order.deleted", "order.restored"}
	ProductTopics = []string{"product.created", "product.updated", "product.deleted", "product.restored"}
)

// Webhook is a webhook as WooCommerce's REST API shows it (it never shows
// the secret).
type Webhook struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"` // active, paused, disabled
	Topic       string `json:"topic"`
	DeliveryURL string `json:"delivery_url"`
}

// Webhooks lists every webhook of the shop.
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var all []Webhook
	for page := 1; ; page++ {
		var batch []Webhook
		pages, err := c.getPage(ctx, fmt.Sprintf("list webhooks (page %d)", page), "/webhooks", map[string]string{"status": "all"}, page, &batch)
		if err != nil {
			return nil, err
		}
		all = append(all, batch...)
		if page >= pages || len(batch) == 0 {
			return all, nil
		}
	}
}

// WebhookFields are what woozoom sets on a webhook; nil leaves a field.
type WebhookFields struct {
	Name        *string `json:"name,omitempty"`
	Status      *string `json:"status,omitempty"`
	Topic       *string `json:"topic,omitempty"`
	DeliveryURL *string `json:"delivery_url,omitempty"`
	Secret      *string `json:"secret,omitempty"`
}

// CreateWebhook creates a webhook. Through wc/v3 it gets API version 3, and
// WooCommerce makes it active and pings its URL (answering 201 even when the
// ping failed).
func (c *Client) CreateWebhook(ctx context.Context, f WebhookFields) (Webhook, error) {
	var out Webhook
	topic := ""
	if f.Topic != nil {
		topic = *f.Topic
	}
	err := c.do(ctx, "create webhook "+topic, http.MethodPost, "/webhooks", f, &out)
	return out, err
}

// UpdateWebhook changes the fields set in f.
func (c *Client) UpdateWebhook(ctx context.Context, id int64, f WebhookFields) (Webhook, error) {
	var out Webhook
	err := c.do(ctx, fmt.Sprintf("update webhook %d", id), http.MethodPut, fmt.Sprintf("/webhooks/%d", id), f, &out)
	return out, err
}

// WebhookChange is one step to bring a shop's webhooks to what woozoom needs.
type WebhookChange struct {
	Topic string
	// ID is the webhook to correct; 0 creates one.
	ID  int64
	Why string // in words, for the admin
	// SetURL and Activate say what to correct.
	SetURL, Activate bool
}

// WebhookState is what woozoom finds for one topic it needs.
type WebhookState struct {
	Topic   string
	Webhook *Webhook // the one that serves the topic, nil if none
	Problem string   // "" when it is active and points at woozoom
}

// pointsAt reports whether a delivery URL reaches woozoom: the URL given, or
// when none is given any URL ending in woozoom's path.
func pointsAt(delivery, want string) bool {
	if want != "" {
		return sameURL(delivery, want)
	}
	u, err := url.Parse(delivery)
	if err != nil {
		return false
	}
	// One of several shops has its own path below it.
	p := strings.TrimRight(u.Path, "/")
	if i := strings.LastIndex(p, DeliveryPath+"/"); i >= 0 && !strings.Contains(p[i+len(DeliveryPath)+1:], "/") {
		p = p[:i+len(DeliveryPath)]
	}
	return strings.HasSuffix(p, DeliveryPath)
}

func sameURL(a, b string) bool {
	ua, ea := url.Parse(a)
	ub, eb := url.Parse(b)
	if ea != nil || eb != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimRight(ua.Path, "/") == strings.TrimRight(ub.Path, "/") && ua.RawQuery == ub.RawQuery
}

// CheckWebhooks says, for each topic woozoom needs, which webhook serves it
// and what is wrong. want is woozoom's delivery URL ("" accepts any URL that
// ends in /webhooks/woocommerce).
func CheckWebhooks(hooks []Webhook, topics []string, want string) []WebhookState {
	out := make([]WebhookState, 0, len(topics))
	for _, t := range topics {
		st := WebhookState{Topic: t}
		var candidates []Webhook
		for _, h := range hooks {
			if h.Topic == t && pointsAt(h.DeliveryURL, want) {
				candidates = append(candidates, h)
			}
		}
		// An active one wins over paused or disabled ones.
		slices.SortStableFunc(candidates, func(a, b Webhook) int {
			return boolRank(a.Status == "active") - boolRank(b.Status == "active")
		})
		switch {
		case len(candidates) > 0 && candidates[0].Status == "active":
			h := candidates[0]
			st.Webhook = &h
		case len(candidates) > 0:
			h := candidates[0]
			st.Webhook = &h
			st.Problem = fmt.Sprintf("webhook %d (%s) is %s: WooCommerce does not deliver %s to woozoom", h.ID, t, h.Status, t)
			if h.Status == "disabled" {
				st.Problem += " (it disables a webhook after repeated failed deliveries)"
			}
		default:
			st.Problem = fmt.Sprintf("no webhook for %s points at woozoom", t)
			if want != "" {
				st.Problem = fmt.Sprintf("no webhook for %s points at %s", t, want)
			}
			for _, h := range hooks {
				if h.Topic == t {
					st.Problem += fmt.Sprintf(" (webhook %d goes to %s)", h.ID, h.DeliveryURL)
					break
				}
			}
		}
		out = append(out, st)
	}
	return out
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

// PlanWebhooks returns the changes that make the shop deliver every topic
// to url, actively: a webhook of woozoom's (by name) with another URL is
// pointed at url, a paused or disabled one is activated, a missing one is
// created. Nothing is returned when all is well, so running it twice
// changes nothing.
func PlanWebhooks(hooks []Webhook, topics []string, url string) []WebhookChange {
	var out []WebhookChange
	for _, st := range CheckWebhooks(hooks, topics, url) {
		switch {
		case st.Problem == "":
		case st.Webhook != nil:
			out = append(out, WebhookChange{Topic: st.Topic, ID: st.Webhook.ID, Activate: true, Why: st.Problem})
		default:
			ch := WebhookChange{Topic: st.Topic, Why: st.Problem}
			for _, h := range hooks {
				if h.Topic == st.Topic && h.Name == WebhookName(st.Topic) {
					ch.ID, ch.SetURL, ch.Activate = h.ID, true, h.Status != "active"
					break
				}
			}
			out = append(out, ch)
		}
	}
	return out
}

// WebhookName is the name woozoom gives the webhook of a topic.
func WebhookName(topic string) string { return "woozoom " + topic }
