package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// MetaKey is the order meta woozoom writes: one entry per attendee and
// target. The leading underscore keeps it out of the shop's admin screens;
// templates and plugins read it over PHP or REST.
const MetaKey = "_woozoom_registrations"

// MetaEntry is one attendee's access to one meeting or webinar. Every value
// is a string, as WooCommerce gives meta back.
type MetaEntry struct {
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Type      string `json:"type"` // meeting or webinar
	ID        string `json:"id"`
	Topic     string `json:"topic"`
	StartTime string `json:"start_time"` // RFC 3339, UTC; empty for no fixed time
	Duration  string `json:"duration"`   // minutes
	Timezone  string `json:"timezone"`
	Passcode  string `json:"passcode"`
	JoinURL   string `json:"join_url"` // this registrant's own link
}

// writeBack brings the order's meta and notes in line with what Zoom holds
// for it. It writes only what changed: every order update fires a webhook
// back at woozoom, and the echo must find nothing to do.
func (w *Worker) writeBack(ctx context.Context, order rules.Order, intent rules.Intent, out outcome, state *rules.AppliedOrder) error {
	regs, err := w.store.Registrations(ctx, order.ID)
	if err != nil {
		return err
	}
	var entries []MetaEntry
	if intent == rules.Register {
		if entries, err = w.entries(ctx, regs); err != nil {
			return err
		}
	}
	if err := w.writeMeta(ctx, order, entries); err != nil {
		return err
	}
	if len(out.refused) > 0 {
		var b strings.Builder
		b.WriteString("woozoom: Zoom refused these attendees; correct the email or name and save the order again:")
		for _, r := range out.refused {
			fmt.Fprintf(&b, "\n- %s on %s: %s", r.Attendee.Email, r.Target, r.Error)
		}
		if err := w.shop.AddOrderNote(ctx, order.ID, b.String(), false); err != nil {
			return err
		}
	}
	if len(out.released) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "woozoom: order is %s; Zoom registrations released:", order.Status)
		for _, r := range out.released {
			fmt.Fprintf(&b, "\n- %s on %s", r.Attendee.Email, r.Target)
		}
		if err := w.shop.AddOrderNote(ctx, order.ID, b.String(), false); err != nil {
			return err
		}
	}
	if intent != rules.Register {
		state.NoteDigest = "" // a later completion sends the links again
		return nil
	}
	text := noteText(entries)
	if text == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(text))
	digest := hex.EncodeToString(sum[:])
	if digest == state.NoteDigest {
		return nil
	}
	if err := w.shop.AddOrderNote(ctx, order.ID, text, w.cfg.CustomerNote); err != nil {
		return err
	}
	state.NoteDigest = digest
	return nil
}

// entries lists the order's active registrations that Zoom has approved.
func (w *Worker) entries(ctx context.Context, regs []rules.Registration) ([]MetaEntry, error) {
	var keys []rules.SeatKey
	for _, r := range regs {
		if r.State == rules.Active {
			keys = append(keys, r.Key())
		}
	}
	seats, err := w.store.Seats(ctx, keys)
	if err != nil {
		return nil, err
	}
	var out []MetaEntry
	for _, r := range regs {
		seat, ok := seats[r.Key()]
		if r.State != rules.Active || !ok || seat.Status != rules.SeatApproved {
			continue
		}
		if seat.JoinURL == "" {
			// Approved after a wait (manual approval): Zoom gave no link
			// when it was added.
			if seat, err = w.zoom.Registrant(ctx, r.Target, seat.RegistrantID); err != nil {
				return nil, fmt.Errorf("read the join link of %s on %s: %w", r.Attendee.Email, r.Target, err)
			}
			if err := w.store.SaveSeats(ctx, seat); err != nil {
				return nil, err
			}
			if seat.JoinURL == "" {
				continue
			}
		}
		d, err := w.details(ctx, r.Target)
		if err != nil {
			return nil, err
		}
		e := MetaEntry{
			Email: r.Attendee.Email, FirstName: r.Attendee.FirstName, LastName: r.Attendee.LastName,
			Type: string(r.Target.Kind), ID: strconv.FormatInt(r.Target.ID, 10), Topic: d.Topic,
			Duration: strconv.Itoa(d.Duration), Timezone: d.Timezone, Passcode: d.Passcode, JoinURL: seat.JoinURL,
		}
		if !d.StartTime.IsZero() {
			e.StartTime = d.StartTime.UTC().Format(time.RFC3339)
		}
		out = append(out, e)
	}
	return out, nil
}

func (w *Worker) details(ctx context.Context, t rules.Target) (rules.TargetDetails, error) {
	d, ok, err := w.store.TargetDetails(ctx, t, w.now().Add(-w.cfg.DetailsTTL))
	if err != nil || ok {
		return d, err
	}
	if d, err = w.zoom.Details(ctx, t); err != nil {
		return d, err
	}
	return d, w.store.SaveTargetDetails(ctx, d)
}

// writeMeta writes the entries to the order unless both the order as
// delivered and woozoom's own last write already hold them; no entries
// removes the key. The second check matters when a snapshot is older than
// woozoom's last write to the order (a retried job, a late delivery).
func (w *Worker) writeMeta(ctx context.Context, order rules.Order, entries []MetaEntry) error {
	value := json.RawMessage("null")
	if len(entries) > 0 {
		b, err := json.Marshal(entries)
		if err != nil {
			return err
		}
		value = b
	}
	sum := sha256.Sum256(value)
	digest := hex.EncodeToString(sum[:])
	written, basis, err := w.store.MetaDigest(ctx, order.ID)
	if err != nil {
		return err
	}
	// woozoom already wrote exactly this, computed from this view or a newer
	// one: a second delivery of the view (order.created and order.updated
	// of a new order) has nothing to add, although its snapshot predates
	// the write.
	if written == digest && !basis.IsZero() && !order.Modified.After(basis) {
		return nil
	}
	current := rules.MetaValue(order.Meta, MetaKey)
	var have []MetaEntry
	unreadable := len(current) > 0 && string(current) != "null" && json.Unmarshal(current, &have) != nil
	snapshotHolds := !unreadable && slices.Equal(have, entries) && (len(entries) > 0 || len(current) == 0 || string(current) == "null")
	// Skip only when the order as delivered holds the entries and woozoom's
	// own last write (if any) was the same.
	if snapshotHolds && (written == "" || written == digest) {
		return nil
	}
	if err := w.shop.UpdateOrderMeta(ctx, order.ID, []rules.Meta{{Key: MetaKey, Value: value}}); err != nil {
		return err
	}
	return w.store.SaveMetaDigest(ctx, order.ID, digest, order.Modified)
}

// noteText is the order note with every attendee's join link.
func noteText(entries []MetaEntry) string {
	if len(entries) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Your Zoom access:")
	for _, e := range entries {
		fmt.Fprintf(&b, "\n- %s", e.Topic)
		if when := humanTime(e.StartTime, e.Timezone); when != "" {
			fmt.Fprintf(&b, ", %s", when)
		}
		fmt.Fprintf(&b, ", for %s", strings.TrimSpace(e.FirstName+" "+e.LastName))
		fmt.Fprintf(&b, ": %s (%s ID %s", e.JoinURL, e.Type, FormatID(e.ID))
		if e.Passcode != "" {
			fmt.Fprintf(&b, ", passcode %s", e.Passcode)
		}
		b.WriteString(")")
	}
	return b.String()
}

func humanTime(rfc, tz string) string {
	t, err := time.Parse(time.RFC3339, rfc)
	if err != nil {
		return ""
	}
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		t = t.In(loc)
	}
	return t.Format("Mon 2 Jan 2006 15:04 MST")
}

// FormatID writes a meeting id as Zoom shows it: 857 4606 5123.
func FormatID(id string) string {
	switch len(id) {
	case 11:
		return id[:3] + " " + id[3:7] + " " + id[7:]
	case 10:
		return id[:3] + " " + id[3:6] + " " + id[6:]
	case 9:
		return id[:3] + " " + id[3:6] + " " + id[6:]
	}
	return id
}
