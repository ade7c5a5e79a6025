// Package s3test starts a real S3 server for tests: versitygw
// (github.com/versity/versitygw) with its posix backend in a temporary
// directory, on a free loopback port.
//
// The binary is GELLHUB_VERSITYGW when set, else <repo>/.bin/versitygw,
// which Start installs at the pinned Version with `go install` when it is
// missing (about two minutes the first time; .ci/services.sh does it before
// CI's tests). Parallel test binaries install it once, under a file lock.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/s3blob"
	"github.com/gellhub/gellhub/testkit"
)

// Version is the versitygw release the tests run against.
const Version = "v1.8.0"

// Package is what `go install` builds.
const Package = "github.com/versity/versitygw/cmd/versitygw"

// Credentials, region and bucket of the servers Start runs.
const (
	AccessKey = "gellhubtest"
	SecretKey = "gellhubtestsecret"
	Region    = "us-east-1"
	Bucket    = "gellhub-test"
)

// service names the server in testkit.RequireService messages.
const service = "S3 (versitygw)"

const (
	startTimeout   = 20 * time.Second
	installTimeout = 10 * time.Minute
	stopTimeout    = 5 * time.Second
)

// Start runs a fresh versitygw for t, with an empty bucket Bucket, and
// returns the configuration that reaches it (path-style, plain http). The
// server stops and its files go when t ends. When the server cannot be
// installed or started, the test fails in CI and is skipped elsewhere
// (testkit.RequireService).
func Start(t testing.TB) s3blob.Config {
	t.Helper()
	bin, err := binary()
	testkit.RequireService(t, service, err)

	dir := t.TempDir()
	var addr string
	for attempt := 0; ; attempt++ {
		// The port is free when picked, but another process may take it
		// before versitygw binds it: try another one then.
		addr, err = start(t, bin, dir)
		if err == nil || attempt == 2 {
			break
		}
	}
	testkit.RequireService(t, service, err)

	cfg := s3blob.Config{
		Endpoint:  "http://" + addr,
		Region:    Region,
		Bucket:    Bucket,
		AccessKey: AccessKey,
		SecretKey: SecretKey,
		PathStyle: true,
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	store, err := s3blob.New(ctx, cfg)
	if err == nil {
		err = store.EnsureBucket(ctx)
	}
	testkit.RequireService(t, service, err)
	return cfg
}

// start runs versitygw on a free port with dir as its posix root and waits
// until it answers; a Cleanup of t stops it.
func start(t testing.TB, bin, dir string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	// Global flags come before the backend's command.
	cmd := exec.Command(bin,
		"--port", addr,
		"--access", AccessKey,
		"--secret", SecretKey,
		"--region", Region,
		"--keep-alive",
		"--quiet",
		"posix", dir,
	)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
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

	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return "", fmt.Errorf("versitygw exited (%v): %s", err, out.String())
		default:
		}
		// Any HTTP answer (403 to an anonymous request) means it serves.
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("versitygw did not answer on %s within %s: %v; output: %s", addr, startTimeout, err, out.String())
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

// binary returns the versitygw to run, installing it into <repo>/.bin when
// it is missing or of another version.
func binary() (string, error) {
	if p := os.Getenv("GELLHUB_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("GELLHUB_VERSITYGW: %w", err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	binDir := filepath.Join(root, ".bin")
	bin := filepath.Join(binDir, "versitygw")
	if installed(binDir) {
		return bin, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(binDir, ".versitygw.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if installed(binDir) { // another test binary installed it while we waited
		return bin, nil
	}
	if err := install(binDir); err != nil {
		return "", err
	}
	return bin, nil
}

// installed reports whether binDir holds versitygw at Version: the binary
// and the stamp written after installing it.
func installed(binDir string) bool {
	if _, err := os.Stat(filepath.Join(binDir, "versitygw")); err != nil {
		return false
	}
	stamp, err := os.ReadFile(filepath.Join(binDir, "versitygw.version"))
	return err == nil && strings.TrimSpace(string(stamp)) == Version
}

// install runs `go install` of versitygw at Version into binDir.
func install(binDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", Package+"@"+Version)
	cmd.Dir = os.TempDir() // outside the module: @version ignores go.mod anyway
	cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s@%s: %w: %s", Package, Version, err, out)
	}
	return os.WriteFile(filepath.Join(binDir, "versitygw.version"), []byte(Version+"\n"), 0o644)
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
			return "", errors.New("s3test: the gellhub module's root (go.mod) is not above the working directory")
		}
		dir = parent
	}
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
