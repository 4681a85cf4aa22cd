package zoom

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Error is an answer from Zoom that was not a success. errors.Is finds its
// kind among rules.ErrTemporary, ErrRateLimited, ErrPermanent, ErrNotFound
// and ErrInvalidAttendee.
type Error struct {
	Op         string // what was being done
	HTTPStatus int
	Code       int    // Zoom's own code (124, 300, 3001, ...)
	Message    string // Zoom's message, kept as given
	Fields     []FieldError
	kind       error
	retryAt    time.Time
}

// FieldError is one entry of a validation error's "errors" list.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Op + ": " + e.Reason() }

// Reason is the error without what was being done (which may name an
// attendee): fit for a health page.
func (e *Error) Reason() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zoom answered %d", e.HTTPStatus)
	if e.Code != 0 {
		fmt.Fprintf(&b, " code %d", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, " (%s: %s)", f.Field, f.Message)
	}
	return b.String()
}

// Service names where the error came from.
func (e *Error) Service() string { return "zoom" }

// Summary says what the answer means in woozoom's words, without Zoom's
// message.
func (e *Error) Summary() string {
	if errors.Is(e.kind, rules.ErrCredentials) {
		return fmt.Sprintf("Zoom refused the app's credentials (HTTP %d): check zoom.account_id, client_id and client_secret", e.HTTPStatus)
	}
	if e.Code != 0 {
		return fmt.Sprintf("Zoom answered HTTP %d, code %d", e.HTTPStatus, e.Code)
	}
	return fmt.Sprintf("Zoom answered HTTP %d", e.HTTPStatus)
}

// Unwrap lets errors.Is find the error's kind; a not-found is also permanent.
func (e *Error) Unwrap() []error {
	if errors.Is(e.kind, rules.ErrNotFound) || errors.Is(e.kind, rules.ErrInvalidAttendee) {
		return []error{e.kind, rules.ErrPermanent}
	}
	return []error{e.kind}
}

// RetryAt is when a rate-limited call may be tried again.
func (e *Error) RetryAt() time.Time { return e.retryAt }

// TokenRejected reports a 401 code 124: the access token is invalid or expired.
func (e *Error) TokenRejected() bool { return e.HTTPStatus == http.StatusUnauthorized && e.Code == 124 }

// Daily reports a 429 of a daily limit (account daily, 100 meeting updates
// per host, 3 adds per registrant): retrying before it resets is useless.
func (e *Error) Daily() bool {
	return e.HTTPStatus == http.StatusTooManyRequests && strings.Contains(strings.ToLower(e.Message), "daily")
}

// accountDaily reports the account's daily limit of an API category, as
// opposed to one registrant's or one host's.
func (e *Error) accountDaily() bool {
	return e.HTTPStatus == http.StatusTooManyRequests && strings.Contains(strings.ToLower(e.Message), "daily rate limit for this api")
}

// Codes after which one attendee is refused while others may go ahead.
var attendeeCodes = map[int]bool{
	300:  true, // validation failed: email or name refused
	3027: true, // host cannot register
	3034: true, // "please input your work email address" (webinar)
	3051: true, // same, meeting
	// "Meeting is over, you can not register now": an order completed
	// after the event. Retrying cannot help; the order's staff note gives
	// Zoom's reason and the order's other events go ahead.
	3038: true,
}

// newError classifies one Zoom answer, once, for every caller.
func newError(op string, status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{Op: op, HTTPStatus: status}
	var b struct {
		Code    int          `json:"code"`
		Message string       `json:"message"`
		Errors  []FieldError `json:"errors"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Message, e.Fields = b.Code, b.Message, b.Errors
	} else {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200]
		}
	}
	switch {
	case status == http.StatusTooManyRequests:
		e.kind = rules.ErrRateLimited
		e.retryAt = retryAfter(header, e.Daily(), now)
	case status >= 500:
		e.kind = rules.ErrTemporary
	case status == http.StatusUnauthorized && e.Code == 124, e.Code == 4700, e.Code == 4711:
		// Renewing once did not help: the app lacks a scope or was
		// deactivated. The job waits for a person (retried, never dropped).
		e.kind = rules.ErrCredentials
		e.Message += " (the Server-to-Server app may lack the scopes woozoom needs, or be deactivated: woozoom check lists them)"
	case status == http.StatusNotFound:
		e.kind = rules.ErrNotFound
	case status == http.StatusBadRequest && attendeeCodes[e.Code] && strings.HasPrefix(op, "register"):
		e.kind = rules.ErrInvalidAttendee
	default:
		e.kind = rules.ErrPermanent
	}
	return e
}

// retryAfter reads Zoom's Retry-After: an ISO-8601 instant on daily limits,
// sometimes seconds. A daily 429 without it waits for 00:00 UTC; a
// per-second one without it waits a second.
func retryAfter(h http.Header, daily bool, now time.Time) time.Time {
	if v := h.Get("Retry-After"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
		if t, err := http.ParseTime(v); err == nil {
			return t
		}
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return now.Add(time.Duration(s) * time.Second)
		}
	}
	if daily {
		y, m, d := now.UTC().Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	}
	return now.Add(time.Second)
}

// transportError is a call that got no answer from the Zoom.
func transportError(op string, err error) error {
	return rules.NoAnswer("zoom", op, "Zoom's certificate is not trusted (check the system's CA certificates and any proxy between woozoom and Zoom)", err)
}
