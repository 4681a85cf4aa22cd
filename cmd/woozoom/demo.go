package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
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

func demoCommand(out io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Drive the demo shop of a sidecar started in demo mode",
	}
	var server, email, first, last, status, newStatus string
	var wait time.Duration
	order := &cobra.Command{
		Use:   "order",
		Short: "Place a sample order in the demo shop and show what woozoom did with it",
		Long: `Place a sample order (one tour ticket, one webinar seat) in the demo shop of a
sidecar running in demo mode. The shop delivers it to woozoom as a signed
order webhook; this command then shows the registrations on the fake Zoom, the
meta written back to the order and its notes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var created struct {
				OrderID int64 `json:"order_id"`
			}
			body := map[string]string{"email": email, "first_name": first, "last_name": last, "status": status}
			if err := demoCall(cmd.Context(), http.MethodPost, server+"/demo/orders", body, &created); err != nil {
				return err
			}
			fmt.Fprintf(out, "placed order %d (%s) in the demo shop; waiting for woozoom...\n", created.OrderID, status)
			return demoShow(cmd.Context(), out, server, created.OrderID, status, wait)
		},
	}
	order.Flags().StringVar(&email, "email", "Rita.Doro@Example.org", "attendee email")
	order.Flags().StringVar(&first, "first-name", "Rita", "attendee first name")
	order.Flags().StringVar(&last, "last-name", "Doro", "attendee last name")
	order.Flags().StringVar(&status, "status", "completed", "order status")
	var id int64
	setStatus := &cobra.Command{
		Use:     "status",
		Short:   "Change a demo order's status (cancel it, complete it again) and show the result",
		Example: "  woozoom demo status --order 101 --to cancelled",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := demoCall(cmd.Context(), http.MethodPost, fmt.Sprintf("%s/demo/orders/%d/status", server, id), map[string]string{"status": newStatus}, nil); err != nil {
				return err
			}
			fmt.Fprintf(out, "order %d is now %s in the demo shop; waiting for woozoom...\n", id, newStatus)
			return demoShow(cmd.Context(), out, server, id, newStatus, wait)
		},
	}
	setStatus.Flags().Int64Var(&id, "order", 0, "demo order id")
	setStatus.Flags().StringVar(&newStatus, "to", "cancelled", "new status")
	for _, c := range []*cobra.Command{order, setStatus} {
		c.Flags().StringVar(&server, "server", "http://localhost:8080", "the demo sidecar")
		c.Flags().DurationVar(&wait, "wait", 15*time.Second, "how long to wait for woozoom")
	}
	cmd.AddCommand(order, setStatus)
	return cmd
}

// demoShow waits until woozoom has acted on the order's status and prints
// the report.
func demoShow(ctx context.Context, out io.Writer, server string, id int64, status string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var report map[string]any
	for {
		if err := demoCall(ctx, http.MethodGet, fmt.Sprintf("%s/demo/orders/%d", server, id), nil, &report); err != nil {
			return err
		}
		if demoSettled(report, status) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	b, _ := json.MarshalIndent(report, "", "  ")
	fmt.Fprintln(out, string(b))
	if !demoSettled(report, status) {
		return fmt.Errorf("woozoom did not act on order %d within %s; see the sidecar's log and `woozoom jobs list --database %s`", id, wait, demoDatabase)
	}
	return nil
}

func demoSettled(report map[string]any, status string) bool {
	regs, _ := report["registrations"].([]any)
	if len(regs) == 0 {
		return status != rules.StatusCompleted
	}
	for _, r := range regs {
		m, _ := r.(map[string]any)
		want := "approved"
		if status != rules.StatusCompleted {
			want = "denied"
		}
		if m["zoom_status"] != want && m["state"] != string(rules.Failed) {
			return false
		}
	}
	notes, _ := report["notes"].([]any)
	return status != rules.StatusCompleted || len(notes) > 0
}

func demoCall(ctx context.Context, method, url string, body, result any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach the demo sidecar at %s (is `make run` running?): %w", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound && strings.Contains(string(b), "Not Found") {
		return fmt.Errorf("%s has no demo routes: is the sidecar running in demo mode?", url)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(b)))
	}
	if result != nil {
		return json.Unmarshal(b, result)
	}
	return nil
}
