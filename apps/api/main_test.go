package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/testkit"
)

// start runs the real program with env and returns its base URL and a stop
// function that shuts it down gracefully and returns run's error.
func start(t *testing.T, env map[string]string) (string, *testkit.SyncBuffer, func() error) {
	t.Helper()
	env["GELLHUB_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testkit.SyncBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, logs, ready) }()
	select {
	case addr := <-ready:
		stop := func() error { cancel(); return <-done }
		return "http://" + addr, logs, stop
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v\nlogs:\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("server did not start in time; logs:\n%s", logs.String())
	}
	return "", nil, nil
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (c *client) call(method, path string, body any, headers ...string) (int, map[string]any, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m, raw
}

// journey is the README's "done means": register, log in, list plans,
// rotate a key and see the old key refused. It returns the credentials.
func journey(t *testing.T, c *client) (email, password string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	email, password = "owner-"+hex.EncodeToString(b[:])+"@example.com", "a long password"
	status, reg, raw := c.call("POST", "/api/register", map[string]any{
		"email": email, "password": password, "displayName": "My Studio", "accountType": "studio",
	})
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	oldKey := reg["apiKey"].(string)

	status, _, raw = c.call("POST", "/api/login", map[string]any{"email": email, "password": password})
	require.Equal(t, http.StatusOK, status, "%s", raw)

	status, _, raw = c.call("GET", "/api/public/plans?type=drive", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(raw), "plan_drive_free")

	status, _, _ = c.call("GET", "/api/billing/status", nil, "x-api-key", oldKey)
	require.Equal(t, http.StatusOK, status)
	status, rot, raw := c.call("POST", "/api/keys/rotate", map[string]any{"product": "clientGallery"})
	require.Equal(t, http.StatusOK, status, "%s", raw)
	status, _, _ = c.call("GET", "/api/billing/status", nil, "x-api-key", oldKey)
	require.Equal(t, http.StatusUnauthorized, status, "the old key is refused")
	status, _, _ = c.call("GET", "/api/billing/status", nil, "x-api-key", rot["apiKey"].(string))
	require.Equal(t, http.StatusOK, status)

	// Messaging is wired: the account reads, the widget's public route
	// judges the origin.
	status, acct, raw := c.call("GET", "/api/messaging/account", nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.Equal(t, 0.0, acct["credits"])
	status, _, raw = c.call("GET", "/api/messaging/embed/v1/config?embedId=emb_unknown", nil, "Origin", "https://shop.example.com")
	require.Equal(t, http.StatusNotFound, status, "%s", raw)
	return email, password
}

func TestEmbeddedDefaultKeepsDataAcrossRestarts(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"GELLHUB_DATA_DIR": dataDir, "GELLHUB_RATE_LIMITS": "off"}
	base, logs, stop := start(t, env)
	c := newClient(t, base)
	email, password := journey(t, c)
	status, _, _ := c.call("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, status)
	require.NoError(t, stop(), "graceful shutdown")
	require.Contains(t, logs.String(), "gellhub api listening")
	require.Contains(t, logs.String(), "PAYMENTS ARE SIMULATED", "the embedded default says loudly that payments are simulated")
	require.Contains(t, logs.String(), "ai engine ready")
	require.NotContains(t, logs.String(), password)

	base, _, stop = start(t, env)
	defer func() { require.NoError(t, stop()) }()
	c2 := newClient(t, base)
	status, _, raw := c2.call("POST", "/api/login", map[string]any{"email": email, "password": password})
	require.Equal(t, http.StatusOK, status, "the account survived the restart: %s", raw)
	// The first client's session survived too: sessions live in SQLite.
	c.base = base
	status, _, _ = c.call("GET", "/api/me", nil)
	require.Equal(t, http.StatusOK, status)
}

func TestRunsOnPostgresAndRedis(t *testing.T) {
	dsn := buntest.PostgresDSN(t)
	redisURL := testkit.EnvOr("GELLHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	opt, err := goredis.ParseURL(redisURL)
	require.NoError(t, err)
	rdb := goredis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() }) // registered first: runs after the key cleanup below
	testkit.RequireService(t, "Redis", rdb.Ping(context.Background()).Err())
	var b [4]byte
	_, _ = rand.Read(b[:])
	prefix := "gellhub-test-" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
		require.NoError(t, err)
		if len(keys) > 0 {
			require.NoError(t, rdb.Del(context.Background(), keys...).Err())
		}
	})

	base, logs, stop := start(t, map[string]string{
		"GELLHUB_DATABASE_URL": dsn, "GELLHUB_REDIS_URL": redisURL, "GELLHUB_REDIS_PREFIX": prefix,
		"GELLHUB_DATA_DIR": t.TempDir(),
	})
	defer func() { require.NoError(t, stop()) }()
	c := newClient(t, base)
	journey(t, c)
	status, body, _ := c.call("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ok", body["checks"].(map[string]any)["cache"])
	require.Equal(t, "ok", body["checks"].(map[string]any)["database"])
	require.Contains(t, logs.String(), `"driver":"postgres"`)

	n, err := rdb.Keys(context.Background(), prefix+"session:*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, n, "sessions live in Redis")
}

func TestBadConfigurationIsRefused(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{
		{"GELLHUB_DATABASE_URL": "mysql://x"},
		{"GELLHUB_ENV": "production", "GELLHUB_BASE_URL": "http://example.com"},
		{"GELLHUB_RATE_LIMITS": "maybe"},
		{"GELLHUB_AI_ENGINE": "openai", "GELLHUB_AI_MODEL": "m"}, // no base URL
		{"GELLHUB_ENV": "production", "GELLHUB_BASE_URL": "https://example.com", "GELLHUB_SIGNING_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, // simulated payments
	} {
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, nil)
		require.Error(t, err)
		require.False(t, strings.Contains(err.Error(), "panic"))
	}
}
