package main

import (
	"fmt"

	"github.com/gofrs/flock"
)

// queueLock is held by the one process that works the job queue of a
// database. Seats are locked per process (worker.seatLocks), so a second
// worker process, a backfill beside a running sidecar, could otherwise
// decide about a seat at the same time. The OS lets go of the lock when the
// process dies, so a restart after a crash never waits for it.
func queueLock(database string) *flock.Flock {
	return flock.New(database + queueLockSuffix)
}

const queueLockSuffix = ".worker.lock"

// tryQueueLock takes the queue lock if no other process holds it.
func tryQueueLock(l *flock.Flock) (bool, error) {
	ok, err := l.TryLock()
	if err != nil {
		return false, fmt.Errorf("lock the job queue (%s): %w", l.Path(), err)
	}
	return ok, nil
}
