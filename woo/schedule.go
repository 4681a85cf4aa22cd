package woo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// DefaultEventLength is an event's length when the product gives no end.
const DefaultEventLength = time.Hour

// metaString reads a meta value that WooCommerce gives as a string (or a
// number).
func metaString(meta []rules.Meta, key string) string {
	raw := rules.MetaValue(meta, key)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// dateLayouts are the ways FooEvents writes a date: its MySQL form, and the
// site's date format in WooCommerceEventsDate.
var dateLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "January 2, 2006", "January 02, 2006", "2 January 2006", "02 January 2006", "Jan 2, 2006"}

func parseDate(s string, loc *time.Location) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), true
		}
	}
	return time.Time{}, false
}

// clock reads FooEvents' hour, minutes and period ("p.m.", "PM", or none on
// a 24-hour site).
func clock(hour, minutes, period string) (h, m int, ok bool) {
	h, err := strconv.Atoi(hour)
	if err != nil {
		return 0, 0, false
	}
	m, _ = strconv.Atoi(minutes)
	p := strings.ToLower(strings.NewReplacer(".", "", " ", "").Replace(period))
	switch {
	case p == "pm" && h < 12:
		h += 12
	case p == "am" && h == 12:
		h = 0
	}
	if h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, 0, false
	}
	return h, m, true
}

// Schedule reads when a product's event takes place: from FooEvents' meta,
// which needs no setting, else from the two meta keys of other plugins
// (startKey and endKey, ISO 8601; startKey "" for none). Times without a
// zone are in the shop's zone. ok is false for a product without a date.
func Schedule(meta []rules.Meta, startKey, endKey, shopZone string) (s rules.Schedule, ok bool, err error) {
	s, ok, err = FooEventsSchedule(meta, shopZone)
	if ok || startKey == "" {
		return s, ok, err
	}
	return MetaKeySchedule(meta, startKey, endKey, shopZone)
}

// FooEventsSchedule reads when a FooEvents product takes place from its
// meta: the date (WooCommerceEventsDateMySQLFormat, else
// WooCommerceEventsDate), start and end times, the zone
// (WooCommerceEventsTimeZone, else shopZone), and the days of a multi-day
// event (WooCommerceEventsType sequential with WooCommerceEventsNumDays, or
// select with WooCommerceEventsSelectDate). ok is false for a product that
// is not a FooEvents event.
func FooEventsSchedule(meta []rules.Meta, shopZone string) (s rules.Schedule, ok bool, err error) {
	date := metaString(meta, "WooCommerceEventsDateMySQLFormat")
	if date == "" {
		date = metaString(meta, "WooCommerceEventsDate")
	}
	if date == "" {
		return s, false, nil
	}
	s.Timezone = metaString(meta, "WooCommerceEventsTimeZone")
	loc, lerr := time.LoadLocation(s.Timezone)
	if s.Timezone == "" || lerr != nil {
		s.Timezone = shopZone
		if loc, lerr = time.LoadLocation(shopZone); lerr != nil || shopZone == "" {
			s.Timezone, loc = "UTC", time.UTC
		}
	}
	day, ok := parseDate(date, loc)
	if !ok {
		return s, true, fmt.Errorf("FooEvents date %q is not a date woozoom reads (2026-12-03, or December 3, 2026)", date)
	}
	h, m, ok := clock(metaString(meta, "WooCommerceEventsHour"), metaString(meta, "WooCommerceEventsMinutes"), metaString(meta, "WooCommerceEventsPeriod"))
	if !ok {
		// No time of day: a time in the MySQL date, else midnight.
		if t, err := time.ParseInLocation("2006-01-02 15:04:05", date, loc); err == nil {
			h, m = t.Hour(), t.Minute()
		}
	}
	length := DefaultEventLength
	if eh, em, ok := clock(metaString(meta, "WooCommerceEventsHourEnd"), metaString(meta, "WooCommerceEventsMinutesEnd"), metaString(meta, "WooCommerceEventsEndPeriod")); ok && eh*60+em > h*60+m {
		length = time.Duration(eh*60+em-h*60-m) * time.Minute
	}
	at := func(d time.Time) rules.Session {
		start := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc)
		return rules.Session{Start: start, End: start.Add(length)}
	}
	switch metaString(meta, "WooCommerceEventsType") {
	case "sequential":
		n, _ := strconv.Atoi(metaString(meta, "WooCommerceEventsNumDays"))
		for i := range max(n, 1) {
			s.Sessions = append(s.Sessions, at(day.AddDate(0, 0, i)))
		}
	case "select":
		var dates []string
		if err := json.Unmarshal(rules.MetaValue(meta, "WooCommerceEventsSelectDate"), &dates); err != nil || len(dates) == 0 {
			return s, true, fmt.Errorf("FooEvents select-date event without WooCommerceEventsSelectDate dates")
		}
		for _, d := range dates {
			sd, ok := parseDate(strings.TrimSpace(d), loc)
			if !ok {
				return s, true, fmt.Errorf("FooEvents select date %q is not a date woozoom reads", d)
			}
			s.Sessions = append(s.Sessions, at(sd))
		}
	default:
		s.Sessions = []rules.Session{at(day)}
	}
	return s, true, nil
}

// MetaKeySchedule reads a single-session event from two meta keys holding
// ISO 8601 date-times (other event plugins); end may be empty.
func MetaKeySchedule(meta []rules.Meta, startKey, endKey, zone string) (rules.Schedule, bool, error) {
	start := metaString(meta, startKey)
	if start == "" {
		return rules.Schedule{}, false, nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		zone, loc = "UTC", time.UTC
	}
	parse := func(v string) (time.Time, error) {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		return time.ParseInLocation("2006-01-02T15:04:05", v, loc)
	}
	st, err := parse(start)
	if err != nil {
		return rules.Schedule{}, true, fmt.Errorf("%s %q is not an ISO date-time", startKey, start)
	}
	end := st.Add(DefaultEventLength)
	if v := metaString(meta, endKey); v != "" && endKey != "" {
		if end, err = parse(v); err != nil || !end.After(st) {
			return rules.Schedule{}, true, fmt.Errorf("%s %q is not an ISO date-time after the start", endKey, v)
		}
	}
	return rules.Schedule{Timezone: zone, Sessions: []rules.Session{{Start: st, End: end}}}, true, nil
}
