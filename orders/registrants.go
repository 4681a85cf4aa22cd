package orders

import (
	"context"
	"fmt"
	"strings"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
)

// Registrants returns the room of Zoom's registrant events: a host
// cancelled or denied a paid attendee in Zoom. Zoom's other registration
// events (created, approved: woozoom's own adds and approvals among them)
// change nothing.
func (o *Orders) Registrants() worker.Room {
	return worker.RoomFunc(func(ctx context.Context, j worker.Job) (worker.Done, error) {
		ev, err := zoom.ParseEvent(j.Delivery.Body)
		if err != nil {
			return worker.Done{}, rules.Permanent("Zoom event %d cannot be read: %v", j.Delivery.ID, err)
		}
		if _, action, _ := strings.Cut(ev.Event, "."); action != "registration_cancelled" && action != "registration_denied" {
			return worker.Done{Result: fmt.Sprintf("Zoom event %s: nothing to do", ev.Event)}, nil
		}
		t, ok := ev.Target()
		if !ok {
			return worker.Done{Result: fmt.Sprintf("Zoom event %s: nothing to do", ev.Event)}, nil
		}
		operator := ev.Payload.Operator
		if operator == "" {
			operator = "the host"
		}
		result, err := o.zoomCancelled(ctx, j, ev, t, operator)
		return worker.Done{Result: result}, err
	})
}

// zoomCancelled: a host cancelled or denied a paid attendee in Zoom. The
// registration is marked so (woozoom does not approve them again by
// itself), staff are told, and the join link leaves the order.
func (o *Orders) zoomCancelled(ctx context.Context, j worker.Job, ev zoom.Event, t rules.Target, operator string) (string, error) {
	h, log := j.Leases, j.Log
	reg := ev.Payload.Object.Registrant
	if reg == nil || reg.Email == "" {
		return "", rules.Permanent("Zoom event %s names no registrant", ev.Event)
	}
	key := rules.SeatKey{Target: t, Email: rules.NormalizeEmail(reg.Email)}
	seat := rules.SeatLease(key)
	if err := h.Take(ctx, []rules.Lease{seat}, j.LeaseTTL, worker.LeasePoll); err != nil {
		return "", fmt.Errorf("wait for the seat of %s on %s: %w", key.Email, t, err)
	}
	defer func() { _ = h.Release(context.WithoutCancel(ctx), seat) }() // released with the job's leases otherwise
	regs, err := o.store.ActiveRegistrationsOn(ctx, t, key.Email)
	if err != nil {
		return "", err
	}
	if len(regs) == 0 {
		return fmt.Sprintf("%s of %s on %s: no paid attendee holds it; nothing to do", ev.Event, key.Email, t), nil
	}
	if err := h.SaveSeats(ctx, rules.Seat{SeatKey: key, RegistrantID: reg.ID, Status: rules.SeatDenied}); err != nil {
		return "", err
	}
	verb := "cancelled"
	if strings.HasSuffix(ev.Event, "denied") {
		verb = "denied"
	}
	for i := range regs {
		note := fmt.Sprintf("woozoom: %s was %s on %s in Zoom by %s. woozoom will not register them again by itself; to bring them back: woozoom registrations restore --order %d (or Restore in the console).",
			InNote(reg.Email), verb, t, InNote(operator), regs[i].OrderID)
		if err := o.shop.AddOrderNote(ctx, regs[i].OrderID, note, false); err != nil {
			return "", err
		}
		regs[i].State, regs[i].Error = rules.Failed, "cancelled in Zoom by "+operator
		regs[i].Ended, regs[i].EndedBy = rules.EndedInZoom, operator
	}
	if err := h.SaveRegistrations(ctx, regs); err != nil {
		return "", err
	}
	for _, r := range regs {
		if _, err := o.store.RequeueOrder(ctx, r.OrderID); err != nil {
			return "", err
		}
		log.Info("registration cancelled in Zoom", "email", key.Email, "target", t.String(), "by", operator, "order_id", r.OrderID)
	}
	return fmt.Sprintf("%s of %s on %s by %s: %d orders told, their links withdrawn", ev.Event, key.Email, t, operator, len(regs)), nil
}
