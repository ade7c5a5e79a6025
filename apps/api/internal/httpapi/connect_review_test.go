package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConnectNeedsTheSignInPagesOptIn: a flow another site planted with a
// top-level navigation to start must not complete on the person's next
// sign-in unless the sign-in says so (the pages send connectFlow).
func TestConnectNeedsTheSignInPagesOptIn(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{})
	app := s.createApp("drive", callback)
	a := s.register(uniqueEmail("victim"))
	flow, _ := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"planted"}})

	for _, token := range []string{"", "not-the-flows"} {
		r := s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password, "connectFlow": token}, withCookie(ConnectCookie, flow))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.NotContains(t, r.json(t), "connectRedirect")
	}
	require.Empty(t, s.do("GET", "/api/integrations/links", nil, withSession(a.session)).list(t), "nothing was linked")
	ctx := s.do("GET", "/api/integrations/connect/context", nil, withCookie(ConnectCookie, flow))
	require.Equal(t, true, ctx.json(t)["active"])
	require.Equal(t, "no-store", ctx.header.Get("Cache-Control"))
	require.Equal(t, "Cookie", ctx.header.Get("Vary"))

	// With the token the page shows it under the app's name, it continues.
	r := s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password, "connectFlow": ctx.json(t)["connectFlow"]}, withCookie(ConnectCookie, flow))
	require.Contains(t, r.json(t), "connectRedirect")
}

func TestConcurrentFinalizeIssuesOneCode(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{})
			app := s.createApp("drive", callback)
			a := s.register(uniqueEmail("twice"))
			b := s.register(uniqueEmail("other"))
			flow, _ := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"x"}})
			var mu sync.Mutex
			var wg sync.WaitGroup
			ok := 0
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sess := a.session
					if i%2 == 1 {
						sess = b.session
					}
					r := s.do("POST", "/api/integrations/connect/finalize", nil, withSession(sess), withCookie(ConnectCookie, flow))
					if r.status == http.StatusOK {
						mu.Lock()
						ok++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			require.Equal(t, 1, ok, "one flow completes once")
		})
	}
}

func TestFinalizeSendsAPaidMessagingPlanThroughCheckout(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "sqlite", options{payments: true})
	app := s.createApp("messaging", callback)
	a := s.register(uniqueEmail("payer"))
	flow, _ := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"pay"}, "plan": {"plan_messaging_growth_monthly"}})
	fin := s.do("POST", "/api/integrations/connect/finalize", nil, withSession(a.session), withCookie(ConnectCookie, flow))
	require.Equal(t, http.StatusOK, fin.status, "body: %s", fin.body)
	m := fin.json(t)
	require.Equal(t, true, m["paymentRequired"])
	require.True(t, strings.HasPrefix(m["redirectUrl"].(string), "https://checkout.example/"), "the browser pays first")
	require.Nil(t, fin.cookies[ConnectCookie], "the flow cookie stays for the checkout's return")

	sessions := s.payments.Sessions()
	require.Len(t, sessions, 1)
	require.NotContains(t, sessions[0].Reference, flow, "the checkout never carries the flow id")
	require.NoError(t, s.payments.Complete(sessions[0].ID))
	ret := s.stripeReturn(sessions[0].ID, withCookie(ConnectCookie, flow))
	require.Equal(t, http.StatusFound, ret.status, "body: %s", ret.body)
	_, state, _ := codeOf(t, ret.header.Get("Location"))
	require.Equal(t, "pay", state)
}

func TestConnectInputHardening(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{})
	dev := s.register(uniqueEmail("dev"))
	for name, body := range map[string]map[string]any{
		"non_ascii_redirect": {"name": "Shop", "productType": "drive", "redirectUris": []string{"https://partner.example/cb\u202e"}},
		"code_in_redirect":   {"name": "Shop", "productType": "drive", "redirectUris": []string{"https://partner.example/cb?code=1"}},
		"name_poses_as_us":   {"name": "GellHub Login", "productType": "drive", "redirectUris": []string{"https://partner.example/cb"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.do("POST", "/api/developer/apps", body, withSession(dev.session))
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
		})
	}
	app := s.createApp("drive", callback)
	for _, state := range []string{"a\x00b", "line\nbreak", "\xff\xfe"} {
		r := s.do("GET", "/api/integrations/connect/start?"+url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {state}}.Encode(), nil, withHeader("Accept", "application/json"))
		r.requireError(t, http.StatusBadRequest, "invalid_request", "state")
	}
}

func TestHostPrefixedConnectCookieOverHTTPS(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{baseURL: "https://gellhub.example"})
	app := s.createApp("drive", callback)
	r := s.do("GET", "/api/integrations/connect/start?"+url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"s"}}.Encode(), nil)
	require.Equal(t, http.StatusFound, r.status)
	c := r.cookies["__Host-"+ConnectCookie]
	require.NotNil(t, c, "a sibling subdomain cannot plant or overwrite a __Host- cookie")
	require.True(t, c.Secure)
	require.Equal(t, "/", c.Path)
	require.Empty(t, c.Domain)
}
