package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// TestCheckTalksToBothServices runs woozoom check against the fakes, first
// with everything in order, then with one thing wrong at a time.
func TestCheckTalksToBothServices(t *testing.T) {
	e := startE2E(t)
	check := func(t *testing.T) (string, int) {
		t.Helper()
		out, code := e.cli("check")
		for _, secret := range []string{e2eZoomSecret, "cs_e2e_secret", e.secret, "wrong-zoom-secret", "cs_typo"} {
			if strings.Contains(out, secret) {
				t.Errorf("check printed the secret %q", secret)
			}
		}
		return out, code
	}
	expectProblem := func(t *testing.T, want ...string) {
		t.Helper()
		out, code := check(t)
		if code == 0 {
			t.Errorf("check exited 0 with a problem:\n%s", out)
		}
		for _, w := range want {
			found := false
			for _, line := range strings.Split(out, "\n") {
				found = found || strings.HasPrefix(line, "PROBLEM") && strings.Contains(line, w)
			}
			if !found {
				t.Errorf("no PROBLEM line says %q:\n%s", w, out)
			}
		}
	}

	t.Run("working", func(t *testing.T) {
		out, code := check(t)
		if code != 0 || strings.Contains(out, "PROBLEM") || strings.Count(out, "ok ") < 8 {
			t.Fatalf("check of a working setup: exit %d\n%s", code, out)
		}
		for _, w := range []string{"access token", "every scope", "Licensed", "REST key reads orders", "delivers order.restored"} {
			if !strings.Contains(out, w) {
				t.Errorf("check does not say %q:\n%s", w, out)
			}
		}
	})
	t.Run("wrong Zoom secret", func(t *testing.T) {
		t.Setenv("WOOZOOM_ZOOM_CLIENT_SECRET", "wrong-zoom-secret")
		expectProblem(t, "Zoom: no access token", "zoom.client_secret")
	})
	t.Run("missing scope", func(t *testing.T) {
		var some []string
		for _, s := range zoomtest.AllScopes {
			if s != "meeting:update:registrant_status:admin" {
				some = append(some, s)
			}
		}
		e.zoom.SetScopes(some...)
		defer e.zoom.SetScopes(zoomtest.AllScopes...)
		expectProblem(t, "lacks the scope meeting:update:registrant_status:admin")
	})
	t.Run("recordings on, no recording scope", func(t *testing.T) {
		t.Setenv("WOOZOOM_RECORDINGS", "share")
		var some []string
		for _, s := range zoomtest.AllScopes {
			if !strings.HasPrefix(s, "cloud_recording:") {
				some = append(some, s)
			}
		}
		e.zoom.SetScopes(some...)
		defer e.zoom.SetScopes(zoomtest.AllScopes...)
		expectProblem(t, "lacks the scope cloud_recording:read:list_recording_files:admin")
	})
	// Mappings that went bad after they were made (map add itself refuses
	// them, see TestMapAddChecksTheMeeting).
	t.Run("meeting without registration", func(t *testing.T) {
		id := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Open house", HostEmail: "host@shop.example", Duration: 30, ApprovalType: 2})
		if out, code := e.cli("map", "add", "--product", "20", "--meeting", itoa(id), "--no-check"); code != 0 {
			t.Fatal(out)
		}
		defer e.cli("map", "remove", "--product", "20", "--meeting", itoa(id))
		expectProblem(t, "registration off")
	})
	t.Run("Basic host", func(t *testing.T) {
		e.zoom.AddUser(zoomtest.User{Email: "basic@shop.example", Type: 1})
		id := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Free chat", HostEmail: "basic@shop.example", Duration: 30})
		if out, code := e.cli("map", "add", "--product", "21", "--meeting", itoa(id), "--no-check"); code != 0 {
			t.Fatal(out)
		}
		defer e.cli("map", "remove", "--product", "21", "--meeting", itoa(id))
		expectProblem(t, "basic@shop.example, is a Basic user")
	})
	t.Run("deleted meeting", func(t *testing.T) {
		id := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Gone", HostEmail: "host@shop.example", Duration: 30})
		e.zoom.DeleteMeeting(id)
		if out, code := e.cli("map", "add", "--product", "22", "--meeting", itoa(id), "--no-check"); code != 0 {
			t.Fatal(out)
		}
		defer e.cli("map", "remove", "--product", "22", "--meeting", itoa(id))
		expectProblem(t, "does not exist")
	})
	t.Run("wrong REST key", func(t *testing.T) {
		good, _ := os.ReadFile(e.cfgFile)
		defer os.WriteFile(e.cfgFile, good, 0o600)
		os.WriteFile(e.cfgFile, []byte(strings.Replace(string(good), "cs_e2e_secret", "cs_typo", 1)), 0o600)
		expectProblem(t, "REST key does not work", "consumer_secret")
	})
	t.Run("shop redirects", func(t *testing.T) {
		e.shop.RedirectTo("http://127.0.0.1:1")
		defer e.shop.RedirectTo("")
		expectProblem(t, "the shop redirected to http://127.0.0.1:1/wp-json/wc/v3/orders", "set woocommerce.url to the final address")
	})
	t.Run("missing webhook", func(t *testing.T) {
		e.shop.DeleteWebhooks()
		e.shop.AddWebhook(e.url+"/webhooks/woocommerce", e.secret, "order.created", "order.updated", "order.deleted")
		expectProblem(t, "no webhook for order.restored points at woozoom", "webhooks install")
	})
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// A database check cannot read (it belongs to the service's user) is named,
// and the rest is still checked.
func TestCheckWithAnUnreadableDatabase(t *testing.T) {
	e := startE2E(t)
	good, _ := os.ReadFile(e.cfgFile)
	defer os.WriteFile(e.cfgFile, good, 0o600)
	dir := t.TempDir() + "/not-a-file.db"
	if err := os.Mkdir(dir, 0o700); err != nil { // a directory cannot be opened as a database
		t.Fatal(err)
	}
	os.WriteFile(e.cfgFile, []byte(strings.Replace(string(good), "database: "+e.dbFile, "database: "+dir, 1)), 0o600)
	out, code := e.cli("check")
	if code == 0 || !strings.Contains(out, "cannot be read") || !strings.Contains(out, "REST key reads orders") || !strings.Contains(out, "Online guided tour") {
		t.Errorf("check with an unreadable database: exit %d\n%s", code, out)
	}
}
