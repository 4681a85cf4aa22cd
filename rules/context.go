package rules

import (
	"context"
	"time"
)

// Slot is a running job's hold on one of the worker's slots.
type Slot interface {
	// Yield gives the slot up while the job waits for other jobs to join
	// its call; another job may be claimed meanwhile and join it.
	Yield()
	// Busy says how many other jobs hold slots now: they may still join.
	Busy() int
	// Holding says the job still holds its slot and the worker goes on:
	// the job may claim the next one as it completes.
	Holding() bool
}

// NoSlot is the slot of a job run outside a worker's loop: it never gives
// anything up and sees no other job.
type NoSlot struct{}

func (NoSlot) Yield()        {}
func (NoSlot) Busy() int     { return 0 }
func (NoSlot) Holding() bool { return false }

type jobKey struct{}

// JobRef names the job (and its order) a call is made for, so the audit log
// can say which work each outbound call served.
type JobRef struct {
	// Shop names the shop whose job it is (empty: the default shop).
	Shop           string
	JobID, OrderID int64
	// Run names the job's run (its claim token): a job tried again is
	// another run.
	Run string
}

// WithJob returns a context whose calls are made for a job.
func WithJob(ctx context.Context, ref JobRef) context.Context {
	return context.WithValue(ctx, jobKey{}, ref)
}

// JobOf returns the job a call is made for (zero outside a job).
func JobOf(ctx context.Context) JobRef {
	ref, _ := ctx.Value(jobKey{}).(JobRef)
	return ref
}

// Call is one outbound call to Zoom or WooCommerce, as the audit log keeps
// it: the path never carries a query (the shop's OAuth signature and key are
// sent there).
type Call struct {
	ID        int64
	At        time.Time
	Service   string // zoom or woocommerce
	Operation string // method and route with ids replaced
	Method    string
	Path      string
	Status    int    // 0: no answer
	Code      string // Zoom's or WooCommerce's error code, if any
	Duration  time.Duration
	JobRef
}
