package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/woozoom/woozoom/store/pgtest"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// BenchmarkIngestReplicas measures signed deliveries stored per second by
// the real binary: one process on SQLite, then 1, 2 and 3 replicas on a
// throwaway PostgreSQL, each for WOOZOOM_INGEST_SECONDS (default 5) under
// WOOZOOM_INGEST_CONNS (default 32) keep-alive connections spread round
// robin over the replicas, in one run; each reports its ratio to SQLite,
// and the peak RSS of its largest replica. On one 2-core machine the
// replicas share the cores: the figures show what the shared database
// costs, not what more machines would add.
//
//	go test -run '^$' -bench IngestReplicas -benchtime 1x ./cmd/woozoom
func BenchmarkIngestReplicas(b *testing.B) {
	dir := b.TempDir()
	bin := buildWoozoom(b, dir)
	cluster := pgtest.Own(b)
	fz := zoomtest.New(zoomtest.Credentials{AccountID: "acct-ingest", ClientID: "client-ingest", ClientSecret: "zoom-secret-ingest"}, zoomtest.BusinessLimits)
	zsrv := httptest.NewServer(fz)
	defer zsrv.Close()
	shop := wootest.NewShop("ck_ingest", "cs_ingest")
	ca := filepath.Join(dir, "ca.pem")
	ssrv := serveShop(b, shop, ca)
	config := func(database string) string {
		cfg := filepath.Join(b.TempDir(), "config.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
database: %s
log_level: warn
woocommerce: {url: %s, consumer_key: ck_ingest, consumer_secret: cs_ingest, webhook_secret: whsec-ingest, ca_file: %s}
zoom: {account_id: acct-ingest, client_id: client-ingest, client_secret: zoom-secret-ingest, api_url: %s/v2, oauth_url: %s/oauth/token}
reconcile: {interval: 0}
`, database, ssrv.URL, ca, zsrv.URL, zsrv.URL)), 0o600); err != nil {
			b.Fatal(err)
		}
		return cfg
	}
	var sqliteRate float64
	for _, v := range []struct {
		name     string
		replicas int
		pg       bool
	}{{"sqlite-1", 1, false}, {"postgres-1", 1, true}, {"postgres-2", 2, true}, {"postgres-3", 3, true}} {
		b.Run(v.name, func(b *testing.B) {
			database := filepath.Join(b.TempDir(), "woozoom.db")
			if v.pg {
				database = cluster.NewDatabase(b)
			}
			bases, pids := startReplicas(b, bin, config(database), v.replicas)
			b.ResetTimer()
			rate := ingestLoad(b, bases, time.Duration(envInt("WOOZOOM_INGEST_SECONDS", 5))*time.Second, envInt("WOOZOOM_INGEST_CONNS", 32))
			b.StopTimer()
			if !v.pg {
				sqliteRate = rate
			}
			b.ReportMetric(rate, "deliveries/s")
			if sqliteRate > 0 {
				b.ReportMetric(rate/sqliteRate, "ratio_to_sqlite")
			}
			peak := 0.0
			for _, pid := range pids {
				peak = max(peak, peakRSSMiB(b, pid))
			}
			b.ReportMetric(peak, "peak_RSS_MiB/replica")
		})
	}
}

// startReplicas starts n processes of bin on cfg, each on its own port,
// stopped when b ends; it returns their addresses and process ids.
func startReplicas(b *testing.B, bin, cfg string, n int) (bases []string, pids []int) {
	for range n {
		port := freePort(b)
		proc := exec.Command(bin, "serve", "--config", cfg)
		proc.Env = append(os.Environ(), fmt.Sprintf("WOOZOOM_LISTEN=127.0.0.1:%d", port))
		if err := proc.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = proc.Process.Signal(syscall.SIGTERM); _, _ = proc.Process.Wait() })
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		waitHealthy(b, base)
		bases, pids = append(bases, base), append(pids, proc.Process.Pid)
	}
	return bases, pids
}

// ingestLoad sends signed order deliveries, each a new order, over conns
// keep-alive connections spread round robin over bases, for d; it returns
// the deliveries answered 200 per second.
func ingestLoad(b *testing.B, bases []string, d time.Duration, conns int) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	var ok, failed, seq atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			base := bases[c%len(bases)] + "/webhooks/woocommerce"
			for time.Now().Before(deadline) {
				id := 100000 + seq.Add(1)
				body := []byte(fmt.Sprintf(`{"id":%d,"status":"processing","date_modified_gmt":"2026-12-02T10:00:00","billing":{"email":"b%d@example.org"},"line_items":[]}`, id, id))
				req, _ := http.NewRequest(http.MethodPost, base, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(woo.HeaderTopic, "order.updated")
				req.Header.Set(woo.HeaderSignature, woo.Sign(body, "whsec-ingest"))
				req.Header.Set(woo.HeaderDeliveryID, fmt.Sprint(id))
				req.Header.Set(woo.HeaderWebhookID, "1")
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				} else {
					ok.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.Errorf("%d deliveries not answered 200", n)
	}
	return float64(ok.Load()) / d.Seconds()
}
