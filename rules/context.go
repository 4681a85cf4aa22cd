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

type slotKey struct{}

// WithSlot returns a context that carries the job's slot.
func WithSlot(ctx context.Context, s Slot) context.Context {
	return context.WithValue(ctx, slotKey{}, s)
}

// Yield gives up the job's slot, if it has one, before it waits for others
// to join its call (status changes are gathered across orders).
func Yield(ctx context.Context) {
	if s, ok := ctx.Value(slotKey{}).(Slot); ok {
		s.Yield()
	}
}

// Holding reports whether the job holds a worker slot that may take the
// next job; false outside a worker.
func Holding(ctx context.Context) bool {
	if s, ok := ctx.Value(slotKey{}).(Slot); ok {
		return s.Holding()
	}
	return false
}

// Busy says how many other jobs are being worked and may still join a call;
// 0 outside a worker.
func Busy(ctx context.Context) int {
	if s, ok := ctx.Value(slotKey{}).(Slot); ok {
		return s.Busy()
	}
	return 0
}

type jobKey struct{}

// JobRef names the job (and its order) a call is made for, so the audit log
// can say which work each outbound call served.
type JobRef struct{ JobID, OrderID int64 }

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
