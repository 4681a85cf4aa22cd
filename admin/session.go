package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"
)

// sessions are kept in memory: a restart signs everyone out, which is the
// safe side for a console of a sidecar.
type sessions struct {
	mu   sync.Mutex
	byID map[string]session
	ttl  time.Duration
	now  func() time.Time
}

type session struct {
	csrf    string
	expires time.Time
	// flash is the outcome of the signed-in user's last action, shown once
	// on the next page: woozoom's own words, never text from a URL.
	flash flash
}

type flash struct {
	done, problem string
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{byID: map[string]session{}, ttl: ttl, now: time.Now}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) start() (id string, sess session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.byID {
		if now.After(v.expires) {
			delete(s.byID, k)
		}
	}
	id = randomToken()
	sess = session{csrf: randomToken(), expires: now.Add(s.ttl)}
	s.byID[id] = sess
	return id, sess
}

func (s *sessions) get(id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if !ok || s.now().After(sess.expires) {
		delete(s.byID, id)
		return session{}, false
	}
	return sess, true
}

// setFlash keeps the outcome of an action for the session's next page.
func (s *sessions) setFlash(id string, f flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.byID[id]; ok {
		sess.flash = f
		s.byID[id] = sess
	}
}

// takeFlash returns the outcome kept for the session and forgets it.
func (s *sessions) takeFlash(id string) flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if !ok {
		return flash{}
	}
	f := sess.flash
	sess.flash = flash{}
	s.byID[id] = sess
	return f
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// limiter counts sign-in attempts per client before the password is
// compared: a burst sent at once meets the limit as a slow series would.
// After max attempts within window the client waits until the window since
// its first attempt has passed; a correct password clears its count. It
// also caps how many comparisons (bcrypt costs CPU) run at once.
type limiter struct {
	mu     sync.Mutex
	tries  map[string]failures
	max    int
	window time.Duration
	now    func() time.Time
	swept  time.Time
	slots  chan struct{}
}

type failures struct {
	n     int
	first time.Time
}

func newLimiter(max int, window time.Duration, comparisons int) *limiter {
	return &limiter{tries: map[string]failures{}, max: max, window: window, now: time.Now, slots: make(chan struct{}, comparisons)}
}

// attempt counts a sign-in attempt by client and says how long it must
// wait (0: it may compare its password now).
func (l *limiter) attempt(client string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	f := l.tries[client]
	if f.n == 0 || !now.Before(f.first.Add(l.window)) {
		f = failures{first: now}
	}
	if f.n >= l.max {
		return f.first.Add(l.window).Sub(now)
	}
	f.n++
	l.tries[client] = f
	return 0
}

// sweep forgets clients whose window has passed, at most once a window.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < l.window {
		return
	}
	l.swept = now
	for k, f := range l.tries {
		if !now.Before(f.first.Add(l.window)) {
			delete(l.tries, k)
		}
	}
}

func (l *limiter) succeed(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.tries, client)
}

// clients says how many clients the limiter remembers.
func (l *limiter) clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tries)
}

// compare runs check when a comparison slot is free, or gives up with ctx.
func (l *limiter) compare(ctx context.Context, check func() bool) (bool, error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-l.slots }()
	return check(), nil
}

// clientKey is what the limit counts: an IPv4 address, or the /64 of an
// IPv6 address (one subscriber's whole network).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// ParseProxies reads trusted proxies: CIDRs, or single addresses.
func ParseProxies(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8, fd00::/64) nor an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		p = p.Masked()
		out = append(out, &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	return out, nil
}

// clientIP returns how the console finds a request's client: the direct
// peer, or with trusted proxies the nearest address in X-Forwarded-For
// that is not one of them.
func clientIP(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(p))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// passwordCheck compares in constant time: a bcrypt hash if given, else
// the plain password's digest.
func passwordCheck(plain, hash string) func(string) bool {
	if hash != "" {
		h := []byte(hash)
		return func(p string) bool { return bcrypt.CompareHashAndPassword(h, []byte(p)) == nil }
	}
	want := sha256.Sum256([]byte(plain))
	return func(p string) bool {
		got := sha256.Sum256([]byte(p))
		return subtle.ConstantTimeCompare(want[:], got[:]) == 1
	}
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
