package admin_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/woozoom/woozoom/admin"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"golang.org/x/crypto/bcrypt"
)

const password = "correct-horse-battery"

// secrets stand for everything in a configuration that must never reach a page.
var secrets = []string{password, "cs_live_secret", "whsec-live", "zoom-client-secret"}

type env struct {
	t          *testing.T
	db         *store.DB
	srv        *httptest.Server
	client     *http.Client
	base       string
	planned    []int64
	backfilled []int64
	woken      int
}

func newEnv(t *testing.T, cfg admin.Config) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db}
	ec := echo.New()
	_, err = admin.Register(ec, cfg, db, admin.Actions{
		Plan: func(_ context.Context, id int64) ([]string, error) {
			e.planned = append(e.planned, id)
			return []string{fmt.Sprintf("order %d: add on Zoom: a@example.org to meeting 1", id)}, nil
		},
		Verify: func(_ context.Context, t rules.Target) (string, error) {
			if t.ID == 404 {
				return "", errors.New("Zoom has no meeting with this id")
			}
			return `"Tour"`, nil
		},
		Problems: func() map[string]string {
			return map[string]string{"webhooks": "the shop's webhook for order.updated is paused"}
		},
		Paces: func() []admin.Pace {
			return []admin.Pace{{Account: "museum", Light: 29, Medium: 19}, {Account: "academy", Light: 79, Medium: 59}}
		},
		Backfill: func(_ context.Context, product int64) (int, error) {
			e.backfilled = append(e.backfilled, product)
			return 3, nil
		},
		Wake: func() { e.woken++ },
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Behind a proxy that serves woozoom under BasePath and strips it.
	var h http.Handler = ec
	if cfg.BasePath != "" {
		h = http.StripPrefix(cfg.BasePath, ec)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.base = e.srv.URL + cfg.BasePath
	return e
}

func (e *env) get(path string) (int, string, http.Header) {
	e.t.Helper()
	resp, err := e.client.Get(e.base + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (e *env) post(path string, form url.Values) (int, string, http.Header) {
	e.t.Helper()
	resp, err := e.client.PostForm(e.base+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var flashRe = regexp.MustCompile(`<p class="(?:flash|problem)" role="(?:status|alert)">([^<]*)</p>`)

// outcome follows the redirect after a POST and returns the message the
// page shows once.
func (e *env) outcome(h http.Header) string {
	e.t.Helper()
	_, page, _ := e.get(strings.TrimPrefix(h.Get("Location"), e.base[len(e.srv.URL):]))
	m := flashRe.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

func (e *env) login(pw string) int {
	e.t.Helper()
	_, body, _ := e.get("/admin/login")
	code, _, _ := e.post("/admin/login", url.Values{"csrf": {csrfOf(e.t, body)}, "password": {pw}})
	return code
}

func TestConsoleIsOffWithoutAPassword(t *testing.T) {
	e := newEnv(t, admin.Config{})
	for _, p := range []string{"/admin/", "/admin/login", "/admin/orders"} {
		if code, _, _ := e.get(p); code != http.StatusNotFound {
			t.Errorf("GET %s without a configured password = %d, want 404", p, code)
		}
	}
}

func TestSignInSessionAndCSRF(t *testing.T) {
	e := newEnv(t, admin.Config{Password: password})
	code, _, h := e.get("/admin/orders")
	if code != http.StatusFound || h.Get("Location") != "/admin/login" {
		t.Fatalf("no session: %d to %q, want 302 to the login page", code, h.Get("Location"))
	}
	if code, _, _ := e.post("/admin/jobs/1/retry", url.Values{}); code != http.StatusUnauthorized {
		t.Errorf("POST without a session = %d, want 401", code)
	}
	// The login form's own token is required.
	if code, _, _ := e.post("/admin/login", url.Values{"password": {password}}); code != http.StatusForbidden {
		t.Errorf("login without the form's token = %d, want 403", code)
	}
	if code := e.login("wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password = %d, want 401", code)
	}
	if code := e.login(password); code != http.StatusSeeOther {
		t.Fatalf("right password = %d, want 303", code)
	}
	u, _ := url.Parse(e.base + "/admin/")
	// The jar hides the attributes: read them off a fresh login's answer.
	_, body, _ := e.get("/admin/login")
	resp, err := e.client.PostForm(e.base+"/admin/login", url.Values{"csrf": {csrfOf(t, body)}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set string
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "woozoom_admin=") {
			set = c
		}
	}
	if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Strict") || strings.Contains(set, "Secure") {
		t.Errorf("session cookie over plain HTTP = %q, want HttpOnly, SameSite=Strict and not Secure", set)
	}
	code, page, _ := e.get("/admin/")
	if code != http.StatusOK || !strings.Contains(page, "Overview") {
		t.Fatalf("overview after sign-in = %d", code)
	}
	// A POST without the session's CSRF token is refused, with it accepted.
	if code, _, _ := e.post("/admin/orders/5/plan", url.Values{}); code != http.StatusForbidden {
		t.Errorf("POST without CSRF token = %d, want 403", code)
	}
	if code, _, _ := e.post("/admin/orders/5/plan", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("POST with a forged CSRF token = %d, want 403", code)
	}
	if code, _, _ := e.post("/admin/orders/5/plan", url.Values{"csrf": {csrfOf(t, page)}}); code != http.StatusOK {
		t.Errorf("POST with the CSRF token = %d, want 200", code)
	}
	// Signed out, the session is gone.
	var sess *http.Cookie
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == "woozoom_admin" {
			sess = c
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	if code, _, _ := e.post("/admin/logout", url.Values{"csrf": {csrfOf(t, page)}}); code != http.StatusSeeOther {
		t.Errorf("sign out = %d", code)
	}
	e.client.Jar.SetCookies(u, []*http.Cookie{sess})
	if code, _, _ := e.get("/admin/"); code != http.StatusFound {
		t.Errorf("the signed-out session still works: %d", code)
	}
}

func TestFailedSignInsAreLimitedPerAddress(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, admin.Config{PasswordHash: string(hash)})
	for i := range 5 {
		if code := e.login(fmt.Sprintf("guess-%d", i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d, want 401", i, code)
		}
	}
	_, body, _ := e.get("/admin/login")
	code, page, h := e.post("/admin/login", url.Values{"csrf": {csrfOf(t, body)}, "password": {password}})
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(page, "Too many failed sign-ins") {
		t.Errorf("after 5 failures even the right password = %d (Retry-After %q), want 429 with a message", code, h.Get("Retry-After"))
	}
}

// seed puts one order with a refused attendee, a parked job, a mapping and
// calls in the store.
func seed(t *testing.T, db *store.DB) (failedJob int64) {
	ctx := context.Background()
	meeting := rules.Target{Kind: rules.Meeting, ID: 85746065123}
	if _, err := db.AddMapping(ctx, rules.Mapping{ProductID: 10, Target: meeting}, store.FromCLI); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveTargetDetails(ctx, rules.TargetDetails{Target: meeting, Topic: "Online guided tour", StartTime: time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{`{"id":101,"status":"completed"}`, `{"id":101,"status":"completed","x":1}`} {
		if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: fmt.Sprint(i), Topic: "order.updated", OrderID: 101, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	j, _, _ := db.ClaimJob(ctx, time.Minute)
	st := rules.AppliedOrder{Status: rules.StatusCompleted, Modified: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	if err := db.CompleteOrderJob(ctx, j, "register: 1 added", &st, nil); err != nil {
		t.Fatal(err)
	}
	j2, _, _ := db.ClaimJob(ctx, time.Minute)
	if err := db.FailJob(ctx, j2, "Zoom: Meeting does not exist: 85746065123 (code 3001)"); err != nil {
		t.Fatal(err)
	}
	regs := []rules.Registration{
		{OrderID: 101, ProductID: 10, Target: meeting, Attendee: rules.Person{FirstName: "Rita", LastName: "Doro", Email: "rita@example.org"}, State: rules.Active},
		{OrderID: 101, ProductID: 10, Target: meeting, Attendee: rules.Person{FirstName: "Bad", Email: "bad@example"}, State: rules.Failed, Error: "Zoom refused the email (code 300)"},
	}
	if err := db.SaveRegistrations(ctx, regs); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSeats(ctx, rules.Seat{SeatKey: regs[0].Key(), RegistrantID: "r1", JoinURL: "https://zoom.us/w/85746065123?tk=abc", Status: rules.SeatApproved}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordCalls(ctx, []rules.Call{{At: time.Now(), Service: "zoom", Operation: "POST /meetings/{id}/registrants", Method: "POST",
		Path: "/v2/meetings/85746065123/registrants", Status: 201, Duration: 40 * time.Millisecond, JobRef: rules.JobRef{JobID: j.ID, OrderID: 101}}}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	if err := db.SaveAttendance(ctx, meeting, "uuid-1", []rules.Attendance{
		{Registration: regs[0], Attended: true, FirstJoin: start, LastLeave: start.Add(time.Hour), Minutes: 57},
		{Registration: rules.Registration{OrderID: 102, Attendee: rules.Person{Email: "sam@example.org"}}},
	}, []rules.Unmatched{{Name: "Fred <guest>", Email: "fred@example.org", Minutes: 41}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveRecording(ctx, rules.Recording{Target: meeting, Instance: "uuid-1", Start: start.Add(2 * time.Minute),
		ShareURL: "https://zoom.us/rec/share/tour-1", Passcode: "never-shown"}); err != nil {
		t.Fatal(err)
	}
	return j2.ID
}

func TestEveryPageShowsTheStoreAndNoSecret(t *testing.T) {
	e := newEnv(t, admin.Config{Password: password, BasePath: "/woozoom"})
	failed := seed(t, e.db)
	if code := e.login(password); code != http.StatusSeeOther {
		t.Fatalf("login = %d", code)
	}
	pages := map[string][]string{
		"/admin/": {"the shop&#39;s webhook for order.updated is paused", `id="jobs-failed">1<`, "POST /meetings/{id}/registrants",
			"Zoom account museum's answers: 29 Light and 19 Medium", "Zoom account academy's answers: 79 Light"},
		"/admin/orders?q=rita": {`href="/woozoom/admin/orders/101"`, "rita@example.org"},
		"/admin/orders?q=101":  {"#101"},
		"/admin/orders/101":    {"Rita Doro", "approved", "https://zoom.us/w/85746065123?tk=abc", "register: 1 added", "Meeting does not exist", "/v2/meetings/85746065123/registrants", "Zoom refused the email"},
		"/admin/attention":     {fmt.Sprintf("/woozoom/admin/jobs/%d/retry", failed), "Meeting does not exist", "bad@example", "Zoom refused the email"},
		"/admin/events": {"Online guided tour", "2026-12-03 18:00:00 UTC", "1 approved", "85746065123",
			"<td>2</td><td>1</td><td>1</td><td>57</td>", "Fred &lt;guest&gt; &lt;fred@example.org&gt;, 41 min",
			`<a href="https://zoom.us/rec/share/tour-1" rel="noreferrer">2026-12-03 18:02:00 UTC</a>`},
		"/admin/activity?order=101":        {"/v2/meetings/85746065123/registrants", "40 ms"},
		"/admin/orders?q=nobody@nowhere.x": {"No order woozoom has seen matches"},
	}
	for path, want := range pages {
		code, body, h := e.get(path)
		if code != http.StatusOK {
			t.Errorf("GET %s = %d", path, code)
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows a secret", path)
			}
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s without a frame-ancestors policy", path)
		}
		if strings.Contains(body, `href="/admin/`) || strings.Contains(body, `action="/admin/`) {
			t.Errorf("GET %s links outside the base path", path)
		}
	}
	if code, _, _ := e.get("/admin/orders/999"); code != http.StatusOK {
		t.Errorf("an order woozoom never saw: %d, want its page with the dry run button", code)
	}
}

func TestRetryPlanAndMappingsFromTheConsole(t *testing.T) {
	e := newEnv(t, admin.Config{Password: password})
	failed := seed(t, e.db)
	e.login(password)
	_, page, _ := e.get("/admin/attention")
	token := csrfOf(t, page)

	code, _, h := e.post(fmt.Sprintf("/admin/jobs/%d/retry", failed), url.Values{"csrf": {token}, "back": {"/admin/attention"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/admin/attention" || !strings.Contains(e.outcome(h), "runs again now") {
		t.Errorf("retry = %d to %q", code, h.Get("Location"))
	}
	jobs, _ := e.db.Jobs(context.Background(), rules.JobFailed, 10)
	if len(jobs) != 0 || e.woken != 1 {
		t.Errorf("after retry: %d parked jobs, worker woken %d times; want 0 and 1", len(jobs), e.woken)
	}
	// A redirect target outside the console is not followed.
	_, _, h = e.post(fmt.Sprintf("/admin/jobs/%d/retry", failed), url.Values{"csrf": {token}, "back": {"//evil.example/"}})
	if loc := h.Get("Location"); loc != "/admin/" {
		t.Errorf("back to another site: redirected to %q", loc)
	}

	_, body, _ := e.post("/admin/orders/101/plan", url.Values{"csrf": {token}})
	if !strings.Contains(body, "order 101: add on Zoom: a@example.org to meeting 1") || len(e.planned) != 1 {
		t.Errorf("dry run not shown (planned %v)", e.planned)
	}

	add := url.Values{"csrf": {token}, "product": {"12"}, "kind": {"webinar"}, "target": {"912 3456 7890"}}
	_, _, h = e.post("/admin/events/add", add)
	if got := e.outcome(h); !strings.Contains(got, "product 12 now maps to webinar 91234567890") {
		t.Errorf("add mapping: %q", got)
	}
	add.Set("target", "404")
	_, _, h = e.post("/admin/events/add", add)
	if got := e.outcome(h); !strings.Contains(got, "webinar 404 cannot be mapped") {
		t.Errorf("unverifiable mapping: %q", got)
	}
	ms, _ := e.db.Mappings(context.Background())
	if len(ms) != 2 {
		t.Fatalf("mappings = %+v, want the seeded one and webinar 91234567890", ms)
	}
	_, _, h = e.post("/admin/events/backfill", url.Values{"csrf": {token}, "product": {"10"}})
	if got := e.outcome(h); !strings.Contains(got, "product 10: 3 completed orders queued") || len(e.backfilled) != 1 || e.backfilled[0] != 10 {
		t.Errorf("backfill: %q, backfilled %v", got, e.backfilled)
	}
	// An attendee a host cancelled in Zoom is restored from the order page.
	if err := e.db.SaveRegistrations(context.Background(), []rules.Registration{{OrderID: 101, ProductID: 10, Target: rules.Target{Kind: rules.Meeting, ID: 85746065123},
		Attendee: rules.Person{FirstName: "Rita", LastName: "Doro", Email: "rita@example.org"}, State: rules.Failed, Error: "cancelled in Zoom by host@shop.example", Ended: rules.EndedInZoom, EndedBy: "host@shop.example"}}); err != nil {
		t.Fatal(err)
	}
	if _, page, _ := e.get("/admin/orders/101"); !strings.Contains(page, `id="restore"`) {
		t.Error("no Restore button for an attendee cancelled in Zoom")
	}
	woken := e.woken
	_, _, h = e.post("/admin/orders/101/restore", url.Values{"csrf": {token}})
	if got := e.outcome(h); !strings.Contains(got, "1 registrations restored") || e.woken != woken+1 {
		t.Errorf("restore: %q", got)
	}
	if active, _ := e.db.ActiveRegistrationsOn(context.Background(), rules.Target{Kind: rules.Meeting, ID: 85746065123}, "rita@example.org"); len(active) != 1 {
		t.Errorf("after restore: %+v", active)
	}
	rm := url.Values{"csrf": {token}, "product": {"12"}, "kind": {"webinar"}, "target": {"91234567890"}, "variation": {"0"}, "day": {"0"}}
	_, _, h = e.post("/admin/events/remove", rm)
	if got := e.outcome(h); !strings.Contains(got, "removed: product 12") {
		t.Errorf("remove mapping: %q", got)
	}
}

// signIn sends one sign-in from a peer (with X-Forwarded-For, if given)
// through the console's handler, with a fresh form token, and returns the
// status.
func signIn(t *testing.T, ec *echo.Echo, peer, xff, pw string) int {
	get := httptest.NewRequest(http.MethodGet, "/admin/login", nil)
	get.RemoteAddr = peer
	rec := httptest.NewRecorder()
	ec.ServeHTTP(rec, get)
	m := csrfRe.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Error("no form token on the sign-in page")
		return 0
	}
	form := url.Values{"csrf": {m[1]}, "password": {pw}}
	post := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		post.Header.Set("X-Forwarded-For", xff)
	}
	post.RemoteAddr = peer
	for _, c := range rec.Result().Cookies() {
		post.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	ec.ServeHTTP(rec, post)
	return rec.Code
}

func console(t *testing.T, cfg admin.Config) *echo.Echo {
	t.Helper()
	ec := echo.New()
	if _, err := admin.Register(ec, cfg, nil, admin.Actions{}, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return ec
}

// A client cannot dodge the sign-in limit by sending its own
// X-Forwarded-For: without a configured proxy the peer is the client, even
// on loopback (a proxy that passes the header on unchanged sits there).
func TestSignInLimitIgnoresForgedForwardedFor(t *testing.T) {
	for _, peer := range []string{"203.0.113.9:4000", "127.0.0.1:4000", "10.1.2.3:4000"} {
		ec := console(t, admin.Config{Password: password})
		for i := range 5 {
			if code := signIn(t, ec, peer, fmt.Sprintf("198.51.100.%d", i), "guess"); code != http.StatusUnauthorized {
				t.Fatalf("peer %s: guess %d = %d", peer, i, code)
			}
		}
		if code := signIn(t, ec, peer, "198.51.100.99", password); code != http.StatusTooManyRequests {
			t.Errorf("peer %s: a sixth try naming another address in X-Forwarded-For = %d, want 429", peer, code)
		}
	}
}

// Sixty wrong passwords sent at once from one address: each attempt is
// counted before its password is compared, so all but the first five are
// refused without a bcrypt comparison.
func TestSignInBurstMeetsTheLimit(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	ec := console(t, admin.Config{PasswordHash: string(hash)})
	codes := make(chan int, 60)
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() { codes <- signIn(t, ec, "203.0.113.7:5000", "", "wrong password") })
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[http.StatusTooManyRequests] < 55 || count[http.StatusUnauthorized] > 5 {
		t.Errorf("60 wrong sign-ins at once: %v, want at least 55 answered 429 and at most 5 compared", count)
	}
}

// With a trusted proxy, X-Forwarded-For names the client: the nearest
// address that is not the proxy, so a client that sends its own header
// behind an appending proxy is still counted by its real address.
func TestSignInLimitBehindATrustedProxy(t *testing.T) {
	ec := console(t, admin.Config{Password: password, TrustedProxies: []string{"127.0.0.1/32", "fd00::/8"}})
	proxy := "127.0.0.1:4000"
	for i := range 5 {
		if code := signIn(t, ec, proxy, fmt.Sprintf("1.1.1.%d, 198.51.100.20", i), "guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d", i, code)
		}
	}
	if code := signIn(t, ec, proxy, "1.1.1.99, 198.51.100.20", password); code != http.StatusTooManyRequests {
		t.Errorf("the client behind the proxy named itself anew and got %d, want 429", code)
	}
	if code := signIn(t, ec, proxy, "198.51.100.21", password); code != http.StatusSeeOther {
		t.Errorf("another client behind the proxy = %d, want 303 (signed in)", code)
	}
	if _, err := admin.Register(echo.New(), admin.Config{Password: password, TrustedProxies: []string{"not-a-net"}}, nil, admin.Actions{},
		slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "not-a-net") {
		t.Errorf("a bad trusted proxy: %v", err)
	}
}

// An IPv6 client has a /64 to choose addresses from: the limit counts the
// network.
func TestSignInLimitCountsIPv6Networks(t *testing.T) {
	ec := console(t, admin.Config{Password: password})
	for i := 1; i <= 5; i++ {
		if code := signIn(t, ec, fmt.Sprintf("[2001:db8:0:7::%x]:4000", i), "", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d", i, code)
		}
	}
	if code := signIn(t, ec, "[2001:db8:0:7:ffff::1]:4000", "", password); code != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64 = %d, want 429", code)
	}
	if code := signIn(t, ec, "[2001:db8:0:8::1]:4000", "", password); code != http.StatusSeeOther {
		t.Errorf("another /64 = %d, want 303 (signed in)", code)
	}
}

// The static folder is never listed, and a link cannot put words on a
// console page.
func TestNoListingAndNoWordsFromTheURL(t *testing.T) {
	e := newEnv(t, admin.Config{Password: password})
	for _, p := range []string{"/admin/static/", "/admin/static"} {
		if code, body, _ := e.get(p); code == http.StatusOK || strings.Contains(body, "console.css") {
			t.Errorf("GET %s = %d, lists the folder", p, code)
		}
	}
	if code, _, _ := e.get("/admin/static/console.css"); code != http.StatusOK {
		t.Errorf("the stylesheet = %d", code)
	}
	e.login(password)
	for _, q := range []string{"?done=Your+session+expired%3A+sign+in+at+evil.example", "?problem=Call+%2B1+555"} {
		_, page, _ := e.get("/admin/" + q)
		if strings.Contains(page, "evil.example") || strings.Contains(page, "555") || flashRe.MatchString(page) {
			t.Errorf("GET /admin/%s shows the URL's words", q)
		}
	}
}
