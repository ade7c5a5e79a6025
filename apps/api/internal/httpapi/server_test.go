package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

type pingFunc func(context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

func TestHealth(t *testing.T) {
	t.Parallel()
	t.Run("healthz_and_readyz_ok", func(t *testing.T) {
		s := newTestServer(t, "memory", options{checks: []Check{{Name: "database", Pinger: pingFunc(func(context.Context) error { return nil })}}})
		require.Equal(t, http.StatusOK, s.do("GET", "/healthz", nil).status)
		r := s.do("GET", "/readyz", nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "ok", r.json(t)["checks"].(map[string]any)["database"])
	})
	t.Run("readyz_503_names_the_dependency", func(t *testing.T) {
		s := newTestServer(t, "memory", options{checks: []Check{
			{Name: "database", Pinger: pingFunc(func(context.Context) error { return nil })},
			{Name: "cache", Pinger: pingFunc(func(context.Context) error { return errors.New("connection refused") })},
		}})
		r := s.do("GET", "/readyz", nil)
		r.requireError(t, http.StatusServiceUnavailable, "unavailable", "cache")
		require.NotContains(t, string(r.body), "connection refused")
		require.Equal(t, http.StatusOK, s.do("GET", "/healthz", nil).status, "liveness does not depend on dependencies")
	})
}

func TestErrorsAndLimits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{})

	t.Run("unknown_route_is_json_404", func(t *testing.T) {
		s.do("GET", "/api/nope", nil).requireError(t, http.StatusNotFound, "not_found", "")
	})
	t.Run("body_over_the_limit_is_413", func(t *testing.T) {
		// Over a real connection: fasthttp refuses the body while reading it.
		s := newTestServer(t, "memory", options{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = s.app.Listener(ln) }()
		t.Cleanup(func() { _ = s.app.Shutdown() })
		big := `{"email":"` + strings.Repeat("a", 70<<10) + `"}`
		res, err := http.Post("http://"+ln.Addr().String()+"/api/register", "application/json", strings.NewReader(big))
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		reply{status: res.StatusCode, header: res.Header, body: raw}.requireError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
	})
	t.Run("request_id_on_every_response_and_log_line", func(t *testing.T) {
		r := s.do("GET", "/healthz", nil)
		id := r.header.Get("X-Request-Id")
		require.Len(t, id, 24)
		require.Contains(t, s.logs.String(), `"request_id":"`+id+`"`)
		r = s.do("GET", "/healthz", nil, withHeader("X-Request-Id", "lb-trace-0001"))
		require.Equal(t, "lb-trace-0001", r.header.Get("X-Request-Id"))
		r = s.do("GET", "/healthz", nil, withHeader("X-Request-Id", "bad id\x01"))
		require.NotEqual(t, "bad id\x01", r.header.Get("X-Request-Id"))
	})
	t.Run("secrets_never_reach_the_logs", func(t *testing.T) {
		a := s.register(uniqueEmail("logs"))
		s.do("GET", "/api/billing/status", nil, withKey(a.apiKey))
		s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password})
		logs := s.logs.String()
		for _, secret := range []string{a.apiKey, a.driveKey, a.session, a.password} {
			require.NotContains(t, logs, secret)
		}
	})
}

// failingStore injects a failure into one store method.
type failingStore struct {
	storeUnderTest
	err error
}

func (f failingStore) ProfileByEmail(context.Context, string) (core.Profile, error) {
	return core.Profile{}, f.err
}

func TestDependencyFailures(t *testing.T) {
	t.Parallel()
	t.Run("internal_error_is_500_without_internals", func(t *testing.T) {
		s := newTestServer(t, "memory", options{wrap: func(st storeUnderTest) storeUnderTest {
			return failingStore{st, errors.New("pq: relation profiles_secret_table does not exist")}
		}})
		r := s.do("POST", "/api/login", map[string]any{"email": "a@example.com", "password": "whatever1"})
		r.requireError(t, http.StatusInternalServerError, "internal", "")
		require.NotContains(t, string(r.body), "profiles_secret_table")
		require.Contains(t, s.logs.String(), "profiles_secret_table", "the cause is logged for operators")
	})
	t.Run("unavailable_database_is_503", func(t *testing.T) {
		s := newTestServer(t, "memory", options{wrap: func(st storeUnderTest) storeUnderTest {
			return failingStore{st, core.Unavailable("database", errors.New("dial tcp: connection refused"))}
		}})
		r := s.do("POST", "/api/login", map[string]any{"email": "a@example.com", "password": "whatever1"})
		r.requireError(t, http.StatusServiceUnavailable, "unavailable", "database")
		require.NotContains(t, string(r.body), "connection refused")
	})
}
