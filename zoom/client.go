// Package zoom is woozoom's Zoom client: Server-to-Server OAuth, meeting and
// webinar details, and registrants (add, list, approve, cancel), with Zoom's
// errors classified once and its per-second limits kept. zoomtest holds a
// faithful fake of the same API.
package zoom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/woozoom/woozoom/rules"
)

// Defaults Zoom documents.
const (
	DefaultAPIURL   = "https://api.zoom.us/v2"
	DefaultOAuthURL = "https://zoom.us/oauth/token"
	// MaxStatusBatch is the most registrants one status call takes.
	MaxStatusBatch = 30
)

// Config is what the client needs.
type Config struct {
	AccountID    string
	ClientID     string
	ClientSecret string
	APIURL       string
	OAuthURL     string
	Timeout      time.Duration
	// Most requests per second per rate-limit category; 0: no cap. woozoom
	// learns the account's limits from Zoom's answers and keeps under them.
	LightPerSecond  float64
	MediumPerSecond float64
	// MaxShare is the part of the account's limits woozoom may use (0 < s
	// <= 1; default 1), leaving the rest to other apps on the account.
	MaxShare float64
	// Retries of one call inside the client (429 per second, 5xx, network)
	// before the job's own, durable retry takes over.
	Retries int
	// CircuitWindow is how long Zoom must stay silent (5 calls or more in a
	// row without an answer) before calls stop (default 5 s); CircuitProbe
	// is the first interval between probes then (default 2 s; it doubles up
	// to 30 s).
	CircuitWindow, CircuitProbe time.Duration
	// OnCircuit, if set, hears when calls stop because Zoom does not answer
	// (open) and when Zoom answers again.
	OnCircuit func(open bool, since time.Time)
	// Shared, if set, shares the account's pace with the other processes
	// that call Zoom for it (replicas on one database).
	Shared SharedPace
}

// Client talks to Zoom.
type Client struct {
	r       *resty.Client
	tokens  *TokenSource
	light   *pacer
	medium  *pacer
	log     *slog.Logger
	now     func() time.Time
	breaker *circuit
	retries int
	status  *statusBatcher

	mu sync.Mutex
	// held[cat] is when Zoom said the account's daily limit of a category
	// resets: until then its calls are answered here, not sent.
	held [2]time.Time
}

// New returns a client. hc may be nil; its Timeout is then cfg.Timeout.
func New(cfg Config, hc *http.Client, log *slog.Logger) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	own := *hc // resty sets its options on the client it is given
	own.CheckRedirect = refuseRedirect
	hc = &own
	c := &Client{
		tokens:  NewTokenSource(cfg, hc),
		log:     log,
		now:     time.Now,
		retries: cfg.Retries,
	}
	c.status = &statusBatcher{c: c, queues: map[statusKey]*statusQueue{}}
	now := func() time.Time { return c.now() }
	c.light = newPacer(startLight, cfg.LightPerSecond, cfg.MaxShare, now)
	c.medium = newPacer(startMedium, cfg.MediumPerSecond, cfg.MaxShare, now)
	if cfg.Shared != nil {
		c.light.shared = &sharedPace{store: cfg.Shared, key: cfg.AccountID + "/light"}
		c.medium.shared = &sharedPace{store: cfg.Shared, key: cfg.AccountID + "/medium"}
	}
	c.breaker = newCircuit(cfg.CircuitWindow, cfg.CircuitProbe, 30*time.Second, func() time.Time { return c.now() })
	c.breaker.onChange = cfg.OnCircuit
	c.r = resty.NewWithClient(hc).
		SetBaseURL(strings.TrimRight(cfg.APIURL, "/")).
		SetTimeout(cfg.Timeout).
		SetHeader("Accept", "application/json").
		SetRetryCount(cfg.Retries).
		SetRetryWaitTime(500 * time.Millisecond).
		SetRetryMaxWaitTime(10 * time.Second).
		AddRetryCondition(c.retryInClient).
		SetRetryAfter(c.waitBeforeRetry).
		AddRetryHook(c.logRetry).
		OnAfterResponse(func(_ *resty.Client, resp *resty.Response) error {
			// Every answer, retried ones too, tells the pace what Zoom allows.
			if p, ok := resp.Request.Context().Value(pacerKey{}).(*pacer); ok {
				daily := resp.StatusCode() == http.StatusTooManyRequests &&
					newError("", resp.StatusCode(), resp.Header(), resp.Body(), c.now()).Daily()
				p.answered(resp.StatusCode(), resp.Header(), daily)
			}
			return nil
		})
	c.r.SetLogger(quietLogger{})
	return c
}

// retryInClient decides resty's retries. Adding a registrant is left to the
// job's durable retry: each add counts toward Zoom's 3 per email per meeting
// per day, even when the answer was lost. Per-second 429s, 5xx and network
// failures of the other calls are retried here; daily limits never are.
func (c *Client) retryInClient(resp *resty.Response, err error) bool {
	if resp == nil || resp.Request == nil {
		return false
	}
	if resp.Request.Context().Err() != nil {
		return false
	}
	status := resp.StatusCode()
	if status == http.StatusTooManyRequests {
		return false // do sends it again through the pacer, or the job waits
	}
	if resp.Request.Method == http.MethodPost {
		return false
	}
	return (err != nil && !rules.Untrusted(err) && !errors.Is(err, rules.ErrCredentials)) || status >= 500
}

// refuseRedirect never follows a redirect: Zoom's API and token endpoint do
// not redirect, and the bearer token or the app's Basic credentials must
// not reach another origin.
func refuseRedirect(req *http.Request, _ []*http.Request) error {
	return rules.Redirect("Zoom", "check zoom.api_url and zoom.oauth_url (or a proxy between woozoom and Zoom)", req.URL)
}

// logRetry makes the failures resty retries visible: they would otherwise
// vanish when the retry succeeds.
func (c *Client) logRetry(resp *resty.Response, err error) {
	if resp == nil || resp.Request == nil {
		return
	}
	args := []any{"method", resp.Request.Method, "url", resp.Request.URL, "attempt", resp.Request.Attempt}
	if err != nil {
		args = append(args, "err", err)
	} else {
		args = append(args, "status", resp.StatusCode())
	}
	c.log.WarnContext(resp.Request.Context(), "zoom call retried", args...)
}

// waitBeforeRetry waits out a failed call's backoff, then for the call's
// turn under the pace: resty's own retries are sends too, and after a
// fault hit many calls at once, unpaced retries came in a burst over
// Zoom's per-second limit (the cluster harness counted 10 in one run).
func (c *Client) waitBeforeRetry(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	if resp.StatusCode() == http.StatusTooManyRequests {
		at := retryAfter(resp.Header(), false, c.now())
		return max(at.Sub(c.now()), 0), nil
	}
	ctx := resp.Request.Context()
	backoff := retryBackoff(resp.Request.Attempt)
	t := time.NewTimer(backoff)
	select {
	case <-ctx.Done():
		t.Stop()
		return 0, ctx.Err()
	case <-t.C:
	}
	if p, ok := ctx.Value(pacerKey{}).(*pacer); ok {
		if err := p.wait(ctx); err != nil {
			return 0, err
		}
	}
	return time.Nanosecond, nil // waited here: resty adds no backoff of its own
}

// retryBackoff is the jittered wait before retry attempt (1-based): half a
// second doubling to ten, each between half and all of it.
func retryBackoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(max(attempt-1, 0), 5)
	d = min(d, 10*time.Second)
	return d/2 + rand.N(d/2)
}

type category int

const (
	light category = iota
	medium
)

// pacerKey carries a call's pacer to the response hook.
type pacerKey struct{}

// Pace returns the current pace of the Light and Medium categories, in
// calls per second.
func (c *Client) Pace() (light, medium float64) { return c.light.current(), c.medium.current() }

// Learned returns what the client learned of the account's limits, to be
// kept for the next start (Resume).
func (c *Client) Learned() rules.LearnedPace {
	var l rules.LearnedPace
	l.Light, l.LightLimit = c.light.learned()
	l.Medium, l.MediumLimit = c.medium.learned()
	return l
}

// Resume starts the pace from what an earlier run learned.
func (c *Client) Resume(l rules.LearnedPace) {
	c.light.resume(l.Light, l.LightLimit)
	c.medium.resume(l.Medium, l.MediumLimit)
}

// call is one API request.
type call struct {
	op     string
	cat    category
	method string
	path   string
	query  map[string]string
	body   any
	result any
	// paced: the caller already waited for the first try's turn.
	paced bool
}

// do sends a call with a valid token, pacing it under the category's limit;
// a token Zoom rejects with code 124 is renewed and the call sent once more.
func (c *Client) do(ctx context.Context, cl call) error {
	c.mu.Lock()
	until := c.held[cl.cat]
	c.mu.Unlock()
	if c.now().Before(until) {
		return heldError{op: cl.op, until: until}
	}
	for attempt := 0; ; attempt++ {
		pace := c.light
		if cl.cat == medium {
			pace = c.medium
		}
		if !cl.paced || attempt > 0 {
			if err := pace.wait(ctx); err != nil {
				return fmt.Errorf("%s: %w: %w", cl.op, rules.ErrTemporary, err)
			}
		}
		probe, err := c.breaker.allow(cl.op)
		if err != nil {
			return err
		}
		token, err := c.tokens.Token(ctx)
		if err != nil {
			if c.recordAnswer(ctx, probe, !unanswered(err)) {
				return c.breaker.stillDown(cl.op, err)
			}
			return fmt.Errorf("%s: %w", cl.op, err)
		}
		req := c.r.R().SetContext(context.WithValue(ctx, pacerKey{}, pace)).SetAuthToken(token).SetQueryParams(cl.query)
		if cl.body != nil {
			req.SetHeader("Content-Type", "application/json").SetBody(cl.body)
		}
		if cl.result != nil {
			req.SetResult(cl.result)
		}
		start := time.Now()
		resp, err := req.Execute(cl.method, cl.path)
		if err != nil {
			c.log.WarnContext(ctx, "zoom call failed", "op", cl.op, "err", err)
			if ctx.Err() != nil {
				c.recordAnswer(ctx, probe, false)
				return fmt.Errorf("%s: %w", cl.op, ctx.Err())
			}
			terr := transportError(cl.op, err)
			if c.recordAnswer(ctx, probe, !unanswered(terr)) {
				return c.breaker.stillDown(cl.op, terr)
			}
			return terr
		}
		if c.recordAnswer(ctx, probe, resp.StatusCode() < 500) {
			return c.breaker.stillDown(cl.op, newError(cl.op, resp.StatusCode(), resp.Header(), resp.Body(), c.now()))
		}
		c.log.DebugContext(ctx, "zoom call", "op", cl.op, "method", cl.method, "path", cl.path,
			"status", resp.StatusCode(), "duration", time.Since(start))
		if resp.IsSuccess() {
			return nil
		}
		zerr := newError(cl.op, resp.StatusCode(), resp.Header(), resp.Body(), c.now())
		if zerr.accountDaily() && resp.Header().Get("Retry-After") != "" {
			// Every call of the category would be refused until then. Without
			// Retry-After the reset is a guess (00:00 UTC): each job waits for
			// it on its own, and an admin's retry is not held back.
			c.mu.Lock()
			c.held[cl.cat] = zerr.retryAt
			c.mu.Unlock()
		}
		if zerr.TokenRejected() && attempt == 0 {
			c.tokens.Invalidate(token)
			continue
		}
		if zerr.HTTPStatus == http.StatusTooManyRequests && !zerr.Daily() && attempt < c.retries {
			// Per second: the pacer has slowed down and holds the rest of
			// this second; the call goes again in its turn.
			c.log.DebugContext(ctx, "zoom per-second limit; sending again at the new pace", "op", cl.op)
			continue
		}
		return zerr
	}
}

// recordAnswer tells the circuit whether Zoom answered, and reports a
// failed probe: the work that sent it waits for the next one like the rest,
// without being charged a try. A call cut short by its own context says
// nothing about Zoom: a probe is handed back.
func (c *Client) recordAnswer(ctx context.Context, probe, answered bool) (failedProbe bool) {
	if ctx.Err() != nil {
		if probe {
			c.breaker.abandon()
		}
		return false
	}
	c.breaker.record(answered)
	return probe && !answered
}

// unanswered reports an error that means Zoom did not answer at all or
// answered with a server error (not a refusal, not a limit).
func unanswered(err error) bool {
	var ze *Error
	if errors.As(err, &ze) {
		return ze.HTTPStatus >= 500
	}
	return errors.Is(err, rules.ErrTemporary) && !errors.Is(err, rules.ErrCredentials)
}

// heldError answers a call not sent because the account's daily limit for
// its category lasts until a time Zoom named.
type heldError struct {
	op    string
	until time.Time
}

func (e heldError) Error() string {
	return fmt.Sprintf("%s: not sent: Zoom's daily limit for the account lasts until %s", e.op, e.until.UTC().Format(time.RFC3339))
}

func (e heldError) Unwrap() error      { return rules.ErrRateLimited }
func (e heldError) Daily() bool        { return true }
func (e heldError) RetryAt() time.Time { return e.until }

func targetPath(t rules.Target) (string, error) {
	switch t.Kind {
	case rules.Meeting:
		return fmt.Sprintf("/meetings/%d", t.ID), nil
	case rules.Webinar:
		return fmt.Sprintf("/webinars/%d", t.ID), nil
	}
	return "", fmt.Errorf("unknown target kind %q: %w", t.Kind, rules.ErrPermanent)
}

// quietLogger keeps resty from printing; the client logs through slog.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}
