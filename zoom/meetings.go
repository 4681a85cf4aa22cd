package zoom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// MeetingSpec is a meeting or webinar woozoom asks Zoom to make or change.
type MeetingSpec struct {
	Topic    string
	Start    time.Time // zero: no fixed time
	Duration int       // minutes
	Timezone string
	Passcode string // at most 10 characters
	// Weekly makes a recurring meeting with fixed times of this many weekly
	// occurrences (Zoom lists at most 50); 0 is one meeting.
	Weekly int
	// Settings are further settings (meeting_defaults); registration is
	// always required with automatic approval.
	Settings map[string]any
}

// MaxOccurrences is the most occurrences Zoom gives a recurring meeting.
const MaxOccurrences = 50

func (s MeetingSpec) body(kind rules.TargetKind) (map[string]any, error) {
	if s.Weekly > MaxOccurrences {
		return nil, fmt.Errorf("%d occurrences: Zoom allows at most %d", s.Weekly, MaxOccurrences)
	}
	if len(s.Passcode) > 10 {
		return nil, fmt.Errorf("a passcode of %d characters: Zoom allows at most 10", len(s.Passcode))
	}
	settings := map[string]any{}
	for k, v := range s.Settings {
		settings[k] = v
	}
	settings["approval_type"] = 0
	b := map[string]any{"topic": s.Topic, "duration": s.Duration, "settings": settings}
	if s.Timezone != "" {
		b["timezone"] = s.Timezone
	}
	if s.Passcode != "" {
		b["password"] = s.Passcode
	}
	if !s.Start.IsZero() {
		b["start_time"] = s.Start.UTC().Format("2006-01-02T15:04:05Z")
	}
	switch {
	case s.Weekly > 0 && kind == rules.Webinar:
		b["type"] = 9
	case s.Weekly > 0:
		b["type"] = 8
	case kind == rules.Webinar:
		b["type"] = 5
	default:
		b["type"] = 2
	}
	if s.Weekly > 0 {
		b["recurrence"] = map[string]any{"type": 2, "repeat_interval": 1, "end_times": s.Weekly,
			"weekly_days": fmt.Sprint(int(s.Start.In(zone(s.Timezone)).Weekday()) + 1)}
		settings["registration_type"] = 1 // register once, attend every occurrence
	}
	return b, nil
}

func zone(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		return loc
	}
	return time.UTC
}

// CreateMeeting makes a meeting or webinar for a host (email or user id),
// with registration required and approved automatically. It is never
// retried inside the call: a lost answer may have made it.
func (c *Client) CreateMeeting(ctx context.Context, host string, kind rules.TargetKind, s MeetingSpec) (Meeting, error) {
	body, err := s.body(kind)
	if err != nil {
		return Meeting{}, fmt.Errorf("create %s %q: %w: %w", kind, s.Topic, rules.ErrPermanent, err)
	}
	var d details
	path := "/users/" + url.PathEscape(host) + "/" + string(kind) + "s"
	if err := c.do(ctx, call{op: fmt.Sprintf("create %s %q for %s", kind, s.Topic, host), cat: medium, method: http.MethodPost, path: path, body: body, result: &d}); err != nil {
		return Meeting{}, err
	}
	return d.meeting(rules.Target{Kind: kind, ID: d.ID}), nil
}

// UpdateMeeting changes a meeting's topic, start, duration and zone.
func (c *Client) UpdateMeeting(ctx context.Context, t rules.Target, s MeetingSpec) error {
	path, err := targetPath(t)
	if err != nil {
		return err
	}
	body, err := s.body(t.Kind)
	if err != nil {
		return fmt.Errorf("update %s: %w: %w", t, rules.ErrPermanent, err)
	}
	delete(body, "type")
	delete(body, "recurrence")
	return c.do(ctx, call{op: "update " + t.String(), cat: light, method: http.MethodPatch, path: path, body: body})
}

// DeleteMeeting deletes a meeting or webinar; with notify, Zoom emails its
// registrants that it was cancelled.
func (c *Client) DeleteMeeting(ctx context.Context, t rules.Target, notify bool) error {
	path, err := targetPath(t)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: "delete " + t.String(), cat: light, method: http.MethodDelete, path: path,
		query: map[string]string{"cancel_meeting_reminder": fmt.Sprint(notify)}})
}
