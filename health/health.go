// Package health keeps what is wrong with woozoom's connections right now (a
// refused key, an untrusted certificate, a disabled webhook), so /healthz,
// /metrics, the console and the log can name it. A problem has a summary in
// woozoom's own words, which /healthz shows to anyone, and a detail (what
// the service answered, which webhook) for the log and the signed-in
// console. A problem is logged once when it starts or changes and once when
// it ends, not on every retry.
package health

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// Tracker holds the current problem of each component ("zoom",
// "woocommerce", "webhooks").
type Tracker struct {
	log      *slog.Logger
	onChange func(components []string)

	mu       sync.Mutex
	problems map[string]Problem
}

// Problem is what is wrong with a component.
type Problem struct {
	// Summary is woozoom's own words, never a service's answer: fit for a
	// page anyone may read.
	Summary string
	// Detail says how to fix it, with what the service answered.
	Detail string
}

// New returns a tracker with no problems. onChange, if set, is called with
// the components that have a problem whenever that set changes.
func New(log *slog.Logger, onChange func(components []string)) *Tracker {
	return &Tracker{log: log, onChange: onChange, problems: map[string]Problem{}}
}

func (t *Tracker) changed() {
	if t.onChange == nil {
		return
	}
	t.mu.Lock()
	names := slices.Sorted(maps.Keys(t.problems))
	t.mu.Unlock()
	t.onChange(names)
}

// Problem records what is wrong with a component: a summary anyone may
// read, and the detail that says how to fix it.
func (t *Tracker) Problem(component, summary, detail string) {
	p := Problem{Summary: summary, Detail: detail}
	t.mu.Lock()
	old, had := t.problems[component]
	t.problems[component] = p
	t.mu.Unlock()
	if !had || old != p {
		t.log.Error("needs a person: "+component, "problem", detail)
	}
	if !had {
		t.changed()
	}
}

// OK records that a component works again.
func (t *Tracker) OK(component string) {
	t.mu.Lock()
	_, had := t.problems[component]
	delete(t.problems, component)
	t.mu.Unlock()
	if had {
		t.log.Info("working again: " + component)
		t.changed()
	}
}

// Problems returns the details of the current problems by component, for
// the log and the signed-in console.
func (t *Tracker) Problems() map[string]string {
	return t.each(func(p Problem) string { return p.Detail })
}

// Summaries returns the summaries of the current problems by component,
// for /healthz.
func (t *Tracker) Summaries() map[string]string {
	return t.each(func(p Problem) string { return p.Summary })
}

func (t *Tracker) each(pick func(Problem) string) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]string, len(t.problems))
	for k, p := range t.problems {
		out[k] = pick(p)
	}
	return out
}
