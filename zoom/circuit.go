package zoom

import (
	"fmt"
	"sync"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// circuit stops calls to Zoom while it does not answer. Once tripAfter
// calls in a row, over at least window, got no answer (5xx, connection
// failures, the token endpoint down) it opens: calls fail at once with
// ErrUnavailable, and one call is let through as a probe after an interval
// that doubles with every failed probe. The first answer closes it. The
// window keeps a burst of failures (a few refused calls within a second) from
// stopping the work: only a Zoom that stays silent does. Written here rather than taken from a library:
// the common Go breakers probe at a fixed interval.
type circuit struct {
	tripAfter       int
	window          time.Duration
	first, maxProbe time.Duration
	now             func() time.Time
	// onChange, if set, hears when the circuit opens and closes; it runs
	// without the lock held.
	onChange func(open bool, since time.Time)

	mu        sync.Mutex
	failures  int
	firstFail time.Time // the first of the failures in a row
	open      bool
	since     time.Time // when it opened
	nextProbe time.Time
	interval  time.Duration
	probing   bool
}

func newCircuit(window, first, maxProbe time.Duration, now func() time.Time) *circuit {
	if window <= 0 {
		window = 5 * time.Second
	}
	if first <= 0 {
		first = 2 * time.Second
	}
	if maxProbe < first {
		maxProbe = max(30*time.Second, first)
	}
	return &circuit{tripAfter: 5, window: window, first: first, maxProbe: maxProbe, interval: first, now: now}
}

// allow says whether a call may go out now; probe is true for the one call
// that tests an open circuit, which must then be recorded.
func (c *circuit) allow(op string) (probe bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open {
		return false, nil
	}
	now := c.now()
	if !c.probing && !now.Before(c.nextProbe) {
		c.probing = true
		return true, nil
	}
	at := c.nextProbe
	if c.probing || !at.After(now) {
		at = now.Add(c.interval)
	}
	return false, &unavailable{op: op, since: c.since, until: at}
}

// record tells the circuit whether a call got an answer from Zoom.
func (c *circuit) record(answered bool) {
	c.mu.Lock()
	var changed, open bool
	var since time.Time
	switch {
	case answered:
		changed, since = c.open, c.since
		c.failures, c.open, c.probing, c.interval = 0, false, false, c.first
	case c.open && c.probing:
		c.probing = false
		c.interval = min(2*c.interval, c.maxProbe)
		c.nextProbe = c.now().Add(c.interval)
	case !c.open:
		if c.failures == 0 {
			c.firstFail = c.now()
		}
		c.failures++
		if c.failures >= c.tripAfter && c.now().Sub(c.firstFail) >= c.window {
			changed, open = true, true
			c.open, c.since, c.interval = true, c.now(), c.first
			c.nextProbe = c.since.Add(c.interval)
			since = c.since
		}
	}
	cb := c.onChange
	c.mu.Unlock()
	if changed && cb != nil {
		cb(open, since)
	}
}

// stillDown is the error of a failed probe: Zoom is still unavailable, and
// cause says how it failed.
func (c *circuit) stillDown(op string, cause error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &unavailable{op: op, since: c.since, until: c.nextProbe, cause: cause}
}

// abandon hands back a probe whose call was cut short by its caller.
func (c *circuit) abandon() {
	c.mu.Lock()
	c.probing = false
	c.mu.Unlock()
}

// unavailable answers a call not sent because Zoom has not answered since
// a time; the work waits until the next probe, without being charged a try.
type unavailable struct {
	op           string
	since, until time.Time
	cause        error // of a failed probe
}

func (e *unavailable) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: Zoom still does not answer (%v); it has not since %s; next try at %s", e.op, e.cause,
			e.since.UTC().Format(time.RFC3339), e.until.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s: not sent: Zoom has not answered since %s; next try at %s", e.op,
		e.since.UTC().Format(time.RFC3339), e.until.UTC().Format(time.RFC3339))
}

// Unwrap gives the kind; a failed probe also gives its cause, which says
// the call may have reached Zoom.
func (e *unavailable) Unwrap() []error {
	if e.cause != nil {
		return []error{rules.ErrUnavailable, e.cause}
	}
	return []error{rules.ErrUnavailable}
}
func (e *unavailable) RetryAt() time.Time { return e.until }
func (e *unavailable) Service() string    { return "zoom" }
