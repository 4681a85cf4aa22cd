package store

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/woozoom/woozoom/rules"
)

func delivery(id string) rules.Delivery {
	return rules.Delivery{DeliveryID: id, Topic: "order.updated", OrderID: 7, Body: []byte(`{"id":7,"n":"` + id + `"}`)}
}

// Concurrent deliveries share commits, and each call returns only once its
// rows are committed: another connection sees them at that moment.
func contractGroupCommitAnswersAfterItsCommit(t *testing.T, open opener) {
	db, file := open(t)
	ctx := context.Background()
	second, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	other := second.db
	const n = 400
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, isNew, err := db.RecordDelivery(ctx, delivery(fmt.Sprint("d", i)))
			if err != nil || !isNew {
				t.Errorf("delivery %d: new=%v err=%v", i, isNew, err)
				return
			}
			var jobs int
			if err := other.QueryRow(`SELECT COUNT(*) FROM jobs WHERE delivery = ?`, id).Scan(&jobs); err != nil || jobs != 1 {
				t.Errorf("delivery %d answered before its commit: %d jobs visible (%v)", i, jobs, err)
			}
		})
	}
	wg.Wait()
	if b := db.ingest.batches.Load(); b >= n {
		t.Errorf("%d commits for %d concurrent deliveries: nothing was grouped", b, n)
	} else {
		t.Logf("%d deliveries in %d commits", n, b)
	}
	// An exact repeat is recognised, in a batch or later.
	if _, isNew, err := db.RecordDelivery(ctx, delivery("d1")); err != nil || isNew {
		t.Errorf("repeat: new=%v err=%v", isNew, err)
	}
}

// A batch that cannot commit fails its own requests only, stores none of
// them, and the next batch goes through.
func TestFailedBatchFailsOnlyItself(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	if _, err := db.db.Exec(`CREATE TRIGGER poison BEFORE INSERT ON deliveries WHEN NEW.delivery_id = 'poison'
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	first := true
	db.ingest.beforeCommit = func([]*pendingDelivery) {
		if first {
			first = false
			close(entered)
			<-release // hold the first batch until the second is queued
		}
	}
	type res struct {
		id    string
		isNew bool
		err   error
	}
	results := make(chan res, 4)
	send := func(id string) {
		_, isNew, err := db.RecordDelivery(ctx, delivery(id))
		results <- res{id, isNew, err}
	}
	go send("a1")
	<-entered // the writer holds a batch of a1 alone
	for _, id := range []string{"poison", "b1", "b2"} {
		go send(id)
	}
	for len(db.ingest.queue) != 3 {
		runtime.Gosched()
	}
	close(release)
	got := map[string]res{}
	for range 4 {
		r := <-results
		got[r.id] = r
	}
	if r := got["a1"]; r.err != nil || !r.isNew {
		t.Errorf("a1, in its own batch: %+v", r)
	}
	for _, id := range []string{"poison", "b1", "b2"} {
		if got[id].err == nil {
			t.Errorf("%s, in the failed batch, was answered as stored", id)
		}
	}
	n, err := db.CountDeliveries(ctx)
	if err != nil || n != 1 {
		t.Errorf("%d deliveries stored (%v), want only a1", n, err)
	}
	if _, isNew, err := db.RecordDelivery(ctx, delivery("b1")); err != nil || !isNew {
		t.Errorf("b1 again, alone: new=%v err=%v", isNew, err)
	}
}

// Close commits what was queued; later deliveries are refused, not lost.
func contractCloseCommitsQueuedDeliveries(t *testing.T, open opener) {
	db, file := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 200 {
		wg.Go(func() {
			if _, _, err := db.RecordDelivery(ctx, delivery(fmt.Sprint("c", i))); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	closeErr := db.Close()
	wg.Wait()
	if closeErr != nil {
		t.Fatal(closeErr)
	}
	again, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	n, _ := again.CountDeliveries(ctx)
	if n != ok {
		t.Errorf("%d deliveries answered as stored, %d in the database", ok, n)
	}
}
