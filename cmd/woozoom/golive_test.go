package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo/wootest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric sums the samples of name whose labels contain every one of labels.
func metric(text, name string, labels ...string) float64 {
	sum := 0.0
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(\{.*\})? (\S+)$`)
	for _, line := range strings.Split(text, "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(m[1], l)
		}
		if v, err := strconv.ParseFloat(m[2], 64); ok && err == nil {
			sum += v
		}
	}
	return sum
}

func TestMetricsAndReadiness(t *testing.T) {
	e := startE2E(t)
	// Ready once the worker holds the queue, a moment after listening.
	e.eventually("/readyz answers 200 while serving", func() bool {
		code, _ := get(t, e.url+"/readyz")
		return code == http.StatusOK
	})
	_, before := get(t, e.url+"/metrics")
	// (Zoom is asked about the mapped meetings at start; nobody is added yet.)
	if metric(before, "woozoom_deliveries_total") != 0 || metric(before, "woozoom_calls_total", `service="zoom"`, `operation="POST /meetings/{id}/registrants"`) != 0 {
		t.Fatalf("counters are not zero before any work:\n%s", before)
	}
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	var after string
	e.eventually("the attendee is registered and written back, and the job done", func() bool {
		_, ok := e.shop.Meta(id, "_woozoom_registrations")
		_, after = get(t, e.url+"/metrics")
		return e.zoomStatus(e.meeting, "rita@example.org") == "approved" && ok && metric(after, "woozoom_jobs", `state="done"`) >= 1
	})
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"woozoom_deliveries_total", []string{`topic="order.created"`, `result="accepted"`}},
		{"woozoom_calls_total", []string{`service="zoom"`, `operation="POST /meetings/{id}/registrants"`, `status="201"`}},
		{"woozoom_calls_total", []string{`service="woocommerce"`, `operation="PUT /orders/{id}"`, `status="200"`}},
		{"woozoom_call_duration_seconds_count", []string{`service="zoom"`}},
		{"woozoom_zoom_token_renewals_total", []string{`result="ok"`}},
		{"woozoom_jobs", []string{`state="done"`}},
	} {
		if v := metric(after, c.name, c.labels...); v < 1 {
			t.Errorf("%s%v = %v after a delivery and a Zoom call, want at least 1", c.name, c.labels, v)
		}
	}
	for _, name := range []string{"woozoom_oldest_waiting_job_age_seconds", "woozoom_jobs_held_for_daily_limit", "woozoom_webhooks_not_active", "woozoom_write_back_failures_total"} {
		if !strings.Contains(after, "\n"+name+" ") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if strings.Contains(after, "cs_e2e_secret") || strings.Contains(after, e2eZoomSecret) {
		t.Error("/metrics shows a secret")
	}

	// A second process on the same database waits for the queue: not ready.
	e.stop()
	if code, _ := getNoFail(e.url + "/readyz"); code == http.StatusOK {
		t.Error("/readyz answered 200 after the server stopped")
	}
}

func getNoFail(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// A wrong REST key keeps the write-back waiting, says so on /healthz and in
// the log once, and a restart with the key fixed takes the job up at once.
func TestWrongRESTKeyWaitsAndHealsAfterRestart(t *testing.T) {
	e := startE2E(t)
	good := e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "consumer_secret: cs_e2e_secret", "consumer_secret: cs_typo", 1)
		return strings.Replace(cfg, "  poll: 100ms", "  poll: 100ms\n  retry_base: 100ms\n  retry_max: 200ms", 1)
	})

	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ola", Email: "ola@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	body, _ := e.shop.OrderJSON(id)
	sender := &wootest.Sender{URL: e.url + "/webhooks/woocommerce", Secret: e.secret, WebhookID: 1, Source: e.shop.Home}
	if code, err := sender.Send("order.updated", body); err != nil || code != http.StatusOK {
		t.Fatalf("delivery answered %d, %v", code, err)
	}
	job := e.newestJob
	// Read between two tries: with a 100 ms backoff the job is often running.
	e.eventually("the job has tried the write-back three times", func() bool {
		j := job()
		return j.Attempts >= 3 && j.State != rules.JobRunning
	})
	j := job()
	if j.State != rules.JobQueued || j.Wait != rules.WaitForPerson || !strings.Contains(j.LastError, "401") {
		t.Errorf("job with a refused REST key: state %s, error %q; want queued, waiting for a person", j.State, j.LastError)
	}
	if e.zoomStatus(e.meeting, "ola@example.org") != "approved" {
		t.Error("the attendee was not registered while the write-back waits")
	}
	_, h := get(t, e.url+"/healthz")
	var health struct {
		Status   string            `json:"status"`
		Problems map[string]string `json:"problems"`
	}
	if err := json.Unmarshal([]byte(h), &health); err != nil {
		t.Fatal(err)
	}
	if health.Status != "degraded" || !strings.Contains(health.Problems["woocommerce"], "consumer_secret") || strings.Contains(h, "cs_typo") {
		t.Errorf("/healthz = %s, want degraded naming the REST key without showing it", h)
	}
	if strings.Contains(h, "ola@example.org") {
		t.Errorf("/healthz names the attendee: %s", h)
	}
	// Anyone may read /healthz: it says what is wrong in woozoom's words,
	// never what the shop answered.
	if strings.Contains(h, "Consumer secret is invalid") || strings.Contains(h, "woocommerce_rest_authentication_error") {
		t.Errorf("/healthz shows the shop's answer: %s", h)
	}
	if n := strings.Count(e.logs.String(), "needs a person: woocommerce"); n != 1 {
		t.Errorf("the refused key was logged %d times over %d tries, want once", n, job().Attempts)
	}
	_, m := get(t, e.url+"/metrics")
	if metric(m, "woozoom_problem", `component="woocommerce"`) != 1 || metric(m, "woozoom_write_back_failures_total") < 3 {
		t.Errorf("/metrics does not show the problem and the failed write-backs")
	}

	// The admin fixes the key; the backoff is long now, so only the restart
	// can make the job run soon.
	start := time.Now()
	e.serveWith(func(string) string {
		return strings.Replace(good, "  poll: 100ms", "  poll: 100ms\n  retry_base: 1h\n  retry_max: 2h", 1)
	})
	e.eventually("the write-back done after the restart", func() bool {
		_, ok := e.shop.Meta(id, "_woozoom_registrations")
		return ok && job().State == rules.JobDone
	})
	t.Logf("taken up %s after the restart", time.Since(start).Round(time.Millisecond))
	if _, h := get(t, e.url+"/healthz"); !strings.Contains(h, `"status":"ok"`) {
		t.Errorf("/healthz after the fix: %s", h)
	}
}

// woozoom backup beside a serving woozoom that keeps taking deliveries.
func TestBackupWhileServing(t *testing.T) {
	e := startE2E(t)
	sender := &wootest.Sender{URL: e.url + "/webhooks/woocommerce", Secret: e.secret, WebhookID: 1, Source: e.shop.Home}
	send := func(i int) {
		body := []byte(`{"id":` + strconv.Itoa(1000+i) + `,"status":"processing","date_modified_gmt":"2026-11-23T10:00:00","line_items":[]}`)
		if code, err := sender.Send("order.updated", body); err != nil || code != http.StatusOK {
			t.Errorf("delivery %d: %d %v", i, code, err)
		}
	}
	for i := range 100 {
		send(i)
	}
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 100
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
				send(n)
				n++
			}
		}
	}()
	file := t.TempDir() + "/copy.db"
	out, code := e.cli("backup", file)
	close(stop)
	sent := <-done
	if code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	cp, err := store.Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	n, err := cp.CountDeliveries(context.Background())
	if err != nil || n < 100 || n > sent {
		t.Errorf("the copy holds %d deliveries (%v); %d were stored before the backup, %d by its end", n, err, 100, sent)
	}
	if out, code := e.cli("backup", file); code == 0 || !strings.Contains(out, "exists") {
		t.Errorf("backup over an existing file: exit %d\n%s", code, out)
	}
}

// Orders that came by webhook are not queued again by a reconcile pass,
// although the REST list shows them with a different body.
func TestReconcileAfterWebhooksQueuesNothing(t *testing.T) {
	e := startE2E(t)
	for i := range 3 {
		e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "W", Email: "w" + strconv.Itoa(i) + "@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	}
	e.shop.CreateOrder(wootest.Order{Status: "cancelled", Email: "c@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	e.eventually("every delivery, the echoes of woozoom's own writes too, is worked", func() bool {
		c := e.jobCounts()
		return e.zoomStatus(e.meeting, "w2@example.org") == "approved" && e.shop.Pending() == 0 && c[rules.JobQueued]+c[rules.JobRunning] == 0
	})
	out, code := e.cli("reconcile", "--since", "2000-01-01")
	if code != 0 || !strings.Contains(out, "4 orders read, 0 queued, 4 unchanged") {
		t.Errorf("reconcile after webhooks: exit %d\n%s", code, out)
	}
	// A change the webhook never brought is still found.
	e.shop.CreateOrder(wootest.Order{Status: "processing", Email: "late@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	out, _ = e.cli("reconcile", "--since", "2000-01-01")
	if !strings.Contains(out, "5 orders read, 1 queued, 4 unchanged") {
		t.Errorf("reconcile with one order not delivered:\n%s", out)
	}
}

// Zoom goes down: woozoom stops calling it, says so on /healthz, keeps the
// job's tries, and works the job as soon as Zoom answers a probe again.
func TestZoomOutagePausesCallsAndResumes(t *testing.T) {
	e := startE2E(t)
	e.serveWith(func(cfg string) string {
		return strings.Replace(cfg, "  poll: 100ms", "  poll: 100ms\n  retry_base: 20ms\n  retry_max: 40ms", 1)
	})
	e.zoom.SetDown(true)
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Uma", Email: "uma@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	body, _ := e.shop.OrderJSON(id)
	sender := &wootest.Sender{URL: e.url + "/webhooks/woocommerce", Secret: e.secret, WebhookID: 1, Source: e.shop.Home}
	if code, err := sender.Send("order.updated", body); err != nil || code != http.StatusOK {
		t.Fatalf("delivery: %d %v", code, err)
	}
	e.eventually("/healthz says Zoom does not answer", func() bool {
		_, h := get(t, e.url+"/healthz")
		return strings.Contains(h, `"degraded"`) && strings.Contains(h, "Zoom is not answering")
	})
	job := e.newestJob
	e.eventually("the job waits for Zoom", func() bool { return job().Wait == rules.WaitForService })
	calls, tries := len(e.zoom.Calls()), job().Attempts
	time.Sleep(1500 * time.Millisecond) // a quiet spell: no call, or one probe
	if n := len(e.zoom.Calls()) - calls; n > 2 {
		t.Errorf("%d calls reached Zoom in 1.5 s while it was known down, want at most one probe", n)
	}
	if j := job(); j.State != rules.JobQueued || j.Attempts != tries {
		t.Errorf("during the outage the job went from %d to %d tries (%s, %s); want queued, not charged", tries, j.Attempts, j.State, j.LastError)
	}
	e.zoom.SetDown(false)
	start := time.Now()
	e.eventually("the job done once Zoom answers", func() bool {
		return e.zoomStatus(e.meeting, "uma@example.org") == "approved" && job().State == rules.JobDone
	})
	t.Logf("registered %s after Zoom came back", time.Since(start).Round(10*time.Millisecond))
	if _, h := get(t, e.url+"/healthz"); strings.Contains(h, "degraded") {
		t.Errorf("/healthz after Zoom came back: %s", h)
	}
	if !strings.Contains(e.logs.String(), "Zoom answers again") {
		t.Error("the log does not say Zoom answers again")
	}
}

// newestJob reads the newest job from the database.
func (e *e2e) newestJob() rules.Job {
	e.t.Helper()
	db, err := store.Open(context.Background(), e.dbFile)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	jobs, err := db.Jobs(context.Background(), "", 1)
	if err != nil || len(jobs) == 0 {
		e.t.Fatalf("jobs: %v %v", jobs, err)
	}
	return jobs[0]
}

// A new order comes as order.created and order.updated, both showing the
// same view: it is written back once.
func TestOneWriteBackPerChange(t *testing.T) {
	e := startE2E(t)
	writes := e.shop.Writes()
	// Checkout creates the order and then saves it paid, before the shop's
	// queue runs: both deliveries are built then, showing the same view.
	id := e.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "Ida", Email: "ida@example.org", Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	if err := e.shop.SetStatus(id, "completed"); err != nil {
		t.Fatal(err)
	}
	e.eventually("both deliveries and the echo of the write are worked", func() bool {
		_, ok := e.shop.Meta(id, "_woozoom_registrations")
		if !ok || e.shop.Pending() != 0 {
			return false
		}
		c := e.jobCounts()
		return c[rules.JobQueued]+c[rules.JobRunning] == 0 && c[rules.JobDone] >= 3
	})
	topics := map[string]int{}
	for _, d := range e.shop.Deliveries() {
		if d.OrderID == id {
			topics[d.Topic]++
		}
	}
	if topics["order.created"] == 0 || topics["order.updated"] == 0 {
		t.Fatalf("deliveries %v: want both order.created and order.updated", topics)
	}
	if n := e.shop.Writes() - writes; n != 1 {
		t.Errorf("%d writes of the order's meta for one change, want 1", n)
	}
	if notes := e.shop.Notes(id); len(notes) != 1 {
		t.Errorf("%d notes, want 1: %+v", len(notes), notes)
	}
}

// jobCounts reads the number of jobs in each state from the database.
func (e *e2e) jobCounts() map[string]int {
	e.t.Helper()
	db, err := store.Open(context.Background(), e.dbFile)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	c, err := db.JobCounts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// serveWith stops the server, starts it again on the configuration as
// edit changes it, and returns the configuration as it was.
func (e *e2e) serveWith(edit func(string) string) (was string) {
	e.t.Helper()
	e.stop()
	b, err := os.ReadFile(e.cfgFile)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.cfgFile, []byte(edit(string(b))), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.serve()
	return string(b)
}

// The pace woozoom learns of Zoom's limits is kept in the database and a
// restart starts from it, instead of climbing again from 10 calls a second.
func TestLearnedPaceSurvivesARestart(t *testing.T) {
	e := startE2E(t)
	e.serveWith(func(cfg string) string { // no configured caps: the pace is learned
		return strings.Replace(cfg, "  light_per_second: 25\n  medium_per_second: 15\n", "", 1)
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	var emails []string
	for i := range 160 {
		email := fmt.Sprintf("pace%03d@example.org", i)
		emails = append(emails, email)
		e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "P", Email: email, Items: []wootest.Item{{ProductID: 11}}})
	}
	e.eventually("every attendee registered", func() bool {
		for _, m := range emails {
			if e.zoomStatus(e.webinar, m) != "approved" {
				return false
			}
		}
		return true
	})
	if code := e.stop(); code != 0 {
		t.Fatalf("server exited with %d", code)
	}
	db, err := store.Open(context.Background(), e.dbFile)
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := db.Pace(context.Background(), "acct-e2e")
	db.Close()
	if err != nil || !ok || p.LightLimit != 30 {
		t.Fatalf("kept pace %+v (%v, %v), want the Light limit of 30 the fake named", p, ok, err)
	}
	e.serveWith(func(cfg string) string { return cfg })
	if !strings.Contains(e.logs.String(), `Zoom's pace resumed where the last run left it" zoom_account=default light=29`) {
		t.Errorf("the restart did not start from the learned pace:\n%s", e.logs)
	}
}
