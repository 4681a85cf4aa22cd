// Package deploy holds the files that run woozoom for real: the systemd
// unit, its system user, and (at the top level) the Dockerfile.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The unit passes systemd's own check, with not even a warning, and keeps
// the hardening it promises.
func TestSystemdUnitVerifies(t *testing.T) {
	unit, err := os.ReadFile("woozoom.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nUser=woozoom\n", "\nStateDirectory=woozoom\n", "\nRestart=on-failure\n", "\nProtectSystem=strict\n",
		"\nNoNewPrivileges=yes\n", "\nCapabilityBoundingSet=\n", "\nKillSignal=SIGTERM\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not found: make test installs systemd (apt-get install systemd)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "woozoom")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/woozoom").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// verify wants ExecStart's binary to exist: point it at the one just built.
	local := filepath.Join(dir, "woozoom.service")
	if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/woozoom", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", local).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	users, err := os.ReadFile("woozoom.sysusers")
	if err != nil || !strings.Contains(string(users), "u woozoom ") {
		t.Errorf("woozoom.sysusers does not create the woozoom user: %v %s", err, users)
	}
}
