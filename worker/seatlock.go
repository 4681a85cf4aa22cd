package worker

import (
	"cmp"
	"slices"
	"sync"

	"github.com/woozoom/woozoom/rules"
)

// seatLocks keeps two jobs of different orders from deciding about the same
// seat at once: both would see it empty and add it twice, or one would
// cancel it while the other claims it. Each seat has its own lock while any
// job holds or waits for it, so jobs of different seats never wait for each
// other (a job waiting for a joined status call holds its seats meanwhile).
// A job takes its seats in ascending order, so two jobs cannot deadlock.
type seatLocks struct {
	mu   sync.Mutex
	held map[rules.SeatKey]*seatLock
}

type seatLock struct {
	sync.Mutex
	refs int // jobs holding or waiting; guarded by seatLocks.mu
}

func newSeatLocks() *seatLocks { return &seatLocks{held: map[rules.SeatKey]*seatLock{}} }

// lock takes the locks of every seat in keys and returns their release.
func (l *seatLocks) lock(keys []rules.SeatKey) (unlock func()) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b rules.SeatKey) int {
		return cmp.Or(cmp.Compare(a.Target.Kind, b.Target.Kind), cmp.Compare(a.Target.ID, b.Target.ID), cmp.Compare(a.Email, b.Email))
	})
	keys = slices.Compact(keys)
	locks := make([]*seatLock, len(keys))
	l.mu.Lock()
	for i, k := range keys {
		s := l.held[k]
		if s == nil {
			s = &seatLock{}
			l.held[k] = s
		}
		s.refs++
		locks[i] = s
	}
	l.mu.Unlock()
	for _, s := range locks {
		s.Lock()
	}
	return func() {
		for _, s := range slices.Backward(locks) {
			s.Unlock()
		}
		l.mu.Lock()
		for i, k := range keys {
			if locks[i].refs--; locks[i].refs == 0 {
				delete(l.held, k)
			}
		}
		l.mu.Unlock()
	}
}
