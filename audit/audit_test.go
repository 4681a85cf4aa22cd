package audit_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/woozoom/woozoom/audit"
	"github.com/woozoom/woozoom/metrics"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
)

func TestCallsOfAJobAreRecordedWithTheirAnswers(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/meetings/85746065123/registrants":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"registrant_id":"r1"}`)
		case "/v2/meetings/1/registrants":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":3001,"message":"Meeting does not exist: 1."}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":"woocommerce_rest_authentication_error","message":"Invalid signature"}`)
		}
	}))
	defer srv.Close()
	rec := audit.New(db, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rec.Run(runCtx); close(done) }()
	hc := &http.Client{Transport: rec.Transport("zoom", nil, metrics.Operation)}
	jobCtx := rules.WithJob(ctx, rules.JobRef{JobID: 7, OrderID: 101})
	var bodies []string
	for _, path := range []string{"/v2/meetings/85746065123/registrants", "/v2/meetings/1/registrants", "/wp-json/wc/v3/orders/101?oauth_signature=SECRET"} {
		req, _ := http.NewRequestWithContext(jobCtx, http.MethodPost, srv.URL+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies = append(bodies, string(b))
	}
	stop()
	<-done
	if bodies[1] != `{"code":3001,"message":"Meeting does not exist: 1."}` {
		t.Errorf("the client got %q: reading the code must leave the body whole", bodies[1])
	}
	calls, err := db.Calls(ctx, store.CallFilter{OrderID: 101})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 {
		t.Fatalf("%d calls recorded for order 101, want 3: %+v", len(calls), calls)
	}
	want := []struct {
		status    int
		code, op  string
		pathNoQry string
	}{
		{401, "woocommerce_rest_authentication_error", "POST /orders/{id}", "/wp-json/wc/v3/orders/101"},
		{404, "3001", "POST /meetings/{id}/registrants", "/v2/meetings/1/registrants"},
		{201, "", "POST /meetings/{id}/registrants", "/v2/meetings/85746065123/registrants"},
	}
	for i, w := range want {
		c := calls[i]
		if c.Status != w.status || c.Code != w.code || c.Operation != w.op || c.Path != w.pathNoQry || c.JobID != 7 || c.Method != http.MethodPost {
			t.Errorf("call %d = %+v, want status %d code %q op %q path %q job 7", i, c, w.status, w.code, w.op, w.pathNoQry)
		}
	}
}

func TestPruningKeepsTheNewest(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	var calls []rules.Call
	for i := range 10 {
		calls = append(calls, rules.Call{At: now.Add(-time.Duration(i) * 24 * time.Hour), Service: "zoom", Operation: "GET /users/{id}", Method: "GET", Path: "/v2/users/me", Status: 200})
	}
	if err := db.RecordCalls(ctx, calls); err != nil {
		t.Fatal(err)
	}
	// Kept for 3 days and a bit: the calls of today and the 3 days before stay.
	rec := audit.New(db, 3*24*time.Hour+time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	stop() // Run prunes once at start, then ends
	rec.Run(runCtx)
	left, err := db.Calls(ctx, store.CallFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 4 {
		t.Fatalf("%d calls left, want 4", len(left))
	}
	for _, c := range left {
		if now.Sub(c.At) > 3*24*time.Hour+time.Hour {
			t.Errorf("a call of %s was kept", c.At)
		}
	}
}
