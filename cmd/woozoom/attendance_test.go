package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/woozoom/woozoom/orders"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// attendanceOf reads an order's _woozoom_attendance meta.
func (e *e2e) attendanceOf(shop *wootest.Shop, id int64) []map[string]any {
	v, ok := shop.Meta(id, orders.AttendanceMetaKey)
	if !ok {
		return nil
	}
	var raw []byte
	if s, ok := v.(string); ok {
		raw = []byte(s)
	} else {
		raw, _ = json.Marshal(v)
	}
	var out []map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// A webinar with three paid orders, one cancelled and one refunded ends;
// Zoom's report comes a moment after its event. Attendance lands on the
// paid orders with the right minutes (one attendee rejoined twice, once
// overlapping; one came under another email with her registrant link),
// the no-show is recorded as such, the cancelled and refunded orders get nothing, and the guest
// and the unregistered joiner are listed, not assigned.
func TestAttendanceEndToEnd(t *testing.T) {
	e := startE2E(t)
	thanks := filepath.Join(t.TempDir(), "thanks.html")
	if err := os.WriteFile(thanks, []byte(`Thank you, {{.FirstName}}{{if .Attended}}: {{.Minutes}} minutes in {{.Topic}}. Your certificate: https://shop.example.com/certificate/{{.OrderID}}{{else}}. We missed you at {{.Topic}}; the recording follows.{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "worker:\n", "templates:\n  thanks: "+thanks+"\nworker:\n", 1)
		cfg = strings.Replace(cfg, "zoom:\n", "zoom:\n  webhook_secret_token: "+zoomHookSecret+"\n", 1)
		return strings.Replace(cfg, "worker:\n", "worker:\n  retry_base: 200ms\n  retry_max: 500ms\n", 1)
	})
	e.webhooksHere()
	buy := func(first, email string) int64 {
		return e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: first, Email: email, Items: []wootest.Item{{ProductID: 11}}})
	}
	ann, bea, cal := buy("Ann", "ann@example.org"), buy("Bea", "bea@example.org"), buy("Cal", "cal@example.org")
	dan, eve := buy("Dan", "dan@example.org"), buy("Eve", "eve@example.org")
	e.eventually("five registered", func() bool { return e.zoomStatus(e.webinar, "eve@example.org") == "approved" && e.settled() })
	e.shop.SetStatus(dan, "cancelled")
	e.shop.Refund(eve, "changed plans", map[int64]int{e.shop.LineItemIDs(eve)[0]: 1})
	e.eventually("dan and eve cancelled", func() bool {
		return e.zoomStatus(e.webinar, "dan@example.org") == "denied" && e.zoomStatus(e.webinar, "eve@example.org") == "denied" && e.settled()
	})

	// One base for every time: a minute that turns mid-test must not move
	// the expected times away from the ones Zoom was given.
	base := time.Now().UTC().Truncate(time.Minute).Add(-90 * time.Minute)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	reg := func(email string) string { r, _ := e.zoom.Registrant(e.webinar, email); return r.ID }
	parts := []zoomtest.PastParticipant{
		{Name: "Ann", Email: "ann@example.org", RegistrantID: reg("ann@example.org"), Join: at(0), Leave: at(20)},
		{Name: "Ann", Email: "ann@example.org", RegistrantID: reg("ann@example.org"), Join: at(30), Leave: at(55)}, // rejoined
		// and rejoined again from her phone before her laptop left: the
		// overlap counts once (20 + 32 minutes).
		{Name: "Ann (phone)", Email: "ann@example.org", RegistrantID: reg("ann@example.org"), Join: at(50), Leave: at(62)},
		{Name: "Bea", Email: "bea.home@example.net", RegistrantID: reg("bea@example.org"), Join: at(5), Leave: at(65)},
		{Name: "Fred (Ann's colleague)", Email: "fred@example.org", Join: at(0), Leave: at(45)},
		{Name: "iPad", Join: at(10), Leave: at(12)},
	}
	const uuid = "/Xq7b//Zt4uAKlPg93c+YQ=="
	if code, err := e.zoom.EndMeeting(e.webinar, uuid, 1500*time.Millisecond, parts...); err != nil || code != 200 {
		t.Fatalf("webinar.ended answered %d, %v", code, err)
	}
	e.eventually("attendance on the three paid orders", func() bool {
		return len(e.attendanceOf(e.shop, ann)) == 1 && len(e.attendanceOf(e.shop, bea)) == 1 && len(e.attendanceOf(e.shop, cal)) == 1
	})
	for id, want := range map[int64]string{
		ann: `"attended":true,"email":"ann@example.org","event":"webinar ` + fmt.Sprint(e.webinar) + `","first_join":"` + at(0).Format(time.RFC3339) + `","instance":"` + uuid + `","last_leave":"` + at(62).Format(time.RFC3339) + `","minutes":52`,
		bea: `"attended":true,"email":"bea@example.org"`,
		cal: `"attended":false,"email":"cal@example.org"`,
	} {
		got, _ := json.Marshal(e.attendanceOf(e.shop, id)[0])
		if !strings.Contains(string(got), want) {
			t.Errorf("order %d's attendance = %s, want it to hold %s", id, got, want)
		}
	}
	if got := e.attendanceOf(e.shop, bea)[0]["minutes"]; got != float64(60) {
		t.Errorf("bea's minutes = %v, want 60", got)
	}
	for _, id := range []int64{dan, eve} {
		if a := e.attendanceOf(e.shop, id); a != nil {
			t.Errorf("order %d, cancelled or refunded, got attendance %v", id, a)
		}
	}
	if e.notesWith(ann, false, "ann@example.org attended, 52 minutes") != 1 || e.notesWith(cal, false, "cal@example.org did not attend") != 1 {
		t.Errorf("the staff notes: %+v / %+v", e.shop.Notes(ann), e.shop.Notes(cal))
	}
	thanked := func() bool {
		return e.notesWith(ann, true, "Thank you, Ann: 52 minutes in Restoring paintings. Your certificate: https://shop.example.com/certificate/"+fmt.Sprint(ann)) == 1 &&
			e.notesWith(cal, true, "Thank you, Cal. We missed you at Restoring paintings") == 1
	}
	e.eventually("the thanks notes", thanked)
	// Zoom sends the event again (a retry, or a second look): nothing is
	// said or written twice.
	e.eventually("the notes' echoes worked", e.settled)
	writes := e.shop.Writes()
	if _, err := e.zoom.EndMeeting(e.webinar, uuid, 0, parts...); err != nil {
		t.Fatal(err)
	}
	e.eventually("the repeat worked", func() bool { return e.jobsDone("zoom:webinar.ended") == 2 && e.settled() })
	if !thanked() || e.notesWith(ann, false, "attendance of") != 1 {
		t.Errorf("notes after the event came again: %+v", e.shop.Notes(ann))
	}
	if n := e.shop.Writes() - writes; n != 0 {
		t.Errorf("the same attendance again made %d writes to the shop, want none", n)
	}

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"attendance", "--config", e.cfgFile, "--event", fmt.Sprint(e.webinar)}, &out, &errOut); code != 0 {
		t.Fatalf("attendance: %s", errOut.String())
	}
	for _, want := range []string{"3 registered, 2 attended, 1 no-shows, 56 minutes on average", "Fred (Ann's colleague)", "fred@example.org", "iPad"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("woozoom attendance lacks %q:\n%s", want, out.String())
		}
	}
	// The export has the attendance columns.
	var csvOut bytes.Buffer
	if code := run(context.Background(), []string{"export", "--config", e.cfgFile, "--product", "11"}, &csvOut, &errOut); code != 0 {
		t.Fatalf("export: %s", errOut.String())
	}
	for email, want := range map[string]string{
		"ann@example.org": ",yes,52," + at(0).Format(time.RFC3339) + "," + at(62).Format(time.RFC3339),
		"cal@example.org": ",no,0,,",
		"dan@example.org": ",,,,",
	} {
		found := false
		for _, line := range strings.Split(csvOut.String(), "\n") {
			found = found || (strings.Contains(line, email) && strings.HasSuffix(line, want))
		}
		if !found {
			t.Errorf("export's row of %s does not end with %q:\n%s", email, want, csvOut.String())
		}
	}
	if !strings.HasPrefix(csvOut.String(), "order_id,") || !strings.Contains(strings.SplitN(csvOut.String(), "\n", 2)[0], ",attended,minutes,first_join,last_leave") {
		t.Errorf("export's header: %q", strings.SplitN(csvOut.String(), "\n", 2)[0])
	}
	if !strings.Contains(e.logs.String(), "not ready yet") {
		t.Error("the report was read before Zoom had it: no retry in the log")
	}
	if strings.Contains(out.String(), "dan@example.org") {
		t.Errorf("the cancelled order's attendee is listed:\n%s", out.String())
	}

	// An order completed after the webinar is over: Zoom refuses its
	// registration (3038); staff are told why, the order's other event
	// (the meeting, still ahead) goes ahead, and nothing is retried or
	// parked.
	gil := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Gil", Email: "gil@example.org", Items: []wootest.Item{{ProductID: 11}, {ProductID: 10}}})
	e.eventually("gil's order worked", func() bool { return e.zoomStatus(e.meeting, "gil@example.org") == "approved" && e.settled() })
	if e.notesWith(gil, false, "gil@example.org on webinar "+fmt.Sprint(e.webinar)+": ") != 1 || e.notesWith(gil, false, "code 3038: Webinar is over, you cannot register now") != 1 {
		t.Errorf("staff were not told the webinar is over: %+v", e.shop.Notes(gil))
	}
	if r := e.registrations(gil)["webinar "+fmt.Sprint(e.webinar)]; r.State != rules.Failed {
		t.Errorf("gil's webinar registration: %+v, want failed with Zoom's reason", r)
	}
	for _, j := range e.orderJobs(gil) {
		if j.State != rules.JobDone || j.Attempts != 1 {
			t.Errorf("gil's job %d: %s after %d attempts, want done at once", j.ID, j.State, j.Attempts)
		}
	}
}

// Without Zoom's webhooks no ended event comes: shortly after the
// meeting's scheduled end the poll reads its attendance, once, as the
// event would have.
func TestAttendancePolledWithoutZoomWebhooks(t *testing.T) {
	e := startE2E(t)
	start := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Hour)
	past := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Morning lecture", HostEmail: "host@shop.example", StartTime: start, Duration: 60, Timezone: "UTC"})
	e.serveWith(func(cfg string) string {
		cfg = strings.Replace(cfg, "worker:\n", "attendance: {poll: 1s, after: 1s, within: 48h}\nworker:\n", 1)
		return cfg + fmt.Sprintf("  - product_id: 12\n    meeting_id: \"%d\"\n", past)
	})
	for _, w := range e.shop.Webhooks() {
		e.shop.SetWebhookURL(w.ID, e.url+"/webhooks/woocommerce")
	}
	id := e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ida", Email: "ida@example.org", Items: []wootest.Item{{ProductID: 12}}})
	e.eventually("ida registered", func() bool { return e.zoomStatus(past, "ida@example.org") == "approved" && e.settled() })
	reg, _ := e.zoom.Registrant(past, "ida@example.org")
	if code, err := e.zoom.EndMeeting(past, "Pq9/aZ==", 0, zoomtest.PastParticipant{Name: "Ida", Email: "ida@example.org", RegistrantID: reg.ID,
		Join: start, Leave: start.Add(42 * time.Minute)}); err != nil || code != 0 {
		t.Fatalf("ended %d, %v (no webhook: no event)", code, err)
	}
	e.eventually("ida's attendance, polled", func() bool { return len(e.attendanceOf(e.shop, id)) == 1 })
	got, _ := json.Marshal(e.attendanceOf(e.shop, id)[0])
	if want := `"attended":true,"email":"ida@example.org","event":"meeting ` + fmt.Sprint(past) + `","first_join":"` + start.Format(time.RFC3339) +
		`","instance":"scheduled ` + start.Format(time.RFC3339) + `","last_leave":"` + start.Add(42*time.Minute).Format(time.RFC3339) + `","minutes":42`; !strings.Contains(string(got), want) {
		t.Errorf("polled attendance = %s, want %s", got, want)
	}
	time.Sleep(2500 * time.Millisecond) // polls go on
	e.eventually("settled", e.settled)
	if n := e.notesWith(id, false, "attendance of meeting"); n != 1 {
		t.Errorf("%d attendance notes after repeated polls, want 1", n)
	}
}
