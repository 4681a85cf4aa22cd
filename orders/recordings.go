package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/worker"
	"github.com/woozoom/woozoom/zoom"
)

// RecordingStore is what the recording room needs of the store.
type RecordingStore interface {
	ActiveRegistrationsOn(ctx context.Context, t rules.Target, email string) ([]rules.Registration, error)
	SaveRecording(ctx context.Context, r rules.Recording) error
	ForgetRecording(ctx context.Context, t rules.Target, instance string) error
	RequeueOrders(ctx context.Context, orderIDs []int64) (int, error)
}

// RecordingReader reads a meeting's cloud recording.
type RecordingReader interface {
	Recording(ctx context.Context, t rules.Target, uuid string) (rules.Recording, error)
}

// Recordings is the room of Zoom's recording events: it keeps the
// recording as Zoom has it (read from Zoom, not trusted from the event)
// and queues the shop's orders that hold the meeting, whose write-back
// then gives or takes the replay (recordings: in config.yaml).
type Recordings struct {
	store RecordingStore
	zoom  RecordingReader
	// replays says who of a product's attendees gets its recording; the
	// orders of products that give none are left alone.
	replays func(productID int64) string
}

// NewRecordings returns the recording room.
func NewRecordings(store RecordingStore, z RecordingReader, replays func(productID int64) string) *Recordings {
	return &Recordings{store: store, zoom: z, replays: replays}
}

// Work works recording.completed and recording.recovered (the recording is
// read from Zoom), and recording.trashed and recording.deleted (it goes).
// Zoom's other recording events (started, stopped, transcript_completed,
// renamed, ...) change no replay: nothing to do.
func (rs *Recordings) Work(ctx context.Context, j worker.Job) (worker.Done, error) {
	ev, err := zoom.ParseEvent(j.Delivery.Body)
	if err != nil {
		return worker.Done{}, rules.Permanent("Zoom event %d cannot be read: %v", j.Delivery.ID, err)
	}
	read := false
	switch ev.Event {
	case "recording.completed", "recording.recovered":
		read = true
	case "recording.trashed", "recording.deleted":
	default:
		return worker.Done{Result: fmt.Sprintf("%s: changes no replay; nothing to do", ev.Event)}, nil
	}
	// A recording event names the meeting's id, not whether it is a
	// webinar: the shop's registrations say which it is.
	var t rules.Target
	var regs []rules.Registration
	for _, kind := range []rules.TargetKind{rules.Meeting, rules.Webinar} {
		t = rules.Target{Kind: kind, ID: ev.TargetID()}
		if regs, err = rs.store.ActiveRegistrationsOn(ctx, t, ""); err != nil || len(regs) > 0 {
			break
		}
	}
	if err != nil {
		return worker.Done{}, err
	}
	if len(regs) == 0 {
		return worker.Done{Result: fmt.Sprintf("%s of %d: no paid attendee of this shop; nothing to do", ev.Event, ev.TargetID())}, nil
	}
	// Each instance has its own recording (a series has one per
	// occurrence held): the event's UUID names it.
	uuid := ev.Payload.Object.UUID
	what := "recording kept"
	rec, err := rules.Recording{}, zoom.ErrNoRecording // trashed or deleted
	if read {
		rec, err = rs.zoom.Recording(ctx, t, uuid)
	}
	switch {
	case errors.Is(err, zoom.ErrNoRecording): // gone, or deleted since it completed
		what = "recording withdrawn"
		err = rs.store.ForgetRecording(ctx, t, uuid)
	case err != nil:
		return worker.Done{}, fmt.Errorf("read the recording of %s: %w", t, err)
	default:
		err = rs.store.SaveRecording(ctx, rec)
	}
	if err != nil {
		return worker.Done{}, err
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, r := range regs {
		if rs.replays == nil || rs.replays(r.ProductID) == rules.ReplayOff || seen[r.OrderID] {
			continue
		}
		seen[r.OrderID] = true
		ids = append(ids, r.OrderID)
	}
	if _, err := rs.store.RequeueOrders(ctx, ids); err != nil {
		return worker.Done{}, err
	}
	return worker.Done{Result: fmt.Sprintf("%s of %s: %s; %d orders queued to update their replay", ev.Event, t, what, len(ids))}, nil
}
