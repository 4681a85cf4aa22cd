package main

import (
	"os"
	"strings"
	"testing"

	"github.com/woozoom/woozoom/store/pgtest"
)

var cluster pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.Stop()
	os.Exit(code)
}

// engines are the databases the end-to-end tests run on: database returns
// the setting for a fresh one ("" for a new SQLite file).
var engines = []struct {
	name     string
	database func(testing.TB) string
}{
	{"sqlite", func(testing.TB) string { return "" }},
	{"postgres", func(t testing.TB) string {
		// The cluster trusts loopback, so the password is never asked for;
		// it is there to show that no log or output prints it.
		return withPassword(cluster.Get(t).NewDatabase(t))
	}},
}

// withPassword puts e2ePGPassword into a database URL of the throwaway
// cluster, which trusts loopback and never asks for it.
func withPassword(url string) string {
	return strings.Replace(url, "woozoom@", "woozoom:"+e2ePGPassword+"@", 1)
}

const e2ePGPassword = "pg-secret-e2e-5150"
