package zoom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// ErrReportNotReady says Zoom has no participants report of an ended
// instance yet: its reports lag the end, and until then Zoom answers 3001
// "Meeting ID is invalid or not end." (zoom/api#33). Temporary: asked
// again later.
var ErrReportNotReady = fmt.Errorf("%w: Zoom's participants report is not ready yet", rules.ErrTemporary)

type participantList struct {
	NextPageToken string `json:"next_page_token"`
	Participants  []struct {
		Name         string    `json:"name"`
		Email        string    `json:"user_email"`
		RegistrantID string    `json:"registrant_id"`
		Join         time.Time `json:"join_time"`
		Leave        time.Time `json:"leave_time"`
	} `json:"participants"`
}

// PastInstancePath is the path segment of a past instance: its UUID,
// encoded twice when it begins with "/" or holds "//" (Zoom decodes the
// path once more: encoded once, such a UUID is another path).
func PastInstancePath(uuid string) string {
	if strings.HasPrefix(uuid, "/") || strings.Contains(uuid, "//") {
		return url.PathEscape(url.PathEscape(uuid))
	}
	return url.PathEscape(uuid)
}

// Participants lists who was in an ended instance of t (by its UUID), a
// session per entry as Zoom lists them.
func (c *Client) Participants(ctx context.Context, t rules.Target, uuid string) ([]rules.Participant, error) {
	var base string
	switch t.Kind {
	case rules.Meeting:
		base = "/past_meetings/"
	case rules.Webinar:
		base = "/past_webinars/"
	default:
		return nil, fmt.Errorf("%s has no participants on Zoom: %w", t, rules.ErrPermanent)
	}
	var out []rules.Participant
	token := ""
	for {
		var page participantList
		q := map[string]string{"page_size": "300"}
		if token != "" {
			q["next_page_token"] = token
		}
		err := c.do(ctx, call{
			op: fmt.Sprintf("list the participants of %s (%s)", t, uuid), cat: medium,
			method: http.MethodGet, path: base + PastInstancePath(uuid) + "/participants", query: q, result: &page,
		})
		var ze *Error
		if errors.As(err, &ze) && ze.HTTPStatus == http.StatusNotFound && ze.Code == 3001 {
			return nil, fmt.Errorf("%s (%s): %w", t, uuid, ErrReportNotReady)
		}
		if err != nil {
			return nil, err
		}
		for _, p := range page.Participants {
			out = append(out, rules.Participant{RegistrantID: p.RegistrantID, Email: p.Email, Name: p.Name, Join: p.Join, Leave: p.Leave})
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		token = page.NextPageToken
	}
}
