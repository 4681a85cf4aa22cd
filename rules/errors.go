package rules

import (
	"errors"
	"time"
)

// The error vocabulary. Adapters wrap their errors so that errors.Is finds one
// of these; the worker decides on them alone and never on a vendor's codes.
var (
	// ErrTemporary: try again later (5xx, timeouts, connection failures).
	ErrTemporary = errors.New("temporary failure")
	// ErrRateLimited: try again after the time the error carries (RetryAt).
	ErrRateLimited = errors.New("rate limited")
	// ErrPermanent: the same request will fail again; a person must act.
	ErrPermanent = errors.New("permanent failure")
	// ErrNotFound: the thing asked for does not exist (a subset of permanent).
	ErrNotFound = errors.New("not found")
	// ErrInvalidAttendee: this attendee is refused (bad email, host's own
	// email); the other attendees go ahead.
	ErrInvalidAttendee = errors.New("attendee refused")
)

// RetryAt returns the earliest time err says a retry may succeed, if it says.
func RetryAt(err error) (time.Time, bool) {
	var r interface{ RetryAt() time.Time }
	if errors.As(err, &r) {
		if t := r.RetryAt(); !t.IsZero() {
			return t, true
		}
	}
	return time.Time{}, false
}

// Retryable reports whether a later retry of the same call may succeed.
// Anything not known to be temporary counts as permanent, so an unclassified
// error parks a job for a person rather than retrying it forever.
func Retryable(err error) bool {
	return errors.Is(err, ErrTemporary) || errors.Is(err, ErrRateLimited)
}
