package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// PollStore is what the attendance poll needs of the store.
type PollStore interface {
	DeliveryRecorder
	RegisteredTargets(ctx context.Context) ([]rules.Target, error)
	TargetDetails(ctx context.Context, t rules.Target, since time.Time) (rules.TargetDetails, bool, error)
}

// AttendancePoll stands in for Zoom's ended events where they do not come
// (an account without Zoom's webhooks): shortly after each scheduled end
// of a meeting that has paid attendees, it queues the meeting's attendance
// job, as the event would. A poll repeated, by this process or another,
// stores nothing new: the queued event is the same delivery.
type AttendancePoll struct {
	Store PollStore
	// NoEvents says whether t's account sends no ended events.
	NoEvents func(ctx context.Context, t rules.Target) bool
	// After is how long after the scheduled end to ask (Zoom's report
	// lags; the job asks again until it is ready); Within, how long after
	// it to stop looking.
	After, Within time.Duration
	Wake          func()
	Log           *slog.Logger
	Now           func() time.Time
}

// Run polls every interval until ctx ends.
func (p *AttendancePoll) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := p.Pass(ctx); err != nil && ctx.Err() == nil {
			p.Log.Warn("attendance poll failed; the next one tries again", "err", err)
		} else if n > 0 {
			p.Log.Info("meetings ended without Zoom's event: their attendance is read", "meetings", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass queues the attendance of the meetings whose scheduled end passed;
// it says how many it queued.
func (p *AttendancePoll) Pass(ctx context.Context) (int, error) {
	targets, err := p.Store.RegisteredTargets(ctx)
	if err != nil {
		return 0, err
	}
	now, queued := p.Now(), 0
	for _, t := range targets {
		if !t.OnZoom() || !p.NoEvents(ctx, t) {
			continue
		}
		d, ok, err := p.Store.TargetDetails(ctx, t, time.Time{})
		if err != nil {
			return queued, err
		}
		if !ok || d.Duration <= 0 {
			continue
		}
		starts := d.Occurrences
		if len(starts) == 0 && !d.StartTime.IsZero() {
			starts = []time.Time{d.StartTime}
		}
		for _, start := range starts {
			end := start.Add(time.Duration(d.Duration) * time.Minute)
			if now.Before(end.Add(p.After)) || now.After(end.Add(p.Within)) {
				continue
			}
			isNew, err := p.queue(ctx, t, start)
			if err != nil {
				return queued, err
			}
			if isNew {
				queued++
			}
		}
	}
	if queued > 0 && p.Wake != nil {
		p.Wake()
	}
	return queued, nil
}

// queue stores the ended event Zoom would have sent of one scheduled
// instance: the meeting's id as its UUID (Zoom then reads its latest
// instance), and the scheduled start, which keeps instances of a series
// apart.
func (p *AttendancePoll) queue(ctx context.Context, t rules.Target, start time.Time) (bool, error) {
	id := strconv.FormatInt(t.ID, 10)
	body, err := json.Marshal(map[string]any{
		"event": string(t.Kind) + ".ended", "event_ts": start.UnixMilli(),
		"payload": map[string]any{"object": map[string]any{"id": id, "uuid": id, "start_time": start.UTC().Format(time.RFC3339)}},
	})
	if err != nil {
		return false, err
	}
	_, isNew, err := p.Store.RecordDelivery(ctx, rules.Delivery{
		DeliveryID: fmt.Sprintf("woozoom-poll-%s-%d-%d", t.Kind, t.ID, start.Unix()), Topic: "zoom:" + string(t.Kind) + ".ended",
		Source: "woozoom", Key: rules.TargetKey(t), Body: body,
	})
	if err != nil {
		return false, fmt.Errorf("queue the attendance of %s: %w", t, err)
	}
	return isNew, nil
}
