package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store/pgtest"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE a = ? AND b = ?`, `SELECT a FROM t WHERE a = $1 AND b = $2`},
		{`SELECT '?' || ? FROM t WHERE "we?rd" = ?`, `SELECT '?' || $1 FROM t WHERE "we?rd" = $2`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{"SELECT ? -- who? what?\n, ?", "SELECT $1 -- who? what?\n, $2"},
		{`SELECT id FROM jobs INDEXED BY jobs_resource WHERE resource = ?`, `SELECT id FROM jobs WHERE resource = $1`},
		{`SELECT 'open ?`, `SELECT 'open ?`},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedactedHidesThePassword(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/var/lib/woozoom/woozoom.db", "/var/lib/woozoom/woozoom.db"},
		{"postgres://wz:s3cret@db:5432/woozoom?sslmode=require", "postgres://wz:xxxxx@db:5432/woozoom?sslmode=require"},
		{"postgresql://wz@db/woozoom?password=s3cret", "postgresql://wz@db/woozoom?password=xxxxx"},
	} {
		got := Redacted(c.in)
		if got != c.want || strings.Contains(got, "s3cret") {
			t.Errorf("Redacted(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func contractBackupSaysWhatToUse(t *testing.T, open opener) {
	db, where := open(t)
	file := filepath.Join(t.TempDir(), "copy.db")
	_, err := db.Backup(context.Background(), file)
	if IsPostgres(where) {
		if !errors.Is(err, ErrBackupOnServer) || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %v, want the pointer to pg_dump", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("backup on SQLite: %v", err)
	}
}

// Replicas starting together on one new PostgreSQL database migrate it
// once: the others wait for the first's advisory lock.
func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	url := cluster.Get(t).NewDatabase(t)
	ctx := context.Background()
	type opened struct {
		db  *DB
		err error
	}
	results := make(chan opened, 4)
	for range 4 {
		go func() {
			db, err := Open(ctx, url)
			results <- opened{db, err}
		}()
	}
	var db *DB
	for range 4 {
		r := <-results
		if r.err != nil {
			t.Fatalf("a replica's start: %v", r.err)
		}
		t.Cleanup(func() { r.db.Close() })
		db = r.db
	}
	var versions, tables int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) - COUNT(DISTINCT version) + 1 FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'deliveries'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if versions != 1 || tables != 1 {
		t.Fatalf("each migration applied %d times and %d deliveries tables after 4 replicas started, want 1 and 1", versions, tables)
	}
}

// A process hears at once that another queued work, and hears again after
// the server came back from a restart.
func TestOtherProcessesHearOfNewWork(t *testing.T) {
	c := pgtest.Own(t) // its own: this test restarts the server
	url := c.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writer, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	listener, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	woken := make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		listener.Listen(ctx, func() { woken <- struct{}{} }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	heard := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatalf("the other process did not hear of %s", what)
		}
	}
	heard("its own start (work queued before it listened)")
	if _, _, err := writer.RecordDelivery(ctx, delivery("n1")); err != nil {
		t.Fatal(err)
	}
	heard("a delivery")
	if _, _, err := writer.RecordDelivery(ctx, delivery("n1")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
		t.Error("woken by an exact repeat, which queues nothing")
	case <-time.After(300 * time.Millisecond):
	}
	if err := c.Down(); err != nil {
		t.Fatal(err)
	}
	if err := c.Up(); err != nil {
		t.Fatal(err)
	}
	heard("the server's return")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, err := writer.RecordDelivery(ctx, delivery("n2")); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no delivery stored after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	heard("a delivery after the restart")
	cancel()
	<-done
}

// Replicas claim side by side on PostgreSQL, and still never run two jobs
// of one resource at once: two processes, eight claimers each, working a
// queue of 240 jobs over 12 orders and products.
func TestReplicasNeverRunTwoJobsOfOneResource(t *testing.T) {
	url := cluster.Get(t).NewDatabase(t)
	ctx := context.Background()
	var dbs []*DB
	for range 2 {
		db, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	for i := range 240 {
		d := rules.Delivery{DeliveryID: fmt.Sprint("r", i), Topic: "order.updated", OrderID: int64(1 + i%12), Body: []byte(fmt.Sprint(i))}
		if i%12 >= 8 {
			d.OrderID, d.Topic, d.Key = 0, "product.updated", rules.ProductKey(int64(i%12))
		}
		if _, _, err := dbs[i%2].RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	running := map[rules.Key]int{}
	overlaps, done := 0, 0
	var wg sync.WaitGroup
	for w := range 16 {
		db := dbs[w%2]
		wg.Go(func() {
			for {
				j, ok, err := db.ClaimJob(ctx, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				running[j.Key]++
				if running[j.Key] > 1 {
					overlaps++
				}
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				running[j.Key]--
				done++
				mu.Unlock()
				if err := db.CompleteJob(ctx, j, "ok"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if overlaps > 0 || done != 240 {
		t.Fatalf("%d jobs of a resource ran beside another of it; %d of 240 jobs done", overlaps, done)
	}
}
