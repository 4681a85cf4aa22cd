package admin

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

type overviewData struct {
	Jobs         map[string]int
	Oldest       time.Time
	HeldForDaily int
	Problems     []problem
	ZoomToday    []opCount
	ZoomTotal    int
	Paces        []Pace
}

type problem struct{ Component, Reason string }

type opCount struct {
	Operation string
	Calls     int
}

func (c *Console) overview(ec echo.Context) error {
	ctx := ec.Request().Context()
	var d overviewData
	var err error
	if d.Jobs, d.Oldest, d.HeldForDaily, err = c.storeOf(ec).QueueStats(ctx); err != nil {
		return err
	}
	if c.actOf(ec).Problems != nil {
		for comp, reason := range c.actOf(ec).Problems() {
			d.Problems = append(d.Problems, problem{comp, reason})
		}
		sort.Slice(d.Problems, func(i, j int) bool { return d.Problems[i].Component < d.Problems[j].Component })
	}
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	ops, err := c.storeOf(ec).CallsSince(ctx, "zoom", day)
	if err != nil {
		return err
	}
	for op, n := range ops {
		d.ZoomToday = append(d.ZoomToday, opCount{op, n})
		d.ZoomTotal += n
	}
	sort.Slice(d.ZoomToday, func(i, j int) bool { return d.ZoomToday[i].Operation < d.ZoomToday[j].Operation })
	if c.actOf(ec).Paces != nil {
		d.Paces = c.actOf(ec).Paces()
	}
	return c.render(ec, http.StatusOK, "overview", "Overview", d)
}

func (c *Console) orders(ec echo.Context) error {
	q := strings.TrimSpace(ec.QueryParam("q"))
	var found []store.OrderSummary
	if q != "" {
		var err error
		if found, err = c.storeOf(ec).FindOrders(ec.Request().Context(), q, 50); err != nil {
			return err
		}
	}
	return c.render(ec, http.StatusOK, "orders", "Orders", map[string]any{"Q": q, "Found": found, "Searched": q != ""})
}

type orderRow struct {
	rules.Registration
	Seat    rules.Seat
	HasSeat bool
}

type orderData struct {
	ID         int64
	CanRestore bool // a host cancelled some attendees in Zoom
	Applied    *rules.AppliedOrder
	Rows       []orderRow
	Jobs       []rules.Job
	Calls      []rules.Call
	Plan       []string
	PlanErr    string
	CanPlan    bool
	LinksOut   int
}

func (c *Console) orderData(ec echo.Context, id int64) (orderData, error) {
	ctx := ec.Request().Context()
	d := orderData{ID: id, CanPlan: c.actOf(ec).Plan != nil}
	st, seen, err := c.storeOf(ec).OrderState(ctx, id)
	if err != nil {
		return d, err
	}
	if seen {
		d.Applied = &st
	}
	regs, err := c.storeOf(ec).Registrations(ctx, id)
	if err != nil {
		return d, err
	}
	keys := make([]rules.SeatKey, len(regs))
	for i, r := range regs {
		keys[i] = r.Key()
	}
	seats, err := c.storeOf(ec).Seats(ctx, keys)
	if err != nil {
		return d, err
	}
	for _, r := range regs {
		s, ok := seats[r.Key()]
		d.Rows = append(d.Rows, orderRow{Registration: r, Seat: s, HasSeat: ok})
		d.CanRestore = d.CanRestore || (r.State == rules.Failed && r.Ended == rules.EndedInZoom)
		if r.State == rules.Active && ok && s.Status == rules.SeatApproved {
			d.LinksOut++
		}
	}
	if d.Jobs, err = c.storeOf(ec).JobsOfOrder(ctx, id); err != nil {
		return d, err
	}
	if d.Calls, err = c.storeOf(ec).Calls(ctx, store.CallFilter{OrderID: id, Limit: 200}); err != nil {
		return d, err
	}
	if !seen && len(regs) == 0 && len(d.Jobs) == 0 {
		return d, errNotFound
	}
	return d, nil
}

func (c *Console) order(ec echo.Context) error {
	id, err := idParam(ec)
	if err != nil {
		return err
	}
	d, err := c.orderData(ec, id)
	if errors.Is(err, errNotFound) {
		if c.actOf(ec).Plan == nil {
			return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("woozoom has no delivery of order %d", id))
		}
		err = nil // never seen: the dry run still says what woozoom would do
	}
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "order", fmt.Sprintf("Order %d", id), d)
}

func (c *Console) plan(ec echo.Context) error {
	id, err := idParam(ec)
	if err != nil {
		return err
	}
	if c.actOf(ec).Plan == nil {
		return echo.NewHTTPError(http.StatusNotFound, "no dry run in this process")
	}
	d, err := c.orderData(ec, id)
	if err != nil && !errors.Is(err, errNotFound) {
		return err
	}
	d.Plan, err = c.actOf(ec).Plan(ec.Request().Context(), id)
	if err != nil {
		d.PlanErr = err.Error()
	}
	return c.render(ec, http.StatusOK, "order", fmt.Sprintf("Order %d", id), d)
}

// restore brings back the order's attendees a host cancelled in Zoom.
func (c *Console) restore(ec echo.Context) error {
	id, err := idParam(ec)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/orders/%d", id)
	n, err := c.storeOf(ec).RestoreRegistrations(ec.Request().Context(), id)
	if err != nil {
		return err
	}
	if n == 0 {
		return c.back(ec, back, problemFlash("no registration of this order was cancelled in Zoom"))
	}
	if _, err := c.storeOf(ec).RequeueOrder(ec.Request().Context(), id); err != nil {
		return err
	}
	if c.actOf(ec).Wake != nil {
		c.actOf(ec).Wake()
	}
	c.log.Info("console: registrations restored", "order_id", id, "registrations", n)
	return c.back(ec, back, doneFlash(fmt.Sprintf("%d registrations restored; woozoom approves them on Zoom now", n)))
}

func (c *Console) attention(ec echo.Context) error {
	ctx := ec.Request().Context()
	failed, err := c.storeOf(ec).Jobs(ctx, rules.JobFailed, 200)
	if err != nil {
		return err
	}
	queued, err := c.storeOf(ec).Jobs(ctx, rules.JobQueued, 500)
	if err != nil {
		return err
	}
	var waiting []rules.Job
	now := time.Now()
	for _, j := range queued {
		if j.RunAt.After(now) && j.LastError != "" {
			waiting = append(waiting, j)
		}
	}
	refused, err := c.storeOf(ec).FailedRegistrations(ctx, 200)
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "attention", "Needs a person", map[string]any{"Failed": failed, "Waiting": waiting, "Refused": refused})
}

func (c *Console) retry(ec echo.Context) error {
	id, err := idParam(ec)
	if err != nil {
		return err
	}
	back := ec.FormValue("back")
	if err := c.storeOf(ec).RunJobNow(ec.Request().Context(), id); err != nil {
		return c.back(ec, back, problemFlash(fmt.Sprintf("job %d: %v", id, err)))
	}
	if c.actOf(ec).Wake != nil {
		c.actOf(ec).Wake()
	}
	c.log.Info("console: job queued again", "job_id", id)
	return c.back(ec, back, doneFlash(fmt.Sprintf("job %d runs again now", id)))
}

type eventRow struct {
	store.StoredMapping
	Details    rules.TargetDetails
	HasDetails bool
	Approved   int
	Denied     int
}

func (c *Console) events(ec echo.Context) error {
	ctx := ec.Request().Context()
	ms, err := c.storeOf(ec).Mappings(ctx)
	if err != nil {
		return err
	}
	counts, err := c.storeOf(ec).SeatCounts(ctx)
	if err != nil {
		return err
	}
	rows := make([]eventRow, 0, len(ms))
	for _, m := range ms {
		r := eventRow{StoredMapping: m, Approved: counts[m.Target][rules.SeatApproved], Denied: counts[m.Target][rules.SeatDenied]}
		if r.Details, r.HasDetails, err = c.storeOf(ec).TargetDetails(ctx, m.Target, time.Time{}); err != nil {
			return err
		}
		rows = append(rows, r)
	}
	ended, err := c.attendance(ec, rows)
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "events", "Events", map[string]any{"Rows": rows, "Ended": ended,
		"CanAdd": c.actOf(ec).Verify != nil, "CanBackfill": c.actOf(ec).Backfill != nil})
}

// endedRow is what the Events page says of an ended event's attendance.
type endedRow struct {
	Target                        rules.Target
	Topic                         string
	Registered, Attended, NoShows int
	AverageMinutes                int
	Unmatched                     []store.UnmatchedRow
	// Recordings are Zoom's cloud recordings kept, one per instance.
	Recordings []rules.Recording
}

// attendance sums the attendance of the mapped events that ended.
func (c *Console) attendance(ec echo.Context, rows []eventRow) ([]endedRow, error) {
	ctx := ec.Request().Context()
	var out []endedRow
	seen := map[rules.Target]bool{}
	for _, r := range rows {
		if seen[r.Target] || !r.Target.OnZoom() {
			continue
		}
		seen[r.Target] = true
		records, err := c.storeOf(ec).Attendance(ctx, r.Target, 0)
		if err != nil {
			return nil, err
		}
		recordings, err := c.storeOf(ec).Recordings(ctx, r.Target)
		if err != nil {
			return nil, err
		}
		if len(records) == 0 && len(recordings) == 0 {
			continue
		}
		e := endedRow{Target: r.Target, Topic: r.Details.Topic, Registered: len(records), Recordings: recordings}
		minutes := 0
		for _, a := range records {
			if a.Attended {
				e.Attended++
				minutes += a.Minutes
			}
		}
		e.NoShows = e.Registered - e.Attended
		if e.Attended > 0 {
			e.AverageMinutes = (minutes + e.Attended/2) / e.Attended
		}
		if e.Unmatched, err = c.storeOf(ec).UnmatchedParticipants(ctx, r.Target); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (c *Console) mappingForm(ec echo.Context) (rules.Mapping, error) {
	spec := rules.MappingSpec{Slot: ec.FormValue("slot"), Occurrences: ec.FormValue("occurrences"),
		Kind: rules.TargetKind(ec.FormValue("kind")), ID: ec.FormValue("target")}
	var err error
	if spec.ProductID, err = strconv.ParseInt(strings.TrimSpace(ec.FormValue("product")), 10, 64); err != nil {
		return rules.Mapping{}, fmt.Errorf("product: %q is not a WooCommerce product id", ec.FormValue("product"))
	}
	if v := strings.TrimSpace(ec.FormValue("variation")); v != "" {
		if spec.VariationID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return rules.Mapping{}, fmt.Errorf("variation: %q is not a variation id", v)
		}
	}
	if v := strings.TrimSpace(ec.FormValue("day")); v != "" {
		if spec.Day, err = strconv.Atoi(v); err != nil {
			return rules.Mapping{}, fmt.Errorf("day: %q is not a day number", v)
		}
	}
	return rules.ParseMapping(spec)
}

func (c *Console) addMapping(ec echo.Context) error {
	if c.actOf(ec).Verify == nil {
		return echo.NewHTTPError(http.StatusNotFound, "mappings cannot be verified in this process")
	}
	m, err := c.mappingForm(ec)
	if err != nil {
		return c.back(ec, "/admin/events", problemFlash(err.Error()))
	}
	what, err := c.actOf(ec).Verify(ec.Request().Context(), m.Target)
	if err != nil {
		return c.back(ec, "/admin/events", problemFlash(fmt.Sprintf("%s cannot be mapped: %v", m.Target, err)))
	}
	added, err := c.storeOf(ec).AddMapping(ec.Request().Context(), m, store.FromCLI)
	if err != nil {
		return err
	}
	if !added {
		return c.back(ec, "/admin/events", doneFlash(fmt.Sprintf("product %d already maps to %s", m.ProductID, m.Target)))
	}
	c.log.Info("console: mapping added", "product_id", m.ProductID, "target", m.Target.String())
	return c.back(ec, "/admin/events", doneFlash(fmt.Sprintf("product %d now maps to %s (%s); backfill it to register orders completed before now", m.ProductID, m.Target, what)))
}

func (c *Console) removeMapping(ec echo.Context) error {
	m, err := c.mappingForm(ec)
	if err != nil {
		return c.back(ec, "/admin/events", problemFlash(err.Error()))
	}
	ms, err := c.storeOf(ec).Mappings(ec.Request().Context())
	if err != nil {
		return err
	}
	for _, s := range ms {
		if s.Mapping == m && s.Source == store.FromConfig {
			return c.back(ec, "/admin/events", problemFlash("this mapping comes from config.yaml: remove it there and restart woozoom"))
		}
		if s.Mapping == m && s.Source == store.FromMade {
			return c.back(ec, "/admin/events", problemFlash(store.MadeMeetingMessage))
		}
	}
	removed, err := c.storeOf(ec).RemoveMapping(ec.Request().Context(), m)
	if err != nil {
		return err
	}
	if !removed {
		return c.back(ec, "/admin/events", problemFlash(fmt.Sprintf("no mapping of product %d to %s", m.ProductID, m.Target)))
	}
	c.log.Info("console: mapping removed", "product_id", m.ProductID, "target", m.Target.String())
	return c.back(ec, "/admin/events", doneFlash(fmt.Sprintf("removed: product %d to %s (registrations already made stay)", m.ProductID, m.Target)))
}

func (c *Console) backfill(ec echo.Context) error {
	if c.actOf(ec).Backfill == nil {
		return echo.NewHTTPError(http.StatusNotFound, "no backfill in this process")
	}
	product, err := strconv.ParseInt(ec.FormValue("product"), 10, 64)
	if err != nil || product <= 0 {
		return c.back(ec, "/admin/events", problemFlash(fmt.Sprintf("%q is not a product id", ec.FormValue("product"))))
	}
	n, err := c.actOf(ec).Backfill(ec.Request().Context(), product)
	if err != nil {
		return c.back(ec, "/admin/events", problemFlash(fmt.Sprintf("backfill product %d: %v", product, err)))
	}
	if c.actOf(ec).Wake != nil {
		c.actOf(ec).Wake()
	}
	return c.back(ec, "/admin/events", doneFlash(fmt.Sprintf("product %d: %d completed orders queued; see Overview for progress", product, n)))
}

func (c *Console) activity(ec echo.Context) error {
	var f store.CallFilter
	f.Limit = 300
	if o := strings.TrimSpace(ec.QueryParam("order")); o != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(o, "#"), 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%q is not an order number", o))
		}
		f.OrderID = id
	}
	calls, err := c.storeOf(ec).Calls(ec.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "activity", "Activity", map[string]any{"Calls": calls, "Order": f.OrderID})
}
