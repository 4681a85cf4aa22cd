package zoom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// ErrNoRecording says a meeting has no cloud recording (Zoom's 3301): none
// was made, or it was deleted.
var ErrNoRecording = fmt.Errorf("%w: no cloud recording", rules.ErrNotFound)

// Recording reads the cloud recording of one instance of t (by its UUID;
// empty: t's latest instance): its share link, passcode and start.
func (c *Client) Recording(ctx context.Context, t rules.Target, uuid string) (rules.Recording, error) {
	if !t.OnZoom() {
		return rules.Recording{}, fmt.Errorf("%s has no recording on Zoom: %w", t, rules.ErrPermanent)
	}
	var r struct {
		UUID      string    `json:"uuid"`
		StartTime time.Time `json:"start_time"`
		ShareURL  string    `json:"share_url"`
		Password  string    `json:"password"`
	}
	// A webinar's recordings are read at the meetings path too, by its id.
	path, what := fmt.Sprintf("/meetings/%d/recordings", t.ID), t.String()
	if uuid != "" {
		path, what = "/meetings/"+PastInstancePath(uuid)+"/recordings", fmt.Sprintf("%s (%s)", t, uuid)
	}
	err := c.do(ctx, call{op: "read the recording of " + what, cat: light, method: http.MethodGet, path: path, result: &r})
	var ze *Error
	if errors.As(err, &ze) && ze.HTTPStatus == http.StatusNotFound && ze.Code == 3301 {
		return rules.Recording{}, fmt.Errorf("%s: %w", what, ErrNoRecording)
	}
	if err != nil {
		return rules.Recording{}, err
	}
	return rules.Recording{Target: t, Instance: r.UUID, Start: r.StartTime, ShareURL: r.ShareURL, Passcode: r.Password}, nil
}
