package zoom

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Starting paces, below every paid plan's per-second limits (Pro: Light 30,
// Medium 20); woozoom rises from them to what the account allows.
const (
	startLight  = 10
	startMedium = 5
)

// pacer keeps one rate-limit category's pace at what Zoom allows the
// account, learned from Zoom's answers rather than configured:
//   - it starts at a safe pace and, while it uses that pace fully without a
//     429, rises by half each second (slow start);
//   - a per-second 429 names the category's limit (X-RateLimit-Limit): the
//     pace drops to just under it (times the share woozoom may use), so each
//     change of the limit costs one 429;
//   - a 429 at a limit it already knew, while the pace is used, means other
//     apps on the account use part of it: the pace drops by a fifth and
//     climbs back by one call a second.
//
// ceiling (an explicit *_per_second setting) is never exceeded, and is
// where the pace starts: an admin who names a pace gets it from the first
// call, as before woozoom learned limits.
type pacer struct {
	lim     *rate.Limiter
	ceiling float64 // +Inf when not set
	share   float64
	now     func() time.Time

	mu           sync.Mutex
	pace         float64
	learnedLimit float64 // the limit Zoom named; 0 until a 429
	lastRaise    time.Time
	lastCut      time.Time // the last lowering; 429s within a second of it are its echo
	hold         time.Time // after a per-second 429 nothing goes out before this
	second       int64     // the second counted in sent
	sent         int       // calls let out in that second
	prevSent     int       // calls let out in the second before

	// shared, if set, is the pace of every process on the account (see
	// sharedpace.go); the limiter above is then not used.
	shared *sharedPace
}

func newPacer(start, ceiling, share float64, now func() time.Time) *pacer {
	if ceiling > 0 {
		start = ceiling
	} else {
		ceiling = math.Inf(1)
	}
	if share <= 0 || share > 1 {
		share = 1
	}
	pace := math.Min(start, ceiling)
	return &pacer{lim: rate.NewLimiter(rate.Limit(pace), 1), ceiling: ceiling, share: share, now: now, pace: pace, lastRaise: now()}
}

// wait blocks until a call may go out at the current pace. A hold set
// while the call waited for its turn is honoured too: turns reserved at the
// old pace would otherwise go out in the refused second.
func (p *pacer) wait(ctx context.Context) error {
	if p.shared != nil {
		return p.waitShared(ctx)
	}
	for {
		p.mu.Lock()
		hold := p.hold.Sub(p.now())
		p.mu.Unlock()
		if hold > 0 {
			t := time.NewTimer(hold)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := p.lim.Wait(ctx); err != nil {
			return err
		}
		p.mu.Lock()
		if p.now().Before(p.hold) {
			p.mu.Unlock()
			continue
		}
		p.tick()
		p.sent++
		p.mu.Unlock()
		return nil
	}
}

// tick moves the counting window to the current second.
func (p *pacer) tick() {
	s := p.now().Unix()
	switch {
	case s == p.second:
	case s == p.second+1:
		p.prevSent, p.sent, p.second = p.sent, 0, s
	default:
		p.prevSent, p.sent, p.second = 0, 0, s
	}
}

// answered adjusts the pace to one of Zoom's answers; daily says a 429 is
// one of Zoom's daily limits (the account's, a host's, a registrant's),
// which the pace does not cause and whose X-RateLimit-Limit is no rate.
func (p *pacer) answered(status int, h http.Header, daily bool) {
	p.answer(status, h, daily)
	if p.shared != nil {
		p.tellOthers()
	}
}

func (p *pacer) answer(status int, h http.Header, daily bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tick()
	now := p.now()
	if status == http.StatusTooManyRequests {
		if daily || strings.EqualFold(h.Get("X-RateLimit-Type"), "Daily-limit") {
			return
		}
		// The rest of this second's calls would be refused too; a
		// Retry-After may name a later time.
		p.hold = now.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)
		if h.Get("Retry-After") != "" {
			if at := retryAfter(h, false, now); at.After(p.hold) {
				p.hold = at
			}
		}
		if p.shared != nil {
			p.shared.publish = true // the others hold the second too
		}
		limit, err := strconv.ParseFloat(h.Get("X-RateLimit-Limit"), 64)
		switch {
		case err == nil && limit > 0 && limit != p.learnedLimit:
			p.learnedLimit = limit
			p.set(p.cap())
		case now.Sub(p.lastCut) < time.Second:
			// Calls sent before the last cut are refused in the same
			// second: they say nothing new.
			return
		case !p.paceBound(now, 0.5):
			// Refused while sending well under the pace: a passing refusal,
			// not a sign that the pace is too high.
			return
		default:
			// The known limit, still refused: others share it.
			if p.learnedLimit == 0 {
				p.learnedLimit = p.pace
			}
			p.set(math.Max(1, p.pace*0.8))
		}
		p.lastRaise, p.lastCut = now, now
		return
	}
	if status >= 400 || now.Sub(p.lastRaise) < time.Second {
		return
	}
	// Rise only while the pace is what holds the calls back.
	if !p.paceBound(now, 0.8) {
		return
	}
	p.lastRaise = now
	if p.learnedLimit == 0 {
		p.set(math.Min(p.pace*1.5, p.ceiling))
		return
	}
	p.set(math.Min(p.pace+1, p.cap()))
}

// paceBound says whether the pace held calls back lately: this process
// sent at least part of the pace in this second or the last, or, on a
// shared pace, a call of this process had to wait for its slot within the
// last second (the account's calls use the pace up, whoever sends them).
func (p *pacer) paceBound(now time.Time, part float64) bool {
	if p.shared != nil {
		return now.Sub(p.shared.waited) <= time.Second
	}
	return float64(max(p.sent, p.prevSent)) >= part*p.pace
}

// cap is the highest pace woozoom takes once it knows the limit: its share
// of it, less one call a second, so that the paced calls plus the one the
// limiter lets out at once never exceed the limit in any second.
func (p *pacer) cap() float64 {
	return math.Min(math.Max(0.5, p.learnedLimit*p.share-1), p.ceiling)
}

func (p *pacer) set(pace float64) {
	if pace == p.pace {
		return
	}
	p.pace = pace
	p.lim.SetLimit(rate.Limit(pace))
	if p.shared != nil {
		p.shared.publish = true
	}
}

// learned returns the pace and the limit Zoom named.
func (p *pacer) learned() (pace, limit float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pace, p.learnedLimit
}

// resume starts from what an earlier run learned: the limit Zoom named
// (less woozoom's margin), else the pace it had reached. An explicit
// ceiling still caps it.
func (p *pacer) resume(pace, limit float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shared != nil {
		return // the shared pace is kept in the database as it changes
	}
	switch {
	case limit > 0:
		p.learnedLimit = limit
		p.set(p.cap())
	case pace > p.pace:
		p.set(math.Min(pace, p.ceiling))
	}
}

// current returns the pace in calls per second.
func (p *pacer) current() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pace
}
