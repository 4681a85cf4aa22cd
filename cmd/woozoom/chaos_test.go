package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/store/pgtest"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// The chaos harness: the real binary, a file database, the fake Zoom (two
// accounts: the webinar is the second's) and two fake shops (both sell the
// meeting and the webinar, with the same order ids); a random stream of orders, status changes, refunds, duplicate and
// late deliveries and injected faults; SIGKILL at random moments and a
// restart each time. At the end Zoom must hold exactly what the orders' final
// states require. make test runs a short stream; make chaos the full one:
//
//	WOOZOOM_CHAOS_ORDERS=2000 WOOZOOM_CHAOS_KILLS=10 go test -run TestChaos -v ./cmd/woozoom
func TestChaos(t *testing.T) {
	chaos(t, envInt("WOOZOOM_CHAOS_ORDERS", 120), envInt("WOOZOOM_CHAOS_PROCS", 1), nil)
}

// TestChaosTwoProcesses runs the harness with two woozoom processes on one
// database, each killed and restarted at random; the shop delivers every
// webhook to both.
func TestChaosTwoProcesses(t *testing.T) {
	chaos(t, envInt("WOOZOOM_CHAOS_ORDERS", 120)*2/3, 2, nil)
}

// TestClusterChaos runs the harness on a cluster: three replicas on one
// PostgreSQL behind a round-robin proxy, each killed and restarted at
// random, and PostgreSQL itself restarted once in the stream. make
// cluster-chaos runs a long stream:
//
//	WOOZOOM_CHAOS_ORDERS=1500 WOOZOOM_CHAOS_KILLS=10 go test -run TestClusterChaos -v ./cmd/woozoom
func TestClusterChaos(t *testing.T) {
	c := pgtest.Own(t) // its own: the harness restarts it
	chaos(t, envInt("WOOZOOM_CHAOS_ORDERS", 80), 3, c)
}

// chaos runs the harness with procs processes on a SQLite file, or, given
// a cluster, on a database of it behind a proxy.
func chaos(t *testing.T, nOrders, procs int, cluster *pgtest.Cluster) {
	kills := envInt("WOOZOOM_CHAOS_KILLS", 3)
	seed := uint64(envInt("WOOZOOM_CHAOS_SEED", int(time.Now().UnixNano()%1e6)))
	t.Logf("chaos seed %d, %d processes, PostgreSQL %v (WOOZOOM_CHAOS_SEED=%d reproduces the stream)", seed, procs, cluster != nil, seed)
	r := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()

	bin := filepath.Join(dir, "woozoom")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	creds := zoomtest.Credentials{AccountID: "acct-chaos", ClientID: "client-chaos", ClientSecret: "zoom-secret-chaos-4242"}
	fz := zoomtest.New(creds, zoomtest.ProLimits)
	// A second Zoom account holds the webinar, at the same address, with
	// its own per-second limits.
	fw := zoomtest.New(zoomtest.Credentials{AccountID: "acct-chaos-west", ClientID: "client-chaos-west", ClientSecret: "zoom-secret-chaos-west"}, zoomtest.ProLimits)
	zsrv := httptest.NewServer(zoomtest.NewCloud(fz, fw))
	defer zsrv.Close()
	fz.AddUser(zoomtest.User{Email: "host@shop.example", Type: 2})
	fw.AddUser(zoomtest.User{Email: "host@west.example", Type: 2})
	meeting := fz.CreateMeeting(zoomtest.Meeting{Topic: "Chaos tour", HostEmail: "host@shop.example", Duration: 60, Password: "p"})
	webinar := fw.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Chaos webinar", HostEmail: "host@west.example", Duration: 60})
	accounts := []*zoomtest.Fake{fz, fw}

	shop := wootest.NewShop("ck_chaos", "cs_chaos_secret")
	ca := filepath.Join(dir, "ca.pem")
	ssrv := serveShop(t, shop, ca)
	// A product whose meeting woozoom makes, renamed, moved, trashed and
	// restored during the stream.
	course := shop.CreateProduct(wootest.Product{Name: "Chaos course", Meta: fooEvent("2026-12-15", "3", "00", "4")})
	// A second shop sells the meeting and the webinar too; its order ids
	// are the first shop's.
	academy := wootest.NewShop("ck_academy", "cs_academy_secret")
	aca := filepath.Join(dir, "academy-ca.pem")
	asrv := serveShop(t, academy, aca)
	shops := []*chaosShop{
		{name: "museum", shop: shop, srv: ssrv, key: "ck_chaos", keySecret: "cs_chaos_secret", secret: "whsec-chaos-1", products: []int64{10, 11, 99, course}},
		{name: "academy", shop: academy, srv: asrv, key: "ck_academy", keySecret: "cs_academy_secret", secret: "whsec-chaos-2", products: []int64{10, 11, 99}},
	}

	ports := make([]int, procs)
	for i := range ports {
		ports[i] = freePort(t)
	}
	port := ports[0]
	dbFile := filepath.Join(dir, "woozoom.db")
	reconcileEvery := time.Duration(0) // off: one pass by the admin at the end
	if cluster != nil {
		dbFile = cluster.NewDatabase(t)
		// The replicas take turns at the periodic pass: one per tick.
		reconcileEvery = 10 * time.Second
	}
	cfgFile := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
database: %s
log_format: json
woocommerce: {timeout: 5s}
shops:
  - name: museum
    url: %s
    consumer_key: ck_chaos
    consumer_secret: cs_chaos_secret
    webhook_secret: whsec-chaos-1
    ca_file: %s
    events:
      - {product_id: 10, meeting_id: %d}
      - {product_id: 11, webinar_id: %d, zoom_account: west}
      - {product_id: %d, create: meeting, host: host@shop.example}
  - name: academy
    url: %s
    consumer_key: ck_academy
    consumer_secret: cs_academy_secret
    webhook_secret: whsec-chaos-2
    ca_file: %s
    events:
      - {product_id: 10, meeting_id: %d}
      - {product_id: 11, webinar_id: %d, zoom_account: west}
zoom: {api_url: %s/v2, oauth_url: %s/oauth/token, timeout: 2s, light_per_second: 25, medium_per_second: 15}
zoom_accounts:
  - {name: east, account_id: acct-chaos, client_id: client-chaos, client_secret: zoom-secret-chaos-4242, webhook_secret_token: east-hook}
  - {name: west, account_id: acct-chaos-west, client_id: client-chaos-west, client_secret: zoom-secret-chaos-west, webhook_secret_token: west-hook}
worker: {workers: 8, poll: 100ms, grace: 1s, lease: 3s, retry_base: 200ms, retry_max: 2s}
reconcile: {interval: %s}
recordings: share
`, port, dbFile, ssrv.URL, ca, meeting, webinar, course, asrv.URL, aca, meeting, webinar, zsrv.URL, zsrv.URL, reconcileEvery)), 0o600)
	bases := make([]string, procs)
	for i, p := range ports {
		bases[i] = fmt.Sprintf("http://127.0.0.1:%d", p)
	}
	// The shop delivers to every process, or, on a cluster, to the proxy
	// in front of them.
	deliverTo := bases
	if cluster != nil {
		proxy := httptest.NewServer(roundRobin(bases))
		defer proxy.Close()
		deliverTo = []string{proxy.URL}
	}
	for _, b := range deliverTo {
		for _, cs := range shops {
			url := b + "/webhooks/woocommerce/" + cs.name
			cs.shop.AddWebhook(url, cs.secret, "order.created", "order.updated", "order.deleted", "order.restored")
			cs.senders = append(cs.senders, &wootest.Sender{URL: url, Secret: cs.secret, WebhookID: 1, Source: cs.shop.Home})
		}
		shop.AddWebhook(b+"/webhooks/woocommerce/museum", "whsec-chaos-1", "product.created", "product.updated", "product.deleted", "product.restored")
	}
	base := bases[0]

	logPath := filepath.Join(dir, "woozoom.log")
	if p := os.Getenv("WOOZOOM_CHAOS_LOG"); p != "" {
		logPath = p
	}
	logFile, _ := os.Create(logPath)
	defer logFile.Close()
	running := make([]*exec.Cmd, procs)
	start := func(i int) {
		proc := exec.Command(bin, "serve", "--config", cfgFile)
		proc.Env = append(os.Environ(), fmt.Sprintf("WOOZOOM_LISTEN=127.0.0.1:%d", ports[i]))
		proc.Stdout, proc.Stderr = logFile, logFile
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		running[i] = proc
		waitHealthy(t, bases[i])
	}
	for i := range running {
		start(i)
	}
	defer func() {
		for _, proc := range running {
			if proc != nil && proc.ProcessState == nil {
				proc.Process.Signal(syscall.SIGTERM)
				proc.Wait()
			}
		}
	}()

	// The shop's Action Scheduler runs every 100 ms, as long as the stream.
	stopRunner := make(chan struct{})
	var runner sync.WaitGroup
	for _, cs := range shops {
		runner.Go(func() { cs.shop.Run(100*time.Millisecond, stopRunner) })
	}

	// The stream: each order gets a few random steps; buyers share emails now
	// and then. Kills and faults fall at random steps.
	steps := nOrders * 3
	killAt := map[int]bool{}
	for len(killAt) < kills {
		killAt[1+r.IntN(steps-1)] = true
	}
	pool := make([]string, nOrders*2)
	for i := range pool {
		pool[i] = fmt.Sprintf("buyer%04d@example.org", i)
	}
	var ids []chaosOrder
	var snapshots []chaosView
	faults, dupes, killed, productChanges, dbRestarts := 0, 0, 0, 0, 0
	restartDBAt := -1
	if cluster != nil {
		restartDBAt = steps/4 + r.IntN(steps/2)
	}
	trashed := false
	setCourse := func(change func(*wootest.Product)) {
		productChanges++
		shop.SetProduct(course, change)
	}
	// Faults that last a while open after 1 to 3 s, then every 5 to 15 s,
	// for as long as woozoom has work, not just while the (much faster)
	// stream runs.
	stopWindows := make(chan struct{})
	var windows sync.WaitGroup
	windowFaults := 0
	windows.Go(func() {
		wr := rand.New(rand.NewPCG(seed, 11))
		wait := time.Duration(1000+wr.IntN(2000)) * time.Millisecond
		for {
			select {
			case <-stopWindows:
				return
			case <-time.After(wait):
			}
			wait = time.Duration(5000+wr.IntN(10000)) * time.Millisecond
			windowFaults++
			// Each kind in turn, so even a short run sees each of them; the
			// daily limit without Retry-After only once.
			switch kind := windowFaults % 2; {
			case windowFaults == 3:
				// The account's daily limit without Retry-After: the jobs
				// it meets wait for 00:00 UTC, checked at the end.
				fz.ExhaustDaily(time.Now().Add(2*time.Second), false)
			case kind == 1:
				// For 2 s, Zoom answers after woozoom's 2 s timeout.
				fz.SetLatency(3 * time.Second)
				time.Sleep(2 * time.Second)
				fz.SetLatency(0)
			default:
				// The account's daily limit, lifted at the instant its
				// Retry-After names.
				fz.ExhaustDaily(time.Now().Add(2*time.Second).UTC().Truncate(time.Second), true)
			}
		}
	})
	for step := 0; step < steps; step++ {
		switch {
		case len(ids) < nOrders && (step%3 == 0 || len(ids) == 0):
			cs := shops[r.IntN(len(shops))]
			var items []wootest.Item
			for _, p := range cs.products {
				if r.IntN(2) == 0 {
					items = append(items, wootest.Item{ProductID: p, Quantity: 1 + r.IntN(2)})
				}
			}
			if len(items) == 0 {
				items = []wootest.Item{{ProductID: 10, Quantity: 1}}
			}
			ids = append(ids, chaosOrder{cs, cs.shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "Buyer", LastName: strconv.Itoa(step),
				Email: pool[r.IntN(len(pool))], Items: items})})
		default:
			o := ids[r.IntN(len(ids))]
			shop, id := o.s.shop, o.id
			switch x := r.IntN(10); {
			case x < 5:
				shop.SetStatus(id, "completed")
			case x < 7:
				shop.SetStatus(id, []string{"cancelled", "refunded"}[r.IntN(2)])
			case x < 8:
				shop.SetStatus(id, []string{"on-hold", "processing"}[r.IntN(2)])
			default:
				// Refunds only of completed orders: under any other status a
				// refund changes nothing, by the rules.
				body, _ := shop.OrderJSON(id)
				if o, _ := woo.ParseOrder(body); o.Status == "completed" {
					lines := shop.LineItemIDs(id)
					shop.Refund(id, "chaos", map[int64]int{lines[r.IntN(len(lines))]: 1})
				}
			}
			if body, ok := shop.OrderJSON(id); ok {
				snapshots = append(snapshots, chaosView{o, body})
			}
		}
		// The course changes now and then: renamed, moved, saved unchanged,
		// trashed or restored.
		if r.IntN(15) == 0 {
			switch x := r.IntN(4); {
			case x == 0:
				name := fmt.Sprintf("Chaos course %d", step)
				setCourse(func(p *wootest.Product) { p.Name = name })
			case x == 1:
				hour := strconv.Itoa(1 + r.IntN(9))
				setCourse(func(p *wootest.Product) { setMeta(p, "WooCommerceEventsHour", hour) })
			case x == 2:
				setCourse(func(*wootest.Product) {})
			default:
				trashed = !trashed
				status := map[bool]string{true: "trash", false: "publish"}[trashed]
				setCourse(func(p *wootest.Product) { p.Status = status })
			}
		}
		// A repeated or late delivery of an older view.
		if len(snapshots) > 0 && r.IntN(5) == 0 {
			old := snapshots[r.IntN(len(snapshots))]
			if code, err := old.s.senders[r.IntN(len(old.s.senders))].Send("order.updated", old.body); err == nil && code == 200 {
				dupes++
			}
		}
		if r.IntN(25) == 0 {
			faults++
			fz := accounts[r.IntN(len(accounts))]
			switch x := r.IntN(7); {
			case x == 0:
				fz.FailNext(2, []int{500, 503}[r.IntN(2)], "")
			case x == 1:
				fz.FailNext(2, 429, "1")
			case x == 2:
				fz.ExpireTokens()
			case x == 3:
				fz.FailTokens(2)
			case x == 4:
				fz.ResetNext(1)
			case x == 5:
				shops[r.IntN(len(shops))].shop.FailNext(2, 500)
			case x == 6:
				// Zoom does the work and the answer is lost.
				fz.LoseNext(1)
			}
		}
		if step == restartDBAt {
			// PostgreSQL goes away for a second: deliveries get 503, jobs
			// wait, and everything goes on when it is back.
			if err := cluster.Down(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(500+r.IntN(1000)) * time.Millisecond)
			if err := cluster.Up(); err != nil {
				t.Fatal(err)
			}
			dbRestarts++
			activateWebhooks(shops)
		}
		if killAt[step] {
			i := r.IntN(procs)
			running[i].Process.Signal(syscall.SIGKILL)
			running[i].Wait()
			killed++
			time.Sleep(time.Duration(r.IntN(400)) * time.Millisecond)
			start(i)
			activateWebhooks(shops)
		}
		if r.IntN(4) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if trashed {
		setCourse(func(p *wootest.Product) { p.Status = "publish" })
	}
	// Every order ends in a status that decides: WooCommerce may coalesce a
	// completed phase away, so an order left on-hold has no observable
	// outcome to check.
	for _, o := range ids {
		body, _ := o.s.shop.OrderJSON(o.id)
		if v, _ := woo.ParseOrder(body); v.Status != "completed" && v.Status != "cancelled" && v.Status != "refunded" {
			o.s.shop.SetStatus(o.id, []string{"completed", "cancelled"}[r.IntN(2)])
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stopRunner)
	runner.Wait()
	names := make([]string, len(shops))
	for i, cs := range shops {
		cs.shop.Flush()
		names[i] = cs.name
	}
	waitOnlyWaiting(t, dbFile, names, 3*time.Minute)
	close(stopWindows)
	windows.Wait()
	faults += windowFaults

	// WooCommerce may have disabled the webhook while woozoom was down; the
	// admin's reconciliation pass picks up what was never delivered.
	// The faults clear; one may still be in flight: run it again, as an
	// admin would after a clear error.
	for _, cs := range shops {
		cs.shop.ClearFaults()
		for try := 1; ; try++ {
			out, err := exec.Command(bin, "reconcile", "--config", cfgFile, "--shop", cs.name, "--since", "2000-01-01").CombinedOutput()
			if err == nil {
				break
			}
			if try == 5 {
				t.Fatalf("reconcile of %s: %v\n%s", cs.name, err, out)
			}
		}
	}
	// Jobs that met a daily limit without Retry-After wait for 00:00 UTC.
	// Check they do, and no earlier; then let the day turn for them, as
	// the admin command does.
	heldForDay := waitOnlyWaiting(t, dbFile, names, 3*time.Minute)
	for _, cs := range shops {
		if out, err := exec.Command(bin, "jobs", "retry", "--waiting", "--config", cfgFile, "--shop", cs.name).CombinedOutput(); err != nil {
			t.Fatalf("jobs retry --waiting --shop %s: %v\n%s", cs.name, err, out)
		}
	}
	waitDrained(t, base, 3*time.Minute)

	// The meeting and the webinar end, each account's event to its path;
	// Zoom's reports come a second or two later, while a replica is killed
	// and faults go on.
	fz.SetWebhook(deliverTo[0]+"/webhooks/zoom/east", "east-hook")
	fw.SetWebhook(deliverTo[0]+"/webhooks/zoom/west", "west-hook")
	ended := map[int64]chaosEnded{}
	for _, e := range []struct {
		f      *zoomtest.Fake
		target int64
	}{{fz, meeting}, {fw, webinar}} {
		uuid := fmt.Sprintf("/chaos//%d==", e.target)
		parts, minutes := chaosParticipants(r, e.f, e.target)
		if code, err := e.f.EndMeeting(e.target, uuid, time.Duration(1000+r.IntN(1000))*time.Millisecond, parts...); err != nil || code != 200 {
			t.Fatalf("the end of %d answered %d, %v", e.target, code, err)
		}
		ended[e.target] = chaosEnded{uuid: uuid, minutes: minutes}
	}
	victim := r.IntN(procs)
	running[victim].Process.Signal(syscall.SIGKILL)
	running[victim].Wait()
	start(victim)
	killed++
	time.Sleep(3 * time.Second) // the reports are ready; retries are due
	waitDrained(t, base, 3*time.Minute)
	// Then the recordings complete (recordings: share): the replay goes to
	// every paid attendee, amid another kill.
	replays := map[int64]string{}
	for _, e := range []struct {
		f      *zoomtest.Fake
		target int64
	}{{fz, meeting}, {fw, webinar}} {
		replays[e.target] = fmt.Sprintf("https://zoom.us/rec/share/chaos-%d", e.target)
		if code, err := e.f.CompleteRecording(e.target, ended[e.target].uuid, replays[e.target], "pw"); err != nil || code != 200 {
			t.Fatalf("the recording of %d answered %d, %v", e.target, code, err)
		}
	}
	victim = r.IntN(procs)
	running[victim].Process.Signal(syscall.SIGKILL)
	running[victim].Wait()
	start(victim)
	killed++
	activateWebhooks(shops)
	waitDrained(t, base, 3*time.Minute)
	for _, proc := range running {
		proc.Process.Signal(syscall.SIGTERM)
		if err := proc.Wait(); err != nil {
			t.Errorf("woozoom did not stop cleanly on SIGTERM: %v", err)
		}
	}

	// The course's meeting: exactly one, matching the product as it ends.
	db, err := store.Open(context.Background(), dbFile)
	if err != nil {
		t.Fatal(err)
	}
	var courseMeeting int64
	madeRows, err := db.Shop("museum").MadeMeetings(context.Background(), course)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range madeRows {
		if m.State == rules.MadeDone {
			courseMeeting = m.Target.ID
		}
	}
	meetingsMissing, meetingsExtra := 0, 0
	if spec, ok := fz.Meeting(courseMeeting); !ok || courseMeeting == 0 {
		meetingsMissing++
	} else if p, _ := shop.Product(course); spec.Topic != p.Name || !spec.StartTime.Equal(courseStart(t, p)) {
		t.Logf("the course's meeting %d is %q at %s; the product is %q at %s", courseMeeting, spec.Topic, spec.StartTime, p.Name, courseStart(t, p))
		meetingsMissing++
	}
	for _, id := range fz.MeetingsOf("host@shop.example") {
		if id != meeting && id != webinar && id != courseMeeting {
			meetingsExtra++
		}
	}
	overHostLimit := fz.HostLimitRefused()

	// What the orders' latest deciding states require.
	want := map[string]bool{}
	wantWriteBack := map[chaosOrder]bool{}
	wantAttendance := map[chaosAttendee]bool{} // the paid attendees of the meeting and the webinar
	for _, ref := range ids {
		body, _ := ref.s.shop.OrderJSON(ref.id)
		o, err := woo.ParseOrder(body)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != rules.StatusCompleted {
			continue
		}
		refunded := refundedUnits(t, ref.s, ref.id)
		for _, it := range o.Items {
			target := map[int64]int64{10: meeting, 11: webinar, course: courseMeeting}[it.ProductID]
			if target == 0 || refunded[it.ID] >= it.Quantity {
				continue
			}
			want[fmt.Sprintf("%d|%s", target, rules.NormalizeEmail(o.Billing.Email))] = true
			wantWriteBack[chaosOrder{s: ref.s, id: ref.id}] = true
			if target != courseMeeting {
				wantAttendance[chaosAttendee{ref.s.name, ref.id, target, rules.NormalizeEmail(o.Billing.Email)}] = true
			}
		}
	}
	var missing, extra, wrong []string
	held := map[string]string{}
	zoomOf := map[int64]*zoomtest.Fake{meeting: fz, webinar: fw, courseMeeting: fz}
	for target, fz := range zoomOf {
		for _, reg := range fz.Registrants(target) {
			held[fmt.Sprintf("%d|%s", target, strings.ToLower(reg.Email))] = reg.Status
		}
	}
	for k := range want {
		switch held[k] {
		case "approved":
		case "denied":
			wrong = append(wrong, k)
		default:
			missing = append(missing, k)
		}
	}
	for k, s := range held {
		if s == "approved" && !want[k] {
			extra = append(extra, k)
		}
	}
	// Summed over the accounts.
	overLimit, overPace, timedOut, dailyRefused := 0, 0, 0, 0
	for _, f := range accounts {
		overLimit += f.OverLimit() // daily per-registrant limits: woozoom must never reach them
		// Calls over Zoom's per-second limits: the replicas of a cluster
		// share each account's pace and must never make them; processes
		// on SQLite do not share it.
		overPace += f.OverPace()
		timedOut += f.TimedOut()
		dailyRefused += f.DailyRefused()
	}
	// Every add Zoom counted beyond the first for a seat spent one of its 3
	// a day: an unanswered add must be looked up, not repeated.
	repeatAdds := 0
	var repeated []string
	for target, fz := range zoomOf {
		for _, reg := range fz.Registrants(target) {
			if n := fz.Adds(target, reg.Email); n > 1 {
				repeatAdds += n - 1
				repeated = append(repeated, fmt.Sprintf("%d|%s", target, reg.Email))
			}
		}
	}
	var noWriteBack []string
	for o := range wantWriteBack {
		if _, ok := o.s.shop.Meta(o.id, orders.MetaKey); !ok {
			noWriteBack = append(noWriteBack, fmt.Sprintf("%s/%d", o.s.name, o.id))
		}
	}
	lost, accepted, overlapping, disabled := 0, 0, 0, 0
	replayMissing, replayToUnpaid := checkReplays(t, ids, map[string]int64{"meeting": meeting, "webinar": webinar}, replays, wantAttendance)
	attendanceMissing, attendanceWrong := checkAttendanceOnOrders(t, ids, ended, wantAttendance)
	var failedJobs []rules.Job
	for _, cs := range shops {
		sdb := db.Shop(cs.name)
		for _, d := range cs.shop.Deliveries() {
			if d.Status >= 200 && d.Status < 300 {
				accepted++
				if ok, _ := sdb.HasDelivery(context.Background(), d.DeliveryID, d.Body); !ok {
					lost++
				}
			}
		}
		failed, _ := sdb.Jobs(context.Background(), rules.JobFailed, 10)
		failedJobs = append(failedJobs, failed...)
		overlapping += overlappingJobs(t, sdb)
		for _, tg := range []rules.Target{{Kind: rules.Meeting, ID: meeting}, {Kind: rules.Webinar, ID: webinar}} {
			m, w := checkAttendance(t, sdb, cs.name, tg, ended[tg.ID], wantAttendance)
			attendanceMissing, attendanceWrong = attendanceMissing+m, attendanceWrong+w
		}
		for _, w := range cs.shop.Webhooks() {
			if w.Status != "active" {
				disabled++
			}
		}
	}
	db.Close()
	passes, extraPasses := reconcileTicks(t, logFile.Name(), reconcileEvery)

	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(wrong)
	fmt.Printf("chaos: orders=%d deliveries=%d duplicates=%d kills=%d db_restarts=%d faults=%d product_changes=%d reconcile_passes=%d extra_reconcile_passes_in_a_tick=%d missing=%d extra=%d wrong=%d over_limit=%d over_pace=%d overlapping_jobs_of_one_key=%d repeat_adds=%d no_write_back=%d lost_deliveries=%d parked_jobs=%d meetings_missing=%d meetings_extra=%d over_host_limit=%d paid_attendees_at_the_end=%d attendance_missing=%d attendance_wrong=%d replay_missing=%d replay_to_unpaid=%d timeouts=%d daily_refused=%d held_for_day=%d webhook_disabled_at_end=%d\n",
		len(ids), accepted, dupes, killed, dbRestarts, faults, productChanges, passes, extraPasses, len(missing), len(extra), len(wrong), overLimit, overPace, overlapping, repeatAdds, len(noWriteBack), lost, len(failedJobs),
		meetingsMissing, meetingsExtra, overHostLimit, len(wantAttendance), attendanceMissing, attendanceWrong, replayMissing, replayToUnpaid, timedOut, dailyRefused, heldForDay, disabled)
	if cluster == nil {
		overPace = 0
	}
	if len(missing)+len(extra)+len(wrong)+overLimit+overPace+overlapping+extraPasses+repeatAdds+len(noWriteBack)+lost+len(failedJobs)+meetingsMissing+meetingsExtra+overHostLimit+attendanceMissing+attendanceWrong+replayMissing+replayToUnpaid > 0 {
		log, _ := os.ReadFile(logFile.Name())
		tail := string(log)
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		if keep := os.Getenv("WOOZOOM_CHAOS_KEEP"); keep != "" && cluster == nil {
			b, _ := os.ReadFile(dbFile)
			os.WriteFile(filepath.Join(keep, "woozoom.db"), b, 0o600)
			for o := range wantWriteBack {
				body, _ := o.s.shop.OrderJSON(o.id)
				os.WriteFile(filepath.Join(keep, fmt.Sprintf("order-%s-%d.json", o.s.name, o.id)), body, 0o600)
			}
		}
		t.Errorf("seed %d: missing %v, extra %v, wrong %v, added more than once %v, no write-back %v, parked %v\nlog tail:\n%s", seed, missing, extra, wrong, repeated, noWriteBack, failedJobs, tail)
	}
}

// setMeta sets a product meta value, as the shop's editor does.
func setMeta(p *wootest.Product, key string, value any) {
	for i := range p.Meta {
		if p.Meta[i].Key == key {
			p.Meta[i].Value = value
			return
		}
	}
	p.Meta = append(p.Meta, wootest.Meta{Key: key, Value: value})
}

// courseStart is when a FooEvents product of the harness starts (p.m.,
// Berlin).
func courseStart(t *testing.T, p wootest.Product) time.Time {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	hour := 0
	for _, m := range p.Meta {
		if m.Key == "WooCommerceEventsHour" {
			hour, _ = strconv.Atoi(fmt.Sprint(m.Value))
		}
	}
	return time.Date(2026, 12, 15, hour+12, 0, 0, 0, berlin).UTC()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("woozoom did not become healthy")
}

// waitOnlyWaiting waits until no queued job is due soon, checks that those
// held for a daily limit without Retry-After wait for the 00:00 UTC after
// they met it, and returns how many there are.
func waitOnlyWaiting(t *testing.T, dbFile string, shops []string, limit time.Duration) int {
	t.Helper()
	ctx := context.Background()
	engine, err := store.Open(ctx, dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	held := 0
	for _, shop := range shops {
		held += waitShopOnlyWaiting(t, engine.Shop(shop), limit)
	}
	return held
}

// waitShopOnlyWaiting is waitOnlyWaiting of one shop.
func waitShopOnlyWaiting(t *testing.T, db *store.DB, limit time.Duration) int {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	for {
		counts, err := db.JobCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		queued, err := db.Jobs(ctx, rules.JobQueued, 100000)
		if err != nil {
			t.Fatal(err)
		}
		soon := 0 // due, or due within the harness's short retry times
		for _, j := range queued {
			if j.RunAt.Before(time.Now().Add(30 * time.Second)) {
				soon++
			}
		}
		if counts[rules.JobRunning] == 0 && soon == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("due jobs did not drain within %s: %v", limit, counts)
		}
		time.Sleep(300 * time.Millisecond)
	}
	jobs, err := db.Jobs(ctx, rules.JobQueued, 100000)
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, j := range jobs {
		if !strings.Contains(j.LastError, "daily rate limit") {
			continue
		}
		held++
		y, m, d := j.UpdatedAt.UTC().Date()
		if midnight := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC); !j.RunAt.Equal(midnight) {
			t.Errorf("job %d met a daily limit without Retry-After at %s and waits until %s, want %s: %s", j.ID, j.UpdatedAt, j.RunAt, midnight, j.LastError)
		}
	}
	return held
}

// waitDrained waits until no job is queued or running, twice in a row.
func waitDrained(t *testing.T, base string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	quiet := 0
	for time.Now().Before(deadline) {
		var h struct {
			Jobs map[string]int `json:"jobs"`
		}
		if resp, err := http.Get(base + "/healthz"); err == nil {
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.Jobs["queued"]+h.Jobs["running"] == 0 {
				if quiet++; quiet == 3 {
					return
				}
			} else {
				quiet = 0
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	resp, err := http.Get(base + "/healthz")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("queue did not drain within %s: %s", limit, b)
	}
	t.Fatalf("queue did not drain within %s: %v", limit, err)
}

func refundedUnits(t *testing.T, cs *chaosShop, id int64) map[int64]int {
	c, err := woo.New(woo.Config{URL: cs.srv.URL, ConsumerKey: cs.key, ConsumerSecret: cs.keySecret}, cs.srv.Client(), discardLog())
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.RefundedQuantities(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// overlappingJobs counts the pairs of runs of one order's jobs that ran at
// once, as the audit log shows them: a run lasted at least from its first
// call to the end of its last, so two runs whose calls interleave ran side
// by side, whatever processes ran them. (Runs whose calls do not
// interleave may still have overlapped: this is a lower bound, and 0 is
// required.)
func overlappingJobs(t *testing.T, db *store.DB) int {
	t.Helper()
	calls, err := db.Calls(context.Background(), store.CallFilter{Limit: 10_000_000})
	if err != nil {
		t.Fatal(err)
	}
	type span struct{ from, to time.Time }
	spans := map[int64]map[string]*span{} // order, run
	for _, c := range calls {
		if c.OrderID == 0 || c.Run == "" {
			continue
		}
		if spans[c.OrderID] == nil {
			spans[c.OrderID] = map[string]*span{}
		}
		end := c.At.Add(c.Duration)
		if s := spans[c.OrderID][c.Run]; s == nil {
			spans[c.OrderID][c.Run] = &span{c.At, end}
		} else {
			s.from, s.to = minTime(s.from, c.At), maxTime(s.to, end)
		}
	}
	n := 0
	for _, jobs := range spans {
		var list []*span
		for _, s := range jobs {
			list = append(list, s)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].from.Before(list[j].from) })
		for i := 1; i < len(list); i++ {
			if list[i].from.Before(list[i-1].to) {
				n++
			}
		}
	}
	return n
}

// reconcileTicks reads when the processes began their periodic reconcile
// passes (the log of all of them) and counts the passes, and those that
// began within a tick of the one before (under 85% of it: the processes
// take turns after nine tenths of a tick, and the log lags the turn by a
// little).
func reconcileTicks(t *testing.T, logPath string, every time.Duration) (passes, extra int) {
	t.Helper()
	if every == 0 {
		return 0, 0
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string][]time.Time{} // by shop: each shop has its pass
	for _, line := range strings.Split(string(raw), "\n") {
		var rec struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
			Shop string    `json:"shop"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "reconcile pass" {
			starts[rec.Shop] = append(starts[rec.Shop], rec.Time)
		}
	}
	for _, times := range starts {
		slices.SortFunc(times, time.Time.Compare)
		for i := 1; i < len(times); i++ {
			if times[i].Sub(times[i-1]) < every*85/100 {
				extra++
			}
		}
		passes += len(times)
	}
	return passes, extra
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// roundRobin is the load balancer in front of a cluster's replicas: each
// request goes to the next replica, and to the one after it if that one
// does not take the connection (killed, restarting), as a balancer's
// health checks would steer it.
func roundRobin(backends []string) http.Handler {
	var next atomic.Uint64
	client := &http.Client{Timeout: 10 * time.Second}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		first := next.Add(1)
		for i := range uint64(len(backends)) {
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, backends[(first+i)%uint64(len(backends))]+r.URL.RequestURI(), bytes.NewReader(body))
			req.Header = r.Header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				continue // not taken: the next replica
			}
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
			resp.Body.Close()
			return
		}
		http.Error(w, "no replica answers", http.StatusBadGateway)
	})
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// chaosShop is one of the harness's shops.
type chaosShop struct {
	name      string
	shop      *wootest.Shop
	srv       *httptest.Server
	key       string // the REST key, and its secret
	keySecret string
	secret    string  // the webhooks'
	products  []int64 // what its orders buy
	senders   []*wootest.Sender
}

// chaosOrder is an order of a shop.
type chaosOrder struct {
	s  *chaosShop
	id int64
}

// chaosView is a view of an order as a delivery carried it.
type chaosView struct {
	chaosOrder
	body []byte
}

func activateWebhooks(shops []*chaosShop) {
	for _, cs := range shops {
		cs.shop.ActivateWebhooks()
	}
}

// chaosEnded is how a meeting of the harness ended: its instance, and the
// minutes each attendee spent in it (absent: did not come).
type chaosEnded struct {
	uuid    string
	minutes map[string]int
}

// chaosParticipants makes who was in a meeting: about two thirds of its
// approved registrants, some in two sessions (a rejoin), some found by
// email alone (no registrant link); and two people without a paid ticket.
func chaosParticipants(r *rand.Rand, f *zoomtest.Fake, target int64) ([]zoomtest.PastParticipant, map[string]int) {
	start := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Hour)
	minutes := map[string]int{}
	var parts []zoomtest.PastParticipant
	for _, reg := range f.Registrants(target) {
		if reg.Status != "approved" || r.IntN(3) == 0 {
			continue
		}
		m := 2 + r.IntN(90)
		email := strings.ToLower(reg.Email)
		minutes[email] = m
		p := zoomtest.PastParticipant{Name: reg.FirstName, Email: reg.Email, RegistrantID: reg.ID, Join: start, Leave: start.Add(time.Duration(m) * time.Minute)}
		if r.IntN(5) == 0 {
			p.RegistrantID = "" // joined from the plain link, signed in
		}
		if r.IntN(4) == 0 { // left and came back
			first := 1 + r.IntN(m-1)
			back := p
			p.Leave = start.Add(time.Duration(first) * time.Minute)
			back.Join, back.Leave = p.Leave.Add(10*time.Minute), p.Leave.Add(time.Duration(10+m-first)*time.Minute)
			parts = append(parts, back)
		}
		parts = append(parts, p)
	}
	parts = append(parts, zoomtest.PastParticipant{Name: "Guest", Email: "guest@elsewhere.example", Join: start, Leave: start.Add(30 * time.Minute)},
		zoomtest.PastParticipant{Name: "iPhone", Join: start, Leave: start.Add(5 * time.Minute)})
	return parts, minutes
}

// chaosAttendee is a paid attendee of a shop's order on a meeting.
type chaosAttendee struct {
	shop   string
	order  int64
	target int64
	email  string
}

// checkAttendance compares what woozoom recorded of a shop's attendance
// of an ended meeting with who was there: missing, a paid attendee with no
// record; wrong, a record with the wrong attendance or minutes, or of an
// order that holds no paid ticket.
func checkAttendance(t *testing.T, db *store.DB, shop string, tg rules.Target, e chaosEnded, want map[chaosAttendee]bool) (missing, wrong int) {
	t.Helper()
	rows, err := db.Attendance(context.Background(), tg, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[chaosAttendee]bool{}
	for _, r := range rows {
		k := chaosAttendee{shop, r.OrderID, tg.ID, r.Email}
		seen[k] = true
		minutes, came := e.minutes[r.Email]
		if !want[k] || r.Instance != e.uuid || r.Attended != came || r.Minutes != minutes {
			t.Logf("attendance of %s order %d %s on %s: %+v; want paid %v, came %v, %d minutes", shop, r.OrderID, r.Email, tg, r, want[k], came, minutes)
			wrong++
		}
	}
	for k := range want {
		if k.shop == shop && k.target == tg.ID && !seen[k] {
			t.Logf("no attendance of %s order %d %s on %s", shop, k.order, k.email, tg)
			missing++
		}
	}
	return missing, wrong
}

// metaJSON decodes an order's meta value into v, as WooCommerce gives it
// back (a JSON string, or the value itself); false without the key.
func metaJSON(shop *wootest.Shop, id int64, key string, v any) bool {
	m, ok := shop.Meta(id, key)
	if !ok {
		return false
	}
	raw, isString := m.(string)
	if !isString {
		b, _ := json.Marshal(m)
		raw = string(b)
	}
	_ = json.Unmarshal([]byte(raw), v)
	return true
}

// checkAttendanceOnOrders reads the attendance each order's meta gives
// (written by the order's own job): missing, a paid attendee without an
// entry for a meeting that ended; wrong, an entry that says otherwise than
// who was there.
func checkAttendanceOnOrders(t *testing.T, all []chaosOrder, ended map[int64]chaosEnded, paid map[chaosAttendee]bool) (missing, wrong int) {
	t.Helper()
	type entry struct {
		Email    string `json:"email"`
		Event    string `json:"event"`
		Attended bool   `json:"attended"`
		Minutes  int    `json:"minutes"`
	}
	onOrder := map[chaosAttendee]entry{}
	for _, o := range all {
		var entries []entry
		if !metaJSON(o.s.shop, o.id, orders.AttendanceMetaKey, &entries) {
			continue
		}
		for _, e := range entries {
			var target int64
			if _, err := fmt.Sscanf(e.Event[strings.LastIndex(e.Event, " ")+1:], "%d", &target); err == nil {
				onOrder[chaosAttendee{o.s.name, o.id, target, rules.NormalizeEmail(e.Email)}] = e
			}
		}
	}
	for k := range paid {
		e, ok := onOrder[k]
		minutes, came := ended[k.target].minutes[k.email]
		switch {
		case !ok:
			t.Logf("%s order %d (%s): no attendance of %d on the order", k.shop, k.order, k.email, k.target)
			missing++
		case e.Attended != came || e.Minutes != minutes:
			t.Logf("%s order %d (%s): the order says %+v of %d; want came %v, %d minutes", k.shop, k.order, k.email, e, k.target, came, minutes)
			wrong++
		}
	}
	return missing, wrong
}

// checkReplays reads the replay each order's meta gives: missing, a paid
// attendee of the meeting or the webinar without its recording; to
// unpaid, a recording given to an attendee whose order holds no paid
// ticket of it (cancelled, refunded).
func checkReplays(t *testing.T, all []chaosOrder, targets map[string]int64, replays map[int64]string, paid map[chaosAttendee]bool) (missing, toUnpaid int) {
	t.Helper()
	given := map[chaosAttendee]string{}
	for _, o := range all {
		var entries []struct {
			Email     string `json:"email"`
			Type      string `json:"type"`
			ReplayURL string `json:"replay_url"`
		}
		if !metaJSON(o.s.shop, o.id, orders.MetaKey, &entries) {
			continue
		}
		for _, e := range entries {
			if target, ok := targets[e.Type]; ok && e.ReplayURL != "" {
				given[chaosAttendee{o.s.name, o.id, target, rules.NormalizeEmail(e.Email)}] = e.ReplayURL
			}
		}
	}
	for k, url := range given {
		if !paid[k] {
			t.Logf("the replay %s went to %s order %d (%s), which holds no paid ticket", url, k.shop, k.order, k.email)
			toUnpaid++
		}
	}
	for k := range paid {
		if given[k] != replays[k.target] {
			t.Logf("%s order %d (%s) has the replay %q of %d, want %q", k.shop, k.order, k.email, given[k], k.target, replays[k.target])
			missing++
		}
	}
	return missing, toUnpaid
}
