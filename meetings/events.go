package meetings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
)

// Events returns the room of Zoom's meeting events: a meeting that moved
// or went away in Zoom.
func (ms *Meetings) Events() worker.Room {
	return worker.RoomFunc(func(ctx context.Context, j worker.Job) (worker.Done, error) {
		result, err := ms.zoomEvent(ctx, j.Delivery)
		return worker.Done{Result: result}, err
	})
}

func (ms *Meetings) zoomEvent(ctx context.Context, del rules.Delivery) (string, error) {
	ev, err := zoom.ParseEvent(del.Body)
	if err != nil {
		return "", rules.Permanent("Zoom event %d cannot be read: %v", del.ID, err)
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
	case "updated":
		return ms.zoomUpdated(ctx, ev, t)
	case "deleted":
		return ms.zoomDeleted(ctx, t, operator)
	}
	return fmt.Sprintf("Zoom event %s: nothing to do", ev.Event), nil
}

// zoomUpdated: a new start, length or topic is read from Zoom and written
// back to every order that holds the meeting (their calendar files follow).
func (ms *Meetings) zoomUpdated(ctx context.Context, ev zoom.Event, t rules.Target) (string, error) {
	o := ev.Payload.Object
	if o.StartTime == "" && o.Topic == "" && o.Duration == nil && o.Timezone == "" {
		return fmt.Sprintf("%s: nothing woozoom writes back changed", ev.Event), nil
	}
	d, n, err := ms.readAgain(ctx, t)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %s read again (%q, %s); %d orders written back again", ev.Event, t, d.Topic, d.StartTime.Format(time.RFC3339), n), nil
}

// zoomDeleted: the meeting is gone. New work for it is parked with the
// reason, and staff of every order holding it are told.
func (ms *Meetings) zoomDeleted(ctx context.Context, t rules.Target, operator string) (string, error) {
	// Zoom sends meeting.deleted too when a host deletes one occurrence of
	// a series, which lives on: Zoom says which.
	d, n, err := ms.readAgain(ctx, t)
	if err == nil {
		return fmt.Sprintf("an occurrence of %s deleted in Zoom by %s: %d occurrences left; %d orders written back again", t, operator, len(d.Occurrences), n), nil
	}
	if !errors.Is(err, rules.ErrNotFound) {
		return "", err
	}
	reason := fmt.Sprintf("%s was deleted in Zoom by %s: map the product to another %s (woozoom map add / remove, or Events in the console), then retry", t, operator, t.Kind)
	if err := ms.store.MarkTargetBroken(ctx, t, reason); err != nil {
		return "", err
	}
	regs, err := ms.store.ActiveRegistrationsOn(ctx, t, "")
	if err != nil {
		return "", err
	}
	emails := map[int64][]string{}
	var ids []int64
	for _, r := range regs {
		if emails[r.OrderID] == nil {
			ids = append(ids, r.OrderID)
		}
		emails[r.OrderID] = append(emails[r.OrderID], orders.InNote(r.Attendee.Email))
	}
	for _, id := range ids {
		note := fmt.Sprintf("woozoom: %s. The join links of %s on it no longer work.", orders.InNote(reason), strings.Join(emails[id], ", "))
		if err := ms.shop.AddOrderNote(ctx, id, note, false); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s deleted in Zoom by %s: %d orders told", t, operator, len(ids)), nil
}

// readAgain reads a changed meeting from Zoom, keeps its details, and has
// every order holding it write back again; n is how many.
func (ms *Meetings) readAgain(ctx context.Context, t rules.Target) (d rules.TargetDetails, n int, err error) {
	if d, err = ms.zoom.Details(ctx, t); err != nil {
		return d, 0, fmt.Errorf("read %s again after it changed: %w", t, err)
	}
	if err := ms.store.SaveTargetDetails(ctx, d); err != nil {
		return d, 0, err
	}
	n, err = ms.requeueHolders(ctx, t)
	return d, n, err
}

// requeueHolders makes every order holding a target write back again.
func (ms *Meetings) requeueHolders(ctx context.Context, t rules.Target) (int, error) {
	regs, err := ms.store.ActiveRegistrationsOn(ctx, t, "")
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
	return len(ids), ms.requeueOrders(ctx, ids)
}

// requeueOrders queues orders to be worked again and wakes the worker.
func (ms *Meetings) requeueOrders(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		if _, err := ms.store.RequeueOrder(ctx, id); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		ms.wake()
	}
	return nil
}

// details are a meeting's details as woozoom last read them, read from
// Zoom again when older than DetailsTTL.
func (ms *Meetings) details(ctx context.Context, t rules.Target) (rules.TargetDetails, error) {
	d, ok, err := ms.store.TargetDetails(ctx, t, ms.now().Add(-ms.cfg.DetailsTTL))
	if err != nil || ok {
		return d, err
	}
	if d, err = ms.zoom.Details(ctx, t); err != nil {
		return d, fmt.Errorf("read %s: %w", t, err)
	}
	return d, ms.store.SaveTargetDetails(ctx, d)
}
