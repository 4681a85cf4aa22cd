package zoomtest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PastParticipant is one session of someone in an ended meeting: Zoom
// lists a person who rejoined once per session.
type PastParticipant struct {
	Name         string
	Email        string // empty: joined without signing in
	RegistrantID string // empty: joined without registering
	Join, Leave  time.Time
}

// pastInstance is one ended instance of a meeting or webinar.
type pastInstance struct {
	uuid    string
	id      int64
	webinar bool
	start   time.Time // the first join, else the end less the duration
	parts   []PastParticipant
	readyAt time.Time // Zoom's report lags the end
}

var rePast = regexp.MustCompile(`^/v2/(past_meetings|past_webinars)/([^/]+)/participants$`)

// EndMeeting ends an instance of a meeting or webinar, named by uuid (a
// Zoom UUID may hold "/" and "=" characters), with who was in it. Its
// participants report is ready after ready (Zoom's lags the end); until
// then Zoom answers 3001 "Meeting ID is invalid or not end.". The ended
// event goes to the webhook, if one is set; its status is returned (0
// without one).
func (f *Fake) EndMeeting(id int64, uuid string, ready time.Duration, parts ...PastParticipant) (int, error) {
	f.mu.Lock()
	t := f.targets[id]
	if t == nil {
		f.mu.Unlock()
		return 0, fmt.Errorf("no meeting %d", id)
	}
	if f.past == nil {
		f.past = map[string]*pastInstance{}
	}
	start := f.Now().Add(-time.Duration(t.spec.Duration) * time.Minute)
	for i, p := range parts {
		if i == 0 || p.Join.Before(start) {
			start = p.Join
		}
	}
	f.past[uuid] = &pastInstance{uuid: uuid, id: id, webinar: t.spec.Webinar, start: start, parts: parts, readyAt: f.Now().Add(ready)}
	f.latestPast[id] = uuid
	obj := f.object(t)
	hook := f.hookURL
	f.mu.Unlock()
	if hook == "" {
		return 0, nil
	}
	// In the ended events the id is a string (the registration events
	// carry a number).
	obj["id"], obj["uuid"] = strconv.FormatInt(id, 10), uuid
	obj["start_time"], obj["end_time"] = start.UTC().Format(time.RFC3339), f.Now().UTC().Format(time.RFC3339)
	return f.SendEvent(kind(t)+".ended", map[string]any{"account_id": f.creds.AccountID, "object": obj})
}

// pastInstanceOf finds the instance a path names: a UUID, encoded twice
// when it begins with "/" or holds "//" (once is then a different path),
// or a meeting id for its latest instance.
func (f *Fake) pastInstanceOf(escaped string) (*pastInstance, string) {
	m := rePast.FindStringSubmatch(escaped)
	if m == nil {
		return nil, ""
	}
	raw := instanceName(m[2])
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		raw = f.latestPast[id]
	}
	p := f.past[raw]
	if p == nil || p.webinar != (m[1] == "past_webinars") {
		return nil, raw
	}
	return p, raw
}

// instanceName reads a meeting id or an instance's UUID from its path
// segment: encoded twice when the UUID begins with "/" or holds "//".
func instanceName(escaped string) string {
	raw, err := url.PathUnescape(escaped)
	if err != nil {
		return escaped
	}
	if strings.Contains(raw, "%") {
		if twice, err := url.PathUnescape(raw); err == nil {
			raw = twice
		}
	}
	return raw
}

// listPastParticipants serves a past instance's participants, paged as
// Zoom pages them.
func (f *Fake) listPastParticipants(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, ok := queryInt(w, q, "page_size", 30, 300)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, name := f.pastInstanceOf(r.URL.EscapedPath())
	if p == nil {
		writeError(w, http.StatusNotFound, 3001, fmt.Sprintf("Meeting does not exist: %s.", name))
		return
	}
	if f.Now().Before(p.readyAt) {
		writeError(w, http.StatusNotFound, 3001, "Meeting ID is invalid or not end.")
		return
	}
	offset, ok := f.pageStart(w, q.Get("next_page_token"), "The next page token is invalid or expired.")
	if !ok {
		return
	}
	end := min(offset+size, len(p.parts))
	list := []map[string]any{}
	for i, s := range p.parts[offset:end] {
		item := map[string]any{
			"id": fmt.Sprintf("p%d", offset+i), "user_id": strconv.Itoa(16778240 + offset + i), "name": s.Name,
			"join_time": s.Join.UTC().Format(time.RFC3339), "leave_time": s.Leave.UTC().Format(time.RFC3339),
			"duration": int(s.Leave.Sub(s.Join).Seconds()), "failover": false, "status": "in_meeting",
		}
		if s.Email != "" {
			item["user_email"] = s.Email
		}
		if s.RegistrantID != "" {
			item["registrant_id"] = s.RegistrantID
		}
		list = append(list, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page_count": (len(p.parts) + size - 1) / size, "page_size": size, "total_records": len(p.parts),
		"next_page_token": f.pageToken(end, len(p.parts)), "participants": list,
	})
}
