package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// partnerApp is an app created through the Developer Console.
type partnerApp struct {
	id, clientID, secret string
	owner                account
}

// createApp registers a developer and an app of line with redirect URIs.
func (s *testServer) createApp(line string, uris ...string) partnerApp {
	s.t.Helper()
	dev := s.register(uniqueEmail("dev"))
	r := s.do("POST", "/api/developer/apps", map[string]any{"name": "Shopline " + line, "productType": line, "redirectUris": uris}, withSession(dev.session))
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	m := r.json(s.t)
	return partnerApp{id: m["id"].(string), clientID: m["clientId"].(string), secret: m["clientSecret"].(string), owner: dev}
}

// startFlow starts a connect flow and returns the flow cookie's value.
func (s *testServer) startFlow(q url.Values) (string, reply) {
	s.t.Helper()
	r := s.do("GET", "/api/integrations/connect/start?"+q.Encode(), nil)
	c := r.cookies[ConnectCookie]
	if c == nil {
		return "", r
	}
	return c.Value, r
}

func codeOf(t testing.TB, redirect string) (code, state string, u *url.URL) {
	t.Helper()
	u, err := url.Parse(redirect)
	require.NoError(t, err)
	return u.Query().Get("code"), u.Query().Get("state"), u
}

const callback = "https://partner.example/oauth/gellhub/callback?tenant=42"

var connectBackends = []string{"sqlite", "postgres+redis"}

func TestConnectFlow(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{})
			app := s.createApp("drive", callback, "http://localhost:3000/cb")

			// 1. The partner sends the browser to start.
			flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"st/ate 1"}, "product": {"drive"}})
			require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
			require.Equal(t, "/register", r.header.Get("Location"))
			c := r.cookies[ConnectCookie]
			require.True(t, c.HttpOnly)
			require.Equal(t, http.SameSiteLaxMode, c.SameSite)
			require.NotContains(t, c.Value, "partner.example", "the cookie holds a flow id, not the values")
			require.NotContains(t, c.Value, "state")

			ctx := s.do("GET", "/api/integrations/connect/context", nil, withCookie(ConnectCookie, flow)).json(t)
			require.Equal(t, true, ctx["active"])
			require.Equal(t, "drive", ctx["product"])
			require.Equal(t, "Shopline drive", ctx["name"])
			require.Equal(t, false, s.do("GET", "/api/integrations/connect/context", nil).json(t)["active"])

			// 2. The merchant registers; the answer sends them back with a code.
			email := uniqueEmail("merchant")
			reg := s.do("POST", "/api/register", map[string]any{
				"email": email, "password": "long enough pw", "displayName": "Merchant", "accountType": "drive",
			}, withCookie(ConnectCookie, flow))
			require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
			redirect := reg.json(t)["connectRedirect"].(string)
			code, state, u := codeOf(t, redirect)
			require.True(t, strings.HasPrefix(redirect, callback+"&code="), redirect)
			require.Equal(t, "42", u.Query().Get("tenant"))
			require.Equal(t, "st/ate 1", state)
			require.GreaterOrEqual(t, len(code), 40, "≥ 128 bits")
			require.Empty(t, reg.cookies[ConnectCookie].Value, "the flow cookie is cleared")

			// 3. The partner's backend exchanges the code once.
			ex := s.do("POST", "/api/integrations/connect/exchange", map[string]any{"code": code, "client_id": app.clientID, "client_secret": app.secret})
			require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
			m := ex.json(t)
			require.Equal(t, reg.json(t)["profileId"], m["profileId"])
			require.Equal(t, email, m["email"])
			require.Equal(t, "st/ate 1", m["state"])
			require.Equal(t, "drive", m["accountKind"])
			require.Nil(t, m["messagingApiKey"])
			require.Equal(t, false, m["hasMessagingSubscription"])
			require.Equal(t, "drive", m["plan"].(map[string]any)["scope"])
			require.Equal(t, "no-store", ex.header.Get("Cache-Control"))
			driveKey := m["driveApiKey"].(string)
			require.NotEqual(t, reg.json(t)["driveApiKey"], driveKey, "keys are minted for the link")
			st := s.do("GET", "/api/billing/status", nil, withKey(driveKey))
			require.Equal(t, http.StatusOK, st.status)
			require.Equal(t, "drive", st.json(t)["scope"])

			again := s.do("POST", "/api/integrations/connect/exchange", map[string]any{"code": code, "client_id": app.clientID, "client_secret": app.secret})
			again.requireError(t, http.StatusBadRequest, "invalid_request", "code")

			// 4. Verify, then the merchant revokes the link: its keys stop working.
			v := s.do("POST", "/api/integrations/connect/verify", map[string]any{"profile_id": m["profileId"], "client_id": app.clientID, "client_secret": app.secret})
			require.Equal(t, http.StatusOK, v.status, "body: %s", v.body)
			vm := v.json(t)
			require.Equal(t, true, vm["registered"])
			require.Equal(t, true, vm["linked"])
			require.Equal(t, "drive", vm["plan"].(map[string]any)["scope"])
			require.Equal(t, "active", vm["plan"].(map[string]any)["stripeStatus"])

			session := reg.cookie.Value
			links := s.do("GET", "/api/integrations/links", nil, withSession(session)).list(t)
			require.Len(t, links, 1)
			require.Equal(t, app.id, links[0]["appId"])
			require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/integrations/links/"+links[0]["id"].(string), nil, withSession(session)).status)
			s.do("GET", "/api/billing/status", nil, withKey(driveKey)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			require.Equal(t, http.StatusOK, s.do("GET", "/api/billing/status", nil, withKey(reg.json(t)["driveApiKey"].(string))).status, "the merchant's own key stays")
			v = s.do("POST", "/api/integrations/connect/verify", map[string]any{"profile_id": m["profileId"], "client_id": app.clientID, "client_secret": app.secret})
			require.Equal(t, false, v.json(t)["linked"])

			// 5. Signing in again through the partner links it again.
			flow, r = s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {"http://localhost:3000/cb"}, "state": {"two"}, "next": {"login"}})
			require.Equal(t, "/login", r.header.Get("Location"))
			in := s.do("POST", "/api/login", map[string]any{"email": email, "password": "long enough pw"}, withCookie(ConnectCookie, flow))
			require.Equal(t, http.StatusOK, in.status, "body: %s", in.body)
			code, state, _ = codeOf(t, in.json(t)["connectRedirect"].(string))
			require.Equal(t, "two", state)
			ex = s.do("POST", "/api/integrations/connect/exchange", map[string]any{"code": code, "client_id": app.clientID, "client_secret": app.secret})
			require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
			v = s.do("POST", "/api/integrations/connect/verify", map[string]any{"profile_id": m["profileId"], "client_id": app.clientID, "client_secret": app.secret})
			require.Equal(t, true, v.json(t)["linked"])

			// 6. Finalize, for a browser that is already signed in.
			flow, _ = s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"three"}})
			fin := s.do("POST", "/api/integrations/connect/finalize", nil, withSession(in.cookie.Value), withCookie(ConnectCookie, flow))
			require.Equal(t, http.StatusOK, fin.status, "body: %s", fin.body)
			_, state, _ = codeOf(t, fin.json(t)["redirectUrl"].(string))
			require.Equal(t, "three", state)
			s.do("POST", "/api/integrations/connect/finalize", nil, withSession(in.cookie.Value), withCookie(ConnectCookie, flow)).
				requireError(t, http.StatusBadRequest, "invalid_request", "connect")

			// 7. The console counted it all.
			an := s.do("GET", "/api/developer/apps/"+app.id+"/analytics?days=7", nil, withSession(app.owner.session))
			require.Equal(t, http.StatusOK, an.status, "body: %s", an.body)
			totals := an.json(t)["totals"].(map[string]any)
			require.EqualValues(t, 3, totals["starts"])
			require.EqualValues(t, 3, totals["completions"])
			require.EqualValues(t, 2, totals["exchanges"])
			require.EqualValues(t, 1, totals["failedExchanges"])
			require.Len(t, an.json(t)["days"].([]any), 7)
		})
	}
}
