package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Preview is what woozoom would do now for an order as the shop has it:
// the dry run behind `woozoom plan` and the console's button. It reads the
// shop and the store only; it calls no Zoom API and writes nothing.
type Preview struct {
	Order   rules.Order
	Intent  rules.Intent
	Applied *rules.AppliedOrder // the newest view already applied, if any
	Skip    string              // why nothing would be done, if so
	Plan    rules.Plan
	// Unsettled are seats whose last change went unanswered: Zoom is asked
	// first what became of them, so the plan may shrink.
	Unsettled []rules.SeatKey
	// Links are the attendees whose join links would be on the order after
	// the plan (Register only); LinksRemoved says the order's links would go.
	Links        []rules.Registration
	LinksRemoved bool
}

// Preview computes the dry run for an order.
func (o *Orders) Preview(ctx context.Context, orderID int64) (Preview, error) {
	order, err := o.shop.Order(ctx, orderID)
	if err != nil {
		return Preview{}, fmt.Errorf("read order %d from the shop: %w", orderID, err)
	}
	order.Deleted = order.Status == rules.StatusTrash
	p := Preview{Order: order, Intent: o.cfg.Policy.Intent(order)}
	prev, seen, err := o.store.OrderState(ctx, orderID)
	if err != nil {
		return p, err
	}
	if seen {
		p.Applied = &prev
	}
	switch {
	case p.Intent == rules.Hold:
		p.Skip = fmt.Sprintf("status %s changes nothing", order.Status)
		return p, nil
	case seen && order.Modified.Before(prev.Modified):
		p.Skip = "the shop's view is older than the one applied"
		return p, nil
	}
	if p.Intent == rules.Register && order.HasRefunds {
		if order.RefundedQty, err = o.shop.RefundedQuantities(ctx, orderID); err != nil {
			return p, err
		}
	}
	mappings, err := o.store.ActiveMappings(ctx)
	if err != nil {
		return p, err
	}
	in := rules.Input{Order: order, Intent: p.Intent, Wants: o.cfg.Policy.Wants(order, mappings)}
	if in.Registrations, err = o.store.Registrations(ctx, orderID); err != nil {
		return p, err
	}
	keys := seatKeys(in.Wants, in.Registrations)
	if in.Seats, err = o.store.Seats(ctx, keys); err != nil {
		return p, err
	}
	if p.Unsettled, err = o.store.UnsettledSeats(ctx, keys); err != nil {
		return p, err
	}
	if in.HeldElsewhere, err = o.store.HeldElsewhere(ctx, orderID, keys); err != nil {
		return p, err
	}
	p.Plan = rules.Decide(in)
	if p.Intent != rules.Register {
		p.LinksRemoved = true
		return p, nil
	}
	after := map[rules.SeatKey]rules.Registration{}
	for _, r := range in.Registrations {
		if r.State == rules.Active {
			after[r.Key()] = r
		}
	}
	for _, r := range p.Plan.Release {
		delete(after, r.Key())
	}
	for _, r := range p.Plan.Activate {
		after[r.Key()] = r
	}
	for _, k := range keys {
		if r, ok := after[k]; ok {
			p.Links = append(p.Links, r)
		}
	}
	return p, nil
}

// Lines says the preview in words, a line each.
func (p Preview) Lines() []string {
	o := p.Order
	out := []string{fmt.Sprintf("order %d is %s in the shop (modified %s): %s", o.ID, o.Status, o.Modified.UTC().Format(time.RFC3339), p.Intent)}
	if p.Applied != nil {
		out = append(out, fmt.Sprintf("woozoom last applied: %s, modified %s", p.Applied.Status, p.Applied.Modified.UTC().Format(time.RFC3339)))
	} else {
		out = append(out, "woozoom has not applied any view of this order yet")
	}
	if p.Skip != "" {
		return append(out, "nothing would be done: "+p.Skip)
	}
	for _, k := range p.Unsettled {
		out = append(out, fmt.Sprintf("look up first: %s on %s (a change whose answer was lost)", k.Email, k.Target))
	}
	for _, a := range p.Plan.Zoom {
		if !a.Seat.Target.OnZoom() {
			verb := "give the link"
			if a.Kind == rules.Cancel {
				verb = "take the link back"
			}
			out = append(out, fmt.Sprintf("%s: %s, %s (no Zoom call)", verb, a.Seat.Email, a.Seat.Target))
			continue
		}
		switch a.Kind {
		case rules.AddRegistrant:
			out = append(out, fmt.Sprintf("add on Zoom: %s %s <%s> to %s", a.Attendee.FirstName, a.Attendee.LastName, a.Seat.Email, a.Seat.Target))
		case rules.Approve:
			out = append(out, fmt.Sprintf("approve on Zoom: %s on %s (registered before, cancelled since)", a.Seat.Email, a.Seat.Target))
		case rules.Cancel:
			out = append(out, fmt.Sprintf("cancel on Zoom: %s on %s", a.Seat.Email, a.Seat.Target))
		}
	}
	for _, r := range p.Plan.Release {
		out = append(out, fmt.Sprintf("release: %s on %s (another order may still hold the seat)", r.Attendee.Email, r.Target))
	}
	if len(p.Plan.Zoom) == 0 && len(p.Plan.Release) == 0 {
		out = append(out, "Zoom already matches: no call would be made")
	}
	switch {
	case p.LinksRemoved:
		out = append(out, "write back: the order's join links would be removed")
	case len(p.Links) == 0:
		out = append(out, "write back: no join links (no mapped tickets)")
	default:
		for _, r := range p.Links {
			out = append(out, fmt.Sprintf("write back: the join link of %s on %s", r.Attendee.Email, r.Target))
		}
	}
	return out
}
