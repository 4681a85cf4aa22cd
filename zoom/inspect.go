package zoom

import (
	"context"
	"errors"
	"fmt"

	"github.com/woozoom/woozoom/rules"
)

// Why a meeting or webinar cannot take woozoom's attendees; errors.Is
// finds them in Inspect's and Inspection.Problem's errors.
var (
	ErrTargetGone      = errors.New("meeting gone")
	ErrRegistrationOff = errors.New("registration off")
	ErrHostUnlicensed  = errors.New("host not licensed")
)

// Inspection is what Zoom says of a meeting or webinar attendees are to be
// registered on: the meeting, and its host where the app may read users.
type Inspection struct {
	Target   rules.Target
	Meeting  Meeting
	Host     User
	HostRead bool
}

// inspectionProblem says a reason in words for an admin.
type inspectionProblem struct {
	reason error
	words  string
}

func (p *inspectionProblem) Error() string        { return p.words }
func (p *inspectionProblem) Is(target error) bool { return target == p.reason }

func inspectionError(reason error, format string, args ...any) error {
	return &inspectionProblem{reason: reason, words: fmt.Sprintf(format, args...)}
}

// Inspect reads a meeting or webinar and its host. A meeting Zoom does not
// have is ErrTargetGone, in words; a host the app may not read is left
// unread. Problem says whether it can take attendees.
func (c *Client) Inspect(ctx context.Context, t rules.Target) (Inspection, error) {
	in := Inspection{Target: t}
	m, err := c.Meeting(ctx, t)
	switch {
	case errors.Is(err, rules.ErrNotFound):
		return in, inspectionError(ErrTargetGone, "no %s %d on Zoom (deleted, or a typo): check the id in Zoom", t.Kind, t.ID)
	case err != nil:
		return in, fmt.Errorf("read %s from Zoom: %w", t, err)
	}
	in.Meeting = m
	if m.HostID != "" {
		if host, err := c.User(ctx, m.HostID); err == nil {
			in.Host, in.HostRead = host, true
		}
	}
	return in, nil
}

// Problem says in words why the meeting cannot take attendees (errors.Is
// finds ErrRegistrationOff or ErrHostUnlicensed), or nil.
func (in Inspection) Problem() error {
	t, m := in.Target, in.Meeting
	if !m.RegistrationOn() {
		return inspectionError(ErrRegistrationOff, "%s %q has registration off, so Zoom refuses every attendee: in Zoom, edit it and set Registration to Required (automatic approval is simplest), or use woozoom map add --fix",
			t, m.Topic)
	}
	if in.HostRead && !in.Host.Licensed() {
		return inspectionError(ErrHostUnlicensed, "the host of %s, %s, is a %s user: Zoom allows registration only on meetings of Licensed users; give the host a license (User Management > Users) or move the %s to a licensed host (woozoom zoom users lists them)",
			t, in.Host.Email, in.Host.TypeName(), t.Kind)
	}
	return nil
}

// Describe says what the meeting is, for an admin.
func (in Inspection) Describe() string {
	m := in.Meeting
	start := "no fixed time"
	if !m.StartTime.IsZero() {
		start = m.StartTime.UTC().Format("2006-01-02 15:04 UTC")
	}
	registration := "required, automatic approval"
	switch m.ApprovalType {
	case 1:
		registration = "required, manual approval (woozoom approves paid attendees itself)"
	case 2:
		registration = "off"
	}
	host := m.HostEmail
	if host == "" {
		host = "-"
	}
	return fmt.Sprintf("%s: %q, %s, host %s, registration %s", in.Target, m.Topic, start, host, registration)
}
