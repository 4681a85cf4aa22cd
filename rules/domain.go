// Package rules holds woozoom's domain types and the pure rules that turn an
// order, the event mappings and what Zoom already holds into a plan of Zoom
// actions. It imports only the standard library, so every rule is table-tested
// without a server, a database or a clock.
package rules

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TargetKind says whether a target is a Zoom meeting or a webinar.
type TargetKind string

const (
	Meeting TargetKind = "meeting"
	Webinar TargetKind = "webinar"
	// Link is an event held elsewhere (Jitsi, Google Meet, Teams, YouTube):
	// woozoom gives its link, with no Zoom call.
	Link TargetKind = "link"
)

// OnZoom reports whether the target is a Zoom meeting or webinar.
func (t Target) OnZoom() bool { return t.Kind == Meeting || t.Kind == Webinar }

// LinkTarget names an event held at a link: its id is a stable hash of the
// link, so it stays the same across restarts and config edits.
func LinkTarget(link string) Target {
	h := fnv.New64a()
	h.Write([]byte(strings.TrimSpace(link)))
	return Target{Kind: Link, ID: int64(h.Sum64() >> 1)}
}

// Target is a Zoom meeting or webinar that attendees are registered on.
type Target struct {
	Kind TargetKind
	ID   int64
}

func (t Target) String() string { return fmt.Sprintf("%s %d", t.Kind, t.ID) }

// DefaultZoomAccount names the account of config.yaml's zoom: section
// (with zoom_accounts:, a mapping that names none is the first's).
const DefaultZoomAccount = "default"

// Order statuses that the rules know. Any other status changes nothing.
const (
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
	StatusRefunded  = "refunded"
	StatusTrash     = "trash"
)

// Person is a name with an email.
type Person struct {
	FirstName string
	LastName  string
	Email     string // normalised: the form compared and stored as the key
	// TypedEmail is the email as written in the order, when it differs
	// from Email only in case or spaces: what the attendee sees.
	TypedEmail string
}

// ShownEmail is the email as the attendee typed it.
func (p Person) ShownEmail() string {
	if p.TypedEmail != "" {
		return p.TypedEmail
	}
	return p.Email
}

// Order is the part of a WooCommerce order that the rules read.
type Order struct {
	ID       int64
	Status   string
	Modified time.Time // date_modified_gmt; zero when unknown (order.deleted)
	Billing  Person
	Items    []LineItem
	Meta     []Meta
	// Deleted is set for an order.deleted delivery: the order went to the trash.
	Deleted bool
	// Reread is set for woozoom's own order.refresh: the view to apply is
	// the order as the shop has it now (after a change woozoom learned of
	// elsewhere: Zoom's events, a recording, attendance).
	Reread bool
	// HasRefunds says the order lists refunds; RefundedQty then holds, per
	// line item id, how many of its units were refunded (read separately).
	HasRefunds  bool
	RefundedQty map[int64]int
}

// ProductIDs are the products the order's lines hold, each once, in order.
func (o Order) ProductIDs() []int64 {
	var ids []int64
	for _, it := range o.Items {
		if it.ProductID != 0 && !slices.Contains(ids, it.ProductID) {
			ids = append(ids, it.ProductID)
		}
	}
	return ids
}

// LineItem is one line of an order.
type LineItem struct {
	ID          int64
	ProductID   int64
	VariationID int64
	Quantity    int
	Name        string
	Meta        []Meta
}

// Meta is one WooCommerce meta_data row; Value keeps the raw JSON.
type Meta struct {
	ID    int64
	Key   string
	Value json.RawMessage
}

// MetaValue returns the raw value of the first row with key, or nil.
func MetaValue(meta []Meta, key string) json.RawMessage {
	for _, m := range meta {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// Mapping links a product (and optionally one variation, one day of a
// multi-day event, or one bookable slot) to a target. VariationID 0 matches
// every variation of the product.
type Mapping struct {
	ProductID   int64
	VariationID int64
	// Day numbers the days of a multi-day event (0: not one). A ticket
	// covers every day, so every day's target is registered.
	Day int
	// Slot, when set, limits the mapping to tickets that booked this slot.
	// "3" matches slot 3 on any date, "3/1698" that slot on that date only.
	Slot   string
	Target Target
	// Occurrences are the occurrence ids of a recurring meeting to register
	// on, comma-separated; empty registers on every occurrence.
	Occurrences string
	// ZoomAccount names the Zoom account the target belongs to (empty: the
	// default one).
	ZoomAccount string
}

// NormalizeEmail is the one form in which emails are compared and stored.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// SeatKey names what Zoom keeps once per meeting or webinar: one registrant
// per email.
type SeatKey struct {
	Target Target
	Email  string // normalised
}

// SeatStatus mirrors a Zoom registrant's status. Zoom has no "cancelled": a
// cancelled registrant is listed as denied and cannot be added again.
type SeatStatus string

const (
	SeatApproved SeatStatus = "approved"
	SeatPending  SeatStatus = "pending"
	SeatDenied   SeatStatus = "denied"
)

// Seat is what woozoom knows Zoom holds for one email on one target.
type Seat struct {
	SeatKey
	RegistrantID string
	JoinURL      string
	Status       SeatStatus
}

// RegistrationState is the state of one order's claim on a seat.
type RegistrationState string

const (
	// Active: the order holds the seat; Zoom has (or is to have) it approved.
	Active RegistrationState = "active"
	// Cancelled: the order gave the seat up (cancelled, refunded, trashed).
	Cancelled RegistrationState = "cancelled"
	// Failed: Zoom refused this attendee for good; Error says why.
	Failed RegistrationState = "failed"
)

// EndReason says why a registration stopped giving its attendee access,
// recorded with the change that ended it; the customer is told this, not a
// guess made afterwards.
type EndReason string

const (
	// StillActive: the registration has not ended.
	StillActive EndReason = ""
	// EndedByOrderStatus: the order's status cancels it (EndedBy is the
	// status: cancelled, refunded, trash, or one of statuses.cancel).
	EndedByOrderStatus EndReason = "order_status"
	// EndedByRefund: the attendee's ticket was refunded, the order stays.
	EndedByRefund EndReason = "refund"
	// EndedByChange: the order no longer holds this attendee (a line
	// removed, an attendee's details changed).
	EndedByChange EndReason = "change"
	// EndedByWithdrawal: the shop withdrew the event (its product was
	// trashed or deleted, and the meeting woozoom made with it).
	EndedByWithdrawal EndReason = "withdrawn"
	// EndedInZoom: the organiser cancelled or denied the attendee in Zoom
	// (EndedBy is who); woozoom does not bring it back by itself.
	EndedInZoom EndReason = "zoom"
)

// Registration is one order's claim on one seat: an attendee of a line item
// registered on a target.
type Registration struct {
	OrderID    int64
	LineItemID int64
	ProductID  int64
	Target     Target
	Attendee   Person // Email normalised
	State      RegistrationState
	Error      string
	// Ended and EndedBy say why the registration ended, if it did.
	Ended     EndReason
	EndedBy   string
	UpdatedAt time.Time
}

// Key returns the seat this registration claims.
func (r Registration) Key() SeatKey { return SeatKey{Target: r.Target, Email: r.Attendee.Email} }

// TargetDetails are the facts about a meeting or webinar written back to the
// order: what the customer needs to join.
type TargetDetails struct {
	Target    Target
	Topic     string
	StartTime time.Time // zero for meetings without a fixed time
	Duration  int       // minutes
	Timezone  string
	Passcode  string
	JoinURL   string // the general join link; registrants get their own
	// Sequence counts the times the meeting moved or was renamed, for
	// calendar files.
	Sequence int
	// Occurrences are the starts of a recurring meeting's occurrences.
	Occurrences []time.Time
}

// Lease is one key a running job holds besides its own row, so that jobs
// of any process decide about it one at a time: a seat, a product. A
// shared lease admits other shared holders, not an exclusive one.
type Lease struct {
	Key    string
	Shared bool
}

// SeatLease is the lease of a seat (an email on a meeting or webinar).
func SeatLease(k SeatKey) Lease {
	return Lease{Key: "seat:" + string(k.Target.Kind) + ":" + strconv.FormatInt(k.Target.ID, 10) + ":" + k.Email}
}

// ProductLease is the lease of a product's meetings: exclusive while they
// are made or changed, shared by the orders that register on them.
func ProductLease(id int64, shared bool) Lease {
	return Lease{Key: string(ProductKey(id)), Shared: shared}
}

// ProductMeetings is what the last job of a product whose meetings woozoom
// makes found.
type ProductMeetings string

const (
	// MeetingsReady: the product's meetings exist.
	MeetingsReady ProductMeetings = "ready"
	// MeetingsNoDate: the product gives no date to make them for.
	MeetingsNoDate ProductMeetings = "no_date"
	// MeetingsGone: the product is trashed or deleted, its meetings with it.
	MeetingsGone ProductMeetings = "gone"
)

// LearnedPace is what woozoom learned of a Zoom account's per-second
// limits: the pace of each category, and the limit Zoom named in a 429 (0:
// none yet). Kept across restarts, it spares each start the climb from a
// safe pace.
type LearnedPace struct {
	Light, Medium           float64
	LightLimit, MediumLimit float64
}

// Key names the resource a job works on: jobs of one key run one at a
// time.
type Key string

// OrderKey is an order's key.
func OrderKey(id int64) Key { return Key("order:" + strconv.FormatInt(id, 10)) }

// ProductKey is a product's key.
func ProductKey(id int64) Key { return Key("product:" + strconv.FormatInt(id, 10)) }

// TargetKey is a meeting's or webinar's key.
func TargetKey(t Target) Key { return Key(string(t.Kind) + ":" + strconv.FormatInt(t.ID, 10)) }

// Delivery is one webhook delivery as received.
type Delivery struct {
	ID         int64 // row id
	DeliveryID string
	WebhookID  string
	Topic      string
	Source     string
	OrderID    int64 // 0 when the handler could not read one
	// Key is the resource its job works on; empty: the order's, if any.
	Key        Key
	Body       []byte
	ReceivedAt time.Time
}

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// WaitReason says what a queued job waits for, beyond its next try.
type WaitReason string

const (
	// NotWaiting: the job runs at RunAt like any retry.
	NotWaiting WaitReason = ""
	// WaitForPerson: credentials were refused or a certificate is not
	// trusted; a restart after the fix takes the job up at once.
	WaitForPerson WaitReason = "person"
	// WaitForService: the service stopped answering; the job runs when it
	// answers again, without being charged a try.
	WaitForService WaitReason = "service"
	// WaitForDailyLimit: a Zoom daily limit, until it resets.
	WaitForDailyLimit WaitReason = "daily_limit"
)

// Words says what the job waits for ("" when it does not).
func (w WaitReason) Words() string {
	switch w {
	case WaitForPerson:
		return "waits for a person"
	case WaitForService:
		return "waits for the service"
	case WaitForDailyLimit:
		return "held for a daily limit"
	}
	return ""
}

// Job is one delivery to act on.
type Job struct {
	ID       int64
	Delivery int64
	OrderID  int64
	Key      Key
	// Claim is the token of the run that claimed it: only that run may
	// extend its lease or finish it.
	Claim     string
	Topic     string
	State     string
	Attempts  int
	RunAt     time.Time
	LastError string
	Wait      WaitReason // for a queued job
	Result    string
	UpdatedAt time.Time
}

// Problem is the job's last error, with what it waits for.
func (j Job) Problem() string {
	if w := j.Wait.Words(); w != "" && j.State == JobQueued {
		return w + ": " + j.LastError
	}
	return j.LastError
}

// AppliedOrder is the newest view of an order that woozoom acted on, and
// the digest of the note it last wrote.
type AppliedOrder struct {
	Status     string
	Modified   time.Time
	NoteDigest string
}

// Session is one day of an event.
type Session struct {
	Start, End time.Time
}

// Schedule is when a product's event takes place: one session, or one per
// day of a multi-day event, in the event's time zone.
type Schedule struct {
	Sessions []Session
	Timezone string
}

// Product is the part of a WooCommerce product woozoom reads: its name,
// status, stock and meta (where event plugins keep the dates).
type Product struct {
	ID       int64
	Name     string
	Status   string // publish, draft, private, pending, trash
	Stock    *int   // nil unless the product manages stock
	Meta     []Meta
	Modified time.Time // date_modified_gmt
}
