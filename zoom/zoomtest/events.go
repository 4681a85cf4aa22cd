package zoomtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SetWebhook makes the fake send its events to url, signed with secret as
// a Zoom app's event subscription does.
func (f *Fake) SetWebhook(url, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hookURL, f.hookSecret = url, secret
}

// SendEvent sends one event (signed, as Zoom does) and returns the answer's
// status. Zoom needs 200 or 204 within 3 seconds.
func (f *Fake) SendEvent(event string, payload map[string]any) (int, error) {
	f.mu.Lock()
	url, secret := f.hookURL, f.hookSecret
	now := f.Now()
	f.mu.Unlock()
	if url == "" {
		return 0, fmt.Errorf("no webhook set")
	}
	body, err := json.Marshal(map[string]any{"event": event, "event_ts": now.UnixMilli(), "payload": payload})
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-zm-request-timestamp", ts)
	req.Header.Set("x-zm-signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

func (f *Fake) object(t *target) map[string]any {
	o := map[string]any{"id": t.id, "uuid": fmt.Sprintf("uuid-%d", t.id), "topic": t.spec.Topic, "duration": t.spec.Duration,
		"timezone": t.spec.Timezone, "host_id": "host-" + t.spec.HostEmail}
	if !t.spec.StartTime.IsZero() {
		o["start_time"] = t.spec.StartTime.UTC().Format(time.RFC3339)
	}
	return o
}

func kind(t *target) string {
	if t.spec.Webinar {
		return "webinar"
	}
	return "meeting"
}

// HostCancel cancels (or, with deny, denies) a registrant as a host does in
// Zoom's web portal, and sends the event.
func (f *Fake) HostCancel(id int64, email, operator string, deny bool) (int, error) {
	f.mu.Lock()
	t, ok := f.targets[id]
	if !ok {
		f.mu.Unlock()
		return 0, fmt.Errorf("no meeting %d", id)
	}
	r, ok := t.byEmail[strings.ToLower(email)]
	if !ok {
		f.mu.Unlock()
		return 0, fmt.Errorf("no registrant %s on %d", email, id)
	}
	r.Status = "denied"
	obj := f.object(t)
	obj["registrant"] = map[string]any{"id": r.ID, "email": r.Email, "first_name": r.FirstName, "last_name": r.LastName}
	event := kind(t) + ".registration_cancelled"
	if deny {
		event = kind(t) + ".registration_denied"
	}
	f.mu.Unlock()
	return f.SendEvent(event, map[string]any{"account_id": f.creds.AccountID, "operator": operator, "operator_id": "op-1", "object": obj})
}

// UpdateMeeting moves or renames a meeting as its host does, and sends
// meeting.updated with only what changed, as Zoom does.
func (f *Fake) UpdateMeeting(id int64, start time.Time, topic, operator string) (int, error) {
	f.mu.Lock()
	t, ok := f.targets[id]
	if !ok {
		f.mu.Unlock()
		return 0, fmt.Errorf("no meeting %d", id)
	}
	old := f.object(t)
	changed := map[string]any{"id": t.id}
	if !start.IsZero() {
		t.spec.StartTime = start
		changed["start_time"] = start.UTC().Format(time.RFC3339)
	}
	if topic != "" {
		t.spec.Topic = topic
		changed["topic"] = topic
	}
	event := kind(t) + ".updated"
	f.mu.Unlock()
	return f.SendEvent(event, map[string]any{"account_id": f.creds.AccountID, "operator": operator, "operator_id": "op-1",
		"object": changed, "old_object": old, "time_stamp": f.Now().UnixMilli()})
}

// DeleteMeetingAsHost deletes a meeting as its host does, and sends the
// event.
func (f *Fake) DeleteMeetingAsHost(id int64, operator string) (int, error) {
	f.mu.Lock()
	t, ok := f.targets[id]
	if !ok {
		f.mu.Unlock()
		return 0, fmt.Errorf("no meeting %d", id)
	}
	obj := f.object(t)
	event := kind(t) + ".deleted"
	delete(f.targets, id)
	f.mu.Unlock()
	return f.SendEvent(event, map[string]any{"account_id": f.creds.AccountID, "operator": operator, "operator_id": "op-1", "operation": "all", "object": obj})
}

// DeleteOccurrenceAsHost deletes one occurrence of a series in Zoom's web
// portal, as its host would: the series lives on without it. Zoom sends
// meeting.deleted all the same, with operation "single" and the occurrence.
func (f *Fake) DeleteOccurrenceAsHost(id int64, start time.Time, operator string) (int, error) {
	f.mu.Lock()
	t, ok := f.targets[id]
	if !ok {
		f.mu.Unlock()
		return 0, fmt.Errorf("no meeting %d", id)
	}
	i := slices.IndexFunc(t.spec.Occurrences, start.Equal)
	if i < 0 {
		f.mu.Unlock()
		return 0, fmt.Errorf("no occurrence at %s of %d", start, id)
	}
	t.spec.Occurrences = slices.Delete(t.spec.Occurrences, i, i+1)
	obj := f.object(t)
	obj["occurrences"] = []map[string]any{{"occurrence_id": occurrenceID(start), "start_time": start.UTC().Format(time.RFC3339), "status": "deleted"}}
	event := kind(t) + ".deleted"
	f.mu.Unlock()
	return f.SendEvent(event, map[string]any{"account_id": f.creds.AccountID, "operator": operator, "operator_id": "op-1", "operation": "single", "object": obj})
}
