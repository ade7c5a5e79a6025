// Package testproc runs the real servers some adapter tests need
// (versitygw for S3, stripe-mock for Stripe): a pinned binary that `go
// install` puts into <repo>/.bin, started as a fresh process per test on a
// free loopback port and stopped when the test ends.
//
// .ci/services.sh installs the binaries before CI's tests; when one is
// missing, Binary installs it itself, once across parallel test binaries
// (under a file lock).
package testproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeouts.
const (
	StartTimeout   = 20 * time.Second
	installTimeout = 10 * time.Minute
	stopTimeout    = 5 * time.Second
	startAttempts  = 3
)

// Tool is a binary the tests run, pinned to a version.
type Tool struct {
	Name    string // the binary's name in .bin ("versitygw")
	Package string // what `go install` builds
	Version string // the pinned release
	// Env names a variable that, when set, is the path of a binary to
	// use instead (GELLHUB_VERSITYGW).
	Env string
}

// Binary returns the binary to run: $Env when set, else <repo>/.bin/Name,
// installed at Version with `go install` when it is missing or of another
// version.
func (tool Tool) Binary() (string, error) {
	if p := os.Getenv(tool.Env); tool.Env != "" && p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", tool.Env, err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	binDir := filepath.Join(root, ".bin")
	bin := filepath.Join(binDir, tool.Name)
	if tool.installed(binDir) {
		return bin, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(binDir, "."+tool.Name+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if tool.installed(binDir) { // another test binary installed it while we waited
		return bin, nil
	}
	if err := tool.install(binDir); err != nil {
		return "", err
	}
	return bin, nil
}

// installed reports whether binDir holds the tool at Version: the binary
// and the stamp written after installing it.
func (tool Tool) installed(binDir string) bool {
	if _, err := os.Stat(filepath.Join(binDir, tool.Name)); err != nil {
		return false
	}
	stamp, err := os.ReadFile(filepath.Join(binDir, tool.Name+".version"))
	return err == nil && strings.TrimSpace(string(stamp)) == tool.Version
}

// install runs `go install` of the tool at Version into binDir.
func (tool Tool) install(binDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", tool.Package+"@"+tool.Version)
	cmd.Dir = os.TempDir() // outside the module: @version ignores go.mod anyway
	cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s@%s: %w: %s", tool.Package, tool.Version, err, out)
	}
	return os.WriteFile(filepath.Join(binDir, tool.Name+".version"), []byte(tool.Version+"\n"), 0o644)
}

// repoRoot finds the module's root from the working directory (a test runs
// in its package's directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(data, []byte("module github.com/gellhub/gellhub\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testproc: the gellhub module's root (go.mod) is not above the working directory")
		}
		dir = parent
	}
}

// Server is how to run one server process.
type Server struct {
	Name string // for messages
	Bin  string
	// Args are the command-line arguments for a server listening on
	// addr (host:port).
	Args func(addr string) []string
	// Ready reports whether the server at addr answers (any HTTP answer
	// usually means it serves).
	Ready func(addr string) bool
}

// Start runs srv on a free loopback port, waits until it is ready, and
// stops it when t ends; it returns the address. A port taken by another
// process between picking and binding it makes it try another one.
func Start(t testing.TB, srv Server) (string, error) {
	var err error
	for attempt := 0; attempt < startAttempts; attempt++ {
		var addr string
		if addr, err = start(t, srv); err == nil {
			return addr, nil
		}
	}
	return "", err
}

func start(t testing.TB, srv Server) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(srv.Bin, srv.Args(addr)...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", srv.Bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(StartTimeout)
	for !srv.Ready(addr) {
		select {
		case err := <-exited:
			return "", fmt.Errorf("%s exited (%v): %s", srv.Name, err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("%s did not answer on %s within %s; output: %s", srv.Name, addr, StartTimeout, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(stop)
	return addr, nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// syncBuffer collects a process's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 { // enough to say why it failed
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
