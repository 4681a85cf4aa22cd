package worker

import (
	"math/rand/v2"
	"time"
)

// Backoff bounds.
const (
	backoffBase = 10 * time.Second
	backoffMax  = 30 * time.Minute
)

// Backoff is the wait before the next try of a job that failed attempt
// times: doubling from 10 s, capped at 30 min, spread by jitter in [-1, 1]
// as ±20 %. A job is never dropped for failing long: it keeps its place at
// the cap until the fault clears.
func Backoff(attempt int, jitter float64) time.Duration {
	return BackoffWith(backoffBase, backoffMax, attempt, jitter)
}

// BackoffWith is Backoff with other bounds.
func BackoffWith(base, ceiling time.Duration, attempt int, jitter float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	jitter = max(-1, min(1, jitter))
	return d + time.Duration(float64(d)*0.2*jitter)
}

func jitter() float64 { return rand.Float64()*2 - 1 }
