package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// BenchmarkDrain runs the real binary with its shipped pacing (nothing
// configured) against the fake Zoom at Business limits (Light 80/s, Medium
// 60/s): WOOZOOM_DRAIN_N completed orders (default 2000) of one attendee
// each, for one large webinar, arrive as webhooks, then half of them are
// cancelled. It reports the
// drain time over the least Zoom allows (N / 80 s), Zoom calls per
// registration and per cancellation, 429s, and the peak RSS.
//
// First, as a sidecar that has run before, woozoom registers
// WOOZOOM_DRAIN_WARM orders (default 300; 0 for a first start) on another
// webinar and is restarted: what it learned of Zoom's pace is kept.
//
//	WOOZOOM_DRAIN_N=10000 go test -run '^$' -bench Drain -benchtime 1x -timeout 30m ./cmd/woozoom
func BenchmarkDrain(b *testing.B) {
	n := envInt("WOOZOOM_DRAIN_N", 2000)
	dir := b.TempDir()
	bin := buildWoozoom(b, dir)
	creds := zoomtest.Credentials{AccountID: "acct-drain", ClientID: "client-drain", ClientSecret: "zoom-secret-drain"}
	limits := zoomtest.BusinessLimits
	// A webinar licensed for every attendee (a meeting takes at most 4,999).
	limits.RegistrantsLimit = max(limits.RegistrantsLimit, n)
	fz := zoomtest.New(creds, limits)
	zsrv := httptest.NewServer(fz)
	defer zsrv.Close()
	meeting := fz.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Drain", HostEmail: "host@shop.example", Duration: 60})
	warmup := fz.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Warm-up", HostEmail: "host@shop.example", Duration: 60})
	shop := wootest.NewShop("ck_drain", "cs_drain")
	ca := filepath.Join(dir, "ca.pem")
	ssrv := serveShop(b, shop, ca)
	port := freePort(b)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:%d
database: %s
log_level: warn
woocommerce: {url: %s, consumer_key: ck_drain, consumer_secret: cs_drain, webhook_secret: whsec-drain, ca_file: %s}
zoom: {account_id: acct-drain, client_id: client-drain, client_secret: zoom-secret-drain, api_url: %s/v2, oauth_url: %s/oauth/token}
reconcile: {interval: 0}
events: [{product_id: 10, webinar_id: %d}, {product_id: 11, webinar_id: %d}]
`, port, filepath.Join(dir, "woozoom.db"), ssrv.URL, ca, zsrv.URL, zsrv.URL, meeting, warmup)), 0o600); err != nil {
		b.Fatal(err)
	}
	proc := newServeProcess(b, bin, cfg, port, filepath.Join(dir, "woozoom.log"))
	start, stop := proc.start, proc.stop
	start()
	defer func() { stop() }()
	shop.AddWebhook(fmt.Sprintf("http://127.0.0.1:%d/webhooks/woocommerce", port), "whsec-drain", "order.updated")
	if warm := envInt("WOOZOOM_DRAIN_WARM", 300); warm > 0 {
		for i := range warm {
			id := shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "W", Email: fmt.Sprintf("warm%05d@example.org", i), Items: []wootest.Item{{ProductID: 11, Quantity: 1}}})
			if err := shop.SetStatus(id, "completed"); err != nil {
				b.Fatal(err)
			}
		}
		for deadline := time.Now().Add(2 * time.Minute); len(fz.Registrants(warmup)) < warm; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("warm-up not done")
			}
			shop.Flush()
		}
		stop()
		start()
	}

	ids := make([]int64, n)
	emails := make([]string, n)
	for i := range n {
		emails[i] = fmt.Sprintf("drain%05d@example.org", i)
		ids[i] = shop.CreateOrder(wootest.Order{Status: "processing", FirstName: "D", Email: emails[i], Items: []wootest.Item{{ProductID: 10, Quantity: 1}}})
	}
	shop.Flush()
	count := func(status string) int {
		c := 0
		for _, r := range fz.Registrants(meeting) {
			if r.Status == status {
				c++
			}
		}
		return c
	}
	waitFor := func(what string, done func() bool) time.Duration {
		start := time.Now()
		for !done() {
			if time.Since(start) > time.Duration(n)*time.Second/10+2*time.Minute {
				b.Fatalf("%s: not done after %s", what, time.Since(start))
			}
			shop.Flush()
			time.Sleep(20 * time.Millisecond)
		}
		return time.Since(start)
	}
	callsBefore := len(fz.Calls())
	b.ResetTimer()
	for _, id := range ids {
		if err := shop.SetStatus(id, "completed"); err != nil {
			b.Fatal(err)
		}
	}
	go shop.Flush()
	drain := waitFor("registrations", func() bool { return count("approved") == n })
	b.StopTimer()
	calls := fz.Calls()[callsBefore:]
	regCalls, reg429 := 0, 0
	for _, c := range calls {
		if strings.HasPrefix(c.Path, "/v2/") {
			regCalls++
		}
		if c.Status == 429 {
			reg429++
		}
	}
	min := float64(n) / float64(limits.LightPerSecond)
	b.ReportMetric(drain.Seconds()/min, "drain/min")
	b.ReportMetric(float64(regCalls)/float64(n), "calls/reg")
	b.ReportMetric(float64(reg429), "429s")

	// Half of the orders are cancelled at once.
	callsBefore = len(fz.Calls())
	half := n / 2
	for _, id := range ids[:half] {
		if err := shop.SetStatus(id, "cancelled"); err != nil {
			b.Fatal(err)
		}
	}
	go shop.Flush()
	waitFor("cancellations", func() bool { return count("denied") == half })
	cancelCalls := 0
	for _, c := range fz.Calls()[callsBefore:] {
		if strings.HasPrefix(c.Path, "/v2/") {
			cancelCalls++
		}
	}
	b.ReportMetric(float64(cancelCalls)/float64(half), "calls/cancel")
	b.ReportMetric(peakRSSMiB(b, proc.cmd.Process.Pid), "peakRSS_MiB")
	b.Logf("%d registrations in %s (least possible %.0f s at %d/s); %d cancellations with %d calls", n, drain.Round(100*time.Millisecond), min, limits.LightPerSecond, half, cancelCalls)
}

// buildWoozoom builds the binary into dir, for a benchmark to run as a user
// would.
func buildWoozoom(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "woozoom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess is the real binary serving a configuration, started and
// stopped (SIGTERM) again and again, its log in one file.
type serveProcess struct {
	start, stop func()
	cmd         *exec.Cmd
}

func newServeProcess(b *testing.B, bin, cfg string, port int, logPath string) *serveProcess {
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = logFile.Close() }) // a log for reading after a failure
	p := &serveProcess{}
	p.start = func() {
		p.cmd = exec.Command(bin, "serve", "--config", cfg)
		p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
		if err := p.cmd.Start(); err != nil {
			b.Fatal(err)
		}
		waitHealthy(b, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	p.stop = func() { _ = p.cmd.Process.Signal(syscall.SIGTERM); _, _ = p.cmd.Process.Wait() }
	return p
}

// peakRSSMiB reads a process's peak resident memory (VmHWM).
func peakRSSMiB(b *testing.B, pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
