package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
)

var seatA = rules.SeatKey{Target: rules.Target{Kind: rules.Meeting, ID: 1}, Email: "a@example.org"}

// Two holders, one seat: the second waits until the first lets go.
func contractSecondHolderOfASeatWaits(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	first, second := db.Holder(NewToken()), db.Holder(NewToken())
	seat := []rules.Lease{rules.SeatLease(seatA)}
	if ok, err := first.TryTake(ctx, seat, time.Minute); !ok || err != nil {
		t.Fatalf("first take: %v %v", ok, err)
	}
	if ok, err := second.TryTake(ctx, seat, time.Minute); ok || err != nil {
		t.Fatalf("second take while held: %v %v, want refused", ok, err)
	}
	got := make(chan error, 1)
	go func() { got <- second.Take(ctx, seat, time.Minute, time.Hour) }() // woken by the release, not the poll
	select {
	case err := <-got:
		t.Fatalf("the second holder did not wait: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second holder was not woken when the seat was released")
	}
	if err := second.SaveSeats(ctx, rules.Seat{SeatKey: seatA, RegistrantID: "r1", Status: rules.SeatApproved}); err != nil {
		t.Errorf("the holder's write: %v", err)
	}
}

// An expired lease is taken over, and its old holder can write nothing
// more under it.
func contractExpiredLeaseIsTakenOverAndItsHolderFenced(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	old, fresh := db.Holder(NewToken()), db.Holder(NewToken())
	seat := []rules.Lease{rules.SeatLease(seatA)}
	if ok, _ := old.TryTake(ctx, seat, time.Minute); !ok {
		t.Fatal("take")
	}
	now = now.Add(2 * time.Minute) // the old holder's process stalled
	if ok, err := fresh.TryTake(ctx, seat, time.Minute); !ok || err != nil {
		t.Fatalf("taking over an expired lease: %v %v", ok, err)
	}
	for name, write := range map[string]func() error{
		"seats": func() error {
			return old.SaveSeats(ctx, rules.Seat{SeatKey: seatA, RegistrantID: "stale", Status: rules.SeatDenied})
		},
		"registrations": func() error {
			return old.SaveRegistrations(ctx, []rules.Registration{{OrderID: 1, Target: seatA.Target, Attendee: rules.Person{Email: seatA.Email}, State: rules.Cancelled}})
		},
		"begin change": func() error { return old.BeginSeatChange(ctx, seatA) },
		"extend":       func() error { return old.Extend(ctx, time.Minute) },
	} {
		if err := write(); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("old holder's %s write: %v, want ErrLeaseLost", name, err)
		}
	}
	seats, _ := db.Seats(ctx, []rules.SeatKey{seatA})
	regs, _ := db.Registrations(ctx, 1)
	unsettled, _ := db.UnsettledSeats(ctx, []rules.SeatKey{seatA})
	if len(seats) != 0 || len(regs) != 0 || len(unsettled) != 0 {
		t.Errorf("the old holder wrote: seats %v, registrations %v, unsettled %v", seats, regs, unsettled)
	}
	if err := fresh.SaveSeats(ctx, rules.Seat{SeatKey: seatA, RegistrantID: "r2", Status: rules.SeatApproved}); err != nil {
		t.Errorf("the new holder's write: %v", err)
	}
}

// Shared holders of a product coexist; an exclusive one waits for them
// and keeps them out.
func contractSharedAndExclusiveLeases(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	a, b, maker := db.Holder(NewToken()), db.Holder(NewToken()), db.Holder(NewToken())
	shared, exclusive := []rules.Lease{rules.ProductLease(812, true)}, []rules.Lease{rules.ProductLease(812, false)}
	for _, h := range []*Holder{a, b} {
		if ok, _ := h.TryTake(ctx, shared, time.Minute); !ok {
			t.Fatal("a shared lease was refused beside another shared one")
		}
	}
	if ok, _ := maker.TryTake(ctx, exclusive, time.Minute); ok {
		t.Fatal("an exclusive lease beside shared ones")
	}
	_ = a.Release(ctx)
	_ = b.Release(ctx)
	if ok, _ := maker.TryTake(ctx, exclusive, time.Minute); !ok {
		t.Fatal("the exclusive lease was refused after the shared ones left")
	}
	if ok, _ := a.TryTake(ctx, shared, time.Minute); ok {
		t.Fatal("a shared lease beside an exclusive one")
	}
}

// Jobs that take overlapping sets of seats, in any order they list them,
// never deadlock: every set is taken whole or not at all.
func contractOverlappingLeasesNeverDeadlock(t *testing.T, open opener) {
	db, _ := open(t)
	seats := make([]rules.SeatKey, 6)
	for i := range seats {
		seats[i] = rules.SeatKey{Target: rules.Target{Kind: rules.Meeting, ID: 1}, Email: fmt.Sprintf("p%d@example.org", i)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	inside := map[string]bool{}
	for g := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 25 {
				var want []rules.Lease
				for _, i := range r.Perm(len(seats))[:1+r.IntN(3)] {
					want = append(want, rules.SeatLease(seats[i]))
				}
				h := db.Holder(NewToken())
				if err := h.Take(ctx, want, time.Minute, 5*time.Millisecond); err != nil {
					t.Errorf("take: %v", err)
					return
				}
				mu.Lock()
				for _, l := range want {
					if inside[l.Key] {
						t.Errorf("%s held twice at once", l.Key)
					}
					inside[l.Key] = true
				}
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				for _, l := range want {
					delete(inside, l.Key)
				}
				mu.Unlock()
				if err := h.Release(ctx); err != nil {
					t.Errorf("release: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("the takers did not finish: a deadlock or a starved holder")
	}
}

// A run whose job lease ran out, and whose job another run claimed, can
// neither extend nor finish it.
func contractJobClaimFencesTheOldRun(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", OrderID: 1, Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	stale, _, _ := db.ClaimJob(ctx, time.Minute)
	now = now.Add(2 * time.Minute)
	if n, _ := db.RequeueExpired(ctx); n != 1 {
		t.Fatal("the lapsed job was not requeued")
	}
	current, ok, _ := db.ClaimJob(ctx, time.Minute)
	if !ok || current.Claim == stale.Claim {
		t.Fatalf("claimed again: %+v (%v)", current, ok)
	}
	if ok, _ := db.ExtendLease(ctx, stale, time.Minute); ok {
		t.Error("the stale run extended the job's lease")
	}
	if err := db.CompleteJob(ctx, stale, "done twice"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("the stale run completed the job: %v", err)
	}
	if err := db.CompleteJob(ctx, current, "done"); err != nil {
		t.Errorf("the current run: %v", err)
	}
}

// A holder waiting for an exclusive lease keeps new shared holders out, so
// a steady stream of them cannot starve it; it takes the lease once the
// shared ones it waited for are gone.
func contractWaitingExclusiveHolderIsNotStarved(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	reader, maker, late := db.Holder(NewToken()), db.Holder(NewToken()), db.Holder(NewToken())
	shared, exclusive := []rules.Lease{rules.ProductLease(812, true)}, []rules.Lease{rules.ProductLease(812, false)}
	if ok, _ := reader.TryTake(ctx, shared, time.Minute); !ok {
		t.Fatal("shared take")
	}
	if ok, _ := maker.TryTake(ctx, exclusive, time.Minute); ok {
		t.Fatal("exclusive beside a shared holder")
	}
	if ok, _ := late.TryTake(ctx, shared, time.Minute); ok {
		t.Error("a new shared holder went ahead of the waiting exclusive one")
	}
	_ = reader.Release(ctx)
	if ok, err := maker.TryTake(ctx, exclusive, time.Minute); !ok || err != nil {
		t.Fatalf("the waiting exclusive holder after the shared one left: %v %v", ok, err)
	}
	if err := maker.SaveSeats(ctx, rules.Seat{SeatKey: seatA, RegistrantID: "r", Status: rules.SeatApproved}); err != nil {
		t.Errorf("the exclusive holder's fenced write: %v", err)
	}
	_ = maker.Release(ctx)
	if ok, _ := late.TryTake(ctx, shared, time.Minute); !ok {
		t.Error("the shared holder after the exclusive one left")
	}
	// One that gives up waiting stops keeping shared holders out.
	_ = late.Release(ctx)
	if ok, _ := reader.TryTake(ctx, shared, time.Minute); !ok {
		t.Fatal("shared take")
	}
	gaveUp, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if err := maker.Take(gaveUp, exclusive, time.Minute, 5*time.Millisecond); err == nil {
		t.Fatal("took an exclusive lease beside a shared holder")
	}
	if ok, _ := late.TryTake(ctx, shared, time.Minute); !ok {
		t.Error("a shared holder is kept out by an exclusive one that gave up")
	}
}

// A cycle of waits breaks: an order's job holds a seat and waits for its
// product, behind the product's job waiting to take the product alone,
// which waits for another order's job that holds the product and waits for
// the seat. The first gives up after three lease times; once its leases
// go, the others go on.
func contractACycleOfWaitsBreaks(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	const ttl = 100 * time.Millisecond
	seat := []rules.Lease{rules.SeatLease(seatA)}
	productShared, productAlone := []rules.Lease{rules.ProductLease(5001, true)}, []rules.Lease{rules.ProductLease(5001, false)}
	order, product, other := db.Holder(NewToken()), db.Holder(NewToken()), db.Holder(NewToken())
	if err := other.Take(ctx, productShared, ttl, 5*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := order.Take(ctx, seat, ttl, 5*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The holders keep their leases alive while they wait, as jobs do.
	stop := make(chan struct{})
	var beats sync.WaitGroup
	for _, h := range []*Holder{order, other} {
		beats.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(ttl / 3):
					_ = h.Extend(ctx, ttl)
				}
			}
		})
	}
	defer func() { close(stop); beats.Wait() }()
	productDone := make(chan error, 1)
	go func() { productDone <- product.Take(ctx, productAlone, 10*time.Second, 5*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond) // the product's job now waits, and keeps new shared holders out
	otherDone := make(chan error, 1)
	go func() {
		err := other.Take(ctx, seat, 10*time.Second, 5*time.Millisecond)
		if err == nil {
			err = other.Release(ctx)
		}
		otherDone <- err
	}()
	start := time.Now()
	err := order.Take(ctx, productShared, ttl, 5*time.Millisecond)
	if !errors.Is(err, ErrWaitedTooLong) || !errors.Is(err, rules.ErrTemporary) {
		t.Fatalf("the order's job in the cycle: %v, want it to give up", err)
	}
	if waited := time.Since(start); waited < 3*ttl {
		t.Errorf("gave up after %s, before three lease times", waited)
	}
	if err := order.Release(ctx); err != nil { // its job ends: its leases go
		t.Fatal(err)
	}
	for what, done := range map[string]chan error{"the other order's job": otherDone, "the product's job": productDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s still waits after the cycle broke", what)
		}
	}
}
