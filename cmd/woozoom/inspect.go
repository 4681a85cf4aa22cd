package main

import (
	"context"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
)

// inspector reads a meeting and its host: a client, or the accounts.
type inspector interface {
	Inspect(ctx context.Context, t rules.Target) (zoom.Inspection, error)
}

// inspectTarget reads a meeting or webinar and its host from Zoom, and
// says in words why it cannot take attendees (errors.Is finds zoom's
// reasons), or nil. The map add command, the console and the start check
// share it.
func inspectTarget(ctx context.Context, zc inspector, t rules.Target) (zoom.Inspection, error) {
	in, err := zc.Inspect(ctx, t)
	if err != nil {
		return in, err
	}
	return in, in.Problem()
}
