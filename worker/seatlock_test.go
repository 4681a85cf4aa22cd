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

// Jobs of different seats never wait for each other, and a released seat
// leaves nothing behind.
func TestSeatLocksOfDifferentSeatsAreIndependent(t *testing.T) {
	l := newSeatLocks()
	m := rules.Target{Kind: rules.Meeting, ID: 1}
	var unlocks []func()
	for i := range 2000 {
		done := make(chan func(), 1)
		go func() {
			done <- l.lock([]rules.SeatKey{{Target: m, Email: string(rune('a'+i%26)) + time.Duration(i).String()}})
		}()
		select {
		case u := <-done:
			unlocks = append(unlocks, u)
		case <-time.After(5 * time.Second):
			t.Fatalf("seat %d waited for another seat's lock", i)
		}
	}
	for _, u := range unlocks {
		u()
	}
	if n := len(l.held); n != 0 {
		t.Errorf("%d seat locks left after all were released", n)
	}
}
