package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/woo/wootest"
	"github.com/woozoom/woozoom/zoom/zoomtest"
)

// map add reads the meeting from Zoom: registration off is refused with
// how to fix it, and --fix turns it on; a Basic host and a missing meeting
// are refused; zoom users shows who can host.
func TestMapAddChecksTheMeeting(t *testing.T) {
	e := startE2E(t)
	basic := e.zoom.AddUser(zoomtest.User{Email: "intern@shop.example", FirstName: "In", LastName: "Tern", Type: 1})
	off := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Open day", HostEmail: "host@shop.example", Duration: 60, ApprovalType: 2})
	ofBasic := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Intern's call", HostEmail: basic.Email, Duration: 30})

	out, code := e.cli("map", "add", "--product", "20", "--meeting", fmt.Sprint(off))
	if code == 0 || !strings.Contains(out, `"Open day"`) || !strings.Contains(out, "registration off") || !strings.Contains(out, "--fix") {
		t.Errorf("registration off: exit %d\n%s", code, out)
	}
	if list, _ := e.cli("map", "list"); strings.Contains(list, fmt.Sprint(off)) {
		t.Errorf("a meeting without registration was mapped:\n%s", list)
	}
	out, code = e.cli("map", "add", "--product", "20", "--meeting", fmt.Sprint(off), "--fix")
	if code != 0 || !strings.Contains(out, "registration turned on") || !strings.Contains(out, "product 20 now maps to") {
		t.Fatalf("--fix: exit %d\n%s", code, out)
	}
	e.shop.CreateOrder(wootest.Order{Status: "completed", FirstName: "Ole", Email: "ole@example.org", Items: []wootest.Item{{ProductID: 20}}})
	e.eventually("the attendee registered on the fixed meeting", func() bool { return e.zoomStatus(off, "ole@example.org") == "approved" })

	if out, code := e.cli("map", "add", "--product", "21", "--meeting", fmt.Sprint(ofBasic)); code == 0 || !strings.Contains(out, "is a Basic user") {
		t.Errorf("Basic host: exit %d\n%s", code, out)
	}
	if out, code := e.cli("map", "add", "--product", "22", "--meeting", "81299999999"); code == 0 || !strings.Contains(out, "no meeting 81299999999 on Zoom") {
		t.Errorf("missing meeting: exit %d\n%s", code, out)
	}
	if out, code := e.cli("map", "add", "--product", "22", "--meeting", "81299999999", "--no-check"); code != 0 {
		t.Errorf("--no-check: exit %d\n%s", code, out)
	}

	out, code = e.cli("zoom", "users")
	if code != 0 {
		t.Fatalf("zoom users: exit %d\n%s", code, out)
	}
	for _, want := range []string{"host@shop.example", "Licensed", "intern@shop.example", "In Tern", "no: Zoom refuses registration on meetings of Basic users"} {
		if !strings.Contains(out, want) {
			t.Errorf("zoom users lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, e2eZoomSecret) {
		t.Error("zoom users printed the client secret")
	}
}

// Mappings in config.yaml are read from Zoom at start: a warning for each
// that cannot take attendees.
func TestStartWarnsAboutBadMappings(t *testing.T) {
	e := startE2E(t)
	off := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Open day", HostEmail: "host@shop.example", Duration: 60, ApprovalType: 2})
	gone := e.zoom.CreateMeeting(zoomtest.Meeting{Topic: "Gone", HostEmail: "host@shop.example", Duration: 60})
	e.zoom.DeleteMeeting(gone)
	e.serveWith(func(cfg string) string {
		return strings.Replace(cfg, "events:\n", fmt.Sprintf("events:\n  - product_id: 30\n    meeting_id: %d\n  - product_id: 31\n    meeting_id: %d\n", off, gone), 1)
	})
	e.eventually("both warned about", func() bool {
		logs := e.logs.String()
		return strings.Contains(logs, fmt.Sprintf(`cannot take attendees" product_id=30 problem="meeting %d \"Open day\" has registration off`, off)) &&
			strings.Contains(logs, fmt.Sprintf(`cannot take attendees" product_id=31 problem="no meeting %d on Zoom`, gone))
	})
	if strings.Contains(e.logs.String(), "cannot take attendees\" product_id=10 ") {
		t.Error("a working meeting was warned about")
	}
}
