package worker_test

import (
	"testing"
	"time"

	"github.com/woozoom/woozoom/worker"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 0, 10 * time.Second},
		{2, 0, 20 * time.Second},
		{5, 0, 160 * time.Second},
		{9, 0, 30 * time.Minute},
		{500, 0, 30 * time.Minute},
		{1, 1, 12 * time.Second},
		{1, -1, 8 * time.Second},
		{1, 7, 12 * time.Second}, // jitter is clamped
		{0, 0, 10 * time.Second},
	} {
		if got := worker.Backoff(tc.attempt, tc.jitter); got != tc.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tc.attempt, tc.jitter, got, tc.want)
		}
	}
}
