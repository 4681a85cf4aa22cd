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

// ticket is one person a line item registers, with the slot they booked.
type ticket struct {
	Person
	Slot string
}

// attendees returns the tickets of a line item, in this order of
// preference: FooEvents tickets of the item's product (each with its own
// booked slot), line-item meta under keys, the billing person once. A ticket
// without its own slot takes the line's (slotKeys).
func attendees(o Order, item LineItem, keys AttendeeKeys, slotKeys []string) []ticket {
	ts := fooEventsAttendees(o, item)
	if len(ts) == 0 {
		for _, p := range lineItemAttendees(o, item, keys) {
			ts = append(ts, ticket{Person: p})
		}
	}
	if len(ts) == 0 {
		ts = []ticket{{Person: normalize(o.Billing)}}
	}
	slot := lineSlot(item, slotKeys)
	for i := range ts {
		if ts[i].Slot == "" {
			ts[i].Slot = slot
		}
	}
	return ts
}

func lineSlot(item LineItem, slotKeys []string) string {
	for _, k := range slotKeys {
		if v := MetaValue(item.Meta, k); v != nil {
			if s := strings.TrimSpace(str(rawString(v))); s != "" {
				return s
			}
		}
	}
	return ""
}

// fooEventsSlot reads WooCommerceEventsBookingOptions: {"slot": id, "date": id}.
func fooEventsSlot(v any) string {
	opts, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	slot, date := str(opts["slot"]), str(opts["date"])
	if slot == "" {
		return ""
	}
	if date != "" {
		return slot + "/" + date
	}
	return slot
}

func normalize(p Person) Person {
	n := Person{
		FirstName: strings.TrimSpace(p.FirstName),
		LastName:  strings.TrimSpace(p.LastName),
		Email:     NormalizeEmail(p.Email),
	}
	if typed := strings.TrimSpace(p.Email); typed != n.Email {
		n.TypedEmail = typed
	}
	return n
}

// fooEventsAttendees reads the tickets FooEvents wrote for the item's
// product (and variation, where the ticket names one). A ticket without
// attendee details falls back to the purchaser, then to billing.
func fooEventsAttendees(o Order, item LineItem) []ticket {
	raw := MetaValue(o.Meta, FooEventsTicketsKey)
	if len(raw) == 0 {
		return nil
	}
	var events map[string]map[string]map[string]any
	if json.Unmarshal(raw, &events) != nil {
		return nil
	}
	var out []ticket
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
			out = append(out, ticket{Person: normalize(p), Slot: fooEventsSlot(t["WooCommerceEventsBookingOptions"])})
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
