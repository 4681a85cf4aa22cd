package handler

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
)

// ZoomTopicPrefix starts the topic of a stored Zoom event.
const ZoomTopicPrefix = "zoom:"

// zoomWebhook answers Zoom's URL validation and stores signed events, like
// WooCommerce's deliveries: verified on the raw bytes, stored before the
// answer, a repeat (Zoom retries after 3 s) stored once. account names the
// Zoom account at /webhooks/zoom/{account} (empty at /webhooks/zoom).
func (h *Handler) zoomWebhook(c echo.Context, account, secret string) error {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, 1<<20))
	if err != nil {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "event larger than 1 MB")
	}
	if err := zoom.VerifyWebhook(secret, body, r.Header.Get(zoom.HeaderTimestamp), r.Header.Get(zoom.HeaderSignature), time.Now()); err != nil {
		h.log.Warn("Zoom event refused", "remote", c.RealIP(), "zoom_account", account, "reason", err.Error())
		h.count(h.shops[0].Name, "zoom", "refused")
		return echo.NewHTTPError(http.StatusUnauthorized, "Zoom signature refused: "+err.Error())
	}
	ev, err := zoom.ParseEvent(body)
	if err == nil && ev.Event == "endpoint.url_validation" {
		if ev.Payload.PlainToken == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "url_validation without a plainToken")
		}
		h.log.Info("Zoom endpoint validation answered", "zoom_account", account)
		return c.JSON(http.StatusOK, map[string]string{
			"plainToken": ev.Payload.PlainToken, "encryptedToken": zoom.EncryptedToken(secret, ev.Payload.PlainToken),
		})
	}
	d := rules.Delivery{Source: "zoom", Body: body, Topic: ZoomTopicPrefix + "unreadable"}
	id := "zoom-"
	if account != "" {
		id += account + "-"
	}
	if err == nil {
		d.Topic = ZoomTopicPrefix + ev.Event
		// A retry carries the same event and time: one row.
		d.DeliveryID = fmt.Sprintf("%s%s-%d", id, ev.Event, ev.EventTS)
		if t, ok := ev.Target(); ok {
			d.Key = rules.TargetKey(t)
		}
	} else {
		d.DeliveryID = id + "unreadable-" + r.Header.Get(zoom.HeaderTimestamp)
	}
	// An event is every shop's: each works its own orders on the meeting.
	label := strings.TrimPrefix(d.Topic, ZoomTopicPrefix)
	for _, s := range h.shops[1:] {
		each := d
		each.DeliveryID += "@" + s.Name // one row per shop
		if _, _, err := s.Store.RecordDelivery(c.Request().Context(), each); err != nil {
			h.count(s.Name, label, "error")
			c.Response().Header().Set("Retry-After", "10")
			return echo.NewHTTPError(http.StatusServiceUnavailable, "the event could not be stored").SetInternal(err)
		}
		if s.Stored != nil {
			s.Stored()
		}
	}
	return h.record(c, h.shops[0], d, label)
}
