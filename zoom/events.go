package zoom

import (
	"context"
	"strings"

	"github.com/woozoom/woozoom/rules"
)

// EventMeetings makes, changes, deletes and finds the meetings of the
// shop's events (what the meetings room needs), through the client.
type EventMeetings struct {
	// Accounts places each meeting on its account: a new one by its host.
	Accounts *Accounts
	// Settings are config.yaml's meeting_defaults, sent with every meeting
	// woozoom makes.
	Settings map[string]any
}

func (z EventMeetings) spec(m rules.EventMeeting, agenda string) MeetingSpec {
	// No passcode is sent: Zoom makes one that meets the account's rules
	// (default_password), which woozoom cannot know.
	return MeetingSpec{Topic: m.Topic, Start: m.Start, Duration: m.Duration, Timezone: m.Timezone, Daily: m.Daily,
		Agenda: agenda, Settings: z.Settings}
}

// Details reads a meeting's or webinar's details.
func (z EventMeetings) Details(ctx context.Context, t rules.Target) (rules.TargetDetails, error) {
	return z.Accounts.Details(ctx, t)
}

// CreateMeeting makes an event's meeting for its host, with agenda.
func (z EventMeetings) CreateMeeting(ctx context.Context, m rules.EventMeeting, agenda string) (rules.TargetDetails, error) {
	made, err := z.Accounts.ForHost(m.Host).CreateMeeting(ctx, m.Host, m.Kind, z.spec(m, agenda))
	return made.TargetDetails, err
}

// UpdateMeeting sends an event's topic, times and settings to its meeting.
func (z EventMeetings) UpdateMeeting(ctx context.Context, t rules.Target, m rules.EventMeeting) error {
	c, err := z.Accounts.For(ctx, t)
	if err != nil {
		return err
	}
	return c.UpdateMeeting(ctx, t, z.spec(m, ""))
}

// DeleteMeeting deletes a meeting; notify sends Zoom's cancellation email
// to its registrants.
func (z EventMeetings) DeleteMeeting(ctx context.Context, t rules.Target, notify bool) error {
	c, err := z.Accounts.For(ctx, t)
	if err != nil {
		return err
	}
	return c.DeleteMeeting(ctx, t, notify)
}

// FollowMeeting sends only the topic and times to a meeting woozoom did
// not make: its settings stay the host's.
func (z EventMeetings) FollowMeeting(ctx context.Context, t rules.Target, m rules.EventMeeting) error {
	spec := z.spec(m, "")
	spec.KeepSettings = true
	c, err := z.Accounts.For(ctx, t)
	if err != nil {
		return err
	}
	return c.UpdateMeeting(ctx, t, spec)
}

// HostOf names a meeting's host: its email, else its user id.
func (z EventMeetings) HostOf(ctx context.Context, t rules.Target) (string, error) {
	c, err := z.Accounts.For(ctx, t)
	if err != nil {
		return "", err
	}
	m, err := c.Meeting(ctx, t)
	if m.HostEmail == "" {
		return m.HostID, err
	}
	return m.HostEmail, err
}

// FindMeeting looks among the host's meetings or webinars for the one whose
// agenda holds ref (a create whose answer was lost).
func (z EventMeetings) FindMeeting(ctx context.Context, host string, kind rules.TargetKind, ref string) (rules.Target, bool, error) {
	list, err := z.Accounts.ForHost(host).HostMeetings(ctx, host, kind)
	if err != nil {
		return rules.Target{}, false, err
	}
	for _, m := range list {
		if strings.Contains(m.Agenda, ref) {
			return m.Target, true, nil
		}
	}
	return rules.Target{}, false, nil
}
