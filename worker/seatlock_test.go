package worker

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
)

func TestSeatLocksExcludeSharedSeats(t *testing.T) {
	l := newSeatLocks()
	m := rules.Target{Kind: rules.Meeting, ID: 1}
	w := rules.Target{Kind: rules.Webinar, ID: 2}
	a := rules.SeatKey{Target: m, Email: "a@example.org"}
	b := rules.SeatKey{Target: w, Email: "b@example.org"}

	// Jobs holding overlapping seat sets, taken in different orders, never
	// overlap in time and never deadlock.
	var inside atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		keys := []rules.SeatKey{a, b}
		if i%2 == 1 {
			keys = []rules.SeatKey{b, a}
		}
		wg.Go(func() {
			unlock := l.lock(keys)
			if n := inside.Add(1); n != 1 {
				t.Errorf("%d jobs inside the lock of one seat", n)
			}
			time.Sleep(100 * time.Microsecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()

	// The same seat twice in one job's keys does not deadlock.
	l.lock([]rules.SeatKey{a, a})()
}
