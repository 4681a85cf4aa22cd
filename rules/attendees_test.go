package rules_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/woo"
)

var (
	tour = rules.Target{Kind: rules.Meeting, ID: 85746065123}
	pot  = rules.Target{Kind: rules.Webinar, ID: 91234567890}
)

func example(t *testing.T, name string) rules.Order {
	t.Helper()
	body, err := os.ReadFile("../woo/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	o, err := woo.ParseOrder(body)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func metaRow(key string, v any) rules.Meta {
	b, _ := json.Marshal(v)
	return rules.Meta{Key: key, Value: b}
}

func emails(ws []rules.Want) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Attendee.Email+"@"+w.Target.String())
	}
	return out
}

func TestFooEventsTicketsFromARealOrderShape(t *testing.T) {
	o := example(t, "order-completed.json") // 2 adult tickets of 812, 1 of 840
	ws := rules.DefaultPolicy().Wants(o, []rules.Mapping{{ProductID: 812, Target: tour}, {ProductID: 840, Target: pot}})
	want := []rules.Want{
		{LineItemID: 1187, ProductID: 812, Target: tour, Attendee: rules.Person{FirstName: "Mara", LastName: "Lindqvist", Email: "mara.lindqvist@example.net"}},
		{LineItemID: 1187, ProductID: 812, Target: tour, Attendee: rules.Person{FirstName: "Jonas", LastName: "Brandt", Email: "jonas.brandt@example.net"}},
		{LineItemID: 1188, ProductID: 840, Target: pot, Attendee: rules.Person{FirstName: "Mara", LastName: "Lindqvist", Email: "mara.lindqvist@example.net"}},
	}
	if diff := cmp.Diff(want, ws); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestAttendeeSources(t *testing.T) {
	billing := rules.Person{FirstName: "Bill", LastName: "Payer", Email: "Bill@Example.org"}
	ticket := func(product, variation any, first, last, email string) map[string]any {
		return map[string]any{
			"WooCommerceEventsProductID": product, "WooCommerceEventsVariationID": variation,
			"WooCommerceEventsAttendeeName": first, "WooCommerceEventsAttendeeLastName": last, "WooCommerceEventsAttendeeEmail": email,
			"WooCommerceEventsPurchaserFirstName": "Pia", "WooCommerceEventsPurchaserLastName": "Purchaser", "WooCommerceEventsPurchaserEmail": "pia@example.org",
		}
	}
	keys := rules.AttendeeKeys{Email: "Attendee Email", FirstName: "Attendee First Name", LastName: "Attendee Last Name"}
	for _, tc := range []struct {
		name   string
		policy rules.Policy
		order  rules.Order
		want   []string
	}{
		{
			name:  "no attendee data: the billing person once, whatever the quantity",
			order: rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 1, ProductID: 10, Quantity: 3}}},
			want:  []string{"bill@example.org@meeting 85746065123"},
		},
		{
			name: "FooEvents: a ticket without attendee details falls back to the purchaser",
			order: rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 1, ProductID: 10, Quantity: 2}},
				Meta: []rules.Meta{metaRow(rules.FooEventsTicketsKey, map[string]any{"1": map[string]any{
					"1": ticket("10", "", "Ann", "A", "ann@example.org"),
					"2": ticket(10, "", "", "", ""),
				}})}},
			want: []string{"ann@example.org@meeting 85746065123", "pia@example.org@meeting 85746065123"},
		},
		{
			name: "FooEvents: tickets of another variation of the product are not this line's",
			order: rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 1, ProductID: 10, VariationID: 15, Quantity: 1}},
				Meta: []rules.Meta{metaRow(rules.FooEventsTicketsKey, map[string]any{"1": map[string]any{
					"1": ticket("10", 16, "Vic", "V", "vic@example.org"),
					"2": ticket("10", 15, "Fay", "F", "fay@example.org"),
				}})}},
			want: []string{"fay@example.org@meeting 85746065123"},
		},
		{
			name: "FooEvents tickets sort numerically (10 after 9)",
			order: rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 1, ProductID: 10, Quantity: 2}},
				Meta: []rules.Meta{metaRow(rules.FooEventsTicketsKey, map[string]any{"1": map[string]any{
					"10": ticket("10", "", "Ten", "T", "ten@example.org"),
					"9":  ticket("10", "", "Nine", "N", "nine@example.org"),
				}})}},
			want: []string{"nine@example.org@meeting 85746065123", "ten@example.org@meeting 85746065123"},
		},
		{
			name: "FooEvents Bookings: each ticket goes to the slot it booked",
			order: rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 1, ProductID: 10, Quantity: 2}},
				Meta: []rules.Meta{metaRow(rules.FooEventsTicketsKey, map[string]any{"1": map[string]any{
					"1": withBooking(ticket("10", "", "Ann", "A", "ann@example.org"), "7", "1698"),
					"2": withBooking(ticket("10", "", "Ben", "B", "ben@example.org"), "8", ""),
				}})}},
			want: []string{"ann@example.org@meeting 85746065123", "ben@example.org@webinar 91234567890"},
		},
		{
			name:   "line-item meta: quantity 3, three attendees, a duplicate email collapses",
			policy: rules.Policy{Attendees: keys},
			order: rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 1, ProductID: 10, Quantity: 3, Meta: []rules.Meta{
				metaRow("Attendee Email", "a@example.org"), metaRow("Attendee First Name", "A"),
				metaRow("Attendee Email", " B@example.org "), metaRow("Attendee First Name", "B"),
				metaRow("Attendee Email", "b@example.org"), metaRow("Attendee First Name", "B2"),
			}}}},
			want: []string{"a@example.org@meeting 85746065123", "b@example.org@meeting 85746065123"},
		},
		{
			name:   "per-product keys override the shop-wide ones",
			policy: rules.Policy{Attendees: keys, AttendeesByProduct: map[int64]rules.AttendeeKeys{10: {Email: "guest_email"}}},
			order: rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 1, ProductID: 10, Meta: []rules.Meta{
				metaRow("Attendee Email", "shopwide@example.org"), metaRow("guest_email", "guest@example.org"),
			}}}},
			want: []string{"guest@example.org@meeting 85746065123"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := emails(tc.policy.Wants(tc.order, []rules.Mapping{{ProductID: 10, Target: tour}, {ProductID: 10, Slot: "7", Target: tour}, {ProductID: 10, Slot: "8", Target: pot}}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestRefundedTickets(t *testing.T) {
	billing := rules.Person{FirstName: "Bill", Email: "bill@example.org"}
	keys := rules.AttendeeKeys{Email: "Attendee Email"}
	three := []rules.Meta{metaRow("Attendee Email", "a@example.org"), metaRow("Attendee Email", "b@example.org"), metaRow("Attendee Email", "c@example.org")}
	for _, tc := range []struct {
		name     string
		qty      int
		meta     []rules.Meta
		refunded int
		want     []string
	}{
		{"billing once, 1 of 2 refunded: still holds a ticket", 2, nil, 1, []string{"bill@example.org@meeting 85746065123"}},
		{"billing once, all refunded", 2, nil, 2, nil},
		{"per ticket, 1 of 3 refunded: the last goes", 3, three, 1, []string{"a@example.org@meeting 85746065123", "b@example.org@meeting 85746065123"}},
		{"per ticket, more refunded than tickets", 3, three, 5, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := rules.Order{Billing: billing, Items: []rules.LineItem{{ID: 7, ProductID: 10, Quantity: tc.qty, Meta: tc.meta}},
				HasRefunds: true, RefundedQty: map[int64]int{7: tc.refunded}}
			got := emails(rules.Policy{Attendees: keys}.Wants(o, []rules.Mapping{{ProductID: 10, Target: tour}}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestFullyRefundedLineReleasesItsSeat(t *testing.T) {
	o := rules.Order{ID: 1, Status: "completed", Billing: rules.Person{FirstName: "B", Email: "b@example.org"},
		Items: []rules.LineItem{{ID: 7, ProductID: 10, Quantity: 1}}, RefundedQty: map[int64]int{7: 1}}
	p := rules.DefaultPolicy()
	reg := rules.Registration{OrderID: 1, LineItemID: 7, Target: tour, Attendee: rules.Person{FirstName: "B", Email: "b@example.org"}, State: rules.Active}
	key := reg.Key()
	plan := rules.Decide(rules.Input{Order: o, Intent: p.Intent(o), Wants: p.Wants(o, []rules.Mapping{{ProductID: 10, Target: tour}}),
		Registrations: []rules.Registration{reg}, Seats: map[rules.SeatKey]rules.Seat{key: {SeatKey: key, RegistrantID: "r", Status: rules.SeatApproved}}})
	if len(plan.Release) != 1 || len(plan.Zoom) != 1 || plan.Zoom[0].Kind != rules.Cancel {
		t.Errorf("plan = %+v, want the seat released and cancelled", plan)
	}
}

func withBooking(t map[string]any, slot, date string) map[string]any {
	t["WooCommerceEventsBookingOptions"] = map[string]any{"slot": slot, "date": date}
	return t
}
