package woo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/woozoom/woozoom/rules"
)

// Config is what the REST client needs.
type Config struct {
	URL            string // the shop's home URL, https
	ConsumerKey    string
	ConsumerSecret string
	Timeout        time.Duration
	Retries        int
}

// Client talks to a shop's WooCommerce REST API (wc/v3).
type Client struct {
	r   *resty.Client
	log *slog.Logger
}

// New returns a client. WooCommerce takes the consumer key and secret as
// Basic auth only over HTTPS; over plain HTTP (a shop on the same host or a
// private network) each request is signed with OAuth 1.0a instead. hc may be
// nil.
func New(cfg Config, hc *http.Client, log *slog.Logger) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("woocommerce url %q is not an http:// or https:// URL", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	own := *hc // resty sets its options on the client it is given
	own.CheckRedirect = refuseRedirect
	hc = &own
	if u.Scheme == "http" {
		signed := *hc
		signed.Transport = &OAuth1{ConsumerKey: cfg.ConsumerKey, ConsumerSecret: cfg.ConsumerSecret, Base: hc.Transport}
		hc = &signed
	}
	r := resty.NewWithClient(hc).
		SetBaseURL(strings.TrimRight(cfg.URL, "/")+"/wp-json/wc/v3").
		SetTimeout(cfg.Timeout).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", "woozoom").
		SetRetryCount(cfg.Retries).
		SetRetryWaitTime(500 * time.Millisecond).
		SetRetryMaxWaitTime(5 * time.Second).
		AddRetryCondition(func(resp *resty.Response, err error) bool {
			// Reads and meta PUTs repeat safely; a note would be posted twice.
			if resp == nil || resp.Request == nil || resp.Request.Method == http.MethodPost {
				return false
			}
			return (err != nil && !rules.Untrusted(err) && !errors.Is(err, rules.ErrCredentials)) || resp.StatusCode() >= 500 || resp.StatusCode() == http.StatusTooManyRequests
		})
	if u.Scheme == "https" {
		r.SetBasicAuth(cfg.ConsumerKey, cfg.ConsumerSecret)
	}
	r.SetLogger(quietLogger{})
	return &Client{r: r, log: log}, nil
}

// refuseRedirect never follows a redirect: the REST API does not redirect,
// and Basic auth or an OAuth 1.0a signature must not reach another origin
// (or the same one over plain HTTP).
func refuseRedirect(req *http.Request, _ []*http.Request) error {
	return rules.Redirect("the shop", "set woocommerce.url to the final address", req.URL)
}

// Error is a WooCommerce answer that was not a success.
type Error struct {
	Op         string
	HTTPStatus int
	Code       string // woocommerce_rest_...
	Message    string
	kind       error
}

func (e *Error) Error() string { return e.Op + ": " + e.Reason() }

// Reason is the error without what was being done: fit for a health page.
func (e *Error) Reason() string {
	s := fmt.Sprintf("woocommerce answered %d", e.HTTPStatus)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Service names where the error came from.
func (e *Error) Service() string { return "woocommerce" }

// Summary says what the answer means in woozoom's words, without the
// shop's message.
func (e *Error) Summary() string {
	switch e.HTTPStatus {
	case http.StatusUnauthorized:
		return "the shop refused woozoom's REST key (HTTP 401): check woocommerce.consumer_key and consumer_secret"
	case http.StatusForbidden:
		return "the shop's REST key lacks permissions (HTTP 403): it needs Read/Write"
	}
	return fmt.Sprintf("the shop answered HTTP %d", e.HTTPStatus)
}

// Unwrap lets errors.Is find the kind; a not-found is also permanent.
func (e *Error) Unwrap() []error {
	if errors.Is(e.kind, rules.ErrNotFound) {
		return []error{e.kind, rules.ErrPermanent}
	}
	return []error{e.kind}
}

func newError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, HTTPStatus: status}
	var b struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Message = b.Code, b.Message
	}
	switch {
	case status >= 500, status == http.StatusTooManyRequests:
		e.kind = rules.ErrTemporary
	case status == http.StatusNotFound:
		e.kind = rules.ErrNotFound
	case status == http.StatusUnauthorized:
		// The work waits for the key to be fixed; it is never dropped.
		e.kind = rules.ErrCredentials
		e.Message += " (check woocommerce.consumer_key and consumer_secret; behind a proxy that ends TLS, WordPress must see the request as HTTPS or it refuses Basic auth)"
	case status == http.StatusForbidden:
		e.kind = rules.ErrCredentials
		e.Message += " (the REST key needs Read/Write permissions, and its user must be an administrator or shop manager)"
	default:
		e.kind = rules.ErrPermanent
	}
	return e
}

func (c *Client) do(ctx context.Context, op, method, path string, body, result any) error {
	req := c.r.R().SetContext(ctx)
	if body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	if result != nil {
		req.SetResult(result)
	}
	resp, err := req.Execute(method, path)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return transportError(op, err)
	}
	if !resp.IsSuccess() {
		return newError(op, resp.StatusCode(), resp.Body())
	}
	return nil
}

// Order reads an order as it is now.
func (c *Client) Order(ctx context.Context, id int64) (rules.Order, error) {
	var raw json.RawMessage
	op := fmt.Sprintf("read order %d", id)
	if err := c.do(ctx, op, http.MethodGet, fmt.Sprintf("/orders/%d", id), nil, &raw); err != nil {
		return rules.Order{}, err
	}
	o, err := ParseOrder(raw)
	if err != nil {
		return rules.Order{}, fmt.Errorf("%s: %w: %w", op, rules.ErrPermanent, err)
	}
	return o, nil
}

// OrdersModifiedSince returns one page (1-based, 100 orders) of the orders
// modified after since, as raw JSON (each is exactly what a webhook would
// deliver), and how many pages there are. They come oldest first by
// creation, not by modification: an order saved while the pages are read
// would move to the end of a list by modification and shift a later one
// onto a page already read. By creation an order saved meanwhile stays
// where it is (the next pass reads its new state).
func (c *Client) OrdersModifiedSince(ctx context.Context, since time.Time, page int) ([][]byte, int, error) {
	return c.listOrders(ctx, fmt.Sprintf("list orders modified since %s (page %d)", since.UTC().Format(time.RFC3339), page), map[string]string{
		// Without dates_are_gmt WooCommerce reads the time as the site's local time.
		"modified_after": since.UTC().Format("2006-01-02T15:04:05"), "dates_are_gmt": "true",
		"orderby": "date", "order": "asc",
	}, page)
}

// OrdersOfProduct returns one page of the orders that hold a product, of
// every status but trash, oldest first by creation. The list is read page
// by page while the shop goes on: an order that changes status between two
// pages would, in a list of one status, move the later ones a place
// forward and one of them would never be read. In this list only a new
// order moves anything, and it comes last.
func (c *Client) OrdersOfProduct(ctx context.Context, productID int64, page int) ([][]byte, int, error) {
	return c.listOrders(ctx, fmt.Sprintf("list the orders of product %d (page %d)", productID, page), map[string]string{
		"product": strconv.FormatInt(productID, 10), "status": "any", "orderby": "date", "order": "asc",
	}, page)
}

func (c *Client) listOrders(ctx context.Context, op string, query map[string]string, page int) ([][]byte, int, error) {
	var raw []json.RawMessage
	pages, err := c.getPage(ctx, op, "/orders", query, page, &raw)
	if err != nil {
		return nil, 0, err
	}
	out := make([][]byte, len(raw))
	for i, r := range raw {
		out[i] = r
	}
	return out, pages, nil
}

// getPage reads one page (100 items) of a list into result and returns how
// many pages the list has.
func (c *Client) getPage(ctx context.Context, op, path string, query map[string]string, page int, result any) (pages int, err error) {
	q := map[string]string{"per_page": "100", "page": strconv.Itoa(page)}
	for k, v := range query {
		q[k] = v
	}
	resp, err := c.r.R().SetContext(ctx).SetResult(result).SetQueryParams(q).Get(path)
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return 0, transportError(op, err)
	}
	if !resp.IsSuccess() {
		return 0, newError(op, resp.StatusCode(), resp.Body())
	}
	pages, _ = strconv.Atoi(resp.Header().Get("X-WP-TotalPages"))
	return pages, nil
}

// RefundedQuantities reads an order's refunds and returns, per line item id,
// how many units were refunded (refund lines point at the original line
// through their _refunded_item_id meta, with a negative quantity).
func (c *Client) RefundedQuantities(ctx context.Context, orderID int64) (map[int64]int, error) {
	var refunds []struct {
		LineItems []struct {
			Quantity json.Number `json:"quantity"`
			MetaData []meta      `json:"meta_data"`
		} `json:"line_items"`
	}
	op := fmt.Sprintf("read refunds of order %d", orderID)
	if err := c.do(ctx, op, http.MethodGet, fmt.Sprintf("/orders/%d/refunds", orderID), nil, &refunds); err != nil {
		return nil, err
	}
	out := map[int64]int{}
	for _, r := range refunds {
		for _, li := range r.LineItems {
			var item int64
			for _, m := range li.MetaData {
				if m.Key == "_refunded_item_id" {
					item, _ = strconv.ParseInt(strings.Trim(string(m.Value), `"`), 10, 64)
				}
			}
			q, _ := strconv.ParseFloat(li.Quantity.String(), 64)
			if item > 0 && q != 0 {
				out[item] += int(math.Abs(q))
			}
		}
	}
	return out, nil
}

type metaUpdate struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// UpdateOrderMeta sets order meta keys: WooCommerce updates the first row
// with each key (deleting others with it) or adds one; a null value deletes.
// Every such write fires order.updated, so callers write only what changed.
func (c *Client) UpdateOrderMeta(ctx context.Context, id int64, meta []rules.Meta) error {
	body := map[string]any{"meta_data": metaRows(meta)}
	return c.do(ctx, fmt.Sprintf("write meta of order %d", id), http.MethodPut, fmt.Sprintf("/orders/%d", id), body, nil)
}

// metaRows are meta updates as the REST API takes them; no value deletes.
func metaRows(meta []rules.Meta) []metaUpdate {
	rows := make([]metaUpdate, len(meta))
	for i, m := range meta {
		rows[i] = metaUpdate{Key: m.Key, Value: m.Value}
		if len(m.Value) == 0 {
			rows[i].Value = json.RawMessage("null")
		}
	}
	return rows
}

// AddOrderNote adds a note to an order; a customer note is emailed to the
// customer by WooCommerce.
func (c *Client) AddOrderNote(ctx context.Context, id int64, note string, customer bool) error {
	body := map[string]any{"note": note, "customer_note": customer}
	return c.do(ctx, fmt.Sprintf("add note to order %d", id), http.MethodPost, fmt.Sprintf("/orders/%d/notes", id), body, nil)
}

// transportError is a call that got no answer from the shop.
func transportError(op string, err error) error {
	return rules.NoAnswer("woocommerce", op, "the shop's certificate is not trusted (set woocommerce.ca_file to its CA, or fix the certificate)", err)
}

type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

// Product reads a product.
func (c *Client) Product(ctx context.Context, id int64) (rules.Product, error) {
	var raw json.RawMessage
	op := fmt.Sprintf("read product %d", id)
	if err := c.do(ctx, op, http.MethodGet, fmt.Sprintf("/products/%d", id), nil, &raw); err != nil {
		return rules.Product{}, err
	}
	p, err := ParseProduct(raw)
	if err != nil {
		return rules.Product{}, fmt.Errorf("%s: %w: %w", op, rules.ErrPermanent, err)
	}
	return p, nil
}

// UpdateProductMeta sets product meta keys as UpdateOrderMeta does for
// orders (the first row with each key; null deletes). It fires
// product.updated.
func (c *Client) UpdateProductMeta(ctx context.Context, id int64, meta []rules.Meta) error {
	body := map[string]any{"meta_data": metaRows(meta)}
	return c.do(ctx, fmt.Sprintf("write meta of product %d", id), http.MethodPut, fmt.Sprintf("/products/%d", id), body, nil)
}
