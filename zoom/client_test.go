package zoom_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
	"github.com/woozoom/woozoom/zoom/zoomtest"
	"github.com/woozoom/woozoom/zoom/zoomtest/contract"
)

var creds = zoomtest.Credentials{AccountID: "acct-1", ClientID: "client-1", ClientSecret: "s3cr3t-zoom-client"}

type env struct {
	fake   *zoomtest.Fake
	client *zoom.Client
	check  *contract.Validator
	srv    *httptest.Server
}

// setup serves the fake Zoom behind the spec validator; every test fails on
// a request or response that disagrees with Zoom's OpenAPI description.
func setup(t *testing.T, limits zoomtest.Limits, cfg zoom.Config) env {
	t.Helper()
	fake := zoomtest.New(creds, limits)
	var e env
	e.fake = fake
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	var err error
	e.check, err = contract.NewValidator(srv.URL+"/v2", fake)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = e.check
	e.srv = srv
	cfg.AccountID, cfg.ClientID, cfg.ClientSecret = creds.AccountID, creds.ClientID, creds.ClientSecret
	cfg.APIURL, cfg.OAuthURL = srv.URL+"/v2", srv.URL+"/oauth/token"
	switch {
	case cfg.LightPerSecond == 0:
		cfg.LightPerSecond, cfg.MediumPerSecond = 1000, 1000
	case cfg.LightPerSecond < 0: // no cap: the pace is learned
		cfg.LightPerSecond, cfg.MediumPerSecond = 0, 0
	}
	e.client = zoom.New(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() {
		for _, v := range e.check.Violations() {
			t.Errorf("spec violation: %s", v)
		}
	})
	return e
}

func fastLimits() zoomtest.Limits {
	l := zoomtest.ProLimits
	l.LightPerSecond, l.MediumPerSecond = 10000, 10000
	return l
}

func TestRegistrationLifecycleAgreesWithSpec(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	start := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Online guided tour", HostEmail: "host@shop.example", StartTime: start, Duration: 60, Timezone: "Europe/Berlin", Password: "Tour42"})
	wid := e.fake.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "Restoring paintings", HostEmail: "host@shop.example", StartTime: start, Duration: 90})
	meeting := rules.Target{Kind: rules.Meeting, ID: mid}
	webinar := rules.Target{Kind: rules.Webinar, ID: wid}
	rita := rules.Person{FirstName: "Rita", LastName: "Doro", Email: "Rita.Doro@Example.org"}

	for _, tgt := range []rules.Target{meeting, webinar} {
		s1, err := e.client.AddRegistrant(ctx, tgt, rita, "")
		if err != nil {
			t.Fatalf("add on %s: %v", tgt, err)
		}
		if s1.Status != rules.SeatApproved || s1.JoinURL == "" || s1.Email != "rita.doro@example.org" {
			t.Errorf("add on %s = %+v, want an approved seat with a join URL and a normalised email", tgt, s1)
		}
		s2, err := e.client.AddRegistrant(ctx, tgt, rita, "")
		if err != nil || s2.RegistrantID != s1.RegistrantID {
			t.Errorf("second add on %s = %+v, %v; want the same registrant %s", tgt, s2, err, s1.RegistrantID)
		}
		if err := e.client.UpdateStatus(ctx, nil, tgt, rules.Cancel, []rules.Seat{s1}); err != nil {
			t.Fatalf("cancel on %s: %v", tgt, err)
		}
		denied, err := e.client.Registrants(ctx, tgt, rules.SeatDenied)
		if err != nil || len(denied) != 1 || denied[0].RegistrantID != s1.RegistrantID {
			t.Errorf("denied registrants of %s = %+v, %v", tgt, denied, err)
		}
		if approved, _ := e.client.Registrants(ctx, tgt, rules.SeatApproved); len(approved) != 0 {
			t.Errorf("a cancelled registrant is still listed as approved on %s", tgt)
		}
		if _, err := e.client.AddRegistrant(ctx, tgt, rita, ""); !errors.Is(err, rules.ErrPermanent) {
			t.Errorf("re-adding a cancelled registrant on %s: err = %v, want a permanent refusal", tgt, err)
		}
		if err := e.client.UpdateStatus(ctx, nil, tgt, rules.Approve, []rules.Seat{s1}); err != nil {
			t.Fatalf("approve on %s: %v", tgt, err)
		}
		if r, _ := e.fake.Registrant(tgt.ID, rita.Email); r.Status != "approved" {
			t.Errorf("after approve on %s the registrant is %q", tgt, r.Status)
		}
	}

	d, err := e.client.Details(ctx, meeting)
	if err != nil {
		t.Fatal(err)
	}
	if d.Topic != "Online guided tour" || d.Passcode != "Tour42" || !d.StartTime.Equal(start) || d.Duration != 60 || d.JoinURL == "" {
		t.Errorf("Details = %+v", d)
	}
	if e.check.Checked() < 15 {
		t.Errorf("only %d exchanges were validated against the spec", e.check.Checked())
	}
}

func TestRegistrantsPagesThroughEveryPage(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Big", HostEmail: "h@x.org"})
	tgt := rules.Target{Kind: rules.Meeting, ID: mid}
	for i := range 305 {
		p := rules.Person{FirstName: "A", Email: "a" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + "-" + time.Duration(i).String() + "@example.org"}
		if _, err := e.client.AddRegistrant(ctx, tgt, p, ""); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.client.Registrants(ctx, tgt, rules.SeatApproved)
	if err != nil || len(got) != 305 {
		t.Fatalf("listed %d registrants, err %v; want 305 over two pages", len(got), err)
	}
}

func TestAttendeeRefusalsAreTyped(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	wid := e.fake.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "W", HostEmail: "host@shop.example"})
	webinar := rules.Target{Kind: rules.Webinar, ID: wid}
	for _, p := range []rules.Person{
		{FirstName: "Jürgen", Email: "jürgen@example.de"}, // Zoom refuses non-ASCII addresses
		{FirstName: "No", Email: "not-an-email"},
		{FirstName: "", Email: "nofirst@example.org"},
		{FirstName: "Host", Email: "HOST@shop.example"},
	} {
		_, err := e.client.AddRegistrant(ctx, webinar, p, "")
		if !errors.Is(err, rules.ErrInvalidAttendee) || !errors.Is(err, rules.ErrPermanent) {
			t.Errorf("add %q: err = %v, want an attendee refusal", p.Email, err)
		}
	}
	_, err := e.client.AddRegistrant(ctx, rules.Target{Kind: rules.Meeting, ID: 1}, rules.Person{FirstName: "A", Email: "a@example.org"}, "")
	if !errors.Is(err, rules.ErrNotFound) || errors.Is(err, rules.ErrInvalidAttendee) || rules.Retryable(err) {
		t.Errorf("add on a missing meeting: err = %v, want not found, not retryable", err)
	}
	var zerr *zoom.Error
	if !errors.As(err, &zerr) || zerr.Code != 3001 {
		t.Errorf("missing meeting error = %#v, want Zoom code 3001 kept", err)
	}
}

func TestTokenReusedAndRenewedOn124(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@x.org"})
	tgt := rules.Target{Kind: rules.Meeting, ID: mid}
	for range 5 {
		if _, err := e.client.Details(ctx, tgt); err != nil {
			t.Fatal(err)
		}
	}
	if n := tokenCalls(e.fake); n != 1 {
		t.Errorf("5 calls fetched %d tokens, want 1 reused", n)
	}
	e.fake.ExpireTokens() // Zoom now answers 401 code 124
	if _, err := e.client.Details(ctx, tgt); err != nil {
		t.Fatalf("call after the token expired: %v", err)
	}
	if n := tokenCalls(e.fake); n != 2 {
		t.Errorf("after a 124 the client fetched %d tokens in all, want 2", n)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	limits := fastLimits()
	limits.TokenTTL = 90 * time.Second // less than a minute of margin after 31 s
	e := setup(t, limits, zoom.Config{})
	ctx := context.Background()
	ts := zoom.NewTokenSource(zoom.Config{AccountID: creds.AccountID, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, OAuthURL: e.srv.URL + "/oauth/token"}, e.srv.Client())
	now := time.Now()
	zoom.SetTokenClock(ts, func() time.Time { return now })
	a, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := ts.Token(ctx); b != a {
		t.Error("a fresh token was not reused")
	}
	now = now.Add(31 * time.Second)
	if b, _ := ts.Token(ctx); b == a {
		t.Error("a token with under a minute left was reused")
	}
}

func TestTokenFailuresAreClassifiedAndSecretless(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	e.fake.FailTokens(1)
	_, err := e.client.Details(ctx, rules.Target{Kind: rules.Meeting, ID: 1})
	if !errors.Is(err, rules.ErrTemporary) {
		t.Errorf("token endpoint 503: err = %v, want temporary", err)
	}
	bad := zoom.New(zoom.Config{AccountID: creds.AccountID, ClientID: creds.ClientID, ClientSecret: "wrong-secret-value",
		APIURL: e.srv.URL + "/v2", OAuthURL: e.srv.URL + "/oauth/token"}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err = bad.Details(ctx, rules.Target{Kind: rules.Meeting, ID: 1})
	if !errors.Is(err, rules.ErrCredentials) || errors.Is(err, rules.ErrPermanent) || !rules.Retryable(err) || rules.Service(err) != "zoom" {
		t.Errorf("wrong secret: err = %v, want a credentials error of zoom that waits (is retried)", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") || strings.Contains(err.Error(), creds.ClientSecret) {
		t.Errorf("error text reveals the secret: %v", err)
	}
	if !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("error text does not keep Zoom's reason: %v", err)
	}
}

func TestRateLimitsAndServerErrors(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{Retries: 3})
	ctx := context.Background()
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@x.org"})
	tgt := rules.Target{Kind: rules.Meeting, ID: mid}
	p := rules.Person{FirstName: "A", Email: "a@example.org"}

	// A per-second 429 with Retry-After in seconds is waited out and retried.
	e.fake.FailNext(1, 429, "1")
	start := time.Now()
	if _, err := e.client.AddRegistrant(ctx, tgt, p, ""); err != nil {
		t.Fatalf("add after a per-second 429: %v", err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("Retry-After 1 was not honoured: waited %v", waited)
	}

	// 5xx on a read is retried in the client; on an add it is left to the job.
	e.fake.FailNext(2, 503, "")
	if _, err := e.client.Details(ctx, tgt); err != nil {
		t.Errorf("read after two 503s: %v", err)
	}
	e.fake.FailNext(1, 500, "")
	before := len(e.fake.Calls())
	_, err := e.client.AddRegistrant(ctx, tgt, rules.Person{FirstName: "B", Email: "b@example.org"}, "")
	if !errors.Is(err, rules.ErrTemporary) {
		t.Errorf("add answered 500: err = %v, want temporary", err)
	}
	if n := len(e.fake.Calls()) - before; n != 1 {
		t.Errorf("an add answered 500 was sent %d times, want 1 (each add spends the 3-a-day budget)", n)
	}

	// The 4th add of one email in a day is a daily 429: not retried, due at 00:00 UTC.
	for range 2 {
		e.client.AddRegistrant(ctx, tgt, p, "")
	}
	before = len(e.fake.Calls())
	_, err = e.client.AddRegistrant(ctx, tgt, p, "")
	if !errors.Is(err, rules.ErrRateLimited) {
		t.Fatalf("4th add in a day: err = %v, want rate limited", err)
	}
	if n := len(e.fake.Calls()) - before; n != 1 {
		t.Errorf("a daily 429 was retried: %d calls", n)
	}
	at, ok := rules.RetryAt(err)
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	if !ok || !at.Equal(midnight) {
		t.Errorf("daily 429 retry at %v (ok=%v), want %v", at, ok, midnight)
	}

	// A connection reset on a read is retried.
	e.fake.ResetNext(1)
	if _, err := e.client.Details(ctx, tgt); err != nil {
		t.Errorf("read after a connection reset: %v", err)
	}

	// The account's daily limit, with Retry-After: due at that instant, not
	// retried; without it: due at 00:00 UTC. Reads are not retried either.
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	for _, withHeader := range []bool{false, true} {
		e.fake.ExhaustDaily(until, withHeader)
		before = len(e.fake.Calls())
		_, err = e.client.Details(ctx, tgt)
		want := midnight
		if withHeader {
			want = until
		}
		if at, ok := rules.RetryAt(err); !errors.Is(err, rules.ErrRateLimited) || !ok || !at.Equal(want) {
			t.Errorf("account daily 429 (Retry-After sent: %v): err %v, retry at %v, want %v", withHeader, err, at, want)
		}
		if n := len(e.fake.Calls()) - before; n != 1 {
			t.Errorf("an account daily 429 was retried in the client: %d calls", n)
		}
	}
	// Zoom named the reset: until then the category's calls are not sent.
	before = len(e.fake.Calls())
	_, err = e.client.Details(ctx, tgt)
	if at, _ := rules.RetryAt(err); !errors.Is(err, rules.ErrRateLimited) || !at.Equal(until) {
		t.Errorf("a Light call during the account's daily limit: err %v, retry at %v, want %v", err, at, until)
	}
	if n := len(e.fake.Calls()) - before; n != 0 {
		t.Errorf("%d calls sent to Zoom during a daily limit whose reset Zoom named", n)
	}
	e.fake.ExhaustDaily(time.Time{}, false)
	if _, err := e.client.Registrants(ctx, tgt, rules.SeatApproved); err != nil {
		t.Errorf("a Medium call while only Light is held: %v", err)
	}
}

// An add whose answer is lost took effect; the caller sees a temporary
// error, and Zoom holds the registrant.
func TestLostAnswer(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{Retries: 3})
	ctx := context.Background()
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@x.org"})
	tgt := rules.Target{Kind: rules.Meeting, ID: mid}
	lost := rules.Person{FirstName: "L", Email: "lost@example.org"}
	e.fake.LoseNext(1)
	if _, err := e.client.AddRegistrant(ctx, tgt, lost, ""); !errors.Is(err, rules.ErrTemporary) {
		t.Errorf("add with its answer lost: err = %v, want temporary", err)
	}
	if r, ok := e.fake.Registrant(mid, lost.Email); !ok || e.fake.Adds(mid, lost.Email) != 1 {
		t.Errorf("add with its answer lost: Zoom holds %+v (%v) after %d adds, want the registrant after 1", r, ok, e.fake.Adds(mid, lost.Email))
	}
}

func TestClientPacesUnderTheCategoryLimit(t *testing.T) {
	limits := zoomtest.ProLimits
	limits.LightPerSecond = 5
	e := setup(t, limits, zoom.Config{LightPerSecond: 4, MediumPerSecond: 4})
	ctx := context.Background()
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@x.org"})
	for range 12 {
		if _, err := e.client.Details(ctx, rules.Target{Kind: rules.Meeting, ID: mid}); err != nil {
			t.Fatalf("paced client hit the limit: %v", err)
		}
	}
	for _, c := range e.fake.Calls() {
		if c.Status == 429 {
			t.Errorf("fake answered 429 to %s %s", c.Method, c.Path)
		}
	}
}

func tokenCalls(f *zoomtest.Fake) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Path == "/oauth/token" && c.Status == 200 {
			n++
		}
	}
	return n
}

func TestRecurringOccurrencesAgreeWithSpec(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	day1 := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Course", HostEmail: "h@x.org", Duration: 90, StartTime: day1, Occurrences: []time.Time{day1, day2}})
	tgt := rules.Target{Kind: rules.Meeting, ID: mid}
	second := fmt.Sprint(day2.UnixMilli())
	if _, err := e.client.AddRegistrant(ctx, tgt, rules.Person{FirstName: "A", Email: "a@example.org"}, second); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.fake.Registrant(mid, "a@example.org"); len(r.Occurrences) != 1 || r.Occurrences[0] != second {
		t.Errorf("registrant occurrences = %v, want [%s]", r.Occurrences, second)
	}
	_, err := e.client.AddRegistrant(ctx, tgt, rules.Person{FirstName: "B", Email: "b@example.org"}, "123")
	var zerr *zoom.Error
	if !errors.As(err, &zerr) || zerr.Code != 300 || rules.Retryable(err) {
		t.Errorf("unknown occurrence: %v, want Zoom's 400 code 300", err)
	}
	if _, err := e.client.Details(ctx, tgt); err != nil {
		t.Fatal(err)
	}
}

func TestTokenRejectedTwiceIsRetriedNotParked(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@x.org"})
	e.fake.RefuseTokens(true) // revoked again right after renewal
	_, err := e.client.Details(ctx, rules.Target{Kind: rules.Meeting, ID: mid})
	if n := tokenCalls(e.fake); n != 2 {
		t.Errorf("fetched %d tokens, want 2 (one renewal, no loop)", n)
	}
	if !rules.Retryable(err) || !strings.Contains(err.Error(), "scopes") {
		t.Errorf("a token refused after renewal: %v, want a retryable error that names the scopes", err)
	}
}

func TestSlowAnswerTimesOut(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{Timeout: 300 * time.Millisecond, Retries: 1})
	ctx := context.Background()
	mid := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@x.org"})
	tgt := rules.Target{Kind: rules.Meeting, ID: mid}
	if _, err := e.client.Details(ctx, tgt); err != nil { // token fetched before Zoom slows down
		t.Fatal(err)
	}
	e.fake.SetLatency(time.Second)
	start := time.Now()
	_, err := e.client.AddRegistrant(ctx, tgt, rules.Person{FirstName: "S", Email: "slow@example.org"}, "")
	t.Logf("err %v after %v", err, time.Since(start))
	if !errors.Is(err, rules.ErrTemporary) {
		t.Errorf("add answered after the timeout: err = %v, want temporary", err)
	}
	if waited := time.Since(start); waited > 900*time.Millisecond {
		t.Errorf("the client waited %v for an answer, past its 300ms timeout", waited)
	}
}

func TestRegistrantByID(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	wid := e.fake.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "W", HostEmail: "h@x.org", ApprovalType: 1})
	tgt := rules.Target{Kind: rules.Webinar, ID: wid}
	added, err := e.client.AddRegistrant(ctx, tgt, rules.Person{FirstName: "P", Email: "P@Example.org"}, "")
	if err != nil || added.Status != rules.SeatPending || added.JoinURL != "" {
		t.Fatalf("add on a manual-approval webinar = %+v, %v; want pending without a link", added, err)
	}
	if err := e.client.UpdateStatus(ctx, nil, tgt, rules.Approve, []rules.Seat{added}); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.Registrant(ctx, tgt, added.RegistrantID)
	want, _ := e.fake.Registrant(wid, "p@example.org")
	if err != nil || got.Status != rules.SeatApproved || got.JoinURL != want.JoinURL || got.Email != "p@example.org" {
		t.Errorf("registrant after approval = %+v, %v; want approved with %s", got, err, want.JoinURL)
	}
	if _, err := e.client.Registrant(ctx, tgt, "noSuchRegistrant1"); !errors.Is(err, rules.ErrPermanent) || !strings.Contains(err.Error(), "3079") {
		t.Errorf("unknown registrant: err = %v, want permanent with code 3079", err)
	}
}

func TestUntrustedCertificateIsACredentialsProblem(t *testing.T) {
	fake := zoomtest.New(creds, fastLimits())
	srv := httptest.NewTLSServer(fake) // its certificate is not in the default pool
	defer srv.Close()
	c := zoom.New(zoom.Config{AccountID: creds.AccountID, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		APIURL: srv.URL + "/v2", OAuthURL: srv.URL + "/oauth/token", Retries: 3}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := c.Details(context.Background(), rules.Target{Kind: rules.Meeting, ID: 1})
	if !errors.Is(err, rules.ErrCredentials) || errors.Is(err, rules.ErrTemporary) || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("unknown certificate authority: err = %v, want a credentials (trust) error, not a temporary one", err)
	}
}

func TestCircuitStopsCallsWhileZoomIsDownAndProbes(t *testing.T) {
	var changes []bool
	var mu sync.Mutex
	e := setup(t, fastLimits(), zoom.Config{Retries: 0, CircuitWindow: 100 * time.Millisecond, CircuitProbe: 50 * time.Millisecond, OnCircuit: func(open bool, _ time.Time) {
		mu.Lock()
		changes = append(changes, open)
		mu.Unlock()
	}})
	ctx := context.Background()
	target := rules.Target{Kind: rules.Meeting, ID: e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@example.org", Duration: 30})}
	e.fake.SetDown(true)
	// A burst of failures does not stop the calls; a Zoom silent for the
	// whole window does.
	for i := range 5 {
		if _, err := e.client.Details(ctx, target); !errors.Is(err, rules.ErrTemporary) {
			t.Fatalf("call %d while down: %v, want a temporary failure", i, err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := e.client.Details(ctx, target); !errors.Is(err, rules.ErrTemporary) || errors.Is(err, rules.ErrUnavailable) {
		t.Fatalf("the call that ends the window: %v, want a temporary failure", err)
	}
	sent := len(e.fake.Calls())
	for range 20 {
		_, err := e.client.Details(ctx, target)
		if !errors.Is(err, rules.ErrUnavailable) || !rules.Retryable(err) {
			t.Fatalf("after 5 unanswered calls: %v, want unavailable", err)
		}
		if at, ok := rules.RetryAt(err); !ok || !at.After(time.Now()) {
			t.Errorf("an unavailable error without a time to come back: %v", err)
		}
	}
	if n := len(e.fake.Calls()) - sent; n != 0 {
		t.Errorf("%d calls reached Zoom while the circuit was open, want 0", n)
	}
	// Probes go out at a growing interval, one at a time.
	var probeTimes []time.Time
	deadline := time.Now().Add(2 * time.Second)
	for len(probeTimes) < 3 && time.Now().Before(deadline) {
		before := len(e.fake.Calls())
		_, err := e.client.Details(ctx, target)
		if !errors.Is(err, rules.ErrUnavailable) {
			t.Fatalf("while down: %v, want unavailable (a failed probe too)", err)
		}
		if n := len(e.fake.Calls()) - before; n > 0 {
			probeTimes = append(probeTimes, time.Now())
			if n > 1 {
				t.Errorf("a probe sent %d requests", n)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(probeTimes) < 3 {
		t.Fatalf("%d probes in 2 s, want 3", len(probeTimes))
	}
	// 50 ms, then 100 ms; polling every 5 ms blurs each by a little.
	if g1, g2 := probeTimes[1].Sub(probeTimes[0]), probeTimes[2].Sub(probeTimes[1]); g2+20*time.Millisecond < g1 {
		t.Errorf("probe intervals %s then %s: not growing", g1, g2)
	}
	e.fake.SetDown(false)
	deadline = time.Now().Add(2 * time.Second)
	for {
		_, err := e.client.Details(ctx, target)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Zoom is back but calls still fail: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := e.client.Details(ctx, target); err != nil {
		t.Errorf("after Zoom answered again: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(changes) != "[true false]" {
		t.Errorf("circuit changes reported: %v, want open then closed", changes)
	}
}

// With no pace configured, the client rises to the fake account's limit,
// pays one 429 to learn it, and follows it down when the limit drops.
func TestPaceLearnsTheAccountsLimit(t *testing.T) {
	limits := fastLimits()
	limits.LightPerSecond = 40
	e := setup(t, limits, zoom.Config{LightPerSecond: -1, MediumPerSecond: -1, Retries: 3})
	ctx := context.Background()
	target := rules.Target{Kind: rules.Meeting, ID: e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@example.org", Duration: 30})}
	run := func(d time.Duration) (calls int) {
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 8 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					if _, err := e.client.Details(ctx, target); err != nil {
						t.Errorf("call: %v", err)
						return
					}
					mu.Lock()
					calls++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return calls
	}
	count429 := func() (n int) {
		for _, c := range e.fake.Calls() {
			if c.Status == 429 {
				n++
			}
		}
		return n
	}
	// Rise until Zoom first refuses (slow start from 10/s takes about 4 s).
	for deadline := time.Now().Add(30 * time.Second); count429() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no 429 in 30 s: the pace never reached the limit")
		}
		run(time.Second)
	}
	run(2 * time.Second)
	light, _ := e.client.Pace()
	if light > 39 || light < 0.75*40 {
		t.Errorf("pace against a 40/s limit: %.1f, want 39 (the limit less one, or a little less after a late refusal)", light)
	}
	first := count429()
	if first > 3 {
		t.Errorf("%d 429s while learning one limit, want at most 3", first)
	}
	run(2 * time.Second)
	// A call that leaves in one second and arrives in the next can still
	// meet a full second now and then.
	if extra := count429() - first; extra > 1 {
		t.Errorf("%d more 429s at a known limit", extra)
	}
	e.fake.SetRateLimits(20, 20)
	before := count429()
	run(3 * time.Second)
	light, _ = e.client.Pace()
	if light > 19 || light < 0.75*20 {
		t.Errorf("pace after the limit fell to 20/s: %.1f, want 19 (or a little less after a late refusal)", light)
	}
	if n := count429() - before; n > 3 {
		t.Errorf("%d 429s to follow the limit down, want at most 3", n)
	}
	t.Logf("429s: %d to learn 40/s, %d to follow it to 20/s", first, count429()-before)
}

// Status changes of many jobs at once on one meeting go out 30 at a time,
// and one registrant Zoom refuses does not hold back the others.
func TestStatusChangesOfManyJobsAreJoined(t *testing.T) {
	limits := fastLimits()
	limits.MediumPerSecond = 10 // calls wait for their turn, so changes gather
	e := setup(t, limits, zoom.Config{LightPerSecond: 1000, MediumPerSecond: 10, Retries: 3})
	ctx := context.Background()
	target := rules.Target{Kind: rules.Meeting, ID: e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@example.org", Duration: 30})}
	const n = 70
	seats := make([]rules.Seat, n)
	for i := range n {
		s, err := e.client.AddRegistrant(ctx, target, rules.Person{FirstName: "P", Email: fmt.Sprintf("p%02d@example.org", i)}, "")
		if err != nil {
			t.Fatal(err)
		}
		seats[i] = s
	}
	// Registrant 0 has used up its status changes for today.
	for range zoomtest.ProLimits.StatusPerDay {
		for _, a := range []rules.ActionKind{rules.Cancel, rules.Approve} {
			if err := e.client.UpdateStatus(ctx, nil, target, a, seats[:1]); err != nil && a == rules.Cancel {
				break
			}
		}
	}
	before := len(e.fake.Calls())
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.client.UpdateStatus(ctx, nil, target, rules.Cancel, seats[i:i+1]) })
	}
	wg.Wait()
	calls := 0
	for _, c := range e.fake.Calls()[before:] {
		if strings.HasSuffix(c.Path, "/registrants/status") {
			calls++
		}
	}
	for i := 1; i < n; i++ {
		if errs[i] != nil {
			t.Errorf("registrant %d: %v", i, errs[i])
		} else if r, _ := e.fake.Registrant(target.ID, seats[i].Email); r.Status != "denied" {
			t.Errorf("registrant %d is %s after its cancel, want denied", i, r.Status)
		}
	}
	if !errors.Is(errs[0], rules.ErrRateLimited) {
		t.Errorf("the registrant over its daily limit: %v, want Zoom's daily limit", errs[0])
	}
	// 70 changes: at most ceil(70/30)+2 joined calls, plus the parts of the
	// one joined call Zoom refused sent again alone (at most 30).
	if calls > 3+2+30 {
		t.Errorf("%d status calls for %d cancellations", calls, n)
	}
	t.Logf("%d cancellations in %d status calls (one refused registrant among them)", n, calls)

	// All well: n changes at once take at most ceil(n/30)+2 calls.
	before = len(e.fake.Calls())
	for i := 1; i < n; i++ {
		wg.Go(func() { errs[i] = e.client.UpdateStatus(ctx, nil, target, rules.Approve, seats[i:i+1]) })
	}
	wg.Wait()
	calls = 0
	for _, c := range e.fake.Calls()[before:] {
		if strings.HasSuffix(c.Path, "/registrants/status") {
			calls++
		}
	}
	for i := 1; i < n; i++ {
		if r, _ := e.fake.Registrant(target.ID, seats[i].Email); errs[i] != nil || r.Status != "approved" {
			t.Errorf("registrant %d after its approve: %s, %v", i, r.Status, errs[i])
		}
	}
	if want := (n-1+29)/30 + 2; calls > want {
		t.Errorf("%d approvals in %d status calls, want at most %d", n-1, calls, want)
	}
	t.Logf("%d approvals in %d status calls", n-1, calls)
}

// A registrant's daily limit (3 adds a day) names "3" as its limit: that is
// no per-second rate, and the pace stays.
func TestRegistrantDailyLimitLeavesThePace(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{LightPerSecond: 50, MediumPerSecond: 50, Retries: 3})
	ctx := context.Background()
	target := rules.Target{Kind: rules.Meeting, ID: e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@example.org", Duration: 30})}
	p := rules.Person{FirstName: "A", Email: "a@example.org"}
	var err error
	for range 5 {
		if _, err = e.client.AddRegistrant(ctx, target, p, ""); err != nil {
			break
		}
	}
	if !errors.Is(err, rules.ErrRateLimited) {
		t.Fatalf("the 4th add of one email in a day: %v, want Zoom's daily limit", err)
	}
	if light, _ := e.client.Pace(); light != 50 {
		t.Errorf("pace after a registrant's daily limit: %v, want 50", light)
	}
}

// A recurring meeting's occurrences come with its details, as Zoom lists
// them on GET (checked against Zoom's spec by the validator).
func TestMeetingOccurrences(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{LightPerSecond: 100, MediumPerSecond: 100, Retries: 1})
	starts := []time.Time{time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), time.Date(2026, 12, 8, 17, 0, 0, 0, time.UTC)}
	id := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Series", HostEmail: "h@example.org", Duration: 60, StartTime: starts[0], Occurrences: starts})
	d, err := e.client.Details(context.Background(), rules.Target{Kind: rules.Meeting, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Occurrences) != 2 || !d.Occurrences[0].Equal(starts[0]) || !d.Occurrences[1].Equal(starts[1]) {
		t.Errorf("occurrences = %v, want %v", d.Occurrences, starts)
	}
	for _, v := range e.check.Violations() {
		t.Errorf("spec violation: %s", v)
	}
}

// Zoom's API and token endpoint never redirect: a redirect is refused with
// where it pointed, and neither the app's credentials nor a token reach its
// target.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer target.Close()
	fake := zoomtest.New(creds, fastLimits())
	srv := httptest.NewServer(fake)
	defer srv.Close()
	meeting := fake.CreateMeeting(zoomtest.Meeting{Topic: "Tour", HostEmail: "host@shop.example", Duration: 60})
	c := zoom.New(zoom.Config{AccountID: creds.AccountID, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		APIURL: srv.URL + "/v2", OAuthURL: srv.URL + "/oauth/token", LightPerSecond: 1000, MediumPerSecond: 1000, Retries: 2},
		nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	m := rules.Target{Kind: rules.Meeting, ID: meeting}

	fake.RedirectTo(target.URL)
	_, err := c.Details(ctx, m)
	if !errors.Is(err, rules.ErrCredentials) || !strings.Contains(err.Error(), "Zoom redirected to "+target.URL+"/oauth/token; check zoom.api_url") {
		t.Errorf("token endpoint redirected: %v, want a refusal naming the location that waits for a person", err)
	}
	fake.RedirectTo("")
	if _, err := c.Details(ctx, m); err != nil {
		t.Fatal(err)
	}
	fake.RedirectTo(target.URL)
	_, err = c.Details(ctx, m)
	if !errors.Is(err, rules.ErrCredentials) || !strings.Contains(err.Error(), fmt.Sprintf("Zoom redirected to %s/v2/meetings/%d;", target.URL, meeting)) {
		t.Errorf("API redirected: %v", err)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want none", n)
	}
}

// Inspect says whether a meeting can take attendees: gone, registration
// off, an unlicensed host, or fine.
func TestInspect(t *testing.T) {
	e := setup(t, fastLimits(), zoom.Config{})
	ctx := context.Background()
	e.fake.AddUser(zoomtest.User{Email: "basic@shop.example", Type: 1})
	fine := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Tour", HostEmail: "host@shop.example", Duration: 60})
	off := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Open house", HostEmail: "host@shop.example", Duration: 30, ApprovalType: 2})
	basic := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Chat", HostEmail: "basic@shop.example", Duration: 30})
	gone := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "Gone", HostEmail: "host@shop.example", Duration: 30})
	e.fake.DeleteMeeting(gone)
	m := func(id int64) rules.Target { return rules.Target{Kind: rules.Meeting, ID: id} }
	if _, err := e.client.Inspect(ctx, m(gone)); !errors.Is(err, zoom.ErrTargetGone) {
		t.Errorf("deleted meeting: %v", err)
	}
	for id, want := range map[int64]error{fine: nil, off: zoom.ErrRegistrationOff, basic: zoom.ErrHostUnlicensed} {
		in, err := e.client.Inspect(ctx, m(id))
		if err != nil {
			t.Fatal(err)
		}
		if p := in.Problem(); (want == nil) != (p == nil) || (want != nil && !errors.Is(p, want)) {
			t.Errorf("meeting %d: problem %v, want %v", id, p, want)
		}
		if !in.HostRead || !strings.Contains(in.Describe(), in.Meeting.Topic) {
			t.Errorf("meeting %d: host read %v, %q", id, in.HostRead, in.Describe())
		}
	}
}

// A fault that hits many calls at once (a 503 to each) does not turn their
// retries into a burst over Zoom's per-second limit: a retry waits for its
// turn under the pace like a first try.
func TestRetriesKeepThePace(t *testing.T) {
	limits := fastLimits()
	limits.LightPerSecond = 10
	e := setup(t, limits, zoom.Config{Retries: 3, LightPerSecond: 10})
	ctx := context.Background()
	id := e.fake.CreateMeeting(zoomtest.Meeting{Topic: "T", HostEmail: "h@x.org"})
	tgt := rules.Target{Kind: rules.Meeting, ID: id}
	if _, err := e.client.Details(ctx, tgt); err != nil { // the token, outside the count
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	e.fake.FailNext(20, 503, "")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := e.client.Details(ctx, tgt); err != nil {
				t.Errorf("read after a 503: %v", err)
			}
		})
	}
	wg.Wait()
	if n := e.fake.OverPace(); n != 0 {
		t.Errorf("%d calls over Zoom's 10 a second: the retries went unpaced", n)
	}
}
