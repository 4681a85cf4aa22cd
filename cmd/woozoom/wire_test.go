package main

import (
	"net/http"
	"testing"
	"time"
)

func TestKeepConnsKeepsOnePerWorker(t *testing.T) {
	c := keepConns(nil, 16)
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost != 16 {
		t.Fatalf("transport %#v: want an http.Transport keeping 16 idle connections a host", c.Transport)
	}
	if tr == http.DefaultTransport {
		t.Fatal("keepConns changed Go's shared default transport")
	}

	// The shop's client keeps its timeout and its own TLS settings.
	own := &http.Transport{MaxIdleConns: 7}
	c = keepConns(&http.Client{Timeout: 3 * time.Second, Transport: own}, 4)
	tr = c.Transport.(*http.Transport)
	if c.Timeout != 3*time.Second || tr.MaxIdleConns != 7 || tr.MaxIdleConnsPerHost != 4 || own.MaxIdleConnsPerHost != 0 {
		t.Fatalf("client %+v, transport %+v: settings lost or the caller's transport changed", c, tr)
	}
}
