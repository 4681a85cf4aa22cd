package worker

import (
	"hash/maphash"
	"slices"
	"sync"

	"github.com/woozoom/woozoom/rules"
)

// seatLocks keeps two jobs of different orders from deciding about the same
// seat at once: both would see it empty and add it twice, or one would
// cancel it while the other claims it. Seats hash onto a fixed set of
// mutexes, taken in ascending order so two jobs cannot deadlock.
type seatLocks struct {
	seed    maphash.Seed
	stripes [256]sync.Mutex
}

func newSeatLocks() *seatLocks { return &seatLocks{seed: maphash.MakeSeed()} }

// lock takes the locks of every seat in keys and returns their release.
func (l *seatLocks) lock(keys []rules.SeatKey) (unlock func()) {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		var h maphash.Hash
		h.SetSeed(l.seed)
		h.WriteString(string(k.Target.Kind))
		h.WriteByte(0)
		h.WriteString(k.Email)
		idx = append(idx, int((h.Sum64()^uint64(k.Target.ID))%uint64(len(l.stripes))))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		l.stripes[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			l.stripes[i].Unlock()
		}
	}
}
