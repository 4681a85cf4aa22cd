package zoomtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	reCreate = regexp.MustCompile(`^/v2/users/([^/]+)/(meetings|webinars)$`)
)

// HostDailyLimit is how many meeting creates and updates Zoom allows one
// host user a day (UTC).
const HostDailyLimit = 100

// hostUsedLocked counts a create or update against the host's daily limit;
// false (and the answer written) when it is spent.
func (f *Fake) hostUsedLocked(w http.ResponseWriter, hostID string) bool {
	key := f.Now().UTC().Format("2006-01-02") + "|host|" + hostID
	if f.hostDaily[key] >= HostDailyLimit {
		f.hostRefused++
		w.Header().Set("X-RateLimit-Type", "Daily-limit")
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(HostDailyLimit))
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeError(w, http.StatusTooManyRequests, 429, fmt.Sprintf("You have exceeded the daily rate limit (%d) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.", HostDailyLimit))
		return false
	}
	f.hostDaily[key]++
	return true
}

// HostLimitRefused counts creates and updates refused for a host's daily
// limit.
func (f *Fake) HostLimitRefused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hostRefused
}

// HostUsedToday says how many creates and updates a host (by email) made
// today.
func (f *Fake) HostUsedToday(email string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.userLocked(email); u != nil {
		return f.hostDaily[f.Now().UTC().Format("2006-01-02")+"|host|"+u.ID]
	}
	return 0
}

// Meeting returns a meeting's or webinar's spec as the fake holds it.
func (f *Fake) Meeting(id int64) (Meeting, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.targets[id]
	if !ok {
		return Meeting{}, false
	}
	return t.spec, true
}

// MeetingsOf lists the ids of the meetings and webinars a host (by email)
// has, oldest first.
func (f *Fake) MeetingsOf(email string) []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for id, t := range f.targets {
		if strings.EqualFold(t.spec.HostEmail, email) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// DeletedWithReminder says whether a meeting was deleted with
// cancel_meeting_reminder=true (Zoom emails its registrants).
func (f *Fake) DeletedWithReminder(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remindedDeletes[id]
}

// targetCreate is the part of a meeting or webinar create the fake keeps.
type targetCreate struct {
	Topic      string `json:"topic"`
	Type       *int   `json:"type"`
	StartTime  string `json:"start_time"`
	Duration   int    `json:"duration"`
	Timezone   string `json:"timezone"`
	Password   string `json:"password"`
	Agenda     string `json:"agenda"`
	Recurrence *struct {
		Type           int    `json:"type"`
		RepeatInterval int    `json:"repeat_interval"`
		WeeklyDays     string `json:"weekly_days"`
		EndTimes       int    `json:"end_times"`
	} `json:"recurrence"`
	Settings struct {
		ApprovalType *int `json:"approval_type"`
	} `json:"settings"`
}

// createTarget answers POST /users/{userId}/meetings and /webinars.
func (f *Fake) createTarget(w http.ResponseWriter, r *http.Request, userID, kind string) {
	var body targetCreate
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	host := f.userOr404(w, userID)
	if host == nil {
		return
	}
	typ := 2
	if kind == "webinars" {
		typ = 5
	}
	if body.Type != nil {
		typ = *body.Type
	}
	spec, code, msg := body.meeting(kind == "webinars", typ, host)
	if code != 0 {
		writeError(w, http.StatusBadRequest, code, msg)
		return
	}
	if !f.hostUsedLocked(w, host.ID) {
		return
	}
	f.nextID += 1234567
	t := &target{id: f.nextID, spec: spec, byEmail: map[string]*Registrant{}}
	f.targets[t.id] = t
	resp := map[string]any{"id": t.id, "uuid": fmt.Sprintf("uuid%d==", t.id), "host_id": host.ID, "host_email": host.Email,
		"topic": spec.Topic, "type": typ, "duration": spec.Duration, "timezone": spec.Timezone, "password": spec.Password,
		"agenda": spec.Agenda, "created_at": f.Now().UTC().Format(time.RFC3339), "join_url": fmt.Sprintf("%s/j/%d?pwd=%s", joinHost, t.id, randomString(12)),
		"settings": map[string]any{"approval_type": spec.ApprovalType}}
	if !spec.StartTime.IsZero() {
		resp["start_time"] = spec.StartTime.UTC().Format(time.RFC3339)
	}
	if spec.ApprovalType != 2 {
		resp["registration_url"] = fmt.Sprintf("%s/meeting/register/%s", joinHost, randomString(16))
	}
	if len(spec.Occurrences) > 0 {
		resp["occurrences"] = occurrencesJSON(spec)
	}
	writeJSON(w, http.StatusCreated, resp)
}

// meeting is what a create makes, or Zoom's code and message refusing it.
func (body targetCreate) meeting(webinar bool, typ int, host *User) (Meeting, int, string) {
	approval := 2
	if body.Settings.ApprovalType != nil {
		approval = *body.Settings.ApprovalType
	}
	switch {
	case approval < 0 || approval > 2:
		return Meeting{}, 300, "Invalid field: approval_type."
	case approval != 2 && host.Type != 2:
		return Meeting{}, 3000, "Registration cannot be enabled for a basic user."
	case len(body.Password) > 10:
		return Meeting{}, 300, "Password must be less than or equal to 10 characters."
	case len(body.Topic) > 200 || len(body.Agenda) > 2000:
		return Meeting{}, 300, "Invalid field: topic or agenda is too long."
	}
	spec := Meeting{Webinar: webinar, Topic: body.Topic, HostEmail: host.Email, Duration: body.Duration,
		Timezone: body.Timezone, Password: body.Password, Agenda: body.Agenda, ApprovalType: approval}
	if spec.Password == "" {
		// default_password (true unless sent false): the account requires
		// a passcode, and Zoom makes one that meets its rules.
		spec.Password = randomString(6)
	}
	if body.StartTime != "" {
		st, err := parseZoomTime(body.StartTime, body.Timezone)
		if err != nil {
			return Meeting{}, 300, "Invalid field: start_time."
		}
		spec.StartTime = st
	}
	if typ == 8 || typ == 9 {
		rec := body.Recurrence
		if rec == nil || spec.StartTime.IsZero() {
			return Meeting{}, 300, "Invalid field: recurrence."
		}
		step := recurrenceStep(rec.Type)
		if step == 0 || rec.EndTimes < 1 || rec.EndTimes > 60 || rec.RepeatInterval < 0 {
			return Meeting{}, 300, "Invalid field: recurrence."
		}
		spec.Occurrences = series(spec.StartTime, step*time.Duration(max(rec.RepeatInterval, 1)), rec.EndTimes)
	}
	return spec, 0, ""
}

// recurrenceStep is the time between occurrences of a recurrence type the
// fake models (1 daily, 2 weekly); 0 for others.
func recurrenceStep(typ int) time.Duration {
	return map[int]time.Duration{1: 24 * time.Hour, 2: 7 * 24 * time.Hour}[typ]
}

// series lists n occurrence starts, step apart, at most the 50 Zoom lists.
func series(start time.Time, step time.Duration, n int) []time.Time {
	out := make([]time.Time, 0, min(n, 50))
	for i := range min(n, 50) {
		out = append(out, start.Add(time.Duration(i)*step))
	}
	return out
}

// parseZoomTime reads Zoom's start_time: with Z it is UTC, without it is
// local to timezone.
func parseZoomTime(s, tz string) (time.Time, error) {
	if strings.HasSuffix(s, "Z") {
		return time.Parse(time.RFC3339, s)
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return time.Time{}, err
		}
		loc = l
	}
	return time.ParseInLocation("2006-01-02T15:04:05", s, loc)
}

// deleteTarget answers DELETE of a meeting or webinar: 204.
func (f *Fake) deleteTarget(w http.ResponseWriter, r *http.Request, kind, rawID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.lookup(w, kind, rawID)
	if t == nil {
		return
	}
	if r.URL.Query().Get("cancel_meeting_reminder") == "true" {
		f.remindedDeletes[t.id] = true
	}
	delete(f.targets, t.id)
	w.WriteHeader(http.StatusNoContent)
}

// listTargets answers GET /users/{userId}/meetings and /webinars: the
// host's scheduled ones, agenda cut to 250 characters as Zoom cuts it,
// paged by page_number (page_size up to 300).
func (f *Fake) listTargets(w http.ResponseWriter, r *http.Request, userID, kind string) {
	q := r.URL.Query()
	size, page, ok := pageQuery(w, q, 300)
	if !ok {
		return
	}
	if typ := q.Get("type"); typ != "" && !slices.Contains([]string{"scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"}, typ) {
		writeError(w, http.StatusBadRequest, 300, "Invalid field: type.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	host := f.userOr404(w, userID)
	if host == nil {
		return
	}
	var all []*target
	for _, t := range f.targets {
		if strings.EqualFold(t.spec.HostEmail, host.Email) && t.spec.Webinar == (kind == "webinars") {
			all = append(all, t)
		}
	}
	slices.SortFunc(all, func(a, b *target) int { return cmp.Compare(a.id, b.id) })
	list := []map[string]any{}
	for i := (page - 1) * size; i < len(all) && i < page*size; i++ {
		t := all[i]
		agenda := t.spec.Agenda
		if len(agenda) > 250 {
			agenda = agenda[:250]
		}
		typ := map[bool]int{false: 2, true: 5}[t.spec.Webinar]
		if len(t.spec.Occurrences) > 0 {
			typ += 6
		}
		item := map[string]any{"id": t.id, "uuid": fmt.Sprintf("uuid%d==", t.id), "host_id": host.ID, "topic": t.spec.Topic,
			"type": typ, "duration": t.spec.Duration, "timezone": t.spec.Timezone, "agenda": agenda,
			"created_at": "2026-11-01T09:00:00Z", "join_url": fmt.Sprintf("%s/j/%d", joinHost, t.id)}
		if !t.spec.StartTime.IsZero() {
			item["start_time"] = t.spec.StartTime.UTC().Format(time.RFC3339)
		}
		list = append(list, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"page_count": max((len(all)+size-1)/size, 1), "page_number": page, "page_size": size,
		"total_records": len(all), "next_page_token": "", kind: list})
}
