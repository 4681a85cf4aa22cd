// Package zoomtest is a stateful fake of the parts of Zoom woozoom uses: the
// Server-to-Server OAuth token endpoint, meetings, webinars and their
// registrants, with Zoom's semantics (an email added twice is the same
// registrant; a cancelled registrant is denied and cannot be added again;
// approve brings it back), Zoom's error bodies, per-second and daily limits,
// and switchable faults. It serves /oauth/token and /v2/... on one handler.
package zoomtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credentials the fake accepts.
type Credentials struct {
	AccountID    string
	ClientID     string
	ClientSecret string
}

// Limits per second by category, and daily per-registrant limits.
type Limits struct {
	LightPerSecond   int
	MediumPerSecond  int
	AddsPerDay       int // per email per meeting or webinar
	StatusPerDay     int // per registrant per meeting or webinar
	TokenTTL         time.Duration
	RegistrantsLimit int // capacity of a meeting
}

// ProLimits are the limits of a Pro account.
var ProLimits = Limits{LightPerSecond: 30, MediumPerSecond: 20, AddsPerDay: 3, StatusPerDay: 10, TokenTTL: time.Hour, RegistrantsLimit: 4999}

// BusinessLimits are the limits of a Business account.
var BusinessLimits = Limits{LightPerSecond: 80, MediumPerSecond: 60, AddsPerDay: 3, StatusPerDay: 10, TokenTTL: time.Hour, RegistrantsLimit: 4999}

// Meeting describes a meeting or webinar to create in the fake.
type Meeting struct {
	Webinar      bool
	Topic        string
	HostEmail    string
	StartTime    time.Time
	Duration     int
	Timezone     string
	Password     string
	Agenda       string
	ApprovalType int // 0 automatic, 1 manual, 2 no registration
	// Occurrences make it recurring with fixed times: their start times.
	Occurrences []time.Time
}

// Registrant is a registrant as the fake holds it.
type Registrant struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
	Status    string // approved, pending, denied
	JoinURL   string
	PinCode   int64
	Created   time.Time
	// Occurrences registered on (ids), for a recurring meeting.
	Occurrences []string
}

type target struct {
	id      int64
	spec    Meeting
	regs    []*Registrant
	byEmail map[string]*Registrant
}

// Call is one request the fake answered.
type Call struct {
	Method string
	Path   string
	Status int
	Code   int
}

// Fake is the fake Zoom.
type Fake struct {
	creds  Credentials
	limits Limits
	// Now is the fake's clock; daily limits reset at 00:00 UTC of it.
	Now func() time.Time

	mu        sync.Mutex
	tokens    map[string]time.Time // access token -> expiry
	targets   map[int64]*target
	nextID    int64
	window    map[string]int // category+second -> requests
	addCount  map[string]int // day|id|email -> adds
	statCount map[string]int // day|id|registrant -> status updates
	faults    []fault
	tokenDown int
	latency   time.Duration
	refuseAll bool
	// An account daily limit in force until dailyUntil.
	dailyUntil      time.Time
	dailyRetryAfter bool
	dailyRefused    int
	timedOut        int // answers the client gave up waiting for
	calls           []Call
	overLimit       int
	overPace        int // calls refused over a per-second limit
	pages           map[string]pageState
	down            bool
	redirect        string
	users           map[string]*User // by id
	scopes          []string         // what a new token is granted
	tokenScopes     map[string][]string
	hookURL         string // where events go (SetWebhook)
	hookSecret      string
	hostDaily       map[string]int           // day|host|id -> meeting creates and updates
	hostRefused     int                      // creates and updates refused for the daily limit
	remindedDeletes map[int64]bool           // deleted with cancel_meeting_reminder=true
	past            map[string]*pastInstance // ended instances by UUID
	latestPast      map[int64]string         // a meeting's last ended instance
	recordings      map[int64][]*recording   // cloud recordings by meeting, one per instance, oldest first
	trash           map[string]*recording    // trashed recordings by instance
}

type fault struct {
	status     int
	retryAfter string
	reset      bool // close the connection without an answer
	lose       bool // do the work, then close the connection without the answer
	// only, if set, limits the fault to requests of this method and path
	// prefix ("POST /v2/users/"); others pass it by.
	only string
}

type pageState struct {
	offset  int
	expires time.Time
}

// New returns a fake that accepts creds.
func New(creds Credentials, limits Limits) *Fake {
	return &Fake{
		creds: creds, limits: limits, Now: time.Now,
		tokens: map[string]time.Time{}, targets: map[int64]*target{}, nextID: 81234567890,
		window: map[string]int{}, addCount: map[string]int{}, statCount: map[string]int{},
		pages: map[string]pageState{}, users: map[string]*User{}, scopes: AllScopes, tokenScopes: map[string][]string{},
		hostDaily: map[string]int{}, remindedDeletes: map[int64]bool{}, past: map[string]*pastInstance{}, latestPast: map[int64]string{},
		recordings: map[int64][]*recording{}, trash: map[string]*recording{},
	}
}

// CreateMeeting adds a meeting or webinar and returns its id.
func (f *Fake) CreateMeeting(m Meeting) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID += 1234567
	f.targets[f.nextID] = &target{id: f.nextID, spec: m, byEmail: map[string]*Registrant{}}
	return f.nextID
}

// DeleteMeeting removes a meeting or webinar (as its host would).
func (f *Fake) DeleteMeeting(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.targets, id)
}

// Registrants returns a copy of a target's registrants in every status.
func (f *Fake) Registrants(id int64) []Registrant {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.targets[id]
	if t == nil {
		return nil
	}
	out := make([]Registrant, len(t.regs))
	for i, r := range t.regs {
		out[i] = *r
	}
	return out
}

// Registrant returns the registrant of email on a target, if any.
func (f *Fake) Registrant(id int64, email string) (Registrant, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.targets[id]; t != nil {
		if r := t.byEmail[strings.ToLower(email)]; r != nil {
			return *r, true
		}
	}
	return Registrant{}, false
}

// OverPace returns how many calls were refused for going over a
// per-second limit of their category.
func (f *Fake) OverPace() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overPace
}

// Adds returns how many add-registrant calls for email on id counted today.
func (f *Fake) Adds(id int64, email string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addCount[f.dayKey(id, strings.ToLower(email))]
}

// OverLimit returns how many calls were refused for a daily per-registrant
// limit (3 adds per email, 10 status changes per registrant, per day).
func (f *Fake) OverLimit() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overLimit
}

// Calls returns every request answered so far.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// FailNext makes the next n API requests answer status (500, 503, 429...);
// retryAfter, if set, is sent as the Retry-After header.
func (f *Fake) FailNext(n, status int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: status, retryAfter: retryAfter})
	}
}

// ResetNext makes the next n API requests drop the connection unanswered.
func (f *Fake) ResetNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{reset: true})
	}
}

// LoseNext makes the next n API requests take effect and then drop the
// connection without the answer, as when a timeout or a gateway loses
// Zoom's reply: the caller cannot know what happened.
func (f *Fake) LoseNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{lose: true})
	}
}

// LoseNextOf is LoseNext for the next request of one method and path
// prefix ("POST /v2/users/"): other requests pass.
func (f *Fake) LoseNextOf(methodAndPath string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{lose: true, only: methodAndPath})
}

// FailNextOf is FailNext for requests of one method and path prefix.
func (f *Fake) FailNextOf(methodAndPath string, n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: status, only: methodAndPath})
	}
}

// ExhaustDaily makes every API request answer Zoom's account daily-limit
// 429 until the fake's clock reaches until; with retryAfter the answer
// says when (Retry-After, an ISO-8601 instant), else it says nothing, as
// Zoom's per-user daily 429s do. A zero until lifts the limit.
func (f *Fake) ExhaustDaily(until time.Time, retryAfter bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dailyUntil, f.dailyRetryAfter = until, retryAfter
}

// TimedOut returns how many slow answers the client stopped waiting for.
func (f *Fake) TimedOut() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timedOut
}

// DailyRefused returns how many API requests the account daily limit refused.
func (f *Fake) DailyRefused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dailyRefused
}

// SetLatency makes every API answer wait d after the request took effect;
// a client that gives up first gets no answer, though the work was done.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// FailTokens makes the next n token requests answer 503.
func (f *Fake) FailTokens(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenDown = n
}

// ExpireTokens makes every issued access token invalid, as an expiry would.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

// RefuseTokens makes the API answer 401 code 124 to every token while on,
// as when Zoom revokes tokens as fast as they are issued.
func (f *Fake) RefuseTokens(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseAll = on
}

// TokensIssued returns how many access tokens the fake has issued and not expired.
func (f *Fake) TokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

func (f *Fake) dayKey(id int64, who string) string {
	return f.Now().UTC().Format("2006-01-02") + "|" + strconv.FormatInt(id, 10) + "|" + who
}

// ServeHTTP serves /oauth/token and the API under /v2.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	f.mu.Lock()
	down, redirect := f.down, f.redirect
	f.mu.Unlock()
	switch {
	case redirect != "":
		http.Redirect(rec, r, redirect+r.URL.RequestURI(), http.StatusFound)
	case down:
		// An outage: Zoom's edge answers every request with a 503 page.
		rec.Header().Set("Content-Type", "text/html")
		rec.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(rec, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
	case r.URL.Path == "/oauth/token":
		f.token(rec, r)
	case strings.HasPrefix(r.URL.Path, "/v2/"):
		f.api(rec, r)
	default:
		writeError(rec, http.StatusNotFound, 404, "Not found.")
	}
	f.mu.Lock()
	f.calls = append(f.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rec.status, Code: rec.code})
	f.mu.Unlock()
}

type recorder struct {
	http.ResponseWriter
	status int
	code   int
}

func (r *recorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, errCode, reason string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"reason": reason, "error": errCode})
	}
	f.mu.Lock()
	down := f.tokenDown > 0
	if down {
		f.tokenDown--
	}
	f.mu.Unlock()
	if down {
		oauthErr(http.StatusServiceUnavailable, "server_error", "Service Unavailable")
		return
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "Method Not Allowed")
		return
	}
	// Zoom reads the form body; parameters only in the query string get 400.
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "Invalid request")
		return
	}
	if r.PostForm.Get("grant_type") != "account_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != f.creds.ClientID || secret != f.creds.ClientSecret {
		oauthErr(http.StatusBadRequest, "invalid_client", "Invalid client_id or client_secret")
		return
	}
	if r.PostForm.Get("account_id") != f.creds.AccountID {
		oauthErr(http.StatusBadRequest, "invalid_request", "Account does not exist")
		return
	}
	tok := "eyJ" + randomString(40)
	f.mu.Lock()
	f.tokens[tok] = f.Now().Add(f.limits.TokenTTL)
	scopes := slices.Clone(f.scopes)
	f.tokenScopes[tok] = scopes
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": int(f.limits.TokenTTL.Seconds()),
		"scope": strings.Join(scopes, " "), "api_url": "https://api.zoom.us",
	})
}

var (
	reTarget     = regexp.MustCompile(`^/v2/(meetings|webinars)/(\d+)$`)
	reRegistrant = regexp.MustCompile(`^/v2/(meetings|webinars)/(\d+)/registrants$`)
	reStatus     = regexp.MustCompile(`^/v2/(meetings|webinars)/(\d+)/registrants/status$`)
	reOne        = regexp.MustCompile(`^/v2/(meetings|webinars)/(\d+)/registrants/([A-Za-z0-9_-]+)$`)
	reUser       = regexp.MustCompile(`^/v2/users/([^/]+)$`)
	reUsers      = regexp.MustCompile(`^/v2/users$`)
)

func (f *Fake) api(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		writeError(w, http.StatusUnauthorized, 124, "Invalid access token.")
		return
	}
	f.mu.Lock()
	var ft *fault
	for i := range f.faults {
		if o := f.faults[i].only; o == "" || strings.HasPrefix(r.Method+" "+r.URL.Path, o) {
			ft = &f.faults[i]
			f.faults = slices.Delete(slices.Clone(f.faults), i, i+1)
			break
		}
	}
	delay := f.latency
	daily := !f.dailyUntil.IsZero() && f.Now().Before(f.dailyUntil)
	if daily {
		f.dailyRefused++
	}
	until, withRetryAfter := f.dailyUntil, f.dailyRetryAfter
	f.mu.Unlock()
	switch {
	case ft != nil && ft.reset:
		dropConnection(w)
		return
	case ft != nil && !ft.lose:
		if ft.retryAfter != "" {
			w.Header().Set("Retry-After", ft.retryAfter)
		}
		switch ft.status {
		case http.StatusTooManyRequests:
			w.Header().Set("X-RateLimit-Type", "QPS")
			writeError(w, ft.status, 429, "You have reached the maximum per-second rate limit for this API. Try again later.")
		default:
			writeError(w, ft.status, ft.status, http.StatusText(ft.status))
		}
		return
	case daily:
		w.Header().Set("X-RateLimit-Type", "Daily-limit")
		if withRetryAfter {
			w.Header().Set("Retry-After", until.UTC().Format(time.RFC3339))
		}
		writeError(w, http.StatusTooManyRequests, 429, "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.")
		return
	}
	if delay == 0 && ft == nil {
		f.route(w, r)
		return
	}
	// Zoom does the work; then its answer is slow, or lost on the way.
	buf := &bufferedAnswer{header: http.Header{}, status: http.StatusOK}
	inner := &recorder{ResponseWriter: buf, status: http.StatusOK}
	f.route(inner, r)
	if rec, ok := w.(*recorder); ok {
		rec.code = inner.code
	}
	if ft != nil {
		dropConnection(w)
		return
	}
	select {
	case <-time.After(delay):
	case <-r.Context().Done():
		f.mu.Lock()
		f.timedOut++
		f.mu.Unlock()
		return
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.WriteHeader(buf.status)
	w.Write(buf.body.Bytes())
}

func (f *Fake) route(w http.ResponseWriter, r *http.Request) {
	var m []string
	// noun is "meeting" or "webinar", the resource of a scope.
	noun := func() string { return strings.TrimSuffix(m[1], "s") }
	switch {
	case r.Method == http.MethodGet && reUser.MatchString(r.URL.Path):
		m = reUser.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Light") && f.needScope(w, r, "user:read:user:admin") {
			f.getUser(w, m[1])
		}
	case r.Method == http.MethodGet && reUsers.MatchString(r.URL.Path):
		if f.paced(w, "Medium") && f.needScope(w, r, "user:read:list_users:admin") {
			f.listUsers(w, r)
		}
	case r.Method == http.MethodPost && reCreate.MatchString(r.URL.Path):
		m = reCreate.FindStringSubmatch(r.URL.Path)
		// Zoom labels meeting create Medium and webinar create Light.
		cat := map[string]string{"meetings": "Medium", "webinars": "Light"}[m[2]]
		if f.paced(w, cat) && f.needScope(w, r, strings.TrimSuffix(m[2], "s")+":write:"+strings.TrimSuffix(m[2], "s")+":admin") {
			f.createTarget(w, r, m[1], m[2])
		}
	case r.Method == http.MethodGet && reCreate.MatchString(r.URL.Path):
		m = reCreate.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Medium") && f.needScope(w, r, strings.TrimSuffix(m[2], "s")+":read:list_"+m[2]+":admin") {
			f.listTargets(w, r, m[1], m[2])
		}
	case r.Method == http.MethodDelete && reTarget.MatchString(r.URL.Path):
		m = reTarget.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Light") && f.needScope(w, r, noun()+":delete:"+noun()+":admin") {
			f.deleteTarget(w, r, m[1], m[2])
		}
	case r.Method == http.MethodPatch && reTarget.MatchString(r.URL.Path):
		m = reTarget.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Light") && f.needScope(w, r, noun()+":update:"+noun()+":admin") {
			f.patchTarget(w, r, m[1], m[2])
		}
	case r.Method == http.MethodGet && reTarget.MatchString(r.URL.Path):
		m = reTarget.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Light") && f.needScope(w, r, noun()+":read:"+noun()+":admin") {
			f.getTarget(w, m[1], m[2])
		}
	case r.Method == http.MethodPost && reRegistrant.MatchString(r.URL.Path):
		m = reRegistrant.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Light") && f.needScope(w, r, noun()+":write:registrant:admin") {
			f.addRegistrant(w, r, m[1], m[2])
		}
	case r.Method == http.MethodGet && reRegistrant.MatchString(r.URL.Path):
		m = reRegistrant.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Medium") && f.needScope(w, r, noun()+":read:list_registrants:admin") {
			f.listRegistrants(w, r, m[1], m[2])
		}
	case r.Method == http.MethodGet && reOne.MatchString(r.URL.Path) && !reStatus.MatchString(r.URL.Path):
		m = reOne.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Light") && f.needScope(w, r, noun()+":read:registrant:admin") {
			f.getRegistrant(w, m[1], m[2], m[3])
		}
	case r.Method == http.MethodGet && reRecordings.MatchString(r.URL.EscapedPath()):
		m = reRecordings.FindStringSubmatch(r.URL.EscapedPath())
		if f.paced(w, "Light") && f.needScope(w, r, "cloud_recording:read:list_recording_files:admin") {
			f.getRecordings(w, m[1])
		}
	case r.Method == http.MethodGet && rePast.MatchString(r.URL.EscapedPath()):
		m = rePast.FindStringSubmatch(r.URL.EscapedPath())
		noun := strings.TrimSuffix(strings.TrimPrefix(m[1], "past_"), "s")
		if f.paced(w, "Medium") && f.needScope(w, r, noun+":read:list_past_participants:admin") {
			f.listPastParticipants(w, r)
		}
	case r.Method == http.MethodPut && reStatus.MatchString(r.URL.Path):
		m = reStatus.FindStringSubmatch(r.URL.Path)
		if f.paced(w, "Medium") && f.needScope(w, r, noun()+":update:registrant_status:admin") {
			f.updateStatus(w, r, m[1], m[2])
		}
	default:
		writeError(w, http.StatusNotFound, 404, "Not found.")
	}
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		w = hj.Unwrap()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// bufferedAnswer holds an answer until the fake decides to send it.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header         { return b.header }
func (b *bufferedAnswer) WriteHeader(s int)           { b.status = s }
func (b *bufferedAnswer) Write(p []byte) (int, error) { return b.body.Write(p) }

func (f *Fake) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.tokens[tok]
	return ok && !f.refuseAll && f.Now().Before(exp)
}

// paced counts the request against its category's per-second limit.
func (f *Fake) paced(w http.ResponseWriter, category string) bool {
	f.mu.Lock()
	limit := f.limits.LightPerSecond
	if category == "Medium" {
		limit = f.limits.MediumPerSecond
	}
	key := category + f.Now().UTC().Format("15:04:05")
	f.window[key]++
	n := f.window[key]
	if len(f.window) > 100 {
		clear(f.window)
		f.window[key] = n
	}
	f.mu.Unlock()
	w.Header().Set("X-RateLimit-Category", category)
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-n, 0)))
	if n > limit {
		f.mu.Lock()
		f.overPace++
		f.mu.Unlock()
		w.Header().Set("X-RateLimit-Type", "QPS")
		writeError(w, http.StatusTooManyRequests, 429, "You have reached the maximum per-second rate limit for this API. Try again later.")
		return false
	}
	return true
}

func (f *Fake) lookup(w http.ResponseWriter, kind, rawID string) *target {
	id, _ := strconv.ParseInt(rawID, 10, 64)
	noun := "Meeting"
	if kind == "webinars" {
		noun = "Webinar"
	}
	t := f.targets[id]
	if t == nil {
		writeError(w, http.StatusNotFound, 3001, fmt.Sprintf("%s does not exist: %d.", noun, id))
		return nil
	}
	if t.spec.Webinar != (kind == "webinars") {
		writeError(w, http.StatusBadRequest, 3000, fmt.Sprintf("Cannot access %s info.", strings.ToLower(noun)))
		return nil
	}
	return t
}

func (f *Fake) getTarget(w http.ResponseWriter, kind, rawID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.lookup(w, kind, rawID)
	if t == nil {
		return
	}
	typ := 2
	switch {
	case t.spec.Webinar && len(t.spec.Occurrences) > 0:
		typ = 9
	case t.spec.Webinar:
		typ = 5
	case len(t.spec.Occurrences) > 0:
		typ = 8
	}
	body := map[string]any{
		"id": t.id, "uuid": base64.StdEncoding.EncodeToString([]byte(rawID + "uuid-0123456")), "host_id": f.hostLocked(t.spec.HostEmail).ID,
		"host_email": t.spec.HostEmail, "topic": t.spec.Topic, "type": typ, "duration": t.spec.Duration,
		"timezone": t.spec.Timezone, "password": t.spec.Password, "created_at": "2026-11-01T09:00:00Z",
		"join_url": fmt.Sprintf("%s/j/%d?pwd=%s", joinHost, t.id, randomString(12)),
		"settings": map[string]any{"approval_type": t.spec.ApprovalType},
	}
	if !t.spec.StartTime.IsZero() {
		body["start_time"] = t.spec.StartTime.UTC().Format(time.RFC3339)
	}
	if !t.spec.Webinar {
		body["status"] = "waiting"
	}
	if len(t.spec.Occurrences) > 0 {
		body["occurrences"] = occurrencesJSON(t.spec)
	}
	writeJSON(w, http.StatusOK, body)
}

// occurrencesJSON lists a recurring meeting's occurrences as Zoom does.
func occurrencesJSON(m Meeting) []map[string]any {
	list := make([]map[string]any, 0, len(m.Occurrences))
	for _, st := range m.Occurrences {
		list = append(list, map[string]any{"occurrence_id": occurrenceID(st), "start_time": st.UTC().Format(time.RFC3339), "duration": m.Duration, "status": "available"})
	}
	return list
}

// occurrenceID is Zoom's id of an occurrence: its start in epoch milliseconds.
func occurrenceID(start time.Time) string { return strconv.FormatInt(start.UnixMilli(), 10) }

// joinHost is where the fake's join links point: a reserved name that
// resolves nowhere, so no one mistakes a demo link for a real one.
const joinHost = "https://zoom-fake.invalid"

func (f *Fake) addRegistrant(w http.ResponseWriter, r *http.Request, kind, rawID string) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body == nil {
		writeError(w, http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
		return
	}
	email, _ := body["email"].(string)
	first, _ := body["first_name"].(string)
	last, _ := body["last_name"].(string)
	if !validRegistrant(w, email, first, last) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.lookup(w, kind, rawID)
	if t == nil || !f.mayAddLocked(w, t, email) {
		return
	}
	occ, ok := occurrencesAsked(w, t, r.URL.Query().Get("occurrence_ids"))
	if !ok {
		return
	}
	key := strings.ToLower(email)
	reg := t.byEmail[key]
	switch {
	case reg != nil && reg.Status == "denied":
		writeError(w, http.StatusBadRequest, 3000, "This registrant has been denied and cannot register again.")
		return
	case reg == nil:
		if len(t.regs) >= f.limits.RegistrantsLimit {
			writeError(w, http.StatusBadRequest, 3043, "Meeting has reached maximum attendee capacity.")
			return
		}
		status := "approved"
		auto, _ := body["auto_approve"].(bool)
		if t.spec.ApprovalType == 1 && !(auto && !t.spec.Webinar) {
			status = "pending"
		}
		pin, _ := rand.Int(rand.Reader, big.NewInt(900000))
		reg = &Registrant{
			ID: randomString(22), Email: email, FirstName: first, LastName: last, Status: status,
			PinCode: pin.Int64() + 100000, Created: f.Now().UTC(),
		}
		reg.JoinURL = fmt.Sprintf("%s/w/%d?tk=%s", joinHost, t.id, randomString(43))
		reg.Occurrences = occ
		t.regs = append(t.regs, reg)
		t.byEmail[key] = reg
	}
	writeJSON(w, http.StatusCreated, addedJSON(t, reg))
}

// validRegistrant answers Zoom's 300 with the invalid fields, as Zoom
// names them, and reports whether there were none.
func validRegistrant(w http.ResponseWriter, email, first, last string) bool {
	var fields []map[string]string
	if !validEmail(email) {
		fields = append(fields, map[string]string{"field": "email", "message": "Invalid field."})
	}
	if first == "" || len(first) > 64 {
		fields = append(fields, map[string]string{"field": "first_name", "message": "Invalid field."})
	}
	if len(last) > 64 {
		fields = append(fields, map[string]string{"field": "last_name", "message": "Invalid field."})
	}
	if len(fields) == 0 {
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]any{"code": 300, "message": "Validation Failed.", "errors": fields})
	return false
}

// mayAddLocked counts the call toward the email's daily limit and refuses
// it as Zoom does: over the limit, registration not required, the host of
// a webinar, or the meeting over.
func (f *Fake) mayAddLocked(w http.ResponseWriter, t *target, email string) bool {
	// Every call counts toward the daily limit, even one for an email Zoom has.
	dk := f.dayKey(t.id, strings.ToLower(email))
	f.addCount[dk]++
	if f.addCount[dk] > f.limits.AddsPerDay {
		f.overLimit++
		noun := "meeting"
		if t.spec.Webinar {
			noun = "webinar"
		}
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(f.limits.AddsPerDay))
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeError(w, http.StatusTooManyRequests, 429, fmt.Sprintf(
			`You have exceeded the daily rate limit of "%d" for Add %s registrant API requests for the registrant "%s". You can resume these API requests at GMT 00:00:00.`,
			f.limits.AddsPerDay, noun, email))
		return false
	}
	if t.spec.ApprovalType == 2 {
		if t.spec.Webinar {
			writeError(w, http.StatusBadRequest, 3000, fmt.Sprintf("This webinar does not have registration as required: %d.", t.id))
		} else {
			writeError(w, http.StatusBadRequest, 3000, fmt.Sprintf("Registration has not been enabled for this meeting: %d.", t.id))
		}
		return false
	}
	if t.spec.Webinar && strings.EqualFold(email, t.spec.HostEmail) {
		writeError(w, http.StatusBadRequest, 3027, "Host cannot register.")
		return false
	}
	// A single meeting or webinar that has ended takes no one more (a
	// series goes on to its next occurrence).
	if len(t.spec.Occurrences) == 0 && f.latestPast[t.id] != "" {
		if t.spec.Webinar {
			writeError(w, http.StatusBadRequest, 3038, "Webinar is over, you cannot register now. If you have any questions, contact the webinar host.")
		} else {
			writeError(w, http.StatusBadRequest, 3038, "Meeting is over, you can not register now. If you have any questions, contact the host.")
		}
		return false
	}
	return true
}

// occurrencesAsked reads occurrence_ids, refusing one the series lacks.
func occurrencesAsked(w http.ResponseWriter, t *target, v string) ([]string, bool) {
	if v == "" {
		return nil, true
	}
	known := map[string]bool{}
	for _, st := range t.spec.Occurrences {
		known[occurrenceID(st)] = true
	}
	var occ []string
	for _, id := range strings.Split(v, ",") {
		if !known[id] {
			writeError(w, http.StatusBadRequest, 300, "Invalid parameter: occurrence_ids.")
			return nil, false
		}
		occ = append(occ, id)
	}
	return occ, true
}

// addedJSON is Zoom's answer to an add: the join link only once approved.
func addedJSON(t *target, reg *Registrant) map[string]any {
	resp := map[string]any{
		"id": t.id, "registrant_id": reg.ID, "topic": t.spec.Topic,
	}
	if reg.Status == "approved" {
		resp["join_url"] = reg.JoinURL
	}
	if !t.spec.StartTime.IsZero() {
		resp["start_time"] = t.spec.StartTime.UTC().Format(time.RFC3339)
	}
	if !t.spec.Webinar {
		resp["participant_pin_code"] = reg.PinCode
	}
	if len(t.spec.Occurrences) > 0 {
		resp["occurrences"] = occurrencesJSON(t.spec)
	}
	return resp
}

func registrantJSON(t *target, reg *Registrant) map[string]any {
	item := map[string]any{
		"id": reg.ID, "email": reg.Email, "first_name": reg.FirstName, "last_name": reg.LastName,
		"status": reg.Status, "create_time": reg.Created.Format(time.RFC3339), "join_url": reg.JoinURL,
	}
	if !t.spec.Webinar {
		item["participant_pin_code"] = reg.PinCode
	}
	return item
}

// getRegistrant answers GET .../registrants/{registrantId}. Zoom documents
// 400 code 3079 for an unknown registrant of a webinar; the fake answers
// the same for meetings.
func (f *Fake) getRegistrant(w http.ResponseWriter, kind, rawID, regID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.lookup(w, kind, rawID)
	if t == nil {
		return
	}
	for _, reg := range t.regs {
		if reg.ID == regID {
			writeJSON(w, http.StatusOK, registrantJSON(t, reg))
			return
		}
	}
	writeError(w, http.StatusBadRequest, 3079, "This registrant does not exist: "+regID+".")
}

func (f *Fake) listRegistrants(w http.ResponseWriter, r *http.Request, kind, rawID string) {
	q := r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = "approved"
	}
	if !slices.Contains([]string{"approved", "pending", "denied"}, status) {
		writeError(w, http.StatusBadRequest, 300, "Invalid field: status.")
		return
	}
	size, ok := queryInt(w, q, "page_size", 30, 300)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.lookup(w, kind, rawID)
	if t == nil {
		return
	}
	offset, ok := f.pageStart(w, q.Get("next_page_token"), "Invalid field: next_page_token.")
	if !ok {
		return
	}
	var matched []*Registrant
	for _, reg := range t.regs {
		if reg.Status == status {
			matched = append(matched, reg)
		}
	}
	end := min(offset+size, len(matched))
	list := []map[string]any{}
	for _, reg := range matched[offset:end] {
		list = append(list, registrantJSON(t, reg))
	}
	pages := (len(matched) + size - 1) / size
	writeJSON(w, http.StatusOK, map[string]any{
		"page_count": pages, "page_size": size, "total_records": len(matched),
		"next_page_token": f.pageToken(end, len(matched)), "registrants": list,
	})
}

// pageStart is where the page a next_page_token names begins (0 without
// one); false after answering a token that is unknown or older than
// Zoom's 15 minutes, with Zoom's words for it (they differ by endpoint).
func (f *Fake) pageStart(w http.ResponseWriter, token, invalid string) (int, bool) {
	if token == "" {
		return 0, true
	}
	p, ok := f.pages[token]
	if !ok || f.Now().After(p.expires) {
		writeError(w, http.StatusBadRequest, 300, invalid)
		return 0, false
	}
	return p.offset, true
}

// pageToken is the token of the page after end, or "" on the last page.
func (f *Fake) pageToken(end, total int) string {
	if end >= total {
		return ""
	}
	next := randomString(32)
	f.pages[next] = pageState{offset: end, expires: f.Now().Add(15 * time.Minute)}
	return next
}

func (f *Fake) updateStatus(w http.ResponseWriter, r *http.Request, kind, rawID string) {
	var body struct {
		Action      string `json:"action"`
		Registrants []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"registrants"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
		return
	}
	if !slices.Contains([]string{"approve", "cancel", "deny"}, body.Action) {
		writeError(w, http.StatusBadRequest, 300, "Validation Failed.")
		return
	}
	if len(body.Registrants) == 0 || len(body.Registrants) > 30 {
		writeError(w, http.StatusBadRequest, 300, "Validation Failed.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.lookup(w, kind, rawID)
	if t == nil {
		return
	}
	var found []*Registrant
	for _, want := range body.Registrants {
		var reg *Registrant
		for _, cand := range t.regs {
			if (want.ID != "" && cand.ID == want.ID) || (want.ID == "" && strings.EqualFold(cand.Email, want.Email)) {
				reg = cand
				break
			}
		}
		if reg == nil {
			writeError(w, http.StatusNotFound, 3001, "Meeting or registrant not found.")
			return
		}
		dk := f.dayKey(t.id, "status|"+reg.ID)
		if f.statCount[dk]+1 > f.limits.StatusPerDay {
			f.overLimit++
			noun := "meeting"
			if t.spec.Webinar {
				noun = "webinar"
			}
			writeError(w, http.StatusTooManyRequests, 429, fmt.Sprintf(
				`You have exceeded the daily rate limit of "%d" for %s Update registrant's status API requests for the registrant "%s". You can resume these API requests at GMT 00:00:00.`,
				f.limits.StatusPerDay, noun, reg.Email))
			return
		}
		found = append(found, reg)
	}
	for _, reg := range found {
		f.statCount[f.dayKey(t.id, "status|"+reg.ID)]++
		switch body.Action {
		case "approve":
			reg.Status = "approved"
		case "cancel", "deny":
			// Zoom has no "cancelled": a cancelled registrant is listed as denied.
			reg.Status = "denied"
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// Zoom refuses addresses its validator does not take: non-ASCII letters
// (umlauts), display names, missing domain dots.
func validEmail(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] > 126 || s[i] <= ' ' {
			return false
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	if rec, ok := w.(*recorder); ok {
		rec.code = code
	}
	writeJSON(w, status, map[string]any{"code": code, "message": msg})
}

func randomString(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// AllScopes are the granular scopes of a Server-to-Server app set up as the
// README says; a new fake grants them all.
var AllScopes = []string{
	"user:read:user:admin", "user:read:list_users:admin",
	"meeting:read:meeting:admin", "meeting:write:registrant:admin", "meeting:read:list_registrants:admin",
	"meeting:read:registrant:admin", "meeting:update:registrant_status:admin",
	"webinar:read:webinar:admin", "webinar:write:registrant:admin", "webinar:read:list_registrants:admin",
	"webinar:read:registrant:admin", "webinar:update:registrant_status:admin",
	"meeting:update:meeting:admin", "webinar:update:webinar:admin",
	"meeting:write:meeting:admin", "webinar:write:webinar:admin", "meeting:delete:meeting:admin", "webinar:delete:webinar:admin",
	"meeting:read:list_meetings:admin", "webinar:read:list_webinars:admin",
	"meeting:read:list_past_participants:admin", "webinar:read:list_past_participants:admin",
	"cloud_recording:read:list_recording_files:admin",
}

// SetScopes sets the scopes of tokens minted from now on (an app whose
// admin left some out).
func (f *Fake) SetScopes(scopes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scopes = slices.Clone(scopes)
}

// User is an account user as the fake holds it.
type User struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
	Type      int // 1 Basic, 2 Licensed
}

// AddUser adds a user to the account and returns it with its id.
func (f *Fake) AddUser(u User) User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.addUserLocked(u)
}

func (f *Fake) addUserLocked(u User) *User {
	if u.ID == "" {
		u.ID = "u" + randomString(21)
	}
	if u.Type == 0 {
		u.Type = 2
	}
	f.users[u.ID] = &u
	return &u
}

// userLocked finds a user by id or email, as Zoom's userId does (nil if none).
func (f *Fake) userLocked(idOrEmail string) *User {
	for _, u := range f.users {
		if u.ID == idOrEmail || strings.EqualFold(u.Email, idOrEmail) {
			return u
		}
	}
	return nil
}

// hostLocked is the user who hosts a meeting: the account's user with that
// email, made Licensed if the account has none yet.
func (f *Fake) hostLocked(email string) *User {
	if u := f.userLocked(email); u != nil {
		return u
	}
	return f.addUserLocked(User{Email: email, Type: 2})
}

// needScope answers Zoom's refusal when the token lacks scope (code 4711,
// listing the user-level and the admin scope).
func (f *Fake) needScope(w http.ResponseWriter, r *http.Request, scope string) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	have := slices.Contains(f.tokenScopes[tok], scope)
	if !have {
		// A classic scope covers the granular ones of its resource.
		res, rest, _ := strings.Cut(scope, ":")
		verb, _, _ := strings.Cut(rest, ":")
		classic := res + ":write:admin"
		if verb == "read" {
			classic = res + ":read:admin"
		}
		have = slices.Contains(f.tokenScopes[tok], classic)
	}
	f.mu.Unlock()
	if !have {
		writeError(w, http.StatusBadRequest, 4711, fmt.Sprintf("Invalid access token, does not contain scopes:[%s, %s].", strings.TrimSuffix(scope, ":admin"), scope))
	}
	return have
}

func (f *Fake) getUser(w http.ResponseWriter, id string) {
	f.mu.Lock()
	u := f.userLocked(id)
	var body map[string]any
	if u != nil {
		body = map[string]any{
			"id": u.ID, "email": u.Email, "first_name": u.FirstName, "last_name": u.LastName,
			"display_name": strings.TrimSpace(u.FirstName + " " + u.LastName), "type": u.Type, "status": "active",
			"timezone": "Europe/Berlin", "verified": 1, "created_at": "2026-01-05T09:00:00Z", "role_name": "Member",
		}
	}
	f.mu.Unlock()
	if u == nil {
		writeError(w, http.StatusNotFound, 1001, fmt.Sprintf("User does not exist: %s.", id))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// queryInt reads a positive integer query parameter of at most hi,
// answering Zoom's 300 when it is not one.
func queryInt(w http.ResponseWriter, q url.Values, name string, def, hi int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > hi {
		writeError(w, http.StatusBadRequest, 300, "Invalid field: "+name+".")
		return 0, false
	}
	return n, true
}

// pageQuery reads page_size (default 30, at most maxSize) and page_number.
func pageQuery(w http.ResponseWriter, q url.Values, maxSize int) (size, page int, ok bool) {
	if size, ok = queryInt(w, q, "page_size", 30, maxSize); !ok {
		return 0, 0, false
	}
	page, ok = queryInt(w, q, "page_number", 1, math.MaxInt)
	return size, page, ok
}

// userOr404 finds a user by id or email, or answers Zoom's 1001.
func (f *Fake) userOr404(w http.ResponseWriter, idOrEmail string) *User {
	u := f.userLocked(idOrEmail)
	if u == nil {
		writeError(w, http.StatusNotFound, 1001, fmt.Sprintf("User does not exist: %s.", idOrEmail))
	}
	return u
}

// listUsers answers GET /users: active users, page_size up to 2000 (Zoom's
// 2025 maximum), paged by page_number.
func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	size, page, ok := pageQuery(w, r.URL.Query(), 2000)
	if !ok {
		return
	}
	f.mu.Lock()
	all := make([]*User, 0, len(f.users))
	for _, u := range f.users {
		all = append(all, u)
	}
	f.mu.Unlock()
	slices.SortFunc(all, func(a, b *User) int { return strings.Compare(a.Email, b.Email) })
	pages := max((len(all)+size-1)/size, 1)
	list := []map[string]any{}
	for i := (page - 1) * size; i < len(all) && i < page*size; i++ {
		u := all[i]
		list = append(list, map[string]any{"id": u.ID, "email": u.Email, "first_name": u.FirstName, "last_name": u.LastName,
			"display_name": strings.TrimSpace(u.FirstName + " " + u.LastName), "type": u.Type, "status": "active",
			"timezone": "Europe/Berlin", "verified": 1, "user_created_at": "2026-01-05T09:00:00Z"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"page_count": pages, "page_number": page, "page_size": size,
		"total_records": len(all), "next_page_token": "", "users": list})
}

// targetPatch is the part of a meeting or webinar PATCH the fake keeps.
type targetPatch struct {
	Topic      *string `json:"topic"`
	StartTime  *string `json:"start_time"`
	Duration   *int    `json:"duration"`
	Timezone   *string `json:"timezone"`
	Password   *string `json:"password"`
	Agenda     *string `json:"agenda"`
	Recurrence *struct {
		Type     int `json:"type"`
		EndTimes int `json:"end_times"`
	} `json:"recurrence"`
	Settings *struct {
		ApprovalType *int `json:"approval_type"`
	} `json:"settings"`
}

// patchTarget answers PATCH of a meeting or webinar: the settings woozoom
// changes (approval_type) and the topic, start and duration; 204. A patch
// Zoom refuses changes nothing.
func (f *Fake) patchTarget(w http.ResponseWriter, r *http.Request, kind, rawID string) {
	var p targetPatch
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		writeError(w, http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.lookup(w, kind, rawID)
	if t == nil {
		return
	}
	if !f.hostUsedLocked(w, f.hostLocked(t.spec.HostEmail).ID) {
		return
	}
	if code, msg := p.refusal(t.spec, f.hostLocked(t.spec.HostEmail).Type); code != 0 {
		writeError(w, http.StatusBadRequest, code, msg)
		return
	}
	p.apply(&t.spec)
	w.WriteHeader(http.StatusNoContent)
}

// refusal is Zoom's code and message for a patch it refuses, or 0.
func (p targetPatch) refusal(spec Meeting, hostType int) (int, string) {
	if p.Settings != nil && p.Settings.ApprovalType != nil {
		if a := *p.Settings.ApprovalType; a < 0 || a > 2 {
			return 300, "Invalid field: approval_type."
		}
		if *p.Settings.ApprovalType != 2 && hostType != 2 {
			return 3000, "Registration cannot be enabled for a basic user."
		}
	}
	if p.Password != nil && len(*p.Password) > 10 {
		return 300, "Password must be less than or equal to 10 characters."
	}
	zone := spec.Timezone
	if p.Timezone != nil {
		zone = *p.Timezone
	}
	if p.StartTime != nil {
		if _, err := parseZoomTime(*p.StartTime, zone); err != nil {
			return 300, "Invalid field: start_time."
		}
	}
	if p.Recurrence != nil && len(spec.Occurrences) > 0 {
		if recurrenceStep(p.Recurrence.Type) == 0 || p.Recurrence.EndTimes < 1 || p.Recurrence.EndTimes > 60 {
			return 300, "Invalid field: recurrence."
		}
	}
	return 0, ""
}

// apply changes spec as a patch refusal allowed; a series moves as a
// whole, and its recurrence may give a new count.
func (p targetPatch) apply(spec *Meeting) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if p.Settings != nil && p.Settings.ApprovalType != nil {
		spec.ApprovalType = *p.Settings.ApprovalType
	}
	set(&spec.Topic, p.Topic)
	set(&spec.Password, p.Password)
	set(&spec.Agenda, p.Agenda)
	set(&spec.Timezone, p.Timezone)
	if p.Duration != nil {
		spec.Duration = *p.Duration
	}
	if p.StartTime != nil {
		spec.StartTime, _ = parseZoomTime(*p.StartTime, spec.Timezone)
	}
	n := len(spec.Occurrences)
	if n == 0 || (p.StartTime == nil && p.Recurrence == nil) {
		return
	}
	step := 7 * 24 * time.Hour
	if n > 1 {
		step = spec.Occurrences[1].Sub(spec.Occurrences[0])
	}
	if p.Recurrence != nil {
		step, n = recurrenceStep(p.Recurrence.Type), p.Recurrence.EndTimes
	}
	spec.Occurrences = series(spec.StartTime, step, n)
}

// RedirectTo makes every request answer 302 to target plus the request's
// path and query (a proxy or a wrong address would); "" ends it.
func (f *Fake) RedirectTo(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redirect = target
}

// SetDown starts or ends an outage: while down, every request, the token
// endpoint's too, is answered 503.
func (f *Fake) SetDown(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = on
}

// SetRateLimits changes the account's per-second limits (a plan change, or
// another app taking part of them).
func (f *Fake) SetRateLimits(light, medium int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits.LightPerSecond, f.limits.MediumPerSecond = light, medium
}
