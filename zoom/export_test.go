package zoom

import "time"

// SetTokenClock lets tests move a token source's clock.
func SetTokenClock(ts *TokenSource, now func() time.Time) { ts.now = now }
