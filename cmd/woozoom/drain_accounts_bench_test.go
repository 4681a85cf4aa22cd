package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// BenchmarkDrainAccounts drains WOOZOOM_DRAIN_N registrations (default
// 2000) with the real binary on one Zoom account, then the same number
// spread over two accounts (each at Business limits, Light 80/s, at one
// address as api.zoom.us), and reports the two-account time over the
// one-account time (about 0.5 when each account's limit is used in full),
// the calls refused over a per-second limit on any account, and the peak
// RSS of the two-account run. Each run first registers WOOZOOM_DRAIN_WARM
// orders (default 300) per account and restarts, as a sidecar that has
// run before: what it learned of each account's pace is kept.
//
//	WOOZOOM_DRAIN_N=10000 go test -run '^$' -bench DrainAccounts -benchtime 1x -timeout 30m ./cmd/woozoom
func BenchmarkDrainAccounts(b *testing.B) {
	n := envInt("WOOZOOM_DRAIN_N", 2000)
	bin := buildWoozoom(b, b.TempDir())
	one := drainAccounts(b, bin, 1, n)
	b.ResetTimer()
	two := drainAccounts(b, bin, 2, n)
	b.StopTimer()
	b.ReportMetric(two.took.Seconds()/one.took.Seconds(), "two/one")
	b.ReportMetric(float64(one.overPace+two.overPace), "over_pace")
	b.ReportMetric(float64(one.refused+two.refused), "429s")
	b.ReportMetric(two.rss, "peakRSS_MiB")
	b.Logf("%d registrations: one account %s, two accounts %s (least possible %.1f s and %.1f s at 80/s each)",
		n, one.took.Round(100*time.Millisecond), two.took.Round(100*time.Millisecond), float64(n)/80, float64(n)/160)
}

type drainResult struct {
	took              time.Duration
	overPace, refused int
	rss               float64
}

// drainAccounts registers n attendees, one per order, over webinars on
// the given number of accounts, and times it from the first completion.
func drainAccounts(b *testing.B, bin string, accounts, n int) drainResult {
	dir := b.TempDir()
	limits := zoomtest.BusinessLimits
	limits.RegistrantsLimit = max(limits.RegistrantsLimit, n)
	var fakes []*zoomtest.Fake
	var zoomCfg, events strings.Builder
	for i := range accounts {
		name := fmt.Sprintf("acct%d", i)
		fakes = append(fakes, zoomtest.New(zoomtest.Credentials{AccountID: name, ClientID: "client-" + name, ClientSecret: "secret-" + name}, limits))
		fmt.Fprintf(&zoomCfg, "  - {name: %s, account_id: %s, client_id: client-%s, client_secret: secret-%s}\n", name, name, name, name)
	}
	zsrv := httptest.NewServer(zoomtest.NewCloud(fakes...))
	defer zsrv.Close()
	webinars, warms := make([]int64, accounts), make([]int64, accounts)
	for i, f := range fakes {
		webinars[i] = f.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Drain", HostEmail: fmt.Sprintf("host%d@shop.example", i), Duration: 60})
		warms[i] = f.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Warm-up", HostEmail: fmt.Sprintf("host%d@shop.example", i), Duration: 60})
		fmt.Fprintf(&events, "  - {product_id: %d, webinar_id: %d, zoom_account: acct%d}\n  - {product_id: %d, webinar_id: %d, zoom_account: acct%d}\n",
			10+i, webinars[i], i, 20+i, warms[i], i)
	}
	shop := wootest.NewShop("ck_drain", "cs_drain")
	ca := filepath.Join(dir, "ca.pem")
	ssrv := serveShop(b, shop, ca)
	port := freePort(b)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
database: %s
log_level: warn
woocommerce: {url: %s, consumer_key: ck_drain, consumer_secret: cs_drain, webhook_secret: whsec-drain, ca_file: %s}
zoom: {api_url: %s/v2, oauth_url: %s/oauth/token}
zoom_accounts:
%sreconcile: {interval: 0}
events:
%s`, port, filepath.Join(dir, "woozoom.db"), ssrv.URL, ca, zsrv.URL, zsrv.URL, zoomCfg.String(), events.String())), 0o600); err != nil {
		b.Fatal(err)
	}
	proc := newServeProcess(b, bin, cfg, port, filepath.Join(dir, "woozoom.log"))
	start, stop := proc.start, proc.stop
	start()
	shop.AddWebhook(fmt.Sprintf("http://127.0.0.1:%d/webhooks/woocommerce", port), "whsec-drain", "order.updated")
	complete := func(orders []int64) {
		for _, id := range orders {
			if err := shop.SetStatus(id, "completed"); err != nil {
				b.Fatal(err)
			}
		}
	}
	warm := envInt("WOOZOOM_DRAIN_WARM", 300)
	if warm > 0 {
		var orders []int64
		for i := range accounts {
			for j := range warm {
				orders = append(orders, shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "W",
					Email: fmt.Sprintf("warm%d-%05d@example.org", i, j), Items: []wootest.Item{{ProductID: int64(20 + i)}}}))
			}
		}
		complete(orders)
		flushUntil(b, shop, func() bool {
			for i, f := range fakes {
				if len(f.Registrants(warms[i])) < warm {
					return false
				}
			}
			return true
		}, time.Duration(warm*accounts)*time.Second/10+2*time.Minute)
		stop()
		start()
	}
	defer stop()

	orders := make([]int64, n)
	for i := range n {
		orders[i] = shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "D", Email: fmt.Sprintf("drain%05d@example.org", i),
			Items: []wootest.Item{{ProductID: int64(10 + i%accounts)}}})
	}
	shop.Flush()
	overBefore, callsBefore := make([]int, accounts), make([]int, accounts)
	for i, f := range fakes {
		overBefore[i], callsBefore[i] = f.OverPace(), len(f.Calls())
	}
	began := time.Now()
	complete(orders)
	go shop.Flush()
	flushUntil(b, shop, func() bool {
		got := 0
		for i, f := range fakes {
			got += len(f.Registrants(webinars[i]))
		}
		return got == n
	}, time.Duration(n)*time.Second/10+2*time.Minute)
	res := drainResult{took: time.Since(began), rss: peakRSSMiB(b, proc.cmd.Process.Pid)}
	for i, f := range fakes {
		res.overPace += f.OverPace() - overBefore[i]
		for _, c := range f.Calls()[callsBefore[i]:] {
			if c.Status == 429 {
				res.refused++
			}
		}
	}
	return res
}

// flushUntil flushes the shop's deliveries until done or the time is up.
func flushUntil(b *testing.B, shop *wootest.Shop, done func() bool, limit time.Duration) {
	for start := time.Now(); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > limit {
			b.Fatalf("not drained after %s", limit)
		}
		shop.Flush()
	}
}
