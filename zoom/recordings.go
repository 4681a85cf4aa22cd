package zoom

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/woozoom/woozoom/rules"
)

// ErrNoRecording says a meeting has no cloud recording (Zoom's 3301): none
// was made, or it was deleted.
var ErrNoRecording = fmt.Errorf("%w: no cloud recording", rules.ErrNotFound)

// Recording reads the cloud recording of t's latest instance: its share
// link and passcode.
func (c *Client) Recording(ctx context.Context, t rules.Target) (rules.Recording, error) {
	if !t.OnZoom() {
		return rules.Recording{}, fmt.Errorf("%s has no recording on Zoom: %w", t, rules.ErrPermanent)
	}
	var r struct {
		UUID     string `json:"uuid"`
		ShareURL string `json:"share_url"`
		Password string `json:"password"`
	}
	err := c.do(ctx, call{op: fmt.Sprintf("read the recording of %s", t), cat: light, method: http.MethodGet,
		path: fmt.Sprintf("/meetings/%d/recordings", t.ID), result: &r})
	var ze *Error
	if errors.As(err, &ze) && ze.HTTPStatus == http.StatusNotFound && ze.Code == 3301 {
		return rules.Recording{}, fmt.Errorf("%s: %w", t, ErrNoRecording)
	}
	if err != nil {
		return rules.Recording{}, err
	}
	return rules.Recording{Target: t, Instance: r.UUID, ShareURL: r.ShareURL, Passcode: r.Password}, nil
}
