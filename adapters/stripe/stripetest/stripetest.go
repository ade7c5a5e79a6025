// Package stripetest starts stripe-mock (github.com/stripe/stripe-mock),
// Stripe's own mock of its API, for tests: a fresh process per test on a
// free loopback port.
//
// The binary is GELLHUB_STRIPE_MOCK when set, else <repo>/.bin/stripe-mock,
// which Start installs at the pinned Version with `go install` when it is
// missing (.ci/services.sh does it before CI's tests). Parallel test
// binaries install it once, under a file lock.
//
// stripe-mock validates requests against Stripe's OpenAPI description and
// answers with fixtures: it keeps no state, so tests assert on the requests
// gellhub sends and on how it reads the answers, not on stored objects.
package stripetest

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

	"github.com/gellhub/gellhub/testkit"
)

// Version is the stripe-mock release the tests run against.
const Version = "v0.203.0"

// Package is what `go install` builds.
const Package = "github.com/stripe/stripe-mock"

// SecretKey is a test key stripe-mock accepts (any sk_test_ key works).
const SecretKey = "sk_test_gellhub"

const (
	service        = "stripe-mock"
	startTimeout   = 20 * time.Second
	installTimeout = 10 * time.Minute
	stopTimeout    = 5 * time.Second
)

// Start runs a fresh stripe-mock for t and returns its base URL
// (http://127.0.0.1:port). It stops when t ends. When it cannot be
// installed or started, the test fails in CI and is skipped elsewhere
// (testkit.RequireService).
func Start(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	testkit.RequireService(t, service, err)
	var base string
	for attempt := 0; ; attempt++ {
		// The port is free when picked, but another process may take it
		// first: try another one then.
		base, err = start(t, bin)
		if err == nil || attempt == 2 {
			break
		}
	}
	testkit.RequireService(t, service, err)
	return base
}

func start(t testing.TB, bin string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	// HTTPS too listens unless given a port: an ephemeral one, so that
	// parallel instances never collide on its default.
	cmd := exec.Command(bin, "-http-addr", addr, "-https-addr", "127.0.0.1:0")
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
	base := "http://" + addr
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return "", fmt.Errorf("stripe-mock exited (%v): %s", err, out.String())
		default:
		}
		// Any HTTP answer (401 without a key) means it serves.
		resp, err := client.Get(base + "/v1/customers")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("stripe-mock did not answer on %s within %s: %v; output: %s", addr, startTimeout, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(stop)
	return base, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// Binary returns the stripe-mock to run, installing it into <repo>/.bin
// when it is missing or of another version.
func Binary() (string, error) {
	if p := os.Getenv("GELLHUB_STRIPE_MOCK"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("GELLHUB_STRIPE_MOCK: %w", err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	binDir := filepath.Join(root, ".bin")
	bin := filepath.Join(binDir, "stripe-mock")
	if installed(binDir) {
		return bin, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(binDir, ".stripe-mock.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if installed(binDir) {
		return bin, nil
	}
	if err := install(binDir); err != nil {
		return "", err
	}
	return bin, nil
}

func installed(binDir string) bool {
	if _, err := os.Stat(filepath.Join(binDir, "stripe-mock")); err != nil {
		return false
	}
	stamp, err := os.ReadFile(filepath.Join(binDir, "stripe-mock.version"))
	return err == nil && strings.TrimSpace(string(stamp)) == Version
}

func install(binDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", Package+"@"+Version)
	cmd.Dir = os.TempDir() // outside the module: @version ignores go.mod anyway
	cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s@%s: %w: %s", Package, Version, err, out)
	}
	return os.WriteFile(filepath.Join(binDir, "stripe-mock.version"), []byte(Version+"\n"), 0o644)
}

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
			return "", errors.New("stripetest: the gellhub module's root (go.mod) is not above the working directory")
		}
		dir = parent
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Sign returns a Stripe-Signature header for payload signed with secret at
// t, as Stripe signs webhook deliveries: t=<unix>,v1=<hex HMAC-SHA256 of
// "<unix>.<payload>">. Each further secret adds a v1 signature, as Stripe
// does while a secret is rolled.
func Sign(payload []byte, t time.Time, secrets ...string) string {
	ts := fmt.Sprint(t.Unix())
	parts := []string{"t=" + ts}
	for _, s := range secrets {
		parts = append(parts, "v1="+hmacHex(s, ts+"."+string(payload)))
	}
	return strings.Join(parts, ",")
}
