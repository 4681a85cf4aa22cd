package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/woozoom/woozoom/access"
	"github.com/woozoom/woozoom/rules"
)

// writeAttendance brings the order's attendance meta in line with what the
// attendance room kept, and writes each ended event's staff note and each
// attendee's thanks (templates.thanks) once. It runs in the order's own
// job, so no other job writes the order meanwhile.
func (o *Orders) writeAttendance(ctx context.Context, order rules.Order, regs []rules.Registration) error {
	records, err := o.store.OrderAttendance(ctx, order.ID)
	if err != nil || len(records) == 0 {
		return err
	}
	if err := o.writeAttendanceMeta(ctx, order, records); err != nil {
		return err
	}
	type event struct {
		t        rules.Target
		instance string
	}
	var events []event
	byEvent := map[event][]rules.AttendanceRecord{}
	for _, r := range records {
		e := event{r.Target, r.Instance}
		if _, ok := byEvent[e]; !ok {
			events = append(events, e)
		}
		byEvent[e] = append(byEvent[e], r)
	}
	for _, e := range events {
		if err := o.noteAttendance(ctx, order.ID, e.t, e.instance, byEvent[e]); err != nil {
			return err
		}
		if err := o.thank(ctx, order.ID, e.t, e.instance, byEvent[e], regs); err != nil {
			return err
		}
	}
	return nil
}

// writeAttendanceMeta writes _woozoom_attendance when it changed since
// woozoom last wrote it, or the order as read lacks it. The write's echo
// (order.updated) comes back here and finds the digest the same: whatever
// shape the shop gives the value back in, it is not written again.
func (o *Orders) writeAttendanceMeta(ctx context.Context, order rules.Order, records []rules.AttendanceRecord) error {
	entries := make([]attendanceEntry, len(records))
	for i, r := range records {
		entries[i] = attendanceEntry{Email: r.Email, Event: r.Target.String(), Instance: r.Instance, Attended: r.Attended, Minutes: r.Minutes}
		if r.Attended {
			entries[i].FirstJoin, entries[i].LastLeave = r.FirstJoin.Format(time.RFC3339), r.LastLeave.Format(time.RFC3339)
		}
	}
	value, err := json.Marshal(entries)
	if err != nil {
		return fmt.Errorf("write the attendance of order %d: %w", order.ID, err)
	}
	sum := sha256.Sum256(value)
	digest := hex.EncodeToString(sum[:])
	written, err := o.store.AttendanceDigest(ctx, order.ID)
	if err != nil || written == digest {
		return err
	}
	var have []attendanceEntry
	if raw := rules.MetaValue(order.Meta, AttendanceMetaKey); len(raw) == 0 || json.Unmarshal(raw, &have) != nil || !slices.Equal(have, entries) {
		if err := o.shop.UpdateOrderMeta(ctx, order.ID, []rules.Meta{{Key: AttendanceMetaKey, Value: value}}); err != nil {
			return err
		}
	}
	return o.store.SaveAttendanceDigest(ctx, order.ID, digest)
}

// noteAttendance tells staff who of the order attended an instance, once.
func (o *Orders) noteAttendance(ctx context.Context, orderID int64, t rules.Target, instance string, records []rules.AttendanceRecord) error {
	var lines []string
	noted := true
	for _, r := range records {
		noted = noted && r.Noted
		if r.Attended {
			lines = append(lines, fmt.Sprintf("%s attended, %d minutes (%s to %s UTC)", InNote(r.Email), r.Minutes,
				r.FirstJoin.UTC().Format("15:04"), r.LastLeave.UTC().Format("15:04")))
		} else {
			lines = append(lines, fmt.Sprintf("%s did not attend", InNote(r.Email)))
		}
	}
	if noted {
		return nil
	}
	note := fmt.Sprintf("woozoom: attendance of %s: %s.", t, strings.Join(lines, "; "))
	if err := o.shop.AddOrderNote(ctx, orderID, note, false); err != nil {
		return err
	}
	return o.store.AttendanceNoted(ctx, t, instance, orderID)
}

// thank sends each attendee of an instance the thanks note, once, attended
// or not: the template says what to say to whom.
func (o *Orders) thank(ctx context.Context, orderID int64, t rules.Target, instance string, records []rules.AttendanceRecord, regs []rules.Registration) error {
	if !o.templates.Thanking() {
		return nil
	}
	topic := ""
	for _, r := range records {
		if r.Thanked {
			continue
		}
		if topic == "" {
			topic = t.String()
			if d, ok, err := o.store.TargetDetails(ctx, t, time.Time{}); err == nil && ok && d.Topic != "" {
				topic = d.Topic
			}
		}
		who := rules.Person{Email: r.Email}
		for _, reg := range regs {
			if reg.Target == t && reg.Attendee.Email == r.Email {
				who = reg.Attendee
			}
		}
		note, ok, err := o.templates.Thanks(access.Attended{OrderID: orderID, Email: who.ShownEmail(), FirstName: who.FirstName,
			LastName: who.LastName, Topic: topic, Attended: r.Attended, Minutes: r.Minutes})
		if err != nil || !ok {
			return err
		}
		if note != "" {
			if err := o.shop.AddOrderNote(ctx, orderID, note, true); err != nil {
				return err
			}
		}
		if err := o.store.AttendanceThanked(ctx, t, instance, orderID, r.Email); err != nil {
			return err
		}
	}
	return nil
}
