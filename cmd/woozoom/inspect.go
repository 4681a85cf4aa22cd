package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
)

// Why a meeting or webinar cannot take woozoom's attendees.
var (
	errTargetGone      = errors.New("gone")
	errRegistrationOff = errors.New("registration off")
	errHostUnlicensed  = errors.New("host not licensed")
)

// targetProblem says a reason in words for an admin; errors.Is finds the
// reason.
type targetProblem struct {
	reason error
	words  string
}

func (p *targetProblem) Error() string        { return p.words }
func (p *targetProblem) Is(target error) bool { return target == p.reason }

func problem(reason error, format string, args ...any) error {
	return &targetProblem{reason: reason, words: fmt.Sprintf(format, args...)}
}

// inspectTarget reads a meeting or webinar and its host from Zoom, and
// says in words why it cannot take attendees (errors.Is finds one of the
// reasons above), or nil. The map add command, the console and the start
// check share it.
func inspectTarget(ctx context.Context, zc *zoom.Client, t rules.Target) (zoom.Meeting, error) {
	m, err := zc.Meeting(ctx, t)
	switch {
	case errors.Is(err, rules.ErrNotFound):
		return m, problem(errTargetGone, "no %s %d on Zoom (deleted, or a typo): check the id in Zoom", t.Kind, t.ID)
	case err != nil:
		return m, fmt.Errorf("read %s from Zoom: %w", t, err)
	case !m.RegistrationOn():
		return m, problem(errRegistrationOff, "%s %q has registration off, so Zoom refuses every attendee: in Zoom, edit it and set Registration to Required (automatic approval is simplest), or use woozoom map add --fix",
			t, m.Topic)
	}
	if m.HostID == "" {
		return m, nil
	}
	// The host is read where the app's scopes allow; the meeting itself is fine.
	if host, err := zc.User(ctx, m.HostID); err == nil && !host.Licensed() {
		return m, problem(errHostUnlicensed, "the host of %s, %s, is a %s user: Zoom allows registration only on meetings of Licensed users; give the host a license (User Management > Users) or move the %s to a licensed host (woozoom zoom users lists them)",
			t, host.Email, host.TypeName(), t.Kind)
	}
	return m, nil
}

// describeTarget says what a meeting is, for an admin.
func describeTarget(t rules.Target, m zoom.Meeting) string {
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
	return fmt.Sprintf("%s: %q, %s, host %s, registration %s", t, m.Topic, start, orDash(m.HostEmail), registration)
}
