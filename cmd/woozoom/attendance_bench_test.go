package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// BenchmarkAttendance runs the real binary against the fakes: a webinar
// with WOOZOOM_ATTENDANCE_N paid orders (default 1000) of one attendee each
// ends; 80% came, a quarter of those in two sessions. It reports the time
// from Zoom's webinar.ended to the attendance on every order, the shop
// calls per order (reads and writes, the echoes' work included), the
// Zoom calls, and the peak RSS.
//
//	WOOZOOM_ATTENDANCE_N=5000 go test -run '^$' -bench Attendance -benchtime 1x -timeout 30m ./cmd/woozoom
func BenchmarkAttendance(b *testing.B) {
	n := envInt("WOOZOOM_ATTENDANCE_N", 1000)
	dir := b.TempDir()
	bin := buildWoozoom(b, dir)
	creds := zoomtest.Credentials{AccountID: "acct-att", ClientID: "client-att", ClientSecret: "zoom-secret-att"}
	limits := zoomtest.BusinessLimits
	limits.RegistrantsLimit = max(limits.RegistrantsLimit, n)
	fz := zoomtest.New(creds, limits)
	zsrv := httptest.NewServer(fz)
	defer zsrv.Close()
	webinar := fz.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Large webinar", HostEmail: "host@shop.example", Duration: 60})
	shop := wootest.NewShop("ck_att", "cs_att")
	var reads, writes atomic.Int64
	ca := filepath.Join(dir, "ca.pem")
	ssrv := serveShop(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/orders") {
			if r.Method == http.MethodGet {
				reads.Add(1)
			} else {
				writes.Add(1)
			}
		}
		shop.ServeHTTP(w, r)
	}), ca)
	port := freePort(b)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
database: %s
log_level: warn
woocommerce: {url: %s, consumer_key: ck_att, consumer_secret: cs_att, webhook_secret: whsec-att, ca_file: %s}
zoom: {account_id: acct-att, client_id: client-att, client_secret: zoom-secret-att, webhook_secret_token: zhook-att, api_url: %s/v2, oauth_url: %s/oauth/token}
reconcile: {interval: 0}
events: [{product_id: 10, webinar_id: %d}]
`, port, filepath.Join(dir, "woozoom.db"), ssrv.URL, ca, zsrv.URL, zsrv.URL, webinar)), 0o600); err != nil {
		b.Fatal(err)
	}
	proc := newServeProcess(b, bin, cfg, port, filepath.Join(dir, "woozoom.log"))
	proc.start()
	defer proc.stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	shop.AddWebhook(base+"/webhooks/woocommerce", "whsec-att", "order.created", "order.updated")
	fz.SetWebhook(base+"/webhooks/zoom", "zhook-att")

	ids := make([]int64, n)
	for i := range n {
		ids[i] = shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "A", Email: fmt.Sprintf("att%05d@example.org", i), Items: []wootest.Item{{ProductID: 10}}})
	}
	wait := func(what string, done func() bool) time.Duration {
		start := time.Now()
		for !done() {
			if time.Since(start) > time.Duration(n)*time.Second/10+2*time.Minute {
				b.Fatalf("%s: not done after %s", what, time.Since(start))
			}
			shop.Flush()
			time.Sleep(50 * time.Millisecond)
		}
		return time.Since(start)
	}
	wait("registrations", func() bool { return len(fz.Registrants(webinar)) == n && shop.Pending() == 0 })
	wait("the join links written", func() bool {
		_, ok := shop.Meta(ids[n-1], orders.MetaKey)
		return ok && shop.Pending() == 0
	})
	time.Sleep(2 * time.Second) // the echoes of the join links settle
	shop.Flush()

	start := time.Now().Add(-2 * time.Hour)
	var parts []zoomtest.PastParticipant
	for i, r := range fz.Registrants(webinar) {
		switch {
		case i%5 == 4: // did not come
		case i%4 == 0: // two sessions
			parts = append(parts, zoomtest.PastParticipant{Name: "A", Email: r.Email, RegistrantID: r.ID, Join: start, Leave: start.Add(20 * time.Minute)},
				zoomtest.PastParticipant{Name: "A", Email: r.Email, RegistrantID: r.ID, Join: start.Add(30 * time.Minute), Leave: start.Add(time.Hour)})
		default:
			parts = append(parts, zoomtest.PastParticipant{Name: "A", Email: r.Email, RegistrantID: r.ID, Join: start, Leave: start.Add(time.Hour)})
		}
	}
	reads.Store(0)
	writes.Store(0)
	zoomBefore := len(fz.Calls())
	b.ResetTimer()
	if code, err := fz.EndMeeting(webinar, "bench/uuid==", 0, parts...); err != nil || code != 200 {
		b.Fatalf("webinar.ended answered %d, %v", code, err)
	}
	next := 0 // orders before it have their attendance
	took := wait("attendance on every order", func() bool {
		for ; next < n; next++ {
			if _, ok := shop.Meta(ids[next], orders.AttendanceMetaKey); !ok {
				return false
			}
		}
		return true
	})
	b.StopTimer()
	time.Sleep(2 * time.Second) // the echoes of the attendance settle
	shop.Flush()
	time.Sleep(time.Second)
	b.ReportMetric(took.Seconds(), "s_to_all_orders")
	b.ReportMetric(float64(reads.Load())/float64(n), "shop_reads/order")
	b.ReportMetric(float64(writes.Load())/float64(n), "shop_writes/order")
	b.ReportMetric(float64(len(fz.Calls())-zoomBefore), "zoom_calls")
	b.ReportMetric(peakRSSMiB(b, proc.cmd.Process.Pid), "peakRSS_MiB")
	b.Logf("%d orders, %d participant sessions: attendance on every order %s after the event", n, len(parts), took.Round(100*time.Millisecond))
}
