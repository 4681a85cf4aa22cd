package worker

import (
	"testing"
	"time"
)

// An outage of the database begins at its first failure and ends only
// once the database has answered for a second: answers between failures
// while a server shuts down do not end it.
func TestOutageEndsAfterASecondOfAnswers(t *testing.T) {
	var o outage
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		at     time.Duration
		failed bool
		want   bool // begins (failed) or ends (answered)
	}{
		{0, false, false},
		{10 * time.Millisecond, true, true},
		{20 * time.Millisecond, false, false}, // a session that still answers
		{30 * time.Millisecond, true, false},  // the same outage
		{500 * time.Millisecond, false, false},
		{1100 * time.Millisecond, false, true},
		{1200 * time.Millisecond, false, false},
		{2 * time.Second, true, true},
	}
	for _, s := range steps {
		var got bool
		if s.failed {
			got = o.failed(t0.Add(s.at))
		} else {
			got = o.answered(t0.Add(s.at))
		}
		if got != s.want {
			t.Errorf("at %s (failed %v): %v, want %v", s.at, s.failed, got, s.want)
		}
	}
}
