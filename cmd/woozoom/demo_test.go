package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

// populated makes a database with n deliveries, as a live woozoom would
// have, and returns a function that counts them.
func populated(t *testing.T, file string, n int) func() int {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: fmt.Sprintf("d-%d", i), Topic: "order.updated",
			OrderID: int64(100 + i), Body: []byte(`{"id":1}`), ReceivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return func() int {
		t.Helper()
		raw, err := sql.Open("sqlite3", "file:"+file+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var got int
		if err := raw.QueryRow(`SELECT count(*) FROM deliveries`).Scan(&got); err != nil {
			t.Fatalf("count deliveries in %s: %v", file, err)
		}
		return got
	}
}

// A configuration that lacks credentials is a real installation with a
// mistake: serve refuses, lists what is missing and leaves the database
// alone. It used to fall back to the demo, which deleted the database.
func TestServeWithoutCredentialsRefusesAndKeepsTheDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	count := populated(t, filepath.Join(dir, "prod.db"), 5)
	cfg := filepath.Join(dir, "nocreds.yaml")
	if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\ndatabase: prod.db\nwoocommerce:\n  webhook_secret: whsec-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if code := run(ctx, []string{"serve", "--config", cfg}, &out, &errs); code == 0 {
		t.Fatalf("serve without credentials exited 0:\n%s%s", out.String(), errs.String())
	}
	for _, key := range []string{"woocommerce.url", "woocommerce.consumer_key", "woocommerce.consumer_secret", "zoom.account_id", "zoom.client_id", "zoom.client_secret"} {
		if !strings.Contains(errs.String(), key+" is required") {
			t.Errorf("the refusal does not name %s:\n%s", key, errs.String())
		}
	}
	if strings.Contains(out.String()+errs.String(), "DEMO") {
		t.Errorf("serve started the demo:\n%s%s", out.String(), errs.String())
	}
	if n := count(); n != 5 {
		t.Errorf("prod.db holds %d deliveries after serve, want the 5 it had", n)
	}

	// No config file, but the environment of a service (systemd sets
	// WOOZOOM_DATABASE; its environment file with the secrets is missing).
	t.Setenv("WOOZOOM_DATABASE", filepath.Join(dir, "prod.db"))
	t.Setenv("WOOZOOM_LISTEN", "127.0.0.1:0")
	errs.Reset()
	if code := run(ctx, []string{"serve"}, &out, &errs); code == 0 || !strings.Contains(errs.String(), "zoom.client_secret is required") {
		t.Errorf("serve with WOOZOOM_ settings and no credentials: exit %d\n%s", code, errs.String())
	}
	if n := count(); n != 5 {
		t.Errorf("prod.db holds %d deliveries, want 5", n)
	}
	if _, err := os.Stat(demoDatabase); err == nil {
		t.Errorf("%s was made by a serve that is not a demo", demoDatabase)
	}
}

func TestImplicitDemoOnlyWhenNothingIsConfigured(t *testing.T) {
	dir := t.TempDir()
	missing, present := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "present.yaml")
	if err := os.WriteFile(present, []byte("listen: :8080\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file    string
		given   bool
		environ []string
		want    bool
	}{
		{missing, false, []string{"HOME=/root", "PATH=/bin"}, true},
		{missing, false, []string{"WOOZOOM_DATABASE=/var/lib/woozoom/woozoom.db"}, false},
		{missing, true, nil, false},
		{present, false, nil, false},
	} {
		if got := implicitDemo(c.file, c.given, c.environ); got != c.want {
			t.Errorf("implicitDemo(%s, given %v, %v) = %v, want %v", filepath.Base(c.file), c.given, c.environ, got, c.want)
		}
	}
}

// The demo works on its own woozoom-demo.db, never on the configured
// database, turns the console on with a password of this run, and removes
// the file it made when it stops. A woozoom-demo.db it did not make is left
// alone.
func TestDemoUsesOnlyItsOwnDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	count := populated(t, filepath.Join(dir, "prod.db"), 5)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\ndatabase: prod.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	logs := &syncBuffer{}
	go func() {
		code <- run(ctx, []string{"serve", "--demo", "--config", cfg}, pw, logs)
		pw.Close()
	}()
	var server, consolePassword string
	sc := bufio.NewScanner(pr)
	listening := regexp.MustCompile(`DEMO listening on (http://\S+)`)
	console := regexp.MustCompile(`console: +\S+ +\(password for this run: (\S+)\)`)
	for consolePassword == "" && sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			server = m[1]
		}
		if m := console.FindStringSubmatch(sc.Text()); m != nil {
			consolePassword = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if server == "" || len(consolePassword) < 16 {
		t.Fatalf("demo did not say where it listens and the console's password (%q, %q):\n%s", server, consolePassword, logs)
	}
	if _, err := os.Stat(demoDatabase); err != nil {
		t.Errorf("the demo runs without %s: %v", demoDatabase, err)
	}
	// The console takes the printed password.
	resp, err := http.Get(server + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if token == nil {
		t.Fatalf("no console sign-in page in the demo:\n%s", page)
	}
	req, _ := http.NewRequest(http.MethodPost, server+"/admin/login", strings.NewReader(url.Values{"csrf": {string(token[1])}, "password": {consolePassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign in with the printed password: %v %v", resp, err)
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("demo exited %d:\n%s", c, logs)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(demoDatabase + suffix); err == nil {
			t.Errorf("%s%s is left after the demo stopped", demoDatabase, suffix)
		}
	}
	if n := count(); n != 5 {
		t.Errorf("prod.db holds %d deliveries after the demo, want 5", n)
	}
	if strings.Contains(logs.String(), consolePassword) {
		t.Error("the console's password is in the log")
	}

	// A woozoom-demo.db the demo did not make is not touched.
	left := populated(t, filepath.Join(dir, demoDatabase), 3)
	var out, errs strings.Builder
	if c := run(context.Background(), []string{"serve", "--demo", "--config", cfg}, &out, &errs); c == 0 || !strings.Contains(errs.String(), "woozoom leaves it alone") {
		t.Errorf("demo over an existing %s: exit %d\n%s", demoDatabase, c, errs.String())
	}
	if n := left(); n != 3 {
		t.Errorf("the existing %s holds %d deliveries, want 3", demoDatabase, n)
	}
}
