// Package audit keeps the log of every call woozoom makes to Zoom and
// WooCommerce: what, when, the answer, and the job and order it served.
// Recording never holds up the work: calls are queued in memory and
// written in batches; if the queue is full (the database stalled), calls
// are counted as dropped rather than waited for.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Store is what the recorder needs of the store.
type Store interface {
	RecordCalls(ctx context.Context, calls []rules.Call) error
	PruneCalls(ctx context.Context, before time.Time) (int, error)
}

// DefaultKeep is how long calls are kept unless configured.
const DefaultKeep = 30 * 24 * time.Hour

const (
	queueSize  = 8192
	batchSize  = 512
	flushEvery = time.Second
	pruneEvery = time.Hour
	// peekBytes bounds how much of an error answer is read for its code.
	peekBytes = 16 << 10
)

// Recorder records calls.
type Recorder struct {
	store   Store
	keep    time.Duration
	log     *slog.Logger
	queue   chan rules.Call
	dropped atomic.Int64
	now     func() time.Time
	// Turn, if set, says whether this process prunes this hour: processes
	// sharing a database take turns.
	Turn func(ctx context.Context, every time.Duration) (bool, error)
}

// New returns a recorder that keeps calls for keep (0: DefaultKeep).
func New(store Store, keep time.Duration, log *slog.Logger) *Recorder {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Recorder{store: store, keep: keep, log: log, queue: make(chan rules.Call, queueSize), now: time.Now}
}

// Dropped says how many calls were not recorded because the queue was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Record queues a call for the log; it never blocks.
func (r *Recorder) Record(c rules.Call) {
	select {
	case r.queue <- c:
	default:
		r.dropped.Add(1)
	}
}

// Run writes queued calls in batches and prunes old ones until ctx ends,
// then writes what is still queued.
func (r *Recorder) Run(ctx context.Context) {
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	r.prune(ctx)
	batch := make([]rules.Call, 0, batchSize)
	var dropped int64
	write := func() {
		if d := r.dropped.Load(); d > dropped {
			r.log.Warn("audit log: calls not recorded because the database fell behind", "calls", d-dropped)
			dropped = d
		}
		if len(batch) == 0 {
			return
		}
		if err := r.store.RecordCalls(context.WithoutCancel(ctx), batch); err != nil {
			r.log.Error("audit log", "err", err, "calls_lost", len(batch))
		}
		batch = batch[:0]
	}
	for {
		select {
		case c := <-r.queue:
			batch = append(batch, c)
			if len(batch) == batchSize {
				write()
			}
		case <-flush.C:
			write()
		case <-prune.C:
			r.prune(ctx)
		case <-ctx.Done():
			for {
				select {
				case c := <-r.queue:
					batch = append(batch, c)
				default:
					write()
					return
				}
			}
		}
	}
}

func (r *Recorder) prune(ctx context.Context) {
	if r.Turn != nil {
		if mine, err := r.Turn(ctx, pruneEvery); err != nil || !mine {
			if err != nil {
				r.log.Warn("prune the audit log: no turn", "err", err)
			}
			return
		}
	}
	n, err := r.store.PruneCalls(context.WithoutCancel(ctx), r.now().Add(-r.keep))
	if err != nil {
		r.log.Error("prune the audit log", "err", err)
	} else if n > 0 {
		r.log.Info("pruned the audit log", "calls", n, "older_than", r.keep.String())
	}
}

// Transport wraps base (nil: http.DefaultTransport) so that every call to
// service is recorded. name turns a method and path into the operation.
func (r *Recorder) Transport(service string, base http.RoundTripper, name func(method, path string) string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{r: r, service: service, base: base, name: name}
}

type transport struct {
	r       *Recorder
	service string
	base    http.RoundTripper
	name    func(method, path string) string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.r.now()
	resp, err := t.base.RoundTrip(req)
	c := rules.Call{At: start.UTC(), Service: t.service, Operation: t.name(req.Method, req.URL.Path), Method: req.Method,
		Path: req.URL.Path, Duration: time.Since(start), JobRef: rules.JobOf(req.Context())}
	if err == nil {
		c.Status = resp.StatusCode
		if resp.StatusCode >= 400 {
			c.Code = errorCode(resp)
		}
	}
	t.r.Record(c)
	return resp, err
}

// errorCode reads the code of an error answer (Zoom: a number, WooCommerce:
// a string) and leaves the body as it was for the client.
func errorCode(resp *http.Response) string {
	head, err := io.ReadAll(io.LimitReader(resp.Body, peekBytes))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return ""
	}
	var body struct {
		Code json.RawMessage `json:"code"`
	}
	if json.Unmarshal(head, &body) != nil || len(body.Code) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(body.Code, &s) == nil {
		return s
	}
	return string(body.Code)
}
