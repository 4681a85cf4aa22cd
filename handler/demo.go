package handler

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// DemoShop is the in-process fake shop of demo mode.
type DemoShop interface {
	// PlaceOrder creates an order for the demo products with a status and
	// returns its id; the shop then delivers the signed webhook.
	PlaceOrder(firstName, lastName, email, status string) int64
	SetStatus(id int64, status string) error
	// Report says what the order holds now: its status, the meta woozoom
	// wrote and its notes.
	Report(id int64) (any, bool)
}

// RegisterDemo adds the demo routes: place an order, change its status,
// look at it. They exist only in demo mode.
func RegisterDemo(e *echo.Echo, shop DemoShop) {
	e.POST("/demo/orders", func(c echo.Context) error {
		var in struct {
			FirstName string `json:"first_name"`
			LastName  string `json:"last_name"`
			Email     string `json:"email"`
			Status    string `json:"status"`
		}
		if err := c.Bind(&in); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "body must be JSON: {\"email\": ..., \"first_name\": ..., \"status\": ...}")
		}
		if in.Email == "" {
			in.Email = "rita.doro@example.org"
		}
		if in.FirstName == "" {
			in.FirstName, in.LastName = "Rita", "Doro"
		}
		if in.Status == "" {
			in.Status = "completed"
		}
		id := shop.PlaceOrder(in.FirstName, in.LastName, in.Email, in.Status)
		return c.JSON(http.StatusCreated, map[string]any{"order_id": id})
	})
	e.POST("/demo/orders/:id/status", func(c echo.Context) error {
		id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
		var in struct {
			Status string `json:"status"`
		}
		if err := c.Bind(&in); err != nil || in.Status == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "body must be JSON: {\"status\": \"cancelled\"}")
		}
		if err := shop.SetStatus(id, in.Status); err != nil {
			return echo.NewHTTPError(http.StatusNotFound, err.Error())
		}
		return c.JSON(http.StatusOK, map[string]any{"order_id": id, "status": in.Status})
	})
	e.GET("/demo/orders/:id", func(c echo.Context) error {
		id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
		r, ok := shop.Report(id)
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "no such demo order")
		}
		return c.JSON(http.StatusOK, r)
	})
}
