package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// woozoom plan shows what would be done for completed, cancelled and
// partially refunded orders, and for one woozoom never saw, without a call
// to Zoom or a write anywhere.
func TestPlanShowsWhatWouldHappenAndDoesNothing(t *testing.T) {
	e := startE2E(t)
	// Registered first: one attendee on the meeting (10) and the webinar (11).
	reg := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org",
		Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	refund := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ron", Email: "ron@example.org",
		Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}}})
	e.eventually("both orders registered", func() bool {
		return e.zoomStatus(e.meeting, "rita@example.org") == "approved" && e.zoomStatus(e.webinar, "ron@example.org") == "approved"
	})
	time.Sleep(1100 * time.Millisecond) // the shop's date_modified has second resolution
	// Changes the shop has not delivered yet.
	if err := e.shop.SetStatus(reg, "cancelled"); err != nil {
		t.Fatal(err)
	}
	if err := e.shop.Refund(refund, "webinar moved", map[int64]int{e.shop.LineItemIDs(refund)[1]: 1}); err != nil {
		t.Fatal(err)
	}
	fresh := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ada", LastName: "L", Email: "ada@example.org",
		Items: []wootest.Item{{ProductID: 10}}})

	zoomCalls, writes, deliveries := len(e.zoom.Calls()), e.shop.Writes(), e.deliveries()
	for _, tc := range []struct {
		order int64
		want  []string
	}{
		{fresh, []string{"is completed in the shop", "woozoom has not applied any view of this order yet",
			fmt.Sprintf("add on Zoom: Ada L <ada@example.org> to meeting %d", e.meeting),
			fmt.Sprintf("write back: the join link of ada@example.org on meeting %d", e.meeting)}},
		{reg, []string{"is cancelled in the shop", "woozoom last applied: completed",
			fmt.Sprintf("cancel on Zoom: rita@example.org on meeting %d", e.meeting),
			fmt.Sprintf("cancel on Zoom: rita@example.org on webinar %d", e.webinar),
			"write back: the order's join links would be removed"}},
		{refund, []string{fmt.Sprintf("cancel on Zoom: ron@example.org on webinar %d", e.webinar),
			fmt.Sprintf("write back: the join link of ron@example.org on meeting %d", e.meeting)}},
	} {
		out, code := e.cli("plan", "--order", fmt.Sprint(tc.order))
		if code != 0 {
			t.Fatalf("plan --order %d: exit %d\n%s", tc.order, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("plan --order %d lacks %q:\n%s", tc.order, w, out)
			}
		}
		if tc.order == refund && strings.Contains(out, "on meeting") && strings.Contains(out, "cancel on Zoom: ron@example.org on meeting") {
			t.Errorf("the partial refund would cancel the meeting ticket too:\n%s", out)
		}
	}
	if out, code := e.cli("plan", "--order", "999999"); code == 0 || !strings.Contains(out, "read order 999999 from the shop") {
		t.Errorf("plan of an order the shop does not have: exit %d\n%s", code, out)
	}
	for _, call := range e.zoom.Calls()[zoomCalls:] {
		t.Errorf("plan called Zoom: %s %s", call.Method, call.Path)
	}
	if e.shop.Writes() != writes || e.deliveries() != deliveries {
		t.Errorf("plan wrote: %d shop writes, %d deliveries stored", e.shop.Writes()-writes, e.deliveries()-deliveries)
	}
	// The calls it did make are in the audit log, under the order.
	if out, _ := e.cli("audit", "--order", fmt.Sprint(reg)); !strings.Contains(out, fmt.Sprintf("/v2/meetings/%d/registrants", e.meeting)) {
		t.Errorf("audit --order %d:\n%s", reg, out)
	}
}

const consolePassword = "e2e-console-password"

// chromium finds a Chrome or Chromium where scripts/tools.sh looks.
func chromium(t *testing.T) string {
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "/Applications/Chromium.app/Contents/MacOS/Chromium"} {
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	t.Fatal("no Chrome or Chromium: run make tools (it installs Debian's chromium as root, or says what to install)")
	return ""
}

// The console in a real browser: sign in, find an order by email, see why
// its job is parked, map the product to a working meeting, retry the job
// from "Needs a person", and see the attendee registered. With
// WOOZOOM_SCREENSHOTS=DIR it saves the README's screenshots there.
func TestConsoleInABrowser(t *testing.T) {
	e := startE2E(t)
	e.serveWith(func(cfg string) string {
		return cfg + "admin:\n  password: " + consolePassword + "\n"
	})
	for _, w := range e.shop.Webhooks() { // the server listens on a new port
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	gone := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Deleted tour", HostEmail: "host@shop.example", Duration: 60})
	if out, code := e.cli("map", "add", "--product", "12", "--meeting", fmt.Sprint(gone)); code != 0 {
		t.Fatal(out)
	}
	e.zoom.DeleteMeeting(gone)
	fresh := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Tour, new date", HostEmail: "host@shop.example",
		StartTime: time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC), Duration: 60})
	e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ida", Email: "ida@example.org", Items: []wootest.Item{{ProductID: 10}}})
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Pia", LastName: "Ramos", Email: "pia@example.org", Items: []wootest.Item{{ProductID: 12}}})
	e.eventually("the job parked with Zoom's 3001", func() bool {
		out, _ := e.cli("jobs", "list", "--failed")
		return strings.Contains(out, "3001")
	})
	jobs := e.jobsOf(id)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	shots := os.Getenv("WOOZOOM_SCREENSHOTS")
	shoot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Signed out, the console sends the browser to its sign-in page.
	do("open the console", chromedp.Navigate(e.url+"/admin/orders"), chromedp.WaitVisible(css(`input[name=password]`)))
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || !strings.Contains(title, "Sign in") {
		t.Errorf("signed out, the browser showed %q (%v)", title, err)
	}
	do("sign in",
		chromedp.SendKeys(css(`input[name=password]`), consolePassword),
		chromedp.Submit(css(`form.login`)),
		chromedp.WaitVisible(css(`#jobs-failed`)))
	if got := text(`#jobs-failed`); got != "1" {
		t.Errorf("overview: %q jobs need a person, want 1", got)
	}
	shoot("console-overview.png")

	// Find the order by email and open it.
	do("find the order",
		chromedp.Click(css(`nav a[href$="/admin/orders"]`)),
		chromedp.WaitVisible(css(`input[name=q]`)),
		chromedp.SendKeys(css(`input[name=q]`), "pia@example"),
		chromedp.Submit(css(`form.search`)),
		chromedp.WaitVisible(css(`#found`)),
		chromedp.Click(css(fmt.Sprintf(`#found a[href$="/admin/orders/%d"]`, id))),
		chromedp.WaitVisible(css(`#jobs`)))
	if got := text(`#jobs`); !strings.Contains(got, "3001") || !strings.Contains(got, "failed") {
		t.Errorf("the order's jobs do not show why it is parked:\n%s", got)
	}

	// Map the product to the new meeting: the old mapping goes, the new one
	// is read from Zoom first.
	do("remap the product",
		chromedp.Click(css(`nav a[href$="/admin/events"]`)),
		chromedp.WaitVisible(css(fmt.Sprintf(`#remove-12-%d button`, gone))),
		chromedp.Click(css(fmt.Sprintf(`#remove-12-%d button`, gone))),
		chromedp.WaitVisible(css(`.flash`)),
		chromedp.SendKeys(css(`form.add input[name=product]`), "12"),
		chromedp.SendKeys(css(`form.add input[name=target]`), fmt.Sprint(fresh)),
		chromedp.Click(css(`form.add button`)),
		chromedp.WaitVisible(css(fmt.Sprintf(`#remove-12-%d`, fresh))))
	if got := text(`.flash`); !strings.Contains(got, "Tour, new date") {
		t.Errorf("the new mapping was not read from Zoom: %q", got)
	}
	if got := text(`#mappings`); !strings.Contains(got, "Tour, new date") || !strings.Contains(got, "2026-12-10 18:00:00 UTC") {
		t.Errorf("the Events page lacks the new meeting's topic and start:\n%s", got)
	}

	// Retry the parked job from "Needs a person", then see it done.
	do("retry",
		chromedp.Click(css(`nav a[href$="/admin/attention"]`)),
		chromedp.WaitVisible(css(fmt.Sprintf(`#retry-%d button`, jobs[0]))),
		chromedp.Click(css(fmt.Sprintf(`#retry-%d button`, jobs[0]))),
		chromedp.WaitVisible(css(`.flash`)))
	if got := text(`.flash`); !strings.Contains(got, "runs again now") {
		t.Errorf("after retry the page says %q", got)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		do("open the order", chromedp.Navigate(fmt.Sprintf("%s/admin/orders/%d", e.url, id)), chromedp.WaitVisible(css(`#jobs`)))
		// Done, and the audit log (written once a second) shows the add.
		if att := text(`#attendees`); strings.Contains(att, "approved") && strings.Contains(att, "join link") &&
			!strings.Contains(text(`#jobs`), "failed") && strings.Contains(text(`table.calls`), "201") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried job is not done:\n%s\n%s", text(`#jobs`), text(`#attendees`))
		}
		time.Sleep(300 * time.Millisecond)
	}
	do("dry run", chromedp.Click(css(`#plan`)), chromedp.WaitVisible(css(`#plan-result`)))
	shoot("console-order.png")
	if got := text(`#plan-result`); !strings.Contains(got, "Zoom already matches") {
		t.Errorf("dry run after the retry: %q", got)
	}
	if got := e.zoomStatus(fresh, "pia@example.org"); got != "approved" {
		t.Errorf("Zoom holds %s for the attendee, want approved", got)
	}
}

// orderJobs reads an order's jobs from the database.
func (e *e2e) orderJobs(orderID int64) []rules.Job {
	e.t.Helper()
	db, err := store.Open(context.Background(), e.dbFile)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	jobs, err := db.JobsOfOrder(context.Background(), orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	return jobs
}

// jobsOf returns the ids of an order's parked jobs.
func (e *e2e) jobsOf(orderID int64) []int64 {
	e.t.Helper()
	jobs := e.orderJobs(orderID)
	var ids []int64
	for _, j := range jobs {
		if j.State == rules.JobFailed {
			ids = append(ids, j.ID)
		}
	}
	if len(ids) == 0 {
		e.t.Fatalf("order %d has no parked job: %+v", orderID, jobs)
	}
	return ids
}
