// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// into a temporary folder, the server on a free loopback port with
// fsync off, a fresh database per test, and everything removed at Stop.
// Run as root, the cluster belongs to the unprivileged user nobody, since
// PostgreSQL refuses to run as root.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	dir  string
	port int
	cmd  *exec.Cmd
	logs string
	n    atomic.Int64
	// exited is closed when the server process ends.
	exited chan struct{}
	admin  *sql.DB
}

// Bin returns the folder of PostgreSQL's server programs: the one of
// initdb on PATH, else the newest of Debian's /usr/lib/postgresql/N/bin.
func Bin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a < b
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("PostgreSQL's server programs (initdb, postgres) are not installed: run make tools, or apt-get install postgresql")
}

// Start creates and starts a cluster.
func Start() (*Cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "woozoom-pg-")
	if err != nil {
		return nil, fmt.Errorf("make the cluster's folder: %w", err)
	}
	c := &Cluster{dir: dir, exited: make(chan struct{})}
	if err := c.start(bin, cred); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

// serverUser is who runs the server: this user, or nobody when root.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("find the unprivileged user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (c *Cluster) start(bin string, cred *syscall.Credential) error {
	data := filepath.Join(c.dir, "data")
	c.logs = filepath.Join(c.dir, "server.log")
	if cred != nil {
		// The folder is the server user's; MkdirTemp made it 0700.
		if err := os.Chown(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("give the cluster's folder to the server user: %w", err)
		}
	}
	initdb := c.command(cred, filepath.Join(bin, "initdb"), "-D", data, "-U", "woozoom", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	for try := 0; ; try++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		err = c.serve(bin, cred, data, port)
		if err == nil || try == 4 {
			return err
		}
	}
}

func (c *Cluster) serve(bin string, cred *syscall.Credential, data string, port int) error {
	logf, err := os.OpenFile(c.logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	defer func() { _ = logf.Close() }() // the server has its own copy
	cmd := c.command(cred, filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+c.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	c.cmd, c.port, c.exited = cmd, port, exited
	admin, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = admin.PingContext(ctx)
		cancel()
		if err == nil {
			c.admin = admin
			return nil
		}
		select {
		case <-exited:
			_ = admin.Close()
			out, _ := os.ReadFile(c.logs)
			return fmt.Errorf("postgres stopped at start: %s", out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = admin.Close()
			_ = cmd.Process.Kill()
			return fmt.Errorf("postgres did not answer in 30 s: %w", err)
		}
	}
}

func (c *Cluster) command(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	// The server ends with the test binary even if that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

func (c *Cluster) url(db string) string {
	return fmt.Sprintf("postgres://woozoom@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Own starts a cluster of t's own (for a test that stops or restarts the
// server), stopped and removed when t ends.
func Own(t testing.TB) *Cluster {
	t.Helper()
	c, err := Start()
	if err != nil {
		t.Fatalf("start a throwaway PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// Port is the server's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// NewDatabase creates an empty database and returns its URL; it is dropped
// when t ends.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.n.Add(1))
	if _, err := c.admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE template0 STRATEGY FILE_COPY`); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := c.admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return c.url(name)
}

// Down stops the server (fast shutdown: sessions are cut) and keeps its
// files; Up starts it again on the same port. Together they are a database
// outage as production sees one.
func (c *Cluster) Down() error {
	_ = c.admin.Close()
	return c.stopServer()
}

// Up starts the server that Down stopped.
func (c *Cluster) Up() error {
	bin, err := Bin()
	if err != nil {
		return err
	}
	cred, err := serverUser()
	if err != nil {
		return err
	}
	return c.serve(bin, cred, filepath.Join(c.dir, "data"), c.port)
}

func (c *Cluster) stopServer() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-c.exited:
		return nil
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return errors.New("postgres did not stop in 20 s; killed")
	}
}

// Stop stops the server and removes the cluster's files.
func (c *Cluster) Stop() error {
	if c.admin != nil {
		_ = c.admin.Close()
	}
	err := c.stopServer()
	c.remove()
	return err
}

func (c *Cluster) remove() { _ = os.RemoveAll(c.dir) }

// Shared starts one cluster for a test binary on first use; Main stops it.
type Shared struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Get returns the shared cluster, starting it the first time; a start
// that failed fails every test that asks.
func (s *Shared) Get(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(func() { s.c, s.err = Start() })
	if s.err != nil {
		t.Fatalf("start a throwaway PostgreSQL: %v", s.err)
	}
	return s.c
}

// Stop stops the shared cluster if it was started.
func (s *Shared) Stop() {
	if s.c != nil {
		if err := s.c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
}
