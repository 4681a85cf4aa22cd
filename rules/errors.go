package rules

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
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
	// ErrCredentials: a service refused woozoom's credentials, or woozoom
	// does not trust the service's certificate. A person must fix the
	// configuration; meanwhile the work waits and is retried, never dropped.
	ErrCredentials = errors.New("credentials or certificate refused")
	// ErrUnavailable: the service has stopped answering and the call was not
	// sent; the work waits for it without being charged a try.
	ErrUnavailable = errors.New("service unavailable")
)

// Service returns the service an error came from ("zoom", "woocommerce"),
// if the error says.
func Service(err error) string {
	var s interface{ Service() string }
	if errors.As(err, &s) {
		return s.Service()
	}
	return ""
}

// Reason is err in words fit for a health page or a metric: without what
// was being done, which may name an attendee, where the error can say so.
func Reason(err error) string {
	var r interface{ Reason() string }
	if errors.As(err, &r) {
		return r.Reason()
	}
	return err.Error()
}

// Summary says what is wrong in woozoom's own words, for a page anyone may
// read (/healthz): never what the service answered, an address or a name.
// An error says it by a Summary method; otherwise its kind does.
func Summary(err error) string {
	var s interface{ Summary() string }
	if errors.As(err, &s) {
		return s.Summary()
	}
	switch {
	case errors.Is(err, ErrCredentials):
		return "credentials refused or certificate not trusted"
	case errors.Is(err, ErrRateLimited):
		return "rate limited"
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrTemporary):
		return "not answering"
	}
	return "failing"
}

// Refused reports a service's answer that says the change was not made, or
// a call that was never sent (the service not answering). Any other
// failure (a timeout, a lost answer, a 5xx, a crash) leaves it unknown
// whether the change was made: it must be looked up before it is relied on.
func Refused(err error) bool {
	notSent := errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrTemporary) // not a failed probe
	return err != nil && (errors.Is(err, ErrRateLimited) || errors.Is(err, ErrPermanent) || notSent)
}

// Permanent is a failure that parks the job for a person.
func Permanent(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrPermanent}, args...)...)
}

// Untrusted reports whether err is a TLS certificate that could not be
// verified (unknown authority, wrong host name, expired): no retry fixes it
// until a person changes the trust or the certificate.
func Untrusted(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		inv x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &inv)
}

// Daily reports whether err is a daily limit (an account's, a host's, an
// attendee's): retrying before it resets is useless.
func Daily(err error) bool {
	var d interface{ Daily() bool }
	return errors.As(err, &d) && d.Daily()
}

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
	return errors.Is(err, ErrTemporary) || errors.Is(err, ErrRateLimited) || errors.Is(err, ErrCredentials) || errors.Is(err, ErrUnavailable)
}

// Redirected is a service's redirect, never followed: the REST APIs woozoom
// calls do not redirect, so the configured address is not the service's
// (http where https is served, a moved site), and a redirect followed would
// carry the credentials to wherever it points. The work waits for a person
// to fix the address (ErrCredentials).
type Redirected struct {
	From     string // "the shop", "Zoom"
	Location string // where it pointed, without query
	Fix      string // "set woocommerce.url to the final address"
}

// Redirect returns the error for a redirect to location.
func Redirect(from, fix string, location *url.URL) *Redirected {
	shown := ""
	if location != nil {
		u := *location
		u.RawQuery, u.Fragment, u.User = "", "", nil
		shown = u.String()
	}
	return &Redirected{From: from, Location: shown, Fix: fix}
}

func (e *Redirected) Error() string {
	return fmt.Sprintf("%s redirected to %s; %s", e.From, e.Location, e.Fix)
}

// Reason is the error itself: it names no attendee.
func (e *Redirected) Reason() string { return e.Error() }

// Summary leaves out where the redirect pointed: the service said that.
func (e *Redirected) Summary() string {
	return e.From + " redirects its API; the configured address is not its final one"
}
func (e *Redirected) Unwrap() error { return ErrCredentials }

// NoAnswer is a call that got no answer from a service: a temporary failure,
// or, when the service's certificate could not be verified, a trust problem
// that waits for a person (untrusted says how to fix it).
func NoAnswer(service, op, untrusted string, err error) error {
	var redirected *Redirected
	if errors.As(err, &redirected) {
		return fmt.Errorf("%s: %w", op, redirected)
	}
	kind := ErrTemporary
	if Untrusted(err) {
		kind = ErrCredentials
	}
	return &noAnswer{service: service, op: op, untrusted: untrusted, kind: kind, err: err}
}

type noAnswer struct {
	service, op, untrusted string
	kind, err              error
}

func (e *noAnswer) Error() string { return e.op + ": " + e.Reason() }

// Reason is the error without what was being done.
func (e *noAnswer) Reason() string {
	if errors.Is(e.kind, ErrCredentials) {
		return e.untrusted + ": " + e.err.Error()
	}
	return e.kind.Error() + ": " + e.err.Error()
}
func (e *noAnswer) Unwrap() []error { return []error{e.kind, e.err} }

// Summary is the kind of failure, without the transport's words.
func (e *noAnswer) Summary() string {
	if errors.Is(e.kind, ErrCredentials) {
		return "its TLS certificate is not trusted"
	}
	return "not answering"
}
func (e *noAnswer) Service() string { return e.service }
