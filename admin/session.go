package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

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

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// limiter refuses logins from an address after maxFailures failures within
// window, until the window since the first of them has passed.
type limiter struct {
	mu     sync.Mutex
	failed map[string]failures
	max    int
	window time.Duration
	now    func() time.Time
}

type failures struct {
	n     int
	first time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{failed: map[string]failures{}, max: max, window: window, now: time.Now}
}

// blocked says how long the address must wait (0: it may try).
func (l *limiter) blocked(addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.failed[addr]
	if !ok {
		return 0
	}
	left := f.first.Add(l.window).Sub(l.now())
	if left <= 0 {
		delete(l.failed, addr)
		return 0
	}
	if f.n >= l.max {
		return left
	}
	return 0
}

func (l *limiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.failed[addr]
	if f.n == 0 || l.now().After(f.first.Add(l.window)) {
		f = failures{first: l.now()}
	}
	f.n++
	l.failed[addr] = f
}

func (l *limiter) succeed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failed, addr)
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
