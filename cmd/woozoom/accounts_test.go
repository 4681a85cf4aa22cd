package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom"
	"github.com/woozoom/woozoom/zoom/zoomtest"
	"github.com/woozoom/woozoom/zoom/zoomtest/contract"
)

const westSecret = "zoom-client-secret-west-0123456789"

// addAccount serves a second account at the fake Zoom's address.
func (e *e2e) addAccount(west *zoomtest.Fake) {
	e.t.Helper()
	check, err := contract.NewValidator(e.zsrv.URL+"/v2", zoomtest.NewCloud(e.zoom, west))
	if err != nil {
		e.t.Fatal(err)
	}
	e.zoomAt.set(check)
	e.check = check
}

// useTwoAccounts restarts woozoom with both under
// zoom_accounts: product 10's meeting stays east's (the first, named by
// no event), product 11 maps west's webinar, and product 12's meeting is
// made for a west host. Each account's secrets come from the environment.
func (e *e2e) useTwoAccounts(webinar int64, product int64) {
	e.t.Helper()
	e.t.Setenv("WOOZOOM_ZOOM_CLIENT_SECRET", "")
	e.t.Setenv("WOOZOOM_ZOOM_ACCOUNTS_EAST_CLIENT_SECRET", e2eZoomSecret)
	e.t.Setenv("WOOZOOM_ZOOM_ACCOUNTS_WEST_CLIENT_SECRET", westSecret)
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "  account_id: acct-e2e\n  client_id: client-e2e\n", "", 1)
		cfg = strings.Replace(cfg, "worker:\n", `zoom_accounts:
  - name: east
    account_id: acct-e2e
    client_id: client-e2e
    webhook_secret_token: east-token
  - name: west
    account_id: acct-west
    client_id: client-west
    webhook_secret_token: west-token
worker:
`, 1)
		cfg = strings.Replace(cfg, fmt.Sprintf("    webinar_id: %d\n", e.webinar), fmt.Sprintf("    webinar_id: %d\n    zoom_account: west\n", webinar), 1)
		return cfg + fmt.Sprintf("  - product_id: %d\n    create: meeting\n    host: host@west.example\n    zoom_account: west\n", product)
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
}

// Two Zoom accounts in one woozoom: each order's attendees land on the
// account of each meeting, a meeting made for a host is made on the
// host's account, a cancel reaches both accounts, and each account's
// events come in at its own path under its own secret.
func TestTwoZoomAccounts(t *testing.T) {
	e := startE2E(t)
	west := zoomtest.New(zoomtest.Credentials{AccountID: "acct-west", ClientID: "client-west", ClientSecret: westSecret}, zoomtest.ProLimits)
	west.AddUser(zoomtest.User{Email: "host@west.example", FirstName: "West", Type: 2})
	e.addAccount(west)
	webinar := west.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "West webinar", HostEmail: "host@west.example", Duration: 60})
	product := e.shop.CreateProduct(wootest.Product{Name: "West tour", Meta: fooEvent("December 10, 2026", "6", "00", "7")})
	e.useTwoAccounts(webinar, product)
	if strings.Contains(e.logs.String(), westSecret) {
		t.Error("west's client secret appears in the log")
	}

	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Rita", Email: "rita@example.org",
		Items: []wootest.Item{{ProductID: 10}, {ProductID: 11}, {ProductID: product}}})
	e.eventually("rita on east's meeting, west's webinar and the meeting made on west", func() bool {
		made := west.MeetingsOf("host@west.example")
		return e.zoomStatus(e.meeting, "rita@example.org") == "approved" && statusOn(west, webinar, "rita@example.org") == "approved" &&
			len(made) == 2 && statusOn(west, made[1], "rita@example.org") == "approved" && e.settled()
	})
	if n := len(e.zoom.MeetingsOf("host@west.example")); n != 0 {
		t.Errorf("east holds %d meetings of west's host", n)
	}
	made := west.MeetingsOf("host@west.example")[1] // after the webinar

	// West's host cancels Rita on west's webinar: woozoom hears it at
	// west's path and reads the registrant from west.
	west.SetWebhook(e.url+"/webhooks/zoom/west", "west-token")
	if code, err := west.HostCancel(webinar, "rita@example.org", "host@west.example", false); err != nil || code != http.StatusOK {
		t.Fatalf("west's event answered %d, %v", code, err)
	}
	e.eventually("the staff note of west's cancel", func() bool {
		return e.notesWith(id, false, fmt.Sprintf("rita@example.org was cancelled on webinar %d in Zoom by host@west.example", webinar)) == 1
	})

	e.shop.SetStatus(id, "cancelled")
	e.eventually("rita denied on both accounts", func() bool {
		return e.zoomStatus(e.meeting, "rita@example.org") == "denied" && statusOn(west, made, "rita@example.org") == "denied" && e.settled()
	})
	for _, f := range []*zoomtest.Fake{e.zoom, west} {
		for _, c := range f.Calls() {
			if c.Code == 3001 {
				t.Errorf("a call went to an account without its meeting: %+v", c)
			}
		}
	}

	// Each account's events: at its own path, under its own secret.
	event := []byte(fmt.Sprintf(`{"event":"webinar.updated","event_ts":%d,"payload":{"account_id":"acct-west","object":{"id":%d}}}`, time.Now().UnixMilli(), webinar))
	for _, c := range []struct {
		path, secret string
		want         int
	}{
		{"/webhooks/zoom/west", "west-token", http.StatusOK},
		{"/webhooks/zoom/west", "east-token", http.StatusUnauthorized},
		{"/webhooks/zoom/north", "west-token", http.StatusNotFound},
		{"/webhooks/zoom", "east-token", http.StatusOK}, // the first account keeps the plain path
	} {
		if got := e.postZoomEvent(c.path, c.secret, event); got != c.want {
			t.Errorf("an event signed with %s at %s answered %d, want %d", c.secret, c.path, got, c.want)
		}
	}
}

func statusOn(f *zoomtest.Fake, target int64, email string) string {
	r, ok := f.Registrant(target, email)
	if !ok {
		return "none"
	}
	return r.Status
}

func (e *e2e) postZoomEvent(path, secret string, body []byte) int {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(zoom.HeaderTimestamp, ts)
	req.Header.Set(zoom.HeaderSignature, "v0="+zoom.WebhookSignature(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
