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
	// Daily is the same with daily occurrences (consecutive days).
	Daily int
	// Agenda is the description; woozoom puts its reference there to find
	// a meeting whose create answer was lost.
	Agenda string
	// KeepSettings sends no settings (an update of a meeting woozoom did
	// not make: only its topic and times follow the product).
	KeepSettings bool
	// Settings are further settings (meeting_defaults); registration is
	// always required with automatic approval.
	Settings map[string]any
}

// MaxOccurrences is the most occurrences Zoom gives a recurring meeting.
const MaxOccurrences = 50

func (s MeetingSpec) body(kind rules.TargetKind) (map[string]any, error) {
	if n := max(s.Weekly, s.Daily); n > MaxOccurrences {
		return nil, fmt.Errorf("%d occurrences: Zoom allows at most %d", n, MaxOccurrences)
	}
	if len(s.Topic) > 200 {
		return nil, fmt.Errorf("a topic of %d characters: Zoom allows at most 200", len(s.Topic))
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
	if s.KeepSettings {
		delete(b, "settings")
	}
	if s.Timezone != "" {
		b["timezone"] = s.Timezone
	}
	if s.Passcode != "" {
		b["password"] = s.Passcode
	}
	if s.Agenda != "" {
		b["agenda"] = s.Agenda
	}
	if !s.Start.IsZero() {
		b["start_time"] = s.Start.UTC().Format("2006-01-02T15:04:05Z")
	}
	recurring := s.Weekly > 0 || s.Daily > 0
	switch {
	case recurring && kind == rules.Webinar:
		b["type"] = 9
	case recurring:
		b["type"] = 8
	case kind == rules.Webinar:
		b["type"] = 5
	default:
		b["type"] = 2
	}
	switch {
	case s.Weekly > 0:
		b["recurrence"] = map[string]any{"type": 2, "repeat_interval": 1, "end_times": s.Weekly,
			"weekly_days": fmt.Sprint(int(s.Start.In(zone(s.Timezone)).Weekday()) + 1)}
	case s.Daily > 0:
		b["recurrence"] = map[string]any{"type": 1, "repeat_interval": 1, "end_times": s.Daily}
	}
	if recurring {
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
	cat := medium // Zoom labels meeting create Medium and webinar create Light
	if kind == rules.Webinar {
		cat = light
	}
	if err := c.do(ctx, call{op: fmt.Sprintf("create %s %q for %s", kind, s.Topic, host), cat: cat, method: http.MethodPost, path: path, body: body, result: &d}); err != nil {
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
	// Zoom needs the recurrence again to move a whole series.
	delete(body, "type")
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

// Listed is a meeting or webinar as a host's list shows it.
type Listed struct {
	Target rules.Target
	Topic  string
	Agenda string // cut to 250 characters by Zoom
}

// HostMeetings lists a host's scheduled meetings or webinars (Medium, 300
// a page): where woozoom looks for a meeting whose create answer it lost.
func (c *Client) HostMeetings(ctx context.Context, host string, kind rules.TargetKind) ([]Listed, error) {
	var out []Listed
	for page := 1; ; page++ {
		var resp struct {
			PageCount int `json:"page_count"`
			Meetings  []struct {
				ID     int64  `json:"id"`
				Topic  string `json:"topic"`
				Agenda string `json:"agenda"`
			} `json:"meetings"`
			Webinars []struct {
				ID     int64  `json:"id"`
				Topic  string `json:"topic"`
				Agenda string `json:"agenda"`
			} `json:"webinars"`
		}
		path := "/users/" + url.PathEscape(host) + "/" + string(kind) + "s"
		err := c.do(ctx, call{op: fmt.Sprintf("list %ss of %s", kind, host), cat: medium, method: http.MethodGet, path: path,
			query: map[string]string{"type": "scheduled", "page_size": "300", "page_number": fmt.Sprint(page)}, result: &resp})
		if err != nil {
			return nil, err
		}
		for _, m := range append(resp.Meetings, resp.Webinars...) {
			out = append(out, Listed{Target: rules.Target{Kind: kind, ID: m.ID}, Topic: m.Topic, Agenda: m.Agenda})
		}
		if page >= resp.PageCount {
			return out, nil
		}
	}
}
