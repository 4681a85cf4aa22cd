package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/store/pgtest"
	"github.com/woozoom/woozoom/woo/wootest"
)

// While PostgreSQL is down, deliveries are refused with 503, /readyz says
// not ready, and nothing acknowledged is lost; when it is back, woozoom
// goes on by itself. WooCommerce does not send a failed delivery again: a
// reconcile pass reads the order of the outage from the shop.
func TestPostgreSQLOutageLosesNothing(t *testing.T) {
	c := pgtest.Own(t) // its own: this test stops the server
	e := startE2EOn(t, withPassword(c.NewDatabase(t)))
	sender := &wootest.Sender{URL: e.url + "/webhooks/woocommerce", Secret: e.secret, WebhookID: 1, Source: e.shop.Home}

	before := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ada", Email: "ada@example.org", Items: []wootest.Item{{ProductID: 10}}})
	e.eventually("the first order registered", func() bool { return e.zoomStatus(e.meeting, "ada@example.org") == "approved" })

	if err := c.Down(); err != nil {
		t.Fatal(err)
	}
	during := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Bea", Email: "bea@example.org", Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	e.shop.Flush() // the shop's delivery fails now, and is not sent again
	body, _ := e.shop.OrderJSON(during)
	if code, err := sender.Send("order.updated", body); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("a delivery while PostgreSQL is down answered %d (%v), want 503", code, err)
	}
	if code, err := getNoFail(e.url + "/readyz"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while PostgreSQL is down answered %d (%v), want 503", code, err)
	}

	if err := c.Up(); err != nil {
		t.Fatal(err)
	}
	e.eventually("/readyz answers 200 again", func() bool {
		code, _ := getNoFail(e.url + "/readyz")
		return code == http.StatusOK
	})
	var out bytes.Buffer
	if code := run(context.Background(), []string{"reconcile", "--config", e.cfgFile, "--since", "2000-01-01"}, &out, &out); code != 0 {
		t.Fatalf("reconcile after the outage: exit %d\n%s", code, out.String())
	}
	e.eventually("the order of the outage registered on both events", func() bool {
		return e.zoomStatus(e.meeting, "bea@example.org") == "approved" && e.zoomStatus(e.webinar, "bea@example.org") == "approved"
	})
	e.shop.SetStatus(before, "cancelled")
	e.eventually("the first order's registration cancelled after the outage", func() bool {
		return e.zoomStatus(e.meeting, "ada@example.org") == "denied"
	})
	for _, m := range []string{"ada@example.org", "bea@example.org"} {
		if n := e.zoom.Adds(e.meeting, m); n != 1 {
			t.Errorf("%s added %d times to the meeting, want once", m, n)
		}
	}
	e.eventually("the queue says the database answers again", func() bool {
		return strings.Contains(e.logs.String(), "the database answers again")
	})
	logs := e.logs.String()
	if !strings.Contains(logs, "the delivery could not be stored") {
		t.Error("the refused delivery is not in the log")
	}
	// The queue says it once, not at every poll of every loop.
	if n := strings.Count(logs, "the database does not answer; jobs wait"); n != 1 || strings.Count(logs, "the database answers again") != 1 {
		t.Errorf("the queue logged the outage %d times and its end %d times, want once each", n, strings.Count(logs, "the database answers again"))
	}
	if strings.Contains(logs, "job parked") {
		t.Error("a job was parked for a person because the database was down")
	}
}

// Processes sharing a database make one reconcile pass per tick between
// them, not one each: three started together make one first pass.
func TestReconcileOncePerTickAcrossProcesses(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			e := startE2EOn(t, engine.database(t))
			cfg, err := os.ReadFile(e.cfgFile)
			if err != nil {
				t.Fatal(err)
			}
			ticking := filepath.Join(t.TempDir(), "ticking.yaml")
			cfg = []byte(strings.Replace(string(cfg), "reconcile:\n  interval: 0", "reconcile:\n  interval: 1m", 1))
			if err := os.WriteFile(ticking, cfg, 0o600); err != nil {
				t.Fatal(err)
			}
			var stops []func() int
			for range 3 {
				_, stop, _ := startProcess(t, ticking)
				stops = append(stops, stop)
			}
			time.Sleep(2 * time.Second) // each made its first pass, or saw it taken
			for _, stop := range stops {
				if code := stop(); code != 0 {
					t.Fatalf("a process exited with %d", code)
				}
			}
			if passes := reconcilePasses(t, e.dbFile); len(passes) != 1 {
				t.Errorf("3 processes made %d reconcile passes in their first tick, want 1: %v", len(passes), passes)
			}
		})
	}
}

// reconcilePasses returns when each reconcile pass read the shop's orders,
// oldest first, from the audit log.
func reconcilePasses(t *testing.T, database string) []time.Time {
	t.Helper()
	db, err := store.Open(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls, err := db.Calls(context.Background(), store.CallFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for _, c := range calls {
		if c.Service == "woocommerce" && c.Method == http.MethodGet && strings.HasSuffix(c.Path, "/orders") && c.JobID == 0 {
			at = append(at, c.At)
		}
	}
	slices.SortFunc(at, time.Time.Compare)
	return at
}

// Replicas on PostgreSQL share the Zoom account's pace: three processes,
// each allowed 7 Light calls a second, keep together under the account's
// 10, which three unshared paces pass. The two that get no delivery work
// too: the one that does wakes them.
func TestReplicasShareTheZoomPace(t *testing.T) {
	e := startE2EOn(t, engines[1].database(t))
	e.zoom.SetRateLimits(10, 20)
	cfg, err := os.ReadFile(e.cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	paced := filepath.Join(t.TempDir(), "paced.yaml")
	// A long poll: the replicas that get no delivery hear of the work from
	// the one that does (LISTEN/NOTIFY).
	cfg = []byte(strings.Replace(string(cfg), "worker:\n  poll: 100ms", "worker:\n  poll: 1m", 1))
	if err := os.WriteFile(paced, []byte(strings.Replace(string(cfg), "light_per_second: 25", "light_per_second: 7", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	e.stop()
	var stops []func() int
	var logs []*syncBuffer
	for i := range 3 {
		url, stop, log := startProcess(t, paced)
		stops, logs = append(stops, stop), append(logs, log)
		if i == 0 {
			e.shop.SetWebhookURL(e.shop.Webhooks()[0].ID, url+"/webhooks/woocommerce")
		}
	}
	time.Sleep(time.Second) // the replicas' first look at the queue found nothing
	var emails []string
	for i := range 50 {
		email := fmt.Sprintf("paced%d@example.org", i)
		emails = append(emails, email)
		e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Pace", Email: email, Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	}
	deadline := time.Now().Add(60 * time.Second)
	for !allRegistered(e, emails) {
		if time.Now().After(deadline) {
			t.Fatal("not every attendee registered within 60 s")
		}
		e.shop.Flush()
		time.Sleep(100 * time.Millisecond)
	}
	for _, stop := range stops {
		if code := stop(); code != 0 {
			t.Fatalf("a replica exited with %d", code)
		}
	}
	for i, log := range logs {
		if n := strings.Count(log.String(), "msg=registered"); n < 10 {
			t.Errorf("replica %d made %d of the 100 registrations: the replicas did not work side by side", i, n)
		}
	}
	if n := e.zoom.OverPace(); n > 0 {
		t.Errorf("Zoom refused %d calls over its per-second limits: the replicas did not share the pace", n)
	}
}

func allRegistered(e *e2e, emails []string) bool {
	for _, m := range emails {
		if e.zoomStatus(e.meeting, m) != "approved" || e.zoomStatus(e.webinar, m) != "approved" {
			return false
		}
	}
	return true
}
