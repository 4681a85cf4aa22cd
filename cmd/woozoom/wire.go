package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/admin"
	"github.com/woozoom/woozoom/audit"
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

type configFunc func(required bool) (Config, error)

// withDB opens the configured database for an admin command.
func withDB(cmd *cobra.Command, cfg configFunc, database string, fn func(context.Context, *store.DB) error) (err error) {
	c, err := cfg(false)
	if err != nil {
		return err
	}
	if database != "" {
		c.Database = database
	}
	db, err := store.Open(cmd.Context(), c.Database)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	return fn(cmd.Context(), db.Shop(c.shop()))
}

// live is what a command that talks to the shop and Zoom needs: one
// shop's worker, with the Zoom accounts all shops share.
type live struct {
	cfg    Config // the shop's
	db     *store.DB
	wc     *woo.Client
	zc     *zoom.Client // the default account's
	zoom   *zoom.Accounts
	w      *worker.Worker
	orders *orders.Orders
	log    *slog.Logger
	policy rules.Policy // which orders register
}

// closeDB closes db and reports its error unless another came first.
func closeDB(db *store.DB, err *error) {
	if cerr := db.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close database: %w", cerr)
	}
}

// openLive loads and validates the configuration and opens the database
// and clients.
func openLive(ctx context.Context, cfg configFunc) (Config, *live, error) {
	c, err := cfg(true)
	if err != nil {
		return c, nil, err
	}
	if err := c.Validate(); err != nil {
		return c, nil, fmt.Errorf("the configuration has problems:\n%w", err)
	}
	hc, err := httpClient(c.WooCommerce)
	if err != nil {
		return c, nil, err
	}
	db, err := store.Open(ctx, c.Database)
	if err != nil {
		return c, nil, err
	}
	db = db.Shop(c.shop())
	log := newLogger(c, io.Discard)
	l, err := newWorker(c, db, hc, log, nil)
	if err == nil {
		err = resumePace(ctx, c, l)
	}
	if err != nil {
		_ = db.Close() // the first error is the one to report
		return c, nil, err
	}
	return c, l, nil
}

// resumePace starts each Zoom account's pace where an earlier run left it.
func resumePace(ctx context.Context, c Config, l *live) error {
	for _, a := range c.zoomAccounts() {
		zc, _ := l.zoom.Client(a.Name)
		p, ok, err := l.db.Pace(ctx, a.AccountID)
		if err != nil {
			return err
		}
		if ok {
			zc.Resume(p)
			light, medium := zc.Pace()
			l.log.Info("Zoom's pace resumed where the last run left it", "zoom_account", a.Name, "light", light, "medium", medium,
				"light_limit", p.LightLimit, "medium_limit", p.MediumLimit)
		}
	}
	return nil
}

// keepPace keeps what the clients learn of Zoom's limits, every interval
// while it changes and once more when ctx ends, for the next start.
func keepPace(ctx context.Context, c Config, l *live, every time.Duration) {
	kept := map[string]rules.LearnedPace{}
	save := func(ctx context.Context) {
		for _, a := range c.zoomAccounts() {
			zc, _ := l.zoom.Client(a.Name)
			if now := zc.Learned(); now != kept[a.Name] {
				if err := l.db.SavePace(ctx, a.AccountID, now); err != nil {
					l.log.Warn("the pace learned of Zoom was not kept", "zoom_account", a.Name, "err", err)
					continue
				}
				kept[a.Name] = now
			}
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			save(context.WithoutCancel(ctx))
			return
		case <-t.C:
			save(ctx)
		}
	}
}

// newZoomAccounts makes a client per Zoom account, each with its token,
// pace, circuit and status batches, and routes calls among them.
func newZoomAccounts(cfg Config, db *store.DB, log *slog.Logger, obs *observers) *zoom.Accounts {
	// Replicas on PostgreSQL share each account's pace through it; one
	// process on SQLite keeps it in memory, where it costs no write.
	var shared zoom.SharedPace
	if store.IsPostgres(cfg.Database) {
		shared = db
	}
	accounts := zoom.NewAccounts(db)
	all := cfg.zoomAccounts()
	for _, a := range all {
		z := a.ZoomConfig
		zc := zoom.New(zoom.Config{
			AccountID: z.AccountID, ClientID: z.ClientID, ClientSecret: z.ClientSecret,
			APIURL: z.APIURL, OAuthURL: z.OAuthURL, Timeout: z.Timeout,
			LightPerSecond: z.LightPerSecond, MediumPerSecond: z.MediumPerSecond, MaxShare: z.MaxShare, Retries: 3,
			OnCircuit: obs.circuitHook(a.Name, len(all) > 1), Shared: shared,
		}, obs.instrument("zoom", keepConns(&http.Client{Timeout: z.Timeout}, cfg.Worker.Workers), z.Timeout), log.With("zoom_account", a.Name))
		var hosts []string
		for _, e := range cfg.allEvents() {
			if e.Create != "" && cfg.accountOf(e) == a.Name {
				hosts = append(hosts, e.Host)
			}
		}
		accounts.Add(a.Name, zc, hosts...)
	}
	return accounts
}

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

// newObservers are the serving process's metrics, health and audit log.
func newObservers(cfg Config, db *store.DB, log *slog.Logger) *observers {
	var shops []*store.DB
	for _, s := range cfg.shops() {
		shops = append(shops, db.Shop(s.Name))
	}
	met := metrics.New(queueStats{shops})
	return &observers{metrics: met, health: health.New(log, met.Problems), audit: audit.New(db, cfg.Audit.Keep, log)}
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

// zoomCircuit reports an account's Zoom outages (the client stops calling
// it) and their end.
func (o *observers) zoomCircuit(account string, named bool, open bool, since time.Time) {
	key, whose := "zoom", ""
	if named {
		key, whose = "zoom:"+account, " (account "+account+")"
	}
	if open {
		o.health.Problem(key, "Zoom is not answering"+whose+"; woozoom has paused its calls", fmt.Sprintf("Zoom has not answered%s since %s (server errors or no connection); woozoom has paused its calls and tries again at growing intervals; jobs wait without losing tries",
			whose, since.UTC().Format(time.RFC3339)))
		return
	}
	o.health.OK(key)
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

// circuitHook reports an account's circuit; named: the health problem
// names the account (several accounts).
func (o *observers) circuitHook(account string, named bool) func(bool, time.Time) {
	if o == nil {
		return nil
	}
	return func(open bool, since time.Time) { o.zoomCircuit(account, named, open, since) }
}

// queueStats are the queues of every shop, together.
type queueStats struct{ shops []*store.DB }

func (q queueStats) QueueStats(ctx context.Context) (metrics.QueueStats, error) {
	out := metrics.QueueStats{ByState: map[string]int{}}
	for _, db := range q.shops {
		by, oldest, held, err := db.QueueStats(ctx)
		if err != nil {
			return out, err
		}
		for state, n := range by {
			out.ByState[state] += n
		}
		if !oldest.IsZero() && (out.OldestWaiting.IsZero() || oldest.Before(out.OldestWaiting)) {
			out.OldestWaiting = oldest
		}
		out.HeldForDaily += held
	}
	return out, nil
}

// newWorker builds the clients and the worker of cfg's shop; obs may be
// nil.
func newWorker(cfg Config, db *store.DB, shopHTTP *http.Client, log *slog.Logger, obs *observers) (*live, error) {
	return newShopWorker(cfg, db, newZoomAccounts(cfg, db, log, obs), shopHTTP, log, obs)
}

// newShopWorker builds a shop's client and worker on the Zoom accounts.
func newShopWorker(cfg Config, db *store.DB, accounts *zoom.Accounts, shopHTTP *http.Client, log *slog.Logger, obs *observers) (*live, error) {
	zc := accounts.Default()
	if len(cfg.Shops) > 0 {
		log = log.With("shop", cfg.shop())
	}
	service := "woocommerce"
	if len(cfg.Shops) > 0 {
		service += ":" + cfg.shop() // its calls counted and its trouble cleared by shop
	}
	shopHTTP = obs.instrument(service, keepConns(shopHTTP, cfg.Worker.Workers), cfg.WooCommerce.Timeout)
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
	policy := cfg.policy()
	mcfg.Policy = policy
	ms := meetings.New(mcfg, db, zoom.EventMeetings{Accounts: accounts, Settings: cfg.MeetingDefaults}, wc, woo.ParseDelivery, log)
	ocfg := orders.Config{
		Policy: policy, CustomerNote: cfg.WooCommerce.CustomerNote,
		Templates: tm, CalendarURL: cfg.Calendar.URL, NamedByProduct: cfg.linksNamedByProduct(),
		Made: ms.Made(), Kept: ms.Kept(), Wake: func() { wake() }, Replays: cfg.replays(),
	}
	wcfg := worker.Config{
		Holders: func(token string) worker.Holder { return db.Holder(token) },
		Workers: cfg.Worker.Workers, Poll: cfg.Worker.Poll, Grace: cfg.Worker.Grace, Lease: cfg.Worker.Lease,
		RetryBase: cfg.Worker.RetryBase, RetryMax: cfg.Worker.RetryMax,
	}
	if obs != nil {
		ocfg.Metrics, wcfg.Health = obs.metrics, obs.health
		if len(cfg.Shops) > 0 {
			wcfg.Health = shopHealth{t: obs.health, shop: cfg.shop()}
		}
	}
	work := orders.New(ocfg, db, accounts, wc, woo.ParseDelivery, log)
	wcfg.Rooms = map[worker.Kind]worker.Room{
		worker.OrderJob: work, worker.RegistrantEvent: work.Registrants(),
		worker.ProductJob: ms, worker.MeetingEvent: ms.Events(),
		worker.AttendanceEvent: orders.NewAttendance(db, accounts),
		worker.RecordingEvent:  orders.NewRecordings(db, accounts, cfg.replays()),
	}
	if len(cfg.Shops) > 0 {
		wcfg.Shop = cfg.shop()
	}
	w := worker.New(wcfg, db, log)
	wake = w.Wake
	return &live{cfg: cfg, db: db, wc: wc, zc: zc, zoom: accounts, w: w, orders: work, log: log, policy: policy}, nil
}

// paces are the paces learned of each Zoom account, for the console.
func (l *live) paces() []admin.Pace {
	names := l.zoom.Names()
	out := make([]admin.Pace, len(names))
	for i, name := range names {
		zc, _ := l.zoom.Client(name)
		out[i].Light, out[i].Medium = zc.Pace()
		if len(names) > 1 {
			out[i].Account = name
		}
	}
	return out
}

// productOrders lists the orders of a product that register.
func (l *live) productOrders(productID int64) orders.PageFunc {
	return orders.Registering(func(ctx context.Context, page int) ([][]byte, int, error) {
		return l.wc.OrdersOfProduct(ctx, productID, page)
	}, woo.ParseDelivery, l.policy)
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

// keepConns returns hc (nil: a new client) keeping up to n idle connections
// to a host, one per worker. Go keeps two: with more jobs calling at once,
// the others were closed after each call and the next one handshook again
// (the most of what the heap took in during a wave of cancellations).
func keepConns(hc *http.Client, n int) *http.Client {
	c := http.Client{}
	if hc != nil {
		c = *hc
	}
	var tr *http.Transport
	switch t := c.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return &c
	}
	tr.MaxIdleConnsPerHost = max(n, 2)
	c.Transport = tr
	return &c
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
