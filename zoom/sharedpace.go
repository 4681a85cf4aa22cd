package zoom

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// SharedPace keeps an account's pace where every process that calls Zoom
// for it sees it (the database they share): send slots handed out in turn
// at one rate for all of them, so that three processes never send three
// times what Zoom allows, and one limit learned of Zoom for all.
type SharedPace interface {
	// ReserveSlots reserves the next n send slots of key, and returns the
	// first, the rate (calls per second) they follow and the limit learned
	// (0: none yet); pace is the rate if key has none yet.
	ReserveSlots(ctx context.Context, key string, n int, pace float64) (first time.Time, rate, limit float64, err error)
	// SetSharedPace sets the rate and the learned limit of key for all,
	// with no slot before hold.
	SetSharedPace(ctx context.Context, key string, rate, limit float64, hold time.Time) error
}

// sharedPace is a pacer's part of the account's shared pace. A pacer still
// learns the pace from Zoom's answers; what it learns it tells the others,
// and it takes up what they learned with each reservation. The limit is
// the account's: learned once for all, as one process learns it, since
// each replica learning its own (from a refusal at whatever the pace was
// then) ratchets the pace down replica by replica.
type sharedPace struct {
	store SharedPace
	key   string
	// reserving lets one call of this process reserve at a time; the
	// others take the slots it reserved.
	reserving sync.Mutex

	// Under the pacer's mu.
	slots   []time.Time // reserved, not yet used, in order
	waiting int         // calls waiting for a slot
	waited  time.Time   // when a call last had to wait for its slot
	publish bool        // this process changed the pace or held a second
}

// waitShared blocks until the call's slot of the shared pace.
func (p *pacer) waitShared(ctx context.Context) error {
	p.mu.Lock()
	p.shared.waiting++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.shared.waiting--
		p.mu.Unlock()
	}()
	for {
		slot, err := p.nextSlot(ctx)
		if err != nil {
			return err
		}
		if d := slot.Sub(p.now()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		p.mu.Lock()
		if p.now().Before(p.hold) {
			p.mu.Unlock()
			continue // the slot fell in a refused second
		}
		p.tick()
		p.sent++
		p.mu.Unlock()
		return nil
	}
}

// nextSlot takes this process's next reserved slot, reserving more when
// none is left: one per waiting call, at most a tenth of a second's worth,
// in one write. A slot whose time passed by more than half a step is
// dropped: sent late, it would crowd the slots after it.
func (p *pacer) nextSlot(ctx context.Context) (time.Time, error) {
	s := p.shared
	s.reserving.Lock()
	defer s.reserving.Unlock()
	p.mu.Lock()
	now := p.now()
	late := time.Duration(float64(time.Second) / p.pace / 2)
	for len(s.slots) > 0 && s.slots[0].Before(now.Add(-late)) {
		s.slots = s.slots[1:]
	}
	if len(s.slots) > 0 {
		slot := s.slots[0]
		s.slots = s.slots[1:]
		if slot.After(now) {
			s.waited = now
		}
		p.mu.Unlock()
		return slot, nil
	}
	n := max(1, min(s.waiting, int(p.pace/10)))
	pace := p.pace
	p.mu.Unlock()
	first, shared, limit, err := s.store.ReserveSlots(ctx, s.key, n, pace)
	if err != nil {
		return time.Time{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.adopt(shared, limit)
	step := time.Duration(float64(time.Second) / shared)
	for i := 1; i < n; i++ {
		s.slots = append(s.slots, first.Add(time.Duration(i)*step))
	}
	if first.After(now) {
		s.waited = now
	}
	return first, nil
}

// adopt takes up the account's shared rate and learned limit, within this
// process's ceiling: a lower bound here is told to the others.
func (p *pacer) adopt(shared, limit float64) {
	if limit > 0 {
		p.learnedLimit = limit
	}
	r := math.Min(shared, p.ceiling)
	if p.learnedLimit > 0 {
		r = math.Min(r, p.cap())
	}
	if r != shared {
		p.shared.publish = true
	}
	if r != p.pace {
		p.pace = r
		p.lim.SetLimit(rate.Limit(r))
	}
}

// tellOthers tells the other processes the pace or the hold this one set.
func (p *pacer) tellOthers() {
	s := p.shared
	p.mu.Lock()
	if !s.publish {
		p.mu.Unlock()
		return
	}
	s.publish = false
	pace, limit, hold := p.pace, p.learnedLimit, p.hold
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.store.SetSharedPace(ctx, s.key, pace, limit, hold); err != nil {
		p.mu.Lock()
		s.publish = true // told with the next answer
		p.mu.Unlock()
	}
}
