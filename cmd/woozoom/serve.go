package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/admin"
	"github.com/woozoom/woozoom/audit"
	"github.com/woozoom/woozoom/handler"
	"github.com/woozoom/woozoom/health"
	"github.com/woozoom/woozoom/meetings"
	"github.com/woozoom/woozoom/metrics"
	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
)

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

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
// then the worker finishes or hands back its jobs, then the database closes.
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
		if err := d.mapProducts(ctx, db); err != nil {
			return err
		}
	}

	met := metrics.New(queueStats{db})
	hl := health.New(log, met.Problems)
	obs := &observers{metrics: met, health: hl}
	rec := audit.New(db, cfg.Audit.Keep, log)
	obs.audit = rec
	l, err := newWorker(cfg, db, shopHTTP, log, obs)
	if err != nil {
		return err
	}
	wc, w := l.wc, l.w
	// A restart is how an admin applies a fixed key or CA: jobs that waited
	// for one are taken up at once, and so are those that waited for Zoom.
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
		w.Wake()
	}

	e := handler.New(handler.Config{
		WebhookSecret: cfg.WooCommerce.WebhookSecret, MaxBodyBytes: cfg.WooCommerce.MaxBodyBytes,
		Demo: demo, Stored: w.Wake, Problems: hl.Summaries, Metrics: met, MetricsHandler: met.Handler(),
		Calendar: calendars(cfg, db), ZoomSecretToken: cfg.Zoom.WebhookSecretToken,
		Ready: func(ctx context.Context) error {
			if !w.Running() {
				return errors.New("the worker is not working the queue (woozoom is stopping)")
			}
			if err := db.SaveCheckpoint(ctx, "readyz", time.Now()); err != nil {
				return fmt.Errorf("the database is not writable: %w", err)
			}
			return nil
		},
	}, db, log)
	if d != nil {
		d.db = db
		handler.RegisterDemo(e, d)
	}
	if _, err := admin.Register(e, admin.Config{Password: cfg.Admin.Password, PasswordHash: cfg.Admin.PasswordHash,
		BasePath: cfg.Admin.BasePath, TrustedProxies: cfg.Admin.TrustedProxies, Demo: demo}, db, consoleActions(l, hl, w), log); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	addr := ln.Addr().String()
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = time.Minute
	if d != nil {
		d.connect("http://" + loopback(addr) + "/webhooks/woocommerce")
		log.Warn("DEMO MODE: Zoom and WooCommerce are in-process fakes; configure credentials in config.yaml to go live",
			"database", cfg.Database)
		fmt.Fprintf(stdout, "woozoom DEMO listening on http://%s\n", loopback(addr))
		fmt.Fprintf(stdout, "  place a sample order:  bin/woozoom demo order --server http://%s\n", loopback(addr))
		if d.consolePassword != "" {
			fmt.Fprintf(stdout, "  console:               http://%s/admin/  (password for this run: %s)\n", loopback(addr), d.consolePassword)
		}
	} else {
		log.Info("woozoom listening", "addr", addr, "database", cfg.Database, "mappings", len(mappings))
		fmt.Fprintf(stdout, "woozoom listening on http://%s\n", loopback(addr))
	}

	// The audit log is written until the work has stopped, then flushed.
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	auditDone := make(chan struct{})
	go func() { defer close(auditDone); rec.Run(auditCtx) }()
	defer func() { stopAudit(); <-auditDone }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- e.Server.Serve(ln) }()
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	// Any number of processes may work one database's queue: the claim, the
	// leases and their fencing tokens live in it.
	wg.Go(func() { w.Run(workCtx) })
	if cfg.Reconcile.Interval > 0 {
		rec := reconciler(cfg, db, wc, log)
		rec.Wake = w.Wake
		watch := &woo.Watch{Client: wc, Topics: neededTopics(cfg), URL: cfg.WooCommerce.WebhookURL,
			Reactivate: cfg.WooCommerce.ReactivateWebhooks, Health: obs.health, NotActive: obs.metrics.WebhooksNotActive, Log: log}
		rec.AfterPass = watch.Check
		wg.Go(func() { rec.Run(workCtx, cfg.Reconcile.Interval) })
	}

	if d == nil && cfg.zoomConfigured() {
		wg.Go(func() { warnAboutMappings(workCtx, db, l.zc, log) })
	}

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
func warnAboutMappings(ctx context.Context, db *store.DB, zc *zoom.Client, log *slog.Logger) {
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
			return verifyTarget(ctx, l.zc, l.db, t)
		},
		Backfill: func(ctx context.Context, productID int64) (int, error) {
			res, err := orders.Enqueue(ctx, l.db, woo.ParseDelivery, func(ctx context.Context, page int) ([][]byte, int, error) {
				return l.wc.CompletedOrdersOfProduct(ctx, productID, page)
			}, nil, nil)
			return res.Orders, err
		},
		Problems: hl.Problems,
		Pace:     l.zc.Pace,
		Wake:     w.Wake,
	}
}

// verifyTarget reads a meeting or webinar and says what it is, or why
// registrations cannot be made on it; what it read is kept for the
// write-back and the console's Events page.
func verifyTarget(ctx context.Context, zc *zoom.Client, db *store.DB, t rules.Target) (string, error) {
	in, err := inspectTarget(ctx, zc, t)
	if err != nil {
		return "", err
	}
	if err := db.SaveTargetDetails(ctx, in.Meeting.TargetDetails); err != nil {
		return "", err
	}
	return in.Describe(), nil
}

// observers are the serving process's metrics and health; commands run
// without them.
type observers struct {
	metrics *metrics.Metrics
	health  *health.Tracker
	// zoomAnswersAgain, if set, runs when Zoom answers after an outage.
	zoomAnswersAgain func()
	// audit, if set, records every call.
	audit *audit.Recorder
}

// zoomCircuit reports Zoom's outages (the client stops calling it) and
// their end.
func (o *observers) zoomCircuit(open bool, since time.Time) {
	if open {
		o.health.Problem("zoom", "Zoom is not answering; woozoom has paused its calls", fmt.Sprintf("Zoom has not answered since %s (server errors or no connection); woozoom has paused its calls and tries again at growing intervals; jobs wait without losing tries",
			since.UTC().Format(time.RFC3339)))
		return
	}
	o.health.OK("zoom")
	if o.zoomAnswersAgain != nil {
		o.zoomAnswersAgain()
	}
}

// instrument returns hc (nil: a new client with timeout) with its calls
// counted, and the service's problem cleared by every answer it accepts.
func (o *observers) instrument(service string, hc *http.Client, timeout time.Duration) *http.Client {
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	if o == nil {
		return hc
	}
	c := *hc
	c.Transport = o.metrics.Transport(service, hc.Transport, func() { o.health.OK(service) })
	if o.audit != nil {
		c.Transport = o.audit.Transport(service, c.Transport, metrics.Operation)
	}
	return &c
}

func (o *observers) circuitHook() func(bool, time.Time) {
	if o == nil {
		return nil
	}
	return o.zoomCircuit
}

type queueStats struct{ db *store.DB }

func (q queueStats) QueueStats(ctx context.Context) (metrics.QueueStats, error) {
	by, oldest, held, err := q.db.QueueStats(ctx)
	return metrics.QueueStats{ByState: by, OldestWaiting: oldest, HeldForDaily: held}, err
}

// newWorker builds the clients and the worker from the configuration; obs
// may be nil.
func newWorker(cfg Config, db *store.DB, shopHTTP *http.Client, log *slog.Logger, obs *observers) (*live, error) {
	zc := zoom.New(zoom.Config{
		AccountID: cfg.Zoom.AccountID, ClientID: cfg.Zoom.ClientID, ClientSecret: cfg.Zoom.ClientSecret,
		APIURL: cfg.Zoom.APIURL, OAuthURL: cfg.Zoom.OAuthURL, Timeout: cfg.Zoom.Timeout,
		LightPerSecond: cfg.Zoom.LightPerSecond, MediumPerSecond: cfg.Zoom.MediumPerSecond, MaxShare: cfg.Zoom.MaxShare, Retries: 3,
		OnCircuit: obs.circuitHook(),
	}, obs.instrument("zoom", nil, cfg.Zoom.Timeout), log)
	shopHTTP = obs.instrument("woocommerce", shopHTTP, cfg.WooCommerce.Timeout)
	wc, err := woo.New(woo.Config{
		URL: cfg.WooCommerce.URL, ConsumerKey: cfg.WooCommerce.ConsumerKey, ConsumerSecret: cfg.WooCommerce.ConsumerSecret,
		Timeout: cfg.WooCommerce.Timeout, Retries: 2,
	}, shopHTTP, log)
	if err != nil {
		return nil, err
	}
	tm, err := cfg.templates()
	if err != nil {
		return nil, err
	}
	mcfg, err := cfg.making()
	if err != nil {
		return nil, err
	}
	var wake func()
	mcfg.Wake = func() { wake() }
	ms := meetings.New(mcfg, db, zoom.EventMeetings{Client: zc, Settings: cfg.MeetingDefaults}, wc, woo.ParseDelivery, log)
	ocfg := orders.Config{
		Policy: cfg.policy(), CustomerNote: cfg.WooCommerce.CustomerNote,
		Templates: tm, CalendarURL: cfg.Calendar.URL, NamedByProduct: cfg.linksNamedByProduct(),
		Made: ms.Made(), Wake: func() { wake() },
	}
	wcfg := worker.Config{
		Holders: func(token string) worker.Holder { return db.Holder(token) },
		Workers: cfg.Worker.Workers, Poll: cfg.Worker.Poll, Grace: cfg.Worker.Grace, Lease: cfg.Worker.Lease,
		RetryBase: cfg.Worker.RetryBase, RetryMax: cfg.Worker.RetryMax,
	}
	if obs != nil {
		ocfg.Metrics, wcfg.Health = obs.metrics, obs.health
	}
	work := orders.New(ocfg, db, zc, wc, woo.ParseDelivery, log)
	wcfg.Rooms = map[worker.Kind]worker.Room{
		worker.OrderJob: work, worker.RegistrantEvent: work.Registrants(),
		worker.ProductJob: ms, worker.MeetingEvent: ms.Events(),
	}
	w := worker.New(wcfg, db, log)
	wake = w.Wake
	return &live{db: db, wc: wc, zc: zc, w: w, orders: work, log: log}, nil
}

func reconciler(cfg Config, db *store.DB, wc *woo.Client, log *slog.Logger) *orders.Reconciler {
	return &orders.Reconciler{List: wc, Store: db, Decode: woo.ParseDelivery, Log: log,
		Overlap: cfg.Reconcile.Overlap, Lookback: cfg.Reconcile.Lookback}
}

// loopback names a wildcard listen address as one a browser can use.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// httpClient is the shop's HTTP client, trusting ca_file besides the system
// roots (a shop with a private CA, a staging site).
func httpClient(c WooCommerceConfig) (*http.Client, error) {
	hc := &http.Client{Timeout: c.Timeout}
	if c.CAFile == "" {
		return hc, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("woocommerce.ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("woocommerce.ca_file %s holds no PEM certificate", c.CAFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	hc.Transport = tr
	return hc, nil
}

func describe(cfg Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen:                       %s\n", cfg.Listen)
	fmt.Fprintf(&b, "database:                     %s\n", cfg.Database)
	fmt.Fprintf(&b, "woocommerce.url:              %s\n", cfg.WooCommerce.URL)
	fmt.Fprintf(&b, "woocommerce.consumer_key:     %s\n", redact(cfg.WooCommerce.ConsumerKey))
	fmt.Fprintf(&b, "woocommerce.consumer_secret:  %s\n", redact(cfg.WooCommerce.ConsumerSecret))
	fmt.Fprintf(&b, "woocommerce.webhook_secret:   %s\n", redact(cfg.WooCommerce.WebhookSecret))
	fmt.Fprintf(&b, "woocommerce.customer_note:    %v\n", cfg.WooCommerce.CustomerNote)
	fmt.Fprintf(&b, "woocommerce.webhook_url:      %s\n", orNone(cfg.WooCommerce.WebhookURL))
	fmt.Fprintf(&b, "woocommerce.reactivate_webhooks: %v\n", cfg.WooCommerce.ReactivateWebhooks)
	fmt.Fprintf(&b, "zoom.account_id:              %s\n", redact(cfg.Zoom.AccountID))
	fmt.Fprintf(&b, "zoom.client_id:               %s\n", redact(cfg.Zoom.ClientID))
	fmt.Fprintf(&b, "zoom.client_secret:           %s\n", redact(cfg.Zoom.ClientSecret))
	fmt.Fprintf(&b, "zoom.api_url:                 %s\n", cfg.Zoom.APIURL)
	fmt.Fprintf(&b, "zoom.oauth_url:               %s\n", cfg.Zoom.OAuthURL)
	fmt.Fprintf(&b, "statuses.register:            %s\n", strings.Join(cfg.Statuses.Register, ", "))
	fmt.Fprintf(&b, "statuses.cancel:              %s\n", strings.Join(cfg.Statuses.Cancel, ", "))
	fmt.Fprintf(&b, "events:                       %d\n", len(cfg.Events))
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
