package store

import (
	"context"
	"os"
	"testing"

	"github.com/woozoom/woozoom/store/pgtest"
)

// opener opens a fresh, empty store for a test and returns it with what
// Open was given (a file path or a PostgreSQL URL).
type opener func(testing.TB) (*DB, string)

var cluster pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.Stop()
	os.Exit(code)
}

// openOnPostgres opens a store on a fresh database of the throwaway cluster.
func openOnPostgres(t testing.TB) (*DB, string) {
	t.Helper()
	url := cluster.Get(t).NewDatabase(t)
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}

// contract is the store's behaviour, the same on both engines.
var contract = []struct {
	name string
	test func(*testing.T, opener)
}{
	{"OpenRefusesNewerSchema", contractOpenRefusesNewerSchema},
	{"RecordDeliveryDedupesOnIDAndBody", contractRecordDeliveryDedupesOnIDAndBody},
	{"ClaimSerialisesPerOrder", contractClaimSerialisesPerOrder},
	{"ClaimConcurrentClaimsNoJobTwice", contractClaimConcurrentClaimsNoJobTwice},
	{"LeaseExpiryRetryAndFail", contractLeaseExpiryRetryAndFail},
	{"RegistrationsSeatsAndHolders", contractRegistrationsSeatsAndHolders},
	{"UnsettledSeats", contractUnsettledSeats},
	{"MappingsConfigSync", contractMappingsConfigSync},
	{"OrderStateAndTargetDetails", contractOrderStateAndTargetDetails},
	{"CheckpointOnlyMovesForward", contractCheckpointOnlyMovesForward},
	{"ExtendLease", contractExtendLease},
	{"CompleteOrderJobFoldsOnlyItsOrdersQueuedJobs", contractCompleteOrderJobFoldsOnlyItsOrdersQueuedJobs},
	{"CalendarTokenAndSequence", contractCalendarTokenAndSequence},
	{"RequeueOrderAndRestore", contractRequeueOrderAndRestore},
	{"MadeMeetingsMapTheirProduct", contractMadeMeetingsMapTheirProduct},
	{"HostCallsCountedPerUTCDay", contractHostCallsCountedPerUTCDay},
	{"JobsWaitForWhatTheirColumnSays", contractJobsWaitForWhatTheirColumnSays},
	{"ClaimRunsOneJobOfAResourceAtATime", contractClaimRunsOneJobOfAResourceAtATime},
	{"QueueProductJobOnceAndProductState", contractQueueProductJobOnceAndProductState},
	{"ConnectionsOfConcurrentJobsStayOpen", contractConnectionsOfConcurrentJobsStayOpen},
	{"DeliveriesWriteFirst", contractDeliveriesWriteFirst},
	{"GroupCommitAnswersAfterItsCommit", contractGroupCommitAnswersAfterItsCommit},
	{"CloseCommitsQueuedDeliveries", contractCloseCommitsQueuedDeliveries},
	{"SecondHolderOfASeatWaits", contractSecondHolderOfASeatWaits},
	{"ExpiredLeaseIsTakenOverAndItsHolderFenced", contractExpiredLeaseIsTakenOverAndItsHolderFenced},
	{"SharedAndExclusiveLeases", contractSharedAndExclusiveLeases},
	{"OverlappingLeasesNeverDeadlock", contractOverlappingLeasesNeverDeadlock},
	{"JobClaimFencesTheOldRun", contractJobClaimFencesTheOldRun},
	{"WaitingExclusiveHolderIsNotStarved", contractWaitingExclusiveHolderIsNotStarved},
	{"ACycleOfWaitsBreaks", contractACycleOfWaitsBreaks},
	{"BackupSaysWhatToUse", contractBackupSaysWhatToUse},
	{"OneTurnPerTick", contractOneTurnPerTick},
	{"SharedSlotsKeepThePace", contractSharedSlotsKeepThePace},
	{"ConsoleAndAuditQueries", contractConsoleAndAuditQueries},
	{"ShopsKeepTheirOwn", contractShopsKeepTheirOwn},
	{"AttendanceKept", contractAttendanceKept},
}

// TestContract runs the store's contract on SQLite and on a throwaway
// PostgreSQL cluster (store/pgtest).
func TestContract(t *testing.T) {
	for _, e := range []struct {
		name string
		open opener
	}{{"sqlite", open}, {"postgres", openOnPostgres}} {
		t.Run(e.name, func(t *testing.T) {
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) { c.test(t, e.open) })
			}
		})
	}
}
