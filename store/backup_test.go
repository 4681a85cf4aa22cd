package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/woozoom/woozoom/rules"
)

// The copy is consistent and complete while another writer keeps writing.
func TestBackupWhileWriting(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	record := func(i int) error {
		_, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: fmt.Sprint("d", i), Topic: "order.updated", OrderID: int64(i), Body: []byte(fmt.Sprintf(`{"id":%d}`, i))})
		return err
	}
	for i := range 500 {
		if err := record(i); err != nil {
			t.Fatal(err)
		}
	}
	var written atomic.Int64
	written.Store(500)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 500; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := record(i); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	})
	file := filepath.Join(t.TempDir(), "backup.db")
	pages, err := db.Backup(ctx, file)
	close(stop)
	wg.Wait()
	total := written.Load()
	if err != nil {
		t.Fatal(err)
	}
	if pages == 0 {
		t.Error("backup copied no pages")
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want owner-only", err, st.Mode())
	}
	cp, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	n, err := cp.CountDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 500 || int64(n) > total {
		t.Errorf("copy holds %d deliveries; want at least the 500 before it and at most the %d written in all", n, total)
	}
	jobs, err := cp.JobCounts(ctx)
	if err != nil || jobs[rules.JobQueued] != n {
		t.Errorf("copy holds %v jobs for %d deliveries (%v): delivery and job are committed together", jobs, n, err)
	}
	if _, err := db.Backup(ctx, file); err == nil {
		t.Error("backup overwrote an existing file")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*tmp")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
