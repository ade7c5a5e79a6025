package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// backends are the stores every HTTP test runs on.
var backends = []string{"memory", "sqlite", "postgres"}

// storeUnderTest is what the HTTP layer needs from a store.
type storeUnderTest interface {
	ports.AccountStore
	ports.PlanStore
	ports.SessionStore
}

type options struct {
	rateLimits bool
	baseURL    string
	admins     []string
	wrap       func(storeUnderTest) storeUnderTest // failure injection
	checks     []Check
	proxies    []string
}

// testServer is a Fiber app wired like the real one over a chosen store.
type testServer struct {
	t     testing.TB
	app   *fiber.App
	clock *testkit.Clock
	store storeUnderTest
	logs  *testkit.SyncBuffer
}

func newTestServer(t testing.TB, backend string, o options) *testServer {
	t.Helper()
	var st storeUnderTest
	switch backend {
	case "memory":
		st = testkit.NewStore()
	case "sqlite":
		st = buntest.OpenSQLite(t)
	case "postgres":
		st = buntest.OpenPostgres(t)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	if o.wrap != nil {
		st = o.wrap(st)
	}
	clock := testkit.NewClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	ps := plans.New(st, clock, rand.Reader, nil)
	require.NoError(t, ps.Seed(context.Background()))
	var limiter ports.RateLimiter
	if o.rateLimits {
		limiter = inproc.NewRateLimiter(clock)
	}
	acc, err := accounts.New(accounts.Config{
		Accounts: st, Sessions: st, Plans: ps, Hasher: argon2id.New(argon2id.TestParams),
		Clock: clock, Random: rand.Reader, Limiter: limiter, AdminEmails: o.admins,
	})
	require.NoError(t, err)
	if o.baseURL == "" {
		o.baseURL = "http://127.0.0.1:8080"
	}
	logs := &testkit.SyncBuffer{}
	app := New(Deps{
		Log: slog.New(slog.NewJSONHandler(logs, nil)), Accounts: acc, Plans: ps, Checks: o.checks,
		BaseURL: o.baseURL, SecureCookies: strings.HasPrefix(o.baseURL, "https://"), BodyLimit: 64 << 10,
		TrustedProxies: o.proxies,
	})
	return &testServer{t: t, app: app, clock: clock, store: st, logs: logs}
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	body   []byte
	cookie *http.Cookie
}

// json decodes the body into a map.
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// list decodes the body into an array.
func (r reply) list(t testing.TB) []map[string]any {
	t.Helper()
	var m []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// requireError asserts the contract's error body.
func (r reply) requireError(t testing.TB, status int, code, detail string) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	m := r.json(t)
	require.Equal(t, code, m["error"], "body: %s", r.body)
	require.NotEmpty(t, m["message"], "body: %s", r.body)
	if detail != "" {
		require.Equal(t, detail, m["detail"], "body: %s", r.body)
	}
}

type reqOpt func(*http.Request)

func withKey(k string) reqOpt { return func(r *http.Request) { r.Header.Set("x-api-key", k) } }

func withSession(tok string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok}) }
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends a request. body is JSON-encoded unless it is a string (sent raw).
func (s *testServer) do(method, path string, body any, opts ...reqOpt) reply {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(s.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	res, err := s.app.Test(req, -1)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	out := reply{status: res.StatusCode, header: res.Header, body: raw}
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			out.cookie = c
		}
	}
	return out
}

// account is a registered test account.
type account struct {
	profileID, email, password, session, apiKey, driveKey string
}

func uniqueEmail(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:]) + "@example.com"
}

// register creates an account through the API.
func (s *testServer) register(email string) account {
	s.t.Helper()
	pw := "correct horse battery"
	r := s.do("POST", "/api/register", map[string]any{
		"email": email, "password": pw, "displayName": "Test Studio", "accountType": "studio",
	})
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	m := r.json(s.t)
	require.NotNil(s.t, r.cookie)
	return account{
		profileID: m["profileId"].(string), email: email, password: pw, session: r.cookie.Value,
		apiKey: m["apiKey"].(string), driveKey: m["driveApiKey"].(string),
	}
}

// forEachBackend runs fn as a sub-test on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}
