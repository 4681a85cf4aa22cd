package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// Demo products, as in the shop the reference capture came from.
const (
	demoTourProduct    = 10
	demoWebinarProduct = 11
	demoDatabase       = "woozoom-demo.db"
)

// demoEnv is demo mode: a fake Zoom and a fake shop in-process on loopback,
// with a meeting and a webinar mapped to two products.
type demoEnv struct {
	zoom       *zoomtest.Fake
	zoomSrv    *httptest.Server
	shop       *wootest.Shop
	shopSrv    *httptest.Server
	shopClient *http.Client
	secret     string
	meeting    int64
	webinar    int64
	db         *store.DB
	stop       chan struct{}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startDemo starts the fakes and points cfg at them. The demo database is
// made anew each start, since the fakes forget everything when they stop.
func startDemo(_ context.Context, cfg *Config, log *slog.Logger) (*demoEnv, error) {
	d := &demoEnv{secret: "demo-" + randomHex(16), stop: make(chan struct{})}
	creds := zoomtest.Credentials{AccountID: "demo-account", ClientID: "demo-client", ClientSecret: randomHex(16)}
	d.zoom = zoomtest.New(creds, zoomtest.ProLimits)
	d.zoomSrv = httptest.NewServer(d.zoom)
	start := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	d.meeting = d.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Online guided tour: Impressionists", HostEmail: "host@demo.invalid",
		StartTime: start, Duration: 60, Timezone: "Europe/Berlin", Password: "Tour42"})
	d.webinar = d.zoom.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Webinar: Restoring paintings", HostEmail: "host@demo.invalid",
		StartTime: start.Add(24 * time.Hour), Duration: 90, Timezone: "Europe/Berlin", Password: "Paint7"})

	d.shop = wootest.NewShop("ck_demo", "cs_"+randomHex(16))
	d.shopSrv = httptest.NewTLSServer(d.shop)
	d.shopClient = d.shopSrv.Client()
	d.shop.Home = d.shopSrv.URL + "/"

	cfg.Zoom.AccountID, cfg.Zoom.ClientID, cfg.Zoom.ClientSecret = creds.AccountID, creds.ClientID, creds.ClientSecret
	cfg.Zoom.APIURL, cfg.Zoom.OAuthURL = d.zoomSrv.URL+"/v2", d.zoomSrv.URL+"/oauth/token"
	cfg.WooCommerce.URL, cfg.WooCommerce.ConsumerKey, cfg.WooCommerce.ConsumerSecret = d.shopSrv.URL, d.shop.ConsumerKey, d.shop.ConsumerSecret
	cfg.WooCommerce.WebhookSecret = d.secret
	if cfg.Database == "woozoom.db" || cfg.Database == "" {
		cfg.Database = demoDatabase
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(cfg.Database + suffix); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("reset demo database: %w", err)
		}
	}
	return d, nil
}

func (d *demoEnv) mapProducts(ctx context.Context, db *store.DB) error {
	for _, m := range []rules.Mapping{
		{ProductID: demoTourProduct, Target: rules.Target{Kind: rules.Meeting, ID: d.meeting}},
		{ProductID: demoWebinarProduct, Target: rules.Target{Kind: rules.Webinar, ID: d.webinar}},
	} {
		if _, err := db.AddMapping(ctx, m, store.FromCLI); err != nil {
			return err
		}
	}
	return nil
}

// connect points the fake shop's webhook at the sidecar and starts its
// delivery runner, as WooCommerce's Action Scheduler would.
func (d *demoEnv) connect(deliveryURL string) {
	d.shop.AddWebhook(deliveryURL, d.secret, "order.created", "order.updated", "order.deleted", "order.restored")
	go d.shop.Run(500*time.Millisecond, d.stop)
}

func (d *demoEnv) Close() {
	close(d.stop)
	d.zoomSrv.Close()
	d.shopSrv.Close()
}

// PlaceOrder buys one tour ticket and one webinar seat.
func (d *demoEnv) PlaceOrder(first, last, email, status string) int64 {
	return d.shop.CreateOrder(wootest.Order{Status: status, FirstName: first, LastName: last, Email: email, Items: []wootest.Item{
		{ProductID: demoTourProduct, Quantity: 1, Name: "Online guided tour: Impressionists"},
		{ProductID: demoWebinarProduct, Quantity: 1, Name: "Webinar: Restoring paintings"},
	}})
}

func (d *demoEnv) SetStatus(id int64, status string) error { return d.shop.SetStatus(id, status) }

// Report shows the order as the shop has it, woozoom's registrations, and
// what the fake Zoom holds.
func (d *demoEnv) Report(id int64) (any, bool) {
	body, ok := d.shop.OrderJSON(id)
	if !ok {
		return nil, false
	}
	o, _ := woo.ParseOrder(body)
	meta, _ := d.shop.Meta(id, worker.MetaKey)
	out := map[string]any{"order_id": id, "status": o.Status, "meta": map[string]any{worker.MetaKey: meta}, "notes": d.shop.Notes(id)}
	if d.db != nil {
		regs, _ := d.db.Registrations(context.Background(), id)
		var list []map[string]any
		for _, r := range regs {
			zr, _ := d.zoom.Registrant(r.Target.ID, r.Attendee.Email)
			list = append(list, map[string]any{
				"email": r.Attendee.Email, "target": r.Target.String(), "state": string(r.State), "error": r.Error,
				"zoom_status": zr.Status,
			})
		}
		out["registrations"] = list
	}
	return out, true
}
