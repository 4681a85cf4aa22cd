package admin

import (
	"testing"
	"time"
)

// Clients whose window has passed are forgotten, so a scan of many
// addresses does not grow the table for ever.
func TestLimiterSweepsOldClients(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l := newLimiter(5, 15*time.Minute, 1)
	l.now = func() time.Time { return now }
	for i := range 100 {
		l.attempt(clientKey("198.51.100." + string(rune('0'+i%10)) + string(rune('0'+i/10))))
	}
	if n := l.clients(); n != 100 {
		t.Fatalf("remembers %d clients, want 100", n)
	}
	now = now.Add(16 * time.Minute)
	if wait := l.attempt("203.0.113.1"); wait != 0 {
		t.Errorf("a new client waits %s", wait)
	}
	if n := l.clients(); n != 1 {
		t.Errorf("after the window: remembers %d clients, want 1 (the new one)", n)
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":            "203.0.113.9",
		"::ffff:203.0.113.9":     "203.0.113.9",
		"2001:db8:0:7::1":        "2001:db8:0:7::/64",
		"2001:db8:0:7:ffff::abc": "2001:db8:0:7::/64",
		"not an address":         "not an address",
	} {
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
