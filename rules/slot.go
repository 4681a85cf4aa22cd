package rules

import "context"

// Slot is a running job's hold on one of the worker's slots.
type Slot interface {
	// Yield gives the slot up while the job waits for other jobs to join
	// its call; another job may be claimed meanwhile and join it.
	Yield()
	// Busy says how many other jobs hold slots now: they may still join.
	Busy() int
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

// Busy says how many other jobs are being worked and may still join a call;
// 0 outside a worker.
func Busy(ctx context.Context) int {
	if s, ok := ctx.Value(slotKey{}).(Slot); ok {
		return s.Busy()
	}
	return 0
}
