package store

import (
	"context"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Two shops on one database: WooCommerce's order and product ids repeat
// across shops, so everything keyed by them is the shop's own; what is
// Zoom's (a seat) is one for both.
func contractShopsKeepTheirOwn(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	a, b := db, db.Shop("west")
	if a.ShopName() != DefaultShop || b.ShopName() != "west" {
		t.Fatalf("shops %q and %q", a.ShopName(), b.ShopName())
	}
	meeting := rules.Target{Kind: rules.Meeting, ID: 5}
	// Order 101 in each shop, with one delivery each.
	for _, s := range []*DB{a, b} {
		if _, isNew, err := s.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d-" + s.ShopName(), OrderID: 101, Body: []byte(s.ShopName())}); err != nil || !isNew {
			t.Fatalf("record in %s: %v %v", s.ShopName(), isNew, err)
		}
	}
	// Each shop claims its own order's job, side by side: same id, other shop.
	ja, ok, err := a.ClaimJob(ctx, time.Minute)
	if err != nil || !ok {
		t.Fatalf("default shop claims: %v %v", ok, err)
	}
	jb, ok, err := b.ClaimJob(ctx, time.Minute)
	if err != nil || !ok || jb.ID == ja.ID {
		t.Fatalf("west claims: %+v %v %v (default's job %d)", jb, ok, err, ja.ID)
	}
	if _, ok, _ := b.ClaimJob(ctx, time.Minute); ok {
		t.Fatal("west claimed another shop's job")
	}
	for _, s := range []*DB{a, b} {
		if n, _ := s.CountDeliveries(ctx); n != 1 {
			t.Errorf("%s sees %d deliveries, want its own 1", s.ShopName(), n)
		}
	}

	// Registrations and the applied state of order 101 are each shop's.
	for i, s := range []*DB{a, b} {
		reg := rules.Registration{OrderID: 101, LineItemID: int64(i + 1), Target: meeting, Attendee: rules.Person{Email: "rita@example.org"}, State: rules.Active}
		if err := s.SaveRegistrations(ctx, []rules.Registration{reg}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SaveOrderState(ctx, 101, rules.AppliedOrder{Status: "cancelled", Modified: time.Unix(100, 0)}); err != nil {
		t.Fatal(err)
	}
	if st, seen, _ := a.OrderState(ctx, 101); seen {
		t.Errorf("the default shop sees west's order 101: %+v", st)
	}
	for i, s := range []*DB{a, b} {
		regs, err := s.Registrations(ctx, 101)
		if err != nil || len(regs) != 1 || regs[0].LineItemID != int64(i+1) {
			t.Errorf("%s's registrations of order 101: %+v %v", s.ShopName(), regs, err)
		}
	}
	// Rita's one seat on the meeting is held by the other shop's order too.
	key := rules.SeatKey{Target: meeting, Email: "rita@example.org"}
	if held, _ := a.HeldElsewhere(ctx, 101, []rules.SeatKey{key}); !held[key] {
		t.Error("the seat west's order holds is not held elsewhere for the default shop's order")
	}

	// Product 10's mappings and lease are each shop's.
	if _, err := b.AddMapping(ctx, rules.Mapping{ProductID: 10, Target: meeting}, FromCLI); err != nil {
		t.Fatal(err)
	}
	if ms, _ := a.ActiveMappings(ctx); len(ms) != 0 {
		t.Errorf("the default shop sees west's mappings: %+v", ms)
	}
	if ms, _ := b.ActiveMappings(ctx); len(ms) != 1 {
		t.Errorf("west's mappings: %+v", ms)
	}
	ha, hb := a.Holder(NewToken()), b.Holder(NewToken())
	if err := ha.Take(ctx, []rules.Lease{rules.ProductLease(10, false)}, time.Minute, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := hb.Take(short, []rules.Lease{rules.ProductLease(10, false)}, time.Minute, 10*time.Millisecond); err != nil {
		t.Errorf("west waits for the default shop's product 10: %v", err)
	}
	seat := rules.SeatLease(key)
	if err := ha.Take(ctx, []rules.Lease{seat}, time.Minute, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	quick, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if err := hb.Take(quick, []rules.Lease{seat}, time.Minute, 10*time.Millisecond); err == nil {
		t.Error("two shops held one Zoom seat at once")
	}

	// Checkpoints (the reconcile pass's) are each shop's.
	if err := b.SaveCheckpoint(ctx, "reconcile", time.Unix(1000, 0)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Checkpoint(ctx, "reconcile"); ok {
		t.Error("the default shop reads west's reconcile checkpoint")
	}
}
