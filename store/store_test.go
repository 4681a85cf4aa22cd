package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/woozoom/woozoom/rules"
)

func open(t testing.TB) (*DB, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "woozoom.db")
	db, err := Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, file
}

func TestOpenOwnerOnlyAndReopens(t *testing.T) {
	db, file := open(t)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode = %o, want 600", perm)
	}
	db.Close()
	db2, err := Open(context.Background(), file)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db2.Close()
}

func contractOpenRefusesNewerSchema(t *testing.T, open opener) {
	db, file := open(t)
	if _, err := db.db.Exec(`INSERT INTO schema_version (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(context.Background(), file); err == nil {
		t.Fatal("Open accepted a schema newer than it knows")
	}
}

func contractRecordDeliveryDedupesOnIDAndBody(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	a := rules.Delivery{DeliveryID: "d1", Topic: "order.updated", OrderID: 1, Body: []byte(`{"id":1}`)}
	b := rules.Delivery{DeliveryID: "d1", Topic: "order.updated", OrderID: 2, Body: []byte(`{"id":2}`)}

	id1, new1, err := db.RecordDelivery(ctx, a)
	if err != nil || !new1 {
		t.Fatalf("first delivery: new=%v err=%v", new1, err)
	}
	id2, new2, err := db.RecordDelivery(ctx, a)
	if err != nil || new2 || id2 != id1 {
		t.Fatalf("exact repeat: id=%d new=%v err=%v, want id %d and not new", id2, new2, err, id1)
	}
	_, new3, err := db.RecordDelivery(ctx, b)
	if err != nil || !new3 {
		t.Fatalf("same Delivery-ID, other body: new=%v err=%v, want a new delivery", new3, err)
	}
	counts, _ := db.JobCounts(ctx)
	if counts[rules.JobQueued] != 2 {
		t.Errorf("queued jobs = %d, want 2", counts[rules.JobQueued])
	}
	got, err := db.Delivery(ctx, id1)
	if err != nil || string(got.Body) != `{"id":1}` || got.OrderID != 1 {
		t.Errorf("Delivery(%d) = %+v, %v", id1, got, err)
	}
}

func contractClaimSerialisesPerOrder(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	for i, order := range []int64{7, 7, 8} {
		if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", OrderID: order, Body: []byte{byte('a' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	j1, ok, err := db.ClaimJob(ctx, time.Minute)
	if err != nil || !ok || j1.OrderID != 7 || j1.Attempts != 1 {
		t.Fatalf("first claim = %+v ok=%v err=%v", j1, ok, err)
	}
	j2, ok, _ := db.ClaimJob(ctx, time.Minute)
	if !ok || j2.OrderID != 8 {
		t.Fatalf("second claim = %+v ok=%v, want order 8 (order 7 is running)", j2, ok)
	}
	if _, ok, _ := db.ClaimJob(ctx, time.Minute); ok {
		t.Fatal("claimed a second job of order 7 while one runs")
	}
	if err := db.CompleteJob(ctx, j1, "registered 1"); err != nil {
		t.Fatal(err)
	}
	j3, ok, _ := db.ClaimJob(ctx, time.Minute)
	if !ok || j3.OrderID != 7 || j3.ID == j1.ID {
		t.Fatalf("third claim = %+v ok=%v, want the other job of order 7", j3, ok)
	}
}

func contractClaimConcurrentClaimsNoJobTwice(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	const n = 50
	for i := range n {
		if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", OrderID: int64(i + 1), Body: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
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
				seen[j.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("job %d claimed %d times", id, c)
		}
	}
}

func contractLeaseExpiryRetryAndFail(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", OrderID: 1, Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	j, _, _ := db.ClaimJob(ctx, time.Minute)
	if n, _ := db.RequeueExpired(ctx); n != 0 {
		t.Fatalf("requeued %d jobs before the lease ran out", n)
	}
	now = now.Add(2 * time.Minute) // the worker died
	if n, _ := db.RequeueExpired(ctx); n != 1 {
		t.Fatalf("requeued %d jobs after the lease ran out, want 1", n)
	}
	j, ok, _ := db.ClaimJob(ctx, time.Minute)
	if !ok || j.Attempts != 2 {
		t.Fatalf("claim after requeue = %+v ok=%v, want attempt 2", j, ok)
	}
	if err := db.RetryJob(ctx, j, now.Add(time.Hour), rules.NotWaiting, "zoom: 503"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.ClaimJob(ctx, time.Minute); ok {
		t.Fatal("claimed a job before its retry time")
	}
	if ids, _ := db.WaitingJobs(ctx); len(ids) != 1 || ids[0] != j.ID {
		t.Errorf("waiting jobs = %v, want [%d]", ids, j.ID)
	}
	now = now.Add(2 * time.Hour)
	j, ok, _ = db.ClaimJob(ctx, time.Minute)
	if !ok {
		t.Fatal("job not claimable at its retry time")
	}
	if err := db.FailJob(ctx, j, "meeting 1 does not exist"); err != nil {
		t.Fatal(err)
	}
	failed, _ := db.Jobs(ctx, rules.JobFailed, 10)
	if len(failed) != 1 || failed[0].LastError != "meeting 1 does not exist" {
		t.Fatalf("failed jobs = %+v", failed)
	}
	if err := db.RunJobNow(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.RunJobNow(ctx, j.ID); err == nil {
		t.Error("running now a job that is already due succeeded")
	}
	if j, ok, _ = db.ClaimJob(ctx, time.Minute); !ok || j.Attempts != 1 {
		t.Fatalf("claim after admin retry = %+v ok=%v", j, ok)
	}
	if err := db.ReleaseJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if j, ok, _ := db.ClaimJob(ctx, time.Minute); !ok || j.Attempts != 1 {
		t.Fatalf("a released job's attempt counted: %+v ok=%v", j, ok)
	}
}

func contractRegistrationsSeatsAndHolders(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	mtg := rules.Target{Kind: rules.Meeting, ID: 85746065123}
	rita := rules.Person{FirstName: "Rita", LastName: "Doro", Email: "rita.doro@example.org"}
	key := rules.SeatKey{Target: mtg, Email: rita.Email}
	r1 := rules.Registration{OrderID: 1, LineItemID: 11, Target: mtg, Attendee: rita, State: rules.Active}
	r2 := rules.Registration{OrderID: 2, LineItemID: 21, Target: mtg, Attendee: rita, State: rules.Active}
	if err := db.SaveRegistrations(ctx, []rules.Registration{r1, r2}); err != nil {
		t.Fatal(err)
	}
	held, _ := db.HeldElsewhere(ctx, 1, []rules.SeatKey{key})
	if !held[key] {
		t.Error("order 2's active registration does not count as held elsewhere for order 1")
	}
	r2.State = rules.Cancelled
	if err := db.SaveRegistrations(ctx, []rules.Registration{r2}); err != nil {
		t.Fatal(err)
	}
	held, _ = db.HeldElsewhere(ctx, 1, []rules.SeatKey{key})
	if held[key] {
		t.Error("a cancelled registration counts as held")
	}
	got, err := db.Registrations(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rules.Registration{r2}, got, cmpopts.IgnoreFields(rules.Registration{}, "UpdatedAt")); diff != "" {
		t.Errorf("Registrations(2) (-want +got)\n%s", diff)
	}

	seats, _ := db.Seats(ctx, []rules.SeatKey{key})
	if len(seats) != 0 {
		t.Fatalf("unknown seat returned: %+v", seats)
	}
	s := rules.Seat{SeatKey: key, RegistrantID: "abc", JoinURL: "https://zoom.us/w/1?tk=x", Status: rules.SeatApproved}
	if err := db.SaveSeats(ctx, s); err != nil {
		t.Fatal(err)
	}
	// A status update carries no join URL; the known one is kept.
	if err := db.SaveSeats(ctx, rules.Seat{SeatKey: key, RegistrantID: "abc", Status: rules.SeatDenied}); err != nil {
		t.Fatal(err)
	}
	seats, _ = db.Seats(ctx, []rules.SeatKey{key})
	s.Status = rules.SeatDenied
	if diff := cmp.Diff(s, seats[key]); diff != "" {
		t.Errorf("seat (-want +got)\n%s", diff)
	}
}

func contractUnsettledSeats(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	mtg := rules.Target{Kind: rules.Meeting, ID: 85746065123}
	a := rules.SeatKey{Target: mtg, Email: "a@example.org"}
	b := rules.SeatKey{Target: mtg, Email: "b@example.org"}
	c := rules.SeatKey{Target: rules.Target{Kind: rules.Webinar, ID: 9}, Email: "a@example.org"}
	if err := db.BeginSeatChange(ctx, a, b, c); err != nil {
		t.Fatal(err)
	}
	if err := db.BeginSeatChange(ctx, a); err != nil { // a second try of the same change
		t.Fatal(err)
	}
	got, err := db.UnsettledSeats(ctx, []rules.SeatKey{a, b, c})
	if err != nil || len(got) != 3 {
		t.Fatalf("UnsettledSeats after three changes began = %v, %v", got, err)
	}
	// The answer read: the seat is saved and no longer uncertain.
	if err := db.SaveSeats(ctx, rules.Seat{SeatKey: a, RegistrantID: "r1", Status: rules.SeatApproved}); err != nil {
		t.Fatal(err)
	}
	// A refusal read: Zoom holds nothing.
	if err := db.EndSeatChange(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, _ = db.UnsettledSeats(ctx, []rules.SeatKey{a, b, c})
	if diff := cmp.Diff([]rules.SeatKey{b}, got); diff != "" {
		t.Errorf("unsettled seats (-want +got)\n%s", diff)
	}
}

func contractMappingsConfigSync(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	a := rules.Mapping{ProductID: 10, Target: rules.Target{Kind: rules.Meeting, ID: 1}}
	b := rules.Mapping{ProductID: 11, VariationID: 3, Target: rules.Target{Kind: rules.Webinar, ID: 2}}
	c := rules.Mapping{ProductID: 12, Target: rules.Target{Kind: rules.Meeting, ID: 3}}
	day2 := rules.Mapping{ProductID: 12, Day: 2, Slot: "3/1698", Target: rules.Target{Kind: rules.Meeting, ID: 4}, Occurrences: "1700000000000"}
	if added, _ := db.AddMapping(ctx, c, FromCLI); !added {
		t.Fatal("AddMapping did not add")
	}
	if added, _ := db.AddMapping(ctx, c, FromCLI); added {
		t.Error("AddMapping added a duplicate")
	}
	if added, _ := db.AddMapping(ctx, day2, FromCLI); !added {
		t.Error("a mapping for a day, slot and occurrence of the same product was not added")
	}
	if err := db.SyncConfigMappings(ctx, []rules.Mapping{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncConfigMappings(ctx, []rules.Mapping{b}); err != nil {
		t.Fatal(err)
	}
	ms, _ := db.Mappings(ctx)
	if diff := cmp.Diff([]rules.Mapping{b, c, day2}, RulesMappings(ms)); diff != "" {
		t.Errorf("mappings after config sync (-want +got)\n%s", diff)
	}
	if removed, _ := db.RemoveMapping(ctx, c); !removed {
		t.Error("RemoveMapping did not remove")
	}
	if removed, _ := db.RemoveMapping(ctx, rules.Mapping{ProductID: 12, Day: 2, Target: day2.Target}); removed {
		t.Error("RemoveMapping removed a mapping whose slot and occurrences differ")
	}
}

func contractOrderStateAndTargetDetails(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	if _, ok, _ := db.OrderState(ctx, 5); ok {
		t.Fatal("unknown order has a state")
	}
	mod := time.Date(2026, 11, 22, 16, 45, 50, 0, time.UTC)
	if err := db.SaveOrderState(ctx, 5, rules.AppliedOrder{Status: "completed", Modified: mod, NoteDigest: "x"}); err != nil {
		t.Fatal(err)
	}
	st, ok, _ := db.OrderState(ctx, 5)
	if !ok || !st.Modified.Equal(mod) || st.Status != "completed" || st.NoteDigest != "x" {
		t.Errorf("OrderState = %+v ok=%v", st, ok)
	}
	td := rules.TargetDetails{Target: rules.Target{Kind: rules.Webinar, ID: 9}, Topic: "Restoring", StartTime: mod, Duration: 60, Passcode: "p"}
	if err := db.SaveTargetDetails(ctx, td); err != nil {
		t.Fatal(err)
	}
	got, ok, _ := db.TargetDetails(ctx, td.Target, time.Now().Add(-time.Minute))
	if !ok || !cmp.Equal(td, got) {
		t.Errorf("TargetDetails = %+v ok=%v, want %+v", got, ok, td)
	}
	if _, ok, _ := db.TargetDetails(ctx, td.Target, time.Now().Add(time.Minute)); ok {
		t.Error("stale details returned as fresh")
	}
}

func contractCheckpointOnlyMovesForward(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	if _, ok, _ := db.Checkpoint(ctx, "reconcile"); ok {
		t.Fatal("unsaved checkpoint found")
	}
	t1 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	db.SaveCheckpoint(ctx, "reconcile", t1)
	db.SaveCheckpoint(ctx, "reconcile", t1.Add(-time.Hour))
	if at, ok, _ := db.Checkpoint(ctx, "reconcile"); !ok || !at.Equal(t1) {
		t.Errorf("checkpoint = %v %v, want %v (never moved back)", at, ok, t1)
	}
}

func TestMigrationKeepsOldMappings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "old.db")
	db, err := Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := rules.Mapping{ProductID: 10, Target: rules.Target{Kind: rules.Meeting, ID: 5}}
	db.AddMapping(ctx, m, FromCLI)
	// Roll the schema back to version 2 by hand, as an older woozoom left it.
	rollBack(t, db, 15)
	for _, q := range []string{
		`DROP TABLE mappings`,
		`CREATE TABLE mappings (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, variation_id INTEGER NOT NULL DEFAULT 0,
			target_kind TEXT NOT NULL, target_id INTEGER NOT NULL, source TEXT NOT NULL, created_at INTEGER NOT NULL,
			UNIQUE (product_id, variation_id, target_kind, target_id))`,
		`INSERT INTO mappings (product_id, variation_id, target_kind, target_id, source, created_at) VALUES (10, 0, 'meeting', 5, 'cli', 1)`,
		`DELETE FROM schema_version WHERE version >= 3`,
		`DROP INDEX registrations_product`,
		`ALTER TABLE registrations DROP COLUMN product_id`,
		`ALTER TABLE orders DROP COLUMN meta_digest`,
		`ALTER TABLE orders DROP COLUMN meta_basis`,
		`DROP TABLE unsettled_seats`,
		`DROP TABLE calls`,
		`DROP TABLE broken_targets`,
		`DROP INDEX registrations_calendar`,
		`ALTER TABLE registrations DROP COLUMN calendar_token`,
		`ALTER TABLE targets DROP COLUMN sequence`,
		`ALTER TABLE targets DROP COLUMN occurrences`,
		`ALTER TABLE registrations DROP COLUMN email_typed`,
		`DROP TABLE made_meetings`,
		`DROP TABLE host_usage`,
	} {
		if _, err := db.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db, err = Open(ctx, file)
	if err != nil {
		t.Fatalf("migrating a version-2 database: %v", err)
	}
	defer db.Close()
	ms, _ := db.ActiveMappings(ctx)
	if diff := cmp.Diff([]rules.Mapping{m}, ms); diff != "" {
		t.Errorf("mappings after migration (-want +got)\n%s", diff)
	}
}

// Before registrations said why they ended, a registration a Zoom host
// cancelled was known by its error text; the migration reads it once.
func TestEndReasonsMigratedFromErrorText(t *testing.T) {
	db, file := open(t)
	ctx := context.Background()
	m := rules.Target{Kind: rules.Meeting, ID: 5}
	rollBack(t, db, 15, `INSERT INTO registrations (order_id, line_item_id, target_kind, target_id, email, state, error, created_at, updated_at) VALUES
			(1, 1, 'meeting', 5, 'a@example.org', 'failed', 'cancelled in Zoom by host@shop.example', 1, 1),
			(1, 1, 'meeting', 5, 'b@example.org', 'failed', 'Zoom refused the email', 1, 1),
			(2, 1, 'meeting', 5, 'c@example.org', 'cancelled', 'meeting 5 was deleted with product 10', 1, 1),
			(3, 1, 'meeting', 5, 'd@example.org', 'cancelled', '', 1, 1)`)
	db.Close()
	db, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string][2]string{}
	for _, order := range []int64{1, 2, 3} {
		regs, _ := db.Registrations(ctx, order)
		for _, r := range regs {
			got[r.Attendee.Email] = [2]string{string(r.Ended), r.EndedBy}
		}
	}
	want := map[string][2]string{"a@example.org": {"zoom", "host@shop.example"}, "b@example.org": {}, "c@example.org": {"withdrawn", ""}, "d@example.org": {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ended after migration (-want +got)\n%s", diff)
	}
	if n, _ := db.RestoreRegistrations(ctx, 1); n != 1 {
		t.Errorf("restored %d, want the one a host cancelled", n)
	}
	if active, _ := db.ActiveRegistrationsOn(ctx, m, "a@example.org"); len(active) != 1 || active[0].Ended != rules.StillActive {
		t.Errorf("restored: %+v", active)
	}
}

// undo holds, by migration, what rolls the schema back before it, for
// tests that open a database as an older woozoom left it.
var undo = map[int][]string{
	15: {`ALTER TABLE registrations DROP COLUMN ended`, `ALTER TABLE registrations DROP COLUMN ended_by`},
	16: {`ALTER TABLE jobs DROP COLUMN wait_reason`},
	17: {`DROP INDEX jobs_resource`, `ALTER TABLE jobs DROP COLUMN resource`},
	18: {`DROP TABLE leases`, `ALTER TABLE jobs DROP COLUMN claim`},
	19: {`DROP TABLE product_meetings`},
	20: {`DROP TABLE zoom_pace`},
	21: nil, // an index made IF NOT EXISTS
	22: {`DROP TABLE turns`},
	23: {`DROP TABLE zoom_slots`},
	24: {`ALTER TABLE calls DROP COLUMN run`},
	25: {`ALTER TABLE mappings DROP COLUMN zoom_account`},
	26: {`DROP INDEX jobs_ready`, `CREATE INDEX jobs_ready ON jobs (state, run_at)`,
		`DROP INDEX jobs_resource`, `CREATE INDEX jobs_resource ON jobs (resource, state) WHERE resource != ''`,
		`DROP INDEX calls_order`, `CREATE INDEX calls_order ON calls (order_id) WHERE order_id != 0`,
		`ALTER TABLE deliveries DROP COLUMN shop`, `ALTER TABLE jobs DROP COLUMN shop`, `ALTER TABLE calls DROP COLUMN shop`,
		`CREATE TABLE r0 (order_id INTEGER NOT NULL, line_item_id INTEGER NOT NULL, target_kind TEXT NOT NULL, target_id INTEGER NOT NULL,
			email TEXT NOT NULL, first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL DEFAULT '',
			state TEXT NOT NULL CHECK (state IN ('active', 'cancelled', 'failed')), error TEXT NOT NULL DEFAULT '',
			created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, product_id INTEGER NOT NULL DEFAULT 0,
			calendar_token TEXT NOT NULL DEFAULT '', email_typed TEXT NOT NULL DEFAULT '', ended TEXT NOT NULL DEFAULT ''
			CHECK (ended IN ('', 'order_status', 'refund', 'change', 'withdrawn', 'zoom')), ended_by TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (order_id, target_kind, target_id, email))`,
		`INSERT INTO r0 SELECT order_id, line_item_id, target_kind, target_id, email, first_name, last_name, state, error, created_at,
			updated_at, product_id, calendar_token, email_typed, ended, ended_by FROM registrations`,
		`DROP TABLE registrations`, `ALTER TABLE r0 RENAME TO registrations`,
		`CREATE INDEX registrations_seat ON registrations (target_kind, target_id, email, state)`,
		`CREATE INDEX registrations_product ON registrations (product_id)`,
		`CREATE UNIQUE INDEX registrations_calendar ON registrations (calendar_token) WHERE calendar_token != ''`,
		`CREATE TABLE o0 (order_id INTEGER PRIMARY KEY, status TEXT NOT NULL, modified INTEGER NOT NULL, note_digest TEXT NOT NULL DEFAULT '',
			updated_at INTEGER NOT NULL, meta_digest TEXT NOT NULL DEFAULT '', meta_basis INTEGER NOT NULL DEFAULT 0)`,
		`INSERT INTO o0 SELECT order_id, status, modified, note_digest, updated_at, meta_digest, meta_basis FROM orders`,
		`DROP TABLE orders`, `ALTER TABLE o0 RENAME TO orders`,
		`CREATE TABLE m0 (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, variation_id INTEGER NOT NULL DEFAULT 0,
			day INTEGER NOT NULL DEFAULT 0, slot TEXT NOT NULL DEFAULT '', target_kind TEXT NOT NULL, target_id INTEGER NOT NULL,
			occurrence_ids TEXT NOT NULL DEFAULT '', source TEXT NOT NULL, created_at INTEGER NOT NULL, zoom_account TEXT NOT NULL DEFAULT '',
			UNIQUE (product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids))`,
		`INSERT INTO m0 SELECT id, product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids, source, created_at, zoom_account FROM mappings`,
		`DROP TABLE mappings`, `ALTER TABLE m0 RENAME TO mappings`,
		`CREATE TABLE mm0 (product_id INTEGER NOT NULL, day INTEGER NOT NULL DEFAULT 0, target_kind TEXT NOT NULL, host TEXT NOT NULL,
			ref TEXT NOT NULL, state TEXT NOT NULL, target_id INTEGER NOT NULL DEFAULT 0, digest TEXT NOT NULL DEFAULT '',
			orders_pending INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL, PRIMARY KEY (product_id, day))`,
		`INSERT INTO mm0 SELECT product_id, day, target_kind, host, ref, state, target_id, digest, orders_pending, updated_at FROM made_meetings`,
		`DROP TABLE made_meetings`, `ALTER TABLE mm0 RENAME TO made_meetings`,
		`CREATE INDEX made_meetings_target ON made_meetings (target_kind, target_id)`,
		`CREATE TABLE pm0 (product_id INTEGER PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
		`INSERT INTO pm0 SELECT product_id, state, updated_at FROM product_meetings`,
		`DROP TABLE product_meetings`, `ALTER TABLE pm0 RENAME TO product_meetings`},
	27: {`DROP TABLE attendance`, `DROP TABLE unmatched_participants`},
	28: {`DROP TABLE recordings`},
}

// rollBack takes the schema back to before migration from, then runs more
// (an older version's data).
func rollBack(t *testing.T, db *DB, from int, more ...string) {
	t.Helper()
	var qs []string
	for v := len(undo) + 14; v >= from; v-- {
		qs = append(qs, undo[v]...)
	}
	qs = append(qs, fmt.Sprintf(`DELETE FROM schema_version WHERE version >= %d`, from))
	for _, q := range append(qs, more...) {
		if _, err := db.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func contractExtendLease(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", OrderID: 1, Body: []byte("x")})
	j, _, _ := db.ClaimJob(ctx, time.Minute)
	now = now.Add(50 * time.Second)
	if ok, err := db.ExtendLease(ctx, j, time.Minute); !ok || err != nil {
		t.Fatalf("ExtendLease = %v, %v", ok, err)
	}
	now = now.Add(50 * time.Second) // past the first lease, within the renewed one
	if n, _ := db.RequeueExpired(ctx); n != 0 {
		t.Error("a renewed lease was taken back")
	}
	now = now.Add(time.Minute)
	if n, _ := db.RequeueExpired(ctx); n != 1 {
		t.Error("an expired lease was not taken back")
	}
	if ok, _ := db.ExtendLease(ctx, j, time.Minute); ok {
		t.Error("a job taken back could still be extended")
	}
}

// A job completes the queued jobs of its order that it stood for, with its
// own completion, and never another order's jobs or a job no longer queued.
func contractCompleteOrderJobFoldsOnlyItsOrdersQueuedJobs(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	var ids []int64
	for i, order := range []int64{7, 7, 7, 8} {
		if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", Topic: "order.updated", OrderID: order, Body: []byte{byte('a' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	j, ok, err := db.ClaimJob(ctx, time.Minute)
	if err != nil || !ok || j.OrderID != 7 {
		t.Fatalf("claim = %+v ok=%v err=%v", j, ok, err)
	}
	due, err := db.DueJobsOfOrder(ctx, 7, j.ID, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due jobs of order 7 = %+v, %v; want the 2 others", due, err)
	}
	for _, d := range due {
		ids = append(ids, d.ID)
	}
	// The last of them waits for a retry (not due) by the time it completes.
	if _, err := db.db.Exec(`UPDATE jobs SET run_at = ? WHERE id = ?`, time.Now().Add(time.Hour).UnixMilli(), ids[1]); err != nil {
		t.Fatal(err)
	}
	other, _, _ := db.ClaimJob(ctx, time.Minute) // order 8's job
	st := rules.AppliedOrder{Status: rules.StatusCompleted, Modified: time.UnixMilli(1000)}
	if err := db.CompleteOrderJob(ctx, j, "done", &st, append(ids, other.ID)); err != nil {
		t.Fatal(err)
	}
	jobs, _ := db.Jobs(ctx, "", 10)
	got := map[int64]string{}
	for _, x := range jobs {
		got[x.ID] = x.State
	}
	want := map[int64]string{j.ID: rules.JobDone, ids[0]: rules.JobDone, ids[1]: rules.JobDone, other.ID: rules.JobRunning}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("job states (-want +got):\n%s", diff)
	}
	if s, ok, _ := db.OrderState(ctx, 7); !ok || s.Status != rules.StatusCompleted {
		t.Errorf("order state = %+v, %v", s, ok)
	}
}

func contractCalendarTokenAndSequence(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	m := rules.Target{Kind: rules.Meeting, ID: 1}
	r := rules.Registration{OrderID: 7, Target: m, Attendee: rules.Person{Email: "a@example.org"}, State: rules.Active}
	if err := db.SaveRegistrations(ctx, []rules.Registration{r}); err != nil {
		t.Fatal(err)
	}
	tok, err := db.CalendarToken(ctx, r)
	if err != nil || len(tok) < 20 {
		t.Fatalf("token %q, %v", tok, err)
	}
	if again, _ := db.CalendarToken(ctx, r); again != tok {
		t.Errorf("the token changed: %q, then %q", tok, again)
	}
	// Saving the registration again (a later job) keeps its token.
	if err := db.SaveRegistrations(ctx, []rules.Registration{r}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.RegistrationByCalendar(ctx, tok)
	if err != nil || !ok || got.OrderID != 7 || got.Attendee.Email != "a@example.org" {
		t.Errorf("by token: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := db.RegistrationByCalendar(ctx, "nope"); ok {
		t.Error("an unknown token found a registration")
	}

	start := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	td := rules.TargetDetails{Target: m, Topic: "Tour", StartTime: start, Duration: 60}
	seq := func() int {
		d, _, _ := db.TargetDetails(ctx, m, time.Time{})
		return d.Sequence
	}
	db.SaveTargetDetails(ctx, td)
	db.SaveTargetDetails(ctx, td) // read again, unchanged
	if s := seq(); s != 0 {
		t.Errorf("sequence after an unchanged read = %d, want 0", s)
	}
	td.StartTime = start.Add(time.Hour)
	db.SaveTargetDetails(ctx, td)
	td.Topic = "Tour (new title)"
	db.SaveTargetDetails(ctx, td)
	if s := seq(); s != 2 {
		t.Errorf("sequence after a move and a rename = %d, want 2", s)
	}
}

func contractRequeueOrderAndRestore(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", Topic: "order.updated", OrderID: 7, Body: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	queued := func() int { c, _ := db.JobCounts(ctx); return c[rules.JobQueued] }
	// The queued delivery may be a stale view (skipped without a
	// write-back): a refresh, which reads the order now, is added once.
	if added, _ := db.RequeueOrder(ctx, 7); !added || queued() != 2 {
		t.Errorf("with a delivery's job queued: added %v, %d queued", added, queued())
	}
	if added, _ := db.RequeueOrder(ctx, 7); added || queued() != 2 {
		t.Errorf("with a refresh queued: added %v, %d queued", added, queued())
	}
	j, _, _ := db.ClaimJob(ctx, time.Minute)
	if _, ok, _ := db.ClaimJob(ctx, time.Minute); ok {
		t.Error("two jobs of one order ran at once")
	}
	db.CompleteJob(ctx, j, "done")
	r, _, _ := db.ClaimJob(ctx, time.Minute)
	del, err := db.Delivery(ctx, r.Delivery)
	if err != nil || r.OrderID != 7 || del.Topic != OrderRefreshTopic || string(del.Body) != `{"id":7}` {
		t.Errorf("the refresh: job %+v, delivery %+v, %v", r, del, err)
	}
	// A running one may have read the old state: one more runs after it.
	if added, _ := db.RequeueOrder(ctx, 7); !added || queued() != 1 {
		t.Errorf("with a job running: added %v, %d queued", added, queued())
	}
	db.CompleteJob(ctx, r, "done")
	// Many at once (every order of an ended webinar): one transaction,
	// an order with a refresh queued left as it is.
	if n, err := db.RequeueOrders(ctx, []int64{7, 8, 9}); err != nil || n != 2 || queued() != 3 {
		t.Errorf("RequeueOrders(7, 8, 9) with 7's queued: %d queued now (%v), %d in all", n, err, queued())
	}
	if n, err := db.Shop("academy").RequeueOrders(ctx, []int64{8}); err != nil || n != 1 {
		t.Errorf("another shop's order 8: %d queued (%v), want its own refresh", n, err)
	}
	// More than a transaction's batch: every one queued, once.
	many := make([]int64, 1201)
	for i := range many {
		many[i] = int64(1000 + i)
	}
	for try, want := range []int{1201, 0} { // the second finds every refresh queued
		if n, err := db.Shop("big").RequeueOrders(ctx, many); err != nil || n != want {
			t.Errorf("RequeueOrders of 1,201 orders, try %d: %d queued (%v), want %d", try+1, n, err, want)
		}
	}

	m := rules.Target{Kind: rules.Meeting, ID: 1}
	regs := []rules.Registration{
		{OrderID: 7, Target: m, Attendee: rules.Person{Email: "a@example.org"}, State: rules.Failed, Error: "cancelled in Zoom by host@shop.example",
			Ended: rules.EndedInZoom, EndedBy: "host@shop.example"},
		{OrderID: 7, Target: m, Attendee: rules.Person{Email: "b@example.org"}, State: rules.Failed, Error: "Zoom refused the email"},
	}
	db.SaveRegistrations(ctx, regs)
	if n, err := db.RestoreRegistrations(ctx, 7); err != nil || n != 1 {
		t.Errorf("restored %d (%v), want only the one a host cancelled", n, err)
	}
	if active, _ := db.ActiveRegistrationsOn(ctx, m, ""); len(active) != 1 || active[0].Attendee.Email != "a@example.org" {
		t.Errorf("active after restore: %+v", active)
	}
	db.MarkTargetBroken(ctx, m, "deleted")
	if b, _ := db.BrokenTargets(ctx); b[m] != "deleted" {
		t.Errorf("broken = %v", b)
	}
}

func contractMadeMeetingsMapTheirProduct(t *testing.T, open opener) {
	ctx := context.Background()
	db, _ := open(t)
	m := rules.MadeMeeting{ProductID: 42, Day: 1, Kind: rules.Webinar, Host: "h@x", Ref: "r1", State: rules.MadeCreating}
	if err := db.SaveMadeMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	if ms, _ := db.ActiveMappings(ctx); len(ms) != 0 {
		t.Fatalf("a meeting still being made maps nothing: %+v", ms)
	}
	m.State, m.Target, m.Digest = rules.MadeDone, rules.Target{Kind: rules.Webinar, ID: 955}, "d"
	if err := db.SaveMadeMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	ms, err := db.Mappings(ctx)
	if err != nil || len(ms) != 1 || ms[0].Source != FromMade || ms[0].ProductID != 42 || ms[0].Day != 1 || ms[0].Target != m.Target {
		t.Fatalf("made meeting as a mapping: %+v, %v", ms, err)
	}
	got, err := db.MadeMeetings(ctx, 42)
	if err != nil || len(got) != 1 || got[0] != m {
		t.Fatalf("made meetings: %+v, %v", got, err)
	}
	m.OrdersPending = true
	if err := db.SaveMadeMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.MadeMeetings(ctx, 42); !got[0].OrdersPending {
		t.Fatal("the orders of a meeting just made are pending")
	}
	if err := db.OrdersQueued(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.MadeMeetings(ctx, 42); got[0].OrdersPending {
		t.Fatal("orders still pending after they were queued")
	}
	m.OrdersPending = false
	if err := db.ForgetMadeMeeting(ctx, 42, 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.MadeMeetings(ctx, 42); len(got) != 1 {
		t.Error("only a meeting still being made is forgotten")
	}
	m.State = rules.MadeDeleted
	if err := db.SaveMadeMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	if ms, _ := db.ActiveMappings(ctx); len(ms) != 0 {
		t.Fatalf("a deleted meeting maps nothing: %+v", ms)
	}
}

func contractHostCallsCountedPerUTCDay(t *testing.T, open opener) {
	ctx := context.Background()
	db, _ := open(t)
	late := time.Date(2026, 11, 23, 23, 59, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		if n, ok, err := db.TakeHostCall(ctx, "h@x", late, 3); err != nil || !ok || n != i {
			t.Fatalf("call %d: %d, %v", i, n, err)
		}
	}
	if _, ok, err := db.TakeHostCall(ctx, "h@x", late, 3); ok || err != nil {
		t.Fatalf("the fourth call of the day: %v, %v", ok, err)
	}
	if n, ok, err := db.TakeHostCall(ctx, "other@x", late, 3); err != nil || !ok || n != 1 {
		t.Fatalf("another host has its own budget: %d, %v", n, err)
	}
	if n, ok, err := db.TakeHostCall(ctx, "h@x", late.Add(2*time.Minute), 3); err != nil || !ok || n != 1 {
		t.Fatalf("after 00:00 UTC: %d, %v", n, err)
	}
	use, err := db.HostUsage(ctx, late)
	if err != nil || use["h@x"] != 3 || use["other@x"] != 1 {
		t.Fatalf("usage: %v, %v", use, err)
	}
}

// A calendar link is looked up by its index, not by reading every
// registration (each attendee's calendar app polls its link).
func TestCalendarLookupUsesItsIndex(t *testing.T) {
	db, _ := open(t)
	rows, err := db.db.Query(`EXPLAIN QUERY PLAN SELECT `+registrationColumns+` FROM registrations `+calendarLookup, "token")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "; ")
	if !strings.Contains(text, "USING INDEX registrations_calendar") || strings.Contains(text, "SCAN registrations") {
		t.Errorf("query plan: %s, want a search of registrations_calendar", text)
	}
}

// What a job waits for is a column: a restart wakes the jobs that waited
// for a person, Zoom's return those that waited for it, and the console
// counts those held for a daily limit. Jobs of older versions, whose last
// error said it in words, are read once by the migration.
// queueWaitingJobs queues jobs of orders 1 to 4, each waiting an hour for
// one reason, and returns their ids.
func queueWaitingJobs(t *testing.T, db *DB) map[rules.WaitReason]int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	waits := []rules.WaitReason{rules.WaitForPerson, rules.WaitForService, rules.WaitForDailyLimit, rules.NotWaiting}
	ids := map[rules.WaitReason]int64{}
	for i, w := range waits {
		if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "d", OrderID: int64(i + 1), Body: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
		j, _, _ := db.ClaimJob(ctx, time.Minute)
		ids[w] = j.ID
		if err := db.RetryJob(ctx, j, now.Add(time.Hour), w, "the daily limit of something"); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func contractJobsWaitForWhatTheirColumnSays(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	ids := queueWaitingJobs(t, db)
	if _, _, held, _ := db.QueueStats(ctx); held != 1 {
		t.Errorf("held for a daily limit: %d, want 1 (the words in an error do not count)", held)
	}
	if n, err := db.WakeJobsWaitingFor(ctx, rules.WaitForPerson); err != nil || n != 1 {
		t.Fatalf("woke %d jobs waiting for a person (%v), want 1", n, err)
	}
	if j, ok, _ := db.ClaimJob(ctx, time.Minute); !ok || j.ID != ids[rules.WaitForPerson] || j.Problem() != "the daily limit of something" {
		t.Errorf("claimed %+v (%v), want the job that waited for a person", j, ok)
	}
	jobs, _ := db.Jobs(ctx, rules.JobQueued, 10)
	for _, j := range jobs {
		if j.ID == ids[rules.WaitForService] && j.Problem() != "waits for the service: the daily limit of something" {
			t.Errorf("problem of a job waiting for Zoom: %q", j.Problem())
		}
	}
}

// An older version's jobs get their wait reason from their error's words.
func TestWaitReasonsMigratedFromErrorText(t *testing.T) {
	db, file := open(t)
	ctx := context.Background()
	queueWaitingJobs(t, db)
	rollBack(t, db, 16,
		`UPDATE jobs SET state = 'queued', last_error = 'waits for a person: woocommerce answered 401' WHERE id = 1`,
		`UPDATE jobs SET state = 'queued', last_error = 'waits for the service: zoom: 503' WHERE id = 2`,
		`UPDATE jobs SET state = 'queued', last_error = 'zoom answered 429: Daily limit reached' WHERE id = 3`,
		`UPDATE jobs SET state = 'failed', last_error = 'read order 4: woocommerce answered 401 woocommerce_rest_cannot_view' WHERE id = 4`)
	db.Close()
	db, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[int64]string{}
	all, _ := db.Jobs(ctx, "", 10)
	for _, j := range all {
		got[j.ID] = j.State + " " + string(j.Wait) + " " + j.LastError
	}
	want := map[int64]string{1: "queued person woocommerce answered 401", 2: "queued service zoom: 503",
		3: "queued daily_limit zoom answered 429: Daily limit reached", 4: "queued person read order 4: woocommerce answered 401 woocommerce_rest_cannot_view"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jobs after the migration (-want +got)\n%s", diff)
	}
}

// Jobs of one resource run one at a time, whatever kind of job: two
// deliveries of one product, or two Zoom events of one meeting, never run
// at once; different resources do.
func contractClaimRunsOneJobOfAResourceAtATime(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	m := rules.Target{Kind: rules.Meeting, ID: 85746065123}
	for i, d := range []rules.Delivery{
		{DeliveryID: "p1", Topic: "product.updated", Key: rules.ProductKey(812), Body: []byte(`{"id":812,"name":"a"}`)},
		{DeliveryID: "p2", Topic: "product.updated", Key: rules.ProductKey(812), Body: []byte(`{"id":812,"name":"b"}`)},
		{DeliveryID: "z1", Topic: "zoom:meeting.updated", Key: rules.TargetKey(m), Body: []byte(`{"n":1}`)},
		{DeliveryID: "z2", Topic: "zoom:meeting.deleted", Key: rules.TargetKey(m), Body: []byte(`{"n":2}`)},
		{DeliveryID: "o1", Topic: "order.updated", OrderID: 812, Body: []byte(`{"id":812}`)},
	} {
		if _, _, err := db.RecordDelivery(ctx, d); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	running := map[rules.Key]int{}
	for {
		j, ok, err := db.ClaimJob(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		running[j.Key]++
	}
	want := map[rules.Key]int{"product:812": 1, "meeting:85746065123": 1, "order:812": 1}
	if diff := cmp.Diff(want, running); diff != "" {
		t.Errorf("running by resource (-want +got)\n%s", diff)
	}
}

// Queued jobs of an older version get their resource from the migration.
func TestJobResourcesMigrated(t *testing.T) {
	db, file := open(t)
	ctx := context.Background()
	for _, d := range []rules.Delivery{
		{DeliveryID: "p", Topic: "product.updated", Key: rules.ProductKey(812), Body: []byte(`{"id":812}`)},
		{DeliveryID: "z", Topic: "zoom:webinar.updated", Key: "webinar:91234567890", Body: []byte(`{"payload":{"object":{"id":"91234567890"}}}`)},
		{DeliveryID: "o", Topic: "order.updated", OrderID: 7, Body: []byte(`{"id":7}`)},
		{DeliveryID: "a", Topic: "action.woocommerce_x", Body: []byte(`{}`)},
	} {
		if _, _, err := db.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	rollBack(t, db, 17)
	db.Close()
	db, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	jobs, _ := db.Jobs(ctx, "", 10)
	var got []rules.Key
	for _, j := range jobs {
		got = append(got, j.Key)
	}
	if diff := cmp.Diff([]rules.Key{"", "order:7", "webinar:91234567890", "product:812"}, got); diff != "" {
		t.Errorf("resources after the migration (-want +got)\n%s", diff)
	}
}

// An order job that finds no meetings for its product queues the product's
// job, once while one is queued or running.
func contractQueueProductJobOnceAndProductState(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	if _, ok, _ := db.ProductMeetings(ctx, 812); ok {
		t.Fatal("a product no job has run for has a state")
	}
	for i, want := range []bool{true, false} {
		if queued, err := db.QueueProductJob(ctx, 812); err != nil || queued != want {
			t.Fatalf("queue %d: %v %v, want %v", i, queued, err, want)
		}
	}
	j, ok, _ := db.ClaimJob(ctx, time.Minute)
	if !ok || j.Key != "product:812" || j.Topic != "product.updated" {
		t.Fatalf("claimed %+v", j)
	}
	if queued, _ := db.QueueProductJob(ctx, 812); queued {
		t.Error("queued a second job while one runs")
	}
	if err := db.SaveProductMeetings(ctx, 812, rules.MeetingsNoDate); err != nil {
		t.Fatal(err)
	}
	if st, ok, _ := db.ProductMeetings(ctx, 812); !ok || st != rules.MeetingsNoDate {
		t.Errorf("state %q %v", st, ok)
	}
}

// Jobs read at once, one per worker: their connections stay open between
// queries instead of being closed and opened (and the schema parsed) again.
func contractConnectionsOfConcurrentJobsStayOpen(t *testing.T, open opener) {
	d, _ := open(t)
	ctx := context.Background()
	for range 5 {
		var wg sync.WaitGroup
		for range idleConns {
			wg.Go(func() {
				c, err := d.db.Conn(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil {
					t.Error(err)
				}
				time.Sleep(5 * time.Millisecond) // all hold a connection at once
				if err := c.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if s := d.db.Stats(); s.MaxIdleClosed > 0 {
		t.Fatalf("%d connections closed after use (%d open): each later query opens one again", s.MaxIdleClosed, s.OpenConnections)
	}
}

// The queries a job runs each time are prepared once: working more jobs
// adds no statement, and each works inside a transaction too. (SQLite: on
// PostgreSQL, pgx keeps the statements of each connection itself.)
func TestJobQueriesArePreparedOnce(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	work := func(order int64) {
		if _, _, err := db.RecordDelivery(ctx, rules.Delivery{DeliveryID: "p", Topic: "order.updated", OrderID: order, Body: []byte{byte(order)}}); err != nil {
			t.Fatal(err)
		}
		j, ok, err := db.ClaimJob(ctx, time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: ok=%v err=%v", ok, err)
		}
		if _, err := db.Delivery(ctx, j.Delivery); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DueJobsOfOrder(ctx, order, j.ID, 10); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.OrderState(ctx, order); err != nil {
			t.Fatal(err)
		}
		st := rules.AppliedOrder{Status: rules.StatusCompleted, Modified: time.UnixMilli(order)}
		if _, _, err := db.CompleteAndClaim(ctx, j, "done", &st, nil, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	work(1)
	prepared := len(db.stmts.m)
	for order := int64(2); order < 6; order++ {
		work(order)
	}
	if len(db.stmts.m) != prepared || prepared == 0 {
		t.Fatalf("%d statements after one job, %d after five: a job's queries are not prepared once", prepared, len(db.stmts.m))
	}
	if s, _, _ := db.OrderState(ctx, 5); s.Status != rules.StatusCompleted {
		t.Fatalf("order 5's state = %+v, want completed (written through a prepared statement in a transaction)", s)
	}
}

// A commit of deliveries waits for at most one other writer's commit, not
// for every job's that queued before it.
func contractDeliveriesWriteFirst(t *testing.T, open opener) {
	d, _ := open(t)
	unlock := d.lockWrites(false)
	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
	)
	took := func(who string) {
		mu.Lock()
		order = append(order, who)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // a commit
	}
	for range 8 {
		wg.Go(func() { defer d.lockWrites(false)(); took("job") })
	}
	time.Sleep(20 * time.Millisecond) // the jobs queue first
	wg.Go(func() { defer d.lockWrites(true)(); took("deliveries") })
	time.Sleep(20 * time.Millisecond)
	unlock()
	wg.Wait()
	if i := slices.Index(order, "deliveries"); i < 0 || i > 1 {
		t.Fatalf("writers took the lock in the order %v: the deliveries waited for %d job commits", order, i)
	}
}

// Processes sharing a database take turns at periodic work: one per tick,
// the next after nine tenths of the tick.
func contractOneTurnPerTick(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	every := 10 * time.Minute
	took := func(taker string) bool {
		t.Helper()
		ok, err := db.TakeTurn(ctx, "reconcile", taker, every)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !took("a") || took("b") || took("a") {
		t.Fatal("a second turn was taken within the tick")
	}
	if ok, _ := db.TakeTurn(ctx, "prune", "b", every); !ok {
		t.Error("another kind of work has its own turns")
	}
	now = now.Add(8 * time.Minute)
	if took("b") {
		t.Error("b took a turn 8 minutes into a 10-minute tick")
	}
	now = now.Add(time.Minute)
	if !took("b") || took("a") {
		t.Error("after nine tenths of the tick one, and only one, takes the next turn")
	}
	var wg sync.WaitGroup
	var n atomic.Int32
	now = now.Add(every)
	for i := range 8 {
		wg.Go(func() {
			if ok, err := db.TakeTurn(ctx, "reconcile", fmt.Sprint("p", i), every); err == nil && ok {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if n.Load() != 1 {
		t.Errorf("%d of 8 processes asking at once took the turn, want 1", n.Load())
	}
}

// Send slots shared by processes follow each other at the rate, whoever
// reserves them; a new rate and a hold apply to every process.
func contractSharedSlotsKeepThePace(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	db.Now = func() time.Time { return now }
	first, rate, limit, err := db.ReserveSlots(ctx, "acct/light", 5, 10)
	if err != nil || rate != 10 || limit != 0 || !first.Equal(now) {
		t.Fatalf("first reservation: %v at %g, limit %g (%v), want now at 10, no limit", first, rate, limit, err)
	}
	// Another process asks at the same moment, with its own idea of the pace.
	second, rate, _, _ := db.ReserveSlots(ctx, "acct/light", 2, 30)
	if rate != 10 || !second.Equal(now.Add(500*time.Millisecond)) {
		t.Errorf("second reservation: %v at %g, want 500ms later at 10 (after the first's five)", second.Sub(now), rate)
	}
	if err := db.SetSharedPace(ctx, "acct/light", 4, 30, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	third, rate, limit, _ := db.ReserveSlots(ctx, "acct/light", 1, 10)
	if rate != 4 || limit != 30 || !third.Equal(now.Add(2*time.Second)) {
		t.Errorf("after a cut to 4 at a limit of 30 and a hold of 2 s: %v at %g, limit %g", third.Sub(now), rate, limit)
	}
	now = now.Add(time.Minute) // idle: slots start from now, not from the past
	fourth, _, _, _ := db.ReserveSlots(ctx, "acct/light", 1, 4)
	if !fourth.Equal(now) {
		t.Errorf("after a minute idle the next slot is %v from now", fourth.Sub(now))
	}
	if other, rate, limit, _ := db.ReserveSlots(ctx, "acct/medium", 1, 7); rate != 7 || limit != 0 || !other.Equal(now) {
		t.Errorf("another category shares nothing: %v at %g, limit %g", other.Sub(now), rate, limit)
	}
	// Many at once: no slot handed out twice.
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			at, _, _, err := db.ReserveSlots(ctx, "acct/busy", 1, 100)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || seen[at.UnixMicro()] {
				t.Errorf("slot %v handed out twice (%v)", at, err)
			}
			seen[at.UnixMicro()] = true
		})
	}
	wg.Wait()
}

// What the console, jobs, audit and export read works on both engines.
func contractConsoleAndAuditQueries(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	mtg := rules.Target{Kind: rules.Meeting, ID: 85746065123}
	regs := []rules.Registration{
		{OrderID: 4521, LineItemID: 1, ProductID: 10, Target: mtg, Attendee: rules.Person{FirstName: "Rita", Email: "rita.doro@example.org"}, State: rules.Active},
		{OrderID: 4522, LineItemID: 2, ProductID: 10, Target: mtg, Attendee: rules.Person{FirstName: "Bo", Email: "bo@example.org"}, State: rules.Failed, Error: "refused"},
	}
	if err := db.SaveRegistrations(ctx, regs); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSeats(ctx, rules.Seat{SeatKey: rules.SeatKey{Target: mtg, Email: "rita.doro@example.org"}, RegistrantID: "r1", Status: rules.SeatApproved}); err != nil {
		t.Fatal(err)
	}
	found, err := db.FindOrders(ctx, "DORO@", 10)
	if err != nil || len(found) != 1 || found[0].OrderID != 4521 {
		t.Errorf("find by a part of the email: %+v (%v)", found, err)
	}
	if found, _ := db.FindOrders(ctx, "#4522", 10); len(found) != 1 || found[0].Emails[0] != "bo@example.org" {
		t.Errorf("find by number: %+v", found)
	}
	if failed, _ := db.FailedRegistrations(ctx, 10); len(failed) != 1 || failed[0].OrderID != 4522 {
		t.Errorf("failed registrations: %+v", failed)
	}
	if byProduct, _ := db.ProductRegistrations(ctx, 10); len(byProduct) != 2 {
		t.Errorf("registrations of product 10: %d, want 2", len(byProduct))
	}
	if counts, _ := db.SeatCounts(ctx); counts[mtg][rules.SeatApproved] != 1 {
		t.Errorf("seat counts: %v", counts)
	}
	now := time.Now().Truncate(time.Millisecond)
	calls := []rules.Call{
		{At: now.Add(-40 * 24 * time.Hour), Service: "zoom", Operation: "POST /meetings/{id}/registrants", Method: "POST", Path: "/meetings/1/registrants", Status: 201, Duration: 80 * time.Millisecond},
		{At: now, Service: "zoom", Operation: "POST /meetings/{id}/registrants", Method: "POST", Path: "/meetings/1/registrants", Status: 429, Code: "429", Duration: time.Millisecond, JobRef: rules.JobRef{JobID: 7, OrderID: 4521, Run: "3f9a"}},
	}
	if err := db.RecordCalls(ctx, calls); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Calls(ctx, CallFilter{OrderID: 4521}); len(got) != 1 || got[0].Code != "429" || got[0].Duration != time.Millisecond || got[0].Run != "3f9a" {
		t.Errorf("calls of order 4521: %+v", got)
	}
	if n, _ := db.CallsSince(ctx, "zoom", now.Add(-time.Hour)); n["POST /meetings/{id}/registrants"] != 1 {
		t.Errorf("calls in the last hour: %v", n)
	}
	if n, err := db.PruneCalls(ctx, now.Add(-30*24*time.Hour)); n != 1 || err != nil {
		t.Errorf("pruned %d calls (%v), want the old one", n, err)
	}
	if stats, oldest, held, err := db.QueueStats(ctx); err != nil || !oldest.IsZero() || held != 0 || stats[rules.JobQueued] != 0 {
		t.Errorf("queue stats of an empty queue: %v %v %d (%v)", stats, oldest, held, err)
	}
}
