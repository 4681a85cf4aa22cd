package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
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
