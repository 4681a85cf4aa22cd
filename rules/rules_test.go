package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	mtg = Target{Kind: Meeting, ID: 85746065123}
	web = Target{Kind: Webinar, ID: 91234567890}
	// The order says Mara@Example.NET: compared as mara@example.net.
	mara = Person{FirstName: "Mara", LastName: "Lindqvist", Email: "mara@example.net", TypedEmail: "Mara@Example.NET"}
)

func order(status string, items ...LineItem) Order {
	return Order{ID: 4521, Status: status, Billing: Person{FirstName: "Mara", LastName: "Lindqvist", Email: "  Mara@Example.NET "}, Items: items}
}

func item(id, product, variation int64) LineItem {
	return LineItem{ID: id, ProductID: product, VariationID: variation, Quantity: 1}
}

func TestIntent(t *testing.T) {
	p := DefaultPolicy()
	for _, tc := range []struct {
		o    Order
		want Intent
	}{
		{Order{Status: "completed"}, Register},
		{Order{Status: "cancelled"}, Release},
		{Order{Status: "refunded"}, Release},
		{Order{Status: "trash"}, Release},
		{Order{Deleted: true}, Release},
		{Order{Status: "processing"}, Hold},
		{Order{Status: "pending"}, Hold},
		{Order{Status: "on-hold"}, Hold},
		{Order{Status: "failed"}, Hold},
		{Order{Status: "checkout-draft"}, Hold},
		{Order{Status: "Completed"}, Hold}, // WooCommerce statuses are lower case; anything else is unknown
	} {
		if got := p.Intent(tc.o); got != tc.want {
			t.Errorf("Intent(%q deleted=%v) = %v, want %v", tc.o.Status, tc.o.Deleted, got, tc.want)
		}
	}
}

func TestMappingsFor(t *testing.T) {
	web2 := Target{Kind: Webinar, ID: 2}
	maps := []Mapping{
		{ProductID: 10, Target: mtg},
		{ProductID: 10, VariationID: 15, Target: web},
		{ProductID: 11, Target: web},
		{ProductID: 12, Day: 1, Target: mtg},
		{ProductID: 12, Day: 2, Target: web},
		{ProductID: 13, Slot: "morning", Target: mtg},
		{ProductID: 13, Slot: "evening", Target: web, Occurrences: "1700000000000"},
		{ProductID: 13, Target: web2},
		{ProductID: 14, Slot: "3", Target: mtg},
		{ProductID: 14, Slot: "3/1698", Target: web},
	}
	targets := func(ms []Mapping) []Target {
		var out []Target
		for _, m := range ms {
			out = append(out, m.Target)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		item LineItem
		slot string
		want []Target
	}{
		{"product mapping", item(1, 10, 0), "", []Target{mtg}},
		{"other variation falls back to product", item(1, 10, 16), "", []Target{mtg}},
		{"exact variation wins", item(1, 10, 15), "", []Target{web}},
		{"unmapped product", item(1, 99, 0), "", nil},
		{"multi-day: every day", item(1, 12, 0), "", []Target{mtg, web}},
		{"booked slot picks its target", item(1, 13, 0), "evening", []Target{web}},
		{"unknown slot falls back to the slot-less mapping", item(1, 13, 0), "noon", []Target{web2}},
		{"no slot booked: the slot-less mapping", item(1, 13, 0), "", []Target{web2}},
		{"slot id matches every date of it", item(1, 14, 0), "3/2001", []Target{mtg}},
		{"slot and date match both", item(1, 14, 0), "3/1698", []Target{mtg, web}},
	} {
		if diff := cmp.Diff(tc.want, targets(MappingsFor(tc.item, tc.slot, maps))); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.name, diff)
		}
	}
}

func TestWantsSlotsAndOccurrences(t *testing.T) {
	rec := Target{Kind: Meeting, ID: 777}
	maps := []Mapping{
		{ProductID: 20, Slot: "mon", Target: rec, Occurrences: "1700000000000"},
		{ProductID: 20, Slot: "tue", Target: rec, Occurrences: "1700086400000"},
		{ProductID: 21, Slot: "a", Target: mtg},
		{ProductID: 21, Slot: "b", Target: web},
	}
	slot := func(v string) []Meta { return []Meta{{Key: "Booking Slot", Value: []byte(`"` + v + `"`)}} }
	o := Order{ID: 1, Status: "completed", Billing: Person{FirstName: "M", Email: "m@example.org"}, Items: []LineItem{
		{ID: 1, ProductID: 20, Quantity: 1, Meta: slot("mon")},
		{ID: 2, ProductID: 20, Quantity: 1, Meta: slot("tue")},
		{ID: 3, ProductID: 21, Quantity: 1, Meta: slot("a")},
		{ID: 4, ProductID: 21, Quantity: 1, Meta: slot("b")},
	}}
	got := Policy{SlotKeys: []string{"Booking Slot"}}.Wants(o, maps)
	want := []Want{
		{LineItemID: 1, ProductID: 20, Target: rec, Attendee: Person{FirstName: "M", Email: "m@example.org"}, Occurrences: "1700000000000,1700086400000"},
		{LineItemID: 3, ProductID: 21, Target: mtg, Attendee: Person{FirstName: "M", Email: "m@example.org"}},
		{LineItemID: 4, ProductID: 21, Target: web, Attendee: Person{FirstName: "M", Email: "m@example.org"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("two slots of one recurring meeting merge their occurrences; two slots of one product reach two targets (-want +got)\n%s", diff)
	}
	p := DefaultPolicy()
	plan := Decide(Input{Order: o, Intent: p.Intent(o), Wants: got})
	if len(plan.Zoom) != 3 || plan.Zoom[0].Occurrences == "" && plan.Zoom[1].Occurrences == "" && plan.Zoom[2].Occurrences == "" {
		t.Errorf("the add for the recurring meeting lost its occurrences: %+v", plan.Zoom)
	}
}

func TestWantsNormalisesAndDedupes(t *testing.T) {
	o := order("completed", item(1, 10, 0), item(2, 10, 0), item(3, 11, 0), item(4, 99, 0))
	got := DefaultPolicy().Wants(o, []Mapping{{ProductID: 10, Target: mtg}, {ProductID: 11, Target: mtg}, {ProductID: 11, Target: web}})
	// Compared without case, shown as typed.
	want := []Want{
		{LineItemID: 1, ProductID: 10, Target: mtg, Attendee: mara},
		{LineItemID: 3, ProductID: 11, Target: web, Attendee: mara},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if plain := (Person{Email: "m@example.org"}); mara.ShownEmail() != "Mara@Example.NET" || plain.ShownEmail() != "m@example.org" {
		t.Errorf("shown emails: %q, %q", mara.ShownEmail(), plain.ShownEmail())
	}
}

func reg(state RegistrationState, t Target) Registration {
	return Registration{OrderID: 4521, LineItemID: 1, ProductID: 10, Target: t, Attendee: mara, State: state}
}

// gone is the registration on t ended, with why.
func gone(t Target, why EndReason, by string) Registration {
	r := reg(Cancelled, t)
	r.Ended, r.EndedBy = why, by
	return r
}

func seat(t Target, s SeatStatus) Seat {
	return Seat{SeatKey: SeatKey{Target: t, Email: mara.Email}, RegistrantID: "r-" + string(s), Status: s}
}

func TestDecide(t *testing.T) {
	mapped := []Mapping{{ProductID: 10, Target: mtg}}
	key := SeatKey{Target: mtg, Email: mara.Email}
	for _, tc := range []struct {
		name  string
		order Order
		regs  []Registration
		seats []Seat
		held  bool // another order holds the seat
		want  Plan
	}{
		{
			name:  "completed, nothing yet: claim and add",
			order: order("completed", item(1, 10, 0)),
			want: Plan{
				Activate: []Registration{reg(Active, mtg)},
				Zoom:     []Action{{Kind: AddRegistrant, Seat: key, Attendee: mara}},
			},
		},
		{
			name:  "completed again (echo of our write-back): nothing",
			order: order("completed", item(1, 10, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
		},
		{
			name:  "claimed before a crash, Zoom never reached: add now",
			order: order("completed", item(1, 10, 0)),
			regs:  []Registration{reg(Active, mtg)},
			want:  Plan{Zoom: []Action{{Kind: AddRegistrant, Seat: key, Attendee: mara}}},
		},
		{
			name:  "completed after a cancel: approve the denied registrant, never add again",
			order: order("completed", item(1, 10, 0)),
			regs:  []Registration{reg(Cancelled, mtg)},
			seats: []Seat{seat(mtg, SeatDenied)},
			want: Plan{
				Activate: []Registration{reg(Active, mtg)},
				Zoom:     []Action{{Kind: Approve, Seat: key, RegistrantID: "r-denied"}},
			},
		},
		{
			name:  "a new order for an email another order cancelled: approve",
			order: order("completed", item(1, 10, 0)),
			seats: []Seat{seat(mtg, SeatDenied)},
			want: Plan{
				Activate: []Registration{reg(Active, mtg)},
				Zoom:     []Action{{Kind: Approve, Seat: key, RegistrantID: "r-denied"}},
			},
		},
		{
			name:  "pending registrant of a paid ticket is approved",
			order: order("completed", item(1, 10, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatPending)},
			want:  Plan{Zoom: []Action{{Kind: Approve, Seat: key, RegistrantID: "r-pending"}}},
		},
		{
			name:  "failed attendee is not retried by itself",
			order: order("completed", item(1, 10, 0)),
			regs:  []Registration{reg(Failed, mtg)},
		},
		{
			name:  "cancelled: release and cancel on Zoom",
			order: order("cancelled", item(1, 10, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
			want: Plan{
				Release: []Registration{gone(mtg, EndedByOrderStatus, "cancelled")},
				Zoom:    []Action{{Kind: Cancel, Seat: key, RegistrantID: "r-approved"}},
			},
		},
		{
			name:  "refunded counts as cancelled",
			order: order("refunded", item(1, 10, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
			want: Plan{
				Release: []Registration{gone(mtg, EndedByOrderStatus, "refunded")},
				Zoom:    []Action{{Kind: Cancel, Seat: key, RegistrantID: "r-approved"}},
			},
		},
		{
			name:  "cancelled while another completed order holds the email: release, keep on Zoom",
			order: order("cancelled", item(1, 10, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
			held:  true,
			want:  Plan{Release: []Registration{gone(mtg, EndedByOrderStatus, "cancelled")}},
		},
		{
			name:  "cancelled twice: nothing",
			order: order("cancelled", item(1, 10, 0)),
			regs:  []Registration{reg(Cancelled, mtg)},
			seats: []Seat{seat(mtg, SeatDenied)},
		},
		{
			name:  "cancelled, released before a crash, Zoom not yet told: cancel now",
			order: order("cancelled", item(1, 10, 0)),
			regs:  []Registration{reg(Cancelled, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
			want:  Plan{Zoom: []Action{{Kind: Cancel, Seat: key, RegistrantID: "r-approved"}}},
		},
		{
			name:  "cancelled order that never registered: nothing",
			order: order("cancelled", item(1, 10, 0)),
		},
		{
			name:  "trashed order counts as cancelled",
			order: Order{ID: 4521, Deleted: true},
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
			want: Plan{
				Release: []Registration{gone(mtg, EndedByOrderStatus, "trash")},
				Zoom:    []Action{{Kind: Cancel, Seat: key, RegistrantID: "r-approved"}},
			},
		},
		{
			name:  "processing changes nothing, even with registrations",
			order: order("processing", item(1, 10, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
		},
		{
			name:  "on-hold changes nothing before registration",
			order: order("on-hold", item(1, 10, 0)),
		},
		{
			name:  "line removed from a completed order: its seat is given up",
			order: order("completed", item(2, 12, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
			want: Plan{
				Release: []Registration{gone(mtg, EndedByChange, "")},
				Zoom:    []Action{{Kind: Cancel, Seat: key, RegistrantID: "r-approved"}},
			},
		},
		{
			name:  "ticket refunded, the order stays completed: released as a refund",
			order: Order{ID: 4521, Status: "completed", Billing: mara, Items: []LineItem{item(1, 10, 0)}, RefundedQty: map[int64]int{1: 1}},
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
			want: Plan{
				Release: []Registration{gone(mtg, EndedByRefund, "")},
				Zoom:    []Action{{Kind: Cancel, Seat: key, RegistrantID: "r-approved"}},
			},
		},
		{
			name:  "mapping removed by the admin: the paid seat is kept",
			order: order("completed", item(1, 99, 0)),
			regs:  []Registration{reg(Active, mtg)},
			seats: []Seat{seat(mtg, SeatApproved)},
		},
		{
			// The admin remapped a product whose meeting was deleted: the
			// claim Zoom never took is dropped, not added again and again.
			name:  "mapping removed before Zoom took the seat: the claim is dropped",
			order: order("completed", item(1, 99, 0)),
			regs:  []Registration{reg(Active, mtg)},
			want:  Plan{Release: []Registration{gone(mtg, EndedByChange, "")}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			seats := map[SeatKey]Seat{}
			for _, s := range tc.seats {
				seats[s.SeatKey] = s
			}
			in := Input{
				Order: tc.order, Intent: p.Intent(tc.order), Wants: p.Wants(tc.order, mapped),
				Registrations: tc.regs, Seats: seats, HeldElsewhere: map[SeatKey]bool{key: tc.held},
			}
			got := Decide(in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	var actions []Action
	for i := range 65 {
		actions = append(actions, Action{Kind: Cancel, Seat: SeatKey{Target: mtg, Email: string(rune('a'+i%26)) + "@x.org"}})
	}
	actions = append(actions,
		Action{Kind: Cancel, Seat: SeatKey{Target: web, Email: "w@x.org"}},
		Action{Kind: Approve, Seat: SeatKey{Target: mtg, Email: "a@x.org"}},
		Action{Kind: AddRegistrant, Seat: SeatKey{Target: mtg, Email: "n@x.org"}},
	)
	var sizes []int
	for _, b := range Batches(actions, 30) {
		for _, a := range b[1:] {
			if a.Kind != b[0].Kind || a.Seat.Target != b[0].Seat.Target {
				t.Fatalf("batch mixes %v and %v", b[0], a)
			}
		}
		sizes = append(sizes, len(b))
	}
	if diff := cmp.Diff([]int{30, 30, 5, 1, 1}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got)\n%s", diff)
	}
}

func TestRouteActions(t *testing.T) {
	link := Target{Kind: Link, ID: 7}
	gone := Target{Kind: Meeting, ID: 3001}
	add := func(t Target) Action { return Action{Kind: AddRegistrant, Seat: SeatKey{Target: t, Email: mara.Email}} }
	cancel := func(t Target) Action { return Action{Kind: Cancel, Seat: SeatKey{Target: t, Email: mara.Email}} }
	got := RouteActions([]Action{add(mtg), add(link), add(gone), cancel(gone), cancel(web), cancel(link)},
		map[Target]string{gone: "meeting 3001 was deleted in Zoom"})
	want := Routed{
		Zoom:  []Action{add(mtg), cancel(web)},
		Links: []Action{add(link), cancel(link)},
		Gone:  map[Target]string{gone: "meeting 3001 was deleted in Zoom"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if ts := got.GoneTargets(); len(ts) != 1 || ts[0] != gone {
		t.Errorf("gone targets %v", ts)
	}
}

func TestOccurrencesOn(t *testing.T) {
	series := Target{Kind: Meeting, ID: 7}
	ms := []Mapping{
		{ProductID: 20, Target: series, Occurrences: "100"},
		{ProductID: 21, Target: series},
		{ProductID: 22, Target: series, Occurrences: "100", Slot: "monday"},
		{ProductID: 22, Target: series, Occurrences: "200", Slot: "tuesday"},
		{ProductID: 23, Target: series, Occurrences: "100"},
		{ProductID: 23, Target: series, Slot: "any-day"},
		{ProductID: 20, Target: Target{Kind: Meeting, ID: 8}, Occurrences: "300"},
	}
	for _, tc := range []struct {
		product int64
		want    string
	}{{20, "100"}, {21, ""}, {22, "100,200"}, {23, ""}, {99, ""}} {
		if got := OccurrencesOn(ms, tc.product, series); got != tc.want {
			t.Errorf("OccurrencesOn(product %d) = %q, want %q", tc.product, got, tc.want)
		}
	}
}
