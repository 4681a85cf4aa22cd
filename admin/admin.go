// Package admin is woozoom's web console for shop staff: the queue, each
// order's registrations and jobs, what needs a person, the event mappings
// and the log of outbound calls. It is served by the sidecar under /admin/,
// only when a password is configured, rendered on the server with
// html/template, and reads and acts through the store and the functions it
// is given; it never sees a credential.
package admin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

// Store is what the console reads and changes.
type Store interface {
	QueueStats(ctx context.Context) (byState map[string]int, oldest time.Time, heldForDaily int, err error)
	Jobs(ctx context.Context, state string, limit int) ([]rules.Job, error)
	JobsOfOrder(ctx context.Context, orderID int64) ([]rules.Job, error)
	FindOrders(ctx context.Context, q string, limit int) ([]store.OrderSummary, error)
	OrderState(ctx context.Context, orderID int64) (rules.AppliedOrder, bool, error)
	Registrations(ctx context.Context, orderID int64) ([]rules.Registration, error)
	Seats(ctx context.Context, keys []rules.SeatKey) (map[rules.SeatKey]rules.Seat, error)
	FailedRegistrations(ctx context.Context, limit int) ([]rules.Registration, error)
	RunJobNow(ctx context.Context, id int64) error
	RestoreRegistrations(ctx context.Context, orderID int64) (int, error)
	RequeueOrder(ctx context.Context, orderID int64) (bool, error)
	Mappings(ctx context.Context) ([]store.StoredMapping, error)
	AddMapping(ctx context.Context, m rules.Mapping, source string) (bool, error)
	RemoveMapping(ctx context.Context, m rules.Mapping) (bool, error)
	SeatCounts(ctx context.Context) (map[rules.Target]map[rules.SeatStatus]int, error)
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
	Calls(ctx context.Context, f store.CallFilter) ([]rules.Call, error)
	CallsSince(ctx context.Context, service string, since time.Time) (map[string]int, error)
	Attendance(ctx context.Context, t rules.Target, orderID int64) ([]rules.AttendanceRecord, error)
	UnmatchedParticipants(ctx context.Context, t rules.Target) ([]store.UnmatchedRow, error)
	Recordings(ctx context.Context, t rules.Target) ([]rules.Recording, error)
}

// Config configures the console.
type Config struct {
	// Password or PasswordHash (bcrypt) turns the console on.
	Password, PasswordHash string
	// BasePath is the prefix a reverse proxy serves woozoom under
	// ("/woozoom"): links and the cookie's path carry it.
	BasePath string
	Demo     bool
	// SessionTTL is how long a login lasts (default 12 hours).
	SessionTTL time.Duration
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose
	// X-Forwarded-For names the client; none: the peer is the client.
	TrustedProxies []string
	// Shops, if set, are several shops' stores and actions, the store and
	// actions given to Register unused.
	Shops []Shop
}

// Enabled reports whether the console is configured.
func (c Config) Enabled() bool { return c.Password != "" || c.PasswordHash != "" }

// Pace is the per-second pace learned of a Zoom account (Light, Medium);
// Account is empty with one account.
type Pace struct {
	Account       string
	Light, Medium float64
}

// Actions are what the console asks of the rest of woozoom. Any may be nil:
// its button is then not shown.
type Actions struct {
	// Plan is the dry run for an order, in words.
	Plan func(ctx context.Context, orderID int64) ([]string, error)
	// Verify reads a meeting or webinar from Zoom and says what it is, or
	// why it cannot be mapped (not found, registration off).
	Verify func(ctx context.Context, t rules.Target) (string, error)
	// Backfill queues a product's completed orders; it says how many.
	Backfill func(ctx context.Context, productID int64) (int, error)
	// Problems are what needs a person now, by component (health).
	Problems func() map[string]string
	// Paces are the per-second paces learned of each Zoom account.
	Paces func() []Pace
	// Wake tells the worker jobs were made due.
	Wake func()
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Shop is one shop's console: its store and actions.
type Shop struct {
	Name    string
	Store   Store
	Actions Actions
}

// Console serves the pages.
type Console struct {
	cfg Config
	// shops: the first is the default; with more than one, each page is
	// of the shop chosen in the header (kept in a cookie).
	shops    []Shop
	log      *slog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	limit    *limiter
	check    func(string) bool
	clientIP echo.IPExtractor
}

const (
	cookieName      = "woozoom_admin"
	loginCookieName = "woozoom_login"
	shopCookieName  = "woozoom_shop"
	maxFailures     = 5
	failureWindow   = 15 * time.Minute
	// maxComparisons is how many password comparisons run at once: a
	// burst of sign-ins cannot take every core.
	maxComparisons = 2
)

// Register adds the console's routes to e when it is enabled; otherwise
// /admin/ stays unrouted (404). It shows one shop's store and actions, or
// with cfg.Shops one of several at a time.
func Register(e *echo.Echo, cfg Config, st Store, act Actions, log *slog.Logger) (*Console, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	cfg.BasePath = strings.TrimRight(cfg.BasePath, "/")
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	proxies, err := ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("admin.trusted_proxies: %w", err)
	}
	shops := cfg.Shops
	if len(shops) == 0 {
		shops = []Shop{{Store: st, Actions: act}}
	}
	c := &Console{cfg: cfg, shops: shops, log: log, sessions: newSessions(cfg.SessionTTL),
		limit: newLimiter(maxFailures, failureWindow, maxComparisons), check: passwordCheck(cfg.Password, cfg.PasswordHash),
		// X-Forwarded-For counts only from a configured proxy: a client
		// cannot escape the sign-in limit by naming itself.
		clientIP: clientIP(proxies)}
	if err := c.parse(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	g := e.Group("/admin", c.headers)
	g.GET("/static/*", echo.WrapHandler(http.StripPrefix("/admin/static/", http.FileServerFS(filesOnly{static}))))
	g.GET("/login", c.loginPage)
	g.POST("/login", c.login)
	a := g.Group("", c.auth)
	a.GET("", func(ec echo.Context) error { return ec.Redirect(http.StatusFound, c.link("/admin/")) })
	a.GET("/", c.overview)
	a.POST("/logout", c.logout)
	a.POST("/shop", c.chooseShop)
	a.GET("/orders", c.orders)
	a.GET("/orders/:id", c.order)
	a.POST("/orders/:id/plan", c.plan)
	a.POST("/orders/:id/restore", c.restore)
	a.GET("/attention", c.attention)
	a.POST("/jobs/:id/retry", c.retry)
	a.GET("/events", c.events)
	a.POST("/events/add", c.addMapping)
	a.POST("/events/remove", c.removeMapping)
	a.POST("/events/backfill", c.backfill)
	a.GET("/activity", c.activity)
	return c, nil
}

func (c *Console) parse() error {
	funcs := template.FuncMap{
		"link": c.link,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
		},
		"ms":    func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + " ms" },
		"query": url.QueryEscape,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("parse the console's layout: %w", err)
	}
	c.pages = map[string]*template.Template{}
	for _, name := range []string{"login", "overview", "orders", "order", "attention", "events", "activity"} {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse the console's %s page: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// filesOnly hides directories, so the static folder is never listed.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		_ = file.Close() // read-only embedded file
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// link is an absolute path under the proxy's prefix.
func (c *Console) link(p string) string { return c.cfg.BasePath + p }

// headers keep the pages out of frames and caches, and scripts to our own.
func (c *Console) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		return next(ec)
	}
}

// auth sends a request without a session to the login page and refuses a
// POST without the session's CSRF token.
func (c *Console) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		ck, err := ec.Cookie(cookieName)
		var sess session
		ok := err == nil
		if ok {
			sess, ok = c.sessions.get(ck.Value)
		}
		if !ok {
			if ec.Request().Method != http.MethodGet {
				return echo.NewHTTPError(http.StatusUnauthorized, "sign in first")
			}
			return ec.Redirect(http.StatusFound, c.link("/admin/login"))
		}
		if ec.Request().Method == http.MethodPost && !equalTokens(ec.FormValue("csrf"), sess.csrf) {
			return echo.NewHTTPError(http.StatusForbidden, "the form's security token is missing or stale: reload the page and try again")
		}
		ec.Set("session", sess)
		ec.Set("sessionID", ck.Value)
		return next(ec)
	}
}

func (c *Console) secure(ec echo.Context) bool {
	return ec.Request().TLS != nil || strings.EqualFold(ec.Request().Header.Get("X-Forwarded-Proto"), "https")
}

func (c *Console) cookie(ec echo.Context, name, value string, maxAge int) {
	ec.SetCookie(&http.Cookie{Name: name, Value: value, Path: c.link("/admin/"), MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secure(ec)})
}

// page is what every page's template gets.
type page struct {
	Title   string
	Nav     string
	CSRF    string
	Demo    bool
	Flash   string
	Problem string
	Data    any
	// Shop is the shop shown, Shops all of them (only with several).
	Shop  string
	Shops []string
}

// shop is the shop a request is for: the one chosen, else the first.
func (c *Console) shop(ec echo.Context) Shop {
	if ck, err := ec.Cookie(shopCookieName); err == nil {
		for _, s := range c.shops {
			if s.Name == ck.Value {
				return s
			}
		}
	}
	return c.shops[0]
}

func (c *Console) storeOf(ec echo.Context) Store { return c.shop(ec).Store }

func (c *Console) actOf(ec echo.Context) Actions { return c.shop(ec).Actions }

// chooseShop shows another shop from now on.
func (c *Console) chooseShop(ec echo.Context) error {
	name := ec.FormValue("shop")
	for _, s := range c.shops {
		if s.Name == name {
			c.cookie(ec, shopCookieName, name, 0)
			return c.back(ec, "/admin/", doneFlash("Showing shop "+name))
		}
	}
	return c.back(ec, "/admin/", problemFlash("No shop "+name))
}

func (c *Console) render(ec echo.Context, status int, name, nav string, data any) error {
	p := page{Title: nav, Nav: nav, Demo: c.cfg.Demo, Data: data}
	if len(c.shops) > 1 {
		p.Shop = c.shop(ec).Name
		for _, s := range c.shops {
			p.Shops = append(p.Shops, s.Name)
		}
		p.Title = nav + " · " + p.Shop
	}
	if sess, ok := ec.Get("session").(session); ok {
		p.CSRF = sess.csrf
	}
	if id, ok := ec.Get("sessionID").(string); ok && ec.Request().Method == http.MethodGet {
		f := c.sessions.takeFlash(id)
		p.Flash, p.Problem = f.done, f.problem
	}
	var b strings.Builder
	if err := c.pages[name].ExecuteTemplate(&b, "layout.html", p); err != nil {
		return fmt.Errorf("render the %s page: %w", name, err)
	}
	return ec.HTML(status, b.String())
}

// back redirects after a POST to a page of the console, and shows the
// outcome there once. The outcome is kept in the session, not the URL, so a
// link cannot put words on a console page.
func (c *Console) back(ec echo.Context, to string, out flash) error {
	if !strings.HasPrefix(to, "/admin/") || strings.Contains(to, "//") {
		to = "/admin/"
	}
	if id, ok := ec.Get("sessionID").(string); ok {
		c.sessions.setFlash(id, out)
	}
	return ec.Redirect(http.StatusSeeOther, c.link(to))
}

func doneFlash(msg string) flash    { return flash{done: msg} }
func problemFlash(msg string) flash { return flash{problem: msg} }

func (c *Console) loginPage(ec echo.Context) error {
	token := randomToken()
	c.cookie(ec, loginCookieName, token, 600)
	return c.render(ec, http.StatusOK, "login", "Sign in", map[string]any{"Token": token})
}

func (c *Console) login(ec echo.Context) error {
	addr := c.clientIP(ec.Request())
	ck, err := ec.Cookie(loginCookieName)
	if err != nil || !equalTokens(ec.FormValue("csrf"), ck.Value) {
		return echo.NewHTTPError(http.StatusForbidden, "the sign-in form's security token is missing or stale: reload the page")
	}
	client := clientKey(addr)
	if wait := c.limit.attempt(client); wait > 0 {
		c.log.Warn("console sign-in refused: too many attempts", "addr", addr)
		ec.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return c.render(ec, http.StatusTooManyRequests, "login", "Sign in", map[string]any{"Token": "",
			"Error": fmt.Sprintf("Too many failed sign-ins from this address: try again in %d minutes.", int(wait.Minutes())+1)})
	}
	ok, err := c.limit.compare(ec.Request().Context(), func() bool { return c.check(ec.FormValue("password")) })
	if err != nil {
		return err
	}
	if !ok {
		c.log.Warn("console sign-in failed", "addr", addr)
		token := randomToken()
		c.cookie(ec, loginCookieName, token, 600)
		return c.render(ec, http.StatusUnauthorized, "login", "Sign in", map[string]any{"Token": token, "Error": "Wrong password."})
	}
	c.limit.succeed(client)
	id, _ := c.sessions.start()
	c.cookie(ec, loginCookieName, "", -1)
	c.cookie(ec, cookieName, id, int(c.cfg.SessionTTL.Seconds()))
	c.log.Info("console sign-in", "addr", addr)
	return ec.Redirect(http.StatusSeeOther, c.link("/admin/"))
}

func (c *Console) logout(ec echo.Context) error {
	if ck, err := ec.Cookie(cookieName); err == nil {
		c.sessions.end(ck.Value)
	}
	c.cookie(ec, cookieName, "", -1)
	return ec.Redirect(http.StatusSeeOther, c.link("/admin/login"))
}

func idParam(ec echo.Context) (int64, error) {
	id, err := strconv.ParseInt(ec.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%q is not an id", ec.Param("id")))
	}
	return id, nil
}

var errNotFound = errors.New("not found")
