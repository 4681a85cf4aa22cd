// Package contract checks exchanges with the fake Zoom against Zoom's own
// OpenAPI description. It is apart from zoomtest so that the demo, which
// runs the fake inside woozoom, does not link an OpenAPI validator.
package contract

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// spec is Zoom's own OpenAPI description of the operations woozoom uses,
// kept in the repository (testdata/README.md says where it comes from) so a
// clone tests alone.
//
//go:embed testdata/zoom-registration-subset.openapi.json
var spec []byte

// Validator checks requests to and responses from the API under /v2 against
// Zoom's OpenAPI description, and records every violation.
type Validator struct {
	router routers.Router
	next   http.Handler

	mu         sync.Mutex
	violations []string
	checked    int
}

// NewValidator wraps next (a Fake) with validation against Zoom's spec;
// base is the URL the API is served at (".../v2").
func NewValidator(base string, next http.Handler) (*Validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load Zoom's OpenAPI description: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route Zoom's OpenAPI description: %w", err)
	}
	return &Validator{router: router, next: next}, nil
}

// Violations returns what did not agree with the spec.
func (v *Validator) Violations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.violations...)
}

// Checked returns how many API exchanges were validated.
func (v *Validator) Checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checked
}

func (v *Validator) fail(format string, args ...any) {
	v.mu.Lock()
	v.violations = append(v.violations, fmt.Sprintf(format, args...))
	v.mu.Unlock()
}

func (v *Validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/v2/") {
		v.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	// The router matches on the full URL, as a client addressed it.
	full := r.Clone(r.Context())
	full.URL.Scheme, full.URL.Host = "http", r.Host
	route, params, err := v.router.FindRoute(full)
	if err != nil {
		v.fail("%s %s: no such operation in Zoom's spec: %v", r.Method, r.URL.Path, err)
		v.next.ServeHTTP(w, r)
		return
	}
	full.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request: full, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			MultiError: true,
			AuthenticationFunc: func(_ context.Context, ai *openapi3filter.AuthenticationInput) error {
				if !strings.HasPrefix(ai.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
					return fmt.Errorf("no bearer token")
				}
				return nil
			},
		},
	}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		v.fail("request %s %s: %v", r.Method, r.URL.Path, err)
	}
	rec := httptest.NewRecorder()
	r.Body = io.NopCloser(bytes.NewReader(body))
	v.next.ServeHTTP(rec, r)
	if r.Context().Err() != nil {
		return // the client gave up; no answer goes out
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(rec.Body.Bytes())
	// 401 (bad token) and 5xx (injected faults) are not described per
	// operation in Zoom's spec, nor the users API's errors (the source of
	// its description dropped them).
	usersError := strings.HasPrefix(r.URL.Path, "/v2/users") && rec.Code >= 400
	if rec.Code != http.StatusUnauthorized && rec.Code < 500 && !usersError {
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			v.fail("response %d to %s %s: %v", rec.Code, r.Method, r.URL.Path, err)
		}
	}
	v.mu.Lock()
	v.checked++
	v.mu.Unlock()
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}
