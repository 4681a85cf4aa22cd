package zoom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/woozoom/woozoom/rules"
)

type addRegistrantRequest struct {
	Email       string `json:"email"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name,omitempty"`
	AutoApprove *bool  `json:"auto_approve,omitempty"` // meetings only
}

type addRegistrantResponse struct {
	ID           int64  `json:"id"`
	RegistrantID string `json:"registrant_id"`
	JoinURL      string `json:"join_url"`
}

// AddRegistrant registers a person on a meeting or webinar (on the given
// occurrences of a recurring one, comma-separated; empty for all) and
// returns the seat Zoom holds for them. Zoom answers an email it already has
// with the existing registrant. A registrant without a join URL awaits
// approval.
func (c *Client) AddRegistrant(ctx context.Context, t rules.Target, p rules.Person, occurrences string) (rules.Seat, error) {
	path, err := targetPath(t)
	if err != nil {
		return rules.Seat{}, err
	}
	body := addRegistrantRequest{Email: p.Email, FirstName: p.FirstName, LastName: p.LastName}
	if t.Kind == rules.Meeting {
		// A paid ticket is approved even where the meeting asks for manual approval.
		yes := true
		body.AutoApprove = &yes
	}
	var out addRegistrantResponse
	var query map[string]string
	if occurrences != "" {
		query = map[string]string{"occurrence_ids": occurrences}
	}
	err = c.do(ctx, call{
		op: fmt.Sprintf("register %s on %s", p.Email, t), cat: light,
		method: http.MethodPost, path: path + "/registrants", query: query, body: body, result: &out,
	})
	if err != nil {
		return rules.Seat{}, err
	}
	if out.RegistrantID == "" {
		return rules.Seat{}, fmt.Errorf("register %s on %s: zoom answered without a registrant_id: %w", p.Email, t, rules.ErrTemporary)
	}
	status := rules.SeatApproved
	if out.JoinURL == "" {
		status = rules.SeatPending
	}
	return rules.Seat{
		SeatKey:      rules.SeatKey{Target: t, Email: rules.NormalizeEmail(p.Email)},
		RegistrantID: out.RegistrantID, JoinURL: out.JoinURL, Status: status,
	}, nil
}

type statusRegistrant struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
}

type statusRequest struct {
	Action      string             `json:"action"`
	Registrants []statusRegistrant `json:"registrants"`
}

// UpdateStatus approves or cancels up to 30 registrants of one target. The
// call waits for changes of other jobs to join it (one call carries up to
// 30); meanwhile the caller's worker slot, if given, is yielded to another
// job, and how busy the other slots are says how long to wait.
func (c *Client) UpdateStatus(ctx context.Context, slot rules.Slot, t rules.Target, action rules.ActionKind, seats []rules.Seat) error {
	if action != rules.Approve && action != rules.Cancel {
		return fmt.Errorf("update registrant status: unknown action %q: %w", action, rules.ErrPermanent)
	}
	if len(seats) == 0 {
		return nil
	}
	if len(seats) > MaxStatusBatch {
		return fmt.Errorf("%s %d registrants on %s: at most %d per call: %w", action, len(seats), t, MaxStatusBatch, rules.ErrPermanent)
	}
	if _, err := targetPath(t); err != nil {
		return err
	}
	if slot == nil {
		slot = rules.NoSlot{}
	}
	return c.status.update(ctx, slot, t, action, seats)
}

// sendStatus sends one status call for seats; paced says the caller
// already waited for the Medium category's turn.
func (c *Client) sendStatus(ctx context.Context, t rules.Target, action rules.ActionKind, seats []rules.Seat, paced bool) error {
	path, err := targetPath(t)
	if err != nil {
		return err
	}
	body := statusRequest{Action: string(action)}
	for _, s := range seats {
		body.Registrants = append(body.Registrants, statusRegistrant{ID: s.RegistrantID, Email: s.Email})
	}
	return c.do(ctx, call{
		op: fmt.Sprintf("%s %d registrants on %s", action, len(seats), t), cat: medium,
		method: http.MethodPut, path: path + "/registrants/status", body: body, paced: paced,
	})
}

type registrantItem struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	JoinURL string `json:"join_url"`
	Status  string `json:"status"`
}

func (r registrantItem) seat(t rules.Target) rules.Seat {
	return rules.Seat{
		SeatKey:      rules.SeatKey{Target: t, Email: rules.NormalizeEmail(r.Email)},
		RegistrantID: r.ID, JoinURL: r.JoinURL, Status: rules.SeatStatus(r.Status),
	}
}

type registrantList struct {
	NextPageToken string           `json:"next_page_token"`
	Registrants   []registrantItem `json:"registrants"`
}

// Registrants lists a target's registrants with a status (approved,
// pending or denied; Zoom lists only approved ones unless asked).
func (c *Client) Registrants(ctx context.Context, t rules.Target, status rules.SeatStatus) ([]rules.Seat, error) {
	path, err := targetPath(t)
	if err != nil {
		return nil, err
	}
	var out []rules.Seat
	token := ""
	for {
		var page registrantList
		q := map[string]string{"status": string(status), "page_size": "300"}
		if token != "" {
			q["next_page_token"] = token
		}
		err := c.do(ctx, call{
			op: fmt.Sprintf("list %s registrants of %s", status, t), cat: medium,
			method: http.MethodGet, path: path + "/registrants", query: q, result: &page,
		})
		if err != nil {
			return nil, err
		}
		for _, r := range page.Registrants {
			out = append(out, r.seat(t))
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		token = page.NextPageToken
	}
}

// Registrant returns one registrant of a target by id, with its join URL.
func (c *Client) Registrant(ctx context.Context, t rules.Target, id string) (rules.Seat, error) {
	path, err := targetPath(t)
	if err != nil {
		return rules.Seat{}, err
	}
	var r registrantItem
	err = c.do(ctx, call{
		op: fmt.Sprintf("get registrant %s of %s", id, t), cat: light,
		method: http.MethodGet, path: path + "/registrants/" + url.PathEscape(id), result: &r,
	})
	if err != nil {
		return rules.Seat{}, err
	}
	return r.seat(t), nil
}

type details struct {
	ID        int64  `json:"id"`
	Topic     string `json:"topic"`
	StartTime string `json:"start_time"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
	Password  string `json:"password"`
	JoinURL   string `json:"join_url"`
	HostID    string `json:"host_id"`
	HostEmail string `json:"host_email"`
	Settings  struct {
		ApprovalType *int `json:"approval_type"`
	} `json:"settings"`
	Occurrences []struct {
		StartTime string `json:"start_time"`
		Status    string `json:"status"`
	} `json:"occurrences"`
}

// Details returns what the customer needs to know of a meeting or webinar.
func (c *Client) Details(ctx context.Context, t rules.Target) (rules.TargetDetails, error) {
	m, err := c.Meeting(ctx, t)
	return m.TargetDetails, err
}

// Meeting is what woozoom checks of a meeting or webinar before relying on
// it: that it exists, takes registrations, and whose it is.
type Meeting struct {
	rules.TargetDetails
	HostID    string
	HostEmail string
	// ApprovalType is 0 (automatic), 1 (manual) or 2 (no registration).
	ApprovalType int
}

// RegistrationOn reports whether the meeting takes registrants.
func (m Meeting) RegistrationOn() bool { return m.ApprovalType != 2 }

// Meeting reads a meeting or webinar.
func (c *Client) Meeting(ctx context.Context, t rules.Target) (Meeting, error) {
	path, err := targetPath(t)
	if err != nil {
		return Meeting{}, err
	}
	var d details
	if err := c.do(ctx, call{op: "get " + t.String(), cat: light, method: http.MethodGet, path: path, result: &d}); err != nil {
		return Meeting{}, err
	}
	return d.meeting(t), nil
}

// meeting is what woozoom keeps of a meeting Zoom described.
func (d details) meeting(t rules.Target) Meeting {
	m := Meeting{
		TargetDetails: rules.TargetDetails{Target: t, Topic: d.Topic, Duration: d.Duration, Timezone: d.Timezone,
			Passcode: d.Password, JoinURL: d.JoinURL},
		HostID: d.HostID, HostEmail: d.HostEmail, ApprovalType: 2,
	}
	if d.Settings.ApprovalType != nil {
		m.ApprovalType = *d.Settings.ApprovalType
	}
	if st, err := time.Parse(time.RFC3339, d.StartTime); err == nil {
		m.StartTime = st.UTC()
	}
	for _, o := range d.Occurrences {
		if st, err := time.Parse(time.RFC3339, o.StartTime); err == nil && o.Status != "deleted" {
			m.Occurrences = append(m.Occurrences, st.UTC())
		}
	}
	return m
}

// User is an account user, as woozoom needs to know a host.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	// Type is 1 (Basic), 2 (Licensed), 4 (Unassigned without Meetings
	// Basic) or 99 (None).
	Type int `json:"type"`
}

// Licensed reports whether the user may host meetings with registration.
func (u User) Licensed() bool { return u.Type == 2 }

// TypeName names the user's type as Zoom's admin pages do.
func (u User) TypeName() string {
	switch u.Type {
	case 1:
		return "Basic"
	case 2:
		return "Licensed"
	case 4:
		return "Unassigned without Meetings Basic"
	case 99:
		return "None"
	}
	return fmt.Sprintf("type %d", u.Type)
}

// User reads a user by id or email.
func (c *Client) User(ctx context.Context, id string) (User, error) {
	var u User
	err := c.do(ctx, call{op: "get user " + id, cat: light, method: http.MethodGet, path: "/users/" + url.PathEscape(id), result: &u})
	return u, err
}

// Scopes returns the scopes of the app's access token (minting one if
// needed).
func (c *Client) Scopes(ctx context.Context) ([]string, error) {
	return c.tokens.Scopes(ctx)
}

// Users lists the account's active users (to pick a host).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out []User
	for page := 1; ; page++ {
		var body struct {
			PageCount int    `json:"page_count"`
			Users     []User `json:"users"`
		}
		err := c.do(ctx, call{op: fmt.Sprintf("list users (page %d)", page), cat: medium, method: http.MethodGet, path: "/users",
			query: map[string]string{"status": "active", "page_size": "300", "page_number": strconv.Itoa(page)}, result: &body})
		if err != nil {
			return nil, err
		}
		out = append(out, body.Users...)
		if page >= body.PageCount || len(body.Users) == 0 {
			return out, nil
		}
	}
}

// EnableRegistration turns on registration with automatic approval.
func (c *Client) EnableRegistration(ctx context.Context, t rules.Target) error {
	path, err := targetPath(t)
	if err != nil {
		return err
	}
	body := map[string]any{"settings": map[string]any{"approval_type": 0}}
	return c.do(ctx, call{op: "turn on registration for " + t.String(), cat: light, method: http.MethodPatch, path: path, body: body})
}
