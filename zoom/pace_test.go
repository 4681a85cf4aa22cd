package zoom

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// clock is a settable time for the pacer's rules.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func qps429(limit string) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Type", "QPS")
	h.Set("X-RateLimit-Category", "Light")
	if limit != "" {
		h.Set("X-RateLimit-Limit", limit)
	}
	return h
}

// busy simulates a second in which the pace was used fully.
func busy(p *pacer, c *clock) {
	c.t = c.t.Add(time.Second)
	p.mu.Lock()
	p.tick()
	p.sent = int(p.pace) + 1
	p.mu.Unlock()
	p.answered(http.StatusOK, http.Header{}, false)
}

func TestPacerRules(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	p := newPacer(10, 0, 1, c.now)
	for range 4 {
		busy(p, c)
	}
	if got := p.current(); got < 50 || got > 51 { // 10 * 1.5^4
		t.Errorf("slow start after 4 busy seconds: %v, want 50.6", got)
	}
	// An idle second does not raise the pace.
	c.t = c.t.Add(2 * time.Second)
	p.answered(http.StatusOK, http.Header{}, false)
	if got := p.current(); got > 51 {
		t.Errorf("raised while idle: %v", got)
	}
	p.answered(http.StatusTooManyRequests, qps429("30"), false)
	if got := p.current(); got != 29 {
		t.Errorf("after a 429 naming 30/s: %v, want 29", got)
	}
	if !p.hold.After(c.t) || p.hold.Sub(c.t) > time.Second+20*time.Millisecond {
		t.Errorf("after a per-second 429 calls are held until %v (now %v), want the next second", p.hold, c.t)
	}
	// Refusals in the same second are the echo of the overshoot.
	p.answered(http.StatusTooManyRequests, qps429("30"), false)
	if got := p.current(); got != 29 {
		t.Errorf("a second 429 in the same second changed the pace: %v", got)
	}
	for range 5 {
		busy(p, c)
	}
	if got := p.current(); got != 29 {
		t.Errorf("rose above the known limit: %v", got)
	}
	// The same limit refused again later, while sending well under the
	// pace: a passing refusal.
	c.t = c.t.Add(3 * time.Second)
	p.answered(http.StatusTooManyRequests, qps429("30"), false)
	if got := p.current(); got != 29 {
		t.Errorf("a 429 while idle changed the pace: %v", got)
	}
	// Refused while the pace is used: others use part of it.
	busy(p, c)
	c.t = c.t.Add(1500 * time.Millisecond)
	p.mu.Lock()
	p.tick()
	p.sent = 29
	p.mu.Unlock()
	p.answered(http.StatusTooManyRequests, qps429("30"), false)
	shared := p.current()
	if shared > 29*0.8+0.01 {
		t.Errorf("after a 429 at the known limit: %v, want a fifth less", shared)
	}
	busy(p, c)
	if got := p.current(); got != shared+1 {
		t.Errorf("recovery: %v, want one more than %v", got, shared)
	}
	// A daily limit says nothing about the pace.
	d := http.Header{}
	d.Set("X-RateLimit-Type", "Daily-limit")
	before := p.current()
	p.answered(http.StatusTooManyRequests, d, false)
	if p.current() != before {
		t.Error("a daily-limit 429 changed the pace")
	}
	// A registrant's 3 adds a day: a daily limit named only in the message.
	reg := http.Header{}
	reg.Set("X-RateLimit-Limit", "3")
	p.answered(http.StatusTooManyRequests, reg, true)
	if p.current() != before || !p.hold.Before(c.t.Add(time.Second)) {
		t.Errorf("a registrant's daily 429 changed the pace to %v", p.current())
	}

	// Share and ceiling.
	q := newPacer(10, 25, 0.5, c.now)
	if got := q.current(); got != 25 {
		t.Errorf("with a ceiling of 25 the pace starts at %v, want 25", got)
	}
	q.answered(http.StatusTooManyRequests, qps429("80"), false)
	if got := q.current(); got != 25 {
		t.Errorf("with a ceiling of 25 and half of 80: %v, want 25", got)
	}
	q.answered(http.StatusTooManyRequests, qps429("40"), false)
	if got := q.current(); got != 19 {
		t.Errorf("with a ceiling of 25 and half of 40: %v, want 19", got)
	}
	r := newPacer(10, 0, 0.5, c.now)
	r.answered(http.StatusTooManyRequests, qps429("80"), false)
	if got := r.current(); got != 39 {
		t.Errorf("with max_share 0.5 of 80: %v, want 39", got)
	}
}

// What an earlier run learned is where the next starts: the limit Zoom
// named (less the margin), else the pace reached; an explicit ceiling still
// caps it, and a 429 naming a new limit still corrects it.
func TestPacerResumes(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	p := newPacer(10, 0, 1, c.now)
	p.resume(50, 80)
	if got := p.current(); got != 79 {
		t.Errorf("resumed from a named limit of 80: pace %v, want 79", got)
	}
	busy(p, c)
	if got := p.current(); got != 79 {
		t.Errorf("after a busy second at the learned limit: pace %v, want 79", got)
	}
	c.t = c.t.Add(2 * time.Second)
	p.answered(http.StatusTooManyRequests, qps429("30"), false)
	if got := p.current(); got != 29 {
		t.Errorf("a plan downgraded to 30: pace %v, want 29", got)
	}

	q := newPacer(10, 0, 1, c.now)
	q.resume(33.75, 0)
	if got := q.current(); got != 33.75 {
		t.Errorf("resumed from a pace without a named limit: %v", got)
	}
	capped := newPacer(10, 20, 1, c.now)
	capped.resume(50, 80)
	if got := capped.current(); got != 20 {
		t.Errorf("a configured ceiling of 20 resumed to %v", got)
	}
	if pace, limit := p.learned(); pace != 29 || limit != 30 {
		t.Errorf("learned %v, %v", pace, limit)
	}
}

// memShared is an account's shared pace in memory, as store.DB keeps it.
type memShared struct {
	mu          sync.Mutex
	next        time.Time
	rate, limit float64
}

func (m *memShared) ReserveSlots(_ context.Context, _ string, n int, pace float64) (time.Time, float64, float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rate == 0 {
		m.rate = pace
	}
	first := m.next
	m.next = m.next.Add(time.Duration(float64(n) * float64(time.Second) / m.rate))
	return first, m.rate, m.limit, nil
}

func (m *memShared) SetSharedPace(_ context.Context, _ string, rate, limit float64, hold time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rate, m.limit = rate, limit
	if hold.After(m.next) {
		m.next = hold
	}
	return nil
}

// Replicas sharing a pace learn the account's limit once: a refusal that
// names no limit, met by one replica and then by another after the first
// cut the pace, does not make the second take the cut pace for the limit.
// Both climb back to just under the one limit.
func TestSharedPaceLearnsOneLimit(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	m := &memShared{next: c.t}
	replica := func() *pacer {
		p := newPacer(startLight, 25, 1, c.now)
		p.shared = &sharedPace{store: m, key: "acct/light"}
		return p
	}
	a, b := replica(), replica()
	reserve := func(p *pacer) {
		t.Helper()
		p.mu.Lock()
		p.shared.waiting = 1
		p.mu.Unlock()
		if _, err := p.nextSlot(context.Background()); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		p.shared.waited = c.t // the account's calls use the pace up
		p.mu.Unlock()
	}
	reserve(a)
	reserve(b)
	a.answered(http.StatusTooManyRequests, qps429(""), false)
	if m.rate != 20 || m.limit != 25 {
		t.Fatalf("after a's refusal the shared pace is %g at a limit of %g, want 20 at 25", m.rate, m.limit)
	}
	c.t = c.t.Add(2 * time.Second)
	reserve(b)
	b.answered(http.StatusTooManyRequests, qps429(""), false)
	if m.limit != 25 {
		t.Fatalf("b's refusal made the shared limit %g, want the account's 25", m.limit)
	}
	for range 20 {
		c.t = c.t.Add(1100 * time.Millisecond)
		for _, p := range []*pacer{a, b} {
			reserve(p)
			p.answered(http.StatusCreated, http.Header{}, false)
		}
	}
	if m.rate != 24 || a.current() != 24 || b.current() != 24 {
		t.Fatalf("after climbing back: shared %g, a %g, b %g; want 24, just under the limit", m.rate, a.current(), b.current())
	}
}

// failingShared is a shared pace whose database does not answer.
type failingShared struct{}

var errNoDatabase = errors.New("the database does not answer")

func (failingShared) ReserveSlots(context.Context, string, int, float64) (time.Time, float64, float64, error) {
	return time.Time{}, 0, 0, errNoDatabase
}

func (failingShared) SetSharedPace(context.Context, string, float64, float64, time.Time) error {
	return errNoDatabase
}

// A status change whose turn cannot be waited for fails with why, at once:
// its caller does not wait for an answer that no call will bring.
func TestStatusChangeFailsWhenItsTurnCannotBeWaitedFor(t *testing.T) {
	c := New(Config{AccountID: "acct", APIURL: "http://127.0.0.1:1/v2", Shared: failingShared{}}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seat := rules.Seat{SeatKey: rules.SeatKey{Target: rules.Target{Kind: rules.Meeting, ID: 85746065123}, Email: "a@example.org"}, RegistrantID: "r1", Status: rules.SeatApproved}
	done := make(chan error, 2)
	for range 2 { // a leader and one who joins it
		go func() { done <- c.UpdateStatus(ctx, rules.NoSlot{}, seat.Target, rules.Cancel, []rules.Seat{seat}) }()
	}
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, errNoDatabase) {
				t.Errorf("the status change: %v, want the pace's error", err)
			}
		case <-ctx.Done():
			t.Fatal("a status change still waits for a turn that could not be waited for")
		}
	}
}
