package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/woozoom/woozoom/rules"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

const goodConfig = `
woocommerce:
  url: https://shop.example.com
  consumer_key: ck_1
  consumer_secret: cs_1
  webhook_secret: whsec_1
zoom:
  account_id: a
  client_id: c
  client_secret: zoom-secret-value
events:
  - product_id: 812
    meeting_id: "857 4606 5123"
  - product_id: 812
    variation_id: 815
    webinar_id: 91234567890
`

func TestConfigDefaultsEnvAndMappings(t *testing.T) {
	t.Setenv("WOOZOOM_ZOOM_CLIENT_SECRET", "from-env")
	t.Setenv("WOOZOOM_LISTEN", ":9090")
	c, err := loadConfig(writeConfig(t, goodConfig), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if c.Zoom.ClientSecret != "from-env" || c.Listen != ":9090" {
		t.Errorf("environment did not override: secret %q listen %q", c.Zoom.ClientSecret, c.Listen)
	}
	if c.Zoom.APIURL != "https://api.zoom.us/v2" || c.Zoom.OAuthURL != "https://zoom.us/oauth/token" || c.Database != "woozoom.db" {
		t.Errorf("defaults: %+v", c.Zoom)
	}
	ms, _ := c.Mappings()
	want := []rules.Mapping{
		{ProductID: 812, Target: rules.Target{Kind: rules.Meeting, ID: 85746065123}},
		{ProductID: 812, VariationID: 815, Target: rules.Target{Kind: rules.Webinar, ID: 91234567890}},
	}
	if diff := cmp.Diff(want, ms); diff != "" {
		t.Errorf("mappings (-want +got)\n%s", diff)
	}
}

func TestConfigEnvAloneSuffices(t *testing.T) {
	for k, v := range map[string]string{
		"WOOZOOM_WOOCOMMERCE_URL": "https://shop.example.com", "WOOZOOM_WOOCOMMERCE_CONSUMER_KEY": "k",
		"WOOZOOM_WOOCOMMERCE_CONSUMER_SECRET": "s", "WOOZOOM_WOOCOMMERCE_WEBHOOK_SECRET": "w",
		"WOOZOOM_ZOOM_ACCOUNT_ID": "a", "WOOZOOM_ZOOM_CLIENT_ID": "c", "WOOZOOM_ZOOM_CLIENT_SECRET": "z",
	} {
		t.Setenv(k, v)
	}
	c, err := loadConfig(filepath.Join(t.TempDir(), "absent.yaml"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("environment-only config refused: %v", err)
	}
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	c, err := loadConfig(writeConfig(t, `
woocommerce:
  url: ftp://shop.example.com
zoom:
  api_url: not a url
worker:
  workers: 0
statuses:
  register: [completed]
  cancel: [completed, refunded]
events:
  - product_id: 0
    meeting_id: 1
  - product_id: 5
  - product_id: 6
    meeting_id: 1
    webinar_id: 2
  - product_id: 7
    meeting_id: abc
  - product_id: 8
    link: meet.jit.si/no-scheme
    topic: Class
  - product_id: 9
    link: https://meet.jit.si/class
  - product_id: 10
    link: https://meet.jit.si/class
    topic: Class
    start: tomorrow
  - product_id: 11
    create: room
    meeting_id: 5
    multi_day: weekly
  - product_id: 12
    create: webinar
  - product_id: 13
    create: meeting
    host: h@shop.example
    topic: "{{.Title}}"
  - product_id: 13
    create: webinar
    host: h@shop.example
    day: 2
meeting_defaults:
  approval_type: 2
calendar:
  url: shop.example/woozoom
  reminders: [-1h]
`), true)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{
		"woocommerce.consumer_key is required", "WOOZOOM_WOOCOMMERCE_CONSUMER_KEY", "woocommerce.webhook_secret is required",
		"zoom.client_secret is required", "must be an https:// address", "zoom.api_url", "worker.workers",
		`"completed" is in both`, "events[0]", "events[1] (product 5): needs a meeting_id", "not both", `"abc" is not a Zoom`,
		`events[4] (product 8): link "meet.jit.si/no-scheme" is not an http(s) URL`,
		`events[6] (product 10): start "tomorrow" is not an RFC 3339 time`, `calendar.url "shop.example/woozoom" is not an http(s) URL`,
		"calendar.reminders: -1h0m0s is not a time before the event",
		`events[7] (product 11): create "room": use meeting or webinar`, "give no meeting_id", `multi_day "weekly"`, `can't evaluate field Title`,
		"events[8] (product 12): create needs a host", "events[10] (product 13): create makes the meetings of the whole product",
		"product 13 has two create or follow entries", "meeting_defaults.approval_type: woozoom sets it",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validation does not say %q:\n%v", want, err)
		}
	}
}

func TestCheckHidesSecrets(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"check", "--offline", "--config", writeConfig(t, goodConfig)}, &out, io.Discard)
	if code != 0 || !strings.Contains(out.String(), "configuration OK") {
		t.Errorf("check exit %d:\n%s", code, out.String())
	}
	for _, secret := range []string{"zoom-secret-value", "cs_1", "whsec_1", "ck_1"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("check printed the secret %q", secret)
		}
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", writeConfig(t, "zoom: {client_id: c}\n")}, &out, &errOut); code == 0 {
		t.Error("check passed an incomplete config")
	}
	if code := run(context.Background(), []string{"serve", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &errOut); code == 0 {
		t.Error("serve started with a named config file that does not exist")
	}
}

func TestServeRefusesIncompleteLiveConfig(t *testing.T) {
	var errOut bytes.Buffer
	f := writeConfig(t, "woocommerce: {url: https://shop.example.com, consumer_key: k, consumer_secret: s}\nzoom: {account_id: a, client_id: c, client_secret: z}\n")
	if code := run(context.Background(), []string{"serve", "--config", f}, io.Discard, &errOut); code == 0 {
		t.Fatal("serve started without a webhook secret")
	}
	if !strings.Contains(errOut.String(), "webhook_secret is required") {
		t.Errorf("error does not name the missing secret:\n%s", errOut.String())
	}
}

func TestMapCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	var out bytes.Buffer
	runOK := func(args ...string) string {
		t.Helper()
		out.Reset()
		if code := run(context.Background(), append(args, "--database", db), &out, &out); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out.String())
		}
		return out.String()
	}
	runOK("map", "add", "--product", "812", "--meeting", "857 4606 5123")
	runOK("map", "add", "--product", "812", "--variation", "815", "--webinar", "91234567890")
	list := runOK("map", "list")
	if !strings.Contains(list, "85746065123") || !strings.Contains(list, "91234567890") {
		t.Errorf("map list:\n%s", list)
	}
	runOK("map", "remove", "--product", "812", "--meeting", "85746065123")
	if list := runOK("map", "list"); strings.Contains(list, "85746065123") {
		t.Errorf("removed mapping still listed:\n%s", list)
	}
	if code := run(context.Background(), []string{"map", "add", "--product", "812", "--database", db}, &out, &out); code == 0 {
		t.Error("map add without a target succeeded")
	}
	if code := run(context.Background(), []string{"jobs", "retry", "77", "--database", db}, &out, &out); code == 0 {
		t.Error("retrying a job that does not exist succeeded")
	}
	if code := run(context.Background(), []string{"jobs", "retry", "--database", db}, &out, &out); code == 0 {
		t.Error("jobs retry without ids or --waiting succeeded")
	}
	if got := runOK("jobs", "retry", "--waiting"); !strings.Contains(got, "no job is waiting") {
		t.Errorf("jobs retry --waiting on an empty queue: %q", got)
	}
}

func TestConfigAttendeeKeys(t *testing.T) {
	c, err := loadConfig(writeConfig(t, goodConfig+`  - product_id: 840
    meeting_id: 1234567890
    attendees: {email_key: guest_email}
attendees:
  email_key: Attendee Email
  first_name_key: Attendee Name
`), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.policy()
	if p.Attendees != (rules.AttendeeKeys{Email: "Attendee Email", FirstName: "Attendee Name"}) {
		t.Errorf("shop-wide keys = %+v", p.Attendees)
	}
	if p.AttendeesByProduct[840] != (rules.AttendeeKeys{Email: "guest_email"}) || len(p.AttendeesByProduct) != 1 {
		t.Errorf("per-product keys = %+v", p.AttendeesByProduct)
	}
}

func TestConfigDaysSlotsOccurrences(t *testing.T) {
	c, err := loadConfig(writeConfig(t, goodConfig+`  - product_id: 840
    day: 2
    meeting_id: 1234567890
  - product_id: 850
    slot: evening
    meeting_id: 1234567891
    occurrence_ids: "1764608400000, 1764522000000"
slot_keys: [Booking Slot]
`), true)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.Mappings()
	if err != nil {
		t.Fatal(err)
	}
	if ms[2].Day != 2 || ms[3].Slot != "evening" || ms[3].Occurrences != "1764522000000,1764608400000" {
		t.Errorf("mappings = %+v", ms[2:])
	}
	if p := c.policy(); len(p.SlotKeys) != 1 || p.SlotKeys[0] != "Booking Slot" {
		t.Errorf("slot keys = %v", p.SlotKeys)
	}
	bad, _ := loadConfig(writeConfig(t, goodConfig+"  - {product_id: 9, meeting_id: 1234567890, occurrence_ids: \"tomorrow\"}\n"), true)
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "not a Zoom occurrence id") {
		t.Errorf("bad occurrence id: %v", err)
	}
}

// The example a user copies is a valid configuration.
func TestConfigExampleIsValid(t *testing.T) {
	example, err := os.ReadFile("../../config.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(writeConfig(t, string(example)), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("config.yaml.example does not validate:\n%v", err)
	}
	if c.Zoom.MaxShare != 1 || c.Zoom.LightPerSecond != 0 || c.Worker.Workers != 16 || c.WooCommerce.ReactivateWebhooks {
		t.Errorf("the example's values differ from the defaults it documents: %+v %+v", c.Zoom, c.Worker)
	}
}

const accountsConfig = `
woocommerce:
  url: https://shop.example.com
  consumer_key: ck_1
  consumer_secret: cs_1
  webhook_secret: whsec_1
zoom:
  max_share: 0.5
zoom_accounts:
  - name: east
    account_id: acct-east
    client_id: client-east
  - name: west-2
    account_id: acct-west
    client_id: client-west
    client_secret: west-in-file
    light_per_second: 20
events:
  - product_id: 812
    meeting_id: "857 4606 5123"
  - product_id: 813
    webinar_id: 91234567890
    zoom_account: west-2
`

func TestConfigZoomAccounts(t *testing.T) {
	t.Setenv("WOOZOOM_ZOOM_ACCOUNTS_EAST_CLIENT_SECRET", "east-from-env")
	t.Setenv("WOOZOOM_ZOOM_ACCOUNTS_WEST_2_WEBHOOK_SECRET_TOKEN", "west-token-from-env")
	c, err := loadConfig(writeConfig(t, accountsConfig), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	all := c.zoomAccounts()
	if len(all) != 2 || all[0].Name != "east" || all[1].Name != "west-2" {
		t.Fatalf("accounts: %+v", all)
	}
	east, west := all[0].ZoomConfig, all[1].ZoomConfig
	if east.ClientSecret != "east-from-env" || west.ClientSecret != "west-in-file" || west.WebhookSecretToken != "west-token-from-env" {
		t.Errorf("secrets: east %q, west %q, west's token %q", east.ClientSecret, west.ClientSecret, west.WebhookSecretToken)
	}
	// What an account leaves out, zoom: gives (its defaults included).
	if east.APIURL != "https://api.zoom.us/v2" || east.MaxShare != 0.5 || east.HostDailyLimit != 100 || west.LightPerSecond != 20 {
		t.Errorf("settings not inherited from zoom: east %+v west %+v", east, west)
	}
	ms, _ := c.Mappings()
	if len(ms) != 2 || ms[0].ZoomAccount != "" || ms[1].ZoomAccount != "west-2" {
		t.Errorf("mappings' accounts: %+v", ms)
	}
	if got := c.zoomSecrets(); len(got) != 1 || got["west-2"] != "west-token-from-env" {
		t.Errorf("webhook secrets by account: %v", got)
	}
}

func TestConfigZoomAccountsProblems(t *testing.T) {
	c, err := loadConfig(writeConfig(t, `
woocommerce:
  url: https://shop.example.com
  consumer_key: ck_1
  consumer_secret: cs_1
  webhook_secret: whsec_1
zoom:
  account_id: beside
zoom_accounts:
  - name: East
    account_id: a
    client_id: c
    client_secret: s
  - name: west
    account_id: a2
    client_id: c2
  - name: west
    account_id: a3
    client_id: c3
    client_secret: s3
events:
  - product_id: 1
    meeting_id: 5
    zoom_account: north
  - product_id: 2
    create: meeting
    host: h@shop.example
    zoom_account: west
  - product_id: 3
    create: meeting
    host: H@shop.example
`), true)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil {
		t.Fatal("bad accounts accepted")
	}
	for _, want := range []string{
		"zoom: names an app beside zoom_accounts",
		`"East" is not an account name`,
		`zoom_accounts: "west" is listed twice`,
		"zoom_accounts[west].client_secret is required", "WOOZOOM_ZOOM_ACCOUNTS_WEST_CLIENT_SECRET",
		`events[0] (product 1): zoom_account "north" is not one of zoom_accounts`,
		`events[2] (product 3): host H@shop.example is given under Zoom accounts "west" and "East"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validation does not say %q:\n%v", want, err)
		}
	}
}

func TestConfigShops(t *testing.T) {
	t.Setenv("WOOZOOM_SHOPS_ACADEMY_WEBHOOK_SECRET", "academy-hook-from-env")
	c, err := loadConfig(writeConfig(t, `
woocommerce:
  timeout: 12s
  customer_note: false
zoom:
  account_id: a
  client_id: c
  client_secret: zoom-secret-value
shops:
  - name: museum
    url: https://museum.example
    consumer_key: ck_m
    consumer_secret: cs_m
    webhook_secret: whsec_m
    customer_note: true
    events:
      - {product_id: 10, meeting_id: "857 4606 5123"}
  - name: academy
    url: https://academy.example
    consumer_key: ck_a
    consumer_secret: cs_a
    events:
      - {product_id: 10, webinar_id: 91234567890}
`), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid shops refused: %v", err)
	}
	all := c.shops()
	if len(all) != 2 || all[0].Name != "museum" || all[1].Name != "academy" {
		t.Fatalf("shops: %+v", all)
	}
	museum, academy := all[0].WooCommerce, all[1].WooCommerce
	// What a shop leaves out, woocommerce: gives (its defaults included).
	if !museum.CustomerNote || academy.CustomerNote || academy.Timeout.Seconds() != 12 || academy.MaxBodyBytes != 4<<20 {
		t.Errorf("settings not inherited: museum %+v academy %+v", museum, academy)
	}
	if academy.WebhookSecret != "academy-hook-from-env" {
		t.Errorf("academy's webhook secret from the environment: %q", academy.WebhookSecret)
	}
	sel, err := c.selectShop("academy")
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := sel.Mappings()
	if sel.shop() != "academy" || sel.WooCommerce.URL != "https://academy.example" || len(ms) != 1 || ms[0].Target.ID != 91234567890 {
		t.Errorf("academy selected: shop %q url %q mappings %+v", sel.shop(), sel.WooCommerce.URL, ms)
	}
	if err := sel.Validate(); err != nil {
		t.Errorf("a selected shop's configuration validates as a whole: %v", err)
	}
	if first, _ := c.selectShop(""); first.shop() != "museum" {
		t.Errorf("no --shop selects %q, want the first", first.shop())
	}
	if _, err := c.selectShop("bookshop"); err == nil || !strings.Contains(err.Error(), "museum, academy") {
		t.Errorf("an unknown shop: %v", err)
	}
}

func TestConfigShopsProblems(t *testing.T) {
	c, err := loadConfig(writeConfig(t, `
woocommerce:
  url: https://beside.example
zoom:
  account_id: a
  client_id: c
  client_secret: zoom-secret-value
shops:
  - name: Museum
    url: ftp://museum.example
    consumer_key: k
    consumer_secret: s
    webhook_secret: w
  - name: academy
    url: https://academy.example
    consumer_key: k
    consumer_secret: s
    events:
      - {product_id: 0, meeting_id: 5}
  - name: academy
    url: https://academy2.example
    consumer_key: k
    consumer_secret: s
    webhook_secret: w
`), true)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil {
		t.Fatal("bad shops accepted")
	}
	for _, want := range []string{
		"woocommerce: or events: name a shop beside shops",
		`"Museum" is not a shop name`,
		`shops[Museum].url "ftp://museum.example" must be an https:// address`,
		"shops[academy].webhook_secret is required", "WOOZOOM_SHOPS_ACADEMY_WEBHOOK_SECRET",
		"shops[academy]: events[0]",
		`shops: "academy" is listed twice`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validation does not say %q:\n%v", want, err)
		}
	}
}
