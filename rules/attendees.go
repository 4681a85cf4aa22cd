package rules

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// FooEventsTicketsKey is the order meta in which FooEvents keeps one entry
// per ticket: {"event": {"ticket": {...}}}.
const FooEventsTicketsKey = "WooCommerceEventsOrderTickets"

// AttendeeKeys names the line-item meta keys that hold per-ticket attendee
// details, for shops whose plugin writes them there. One row per ticket:
// the n-th email row pairs with the n-th name rows.
type AttendeeKeys struct {
	Email     string
	FirstName string
	LastName  string
}

// attendees returns the people a line item registers, in this order of
// preference: FooEvents tickets of the item's product, line-item meta under
// keys, the billing person once.
func attendees(o Order, item LineItem, keys AttendeeKeys) []Person {
	if ps := fooEventsAttendees(o, item); len(ps) > 0 {
		return ps
	}
	if ps := lineItemAttendees(o, item, keys); len(ps) > 0 {
		return ps
	}
	return []Person{normalize(o.Billing)}
}

func normalize(p Person) Person {
	return Person{
		FirstName: strings.TrimSpace(p.FirstName),
		LastName:  strings.TrimSpace(p.LastName),
		Email:     NormalizeEmail(p.Email),
	}
}

// fooEventsAttendees reads the tickets FooEvents wrote for the item's
// product (and variation, where the ticket names one). A ticket without
// attendee details falls back to the purchaser, then to billing.
func fooEventsAttendees(o Order, item LineItem) []Person {
	raw := MetaValue(o.Meta, FooEventsTicketsKey)
	if len(raw) == 0 {
		return nil
	}
	var events map[string]map[string]map[string]any
	if json.Unmarshal(raw, &events) != nil {
		return nil
	}
	var out []Person
	for _, ek := range sortedKeys(events) {
		tickets := events[ek]
		for _, tk := range sortedKeys(tickets) {
			t := tickets[tk]
			if str(t["WooCommerceEventsProductID"]) != strconv.FormatInt(item.ProductID, 10) {
				continue
			}
			if v := str(t["WooCommerceEventsVariationID"]); v != "" && v != "0" && item.VariationID != 0 && v != strconv.FormatInt(item.VariationID, 10) {
				continue
			}
			p := Person{
				FirstName: str(t["WooCommerceEventsAttendeeName"]),
				LastName:  str(t["WooCommerceEventsAttendeeLastName"]),
				Email:     str(t["WooCommerceEventsAttendeeEmail"]),
			}
			if strings.TrimSpace(p.Email) == "" {
				p = Person{
					FirstName: str(t["WooCommerceEventsPurchaserFirstName"]),
					LastName:  str(t["WooCommerceEventsPurchaserLastName"]),
					Email:     str(t["WooCommerceEventsPurchaserEmail"]),
				}
			}
			if strings.TrimSpace(p.Email) == "" {
				p = o.Billing
			}
			out = append(out, normalize(p))
		}
	}
	return out
}

func lineItemAttendees(o Order, item LineItem, keys AttendeeKeys) []Person {
	if keys.Email == "" {
		return nil
	}
	values := func(key string) []string {
		if key == "" {
			return nil
		}
		var vs []string
		for _, m := range item.Meta {
			if m.Key == key {
				vs = append(vs, str(rawString(m.Value)))
			}
		}
		return vs
	}
	emails, firsts, lasts := values(keys.Email), values(keys.FirstName), values(keys.LastName)
	var out []Person
	for i, e := range emails {
		p := Person{Email: e}
		if i < len(firsts) {
			p.FirstName = firsts[i]
		}
		if i < len(lasts) {
			p.LastName = lasts[i]
		}
		if strings.TrimSpace(p.Email) == "" {
			p = o.Billing
		}
		out = append(out, normalize(p))
	}
	return out
}

func rawString(raw json.RawMessage) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// str reads a JSON scalar as text: FooEvents writes ids as strings or numbers.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

// sortedKeys orders FooEvents' "1", "2", ... keys numerically.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, errA := strconv.Atoi(keys[i])
		b, errB := strconv.Atoi(keys[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return keys[i] < keys[j]
	})
	return keys
}
