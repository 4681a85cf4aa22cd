// Package metrics exposes woozoom's state for Prometheus at /metrics: the
// deliveries taken, the job queue, every call to Zoom and WooCommerce with
// its latency, the rate limits met, token renewals, write-back failures and
// webhooks that are not active. Every name starts with woozoom_.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Queue is read at every scrape.
type Queue interface {
	QueueStats(ctx context.Context) (QueueStats, error)
}

// QueueStats is the job queue now.
type QueueStats struct {
	ByState       map[string]int
	OldestWaiting time.Time // zero when none waits
	HeldForDaily  int       // waiting for a daily limit to reset
}

// Metrics holds the collectors of one woozoom process.
type Metrics struct {
	reg              *prometheus.Registry
	deliveries       *prometheus.CounterVec
	calls            *prometheus.CounterVec
	latency          *prometheus.HistogramVec
	rateLimited      *prometheus.CounterVec
	tokens           *prometheus.CounterVec
	writeBackFailed  prometheus.Counter
	webhooksInactive prometheus.Gauge
	problems         *prometheus.GaugeVec
}

// New returns the metrics of a process whose queue is q (nil: no queue
// metrics).
func New(q Queue) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "woozoom_deliveries_total", Help: "Webhook deliveries by shop, topic and result (accepted, duplicate, refused, error).",
		}, []string{"shop", "topic", "result"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "woozoom_calls_total", Help: "Calls to Zoom and WooCommerce by service, operation and HTTP status (0: no answer).",
		}, []string{"service", "operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "woozoom_call_duration_seconds", Help: "Latency of calls to Zoom and WooCommerce.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"service", "operation"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "woozoom_zoom_rate_limited_total", Help: "Zoom 429 answers by rate-limit category (Light, Medium, Heavy) and type (QPS, Daily-limit).",
		}, []string{"category", "type"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "woozoom_zoom_token_renewals_total", Help: "Zoom access tokens requested, by result (ok, refused, failed).",
		}, []string{"result"}),
		writeBackFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "woozoom_write_back_failures_total", Help: "Jobs whose write-back to the order failed (they are retried).",
		}),
		webhooksInactive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "woozoom_webhooks_not_active", Help: "Webhooks woozoom needs that are missing, paused or disabled, at the last look.",
		}),
		problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "woozoom_problem", Help: "1 while a component (zoom, woocommerce, webhooks) has a problem that needs a person.",
		}, []string{"component"}),
	}
	m.reg.MustRegister(m.deliveries, m.calls, m.latency, m.rateLimited, m.tokens, m.writeBackFailed, m.webhooksInactive, m.problems,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if q != nil {
		m.reg.MustRegister(&queueCollector{q: q})
	}
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

var knownTopic = regexp.MustCompile(`^(order|product)\.(created|updated|deleted|restored)$|^ping$`)

// Delivery counts one webhook delivery to a shop ("": the one shop,
// counted as "default"). Topics come from the request, so any woozoom does
// not know are counted as "other".
func (m *Metrics) Delivery(shop, topic, result string) {
	if !knownTopic.MatchString(topic) {
		topic = "other"
	}
	if shop == "" {
		shop = "default"
	}
	m.deliveries.WithLabelValues(shop, topic, result).Inc()
}

// WriteBackFailed counts a failed write-back.
func (m *Metrics) WriteBackFailed() { m.writeBackFailed.Inc() }

// WebhooksNotActive sets how many needed webhooks are missing, paused or
// disabled.
func (m *Metrics) WebhooksNotActive(n int) { m.webhooksInactive.Set(float64(n)) }

// Problems sets which components have a problem now.
func (m *Metrics) Problems(components []string) {
	m.problems.Reset()
	for _, c := range components {
		m.problems.WithLabelValues(c).Set(1)
	}
}

// Transport wraps base (nil: http.DefaultTransport) so that every call to
// service is counted and timed. ok, if set, is called after every answer
// below 400 of the service's API (not its token endpoint).
func (m *Metrics) Transport(service string, base http.RoundTripper, ok func()) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{m: m, service: service, base: base, ok: ok}
}

type transport struct {
	m       *Metrics
	service string
	base    http.RoundTripper
	ok      func()
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req.Method, req.URL.Path)
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	t.m.latency.WithLabelValues(t.service, op).Observe(time.Since(start).Seconds())
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	t.m.calls.WithLabelValues(t.service, op, strconv.Itoa(status)).Inc()
	token := strings.HasSuffix(req.URL.Path, "/oauth/token")
	switch {
	case token && status == http.StatusOK:
		t.m.tokens.WithLabelValues("ok").Inc()
	case token && status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		t.m.tokens.WithLabelValues("refused").Inc()
	case token:
		t.m.tokens.WithLabelValues("failed").Inc()
	}
	if status == http.StatusTooManyRequests && t.service == "zoom" {
		cat, typ := resp.Header.Get("X-RateLimit-Category"), resp.Header.Get("X-RateLimit-Type")
		t.m.rateLimited.WithLabelValues(orDash(cat), orDash(typ)).Inc()
	}
	if !token && err == nil && status < 400 && t.ok != nil {
		t.ok()
	}
	return resp, err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Operation names a call by its method and route with ids replaced, so
// that the label's values stay few: "PUT /meetings/{id}/registrants/status".
func Operation(method, path string) string {
	if i := strings.Index(path, "/wp-json/wc/v3/"); i >= 0 {
		path = path[i+len("/wp-json/wc/v3"):]
	} else if i := strings.Index(path, "/v2/"); i >= 0 {
		path = path[i+len("/v2"):]
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i > 0 && (parts[i-1] == "users" || parts[i-1] == "registrants" && p != "status" || strings.ContainsAny(p, "0123456789@")) {
			parts[i] = "{id}"
		}
	}
	return method + " " + strings.Join(parts, "/")
}

type queueCollector struct{ q Queue }

var (
	jobsDesc    = prometheus.NewDesc("woozoom_jobs", "Jobs by state (queued, running, done, failed: failed jobs need a person).", []string{"state"}, nil)
	oldestDesc  = prometheus.NewDesc("woozoom_oldest_waiting_job_age_seconds", "Age of the oldest queued job (0 when none).", nil, nil)
	heldDesc    = prometheus.NewDesc("woozoom_jobs_held_for_daily_limit", "Queued jobs waiting for a Zoom daily limit to reset.", nil, nil)
	queueUpDesc = prometheus.NewDesc("woozoom_queue_readable", "1 if the job queue could be read for this scrape.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- oldestDesc
	ch <- heldDesc
	ch <- queueUpDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.q.QueueStats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 1)
	for state, n := range st.ByState {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), state)
	}
	age := 0.0
	if !st.OldestWaiting.IsZero() {
		age = time.Since(st.OldestWaiting).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, float64(st.HeldForDaily))
}
