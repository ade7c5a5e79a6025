package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	admin := uniqueEmail("csrf-admin")
	s := newTestServer(t, "memory", options{admins: []string{admin}})
	a := s.register(admin)
	crossSite := withHeader("Sec-Fetch-Site", "cross-site")
	foreignOrigin := withHeader("Origin", "https://evil.example")
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/register", map[string]any{"email": uniqueEmail("x"), "password": "long enough pw", "displayName": "X", "accountType": "studio"}},
		{"POST", "/api/login", map[string]any{"email": a.email, "password": a.password}},
		{"POST", "/api/logout", nil},
		{"POST", "/api/keys/rotate", map[string]any{"product": "drive"}},
		{"POST", "/api/admin/plans", map[string]any{"planType": "drive", "name": "X", "price": 1}},
		{"PATCH", "/api/admin/plans/plan_drive_free", map[string]any{"name": "Hijacked"}},
		{"DELETE", "/api/admin/plans/plan_drive_free", nil},
	} {
		for name, opt := range map[string]reqOpt{"sec_fetch_site": crossSite, "origin": foreignOrigin, "same_site_subdomain": withHeader("Sec-Fetch-Site", "same-site")} {
			t.Run(tc.method+tc.path+"/"+name, func(t *testing.T) {
				s.do(tc.method, tc.path, tc.body, withSession(a.session), opt).requireError(t, http.StatusForbidden, "forbidden", "")
			})
		}
	}
	// Nothing changed: the session still works, the plan kept its name.
	require.Equal(t, http.StatusOK, s.do("GET", "/api/me", nil, withSession(a.session)).status)
	p := s.do("GET", "/api/public/plans/by-id?id=plan_drive_free", nil).json(t)
	require.Equal(t, "Drive Free", p["name"])
	// A same-origin browser request and a matching Origin pass.
	require.Equal(t, http.StatusOK, s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password},
		withHeader("Origin", "http://example.com"), withHeader("Host", "example.com")).status)
}

func TestAdminRoutesRefuseAPIKeys(t *testing.T) {
	t.Parallel()
	admin := uniqueEmail("key-admin")
	s := newTestServer(t, "memory", options{admins: []string{admin}})
	a := s.register(admin)
	for _, key := range []string{a.apiKey, a.driveKey} {
		s.do("GET", "/api/admin/plans", nil, withKey(key)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("POST", "/api/admin/plans", map[string]any{"planType": "drive", "name": "X", "price": 1}, withKey(key)).
			requireError(t, http.StatusUnauthorized, "unauthorized", "")
	}
}

func TestClientIPBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	// app.Test connections come from 0.0.0.0: trust it as the proxy.
	s := newTestServer(t, "memory", options{rateLimits: true, proxies: []string{"0.0.0.0/32", "10.0.0.0/8"}})
	login := func(xff string) reply {
		return s.do("POST", "/api/login", map[string]any{"email": uniqueEmail("ip"), "password": "wrong password"},
			withHeader("X-Forwarded-For", xff))
	}
	t.Run("the_rightmost_untrusted_hop_is_the_client", func(t *testing.T) {
		login("6.6.6.6, 203.0.113.9, 10.1.2.3")
		require.Contains(t, s.logs.String(), `"ip":"203.0.113.9"`)
	})
	t.Run("spoofed_leftmost_hops_do_not_escape_the_per_ip_limit", func(t *testing.T) {
		var last reply
		for i := 0; i < 31; i++ {
			last = login(fmt.Sprintf("spoof-%d, 198.51.100.7", i))
		}
		last.requireError(t, http.StatusTooManyRequests, "rate_limited", "")
		require.NotContains(t, s.logs.String(), "spoof-")
	})
	t.Run("junk_in_the_header_is_never_the_client", func(t *testing.T) {
		login("not-an-ip")
		require.NotContains(t, s.logs.String(), `"ip":"not-an-ip"`)
	})
}

func TestMoreRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("login_per_ip_is_429", func(t *testing.T) {
		s := newTestServer(t, "memory", options{rateLimits: true})
		var last reply
		for i := 0; i < 31; i++ {
			last = s.do("POST", "/api/login", map[string]any{"email": uniqueEmail("many"), "password": "wrong password"})
		}
		last.requireError(t, http.StatusTooManyRequests, "rate_limited", "")
		require.NotEmpty(t, last.header.Get("Retry-After"))
	})
	t.Run("register_per_email_is_429", func(t *testing.T) {
		s := newTestServer(t, "memory", options{rateLimits: true})
		email := uniqueEmail("again")
		s.register(email)
		var last reply
		for i := 0; i < 5; i++ {
			last = s.do("POST", "/api/register", map[string]any{"email": email, "password": "long enough pw", "displayName": "A", "accountType": "studio"})
		}
		last.requireError(t, http.StatusTooManyRequests, "rate_limited", "")
	})
}

// failingSessions makes CreateSession fail.
type failingSessions struct{ storeUnderTest }

func (failingSessions) CreateSession(context.Context, core.Session) error {
	return core.Unavailable("cache", errors.New("connection refused"))
}

func TestRegisterWithoutSessionStillReturnsTheKeys(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{wrap: func(st storeUnderTest) storeUnderTest { return failingSessions{st} }})
	r := s.do("POST", "/api/register", map[string]any{"email": uniqueEmail("nosess"), "password": "long enough pw", "displayName": "N", "accountType": "drive"})
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	require.Nil(t, r.cookie)
	m := r.json(t)
	require.Equal(t, http.StatusOK, s.do("GET", "/api/billing/status", nil, withKey(m["driveApiKey"].(string))).status)
	require.Contains(t, s.logs.String(), "registered without a session")
}

func TestAmbiguousInputIsRefused(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{})
	t.Run("repeated_query_parameter", func(t *testing.T) {
		s.do("GET", "/api/public/plans?type=drive&type=video", nil).requireError(t, http.StatusBadRequest, "invalid_request", "type")
		s.do("GET", "/api/public/plans/by-id?id=plan_drive_free&id=plan_gallery_free", nil).requireError(t, http.StatusBadRequest, "invalid_request", "id")
	})
	t.Run("duplicate_json_key", func(t *testing.T) {
		body := `{"email":"` + uniqueEmail("a") + `","email":"` + uniqueEmail("b") + `","password":"long enough pw","displayName":"D","accountType":"studio"}`
		s.do("POST", "/api/register", body).requireError(t, http.StatusBadRequest, "invalid_request", "email")
	})
	t.Run("bidi_override_in_a_name", func(t *testing.T) {
		s.do("POST", "/api/register", map[string]any{"email": uniqueEmail("bidi"), "password": "long enough pw", "displayName": "\u202egpj.exe", "accountType": "studio"}).
			requireError(t, http.StatusBadRequest, "invalid_request", "displayName")
	})
	t.Run("emoji_with_joiners_is_fine", func(t *testing.T) {
		r := s.do("POST", "/api/register", map[string]any{"email": uniqueEmail("emoji"), "password": "long enough pw", "displayName": "Studio 👩‍👩‍👧", "accountType": "studio"})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		require.True(t, strings.HasSuffix(r.json(t)["displayName"].(string), "👩‍👩‍👧"))
	})
}
