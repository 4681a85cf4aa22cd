package health_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/health"
)

func TestProblemsAreLoggedOnceAndCleared(t *testing.T) {
	var buf bytes.Buffer
	var seen [][]string
	h := health.New(slog.New(slog.NewTextHandler(&buf, nil)), func(c []string) { seen = append(seen, c) })
	for range 5 {
		h.Problem("woocommerce", "the shop refused the REST key (HTTP 401)", "woocommerce answered 401")
	}
	if n := strings.Count(buf.String(), "needs a person"); n != 1 {
		t.Errorf("logged %d times for one lasting problem, want once:\n%s", n, buf.String())
	}
	h.Problem("woocommerce", "the shop's certificate is not trusted", "certificate not trusted")
	if n := strings.Count(buf.String(), "needs a person"); n != 2 {
		t.Errorf("a changed problem was not logged")
	}
	if p := h.Problems(); p["woocommerce"] != "certificate not trusted" || len(p) != 1 {
		t.Errorf("problems = %v", p)
	}
	if s := h.Summaries(); s["woocommerce"] != "the shop's certificate is not trusted" || len(s) != 1 {
		t.Errorf("summaries = %v", s)
	}
	h.OK("woocommerce")
	h.OK("woocommerce")
	if len(h.Problems()) != 0 || strings.Count(buf.String(), "working again") != 1 {
		t.Errorf("after OK: %v\n%s", h.Problems(), buf.String())
	}
	if len(seen) != 2 || len(seen[0]) != 1 || seen[0][0] != "woocommerce" || len(seen[1]) != 0 {
		t.Errorf("changes reported: %v, want [[woocommerce] []]", seen)
	}
}
