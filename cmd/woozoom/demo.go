package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
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
	// database is the file this run created, removed by Close.
	database string
	// consolePassword is the console's password made for this run, if
	// the configuration set none.
	consolePassword string
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startDemo starts the fakes and points cfg at them. The demo works on its
// own database, woozoom-demo.db in the working folder, whatever the
// configuration names: it creates the file and removes it when it stops
// (Close). A file of that name it did not create is never touched.
func startDemo(_ context.Context, cfg *Config, _ *slog.Logger) (*demoEnv, error) {
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(demoDatabase + suffix); err == nil {
			// SQLite would read a stale WAL into the new database.
			return nil, fmt.Errorf("%s%s is left from an earlier demo; woozoom leaves it alone. Remove %s and its -wal and -shm files, or start the demo in another folder",
				demoDatabase, suffix, demoDatabase)
		}
	}
	f, err := os.OpenFile(demoDatabase, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s already exists: an earlier demo did not stop cleanly, or the file is not a demo's; "+
			"woozoom leaves it alone. Remove %s and its -wal and -shm files, or start the demo in another folder", demoDatabase, demoDatabase)
	}
	if err != nil {
		return nil, fmt.Errorf("create the demo database: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create the demo database: %w", err)
	}
	d := &demoEnv{secret: "demo-" + randomHex(16), stop: make(chan struct{}), database: demoDatabase}
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
	cfg.Database = demoDatabase
	if !cfg.Admin.enabled() {
		// The whole product at once: the console is on, with a password
		// for this run only (as Jupyter prints its token).
		d.consolePassword = randomHex(12)
		cfg.Admin.Password = d.consolePassword
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

// Close stops the fakes and removes the database this run created; the
// store must be closed first.
func (d *demoEnv) Close() error {
	close(d.stop)
	d.zoomSrv.Close()
	d.shopSrv.Close()
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(d.database + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the demo database: %w", err))
		}
	}
	return errors.Join(errs...)
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
	meta, _ := d.shop.Meta(id, orders.MetaKey)
	out := map[string]any{"order_id": id, "status": o.Status, "meta": map[string]any{orders.MetaKey: meta}, "notes": d.shop.Notes(id)}
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
