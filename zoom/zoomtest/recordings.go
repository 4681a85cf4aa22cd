package zoomtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// recording is the cloud recording of one instance, as the fake holds it.
type recording struct {
	uuid     string
	start    time.Time
	share    string
	passcode string
}

var reRecordings = regexp.MustCompile(`^/v2/meetings/([^/]+)/recordings$`)

// CompleteRecording gives an instance of a meeting or webinar (by its
// UUID) a cloud recording with its share link and passcode, and sends
// recording.completed (its status, 0 without a webhook). A series has one
// per instance held; a second recording of an instance replaces the first.
// The instance started when EndMeeting's first participant joined, else at
// the scheduled start.
func (f *Fake) CompleteRecording(id int64, uuid, share, passcode string) (int, error) {
	f.mu.Lock()
	t := f.targets[id]
	if t == nil {
		f.mu.Unlock()
		return 0, fmt.Errorf("no meeting %d", id)
	}
	rec := &recording{uuid: uuid, start: t.spec.StartTime, share: share, passcode: passcode}
	if p := f.past[uuid]; p != nil {
		rec.start = p.start
	}
	if rec.start.IsZero() {
		rec.start = f.Now().Add(-2 * time.Hour)
	}
	kept := []*recording{}
	for _, r := range f.recordings[id] {
		if r.uuid != uuid {
			kept = append(kept, r)
		}
	}
	f.recordings[id] = append(kept, rec)
	obj := f.recordingJSON(t, rec)
	hook := f.hookURL
	f.mu.Unlock()
	if hook == "" {
		return 0, nil
	}
	return f.SendEvent("recording.completed", map[string]any{"account_id": f.creds.AccountID, "object": obj})
}

// DeleteRecording moves an instance's recording to the trash, as its host
// would, and sends recording.trashed. Zoom serves nothing of it until it is
// recovered.
func (f *Fake) DeleteRecording(id int64, uuid string) (int, error) {
	f.mu.Lock()
	t := f.targets[id]
	var gone *recording
	kept := []*recording{}
	for _, r := range f.recordings[id] {
		if r.uuid == uuid {
			gone = r
		} else {
			kept = append(kept, r)
		}
	}
	f.recordings[id] = kept
	if gone != nil {
		f.trash[uuid] = gone
	}
	hook := f.hookURL
	f.mu.Unlock()
	if t == nil || gone == nil {
		return 0, fmt.Errorf("no recording of %d (%s)", id, uuid)
	}
	if hook == "" {
		return 0, nil
	}
	obj := map[string]any{"id": t.id, "uuid": gone.uuid, "host_id": "host-" + t.spec.HostEmail, "topic": t.spec.Topic, "type": recordingType(t)}
	return f.SendEvent("recording.trashed", map[string]any{"account_id": f.creds.AccountID, "object": obj})
}

// RecoverRecording takes an instance's recording back from the trash, as
// its host would, and sends recording.recovered.
func (f *Fake) RecoverRecording(id int64, uuid string) (int, error) {
	f.mu.Lock()
	t, rec := f.targets[id], f.trash[uuid]
	if t == nil || rec == nil {
		f.mu.Unlock()
		return 0, fmt.Errorf("no recording of %d (%s) in the trash", id, uuid)
	}
	delete(f.trash, uuid)
	f.recordings[id] = append(f.recordings[id], rec)
	obj := f.recordingJSON(t, rec)
	hook := f.hookURL
	f.mu.Unlock()
	if hook == "" {
		return 0, nil
	}
	return f.SendEvent("recording.recovered", map[string]any{"account_id": f.creds.AccountID, "object": obj})
}

// recordingType is Zoom's type of the recorded meeting: 5 a webinar, 2 a
// scheduled meeting, 8 a series with fixed times.
func recordingType(t *target) int {
	switch {
	case t.spec.Webinar:
		return 5
	case len(t.spec.Occurrences) > 0:
		return 8
	}
	return 2
}

func (f *Fake) recordingJSON(t *target, r *recording) map[string]any {
	return map[string]any{
		"id": t.id, "uuid": r.uuid, "host_id": "host-" + t.spec.HostEmail, "topic": t.spec.Topic, "type": strconv.Itoa(recordingType(t)),
		"start_time": r.start.UTC().Format(time.RFC3339), "duration": t.spec.Duration, "recording_count": 1,
		"share_url": r.share, "password": r.passcode, "recording_play_passcode": "pwd" + r.passcode,
		"recording_files": []map[string]any{{"id": "f1", "meeting_id": r.uuid, "file_type": "MP4", "file_extension": "MP4",
			"recording_type": "shared_screen_with_speaker_view", "status": "completed",
			"play_url": r.share + "/play", "download_url": r.share + "/download"}},
	}
}

// getRecordings serves GET /meetings/{meetingId}/recordings (a webinar's
// too): by a meeting id, its latest instance's recording; by a UUID (encoded
// twice when it begins with "/" or holds "//"), that instance's.
func (f *Fake) getRecordings(w http.ResponseWriter, escaped string) {
	name := instanceName(escaped)
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, recs := range f.recordings {
		for i, r := range recs {
			if r.uuid == name || (strconv.FormatInt(id, 10) == name && i == len(recs)-1) {
				writeJSON(w, http.StatusOK, f.recordingJSON(f.targets[id], r))
				return
			}
		}
	}
	writeError(w, http.StatusNotFound, 3301, "There is no recording for this meeting.")
}
