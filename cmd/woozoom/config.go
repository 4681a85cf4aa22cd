package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/viper"
	"golang.org/x/crypto/bcrypt"

	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/admin"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
)

// Config is config.yaml, after environment overrides.
type Config struct {
	Listen      string            `mapstructure:"listen"`
	Database    string            `mapstructure:"database"`
	LogLevel    string            `mapstructure:"log_level"`
	LogFormat   string            `mapstructure:"log_format"`
	WooCommerce WooCommerceConfig `mapstructure:"woocommerce"`
	Zoom        ZoomConfig        `mapstructure:"zoom"`
	// ZoomAccounts are several Zoom accounts (an agency's clients, a
	// platform's shops); an event names its account with zoom_account.
	ZoomAccounts []ZoomAccountConfig `mapstructure:"zoom_accounts"`
	// Attendance tunes the poll that stands in for Zoom's ended events on
	// accounts without Zoom's webhooks.
	Attendance AttendanceConfig `mapstructure:"attendance"`
	// Recordings says who gets an event's cloud recording: off (default),
	// share (every paid attendee) or no_shows (those who did not attend);
	// an event's recordings: overrides it.
	Recordings string `mapstructure:"recordings"`
	// Shops are several shops in one woozoom (an agency's, a platform's),
	// each with its WooCommerce side and events; read by decodeShops.
	Shops []ShopConfig `mapstructure:"-"`
	// shopName is the shop a command works for (--shop), and root the
	// configuration as read, with every shop: set by forShop.
	shopName  string
	root      *Config
	Worker    WorkerConfig    `mapstructure:"worker"`
	Statuses  StatusConfig    `mapstructure:"statuses"`
	Attendees AttendeeConfig  `mapstructure:"attendees"`
	Reconcile ReconcileConfig `mapstructure:"reconcile"`
	SlotKeys  []string        `mapstructure:"slot_keys"`
	Events    []EventConfig   `mapstructure:"events"`
	Admin     AdminConfig     `mapstructure:"admin"`
	Audit     AuditConfig     `mapstructure:"audit"`
	Templates TemplatesConfig `mapstructure:"templates"`
	Calendar  CalendarConfig  `mapstructure:"calendar"`
	// MeetingDefaults are further Zoom settings of the meetings woozoom
	// makes (waiting_room, alternative_hosts, auto_recording, ...).
	MeetingDefaults map[string]any `mapstructure:"meeting_defaults"`
	// EventDates names the product meta keys of events made by plugins
	// other than FooEvents (read with no setting).
	EventDates EventDatesConfig `mapstructure:"event_dates"`
}

// EventDatesConfig names product meta keys holding an event's start and
// end as ISO 8601 date-times.
type EventDatesConfig struct {
	StartKey string `mapstructure:"start_key"`
	EndKey   string `mapstructure:"end_key"`
}

// AttendanceConfig: every Poll, the meetings with paid attendees whose
// scheduled end passed After ago (up to Within ago) have their attendance
// read, on Zoom accounts whose ended events do not come (no
// webhook_secret_token).
type AttendanceConfig struct {
	Poll   time.Duration `mapstructure:"poll"`
	After  time.Duration `mapstructure:"after"`
	Within time.Duration `mapstructure:"within"`
}

// TemplatesConfig names template files that replace the built-in ones.
type TemplatesConfig struct {
	Note      string `mapstructure:"note"`      // the access note
	Withdrawn string `mapstructure:"withdrawn"` // the note when access is withdrawn
	Meta      string `mapstructure:"meta"`      // the order meta text
	Entry     string `mapstructure:"entry"`     // one attendee's access to one event
	// Thanks, if set, is the customer note each attendee of an ended event
	// gets, once (off by default).
	Thanks string `mapstructure:"thanks"`
}

// CalendarConfig turns on calendar links.
type CalendarConfig struct {
	URL       string          `mapstructure:"url"` // where attendees reach woozoom
	Reminders []time.Duration `mapstructure:"reminders"`
}

// AdminConfig turns on the web console at /admin/ (with a password).
type AdminConfig struct {
	Password     string `mapstructure:"password"`
	PasswordHash string `mapstructure:"password_hash"` // bcrypt
	BasePath     string `mapstructure:"base_path"`     // a reverse proxy's prefix
	// TrustedProxies are the CIDRs of reverse proxies whose
	// X-Forwarded-For names the client; by default the peer is the client.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
}

func (a AdminConfig) enabled() bool { return a.Password != "" || a.PasswordHash != "" }

// AuditConfig sets how long the log of outbound calls is kept.
type AuditConfig struct {
	Keep time.Duration `mapstructure:"keep"`
}

// ReconcileConfig sets the periodic read of recently modified orders that
// catches orders whose webhook never arrived.
type ReconcileConfig struct {
	Interval time.Duration `mapstructure:"interval"` // 0 turns it off
	Lookback time.Duration `mapstructure:"lookback"` // first pass ever
	Overlap  time.Duration `mapstructure:"overlap"`
}

// AttendeeConfig names the line-item meta keys of per-ticket attendees, for
// plugins that write them there. FooEvents' order meta is read without it.
type AttendeeConfig struct {
	EmailKey     string `mapstructure:"email_key"`
	FirstNameKey string `mapstructure:"first_name_key"`
	LastNameKey  string `mapstructure:"last_name_key"`
}

func (a AttendeeConfig) keys() rules.AttendeeKeys {
	return rules.AttendeeKeys{Email: a.EmailKey, FirstName: a.FirstNameKey, LastName: a.LastNameKey}
}

// WooCommerceConfig is the shop side.
type WooCommerceConfig struct {
	URL            string        `mapstructure:"url"`
	ConsumerKey    string        `mapstructure:"consumer_key"`
	ConsumerSecret string        `mapstructure:"consumer_secret"`
	WebhookSecret  string        `mapstructure:"webhook_secret"`
	CustomerNote   bool          `mapstructure:"customer_note"`
	CAFile         string        `mapstructure:"ca_file"`
	Timeout        time.Duration `mapstructure:"timeout"`
	MaxBodyBytes   int64         `mapstructure:"max_body_bytes"`
	// WebhookURL is where the shop reaches woozoom's webhook endpoint.
	WebhookURL string `mapstructure:"webhook_url"`
	// ReactivateWebhooks re-activates a paused or disabled webhook once a
	// reconcile pass has caught up what it missed.
	ReactivateWebhooks bool `mapstructure:"reactivate_webhooks"`
	// Timezone is the shop's zone (WordPress > Settings > General), for
	// event dates that name none.
	Timezone string `mapstructure:"timezone"`
}

// ZoomConfig is the Zoom side.
type ZoomConfig struct {
	AccountID       string        `mapstructure:"account_id"`
	ClientID        string        `mapstructure:"client_id"`
	ClientSecret    string        `mapstructure:"client_secret"`
	APIURL          string        `mapstructure:"api_url"`
	OAuthURL        string        `mapstructure:"oauth_url"`
	Timeout         time.Duration `mapstructure:"timeout"`
	LightPerSecond  float64       `mapstructure:"light_per_second"`
	MediumPerSecond float64       `mapstructure:"medium_per_second"`
	MaxShare        float64       `mapstructure:"max_share"`
	// WebhookSecretToken turns on POST /webhooks/zoom: the Secret Token of
	// the app's event subscription.
	WebhookSecretToken string `mapstructure:"webhook_secret_token"`
	// HostDailyLimit is how many meeting creates, updates and deletes
	// woozoom makes per host per UTC day (Zoom allows 100; less leaves
	// some to other apps).
	HostDailyLimit int `mapstructure:"host_daily_limit"`
}

// WorkerConfig tunes the background worker.
type WorkerConfig struct {
	Workers   int           `mapstructure:"workers"`
	Poll      time.Duration `mapstructure:"poll"`
	Grace     time.Duration `mapstructure:"grace"`
	Lease     time.Duration `mapstructure:"lease"`
	RetryBase time.Duration `mapstructure:"retry_base"`
	RetryMax  time.Duration `mapstructure:"retry_max"`
}

// StatusConfig says which order statuses register and which cancel.
type StatusConfig struct {
	Register []string `mapstructure:"register"`
	Cancel   []string `mapstructure:"cancel"`
}

// EventConfig maps a product (and variation) to a meeting or a webinar.
type EventConfig struct {
	ProductID     int64  `mapstructure:"product_id"`
	VariationID   int64  `mapstructure:"variation_id"`
	Day           int    `mapstructure:"day"`
	Slot          string `mapstructure:"slot"`
	MeetingID     string `mapstructure:"meeting_id"`
	WebinarID     string `mapstructure:"webinar_id"`
	OccurrenceIDs string `mapstructure:"occurrence_ids"`
	// Attendees overrides the shop-wide attendee keys for this product.
	Attendees *AttendeeConfig `mapstructure:"attendees"`
	// NoteTemplate is a file with this event's entry template.
	NoteTemplate string `mapstructure:"note_template"`
	// Link is an event held elsewhere (Jitsi, Meet, Teams, YouTube), given
	// instead of a meeting or webinar, with what the notes say of it; the
	// topic defaults to the product's name.
	Link     string `mapstructure:"link"`
	Passcode string `mapstructure:"passcode"`
	Topic    string `mapstructure:"topic"`
	Start    string `mapstructure:"start"` // RFC 3339, e.g. 2026-12-03T18:00:00+01:00
	Duration int    `mapstructure:"duration"`
	Timezone string `mapstructure:"timezone"`
	// Create makes the product's meeting or webinar ("meeting", "webinar")
	// for Host, from the product's name and date, instead of a meeting_id.
	// Topic is then a template ({{.Name}}, {{.Day}}, {{.Days}}).
	Create string `mapstructure:"create"`
	Host   string `mapstructure:"host"`
	// MultiDay: "days" (a meeting per day, default) or "recurring" (one
	// meeting with a daily occurrence per day).
	MultiDay string `mapstructure:"multi_day"`
	// Follow: the linked meeting_id or webinar_id takes the product's name
	// and times when they change (never deleted with it).
	Follow bool `mapstructure:"follow"`
	// Capacity is how many attendees the meeting takes (check warns when
	// the product's stock exceeds it); 0: Zoom's 4,999 registrants per
	// meeting, unknown for webinars.
	Capacity int `mapstructure:"capacity"`
	// ZoomAccount names the account of zoom_accounts the meeting or
	// webinar belongs to, or is made on (empty: the first).
	ZoomAccount string `mapstructure:"zoom_account"`
	// Recordings overrides recordings: for this product's event.
	Recordings string `mapstructure:"recordings"`
}

// linkDetails are what a link event's notes and calendar file say.
func (e EventConfig) linkDetails() (rules.TargetDetails, error) {
	u, err := url.Parse(strings.TrimSpace(e.Link))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return rules.TargetDetails{}, fmt.Errorf("link %q is not an http(s) URL", e.Link)
	}
	d := rules.TargetDetails{Target: rules.LinkTarget(e.Link), Topic: strings.TrimSpace(e.Topic), Duration: e.Duration,
		Timezone: e.Timezone, Passcode: e.Passcode, JoinURL: strings.TrimSpace(e.Link)}
	if e.Start != "" {
		if d.StartTime, err = time.Parse(time.RFC3339, e.Start); err != nil {
			return d, fmt.Errorf("start %q is not an RFC 3339 time (2026-12-03T18:00:00+01:00)", e.Start)
		}
		d.StartTime = d.StartTime.UTC()
	}
	if e.Timezone != "" {
		if _, err := time.LoadLocation(e.Timezone); err != nil {
			return d, fmt.Errorf("timezone %q is not an IANA zone (Europe/Berlin)", e.Timezone)
		}
	}
	return d, nil
}

// linksNamedByProduct are the link events without a topic: the product's
// name, read from the shop, is their topic.
func (c Config) linksNamedByProduct() map[rules.Target]bool {
	out := map[rules.Target]bool{}
	for _, d := range c.LinkDetails() {
		if d.Topic == "" {
			out[d.Target] = true
		}
	}
	return out
}

// LinkDetails are the details of every link event of the configuration.
func (c Config) LinkDetails() []rules.TargetDetails {
	var out []rules.TargetDetails
	for _, e := range c.Events {
		if e.Link == "" {
			continue
		}
		if d, err := e.linkDetails(); err == nil {
			out = append(out, d)
		}
	}
	return out
}

var defaults = map[string]any{
	"listen":                          ":8080",
	"database":                        "woozoom.db",
	"log_level":                       "info",
	"log_format":                      "text",
	"woocommerce.url":                 "",
	"woocommerce.consumer_key":        "",
	"woocommerce.consumer_secret":     "",
	"woocommerce.webhook_secret":      "",
	"woocommerce.customer_note":       true,
	"woocommerce.ca_file":             "",
	"woocommerce.timeout":             "30s",
	"woocommerce.max_body_bytes":      4 << 20,
	"woocommerce.webhook_url":         "",
	"woocommerce.reactivate_webhooks": false,
	"woocommerce.timezone":            "UTC",
	"zoom.account_id":                 "",
	"zoom.client_id":                  "",
	"zoom.client_secret":              "",
	"zoom.api_url":                    zoom.DefaultAPIURL,
	"zoom.oauth_url":                  zoom.DefaultOAuthURL,
	"zoom.timeout":                    "30s",
	"zoom.light_per_second":           0,
	"zoom.medium_per_second":          0,
	"zoom.max_share":                  1.0,
	"zoom.webhook_secret_token":       "",
	"zoom.host_daily_limit":           100,
	"meeting_defaults":                map[string]any{},
	"event_dates.start_key":           "",
	"event_dates.end_key":             "",
	"worker.workers":                  16,
	"worker.poll":                     "1s",
	"worker.grace":                    "10s",
	"worker.lease":                    "30s",
	"worker.retry_base":               "10s",
	"worker.retry_max":                "30m",
	"statuses.register":               []string{rules.StatusCompleted},
	"statuses.cancel":                 []string{rules.StatusCancelled, rules.StatusRefunded},
	"attendees.email_key":             "",
	"attendees.first_name_key":        "",
	"attendees.last_name_key":         "",
	"reconcile.interval":              "15m",
	"reconcile.lookback":              "24h",
	"reconcile.overlap":               "2m",
	"slot_keys":                       []string{},
	"events":                          []any{},
	"admin.password":                  "",
	"admin.password_hash":             "",
	"admin.base_path":                 "",
	"admin.trusted_proxies":           []string{},
	"audit.keep":                      "720h",
	"templates.note":                  "",
	"templates.withdrawn":             "",
	"templates.meta":                  "",
	"templates.entry":                 "",
	"templates.thanks":                "",
	"recordings":                      "off",
	"attendance.poll":                 "5m",
	"attendance.after":                "15m",
	"attendance.within":               "48h",
	"calendar.url":                    "",
	"calendar.reminders":              []string{"168h", "24h", "1h"},
}

// loadConfig reads file (if it exists, or must exist when required) and the
// WOOZOOM_ environment: WOOZOOM_ZOOM_CLIENT_SECRET sets zoom.client_secret.
func loadConfig(file string, required bool) (Config, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix("WOOZOOM")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			var notFound viper.ConfigFileNotFoundError
			if required || !(errors.As(err, &notFound) || os.IsNotExist(err) || errors.Is(err, os.ErrNotExist)) {
				return Config{}, fmt.Errorf("read config %s: %w", file, err)
			}
		}
	}
	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return Config{}, fmt.Errorf("read config %s: %w", file, err)
	}
	c.accountSecretsFromEnv()
	shops, err := decodeShops(v)
	if err != nil {
		return Config{}, fmt.Errorf("read config %s: %w", file, err)
	}
	c.Shops = shops
	return c, nil
}

// implicitDemo reports whether serve without --demo runs the demo: only
// when nothing configures woozoom at all, as on a fresh clone. A
// configuration file, or any WOOZOOM_ setting, is a real installation:
// missing credentials then stop serve with a list of what is missing.
func implicitDemo(file string, fileGiven bool, environ []string) bool {
	if fileGiven {
		return false
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	for _, kv := range environ {
		if strings.HasPrefix(kv, "WOOZOOM_") {
			return false
		}
	}
	return true
}

// consoleProblems checks the console's and the audit log's settings; the
// demo checks them too.
func (c Config) consoleProblems() []error {
	var errs []error
	a := c.Admin
	if a.PasswordHash != "" {
		if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
			errs = append(errs, fmt.Errorf("admin.password_hash is not a bcrypt hash (%w): make one with htpasswd -nbBC 12 '' PASSWORD | cut -d: -f2", err))
		}
	} else if a.Password != "" && len(a.Password) < 12 {
		errs = append(errs, fmt.Errorf("admin.password has %d characters; use at least 12 (or admin.password_hash)", len(a.Password)))
	}
	if _, err := admin.ParseProxies(a.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("admin.trusted_proxies: %w", err))
	}
	if a.BasePath != "" && (!strings.HasPrefix(a.BasePath, "/") || strings.ContainsAny(a.BasePath, "?#\\\" \t")) {
		errs = append(errs, fmt.Errorf("admin.base_path %q must be a path starting with /, e.g. /woozoom", a.BasePath))
	}
	if _, err := c.templates(); err != nil {
		errs = append(errs, err)
	}
	if u, err := url.Parse(c.Calendar.URL); c.Calendar.URL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		errs = append(errs, fmt.Errorf("calendar.url %q is not an http(s) URL; it is where attendees reach woozoom, e.g. https://shop.example.com/woozoom", c.Calendar.URL))
	}
	for _, r := range c.Calendar.Reminders {
		if r <= 0 {
			errs = append(errs, fmt.Errorf("calendar.reminders: %s is not a time before the event (e.g. 24h)", r))
		}
	}
	if c.Audit.Keep < time.Hour {
		errs = append(errs, fmt.Errorf("audit.keep is %s; use at least 1h (default 720h, 30 days)", c.Audit.Keep))
	}
	return errs
}

// Validate returns every problem at once, one per line.
func (c Config) Validate() error {
	if c.root != nil {
		return c.root.Validate() // all of it, not the one shop's view
	}
	var errs []error
	need := func(val, key, why string) {
		if strings.TrimSpace(val) == "" {
			errs = append(errs, fmt.Errorf("%s is required: %s (or set %s)", key, why, envName(key)))
		}
	}
	need(c.Listen, "listen", "the address to listen on, e.g. :8080")
	need(c.Database, "database", "the SQLite file, e.g. /var/lib/woozoom/woozoom.db, or a PostgreSQL URL, postgres://user:password@host/woozoom")
	errs = append(errs, c.shopsProblems()...)
	errs = append(errs, c.zoomProblems()...)
	if c.Worker.Workers < 1 || c.Worker.Workers > 64 {
		errs = append(errs, fmt.Errorf("worker.workers is %d; use 1 to 64", c.Worker.Workers))
	}
	if c.Reconcile.Interval < 0 || (c.Reconcile.Interval > 0 && c.Reconcile.Interval < 10*time.Second) {
		errs = append(errs, fmt.Errorf("reconcile.interval is %s; use 0 (off) or at least 10s", c.Reconcile.Interval))
	}
	if len(c.Statuses.Register) == 0 {
		errs = append(errs, errors.New("statuses.register is empty: no order would ever register anyone"))
	}
	for _, s := range c.Statuses.Register {
		for _, x := range c.Statuses.Cancel {
			if s == x {
				errs = append(errs, fmt.Errorf("status %q is in both statuses.register and statuses.cancel", s))
			}
		}
	}
	errs = append(errs, c.consoleProblems()...)
	errs = append(errs, c.recordingProblems()...)
	return errors.Join(errs...)
}

// recordingProblems checks recordings: and each event's.
func (c Config) recordingProblems() []error {
	var errs []error
	valid := func(key, v string) {
		if v != "" && v != rules.ReplayOff && v != rules.ReplayShare && v != rules.ReplayNoShows {
			errs = append(errs, fmt.Errorf("%s is %q; use off, share (every paid attendee gets the recording) or no_shows (those who did not attend)", key, v))
		}
	}
	valid("recordings", c.Recordings)
	if a := c.Attendance; a.Poll < time.Second || a.After < 0 || a.Within <= a.After {
		errs = append(errs, fmt.Errorf("attendance: poll %s, after %s, within %s: use a poll of at least 1s, after of 0 or more and within longer than after (defaults 5m, 15m, 48h)", a.Poll, a.After, a.Within))
	}
	for i, e := range c.allEvents() {
		valid(fmt.Sprintf("events[%d] (product %d).recordings", i, e.ProductID), e.Recordings)
	}
	return errs
}

// recordingsOn says whether any event's recording goes to ticket holders.
func (c Config) recordingsOn() bool {
	if cmpOr(c.Recordings, rules.ReplayOff) != rules.ReplayOff {
		return true
	}
	for _, e := range c.allEvents() {
		if e.Recordings != "" && e.Recordings != rules.ReplayOff {
			return true
		}
	}
	return false
}

// replays says who of a product's paid attendees gets its recording.
func (c Config) replays() func(productID int64) string {
	byProduct := map[int64]string{}
	for _, e := range c.Events {
		if e.Recordings != "" {
			byProduct[e.ProductID] = e.Recordings
		}
	}
	shop := cmpOr(c.Recordings, rules.ReplayOff)
	return func(productID int64) string { return cmpOr(byProduct[productID], shop) }
}

// shopProblems checks one shop's WooCommerce side and events; key names
// a setting of the shop as config.yaml spells it, env its variable, and
// where starts what is said of its events.
func (c Config) shopProblems(key, env func(string) string, where string) []error {
	var errs []error
	need := func(val, k, why string) {
		if strings.TrimSpace(val) == "" {
			errs = append(errs, fmt.Errorf("%s is required: %s (or set %s)", key(k), why, env(k)))
		}
	}
	need(c.WooCommerce.URL, "url", "the shop's address, e.g. https://shop.example.com")
	need(c.WooCommerce.ConsumerKey, "consumer_key", "a REST API key with Read/Write (WooCommerce > Settings > Advanced > REST API)")
	need(c.WooCommerce.ConsumerSecret, "consumer_secret", "the secret of that REST API key")
	need(c.WooCommerce.WebhookSecret, "webhook_secret", "the Secret of the WooCommerce webhook; without it every delivery is refused")
	if u, err := url.Parse(c.WooCommerce.URL); c.WooCommerce.URL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		errs = append(errs, fmt.Errorf("%s %q must be an https:// address (or http:// for a shop on this host or a private network: requests are then signed with OAuth 1.0a)", key("url"), c.WooCommerce.URL))
	}
	if _, err := c.Mappings(); err != nil {
		errs = append(errs, fmt.Errorf("%s%w", where, err))
	}
	for _, err := range c.makingProblems() {
		errs = append(errs, fmt.Errorf("%s%w", where, err))
	}
	if u, err := url.Parse(c.WooCommerce.WebhookURL); c.WooCommerce.WebhookURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		errs = append(errs, fmt.Errorf("%s %q is not an http(s) URL; it is where the shop reaches woozoom, e.g. https://shop.example.com/woozoom/webhooks/woocommerce", key("webhook_url"), c.WooCommerce.WebhookURL))
	}
	if c.WooCommerce.CAFile != "" {
		if _, err := os.Stat(c.WooCommerce.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key("ca_file"), err))
		}
	}
	return errs
}

// Mappings turns the events entries into mappings, reporting every bad one.
func (c Config) Mappings() ([]rules.Mapping, error) {
	var out []rules.Mapping
	var errs []error
	for i, e := range c.Events {
		where := fmt.Sprintf("events[%d] (product %d)", i, e.ProductID)
		m, err := e.mapping()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		case e.Create == "":
			out = append(out, m)
		}
	}
	return out, errors.Join(errs...)
}

// mapping reads one events entry; one that makes its meeting (create) is
// mapped by the meetings woozoom makes.
func (e EventConfig) mapping() (rules.Mapping, error) {
	spec := rules.MappingSpec{ProductID: e.ProductID, VariationID: e.VariationID, Day: e.Day, Slot: e.Slot,
		Occurrences: e.OccurrenceIDs, ID: e.MeetingID + e.WebinarID}
	switch {
	case e.Create != "":
		if e.ProductID <= 0 {
			return rules.Mapping{}, errors.New("the product must be a WooCommerce product id")
		}
		_, err := e.maker()
		return rules.Mapping{}, err
	case e.Link != "" && (e.MeetingID != "" || e.WebinarID != ""):
		return rules.Mapping{}, errors.New("give a link or a meeting_id or webinar_id, not both")
	case e.Link != "":
		d, err := e.linkDetails()
		if err != nil {
			return rules.Mapping{}, err
		}
		// A link has no Zoom id: the rest is read as a meeting's, then the
		// link is its target.
		spec.Kind, spec.ID = rules.Meeting, "1"
		m, err := rules.ParseMapping(spec)
		m.Target = d.Target
		return m, err
	case e.MeetingID != "" && e.WebinarID != "":
		return rules.Mapping{}, errors.New("give meeting_id or webinar_id, not both")
	case e.MeetingID != "":
		spec.Kind = rules.Meeting
	case e.WebinarID != "":
		spec.Kind = rules.Webinar
	default:
		return rules.Mapping{}, errors.New("needs a meeting_id, a webinar_id or a link")
	}
	m, err := rules.ParseMapping(spec)
	m.ZoomAccount = e.ZoomAccount
	return m, err
}

func (c Config) policy() rules.Policy {
	p := rules.Policy{RegisterStatuses: c.Statuses.Register, CancelStatuses: c.Statuses.Cancel, Attendees: c.Attendees.keys(), SlotKeys: c.SlotKeys}
	for _, e := range c.Events {
		if e.Attendees != nil {
			if p.AttendeesByProduct == nil {
				p.AttendeesByProduct = map[int64]rules.AttendeeKeys{}
			}
			p.AttendeesByProduct[e.ProductID] = e.Attendees.keys()
		}
	}
	return p
}

func envName(key string) string {
	return "WOOZOOM_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// redact shows whether a secret is set without showing it.
func redact(s string) string {
	if s == "" {
		return "(not set)"
	}
	return fmt.Sprintf("(set, %d characters)", len(s))
}

// templates reads and parses the template files; a broken one is named
// with its line and column.
func (c Config) templates() (*access.Templates, error) {
	read := func(key, file string) (access.Source, error) {
		if file == "" {
			return access.Source{}, nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return access.Source{}, fmt.Errorf("%s: %w", key, err)
		}
		return access.Source{Name: file, Text: string(b)}, nil
	}
	var ac access.Config
	var errs []error
	for _, f := range []struct {
		key, file string
		dst       *access.Source
	}{
		{"templates.note", c.Templates.Note, &ac.Note}, {"templates.withdrawn", c.Templates.Withdrawn, &ac.Withdrawn},
		{"templates.meta", c.Templates.Meta, &ac.Meta}, {"templates.entry", c.Templates.Entry, &ac.Entry},
		{"templates.thanks", c.Templates.Thanks, &ac.Thanks},
	} {
		src, err := read(f.key, f.file)
		errs = append(errs, err)
		*f.dst = src
	}
	mappings, _ := c.Mappings() // their problems are reported on their own
	ac.Events = map[rules.Target]access.Source{}
	for i, e := range c.Events {
		if e.NoteTemplate == "" {
			continue
		}
		src, err := read(fmt.Sprintf("events[%d].note_template", i), e.NoteTemplate)
		errs = append(errs, err)
		for _, m := range mappings {
			if m.ProductID == e.ProductID && m.VariationID == e.VariationID && m.Day == e.Day && m.Slot == strings.TrimSpace(e.Slot) {
				ac.Events[m.Target] = src
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t, err := access.Parse(ac)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return t, nil
}
