package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/access"
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
	// CalendarURL is the attendee's calendar file (with calendar.url set).
	CalendarURL string `json:"calendar_url,omitempty"`
	// ReplayURL and ReplayPasscode are the event's cloud recording, when
	// the attendee is to have it (recordings: in config.yaml): the latest,
	// when a series has several.
	ReplayURL      string `json:"replay_url,omitempty"`
	ReplayPasscode string `json:"replay_passcode,omitempty"`
	// Replays are every recording the attendee is to have, by start: one
	// per occurrence of a series held and recorded.
	Replays []MetaReplay `json:"replays,omitempty"`
}

// MetaReplay is one recorded instance's replay.
type MetaReplay struct {
	StartTime string `json:"start_time"` // RFC 3339, UTC; when the instance began
	URL       string `json:"url"`
	Passcode  string `json:"passcode,omitempty"`
}

// sameEntries compares two meta lists, replays and all.
func sameEntries(a, b []MetaEntry) bool {
	return slices.EqualFunc(a, b, func(x, y MetaEntry) bool { return reflect.DeepEqual(x, y) })
}

// MetaTextKey is the order meta with the attendees' access as text, from
// the meta template, for the shop's own emails and pages.
const MetaTextKey = "_woozoom_access"

// writeBack brings the order's meta and notes in line with what Zoom holds
// for it. It writes only what changed: every order update fires a webhook
// back at woozoom, and the echo must find nothing to do.
func (o *Orders) writeBack(ctx context.Context, order rules.Order, intent rules.Intent, out outcome, state *rules.AppliedOrder) error {
	regs, err := o.store.Registrations(ctx, order.ID)
	if err != nil {
		return err
	}
	var entries []MetaEntry
	var acc []access.Entry
	if intent == rules.Register {
		if entries, acc, err = o.entries(ctx, regs, out.occurrences); err != nil {
			return err
		}
	}
	text, err := o.templates.Meta(access.Note{OrderID: order.ID, Status: order.Status, Entries: acc})
	if err != nil {
		return rules.Permanent("order %d: %v", order.ID, err)
	}
	if err := o.writeMeta(ctx, order, entries, text); err != nil {
		return err
	}
	if len(out.refused) > 0 {
		var b strings.Builder
		b.WriteString("woozoom: Zoom refused these attendees, for the reason beside each (a wrong email or name: correct it and save the order again):")
		for _, r := range out.refused {
			fmt.Fprintf(&b, "\n- %s on %s: %s", InNote(r.Attendee.ShownEmail()), r.Target, InNote(r.Error))
		}
		if err := o.shop.AddOrderNote(ctx, order.ID, b.String(), false); err != nil {
			return err
		}
	}
	if len(out.released) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "woozoom: order is %s; Zoom registrations released:", order.Status)
		for _, r := range out.released {
			fmt.Fprintf(&b, "\n- %s on %s", InNote(r.Attendee.ShownEmail()), r.Target)
		}
		if err := o.shop.AddOrderNote(ctx, order.ID, b.String(), false); err != nil {
			return err
		}
	}
	// Attendance before the customer note: a failure here retries the job
	// before the note is told, and its own notes are written once.
	if intent == rules.Register {
		if err := o.writeAttendance(ctx, order, regs); err != nil {
			return err
		}
	}
	return o.tellCustomer(ctx, order, regs, acc, state)
}

// InNote makes a value from an order or from Zoom safe in an order note,
// which WooCommerce shows as HTML: one line, escaped.
func InNote(s string) string { return html.EscapeString(access.OneLine(s)) }

// tellCustomer sends the customer a note when the set of links they hold
// changed, once: the access note when a link was added, listing every link;
// the withdrawn note when links were taken away and none added. What the
// customer was told is kept with the order (state.NoteDigest).
func (o *Orders) tellCustomer(ctx context.Context, order rules.Order, regs []rules.Registration, now []access.Entry, state *rules.AppliedOrder) error {
	told, known := parseTold(state.NoteDigest)
	current := map[string]access.Entry{}
	for _, e := range now {
		current[linkKey(e)] = e
	}
	if !known {
		// Told before this version kept the set: take what the order holds
		// now as told, rather than send everyone their links again.
		told = map[string]bool{}
		if state.NoteDigest != "" {
			for k := range current {
				told[k] = true
			}
		}
	}
	added := false
	for k := range current {
		added = added || !told[k]
	}
	var removed []access.Entry
	for k := range told {
		if _, ok := current[k]; !ok {
			removed = append(removed, o.withdrawnEntry(ctx, k, regs))
		}
	}
	sort.Slice(removed, func(i, j int) bool { return removed[i].Topic+removed[i].Email < removed[j].Topic+removed[j].Email })
	note := access.Note{OrderID: order.ID, Status: order.Status}
	var text string
	var err error
	switch {
	case added:
		note.Entries = now
		text, err = o.templates.Note(note)
	case len(removed) > 0:
		note.Entries = removed
		note.Reason = withdrawnReason(regs, removed)
		text, err = o.templates.Withdrawn(note)
	}
	if err != nil {
		return rules.Permanent("order %d: %v", order.ID, err)
	}
	if text != "" {
		if err := o.shop.AddOrderNote(ctx, order.ID, text, o.cfg.CustomerNote); err != nil {
			return err
		}
	}
	state.NoteDigest = formatTold(current)
	return nil
}

// withdrawnReason says in words why links were taken away: the reasons
// recorded when their registrations ended, each once.
func withdrawnReason(regs []rules.Registration, removed []access.Entry) string {
	var reasons []string
	for _, e := range removed {
		for _, r := range regs {
			if r.Target != e.Target || r.Attendee.Email != rules.NormalizeEmail(e.Email) {
				continue
			}
			if why := access.Because(r.Ended, r.EndedBy); why != "" && !slices.Contains(reasons, why) {
				reasons = append(reasons, why)
			}
		}
	}
	return strings.Join(reasons, ", and ")
}

// linkKey names one link the customer holds: attendee, event and link.
func linkKey(e access.Entry) string {
	link := e.JoinURL
	for _, r := range e.Replays {
		link += "\x00" + r.URL // a replay given is a link added
	}
	sum := sha256.Sum256([]byte(link))
	return fmt.Sprintf("%s:%d:%s:%s", e.Target.Kind, e.Target.ID, strings.ToLower(e.Email), hex.EncodeToString(sum[:6]))
}

// withdrawnEntry describes a link taken away, from what woozoom knows of it.
func (o *Orders) withdrawnEntry(ctx context.Context, key string, regs []rules.Registration) access.Entry {
	var e access.Entry
	parts := strings.SplitN(key, ":", 4)
	if len(parts) < 3 {
		return e
	}
	e.Target.Kind = rules.TargetKind(parts[0])
	e.Target.ID, _ = strconv.ParseInt(parts[1], 10, 64)
	e.Email = parts[2]
	var product int64
	for _, r := range regs {
		if r.Target == e.Target && r.Attendee.Email == e.Email {
			e.FirstName, e.LastName, e.Email = r.Attendee.FirstName, r.Attendee.LastName, r.Attendee.ShownEmail()
			product = r.ProductID
		}
	}
	if d, ok, err := o.store.TargetDetails(ctx, e.Target, time.Time{}); err == nil && ok {
		e.Start, e.Timezone, e.Duration = d.StartTime, d.Timezone, d.Duration
		e.Topic, _ = o.topic(ctx, d, product) // a note says what it can
	}
	if e.Topic == "" {
		e.Topic = e.Target.String()
	}
	return e
}

// topic is what the notes call an event: its topic, or for a link event
// without one in config.yaml, the name of the product it was bought as,
// read from the shop (and kept with the event for its calendar files).
func (o *Orders) topic(ctx context.Context, d rules.TargetDetails, productID int64) (string, error) {
	if d.Target.OnZoom() || productID == 0 || (d.Topic != "" && !o.cfg.NamedByProduct[d.Target]) {
		return d.Topic, nil
	}
	p, err := o.shop.Product(ctx, productID)
	if err != nil {
		return "", fmt.Errorf("read the name of product %d, the topic of %s: %w", productID, d.Target, err)
	}
	if p.Name != d.Topic {
		d.Topic = p.Name
		if err := o.store.SaveTargetDetails(ctx, d); err != nil {
			return "", err
		}
	}
	return p.Name, nil
}

// The set of links told is kept as "v2|key,key,...": an older digest (a
// hash of the note text) has no "|".
const toldVersion = "v2|"

func parseTold(s string) (map[string]bool, bool) {
	if !strings.HasPrefix(s, toldVersion) {
		return nil, s == ""
	}
	out := map[string]bool{}
	for _, k := range strings.Split(strings.TrimPrefix(s, toldVersion), ",") {
		if k != "" {
			out[k] = true
		}
	}
	return out, true
}

func formatTold(current map[string]access.Entry) string {
	if len(current) == 0 {
		return ""
	}
	keys := make([]string, 0, len(current))
	for k := range current {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return toldVersion + strings.Join(keys, ",")
}

// entries lists the order's active registrations that Zoom has approved,
// as the JSON meta holds them and as the templates see them.
func (o *Orders) entries(ctx context.Context, regs []rules.Registration, occurrences map[rules.SeatKey]string) ([]MetaEntry, []access.Entry, error) {
	var keys []rules.SeatKey
	for _, r := range regs {
		if r.State == rules.Active {
			keys = append(keys, r.Key())
		}
	}
	seats, err := o.store.Seats(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	var out []MetaEntry
	var acc []access.Entry
	for _, r := range regs {
		seat, ok := seats[r.Key()]
		if r.State != rules.Active || !ok || seat.Status != rules.SeatApproved {
			continue
		}
		if seat.JoinURL == "" {
			// Approved after a wait (manual approval): Zoom gave no link
			// when it was added.
			if seat, err = o.zoom.Registrant(ctx, r.Target, seat.RegistrantID); err != nil {
				return nil, nil, fmt.Errorf("read the join link of %s on %s: %w", r.Attendee.Email, r.Target, err)
			}
			if err := o.store.SaveSeats(ctx, seat); err != nil {
				return nil, nil, err
			}
			if seat.JoinURL == "" {
				continue
			}
		}
		d, err := o.details(ctx, r.Target)
		if err != nil {
			return nil, nil, err
		}
		if d.Topic, err = o.topic(ctx, d, r.ProductID); err != nil {
			return nil, nil, err
		}
		a := access.Entry{Target: r.Target, FirstName: r.Attendee.FirstName, LastName: r.Attendee.LastName, Email: r.Attendee.ShownEmail(),
			Topic: d.Topic, Start: d.StartTime, Timezone: d.Timezone, Duration: d.Duration, JoinURL: seat.JoinURL, Passcode: d.Passcode}
		if o.cfg.CalendarURL != "" && !d.StartTime.IsZero() {
			token, err := o.store.CalendarToken(ctx, r)
			if err != nil {
				return nil, nil, err
			}
			a.CalendarURL = strings.TrimRight(o.cfg.CalendarURL, "/") + "/calendar/" + token + ".ics"
		}
		id := strconv.FormatInt(r.Target.ID, 10)
		if !r.Target.OnZoom() {
			id = ""
		}
		e := MetaEntry{
			Email: r.Attendee.ShownEmail(), FirstName: r.Attendee.FirstName, LastName: r.Attendee.LastName,
			Type: string(r.Target.Kind), ID: id, Topic: d.Topic,
			Duration: strconv.Itoa(d.Duration), Timezone: d.Timezone, Passcode: d.Passcode, JoinURL: seat.JoinURL,
			CalendarURL: a.CalendarURL,
		}
		recs, err := o.replays(ctx, r, occurrences[r.Key()], d)
		if err != nil {
			return nil, nil, err
		}
		for _, rec := range recs {
			a.Replays = append(a.Replays, access.Replay{Start: rec.Start, URL: rec.ShareURL, Passcode: rec.Passcode, Timezone: d.Timezone})
			e.Replays = append(e.Replays, MetaReplay{URL: rec.ShareURL, Passcode: rec.Passcode})
			if !rec.Start.IsZero() {
				e.Replays[len(e.Replays)-1].StartTime = rec.Start.UTC().Format(time.RFC3339)
			}
			a.ReplayURL, a.ReplayPasscode = rec.ShareURL, rec.Passcode
			e.ReplayURL, e.ReplayPasscode = rec.ShareURL, rec.Passcode
		}
		if !d.StartTime.IsZero() {
			e.StartTime = d.StartTime.UTC().Format(time.RFC3339)
		}
		out = append(out, e)
		acc = append(acc, a)
	}
	return out, acc, nil
}

func (o *Orders) details(ctx context.Context, t rules.Target) (rules.TargetDetails, error) {
	if !t.OnZoom() {
		// A link event's details come from config.yaml, saved at start.
		d, ok, err := o.store.TargetDetails(ctx, t, time.Time{})
		if err == nil && !ok {
			err = rules.Permanent("%s is no longer in config.yaml's events: map the product again", t)
		}
		return d, err
	}
	d, ok, err := o.store.TargetDetails(ctx, t, o.now().Add(-o.cfg.DetailsTTL))
	if err != nil || ok {
		return d, err
	}
	// Jobs that miss the cache at once (a flood's first jobs) share one
	// read; a job that is cancelled stops waiting for it.
	ch := o.detailsOnce.DoChan(t.String(), func() (any, error) {
		d, err := o.zoom.Details(context.WithoutCancel(ctx), t)
		if err != nil {
			return d, err
		}
		return d, o.store.SaveTargetDetails(context.WithoutCancel(ctx), d)
	})
	select {
	case r := <-ch:
		d, _ = r.Val.(rules.TargetDetails)
		return d, r.Err
	case <-ctx.Done():
		return d, ctx.Err()
	}
}

// writeMeta writes the entries and their text to the order unless both
// the order as delivered and woozoom's own last write already hold them; no
// entries removes the keys. The second check matters when a snapshot is
// older than woozoom's last write to the order (a retried job, a late
// delivery).
func (o *Orders) writeMeta(ctx context.Context, order rules.Order, entries []MetaEntry, text string) error {
	value := json.RawMessage("null")
	textValue := json.RawMessage("null")
	if len(entries) > 0 {
		b, err := json.Marshal(entries)
		if err != nil {
			return err
		}
		value = b
		if text != "" {
			if textValue, err = json.Marshal(text); err != nil {
				return err
			}
		}
	}
	sum := sha256.Sum256(append(append([]byte{}, value...), textValue...))
	digest := hex.EncodeToString(sum[:])
	written, basis, err := o.store.MetaDigest(ctx, order.ID)
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
	snapshotHolds := !unreadable && sameEntries(have, entries) && (len(entries) > 0 || len(current) == 0 || string(current) == "null")
	var haveText string
	if raw := rules.MetaValue(order.Meta, MetaTextKey); len(raw) > 0 && string(raw) != "null" && json.Unmarshal(raw, &haveText) != nil {
		snapshotHolds = false
	}
	snapshotHolds = snapshotHolds && haveText == func() string {
		if string(textValue) == "null" {
			return ""
		}
		return text
	}()
	// Skip only when the order as delivered holds the entries and woozoom's
	// own last write (if any) was the same.
	if snapshotHolds && (written == "" || written == digest) {
		return nil
	}
	if err := o.shop.UpdateOrderMeta(ctx, order.ID, []rules.Meta{{Key: MetaKey, Value: value}, {Key: MetaTextKey, Value: textValue}}); err != nil {
		return err
	}
	return o.store.SaveMetaDigest(ctx, order.ID, digest, order.Modified)
}

// replays are the recordings a paid registration is to have: with
// recordings share, those of the occurrences the order holds (all of a
// single meeting's, or of a series registered once); with no_shows, of
// those, each one whose attendance says the attendee did not come (not
// before: attendance decides).
func (o *Orders) replays(ctx context.Context, r rules.Registration, occurrences string, d rules.TargetDetails) ([]rules.Recording, error) {
	mode := rules.ReplayOff
	if o.cfg.Replays != nil {
		mode = o.cfg.Replays(r.ProductID)
	}
	if mode == rules.ReplayOff || !r.Target.OnZoom() {
		return nil, nil
	}
	all, err := o.store.Recordings(ctx, r.Target)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	// A recording starts near its occurrence's scheduled start: within the
	// length of the meeting and an hour.
	window := time.Duration(d.Duration)*time.Minute + time.Hour
	recs := rules.RecordingsFor(all, occurrences, d.Occurrences, window)
	if mode == rules.ReplayShare || len(recs) == 0 {
		return recs, nil
	}
	records, err := o.store.Attendance(ctx, r.Target, r.OrderID)
	if err != nil {
		return nil, err
	}
	var out []rules.Recording
	for _, rec := range recs {
		if rules.Missed(records, r.Attendee.Email, rec.Instance) {
			out = append(out, rec)
		}
	}
	return out, nil
}
