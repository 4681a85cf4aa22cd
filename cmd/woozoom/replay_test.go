package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// replayOf is the replay link an order's meta gives an attendee on a
// target ("" for none, or no entry).
func (e *e2e) replayOf(id int64, email, targetType string) string {
	for _, m := range e.metaEntries(id) {
		if strings.EqualFold(m.Email, email) && m.Type == targetType {
			return m.ReplayURL
		}
	}
	return ""
}

// buyOne places a completed order of one ticket of a product, for
// first@example.org.
func (e *e2e) buyOne(first string, product int64) int64 {
	return e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: first, Email: strings.ToLower(first) + "@example.org",
		Items: []wootest.Item{{ProductID: product}}})
}

// The replay for those who paid: the webinar's recording (recordings:
// share) reaches its three paid orders, not the cancelled or the refunded
// one, through the meta and the customer note; a later refund withdraws it
// with the join link; a recording deleted in Zoom leaves the orders. The
// meeting's (no_shows) reaches only the one who did not come.
func TestReplayEndToEnd(t *testing.T) {
	e := startE2E(t)
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "zoom:\n", "zoom:\n  webhook_secret_token: "+zoomHookSecret+"\n", 1)
		cfg = strings.Replace(cfg, "worker:\n", "recordings: share\nworker:\n  retry_base: 200ms\n  retry_max: 500ms\n", 1)
		return strings.Replace(cfg, "  - product_id: 10\n", "  - product_id: 10\n    recordings: no_shows\n", 1)
	})
	e.webhooksHere()
	ann, bea, cal, dan, eve := e.buyOne("Ann", 11), e.buyOne("Bea", 11), e.buyOne("Cal", 11), e.buyOne("Dan", 11), e.buyOne("Eve", 11)
	fay, gus := e.buyOne("Fay", 10), e.buyOne("Gus", 10)
	e.eventually("seven registered", func() bool {
		return e.zoomStatus(e.webinar, "eve@example.org") == "approved" && e.zoomStatus(e.meeting, "gus@example.org") == "approved" && e.settled()
	})
	e.shop.SetStatus(dan, "cancelled")
	e.shop.Refund(eve, "changed plans", map[int64]int{e.shop.LineItemIDs(eve)[0]: 1})
	e.eventually("dan and eve out", func() bool { return e.zoomStatus(e.webinar, "eve@example.org") == "denied" && e.settled() })

	const share, passcode = "https://zoom.us/rec/share/Restoring-paintings-7f3", "Rp.91x"
	if code, err := e.zoom.CompleteRecording(e.webinar, "wuuid1==", share, passcode); err != nil || code != 200 {
		t.Fatalf("recording.completed answered %d, %v", code, err)
	}
	e.eventually("the replay on the three paid orders", func() bool {
		return e.replayOf(ann, "ann@example.org", "webinar") == share && e.replayOf(bea, "bea@example.org", "webinar") == share &&
			e.replayOf(cal, "cal@example.org", "webinar") == share && e.settled()
	})
	for _, id := range []int64{dan, eve} {
		for _, n := range e.shop.Notes(id) {
			if strings.Contains(n.Note, share) {
				t.Errorf("order %d, cancelled or refunded, was given the replay: %q", id, n.Note)
			}
		}
	}
	if e.notesWith(ann, true, "the recording: "+share+" (passcode "+passcode+")") != 1 {
		t.Errorf("ann was not told of the replay once: %+v", e.shop.Notes(ann))
	}

	// A later refund withdraws the replay with the link, and says so once.
	e.shop.Refund(bea, "could not watch", map[int64]int{e.shop.LineItemIDs(bea)[0]: 1})
	e.eventually("bea's replay withdrawn", func() bool { return len(e.metaEntries(bea)) == 0 && e.settled() })
	if e.notesWith(bea, true, "withdrawn") != 1 {
		t.Errorf("bea was not told once that her access went: %+v", e.shop.Notes(bea))
	}

	// The meeting (no_shows): Fay came, Gus did not; only Gus gets it.
	start := time.Now().UTC().Add(-2 * time.Hour)
	fayReg, _ := e.zoom.Registrant(e.meeting, "fay@example.org")
	if _, err := e.zoom.EndMeeting(e.meeting, "muuid1==", 0, zoomtest.PastParticipant{Name: "Fay", Email: "fay@example.org",
		RegistrantID: fayReg.ID, Join: start, Leave: start.Add(50 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the meeting's attendance", func() bool { return len(e.attendanceOf(e.shop, gus)) == 1 && e.settled() })
	const meetingShare = "https://zoom.us/rec/share/Tour-2c1"
	if _, err := e.zoom.CompleteRecording(e.meeting, "muuid1==", meetingShare, "T0ur"); err != nil {
		t.Fatal(err)
	}
	e.eventually("gus, who missed it, has the replay", func() bool { return e.replayOf(gus, "gus@example.org", "meeting") == meetingShare && e.settled() })
	if r := e.replayOf(fay, "fay@example.org", "meeting"); r != "" {
		t.Errorf("fay, who came, got the replay %q", r)
	}

	// Zoom's other recording events change no replay: a transcript done
	// after the recording (an app subscribed to every recording event).
	if code, err := e.zoom.SendEvent("recording.transcript_completed", map[string]any{"account_id": "acct-e2e",
		"object": map[string]any{"id": e.webinar, "uuid": "wuuid1==", "topic": "Restoring paintings", "type": 5}}); err != nil || code != 200 {
		t.Fatalf("recording.transcript_completed answered %d, %v", code, err)
	}
	e.eventually("the transcript event worked", func() bool {
		return strings.Contains(e.logs.String(), "recording.transcript_completed: changes no replay") && e.settled()
	})
	if r := e.replayOf(ann, "ann@example.org", "webinar"); r != share {
		t.Errorf("after recording.transcript_completed, ann's replay = %q, want it kept", r)
	}

	// The webinar's recording is deleted in Zoom: it leaves the orders.
	if _, err := e.zoom.DeleteRecording(e.webinar, "wuuid1=="); err != nil {
		t.Fatal(err)
	}
	e.eventually("the deleted recording gone from the orders", func() bool {
		return e.replayOf(ann, "ann@example.org", "webinar") == "" && e.replayOf(cal, "cal@example.org", "webinar") == "" &&
			len(e.metaEntries(ann)) == 1 && e.settled()
	})
	// The host takes it back from the trash: it comes back.
	if _, err := e.zoom.RecoverRecording(e.webinar, "wuuid1=="); err != nil {
		t.Fatal(err)
	}
	e.eventually("the recovered recording back on the orders", func() bool {
		return e.replayOf(ann, "ann@example.org", "webinar") == share && e.replayOf(cal, "cal@example.org", "webinar") == share && e.settled()
	})
}

// replaysOf lists the replay links an order's meta gives an attendee.
func (e *e2e) replaysOf(id int64, email string) []string {
	var out []string
	for _, m := range e.metaEntries(id) {
		if strings.EqualFold(m.Email, email) {
			for _, r := range m.Replays {
				out = append(out, r.URL+" "+r.StartTime)
			}
		}
	}
	return out
}

// A series has a recording per occurrence held. A day ticket (one
// occurrence) gets its day's replay only; a course ticket (every
// occurrence) gets each day's, dated, in the meta and the customer note;
// a day's recording deleted in Zoom leaves that day's replay only.
func TestReplaysOfASeries(t *testing.T) {
	e := startE2E(t)
	d1 := time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	series := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Drawing week", HostEmail: "host@shop.example", Duration: 90,
		Timezone: "Europe/Berlin", Occurrences: []time.Time{d1, d2}})
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "zoom:\n", "zoom:\n  webhook_secret_token: "+zoomHookSecret+"\n", 1)
		cfg = strings.Replace(cfg, "worker:\n", "recordings: share\nworker:\n", 1)
		return cfg + fmt.Sprintf("  - product_id: 20\n    meeting_id: %d\n    occurrence_ids: \"%d\"\n  - product_id: 21\n    meeting_id: %d\n",
			series, d1.UnixMilli(), series)
	})
	e.webhooksHere()
	day, course := e.buyOne("Ida", 20), e.buyOne("Cy", 21)
	e.eventually("both registered", func() bool {
		return e.zoomStatus(series, "ida@example.org") == "approved" && e.zoomStatus(series, "cy@example.org") == "approved" && e.settled()
	})
	held := func(uuid string, at time.Time) {
		t.Helper()
		if _, err := e.zoom.EndMeeting(series, uuid, 0, zoomtest.PastParticipant{Name: "Cy", Email: "cy@example.org", Join: at, Leave: at.Add(80 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	const share1, share2 = "https://zoom.us/rec/share/drawing-day-1", "https://zoom.us/rec/share/drawing-day-2"
	held("day1Uuid==", d1.Add(2*time.Minute))
	if _, err := e.zoom.CompleteRecording(series, "day1Uuid==", share1, "D1"); err != nil {
		t.Fatal(err)
	}
	first := share1 + " " + d1.Add(2*time.Minute).Format(time.RFC3339)
	defer func() { // on a failure, what the two orders hold says why
		if t.Failed() {
			t.Logf("meta: %+v / %+v", e.metaEntries(day), e.metaEntries(course))
		}
	}()
	e.eventually("day one's replay on both orders", func() bool {
		return slices.Equal(e.replaysOf(day, "ida@example.org"), []string{first}) && slices.Equal(e.replaysOf(course, "cy@example.org"), []string{first}) && e.settled()
	})
	// Day two's UUID begins with "/": read from Zoom encoded twice.
	held("/day2//Uuid==", d2.Add(-time.Minute))
	if _, err := e.zoom.CompleteRecording(series, "/day2//Uuid==", share2, "D2"); err != nil {
		t.Fatal(err)
	}
	second := share2 + " " + d2.Add(-time.Minute).Format(time.RFC3339)
	e.eventually("both days' replays on the course ticket", func() bool {
		return slices.Equal(e.replaysOf(course, "cy@example.org"), []string{first, second}) && e.settled()
	})
	if got := e.replaysOf(day, "ida@example.org"); !slices.Equal(got, []string{first}) {
		t.Errorf("the day-one ticket's replays = %q, want day one's only", got)
	}
	// Attendance, likewise: the day-one ticket was not invited to day two,
	// so it neither attended nor missed it.
	if a := e.attendanceOf(e.shop, day); len(a) != 1 || a[0]["instance"] != "day1Uuid==" || a[0]["attended"] != false {
		t.Errorf("the day-one ticket's attendance = %v, want day one's only (missed)", a)
	}
	if a := e.attendanceOf(e.shop, course); len(a) != 2 || a[0]["attended"] != true || a[1]["attended"] != true {
		t.Errorf("the course ticket's attendance = %v, want both days attended", a)
	}
	if e.notesWith(day, false, "did not attend") != 1 {
		t.Errorf("the day-one ticket's staff notes: %+v", e.shop.Notes(day))
	}
	if e.notesWith(course, true, "the recordings: Mon 14 Dec 2026: "+share1+" (passcode D1), Tue 15 Dec 2026: "+share2+" (passcode D2)") != 1 {
		t.Errorf("the course ticket was not told of both recordings: %+v", e.shop.Notes(course))
	}
	if e.notesWith(day, true, share2) != 0 {
		t.Errorf("the day-one ticket was told of day two's recording: %+v", e.shop.Notes(day))
	}
	// Day one's recording is deleted in Zoom: day two's stays.
	if _, err := e.zoom.DeleteRecording(series, "day1Uuid=="); err != nil {
		t.Fatal(err)
	}
	e.eventually("day one's replay gone", func() bool {
		return len(e.replaysOf(day, "ida@example.org")) == 0 && slices.Equal(e.replaysOf(course, "cy@example.org"), []string{second}) && e.settled()
	})
}
