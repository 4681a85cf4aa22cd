// Package handler is woozoom's HTTP side: the WooCommerce webhook endpoint
// (ping, signature, size limit, durable store, answer) and health. It calls
// neither Zoom nor WooCommerce; the worker does the work from the store.
package handler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo"
)

// Store is what the handler needs of the store.
type Store interface {
	RecordDelivery(ctx context.Context, d rules.Delivery) (id int64, isNew bool, err error)
	JobCounts(ctx context.Context) (map[string]int, error)
}

// Config configures the handler.
type Config struct {
	WebhookSecret string
	MaxBodyBytes  int64
	// Demo marks the server as running against in-process fakes.
	Demo bool
	// Stored, if set, is called after a new delivery is committed (to wake
	// the worker).
	Stored func()
	// Problems, if set, returns what needs a person now, by component, in
	// woozoom's own words (never a service's answer: anyone may read
	// /healthz); /healthz then says "degraded" and names them.
	Problems func() map[string]string
	// Ready, if set, says why woozoom cannot do its work now (database not
	// writable, worker not running); nil means ready.
	Ready func(ctx context.Context) error
	// Metrics, if set, hears of every delivery.
	Metrics Metrics
	// MetricsHandler, if set, serves GET /metrics.
	MetricsHandler http.Handler
	// ZoomSecretToken, if set, turns on POST /webhooks/zoom: the Secret
	// Token of the (default) Zoom app's event subscription.
	ZoomSecretToken string
	// ZoomAccounts turn on POST /webhooks/zoom/{account}, each with its
	// app's Secret Token.
	ZoomAccounts map[string]string
	// Calendar, if set, serves GET /calendar/{token}.ics: the file, or an
	// error wrapping access.ErrNoCalendar for a link that leads nowhere.
	Calendar func(ctx context.Context, token string) (string, error)
	// Shops, if set, are several shops, each at /webhooks/woocommerce/{name}
	// with its secret and its store; the first is also at
	// /webhooks/woocommerce. Unset: the one shop of WebhookSecret, Stored
	// and the store given to New.
	Shops []Shop
}

// Shop is one shop's webhook endpoint.
type Shop struct {
	Name   string
	Secret string
	Store  Store
	// Stored, if set, is called after a new delivery is committed.
	Stored func()
}

// Metrics is what the handler reports.
type Metrics interface {
	Delivery(shop, topic, result string)
}

// DefaultMaxBodyBytes caps a delivery; an order with hundreds of lines and
// attendee meta is well under it.
const DefaultMaxBodyBytes = 4 << 20

// Handler serves woozoom's HTTP API.
type Handler struct {
	cfg   Config
	shops []Shop // the first is the default
	log   *slog.Logger
}

// New returns the Echo server with every route. An empty webhook secret
// refuses every delivery (fail closed).
func New(cfg Config, store Store, log *slog.Logger) *echo.Echo {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{cfg: cfg, shops: cfg.Shops, log: log}
	if len(h.shops) == 0 {
		h.shops = []Shop{{Secret: cfg.WebhookSecret, Store: store, Stored: cfg.Stored}}
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// A client's address (the console limits failed sign-ins by it) comes
	// from X-Forwarded-For only through a proxy on this host or a private
	// network; a client cannot name its own.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	e.HTTPErrorHandler = h.handleError
	e.POST("/webhooks/woocommerce", func(c echo.Context) error { return h.webhook(c, h.shops[0]) })
	if len(cfg.Shops) > 0 {
		e.POST("/webhooks/woocommerce/:shop", func(c echo.Context) error {
			for _, s := range h.shops {
				if s.Name == c.Param("shop") {
					return h.webhook(c, s)
				}
			}
			return echo.NewHTTPError(http.StatusNotFound, "no shop "+c.Param("shop")+" sends webhooks here")
		})
	}
	e.GET("/healthz", h.health)
	e.GET("/readyz", h.ready)
	if cfg.MetricsHandler != nil {
		e.GET("/metrics", echo.WrapHandler(cfg.MetricsHandler))
	}
	if cfg.Calendar != nil {
		e.GET("/calendar/:file", h.calendar)
	}
	if cfg.ZoomSecretToken != "" {
		e.POST("/webhooks/zoom", func(c echo.Context) error { return h.zoomWebhook(c, "", cfg.ZoomSecretToken) })
	}
	if len(cfg.ZoomAccounts) > 0 {
		e.POST("/webhooks/zoom/:account", func(c echo.Context) error {
			account := c.Param("account")
			secret := cfg.ZoomAccounts[account]
			if secret == "" {
				return echo.NewHTTPError(http.StatusNotFound, "no Zoom account "+account+" takes events here")
			}
			return h.zoomWebhook(c, account, secret)
		})
	}
	return e
}

// webhook verifies, stores and answers for a shop. It never decodes more
// than the order id before the delivery is stored, so a body woozoom
// cannot use is still kept, answered 2xx, and shown as a failed job.
func (h *Handler) webhook(c echo.Context, shop Shop) error {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "delivery larger than the limit")
		}
		return echo.NewHTTPError(http.StatusBadRequest, "could not read the request body")
	}
	sig := r.Header.Get(woo.HeaderSignature)
	// WooCommerce activates a webhook only if its unsigned ping gets exactly 200.
	if sig == "" && woo.IsPing(r.Header.Get(echo.HeaderContentType), body) {
		// Shown at info level: it is how an operator sees the shop reach woozoom.
		h.log.Info("webhook ping from WooCommerce answered", "remote", c.RealIP(), "user_agent", r.UserAgent(), "shop", shop.Name)
		h.count(shop.Name, "ping", "accepted")
		return c.JSON(http.StatusOK, map[string]string{"status": "pong"})
	}
	if !woo.Verify(body, sig, shop.Secret) {
		h.log.Warn("webhook refused: signature does not match", "remote", c.RealIP(), "shop", shop.Name,
			"topic", r.Header.Get(woo.HeaderTopic), "delivery_id", r.Header.Get(woo.HeaderDeliveryID))
		h.count(shop.Name, r.Header.Get(woo.HeaderTopic), "refused")
		return echo.NewHTTPError(http.StatusUnauthorized, "signature does not match")
	}
	topic := r.Header.Get(woo.HeaderTopic)
	d := rules.Delivery{
		DeliveryID: r.Header.Get(woo.HeaderDeliveryID),
		WebhookID:  r.Header.Get(woo.HeaderWebhookID),
		Topic:      topic,
		Source:     r.Header.Get(woo.HeaderSource),
		Body:       body,
	}
	switch {
	case strings.HasPrefix(topic, "order."):
		d.OrderID = woo.ResourceID(body)
	case strings.HasPrefix(topic, "product."):
		if id := woo.ResourceID(body); id != 0 {
			d.Key = rules.ProductKey(id)
		}
	}
	return h.record(c, shop, d, topic)
}

// record stores a shop's verified delivery, wakes the worker for a new
// one, and answers only after the commit; metric counts it under label.
func (h *Handler) record(c echo.Context, shop Shop, d rules.Delivery, label string) error {
	id, isNew, err := shop.Store.RecordDelivery(c.Request().Context(), d)
	if err != nil {
		// Not stored, so not acknowledged. WooCommerce does not send a
		// failed delivery again: the reconcile pass reads the order.
		h.count(shop.Name, label, "error")
		c.Response().Header().Set("Retry-After", "10")
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the delivery could not be stored").SetInternal(err)
	}
	if isNew && shop.Stored != nil {
		shop.Stored()
	}
	status := "accepted"
	if !isNew {
		status = "duplicate"
	}
	h.count(shop.Name, label, status)
	h.log.Info("delivery stored", "delivery", id, "topic", d.Topic, "order_id", d.OrderID, "new", isNew, "shop", shop.Name)
	return c.JSON(http.StatusOK, map[string]any{"status": status, "delivery": id})
}

func (h *Handler) health(c echo.Context) error {
	// Every shop's jobs, together.
	counts := map[string]int{}
	for _, s := range h.shops {
		n, err := s.Store.JobCounts(c.Request().Context())
		if err != nil {
			return err
		}
		for state, k := range n {
			counts[state] += k
		}
	}
	out := map[string]any{"status": "ok", "jobs": counts, "mode": "live"}
	if h.cfg.Problems != nil {
		if p := h.cfg.Problems(); len(p) > 0 {
			out["status"], out["problems"] = "degraded", p
		}
	}
	if h.cfg.Demo {
		out["mode"] = "demo"
		out["warning"] = "DEMO MODE: Zoom and WooCommerce are in-process fakes; nothing reaches a real shop or Zoom account"
	}
	return c.JSON(http.StatusOK, out)
}

// ready answers 200 only while woozoom can do its work.
func (h *Handler) ready(c echo.Context) error {
	if h.cfg.Ready != nil {
		if err := h.cfg.Ready(c.Request().Context()); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (h *Handler) count(shop, topic, result string) {
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.Delivery(shop, topic, result)
	}
}

// handleError is the one place errors become HTTP answers; only 5xx are
// logged as errors.
func (h *Handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
	}
	if status >= 500 {
		h.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		if errors.Is(err, context.Canceled) {
			status, msg = http.StatusServiceUnavailable, "shutting down"
		}
	}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(status)
	} else {
		werr = c.JSON(status, map[string]string{"error": msg})
	}
	if werr != nil {
		h.log.Debug("error answer not sent", "err", werr)
	}
}

// calendar serves an attendee's calendar file. Its token is the only key,
// so a wrong one says nothing more than 404.
func (h *Handler) calendar(c echo.Context) error {
	token, ok := strings.CutSuffix(c.Param("file"), ".ics")
	if !ok || token == "" {
		return echo.NewHTTPError(http.StatusNotFound, "no such calendar file")
	}
	body, err := h.cfg.Calendar(c.Request().Context(), token)
	if errors.Is(err, access.ErrNoCalendar) {
		return echo.NewHTTPError(http.StatusNotFound, "no such calendar file")
	}
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "no-cache") // a moved meeting shows at the next fetch
	hd.Set("Content-Disposition", `inline; filename="event.ics"`)
	hd.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", []byte(body))
}
