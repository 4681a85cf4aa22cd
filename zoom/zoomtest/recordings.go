package zoomtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// recording is a meeting's cloud recording as the fake holds it.
type recording struct {
	uuid     string
	share    string
	passcode string
}

var reRecordings = regexp.MustCompile(`^/v2/meetings/([^/]+)/recordings$`)

// CompleteRecording gives a meeting or webinar a cloud recording with its
// share link and passcode, and sends recording.completed (its status, 0
// without a webhook). A second recording replaces the first.
func (f *Fake) CompleteRecording(id int64, uuid, share, passcode string) (int, error) {
	f.mu.Lock()
	t := f.targets[id]
	if t == nil {
		f.mu.Unlock()
		return 0, fmt.Errorf("no meeting %d", id)
	}
	if f.recordings == nil {
		f.recordings = map[int64]*recording{}
	}
	f.recordings[id] = &recording{uuid: uuid, share: share, passcode: passcode}
	obj := f.recordingJSON(t, f.recordings[id])
	hook := f.hookURL
	f.mu.Unlock()
	if hook == "" {
		return 0, nil
	}
	return f.SendEvent("recording.completed", map[string]any{"account_id": f.creds.AccountID, "object": obj})
}

// DeleteRecording moves a meeting's recording to the trash, as its host
// would, and sends recording.trashed.
func (f *Fake) DeleteRecording(id int64) (int, error) {
	f.mu.Lock()
	t, rec := f.targets[id], f.recordings[id]
	delete(f.recordings, id)
	hook := f.hookURL
	f.mu.Unlock()
	if t == nil || rec == nil {
		return 0, fmt.Errorf("no recording of %d", id)
	}
	if hook == "" {
		return 0, nil
	}
	obj := map[string]any{"id": t.id, "uuid": rec.uuid, "host_id": "host-" + t.spec.HostEmail, "topic": t.spec.Topic, "type": recordingType(t)}
	return f.SendEvent("recording.trashed", map[string]any{"account_id": f.creds.AccountID, "object": obj})
}

// recordingType is Zoom's type of the recorded meeting: 5 a webinar, 2 a
// scheduled meeting.
func recordingType(t *target) int {
	if t.spec.Webinar {
		return 5
	}
	return 2
}

func (f *Fake) recordingJSON(t *target, r *recording) map[string]any {
	start := t.spec.StartTime
	if start.IsZero() {
		start = f.Now().Add(-2 * time.Hour)
	}
	return map[string]any{
		"id": t.id, "uuid": r.uuid, "host_id": "host-" + t.spec.HostEmail, "topic": t.spec.Topic, "type": strconv.Itoa(recordingType(t)),
		"start_time": start.UTC().Format(time.RFC3339), "duration": t.spec.Duration, "recording_count": 1,
		"share_url": r.share, "password": r.passcode, "recording_play_passcode": "pwd" + r.passcode,
		"recording_files": []map[string]any{{"id": "f1", "meeting_id": r.uuid, "file_type": "MP4", "file_extension": "MP4",
			"recording_type": "shared_screen_with_speaker_view", "status": "completed",
			"play_url": r.share + "/play", "download_url": r.share + "/download"}},
	}
}

// getRecordings serves GET /meetings/{id}/recordings (a webinar's too).
func (f *Fake) getRecordings(w http.ResponseWriter, rawID string) {
	id, _ := strconv.ParseInt(rawID, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	t, rec := f.targets[id], f.recordings[id]
	if t == nil || rec == nil {
		writeError(w, http.StatusNotFound, 3301, "There is no recording for this meeting.")
		return
	}
	writeJSON(w, http.StatusOK, f.recordingJSON(t, rec))
}
