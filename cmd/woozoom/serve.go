package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/admin"
	"github.com/woozoom/woozoom/audit"
	"github.com/woozoom/woozoom/handler"
	"github.com/woozoom/woozoom/health"
	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/worker"
)

// prepare checks the configuration, or starts the demo's fakes and points
// cfg at them, and returns the shop's HTTP client.
func prepare(ctx context.Context, cfg *Config, demo bool, log *slog.Logger) (*demoEnv, *http.Client, error) {
	if !demo {
		if err := cfg.Validate(); err != nil {
			return nil, nil, fmt.Errorf("the configuration has problems:\n%w", err)
		}
		hc, err := httpClient(cfg.WooCommerce)
		return nil, hc, err
	}
	if errs := cfg.consoleProblems(); len(errs) > 0 {
		return nil, nil, fmt.Errorf("the configuration has problems:\n%w", errors.Join(errs...))
	}
	d, err := startDemo(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return d, d.shopClient, nil
}

// serve runs the sidecar until ctx ends: HTTP stops taking deliveries first,
// then the workers finish or hand back their jobs, then the database closes.
func serve(ctx context.Context, cfg Config, demo bool, stdout, stderr io.Writer) (err error) {
	log := newLogger(cfg, stderr)
	d, shopHTTP, err := prepare(ctx, &cfg, demo, log)
	if err != nil {
		return err
	}
	if d != nil {
		defer func() { // after the database is closed
			if cerr := d.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	obs := newObservers(cfg, db, log)
	lives, err := newShops(ctx, cfg, db, shopHTTP, d, log, obs)
	if err != nil {
		return err
	}
	if err := resumePace(ctx, cfg, lives[0]); err != nil {
		return err
	}
	if err := wakeWaiting(ctx, lives, obs, log); err != nil {
		return err
	}
	e, err := newHTTP(cfg, lives, obs, d, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	announce(stdout, log, cfg, d, ln.Addr().String())
	taker := processName()
	obs.audit.Turn = func(ctx context.Context, every time.Duration) (bool, error) {
		return db.TakeTurn(ctx, "prune audit log", taker, every)
	}
	stopAudit := runAudit(ctx, obs.audit)
	defer stopAudit()
	return runParts(ctx, lives, e, ln, obs, d == nil, log)
}

// newShops loads each shop's part of config.yaml into the database and
// makes its worker; the shops share the Zoom accounts. The first shop's
// client is shopHTTP (the demo's), or each shop's own.
func newShops(ctx context.Context, cfg Config, db *store.DB, shopHTTP *http.Client, d *demoEnv, log *slog.Logger, obs *observers) ([]*live, error) {
	accounts := newZoomAccounts(cfg, db, log, obs)
	var lives []*live
	for _, s := range cfg.shops() {
		scfg, sdb := cfg.forShop(s), db.Shop(s.Name)
		if err := loadShop(ctx, scfg, sdb, d); err != nil {
			return nil, err
		}
		hc := shopHTTP
		if d == nil {
			var err error
			if hc, err = httpClient(scfg.WooCommerce); err != nil {
				return nil, err
			}
		}
		l, err := newShopWorker(scfg, sdb, accounts, hc, log, obs)
		if err != nil {
			return nil, err
		}
		lives = append(lives, l)
	}
	return lives, nil
}

// loadShop loads what config.yaml says of a shop into the database: the
// mappings, the link events, and the demo's products.
func loadShop(ctx context.Context, cfg Config, db *store.DB, d *demoEnv) error {
	mappings, err := cfg.Mappings()
	if err != nil {
		return err
	}
	if err := db.SyncConfigMappings(ctx, mappings); err != nil {
		return err
	}
	if err := saveLinkDetails(ctx, db, cfg); err != nil {
		return err
	}
	if d != nil {
		return d.mapProducts(ctx, db)
	}
	return nil
}

// wakeWaiting takes up the jobs that waited for a person or for Zoom: a
// restart is how an admin applies a fixed key or CA. Zoom's return wakes
// those that wait for it later, in every shop.
func wakeWaiting(ctx context.Context, lives []*live, obs *observers, log *slog.Logger) error {
	db := lives[0].db // waking is every shop's
	if n, err := db.WakeJobsWaitingFor(ctx, rules.WaitForPerson); err != nil {
		return err
	} else if n > 0 {
		log.Info("jobs that waited for credentials or trust are tried again now", "jobs", n)
	}
	if _, err := db.WakeJobsWaitingFor(ctx, rules.WaitForService); err != nil {
		return err
	}
	obs.zoomAnswersAgain = func() {
		n, err := db.WakeJobsWaitingFor(context.WithoutCancel(ctx), rules.WaitForService)
		if err != nil {
			log.Error("wake the jobs that waited for Zoom", "err", err)
			return
		}
		log.Info("Zoom answers again; the jobs that waited for it run now", "jobs", n)
		wakeAll(lives)
	}
	return nil
}

// wakeAll wakes every shop's worker.
func wakeAll(lives []*live) {
	for _, l := range lives {
		l.w.Wake()
	}
}

// newHTTP is woozoom's HTTP side: the webhook endpoints, health, metrics,
// calendar files, the console, and the demo's routes.
func newHTTP(cfg Config, lives []*live, obs *observers, d *demoEnv, log *slog.Logger) (*echo.Echo, error) {
	l, db := lives[0], lives[0].db
	hcfg := handler.Config{
		WebhookSecret: l.cfg.WooCommerce.WebhookSecret, MaxBodyBytes: cfg.WooCommerce.MaxBodyBytes,
		Demo: d != nil, Stored: l.w.Wake, Problems: obs.health.Summaries, Metrics: obs.metrics, MetricsHandler: obs.metrics.Handler(),
		Calendar: calendars(cfg, db), ZoomSecretToken: cfg.zoomAccounts()[0].WebhookSecretToken, ZoomAccounts: cfg.zoomSecrets(),
		Ready: func(ctx context.Context) error {
			for _, l := range lives {
				if !l.w.Running() {
					return errors.New("the worker is not working the queue (woozoom is stopping)")
				}
			}
			if err := db.SaveCheckpoint(ctx, "readyz", time.Now()); err != nil {
				return fmt.Errorf("the database is not writable: %w", err)
			}
			return nil
		},
	}
	if len(cfg.Shops) > 0 {
		for _, l := range lives {
			hcfg.Shops = append(hcfg.Shops, handler.Shop{Name: l.cfg.shop(), Secret: l.cfg.WooCommerce.WebhookSecret, Store: l.db, Stored: l.w.Wake})
		}
	}
	e := handler.New(hcfg, db, log)
	if d != nil {
		d.db = db
		handler.RegisterDemo(e, d)
	}
	acfg := admin.Config{Password: cfg.Admin.Password, PasswordHash: cfg.Admin.PasswordHash,
		BasePath: cfg.Admin.BasePath, TrustedProxies: cfg.Admin.TrustedProxies, Demo: d != nil}
	if len(cfg.Shops) > 0 {
		for _, l := range lives {
			acfg.Shops = append(acfg.Shops, admin.Shop{Name: l.cfg.shop(), Store: l.db, Actions: consoleActions(l, obs.health, l.w)})
		}
	}
	if _, err := admin.Register(e, acfg, db, consoleActions(l, obs.health, l.w), log); err != nil {
		return nil, err
	}
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = time.Minute
	return e, nil
}

// announce says where woozoom listens (and in the demo, how to try it).
func announce(stdout io.Writer, log *slog.Logger, cfg Config, d *demoEnv, addr string) {
	if d == nil {
		log.Info("woozoom listening", "addr", addr, "database", store.Redacted(cfg.Database))
		fmt.Fprintf(stdout, "woozoom listening on http://%s\n", loopback(addr))
		return
	}
	d.connect("http://" + loopback(addr) + "/webhooks/woocommerce")
	log.Warn("DEMO MODE: Zoom and WooCommerce are in-process fakes; configure credentials in config.yaml to go live",
		"database", cfg.Database)
	fmt.Fprintf(stdout, "woozoom DEMO listening on http://%s\n", loopback(addr))
	fmt.Fprintf(stdout, "  place a sample order:  bin/woozoom demo order --server http://%s\n", loopback(addr))
	if d.consolePassword != "" {
		fmt.Fprintf(stdout, "  console:               http://%s/admin/  (password for this run: %s)\n", loopback(addr), d.consolePassword)
	}
}

// processName names this process among those sharing the database.
func processName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// runAudit writes the audit log until the returned stop, which flushes it;
// it runs until the work has stopped.
func runAudit(ctx context.Context, rec *audit.Recorder) (stop func()) {
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); rec.Run(auditCtx) }()
	return func() { stopAudit(); <-done }
}

// runParts runs the HTTP server, each shop's worker and reconcile pass with
// its webhook watch, and the start check of the mappings, until ctx ends
// (or the server fails); then the server stops taking deliveries first,
// and the workers finish or hand back their jobs.
func runParts(ctx context.Context, lives []*live, e *echo.Echo, ln net.Listener, obs *observers, live bool, log *slog.Logger) (err error) {
	serveErr := make(chan error, 1)
	go func() { serveErr <- e.Server.Serve(ln) }()
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	for _, l := range lives {
		runShop(workCtx, &wg, l, obs, live)
	}
	// On PostgreSQL the others' new work wakes the workers at once; the
	// poll stays as the fallback.
	wg.Go(func() { lives[0].db.Listen(workCtx, func() { wakeAll(lives) }, log) })
	wg.Go(func() { keepPace(workCtx, lives[0].cfg, lives[0], 10*time.Second) })
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
		log.Error("http server stopped", "err", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := e.Shutdown(shutdownCtx); serr != nil {
		log.Error("http shutdown", "err", serr)
	}
	stopWork()
	wg.Wait()
	log.Info("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// runShop runs a shop's worker, its reconcile pass with the webhook watch,
// and the start check of its mappings, until ctx ends.
func runShop(ctx context.Context, wg *sync.WaitGroup, l *live, obs *observers, live bool) {
	cfg, log := l.cfg, l.log
	// Any number of processes may work one database's queue: the claim, the
	// leases and their fencing tokens live in it.
	wg.Go(func() { l.w.Run(ctx) })
	if cfg.Reconcile.Interval > 0 {
		rec := reconciler(cfg, l.db, l.wc, log)
		rec.Wake = l.w.Wake
		var hl woo.WatchHealth = obs.health
		if len(cfg.Shops) > 0 {
			hl = shopHealth{t: obs.health, shop: cfg.shop()}
		}
		watch := &woo.Watch{Client: l.wc, Topics: neededTopics(cfg), URL: cfg.WooCommerce.WebhookURL,
			Reactivate: cfg.WooCommerce.ReactivateWebhooks, Health: hl, NotActive: obs.metrics.WebhooksNotActive, Log: log}
		rec.AfterPass = watch.Check
		taker := processName()
		rec.Turn = func(ctx context.Context) (bool, error) {
			return l.db.TakeTurn(ctx, "reconcile", taker, cfg.Reconcile.Interval)
		}
		wg.Go(func() { rec.Run(ctx, cfg.Reconcile.Interval) })
	}
	if live && cfg.zoomConfigured() {
		wg.Go(func() { warnAboutMappings(ctx, l.db, l.zoom, log) })
	}
	poll := &orders.AttendancePoll{Store: l.db, After: cfg.Attendance.After, Within: cfg.Attendance.Within, Wake: l.w.Wake, Log: log, Now: time.Now,
		NoEvents: func(ctx context.Context, t rules.Target) bool {
			name, err := l.zoom.NameFor(ctx, t)
			return err == nil && cfg.zoomSecrets()[name] == ""
		}}
	wg.Go(func() { poll.Run(ctx, cfg.Attendance.Poll) })
}

// saveLinkDetails keeps what the notes and calendar files say of link
// events. A link without a topic keeps the product name the worker read
// for it last, so a restart does not rename the event.
func saveLinkDetails(ctx context.Context, db *store.DB, cfg Config) error {
	for _, d := range cfg.LinkDetails() {
		if d.Topic == "" {
			old, ok, err := db.TargetDetails(ctx, d.Target, time.Time{})
			if err != nil {
				return err
			}
			if ok {
				d.Topic = old.Topic
			}
		}
		if err := db.SaveTargetDetails(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// calendars serves calendar files when calendar.url is set.
func calendars(cfg Config, db *store.DB) func(context.Context, string) (string, error) {
	if cfg.Calendar.URL == "" {
		return nil
	}
	host := "woozoom"
	if u, err := url.Parse(cfg.Calendar.URL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	c := &access.Calendars{Store: db, Reminders: cfg.Calendar.Reminders, Host: host}
	return c.File
}

// warnAboutMappings reads every mapped meeting and webinar from Zoom once
// at start and logs a warning for each that cannot take the attendees:
// gone, registration off, or a host that is not Licensed.
func warnAboutMappings(ctx context.Context, db *store.DB, zc inspector, log *slog.Logger) {
	mappings, err := db.ActiveMappings(ctx)
	if err != nil {
		log.Warn("mappings not checked on Zoom", "err", err)
		return
	}
	seen := map[rules.Target]bool{}
	for _, m := range mappings {
		if seen[m.Target] || !m.Target.OnZoom() || ctx.Err() != nil {
			continue
		}
		seen[m.Target] = true
		if _, err := inspectTarget(ctx, zc, m.Target); err != nil && ctx.Err() == nil {
			log.Warn("a mapped "+string(m.Target.Kind)+" cannot take attendees", "product_id", m.ProductID, "problem", err.Error())
		}
	}
}

// consoleActions are what the web console may ask of this process.
func consoleActions(l *live, hl *health.Tracker, w *worker.Worker) admin.Actions {
	return admin.Actions{
		Plan: func(ctx context.Context, orderID int64) ([]string, error) {
			p, err := l.orders.Preview(ctx, orderID)
			if err != nil {
				return nil, err
			}
			return p.Lines(), nil
		},
		Verify: func(ctx context.Context, t rules.Target) (string, error) {
			return verifyTarget(ctx, l.zoom, l.db, t)
		},
		Backfill: func(ctx context.Context, productID int64) (int, error) {
			res, err := orders.Enqueue(ctx, l.db, woo.ParseDelivery, l.productOrders(productID), nil, nil)
			return res.Orders, err
		},
		Problems: hl.Problems,
		Paces:    l.paces,
		Wake:     w.Wake,
	}
}

// verifyTarget reads a meeting or webinar and says what it is, or why
// registrations cannot be made on it; what it read is kept for the
// write-back and the console's Events page.
func verifyTarget(ctx context.Context, zc inspector, db *store.DB, t rules.Target) (string, error) {
	in, err := inspectTarget(ctx, zc, t)
	if err != nil {
		return "", err
	}
	if err := db.SaveTargetDetails(ctx, in.Meeting.TargetDetails); err != nil {
		return "", err
	}
	return in.Describe(), nil
}

// serveCommand runs the sidecar; configFile is the --config flag's value.
func serveCommand(configFile *string, cfg configFunc, stdout, stderr io.Writer) *cobra.Command {
	var demo bool
	serveCmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the sidecar: receive webhooks and work the queue",
		Long: `Run the sidecar: the webhook endpoint POST /webhooks/woocommerce, GET /healthz,
and the worker that registers and cancels attendees on Zoom.

With --demo it runs in demo mode: a fake Zoom and a fake shop run in-process,
"woozoom demo order" places a sample order that the fake shop delivers as a
signed webhook, and the console is on at /admin/ with a password printed at
start. The demo works on its own woozoom-demo.db, which it creates and removes
when it stops; it never touches the configured database. Without --demo, the
demo runs only when nothing configures woozoom (no config file, no WOOZOOM_
variable). A configuration that lacks credentials refuses to start and lists
what is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flag("shop"); f != nil && f.Changed {
				return errors.New("serve works every shop of shops:; --shop is for the other commands")
			}
			given := cmd.Flags().Changed("config")
			c, err := cfg(given)
			if err != nil {
				return err
			}
			if !demo && implicitDemo(*configFile, given, os.Environ()) {
				fmt.Fprintf(stderr, "no %s and no WOOZOOM_ settings: starting the demo (see the README to go live)\n", *configFile)
				demo = true
			}
			return serve(cmd.Context(), c, demo, stdout, stderr)
		},
	}
	serveCmd.Flags().BoolVar(&demo, "demo", false, "run against in-process fakes of Zoom and WooCommerce")

	return serveCmd
}
