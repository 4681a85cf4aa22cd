package rules

import (
	"slices"
	"sort"
	"strings"
)

// Intent is what an order's current status asks for.
type Intent int

const (
	// Hold: the status changes nothing (pending, processing, on-hold, ...).
	Hold Intent = iota
	// Register: every attendee of every mapped line item is to be registered.
	Register
	// Release: every registration the order made is to be cancelled.
	Release
)

func (i Intent) String() string {
	switch i {
	case Register:
		return "register"
	case Release:
		return "release"
	default:
		return "hold"
	}
}

// Policy says which statuses register and which cancel, and where the
// attendees' details are.
type Policy struct {
	RegisterStatuses []string
	CancelStatuses   []string
	// Attendees are the line-item meta keys of per-ticket attendees;
	// AttendeesByProduct overrides them for some products.
	Attendees          AttendeeKeys
	AttendeesByProduct map[int64]AttendeeKeys
	// SlotKeys are line-item meta keys holding the booked slot; the first
	// present is the slot of every ticket of the line.
	SlotKeys []string
}

// DefaultPolicy registers on completed and cancels on cancelled and refunded.
func DefaultPolicy() Policy {
	return Policy{
		RegisterStatuses: []string{StatusCompleted},
		CancelStatuses:   []string{StatusCancelled, StatusRefunded},
	}
}

// Intent reads what the order's status asks for. A trashed or deleted order
// counts as cancelled.
func (p Policy) Intent(o Order) Intent {
	switch {
	case o.Deleted, o.Status == StatusTrash:
		return Release
	case slices.Contains(p.RegisterStatuses, o.Status):
		return Register
	case slices.Contains(p.CancelStatuses, o.Status):
		return Release
	default:
		return Hold
	}
}

// Want is one attendee of one line item wanted on one target.
type Want struct {
	LineItemID int64
	ProductID  int64
	Target     Target
	Attendee   Person // Email normalised
	// Occurrences of a recurring meeting to register on; empty: all.
	Occurrences string
}

// Key returns the seat the want asks for.
func (w Want) Key() SeatKey { return SeatKey{Target: w.Target, Email: w.Attendee.Email} }

// MappingsFor returns the mappings a ticket of a line item falls under. A
// mapping for the ticket's slot wins over those for no slot, and among them
// one for the exact variation wins over those for the whole product.
func MappingsFor(item LineItem, slot string, mappings []Mapping) []Mapping {
	var slotted, plain []Mapping
	for _, m := range mappings {
		switch {
		case m.ProductID != item.ProductID:
		case m.Slot == "":
			plain = append(plain, m)
		case slot != "" && (m.Slot == slot || strings.HasPrefix(slot, m.Slot+"/")):
			slotted = append(slotted, m)
		}
	}
	set := plain
	if len(slotted) > 0 {
		set = slotted
	}
	var exact, product []Mapping
	for _, m := range set {
		switch {
		case m.VariationID != 0 && m.VariationID == item.VariationID:
			exact = append(exact, m)
		case m.VariationID == 0:
			product = append(product, m)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return product
}

// Wants lists every attendee wanted on every target of every mapped line
// item, one per email per target (the first line item that asks wins; the
// occurrences asked for are merged).
func (p Policy) Wants(o Order, mappings []Mapping) []Want {
	index := map[SeatKey]int{}
	var out []Want
	for _, item := range o.Items {
		if !mapped(item.ProductID, mappings) {
			continue // no attendee of it has a seat: not worth reading them
		}
		keys, ok := p.AttendeesByProduct[item.ProductID]
		if !ok {
			keys = p.Attendees
		}
		tickets := attendees(o, item, keys, p.SlotKeys)
		if refunded := o.RefundedQty[item.ID]; refunded > 0 {
			// WooCommerce does not say which tickets were refunded: the last.
			keep := len(tickets) - refunded
			if len(tickets) < item.Quantity { // fewer people than units (billing once)
				keep = len(tickets)
				if refunded >= item.Quantity {
					keep = 0
				}
			}
			tickets = tickets[:max(keep, 0)]
		}
		for _, t := range tickets {
			for _, m := range MappingsFor(item, t.Slot, mappings) {
				w := Want{LineItemID: item.ID, ProductID: item.ProductID, Target: m.Target, Attendee: t.Person, Occurrences: m.Occurrences}
				if i, seen := index[w.Key()]; seen {
					out[i].Occurrences = mergeOccurrences(out[i].Occurrences, w.Occurrences)
					continue
				}
				index[w.Key()] = len(out)
				out = append(out, w)
			}
		}
	}
	return out
}

func mapped(product int64, mappings []Mapping) bool {
	for _, m := range mappings {
		if m.ProductID == product {
			return true
		}
	}
	return false
}

// OccurrencesOn are the occurrences of t a product's tickets register on,
// as its mappings say ("": every occurrence). Where a product's slots map
// to different occurrences of one series, this is all of them: which slot
// a ticket booked is in its order, not here.
func OccurrencesOn(mappings []Mapping, productID int64, t Target) string {
	out, found := "", false
	for _, m := range mappings {
		if m.ProductID != productID || m.Target != t {
			continue
		}
		if !found {
			out, found = m.Occurrences, true
			continue
		}
		out = mergeOccurrences(out, m.Occurrences)
	}
	return out
}

// mergeOccurrences joins two occurrence lists; empty means every occurrence
// and so absorbs the other.
func mergeOccurrences(a, b string) string {
	if a == "" || b == "" {
		return ""
	}
	set := strings.Split(a+","+b, ",")
	slices.Sort(set)
	return strings.Join(slices.Compact(set), ",")
}

// ActionKind names a Zoom registrant operation.
type ActionKind string

const (
	AddRegistrant ActionKind = "add"
	Approve       ActionKind = "approve"
	Cancel        ActionKind = "cancel"
)

// Action is one Zoom operation on one seat.
type Action struct {
	Kind        ActionKind
	Seat        SeatKey
	Attendee    Person // for AddRegistrant
	Occurrences string // for AddRegistrant: occurrence ids, empty for all
	// RegistrantID is the known registrant for Approve and Cancel.
	RegistrantID string
}

// Input is everything the rules read for one order.
type Input struct {
	Order  Order
	Intent Intent
	Wants  []Want
	// Registrations are this order's registrations in any state.
	Registrations []Registration
	// Seats are the known Zoom registrants for every seat in Wants and
	// Registrations; a missing key means Zoom has no registrant for it.
	Seats map[SeatKey]Seat
	// HeldElsewhere marks seats that another order holds actively.
	HeldElsewhere map[SeatKey]bool
}

// Plan is what to record and what to ask of Zoom for one order.
type Plan struct {
	// Activate are registrations to record as active (new or brought back).
	Activate []Registration
	// Release are registrations to record as cancelled.
	Release []Registration
	// Zoom are the registrant operations that make Zoom match the claims.
	Zoom []Action
}

// Empty reports whether the plan does nothing.
func (p Plan) Empty() bool { return len(p.Activate) == 0 && len(p.Release) == 0 && len(p.Zoom) == 0 }

// Decide computes the plan for one order. Claims are recorded first and Zoom
// is brought in line with them after, so a plan computed again after a crash
// finishes what the first one started and repeats nothing that was done.
func Decide(in Input) Plan {
	var plan Plan
	if in.Intent == Hold {
		return plan
	}
	d := decision{in: in, existing: map[SeatKey]Registration{}, active: map[SeatKey]bool{}, touched: map[SeatKey]Person{}, occurrences: map[SeatKey]string{}}
	for _, r := range in.Registrations {
		d.existing[r.Key()] = r
		d.touched[r.Key()] = r.Attendee
		if r.State == Active {
			d.active[r.Key()] = true
		}
	}
	if in.Intent == Register {
		d.register(&plan)
	} else {
		d.releaseAll(&plan)
	}
	plan.Zoom = d.zoomActions()
	sortPlan(&plan)
	return plan
}

// decision is Decide's working state: the order's claims by seat, which of
// them stay active, and every seat the order touches.
type decision struct {
	in          Input
	existing    map[SeatKey]Registration
	active      map[SeatKey]bool
	touched     map[SeatKey]Person
	occurrences map[SeatKey]string
}

// register claims every wanted seat not claimed yet, and gives up the
// seats of lines removed from the order.
func (d *decision) register(plan *Plan) {
	wanted := map[SeatKey]bool{}
	for _, w := range d.in.Wants {
		k := w.Key()
		wanted[k] = true
		d.touched[k] = w.Attendee
		d.occurrences[k] = w.Occurrences
		r, ok := d.existing[k]
		switch {
		case ok && r.State == Active:
		case ok && r.State == Failed:
			// Refused for good; retried only when an admin asks.
		default:
			plan.Activate = append(plan.Activate, Registration{
				OrderID: d.in.Order.ID, LineItemID: w.LineItemID, ProductID: w.ProductID, Target: w.Target,
				Attendee: w.Attendee, State: Active,
			})
			d.active[k] = true
		}
	}
	// Lines removed from the order give their seats up. A mapping removed
	// by the admin does not: that is no reason to cancel a paid ticket.
	// But a claim Zoom never took (its meeting was deleted, so the admin
	// remapped the product) is dropped: adding it would fail for ever.
	items := map[int64]bool{}
	for _, it := range d.in.Order.Items {
		// A line refunded in full is gone as far as tickets go.
		items[it.ID] = d.in.Order.RefundedQty[it.ID] < max(it.Quantity, 1)
	}
	for k, r := range d.existing {
		if r.State != Active || wanted[k] {
			continue
		}
		if _, held := d.in.Seats[k]; held && items[r.LineItemID] && !targetStillMapped(d.in.Wants, r) {
			continue
		}
		why := EndedByChange
		if d.in.Order.RefundedQty[r.LineItemID] > 0 {
			why = EndedByRefund
		}
		plan.Release = append(plan.Release, ended(r, why, ""))
		delete(d.active, k)
	}
}

// releaseAll gives up every active claim: the order's status cancels it.
func (d *decision) releaseAll(plan *Plan) {
	status := d.in.Order.Status
	if d.in.Order.Deleted {
		status = StatusTrash
	}
	for k, r := range d.existing {
		if r.State == Active {
			plan.Release = append(plan.Release, ended(r, EndedByOrderStatus, status))
			delete(d.active, k)
		}
	}
}

// zoomActions make Zoom hold what the claims now say, for every seat the
// order touches: a seat another order holds stays on Zoom.
func (d *decision) zoomActions() []Action {
	var out []Action
	for k, p := range d.touched {
		want := d.active[k] || d.in.HeldElsewhere[k]
		seat, known := d.in.Seats[k]
		switch {
		case want && !known:
			out = append(out, Action{Kind: AddRegistrant, Seat: k, Attendee: p, Occurrences: d.occurrences[k]})
		case want && seat.Status != SeatApproved:
			out = append(out, Action{Kind: Approve, Seat: k, RegistrantID: seat.RegistrantID})
		case !want && known && seat.Status != SeatDenied:
			out = append(out, Action{Kind: Cancel, Seat: k, RegistrantID: seat.RegistrantID})
		}
	}
	return out
}

// targetStillMapped reports whether the order still wants anyone from this
// registration's line item on its target: then this attendee was replaced.
func targetStillMapped(wants []Want, r Registration) bool {
	for _, w := range wants {
		if w.LineItemID == r.LineItemID && w.Target == r.Target {
			return true
		}
	}
	return false
}

// ended records a registration as cancelled, with why.
func ended(r Registration, why EndReason, by string) Registration {
	r.State, r.Error, r.Ended, r.EndedBy = Cancelled, "", why, by
	return r
}

func sortPlan(p *Plan) {
	less := func(a, b SeatKey) bool {
		if a.Target.Kind != b.Target.Kind {
			return a.Target.Kind < b.Target.Kind
		}
		if a.Target.ID != b.Target.ID {
			return a.Target.ID < b.Target.ID
		}
		return a.Email < b.Email
	}
	sort.Slice(p.Activate, func(i, j int) bool { return less(p.Activate[i].Key(), p.Activate[j].Key()) })
	sort.Slice(p.Release, func(i, j int) bool { return less(p.Release[i].Key(), p.Release[j].Key()) })
	sort.Slice(p.Zoom, func(i, j int) bool {
		if p.Zoom[i].Kind != p.Zoom[j].Kind {
			return p.Zoom[i].Kind < p.Zoom[j].Kind
		}
		return less(p.Zoom[i].Seat, p.Zoom[j].Seat)
	})
}

// Routed are a plan's Zoom actions by where they go.
type Routed struct {
	// Zoom are the actions on meetings and webinars Zoom still has.
	Zoom []Action
	// Links are the actions on events held at a link: no call, the seat
	// records giving or taking the link.
	Links []Action
	// Gone are the targets deleted in Zoom that the plan would add or
	// approve attendees on, with why: the job stops there for a person.
	// Cancels on them are dropped: Zoom dropped their registrants.
	Gone map[Target]string
}

// GoneTargets lists Gone's targets in order.
func (r Routed) GoneTargets() []Target {
	ts := make([]Target, 0, len(r.Gone))
	for t := range r.Gone {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].String() < ts[j].String() })
	return ts
}

// RouteActions sorts actions by where they go; broken are the targets
// deleted in Zoom, with why.
func RouteActions(actions []Action, broken map[Target]string) Routed {
	r := Routed{Gone: map[Target]string{}}
	for _, a := range actions {
		t := a.Seat.Target
		reason, gone := broken[t]
		switch {
		case gone && a.Kind != Cancel:
			r.Gone[t] = reason
		case gone:
		case !t.OnZoom():
			r.Links = append(r.Links, a)
		default:
			r.Zoom = append(r.Zoom, a)
		}
	}
	return r
}

// Batches splits approve and cancel actions into Zoom status calls: one
// target and one action per call, at most max registrants each.
func Batches(actions []Action, max int) [][]Action {
	type group struct {
		kind   ActionKind
		target Target
	}
	var order []group
	byGroup := map[group][]Action{}
	for _, a := range actions {
		if a.Kind == AddRegistrant {
			continue
		}
		g := group{a.Kind, a.Seat.Target}
		if _, ok := byGroup[g]; !ok {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], a)
	}
	var out [][]Action
	for _, g := range order {
		for as := byGroup[g]; len(as) > 0; {
			n := min(max, len(as))
			out = append(out, as[:n])
			as = as[n:]
		}
	}
	return out
}
