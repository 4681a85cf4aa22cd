// Package deploy holds the files that run woozoom for real: the systemd
// unit, its system user, and (at the top level) the Dockerfile.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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

// The cluster's compose file runs three replicas on the PostgreSQL it
// starts, behind a balancer named and ported as the shop delivers to, and
// the balancer's configuration sends to exactly those replicas.
func TestComposeClusterRunsReplicasOnPostgreSQL(t *testing.T) {
	raw, err := os.ReadFile("compose/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       string            `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("compose/cluster.yaml: %v", err)
	}
	pg, ok := compose.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:") {
		t.Fatalf("no PostgreSQL service: %+v", pg)
	}
	url := "postgres://" + pg.Environment["POSTGRES_USER"] + ":" + pg.Environment["POSTGRES_PASSWORD"] + "@postgres:5432/" + pg.Environment["POSTGRES_DB"]
	conf, err := os.ReadFile("compose/nginx-cluster.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"woozoom-1", "woozoom-2", "woozoom-3"} {
		r := compose.Services[name]
		if r.Build != "../.." || !strings.HasPrefix(r.Environment["WOOZOOM_DATABASE"], url+"?") {
			t.Errorf("%s is not woozoom on the PostgreSQL service: build %q, database %q", name, r.Build, r.Environment["WOOZOOM_DATABASE"])
		}
		if !strings.Contains(string(conf), "server "+name+":8080") {
			t.Errorf("the balancer does not send to %s", name)
		}
	}
	lb := compose.Services["woozoom"]
	if !strings.HasPrefix(lb.Image, "nginx:") || len(lb.Ports) != 1 || lb.Ports[0] != "8080:8080" ||
		len(lb.Volumes) != 1 || !strings.HasPrefix(lb.Volumes[0], "./nginx-cluster.conf:") {
		t.Errorf("the balancer is not nginx on 8080 with nginx-cluster.conf: %+v", lb)
	}
	if n := strings.Count(string(conf), "    server woozoom-"); n != 3 {
		t.Errorf("the balancer sends to %d servers, want the 3 replicas", n)
	}
}
