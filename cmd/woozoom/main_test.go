package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
	"github.com/woozoom/woozoom/zoom/zoomtest/contract"
)

// serveShop serves a fake shop over TLS until the test ends, and writes
// its certificate to caFile, as woocommerce.ca_file reads it.
func serveShop(t testing.TB, shop http.Handler, caFile string) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(shop)
	t.Cleanup(srv.Close)
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv
}

// swappable serves with a handler a test may change while it serves.
type swappable struct{ h atomic.Pointer[http.Handler] }

func (s *swappable) set(h http.Handler) { s.h.Store(&h) }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type e2e struct {
	t       *testing.T
	zoom    *zoomtest.Fake
	zsrv    *httptest.Server // the fake Zoom's address
	zoomAt  *swappable       // what serves there: check, or another
	check   *contract.Validator
	shop    *wootest.Shop
	url     string // the sidecar
	dbFile  string // the database setting: a SQLite file or a PostgreSQL URL
	cfgFile string
	secret  string
	meeting int64
	webinar int64
	logs    *syncBuffer
	stop    func() int
}

const e2eZoomSecret = "zoom-client-secret-e2e-0123456789"

// startE2E runs the real server (run, as main does) on a socket with a real
// SQLite file, against the fake Zoom (behind the spec validator) and the
// fake shop over TLS.
func startE2E(t *testing.T) *e2e {
	t.Helper()
	return startE2EOn(t, "")
}

// startE2EOn is startE2E on database (a PostgreSQL URL), or on a new SQLite
// file if database is empty.
func startE2EOn(t *testing.T, database string) *e2e {
	t.Helper()
	dir := t.TempDir()
	if database == "" {
		database = filepath.Join(dir, "woozoom.db")
	}
	e := &e2e{t: t, secret: "whsec-e2e-7f3a", dbFile: database, logs: &syncBuffer{}}

	creds := zoomtest.Credentials{AccountID: "acct-e2e", ClientID: "client-e2e", ClientSecret: e2eZoomSecret}
	e.zoom = zoomtest.New(creds, zoomtest.ProLimits)
	zsrv := httptest.NewUnstartedServer(nil)
	zsrv.Start()
	t.Cleanup(zsrv.Close)
	var err error
	if e.check, err = contract.NewValidator(zsrv.URL+"/v2", e.zoom); err != nil {
		t.Fatal(err)
	}
	e.zoomAt = &swappable{}
	e.zoomAt.set(e.check)
	zsrv.Config.Handler = e.zoomAt
	e.zsrv = zsrv
	e.meeting = e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Online guided tour", HostEmail: "host@shop.example",
		StartTime: time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC), Duration: 60, Timezone: "Europe/Berlin", Password: "Tour42"})
	e.webinar = e.zoom.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Restoring paintings", HostEmail: "host@shop.example", Duration: 90})

	e.shop = wootest.NewShop("ck_e2e", "cs_e2e_secret")
	caFile := filepath.Join(dir, "shop-ca.pem")
	ssrv := serveShop(t, e.shop, caFile)

	cfgFile := filepath.Join(dir, "config.yaml")
	e.cfgFile = cfgFile
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
database: %s
woocommerce:
  url: %s
  consumer_key: ck_e2e
  consumer_secret: cs_e2e_secret
  webhook_secret: %s
  ca_file: %s
zoom:
  account_id: acct-e2e
  client_id: client-e2e
  api_url: %s/v2
  oauth_url: %s/oauth/token
  light_per_second: 25
  medium_per_second: 15
worker:
  poll: 100ms
reconcile:
  interval: 0
events:
  - product_id: 10
    meeting_id: "%s"
  - product_id: 11
    webinar_id: %d
`, e.dbFile, ssrv.URL, e.secret, caFile, zsrv.URL, zsrv.URL, access.FormatID(fmt.Sprint(e.meeting)), e.webinar)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WOOZOOM_ZOOM_CLIENT_SECRET", e2eZoomSecret) // a secret from the environment only

	e.serve()
	e.shop.AddWebhook(e.url+"/webhooks/woocommerce", e.secret, "order.created", "order.updated", "order.deleted", "order.restored")
	t.Cleanup(func() {
		e.stop()
		for _, v := range e.check.Violations() {
			t.Errorf("Zoom spec violation: %s", v)
		}
		if strings.Contains(e.logs.String(), e2eZoomSecret) || strings.Contains(e.logs.String(), "cs_e2e_secret") || strings.Contains(e.logs.String(), e2ePGPassword) {
			t.Error("a secret appears in the server's log")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs)
		}
	})
	return e
}

// serve runs the server (run, as main does) on e.cfgFile and waits until
// it listens; e.stop ends it.
func (e *e2e) serve() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--config", e.cfgFile}, pw, e.logs)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case e.url = <-addr:
	case c := <-code:
		e.t.Fatalf("server exited with %d before listening:\n%s", c, e.logs)
	case <-time.After(20 * time.Second):
		e.t.Fatalf("server did not start:\n%s", e.logs)
	}
	stopped := false
	e.stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(30 * time.Second):
			e.t.Fatal("server did not stop within 30 s")
			return -1
		}
	}
}

// eventually polls cond until it holds or 15 s pass, flushing the shop's
// delivery queue as Action Scheduler would.
func (e *e2e) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		e.shop.Flush()
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for: %s", what)
}

func (e *e2e) zoomStatus(target int64, email string) string {
	r, ok := e.zoom.Registrant(target, email)
	if !ok {
		return "none"
	}
	return r.Status
}

func (e *e2e) post(body []byte, h map[string]string) int {
	req, _ := http.NewRequest(http.MethodPost, e.url+"/webhooks/woocommerce", bytes.NewReader(body))
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *e2e) deliveries() int {
	db, err := store.Open(context.Background(), e.dbFile)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	n, err := db.CountDeliveries(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestEndToEnd(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) { testEndToEnd(t, startE2EOn(t, engine.database(t))) })
	}
}

func testEndToEnd(t *testing.T, e *e2e) {
	sender := &wootest.Sender{URL: e.url + "/webhooks/woocommerce", Secret: e.secret, WebhookID: 1, Source: e.shop.Home}

	if code, err := sender.Ping(); err != nil || code != http.StatusOK {
		t.Fatalf("ping answered %d (%v), want exactly 200", code, err)
	}

	// A completed order registers its attendee on both targets and gets its
	// links written back.
	id := e.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "Rita", LastName: "Doro", Email: "Rita.Doro@Example.org",
		Items: []wootest.Item{{ProductID: 10, Quantity: 2, Name: "Tour"}, {ProductID: 11, Name: "Webinar"}}})
	e.shop.SetStatus(id, "completed")
	e.eventually("registrant approved on the meeting and the webinar", func() bool {
		return e.zoomStatus(e.meeting, "rita.doro@example.org") == "approved" && e.zoomStatus(e.webinar, "rita.doro@example.org") == "approved"
	})
	e.eventually("meta and a customer note on the order", func() bool {
		_, ok := e.shop.Meta(id, orders.MetaKey)
		notes := e.shop.Notes(id)
		return ok && len(notes) == 1 && notes[0].Customer && strings.Contains(notes[0].Note, "passcode Tour42")
	})
	db, err := store.Open(context.Background(), e.dbFile)
	if err != nil {
		t.Fatal(err)
	}
	regs, err := db.Registrations(context.Background(), id)
	db.Close()
	if err != nil || len(regs) != 2 || regs[0].State != rules.Active {
		t.Fatalf("registration rows = %+v, %v", regs, err)
	}

	// Cancel: denied on Zoom. Complete again: approved, never added twice.
	e.shop.SetStatus(id, "cancelled")
	e.eventually("registrant denied after cancel", func() bool {
		return e.zoomStatus(e.meeting, "rita.doro@example.org") == "denied" && e.zoomStatus(e.webinar, "rita.doro@example.org") == "denied"
	})
	e.shop.SetStatus(id, "completed")
	e.eventually("registrant approved after completing again", func() bool {
		return e.zoomStatus(e.meeting, "rita.doro@example.org") == "approved" && e.zoomStatus(e.webinar, "rita.doro@example.org") == "approved"
	})
	if n := e.zoom.Adds(e.meeting, "rita.doro@example.org"); n != 1 {
		t.Errorf("%d add-registrant calls for one email, want 1", n)
	}

	// A forged delivery is refused and stores nothing.
	before := e.deliveries()
	forged := []byte(`{"id":999,"status":"completed","billing":{"email":"mallory@example.org","first_name":"M"},"line_items":[{"id":1,"product_id":10,"quantity":1}]}`)
	if code, _ := sender.SendAs("order.updated", forged, "forged-1", woo.Sign(forged, "guessed-secret")); code != http.StatusUnauthorized {
		t.Errorf("forged delivery answered %d, want 401", code)
	}
	if code := e.post(forged, map[string]string{woo.HeaderTopic: "order.updated", "Content-Type": "application/json"}); code != http.StatusUnauthorized {
		t.Errorf("unsigned delivery answered %d, want 401", code)
	}
	if after := e.deliveries(); after != before {
		t.Errorf("refused deliveries stored %d rows", after-before)
	}

	// An exact duplicate gives one registrant; two orders sharing a
	// Delivery-ID (same webhook, same second) are both handled.
	a := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ann", Email: "ann@example.org", Items: []wootest.Item{{ProductID: 10}}})
	b := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Bob", Email: "bob@example.org", Items: []wootest.Item{{ProductID: 10}}})
	bodyA, _ := e.shop.OrderJSON(a)
	bodyB, _ := e.shop.OrderJSON(b)
	shared := wootest.DeliveryID(1, time.Now())
	before = e.deliveries()
	for _, body := range [][]byte{bodyA, bodyA, bodyB} {
		if code, err := sender.SendAs("order.updated", body, shared, woo.Sign(body, e.secret)); err != nil || code != http.StatusOK {
			t.Fatalf("delivery answered %d, %v", code, err)
		}
	}
	if n := e.deliveries() - before; n != 2 {
		t.Errorf("three deliveries (one an exact repeat) stored %d rows, want 2", n)
	}
	e.eventually("both orders sharing a Delivery-ID registered", func() bool {
		return e.zoomStatus(e.meeting, "ann@example.org") == "approved" && e.zoomStatus(e.meeting, "bob@example.org") == "approved"
	})
	if n := e.zoom.Adds(e.meeting, "ann@example.org"); n != 1 {
		t.Errorf("a duplicated delivery made %d add calls, want 1", n)
	}
	count := 0
	for _, r := range e.zoom.Registrants(e.meeting) {
		if r.Email == "ann@example.org" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d registrants for ann@example.org, want 1", count)
	}

	// A signed delivery woozoom cannot use is kept, answered 2xx, and parked
	// where the admin sees it.
	junk := []byte(`{"id":"not a number"`)
	if code, _ := sender.Send("order.updated", junk); code != http.StatusOK {
		t.Errorf("signed unusable delivery answered %d, want 200", code)
	}
	var out bytes.Buffer
	cfgFile := e.cfgFile
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "cannot be read") && time.Now().Before(deadline) {
		out.Reset()
		run(context.Background(), []string{"jobs", "list", "--failed", "--config", cfgFile}, &out, io.Discard)
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "cannot be read") {
		t.Errorf("jobs list --failed does not show the unusable delivery:\n%s", out.String())
	}
	e.adminSeesTheDatabase()

	if code := e.stop(); code != 0 {
		t.Errorf("server exited with %d after SIGTERM-like cancel", code)
	}
	if !strings.Contains(e.logs.String(), "stopped") {
		t.Error("server did not log a clean stop")
	}
}

// adminSeesTheDatabase runs the admin's commands that name the database:
// check shows it without a password; backup copies a SQLite file and, on
// PostgreSQL, points to pg_dump and writes nothing.
func (e *e2e) adminSeesTheDatabase() {
	t := e.t
	t.Helper()
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"check", "--offline", "--config", e.cfgFile}, &out, &errOut)
	if !strings.Contains(out.String(), "database:") || strings.Contains(out.String()+errOut.String(), e2ePGPassword) {
		t.Errorf("check --offline shows the database wrongly:\n%s%s", out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	copyFile := filepath.Join(t.TempDir(), "copy.db")
	code := run(context.Background(), []string{"backup", copyFile, "--config", e.cfgFile}, &out, &errOut)
	_, statErr := os.Stat(copyFile)
	if store.IsPostgres(e.dbFile) {
		if code == 0 || !strings.Contains(errOut.String(), "pg_dump") || statErr == nil {
			t.Errorf("backup on PostgreSQL: exit %d, file written: %v, said:\n%s%s", code, statErr == nil, out.String(), errOut.String())
		}
		return
	}
	if code != 0 || statErr != nil {
		t.Errorf("backup on SQLite: exit %d (%v):\n%s%s", code, statErr, out.String(), errOut.String())
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	for _, c := range allCommands(root) {
		if strings.TrimSpace(c.Short) == "" {
			t.Errorf("command %q has no help text", c.CommandPath())
		}
		var out bytes.Buffer
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		if code := run(context.Background(), args, &out, &out); code != 0 || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%s --help: exit %d\n%s", c.CommandPath(), code, out.String())
		}
	}
}

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		out = append(out, allCommands(sub)...)
	}
	return out
}

func TestReconcileFindsOrdersWhoseWebhookNeverCame(t *testing.T) {
	e := startE2E(t)
	// The order completes while no delivery reaches woozoom: the shop's queue
	// is never run.
	id := e.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "Lost", Email: "lost@example.org", Items: []wootest.Item{{ProductID: 10}}})
	e.shop.SetStatus(id, "completed")
	time.Sleep(300 * time.Millisecond)
	if got := e.zoomStatus(e.meeting, "lost@example.org"); got != "none" {
		t.Fatalf("registered before any delivery or reconciliation: %s", got)
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"reconcile", "--config", e.cfgFile, "--since", "2000-01-01"}, &out, &out); code != 0 {
		t.Fatalf("reconcile exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "1 queued") || !strings.Contains(out.String(), "page 1/1") {
		t.Errorf("reconcile output:\n%s", out.String())
	}
	deadline := time.Now().Add(15 * time.Second)
	for e.zoomStatus(e.meeting, "lost@example.org") != "approved" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.zoomStatus(e.meeting, "lost@example.org"); got != "approved" {
		t.Fatalf("after one reconciliation pass the order's attendee is %s, want approved", got)
	}
	out.Reset()
	run(context.Background(), []string{"reconcile", "--config", e.cfgFile}, &out, &out)
	if !strings.Contains(out.String(), "reading orders modified after") {
		t.Errorf("second pass from the checkpoint:\n%s", out.String())
	}
}

func TestBackfillAndExport(t *testing.T) {
	e := startE2E(t)
	// Orders of product 12 were sold before it had any mapping.
	for i := range 3 {
		e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Early", LastName: fmt.Sprint(i), Email: fmt.Sprintf("early%d@example.org", i), Items: []wootest.Item{{ProductID: 12}}})
	}
	e.shop.CreateOrder(wootest.Order{Status: "cancelled", FirstName: "Gone", Email: "gone@example.org", Items: []wootest.Item{{ProductID: 12}}})
	e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Other", Email: "other@example.org", Items: []wootest.Item{{ProductID: 99}}})
	var out bytes.Buffer
	must := func(args ...string) string {
		t.Helper()
		out.Reset()
		if code := run(context.Background(), append(args, "--config", e.cfgFile), &out, &out); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out.String())
		}
		return out.String()
	}
	must("map", "add", "--product", "12", "--meeting", fmt.Sprint(e.meeting))
	got := must("backfill", "--product", "12")
	if !strings.Contains(got, "page 1/1, 3 to register") || !strings.Contains(got, "3 jobs done, 0 failed, 0 to go") {
		t.Errorf("backfill output:\n%s", got)
	}
	for i := range 3 {
		if s := e.zoomStatus(e.meeting, fmt.Sprintf("early%d@example.org", i)); s != "approved" {
			t.Errorf("early buyer %d after backfill: %s", i, s)
		}
	}
	for _, email := range []string{"gone@example.org", "other@example.org"} {
		if s := e.zoomStatus(e.meeting, email); s != "none" {
			t.Errorf("%s registered by a backfill of product 12: %s", email, s)
		}
	}
	adds := e.zoom.Adds(e.meeting, "early0@example.org")
	must("backfill", "--product", "12") // safe twice
	if n := e.zoom.Adds(e.meeting, "early0@example.org"); n != adds {
		t.Errorf("a second backfill added again (%d adds, was %d)", n, adds)
	}

	// With no sidecar running, the backfill works the queue itself.
	if code := e.stop(); code != 0 {
		t.Fatalf("server exited with %d", code)
	}
	e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Late", Email: "late@example.org", Items: []wootest.Item{{ProductID: 12}}})
	got = must("backfill", "--product", "12")
	if !strings.Contains(got, "4 jobs done, 0 failed, 0 to go") {
		t.Errorf("backfill without a sidecar:\n%s", got)
	}
	if s := e.zoomStatus(e.meeting, "late@example.org"); s != "approved" {
		t.Errorf("late buyer after a backfill on its own: %s", s)
	}

	csvOut := must("export", "--product", "12")
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "order_id,line_item_id,product_id,email") {
		t.Fatalf("export:\n%s", csvOut)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, ",active,approved,https://") {
			t.Errorf("export row %q lacks state, Zoom status and join link", l)
		}
	}
}

// A meeting deleted on Zoom parks the job with Zoom's reason; the admin
// maps the product to a new meeting and retries the job.
func TestParkedJobRetriedByTheAdmin(t *testing.T) {
	e := startE2E(t)
	admin := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if code := run(context.Background(), append(args, "--config", e.cfgFile), &out, &out); code != 0 {
			t.Fatalf("woozoom %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
		}
		return out.String()
	}
	gone := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Deleted tour", HostEmail: "host@shop.example", Duration: 60})
	admin("map", "add", "--product", "12", "--meeting", fmt.Sprint(gone))
	e.zoom.DeleteMeeting(gone)

	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Pia", Email: "pia@example.org", Items: []wootest.Item{{ProductID: 12}}})
	e.shop.Flush()
	var jobID string
	e.eventually("the job parked with Zoom's 3001", func() bool {
		for _, line := range strings.Split(admin("jobs", "list", "--failed"), "\n") {
			if strings.Contains(line, "3001") && strings.Contains(line, fmt.Sprint(id)) {
				jobID = strings.Fields(line)[0]
				return true
			}
		}
		return false
	})

	fresh := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Tour, new date", HostEmail: "host@shop.example", Duration: 60})
	admin("map", "remove", "--product", "12", "--meeting", fmt.Sprint(gone))
	admin("map", "add", "--product", "12", "--meeting", fmt.Sprint(fresh))
	if out := admin("jobs", "retry", jobID); !strings.Contains(out, "job "+jobID) {
		t.Errorf("jobs retry said: %s", out)
	}
	e.eventually("the retried job registered the attendee on the new meeting", func() bool {
		return e.zoomStatus(fresh, "pia@example.org") == "approved"
	})
	e.eventually("every job of the order worked", func() bool {
		c := e.jobCounts()
		return c[rules.JobQueued]+c[rules.JobRunning] == 0
	})
	if out := admin("jobs", "list", "--failed"); strings.Contains(out, "3001") {
		t.Errorf("the retried job is still parked:\n%s", out)
	}
}

// Two woozoom processes on one database share its queue: deliveries arrive
// at both, each order is registered once, and when one stops the other goes
// on alone. (Which process claims which job is up to the scheduler; the
// chaos harness runs two processes under faults and kills.)
func TestTwoProcessesWorkOneDatabase(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) { testTwoProcessesWorkOneDatabase(t, startE2EOn(t, engine.database(t))) })
	}
}

func testTwoProcessesWorkOneDatabase(t *testing.T, e *e2e) {
	second, stopSecond, _ := startProcess(t, e.cfgFile)
	// The shop delivers every order to both.
	e.shop.AddWebhook(second+"/webhooks/woocommerce", e.secret, "order.created", "order.updated")
	var emails []string
	for i := range 12 {
		email := fmt.Sprintf("both%d@example.org", i)
		emails = append(emails, email)
		e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Both", Email: email, Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	}
	e.eventually("every attendee registered", func() bool {
		for _, m := range emails {
			if e.zoomStatus(e.meeting, m) != "approved" || e.zoomStatus(e.webinar, m) != "approved" {
				return false
			}
		}
		return true
	})
	for _, m := range emails {
		if n := e.zoom.Adds(e.meeting, m) + e.zoom.Adds(e.webinar, m); n != 2 {
			t.Errorf("%s was added %d times, want once on each event", m, n)
		}
	}
	if code := e.stop(); code != 0 {
		t.Fatalf("first server exited with %d", code)
	}
	// The second goes on alone.
	id := e.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "Ola", Email: "ola@example.org", Items: []wootest.Item{{ProductID: 10}}})
	e.shop.SetStatus(id, "completed")
	e.eventually("the second process registered the attendee", func() bool {
		return e.zoomStatus(e.meeting, "ola@example.org") == "approved"
	})
	if code := stopSecond(); code != 0 {
		t.Errorf("second server exited with %d", code)
	}
}

// startProcess runs another woozoom (serve, as main does) on cfgFile and
// returns its address, its stop, which says how it exited, and its log.
func startProcess(t *testing.T, cfgFile string) (url string, stop func() int, logs *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgFile}, pw, logs)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var out strings.Builder
	for url == "" && sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		cancel()
		t.Fatalf("another woozoom did not start: exit %d\n%s%s", <-done, out.String(), logs)
	}
	var code *int
	stop = func() int {
		if code == nil {
			cancel()
			c := <-done
			code = &c
			if c != 0 {
				t.Logf("its log:\n%s", logs)
			}
		}
		return *code
	}
	t.Cleanup(func() { stop() })
	return url, stop, logs
}

// Buyers type their names: a name a spreadsheet would run as a formula is
// written as text, and the export file is owner-only even over a file that
// was not.
func TestExportIsSpreadsheetSafe(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "woozoom.db")
	db, err := store.Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	m := rules.Target{Kind: rules.Meeting, ID: 85746065123}
	names := []string{`=HYPERLINK("https://evil.example","Click")`, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "Rita"}
	var regs []rules.Registration
	for i, n := range names {
		regs = append(regs, rules.Registration{OrderID: int64(100 + i), LineItemID: 1, ProductID: 12, Target: m, State: rules.Active,
			Attendee: rules.Person{FirstName: n, LastName: "Doro", Email: fmt.Sprintf("p%d@example.org", i)}})
	}
	if err := db.SaveRegistrations(context.Background(), regs); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := filepath.Join(dir, "attendees.csv")
	if err := os.WriteFile(out, []byte("old, world-readable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if code := run(context.Background(), []string{"export", "--product", "12", "--database", file, "--output", out, "--config", filepath.Join(dir, "none.yaml")}, &buf, &buf); code != 0 {
		t.Fatalf("export: %s", buf.String())
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != len(names)+1 {
		t.Fatalf("export: %d rows, %v", len(rows), err)
	}
	for i, n := range names[:6] {
		if got := rows[i+1][4]; got != "'"+n {
			t.Errorf("first name %q exported as %q, want it behind a '", n, got)
		}
	}
	if got := rows[7][4]; got != "Rita" {
		t.Errorf("a plain name exported as %q", got)
	}
}
