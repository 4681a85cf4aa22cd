package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// BenchmarkClaimWhileIngesting: how fast the worker's claim+complete runs
// while four webhook handlers store deliveries as fast as they can. It is a
// figure, not an assertion, except that a claim must not fail on a lock:
//
//	go test -run '^$' -bench ClaimWhileIngesting -benchtime 300x -count 6 ./store
func BenchmarkClaimWhileIngesting(b *testing.B) {
	db, _ := open(b)
	ctx := context.Background()
	for i := range 2000 {
		db.RecordDelivery(ctx, rules.Delivery{DeliveryID: fmt.Sprint("seed", i), Topic: "order.updated", OrderID: int64(i), Body: []byte(fmt.Sprint(i))})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ingested atomic.Int64
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: fmt.Sprint(g, "-", i), Topic: "order.updated", OrderID: int64(10000 + i), Body: []byte(fmt.Sprint(g, i))}); err == nil {
					ingested.Add(1)
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		j, ok, err := db.ClaimJob(ctx, time.Minute)
		if err != nil || !ok {
			b.Fatalf("claim while ingesting: ok=%v err=%v", ok, err)
		}
		if err := db.CompleteJob(ctx, j, "ok"); err != nil {
			b.Fatalf("complete while ingesting: %v", err)
		}
	}
	b.StopTimer()
	el := time.Since(start)
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(ingested.Load())/el.Seconds(), "ingest/s")
}
