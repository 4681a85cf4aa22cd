package store

import (
	"context"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
)

func contractAttendanceKept(t *testing.T, open opener) {
	db, _ := open(t)
	ctx := context.Background()
	webinar := rules.Target{Kind: rules.Webinar, ID: 9}
	at := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	rita := rules.Registration{OrderID: 101, Attendee: rules.Person{Email: "rita@example.org"}}
	bob := rules.Registration{OrderID: 102, Attendee: rules.Person{Email: "bob@example.org"}}
	att := []rules.Attendance{{Registration: rita, Attended: true, FirstJoin: at, LastLeave: at.Add(time.Hour), Minutes: 55}, {Registration: bob}}
	if err := db.SaveAttendance(ctx, webinar, "uuid/1==", att, []rules.Unmatched{{Name: "Guest", Minutes: 3}, {Name: "Carol", Email: "carol@example.org", Minutes: 30}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AttendanceNoted(ctx, webinar, "uuid/1==", 101); err != nil {
		t.Fatal(err)
	}
	if err := db.AttendanceThanked(ctx, webinar, "uuid/1==", 102, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	// Read again later: replaced, the note still noted, the guest gone.
	att[0].Minutes = 56
	if err := db.SaveAttendance(ctx, webinar, "uuid/1==", att, []rules.Unmatched{{Name: "Carol", Email: "carol@example.org", Minutes: 31}}); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Attendance(ctx, webinar, 0)
	if err != nil || len(rows) != 2 {
		t.Fatalf("attendance = %+v, %v", rows, err)
	}
	if r := rows[0]; r.OrderID != 101 || !r.Attended || r.Minutes != 56 || !r.FirstJoin.Equal(at) || !r.LastLeave.Equal(at.Add(time.Hour)) || !r.Noted {
		t.Errorf("rita's row = %+v", r)
	}
	if r := rows[1]; r.OrderID != 102 || r.Attended || r.Minutes != 0 || !r.FirstJoin.IsZero() || r.Noted || !r.Thanked || rows[0].Thanked {
		t.Errorf("bob's row = %+v", r)
	}
	if mine, _ := db.OrderAttendance(ctx, 102); len(mine) != 1 || mine[0].Email != "bob@example.org" {
		t.Errorf("order 102's attendance = %+v", mine)
	}
	un, err := db.UnmatchedParticipants(ctx, webinar)
	if err != nil || len(un) != 1 || un[0].Name != "Carol" || un[0].Minutes != 31 {
		t.Errorf("unmatched = %+v, %v", un, err)
	}
	if other, _ := db.Shop("academy").Attendance(ctx, webinar, 0); len(other) != 0 {
		t.Errorf("another shop sees the attendance: %+v", other)
	}

	// What was last written to an order's attendance meta, per shop.
	if d, err := db.AttendanceDigest(ctx, 101); err != nil || d != "" {
		t.Errorf("attendance digest before any write = %q, %v", d, err)
	}
	if err := db.SaveAttendanceDigest(ctx, 101, "abc"); err != nil {
		t.Fatal(err)
	}
	if d, _ := db.AttendanceDigest(ctx, 101); d != "abc" {
		t.Errorf("attendance digest = %q, want abc", d)
	}
	if d, _ := db.Shop("academy").AttendanceDigest(ctx, 101); d != "" {
		t.Errorf("another shop's order 101 has the digest %q", d)
	}

	// A recording is Zoom's: every shop's; a new one of an instance
	// replaces it; a series keeps one per instance, read by start.
	for _, share := range []string{"https://zoom.us/rec/share/a", "https://zoom.us/rec/share/b"} {
		if err := db.SaveRecording(ctx, rules.Recording{Target: webinar, Instance: "uuid/1==", Start: at, ShareURL: share, Passcode: "p4ss"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveRecording(ctx, rules.Recording{Target: webinar, Instance: "uuid0==", Start: at.Add(-24 * time.Hour), ShareURL: "https://zoom.us/rec/share/0"}); err != nil {
		t.Fatal(err)
	}
	recs, err := db.Shop("academy").Recordings(ctx, webinar)
	if err != nil || len(recs) != 2 || recs[0].Instance != "uuid0==" || !recs[0].Start.Equal(at.Add(-24*time.Hour)) ||
		recs[1].ShareURL != "https://zoom.us/rec/share/b" || recs[1].Passcode != "p4ss" || !recs[1].Start.Equal(at) || recs[1].Target != webinar {
		t.Errorf("recordings = %+v, %v", recs, err)
	}
	if err := db.ForgetRecording(ctx, webinar, "uuid0=="); err != nil {
		t.Fatal(err)
	}
	if recs, _ := db.Recordings(ctx, webinar); len(recs) != 1 || recs[0].Instance != "uuid/1==" {
		t.Errorf("after one instance's recording is forgotten: %+v", recs)
	}
	if err := db.ForgetRecording(ctx, webinar, ""); err != nil {
		t.Fatal(err)
	}
	if recs, _ := db.Recordings(ctx, webinar); len(recs) != 0 {
		t.Errorf("forgotten recordings are still there: %+v", recs)
	}
}
