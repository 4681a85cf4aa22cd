package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/woozoom/woozoom/meetings"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/zoom"
)

// maker reads an events entry that makes its meeting from the product.
func (e EventConfig) maker() (meetings.Maker, error) {
	m := meetings.Maker{Kind: rules.TargetKind(e.Create), Host: strings.TrimSpace(e.Host)}
	var errs []error
	if m.Kind != rules.Meeting && m.Kind != rules.Webinar {
		errs = append(errs, fmt.Errorf("create %q: use meeting or webinar", e.Create))
	}
	if m.Host == "" {
		errs = append(errs, errors.New("create needs a host: the email or Zoom user id of a Licensed user (woozoom zoom users lists them)"))
	}
	if e.MeetingID != "" || e.WebinarID != "" || e.Link != "" || e.OccurrenceIDs != "" {
		errs = append(errs, errors.New("create makes the meeting: give no meeting_id, webinar_id, link or occurrence_ids with it"))
	}
	if e.VariationID != 0 || e.Day != 0 || e.Slot != "" {
		errs = append(errs, errors.New("create makes the meetings of the whole product (days come from the product): give no variation_id, day or slot with it"))
	}
	switch e.MultiDay {
	case "", "days":
	case "recurring":
		m.Recurring = true
	default:
		errs = append(errs, fmt.Errorf("multi_day %q: use days (a meeting per day) or recurring (one meeting, a daily occurrence per day)", e.MultiDay))
	}
	if err := errors.Join(errs...); err != nil {
		return m, err
	}
	var err error
	m.Topic, err = meetings.Topic(e.Topic)
	return m, err
}

// follower reads an events entry whose linked meeting follows the product.
func (e EventConfig) follower() (meetings.Maker, error) {
	if e.Link != "" || (e.MeetingID == "" && e.WebinarID == "") {
		return meetings.Maker{}, errors.New("follow: true needs a meeting_id or webinar_id (with create:, woozoom's own meetings follow the product anyway)")
	}
	if e.Day != 0 || e.Slot != "" || e.VariationID != 0 {
		return meetings.Maker{}, errors.New("follow: true follows a one-day event's meeting: give no day, slot or variation_id with it")
	}
	one := e
	one.Follow, one.Create, one.Host = false, "meeting", "-"
	one.MeetingID, one.WebinarID = "", ""
	m, err := one.maker()
	if err != nil {
		return m, err
	}
	id, err := rules.ParseZoomID(e.MeetingID + e.WebinarID)
	if err != nil {
		return m, err
	}
	m.Follow = rules.Target{Kind: rules.Meeting, ID: id}
	if e.WebinarID != "" {
		m.Follow.Kind = rules.Webinar
	}
	m.Kind, m.Host = m.Follow.Kind, ""
	return m, nil
}

// makingProblems checks the settings of meetings made from products.
func (c Config) makingProblems() []error {
	var errs []error
	seen := map[int64]bool{}
	for i, e := range c.Events {
		if e.Follow && e.Create == "" {
			if _, err := e.follower(); err != nil {
				errs = append(errs, fmt.Errorf("events[%d] (product %d): %w", i, e.ProductID, err))
			}
		}
		if e.Create == "" && !e.Follow {
			continue
		}
		if seen[e.ProductID] {
			errs = append(errs, fmt.Errorf("events[%d]: product %d has two create or follow entries; one makes or follows all its meetings", i, e.ProductID))
		}
		seen[e.ProductID] = true
	}
	if c.Zoom.HostDailyLimit < 1 || c.Zoom.HostDailyLimit > 100 {
		errs = append(errs, fmt.Errorf("zoom.host_daily_limit is %d; use 1 to 100 (Zoom allows each host 100 meeting creates and updates a day)", c.Zoom.HostDailyLimit))
	}
	if _, err := time.LoadLocation(c.WooCommerce.Timezone); err != nil || c.WooCommerce.Timezone == "" {
		errs = append(errs, fmt.Errorf("woocommerce.timezone %q is not an IANA zone (Europe/Berlin)", c.WooCommerce.Timezone))
	}
	for _, k := range []string{"approval_type", "registration_type"} {
		if _, ok := c.MeetingDefaults[k]; ok {
			errs = append(errs, fmt.Errorf("meeting_defaults.%s: woozoom sets it (registration with automatic approval); remove it", k))
		}
	}
	if c.EventDates.EndKey != "" && c.EventDates.StartKey == "" {
		errs = append(errs, errors.New("event_dates.end_key needs event_dates.start_key"))
	}
	return errs
}

// making says which products' meetings woozoom makes (create) or follows
// (follow), and how.
func (c Config) making() (meetings.Config, error) {
	events := map[int64]meetings.Maker{}
	for i, e := range c.Events {
		if e.Follow && e.Create == "" {
			f, err := e.follower()
			if err != nil {
				return meetings.Config{}, fmt.Errorf("events[%d]: %w", i, err)
			}
			events[e.ProductID] = f
		}
		if e.Create == "" {
			continue
		}
		m, err := e.maker()
		if err != nil {
			return meetings.Config{}, fmt.Errorf("events[%d]: %w", i, err)
		}
		events[e.ProductID] = m
	}
	return meetings.Config{Events: events, Schedule: c.schedule, HostDailyLimit: c.Zoom.HostDailyLimit}, nil
}

// schedule reads a product's event dates (woo.Schedule).
func (c Config) schedule(p rules.Product) (rules.Schedule, bool, error) {
	return woo.Schedule(p.Meta, c.EventDates.StartKey, c.EventDates.EndKey, c.WooCommerce.Timezone)
}

// MeetingRegistrantLimit is the most registrants Zoom takes on a meeting.
const MeetingRegistrantLimit = 4999

// checkMaking checks what making meetings from products needs: the scopes,
// that each host exists and is Licensed, that each product has a date
// woozoom reads, and that no product sells more tickets than its meeting
// takes.
func checkMaking(ctx context.Context, r *report, clients map[string]*zoom.Client, wc *woo.Client, c Config) {
	for _, a := range c.zoomAccounts() {
		meetings, webinars := false, false
		for _, e := range c.Events {
			if c.accountOf(e) == a.Name {
				meetings = meetings || e.Create == string(rules.Meeting)
				webinars = webinars || e.Create == string(rules.Webinar)
			}
		}
		if !meetings && !webinars {
			continue
		}
		if have, err := clients[a.Name].Scopes(ctx); err == nil {
			for _, s := range zoom.MissingScopes(have, zoom.MakerScopes(meetings, webinars)) {
				r.problem("%s: the app lacks the scope %s (to %s): add it under Scopes in the Zoom App Marketplace and activate the app again", c.zoomLabel(a.Name), s.Name, s.For)
			}
		}
	}
	hosts := map[string]error{} // checked once each
	for i, e := range c.Events {
		where := fmt.Sprintf("events[%d] (product %d)", i, e.ProductID)
		if _, seen := hosts[e.Host]; e.Create != "" && !seen {
			label := c.zoomLabel(c.accountOf(e))
			u, err := clients[c.accountOf(e)].User(ctx, e.Host)
			if err == nil && !u.Licensed() {
				err = fmt.Errorf("%s is a %s user: Zoom refuses registration on meetings of Basic users; pick a Licensed host (woozoom zoom users)", e.Host, u.TypeName())
			}
			hosts[e.Host] = err
			switch {
			case errors.Is(err, rules.ErrNotFound):
				r.problem("%s: %s: host %s is not a user of the account (woozoom zoom users lists them)", label, where, e.Host)
			case err != nil:
				r.problem("%s: %s: host: %v", label, where, err)
			default:
				r.ok("%s: host %s is Licensed and can hold registration", label, e.Host)
			}
		}
		if e.Create == "" && e.Capacity == 0 {
			continue
		}
		p, err := wc.Product(ctx, e.ProductID)
		if err != nil {
			r.problem("WooCommerce: %s: cannot read the product: %v", where, err)
			continue
		}
		if e.Create != "" {
			s, ok, err := c.schedule(p)
			switch {
			case err != nil:
				r.problem("WooCommerce: %s %q: %v", where, p.Name, err)
			case !ok || len(s.Sessions) == 0:
				r.problem("WooCommerce: %s %q has no event date woozoom reads (FooEvents' date, or event_dates.start_key): no meeting can be made for it", where, p.Name)
			default:
				r.ok("WooCommerce: %s %q takes place %s (%d day(s), %s)", where, p.Name, s.Sessions[0].Start.Format("2006-01-02 15:04"), len(s.Sessions), s.Timezone)
			}
		}
		capacity, what := e.Capacity, "its capacity"
		if capacity == 0 && (e.MeetingID != "" || e.Create == string(rules.Meeting)) {
			capacity, what = MeetingRegistrantLimit, "Zoom's registrant limit of a meeting"
		}
		switch {
		case p.Stock == nil || capacity == 0:
		case *p.Stock > capacity:
			r.problem("WooCommerce: %s %q has %d tickets in stock, more than %s (%d): lower the stock or raise the capacity (a larger webinar license)", where, p.Name, *p.Stock, what, capacity)
		default:
			r.ok("WooCommerce: %s %q: %d tickets in stock fit %s (%d)", where, p.Name, *p.Stock, what, capacity)
		}
	}
}
