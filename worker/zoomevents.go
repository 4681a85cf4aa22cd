package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
)

// zoomEvent acts on an event from Zoom's webhooks: what a host did in Zoom
// that woozoom must not undo, and meetings that moved or went away.
func (w *Worker) zoomEvent(ctx context.Context, del rules.Delivery, h Holder, log *slog.Logger) (string, error) {
	ev, err := zoom.ParseEvent(del.Body)
	if err != nil {
		return "", permanent("Zoom event %d cannot be read: %v", del.ID, err)
	}
	_, action, _ := strings.Cut(ev.Event, ".")
	t, ok := ev.Target()
	if !ok {
		return fmt.Sprintf("Zoom event %s: nothing to do", ev.Event), nil
	}
	operator := ev.Payload.Operator
	if operator == "" {
		operator = "the host"
	}
	switch action {
	case "registration_cancelled", "registration_denied":
		return w.zoomCancelled(ctx, h, ev, t, operator, log)
	case "updated":
		return w.zoomUpdated(ctx, ev, t)
	case "deleted":
		return w.zoomDeleted(ctx, t, operator)
	}
	return fmt.Sprintf("Zoom event %s: nothing to do", ev.Event), nil
}

// zoomCancelled: a host cancelled or denied a paid attendee in Zoom. The
// registration is marked so (woozoom does not approve them again by
// itself), staff are told, and the join link leaves the order.
func (w *Worker) zoomCancelled(ctx context.Context, h Holder, ev zoom.Event, t rules.Target, operator string, log *slog.Logger) (string, error) {
	reg := ev.Payload.Object.Registrant
	if reg == nil || reg.Email == "" {
		return "", permanent("Zoom event %s names no registrant", ev.Event)
	}
	key := rules.SeatKey{Target: t, Email: rules.NormalizeEmail(reg.Email)}
	seat := rules.SeatLease(key)
	if err := h.Take(ctx, []rules.Lease{seat}, w.cfg.Lease, leasePoll); err != nil {
		return "", fmt.Errorf("wait for the seat of %s on %s: %w", key.Email, t, err)
	}
	defer func() { _ = h.Release(context.WithoutCancel(ctx), seat) }() // released with the job's leases otherwise
	regs, err := w.store.ActiveRegistrationsOn(ctx, t, key.Email)
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
			inNote(reg.Email), verb, t, inNote(operator), regs[i].OrderID)
		if err := w.shop.AddOrderNote(ctx, regs[i].OrderID, note, false); err != nil {
			return "", err
		}
		regs[i].State, regs[i].Error = rules.Failed, "cancelled in Zoom by "+operator
		regs[i].Ended, regs[i].EndedBy = rules.EndedInZoom, operator
	}
	if err := h.SaveRegistrations(ctx, regs); err != nil {
		return "", err
	}
	for _, r := range regs {
		if _, err := w.store.RequeueOrder(ctx, r.OrderID); err != nil {
			return "", err
		}
		log.Info("registration cancelled in Zoom", "email", key.Email, "target", t.String(), "by", operator, "order_id", r.OrderID)
	}
	return fmt.Sprintf("%s of %s on %s by %s: %d orders told, their links withdrawn", ev.Event, key.Email, t, operator, len(regs)), nil
}

// zoomUpdated: a new start, length or topic is read from Zoom and written
// back to every order that holds the meeting (their calendar files follow).
func (w *Worker) zoomUpdated(ctx context.Context, ev zoom.Event, t rules.Target) (string, error) {
	o := ev.Payload.Object
	if o.StartTime == "" && o.Topic == "" && o.Duration == nil && o.Timezone == "" {
		return fmt.Sprintf("%s: nothing woozoom writes back changed", ev.Event), nil
	}
	d, n, err := w.readAgain(ctx, t)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %s read again (%q, %s); %d orders written back again", ev.Event, t, d.Topic, d.StartTime.Format(time.RFC3339), n), nil
}

// zoomDeleted: the meeting is gone. New work for it is parked with the
// reason, and staff of every order holding it are told.
func (w *Worker) zoomDeleted(ctx context.Context, t rules.Target, operator string) (string, error) {
	reason := fmt.Sprintf("%s was deleted in Zoom by %s: map the product to another %s (woozoom map add / remove, or Events in the console), then retry", t, operator, t.Kind)
	if err := w.store.MarkTargetBroken(ctx, t, reason); err != nil {
		return "", err
	}
	regs, err := w.store.ActiveRegistrationsOn(ctx, t, "")
	if err != nil {
		return "", err
	}
	orders := map[int64][]string{}
	var ids []int64
	for _, r := range regs {
		if orders[r.OrderID] == nil {
			ids = append(ids, r.OrderID)
		}
		orders[r.OrderID] = append(orders[r.OrderID], inNote(r.Attendee.Email))
	}
	for _, id := range ids {
		note := fmt.Sprintf("woozoom: %s. The join links of %s on it no longer work.", inNote(reason), strings.Join(orders[id], ", "))
		if err := w.shop.AddOrderNote(ctx, id, note, false); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s deleted in Zoom by %s: %d orders told", t, operator, len(ids)), nil
}

// readAgain reads a changed meeting from Zoom, keeps its details, and has
// every order holding it write back again; n is how many.
func (w *Worker) readAgain(ctx context.Context, t rules.Target) (d rules.TargetDetails, n int, err error) {
	if d, err = w.zoom.Details(ctx, t); err != nil {
		return d, 0, fmt.Errorf("read %s again after it changed: %w", t, err)
	}
	if err := w.store.SaveTargetDetails(ctx, d); err != nil {
		return d, 0, err
	}
	n, err = w.requeueHolders(ctx, t)
	return d, n, err
}

// requeueHolders makes every order holding a target write back again.
func (w *Worker) requeueHolders(ctx context.Context, t rules.Target) (int, error) {
	regs, err := w.store.ActiveRegistrationsOn(ctx, t, "")
	if err != nil {
		return 0, err
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, r := range regs {
		if !seen[r.OrderID] {
			seen[r.OrderID] = true
			ids = append(ids, r.OrderID)
		}
	}
	return len(ids), w.requeueOrders(ctx, ids)
}

// requeueOrders queues orders to be worked again and wakes the worker.
func (w *Worker) requeueOrders(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		if _, err := w.store.RequeueOrder(ctx, id); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		w.Wake()
	}
	return nil
}
