// Package health keeps what is wrong with woozoom's connections right now (a
// refused key, an untrusted certificate, a disabled webhook), so /healthz,
// /metrics and the log can name it. A problem is logged once when it starts
// or changes and once when it ends, not on every retry.
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
	problems map[string]string
}

// New returns a tracker with no problems. onChange, if set, is called with
// the components that have a problem whenever that set changes.
func New(log *slog.Logger, onChange func(components []string)) *Tracker {
	return &Tracker{log: log, onChange: onChange, problems: map[string]string{}}
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

// Problem records what is wrong with a component, in words that say how to
// fix it.
func (t *Tracker) Problem(component, reason string) {
	t.mu.Lock()
	old, had := t.problems[component]
	t.problems[component] = reason
	t.mu.Unlock()
	if !had || old != reason {
		t.log.Error("needs a person: "+component, "problem", reason)
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

// Problems returns a copy of the current problems by component.
func (t *Tracker) Problems() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.problems)
}
