package zoom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Zoom's webhook headers.
const (
	HeaderSignature = "x-zm-signature"
	HeaderTimestamp = "x-zm-request-timestamp"
)

// MaxWebhookAge is how old a signed event may be: older ones are refused
// as replays.
const MaxWebhookAge = 5 * time.Minute

// VerifyWebhook checks Zoom's signature, v0=HMAC-SHA256(secret,
// "v0:{timestamp}:{raw body}"), in constant time, and the timestamp's age.
func VerifyWebhook(secret string, body []byte, timestamp, signature string, now time.Time) error {
	if secret == "" {
		return errors.New("no secret token configured")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not a number", timestamp)
	}
	if age := now.Sub(time.Unix(ts, 0)); age > MaxWebhookAge || age < -MaxWebhookAge {
		return fmt.Errorf("timestamp is %s away from now; refused as a replay", age.Round(time.Second))
	}
	got, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return errors.New("signature is not v0")
	}
	want := WebhookSignature(secret, timestamp, body)
	if !hmac.Equal([]byte(got), []byte(want)) {
		return errors.New("signature does not match")
	}
	return nil
}

// WebhookSignature is the hex HMAC Zoom sends after "v0=".
func WebhookSignature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// EncryptedToken answers endpoint.url_validation.
func EncryptedToken(secret, plainToken string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(plainToken))
	return hex.EncodeToString(mac.Sum(nil))
}

// Event is a Zoom webhook event, as woozoom reads it.
type Event struct {
	Event   string `json:"event"`
	EventTS int64  `json:"event_ts"`
	Payload struct {
		AccountID  string `json:"account_id"`
		Operator   string `json:"operator"`
		OperatorID string `json:"operator_id"`
		PlainToken string `json:"plainToken"`
		Object     struct {
			// ID is a number in most events and a string in the ended ones.
			ID         json.Number `json:"id"`
			UUID       string      `json:"uuid"`
			Topic      string      `json:"topic"`
			StartTime  string      `json:"start_time"`
			Duration   *int        `json:"duration"`
			Timezone   string      `json:"timezone"`
			Registrant *struct {
				ID        string `json:"id"`
				Email     string `json:"email"`
				FirstName string `json:"first_name"`
				LastName  string `json:"last_name"`
			} `json:"registrant"`
		} `json:"object"`
	} `json:"payload"`
}

// ParseEvent reads an event.
func ParseEvent(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("read Zoom event: %w", err)
	}
	if e.Event == "" {
		return e, errors.New("read Zoom event: no event name")
	}
	return e, nil
}

// TargetID is the meeting or webinar id of the event (0 if none).
func (e Event) TargetID() int64 {
	id, _ := strconv.ParseInt(string(e.Payload.Object.ID), 10, 64)
	return id
}

// Target is the meeting or webinar the event is about, if it names one.
func (e Event) Target() (rules.Target, bool) {
	kind, _, _ := strings.Cut(e.Event, ".")
	t := rules.Target{Kind: rules.TargetKind(kind), ID: e.TargetID()}
	return t, (t.Kind == rules.Meeting || t.Kind == rules.Webinar) && t.ID != 0
}
