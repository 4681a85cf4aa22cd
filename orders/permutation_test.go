package orders_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/woozoom/woozoom/woo/wootest"
)

type genOrder struct {
	spec     wootest.Order
	statuses []string // the status changes after creation, in order
}

type recorded struct {
	order int64
	body  []byte
}

// generate makes orders whose buyers share emails, each going through a
// random walk of statuses.
func generate(r *rand.Rand, n int) []genOrder {
	pool := []string{"ann@example.org", "Bob@Example.org", "cy@example.org", "dee@example.org", "eve@example.org", "fay@example.org"}
	walk := []string{"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}
	out := make([]genOrder, n)
	for i := range out {
		var items []wootest.Item
		for _, p := range []int64{10, 11, 99} {
			if r.IntN(2) == 0 {
				items = append(items, wootest.Item{ProductID: p, Quantity: 1 + r.IntN(2)})
			}
		}
		if len(items) == 0 {
			items = []wootest.Item{{ProductID: 10, Quantity: 1}}
		}
		g := genOrder{spec: wootest.Order{Status: "pending", FirstName: "Buyer", LastName: fmt.Sprint(i), Email: pool[r.IntN(len(pool))], Items: items}}
		for range 1 + r.IntN(5) {
			g.statuses = append(g.statuses, walk[r.IntN(len(walk))])
		}
		out[i] = g
	}
	return out
}

// approvedSeats is what Zoom lets in: "meeting|email" of every approved registrant.
func approvedSeats(h *harness) []string {
	var out []string
	for _, id := range []int64{h.meeting, h.webinar} {
		for _, r := range h.zoom.Registrants(id) {
			if r.Status == "approved" {
				out = append(out, fmt.Sprintf("%d|%s", id, r.Email))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestAnyOrderOfDeliveriesEndsInTheLatestState(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			orders := generate(r, 20)

			// In order: every snapshot delivered and worked as it happens.
			ref := newHarness(t)
			var deliveries []recorded
			final := map[int64]genOrder{}
			decisive := map[int64]string{}
			for _, g := range orders {
				id := ref.shop.CreateOrder(g.spec)
				final[id] = g
				body, _ := ref.shop.OrderJSON(id)
				deliveries = append(deliveries, recorded{id, body})
				for _, s := range g.statuses {
					ref.shop.SetStatus(id, s)
					if s == "completed" || s == "cancelled" || s == "refunded" {
						decisive[id] = s
					}
					body, _ := ref.shop.OrderJSON(id)
					deliveries = append(deliveries, recorded{id, body})
				}
			}
			for _, d := range deliveries {
				ref.deliverBody("order.updated", d.body)
				ref.drain()
			}
			inOrder := approvedSeats(ref)

			// What the orders' latest deciding statuses require (a status
			// other than completed, cancelled and refunded changes nothing):
			// every email of a completed order on every mapped target, and
			// nobody else.
			want := map[string]bool{}
			for id, g := range final {
				if decisive[id] != "completed" {
					continue
				}
				for _, it := range g.spec.Items {
					target := map[int64]int64{10: ref.meeting, 11: ref.webinar}[it.ProductID]
					if target != 0 {
						want[fmt.Sprintf("%d|%s", target, g.spec.Email)] = true
					}
				}
			}
			var required []string
			for k := range want {
				required = append(required, k)
			}
			sort.Strings(required)
			if diff := cmp.Diff(normaliseSeats(required), normaliseSeats(inOrder)); diff != "" {
				t.Fatalf("in-order run does not match the final statuses (-want +got)\n%s", diff)
			}

			// Shuffled, with a third of the deliveries repeated, worked in
			// random batches.
			perm := newHarness(t)
			for _, g := range orders {
				perm.shop.CreateOrder(g.spec)
			}
			shuffled := slices.Clone(deliveries)
			for _, d := range deliveries {
				if r.IntN(3) == 0 {
					shuffled = append(shuffled, d)
				}
			}
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			for _, d := range shuffled {
				perm.deliverBody("order.updated", d.body)
				if r.IntN(4) == 0 {
					perm.drain()
				}
			}
			perm.drain()
			if diff := cmp.Diff(normaliseSeats(inOrder), normaliseSeats(approvedSeats(perm))); diff != "" {
				t.Errorf("%d deliveries shuffled and repeated end elsewhere than in order (-in order +shuffled)\n%s", len(shuffled), diff)
			}
			for _, email := range []string{"ann@example.org", "bob@example.org"} {
				if n := perm.zoom.Adds(perm.meeting, email); n > 3 {
					t.Errorf("%d adds of %s on one meeting in a day: over Zoom's limit", n, email)
				}
			}
		})
	}
}

// normaliseSeats lower-cases emails: Zoom keeps them as first added.
func normaliseSeats(seats []string) []string {
	out := make([]string, len(seats))
	for i, s := range seats {
		out[i] = strings.ToLower(s)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
