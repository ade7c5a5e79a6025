package httpapi

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core/connect"
)

// connectedMerchant is a new account that went through start → register
// with an app and came back with a code.
type connectedMerchant struct {
	profileID, email, session, code, state string
}

// connectMerchant starts a flow for app and registers a new merchant in
// it; the answer's connectRedirect carries the code.
func (s *testServer) connectMerchant(app partnerApp, returnURL, state string) connectedMerchant {
	s.t.Helper()
	flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {returnURL}, "state": {state}})
	require.Equal(s.t, http.StatusFound, r.status, "body: %s", r.body)
	email := uniqueEmail("merchant")
	reg := s.do("POST", "/api/register", map[string]any{
		"email": email, "password": "long enough pw", "displayName": "Merchant", "accountType": "studio",
	}, withCookie(ConnectCookie, flow))
	require.Equal(s.t, http.StatusCreated, reg.status, "body: %s", reg.body)
	m := reg.json(s.t)
	redirect, _ := m["connectRedirect"].(string)
	require.NotEmpty(s.t, redirect, "body: %s", reg.body)
	code, st, _ := codeOf(s.t, redirect)
	require.Equal(s.t, state, st)
	return connectedMerchant{profileID: m["profileId"].(string), email: email, session: reg.cookie.Value, code: code, state: st}
}

func (s *testServer) exchangeCode(clientID, secret, code string) reply {
	s.t.Helper()
	return s.do("POST", "/api/integrations/connect/exchange", map[string]any{"code": code, "client_id": clientID, "client_secret": secret})
}

func (s *testServer) verifyProfile(clientID, secret, profileID string) reply {
	s.t.Helper()
	return s.do("POST", "/api/integrations/connect/verify", map[string]any{"profile_id": profileID, "client_id": clientID, "client_secret": secret})
}

// setAppStatus is the admin moderation call.
func (s *testServer) setAppStatus(adminSession, appID, status string) reply {
	s.t.Helper()
	return s.do("PATCH", "/api/admin/partner-apps/"+appID, map[string]any{"status": status}, withSession(adminSession))
}

// requireNoRedirect asserts that an answer sends the browser nowhere and
// starts no flow.
func requireNoRedirect(t testing.TB, r reply) {
	t.Helper()
	require.True(t, r.status < 300 || r.status >= 400, "status %d", r.status)
	require.Empty(t, r.header.Get("Location"))
	require.Nil(t, r.cookies[ConnectCookie], "no connect cookie on an error")
	require.NotContains(t, strings.ToLower(string(r.body)), "http-equiv", "no meta refresh")
}

// requireHTMLError asserts the browser-facing error page: HTML, the status,
// no redirect of any kind, no script or link that could navigate away.
func requireHTMLError(t testing.TB, r reply, status int) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/html"), r.header.Get("Content-Type"))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	requireNoRedirect(t, r)
	body := strings.ToLower(string(r.body))
	require.Contains(t, body, "<!doctype html>")
	require.NotContains(t, body, "<script")
	require.NotContains(t, body, "<a ")
}

const (
	plainCallback = "https://partner.example/cb"
	localCallback = "http://localhost:3000/cb"
)

func TestConnectStartErrors(t *testing.T) {
	t.Parallel()
	adminEmail := uniqueEmail("start-admin")
	s := newTestServer(t, "memory", options{admins: []string{adminEmail}})
	admin := s.register(adminEmail)
	app := s.createApp("drive", callback, plainCallback, localCallback)
	suspended := s.createApp("drive", callback)
	require.Equal(t, http.StatusOK, s.setAppStatus(admin.session, suspended.id, "suspended").status)

	valid := func(mod func(q url.Values)) url.Values {
		q := url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"xyz"}}
		if mod != nil {
			mod(q)
		}
		return q
	}
	returnURL := func(u string) url.Values { return valid(func(q url.Values) { q.Set("return_url", u) }) }

	type tc struct {
		name   string
		query  string // raw query
		status int
		code   string
		detail string
	}
	cases := []tc{
		{"unknown_client_id_is_400", valid(func(q url.Values) { q.Set("client_id", "gh_app_doesnotexist000000000") }).Encode(), 400, "invalid_request", "client_id"},
		{"missing_client_id_is_400", valid(func(q url.Values) { q.Del("client_id") }).Encode(), 400, "invalid_request", "client_id"},
		{"over_long_client_id_is_400", valid(func(q url.Values) { q.Set("client_id", strings.Repeat("a", 300)) }).Encode(), 400, "invalid_request", "client_id"},
		{"suspended_app_is_404", valid(func(q url.Values) { q.Set("client_id", suspended.clientID) }).Encode(), 404, "not_found", ""},
		{"missing_state_is_400", valid(func(q url.Values) { q.Del("state") }).Encode(), 400, "invalid_request", "state"},
		{"empty_state_is_400", valid(func(q url.Values) { q.Set("state", "") }).Encode(), 400, "invalid_request", "state"},
		{"over_long_state_is_400", valid(func(q url.Values) { q.Set("state", strings.Repeat("s", connect.MaxStateLen+1)) }).Encode(), 400, "invalid_request", "state"},
		{"next_not_register_or_login_is_400", valid(func(q url.Values) { q.Set("next", "dashboard") }).Encode(), 400, "invalid_request", "next"},
		{"next_as_a_url_is_400", valid(func(q url.Values) { q.Set("next", "//evil.example") }).Encode(), 400, "invalid_request", "next"},
		{"unknown_product_is_400", valid(func(q url.Values) { q.Set("product", "video") }).Encode(), 400, "invalid_request", "product"},
		{"product_not_allowed_for_the_app_is_403", valid(func(q url.Values) { q.Set("product", "messaging") }).Encode(), 403, "forbidden", ""},
		{"plan_of_another_line_is_403", valid(func(q url.Values) { q.Set("plan", "plan_gallery_pro_monthly") }).Encode(), 403, "forbidden", ""},
		{"unknown_plan_is_400", valid(func(q url.Values) { q.Set("plan", "plan_nope") }).Encode(), 400, "invalid_request", "plan"},
		{"malformed_plan_is_400", valid(func(q url.Values) { q.Set("plan", "<script>") }).Encode(), 400, "invalid_request", "plan"},
		{"missing_return_url_is_400", valid(func(q url.Values) { q.Del("return_url") }).Encode(), 400, "invalid_request", "return_url"},
		{"state_given_twice_is_400", valid(nil).Encode() + "&state=other", 400, "invalid_request", "state"},
		// Open redirects: only a byte-for-byte registered URI is accepted.
		{"return_url_differing_by_host_case_is_400", returnURL("https://Partner.example/oauth/gellhub/callback?tenant=42").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_differing_by_scheme_case_is_400", returnURL("HTTPS://partner.example/oauth/gellhub/callback?tenant=42").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_differing_by_path_case_is_400", returnURL("https://partner.example/OAuth/gellhub/callback?tenant=42").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_trailing_slash_is_400", returnURL("https://partner.example/cb/").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_trailing_slash_before_query_is_400", returnURL("https://partner.example/oauth/gellhub/callback/?tenant=42").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_added_query_is_400", returnURL("https://partner.example/cb?next=https://evil.example").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_extra_query_parameter_is_400", returnURL(callback + "&tenant=43").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_changed_query_is_400", returnURL("https://partner.example/oauth/gellhub/callback?tenant=43").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_without_its_query_is_400", returnURL("https://partner.example/oauth/gellhub/callback").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_empty_query_is_400", returnURL("https://partner.example/cb?").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_userinfo_is_400", returnURL("https://evil@partner.example/oauth/gellhub/callback?tenant=42").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_registered_host_as_userinfo_is_400", returnURL("https://partner.example@evil.example/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_another_port_is_400", returnURL("https://partner.example:8443/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_explicit_default_port_is_400", returnURL("https://partner.example:443/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_on_another_localhost_port_is_400", returnURL("http://localhost:3001/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_on_127_0_0_1_for_localhost_is_400", returnURL("http://127.0.0.1:3000/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_http_instead_of_https_is_400", returnURL("http://partner.example/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_fragment_is_400", returnURL("https://partner.example/cb#access").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_percent_encoded_is_400", returnURL("https://partner.example/%63b").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_on_a_subdomain_is_400", returnURL("https://evil.partner.example/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_suffix_host_is_400", returnURL("https://partner.example.evil.example/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_protocol_relative_is_400", returnURL("//partner.example/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_javascript_is_400", returnURL("javascript:alert(1)").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_with_surrounding_space_is_400", returnURL(" https://partner.example/cb").Encode(), 400, "invalid_request", "return_url"},
		{"return_url_over_long_is_400", returnURL("https://partner.example/cb?" + strings.Repeat("x", 2100)).Encode(), 400, "invalid_request", "return_url"},
		{"return_url_given_twice_is_400", valid(nil).Encode() + "&return_url=" + url.QueryEscape("https://evil.example/cb"), 400, "invalid_request", "return_url"},
		{"return_url_registered_by_another_app_is_400", returnURL("https://partner.example/other").Encode(), 400, "invalid_request", "return_url"},
	}
	s.createApp("drive", "https://partner.example/other") // registered, but by another app

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/api/integrations/connect/start?" + c.query
			t.Run("html_by_default", func(t *testing.T) {
				requireHTMLError(t, s.do("GET", path, nil), c.status)
				requireHTMLError(t, s.do("GET", path, nil, withHeader("Accept", "text/html,application/xhtml+xml,application/json;q=0.9")), c.status)
			})
			t.Run("json_when_asked", func(t *testing.T) {
				r := s.do("GET", path, nil, withHeader("Accept", "application/json"))
				r.requireError(t, c.status, c.code, c.detail)
				require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "application/json"))
				requireNoRedirect(t, r)
			})
		})
	}

	t.Run("errors_start_no_flow", func(t *testing.T) {
		an := s.do("GET", "/api/developer/apps/"+app.id+"/analytics?days=1", nil, withSession(app.owner.session))
		require.Equal(t, http.StatusOK, an.status, "body: %s", an.body)
		require.EqualValues(t, 0, an.json(t)["totals"].(map[string]any)["starts"])
	})
	t.Run("each_registered_uri_and_the_maximum_state_start", func(t *testing.T) {
		for _, u := range []string{callback, plainCallback, localCallback} {
			_, r := s.startFlow(valid(func(q url.Values) {
				q.Set("return_url", u)
				q.Set("state", strings.Repeat("s", connect.MaxStateLen))
				q.Set("plan", "plan_drive_plus_monthly")
				q.Set("next", "login")
			}))
			require.Equal(t, http.StatusFound, r.status, "%s: %s", u, r.body)
			require.Equal(t, "/login", r.header.Get("Location"))
		}
	})
}

func TestConnectExchangeErrors(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{})
			app := s.createApp("clientGallery", callback)
			other := s.createApp("clientGallery", callback)

			t.Run("wrong_secret_is_401_and_does_not_burn_the_code", func(t *testing.T) {
				m := s.connectMerchant(app, callback, "s1")
				s.exchangeCode(app.clientID, other.secret, m.code).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.exchangeCode(app.clientID, app.secret+"x", m.code).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.exchangeCode(app.clientID, "", m.code).requireError(t, http.StatusBadRequest, "invalid_request", "client_secret") // missing is malformed, not wrong
				require.Equal(t, http.StatusOK, s.exchangeCode(app.clientID, app.secret, m.code).status)
			})
			t.Run("unknown_client_is_401", func(t *testing.T) {
				m := s.connectMerchant(app, callback, "s2")
				s.exchangeCode("gh_app_doesnotexist000000000", app.secret, m.code).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.exchangeCode("", app.secret, m.code).requireError(t, http.StatusBadRequest, "invalid_request", "client_id")
				s.exchangeCode(strings.Repeat("a", 300), app.secret, m.code).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			})
			t.Run("missing_or_malformed_fields_are_400", func(t *testing.T) {
				s.exchangeCode(app.clientID, app.secret, "").requireError(t, http.StatusBadRequest, "invalid_request", "code")
				s.do("POST", "/api/integrations/connect/exchange", map[string]any{"client_id": app.clientID, "client_secret": app.secret}).
					requireError(t, http.StatusBadRequest, "invalid_request", "code")
				s.exchangeCode(app.clientID, app.secret, strings.Repeat("c", 500)).requireError(t, http.StatusBadRequest, "invalid_request", "code")
				s.exchangeCode(app.clientID, app.secret, "not-a-code").requireError(t, http.StatusBadRequest, "invalid_request", "code")
				s.do("POST", "/api/integrations/connect/exchange", map[string]any{"code": 12, "client_id": app.clientID, "client_secret": app.secret}).
					requireError(t, http.StatusBadRequest, "invalid_request", "code")
				s.do("POST", "/api/integrations/connect/exchange", `{"code":`).requireError(t, http.StatusBadRequest, "invalid_request", "body")
				s.do("POST", "/api/integrations/connect/exchange", nil).requireError(t, http.StatusBadRequest, "invalid_request", "")
			})
			t.Run("code_of_another_app_is_400_and_still_works_for_its_own", func(t *testing.T) {
				m := s.connectMerchant(app, callback, "s3")
				s.exchangeCode(other.clientID, other.secret, m.code).requireError(t, http.StatusBadRequest, "invalid_request", "code")
				ex := s.exchangeCode(app.clientID, app.secret, m.code)
				require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
				require.Equal(t, m.profileID, ex.json(t)["profileId"])
				require.Equal(t, "s3", ex.json(t)["state"])
			})
			t.Run("reused_code_is_400", func(t *testing.T) {
				m := s.connectMerchant(app, callback, "s4")
				first := s.exchangeCode(app.clientID, app.secret, m.code)
				require.Equal(t, http.StatusOK, first.status, "body: %s", first.body)
				s.exchangeCode(app.clientID, app.secret, m.code).requireError(t, http.StatusBadRequest, "invalid_request", "code")
				// The keys of the first exchange keep working.
				require.Equal(t, http.StatusOK, s.do("GET", "/api/billing/status", nil, withKey(first.json(t)["apiKey"].(string))).status)
			})
			t.Run("code_after_the_link_was_revoked_is_400", func(t *testing.T) {
				m := s.connectMerchant(app, callback, "s5")
				links := s.do("GET", "/api/integrations/links", nil, withSession(m.session)).list(t)
				require.Len(t, links, 1)
				require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/integrations/links/"+links[0]["id"].(string), nil, withSession(m.session)).status)
				s.exchangeCode(app.clientID, app.secret, m.code).requireError(t, http.StatusBadRequest, "invalid_request", "code")
			})
			t.Run("one_code_exchanged_by_20_goroutines_succeeds_once", func(t *testing.T) {
				for round := 0; round < 3; round++ {
					m := s.connectMerchant(app, callback, "race")
					statuses := s.concurrentExchanges(20, app, m.code)
					ok := 0
					for _, st := range statuses {
						switch st {
						case http.StatusOK:
							ok++
						case http.StatusBadRequest:
						default:
							t.Fatalf("unexpected status %d in %v", st, statuses)
						}
					}
					require.Equal(t, 1, ok, "statuses: %v", statuses)
				}
			})
		})
	}

	t.Run("expired_code_is_400", func(t *testing.T) {
		t.Parallel()
		// SQLite runs with the in-process code cache, which reads the fake clock.
		s := newTestServer(t, "sqlite", options{})
		app := s.createApp("drive", callback)
		early := s.connectMerchant(app, callback, "early")
		late := s.connectMerchant(app, callback, "late")
		s.clock.Advance(connect.CodeTTL - time.Second)
		require.Equal(t, http.StatusOK, s.exchangeCode(app.clientID, app.secret, early.code).status, "a code lives up to 10 minutes")
		s.clock.Advance(2 * time.Second)
		s.exchangeCode(app.clientID, app.secret, late.code).requireError(t, http.StatusBadRequest, "invalid_request", "code")

		// A flow left for longer than its hour issues no code either.
		flow, _ := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"stale"}})
		s.clock.Advance(connect.FlowTTL + time.Second)
		require.Equal(t, false, s.do("GET", "/api/integrations/connect/context", nil, withCookie(ConnectCookie, flow)).json(t)["active"])
		reg := s.do("POST", "/api/register", map[string]any{
			"email": uniqueEmail("stale"), "password": "long enough pw", "displayName": "Stale", "accountType": "drive",
		}, withCookie(ConnectCookie, flow))
		require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
		require.NotContains(t, reg.json(t), "connectRedirect")
		require.NotContains(t, string(reg.body), "code=")
	})
}

// concurrentExchanges sends n exchanges of code at once and returns their
// statuses (0 for a transport error).
func (s *testServer) concurrentExchanges(n int, app partnerApp, code string) []int {
	body := `{"code":"` + code + `","client_id":"` + app.clientID + `","client_secret":"` + app.secret + `"}`
	statuses := make([]int, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/api/integrations/connect/exchange", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			<-gate
			res, err := s.app.Test(req, -1)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	close(gate)
	wg.Wait()
	return statuses
}

func TestConnectVerifyErrors(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{})
			app := s.createApp("drive", callback)
			other := s.createApp("drive", callback)
			linkedHere := s.connectMerchant(app, callback, "here")
			linkedThere := s.connectMerchant(other, callback, "there")
			stranger := s.register(uniqueEmail("stranger"))

			t.Run("linked_profile_is_200", func(t *testing.T) {
				r := s.verifyProfile(app.clientID, app.secret, linkedHere.profileID)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				require.Equal(t, true, r.json(t)["linked"])
				require.Equal(t, linkedHere.email, r.json(t)["email"])
			})
			t.Run("profile_never_linked_is_404", func(t *testing.T) {
				s.verifyProfile(app.clientID, app.secret, stranger.profileID).requireError(t, http.StatusNotFound, "not_found", "")
			})
			t.Run("profile_linked_to_another_app_is_404", func(t *testing.T) {
				s.verifyProfile(app.clientID, app.secret, linkedThere.profileID).requireError(t, http.StatusNotFound, "not_found", "")
				s.verifyProfile(other.clientID, other.secret, linkedHere.profileID).requireError(t, http.StatusNotFound, "not_found", "")
			})
			t.Run("unknown_profile_is_404", func(t *testing.T) {
				s.verifyProfile(app.clientID, app.secret, "prf_doesnotexist").requireError(t, http.StatusNotFound, "not_found", "")
				s.verifyProfile(app.clientID, app.secret, strings.Repeat("p", 300)).requireError(t, http.StatusNotFound, "not_found", "")
			})
			t.Run("bad_secret_is_401_before_anything_is_revealed", func(t *testing.T) {
				s.verifyProfile(app.clientID, other.secret, linkedHere.profileID).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.verifyProfile(app.clientID, "", linkedHere.profileID).requireError(t, http.StatusBadRequest, "invalid_request", "client_secret")
				s.verifyProfile("gh_app_doesnotexist000000000", app.secret, linkedHere.profileID).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.verifyProfile(app.clientID, other.secret, "").requireError(t, http.StatusUnauthorized, "unauthorized", "")
			})
			t.Run("missing_profile_id_is_400", func(t *testing.T) {
				s.verifyProfile(app.clientID, app.secret, "").requireError(t, http.StatusBadRequest, "invalid_request", "profile_id")
				s.do("POST", "/api/integrations/connect/verify", map[string]any{"client_id": app.clientID, "client_secret": app.secret}).
					requireError(t, http.StatusBadRequest, "invalid_request", "profile_id")
				s.do("POST", "/api/integrations/connect/verify", map[string]any{"profile_id": 7, "client_id": app.clientID, "client_secret": app.secret}).
					requireError(t, http.StatusBadRequest, "invalid_request", "profile_id")
			})
		})
	}
}

func TestConnectAcrossTwoInstances(t *testing.T) {
	t.Parallel()
	s1 := newTestServer(t, "postgres+redis", options{})
	s2 := newTestServer(t, "postgres+redis", options{dsn: s1.dsn, prefix: s1.prefix})
	app := s1.createApp("drive", callback)

	flow, r := s1.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"across"}, "product": {"drive"}})
	require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)

	ctx := s2.do("GET", "/api/integrations/connect/context", nil, withCookie(ConnectCookie, flow))
	require.Equal(t, true, ctx.json(t)["active"], "the flow is visible to the second instance")

	email := uniqueEmail("across")
	reg := s2.do("POST", "/api/register", map[string]any{
		"email": email, "password": "long enough pw", "displayName": "Across", "accountType": "drive",
	}, withCookie(ConnectCookie, flow))
	require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
	redirect, _ := reg.json(t)["connectRedirect"].(string)
	require.NotEmpty(t, redirect, "body: %s", reg.body)
	code, state, _ := codeOf(t, redirect)
	require.Equal(t, "across", state)

	ex := s1.exchangeCode(app.clientID, app.secret, code)
	require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
	m := ex.json(t)
	require.Equal(t, email, m["email"])
	s2.exchangeCode(app.clientID, app.secret, code).requireError(t, http.StatusBadRequest, "invalid_request", "code")

	v := s2.verifyProfile(app.clientID, app.secret, m["profileId"].(string))
	require.Equal(t, http.StatusOK, v.status, "body: %s", v.body)
	require.Equal(t, true, v.json(t)["linked"])
	require.Equal(t, http.StatusOK, s2.do("GET", "/api/billing/status", nil, withKey(m["driveApiKey"].(string))).status)

	// The flow ended on s2 for s1 too.
	require.Equal(t, false, s1.do("GET", "/api/integrations/connect/context", nil, withCookie(ConnectCookie, flow)).json(t)["active"])
	// A session opened on s2 works on s1 (finalize needs it).
	flow2, _ := s2.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"again"}})
	fin := s1.do("POST", "/api/integrations/connect/finalize", nil, withSession(reg.cookie.Value), withCookie(ConnectCookie, flow2))
	require.Equal(t, http.StatusOK, fin.status, "body: %s", fin.body)
	code, _, _ = codeOf(t, fin.json(t)["redirectUrl"].(string))
	require.Equal(t, http.StatusOK, s2.exchangeCode(app.clientID, app.secret, code).status)
}

var (
	nonceInCSP  = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9+/=]+)'`)
	inlineTag   = regexp.MustCompile(`<(script|style)([^>]*)>`)
	urlAttr     = regexp.MustCompile(`(?i)\b(src|href|action|formaction)\s*=\s*["']?([^"'\s>]*)`)
	scriptNonce = regexp.MustCompile(`nonce="([^"]+)"`)
)

func TestSignInPages(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{})
	seen := map[string]bool{}
	for _, path := range []string{"/register", "/login"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			r := s.do("GET", path, nil)
			require.Equal(t, http.StatusOK, r.status)
			require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/html"), r.header.Get("Content-Type"))
			require.Equal(t, "DENY", r.header.Get("X-Frame-Options"))
			csp := r.header.Get("Content-Security-Policy")
			require.Contains(t, csp, "default-src 'none'")
			require.Contains(t, csp, "frame-ancestors 'none'")
			m := nonceInCSP.FindStringSubmatch(csp)
			require.NotNil(t, m, "CSP: %s", csp)
			nonce := m[1]
			require.GreaterOrEqual(t, len(nonce), 16)
			require.Contains(t, csp, "style-src 'nonce-"+nonce+"'")
			require.False(t, seen[nonce], "a fresh nonce per response")
			seen[nonce] = true

			body := string(r.body)
			tags := inlineTag.FindAllStringSubmatch(body, -1)
			require.Len(t, tags, 2, "one inline style, one inline script")
			for _, sc := range tags {
				n := scriptNonce.FindStringSubmatch(sc[2])
				require.NotNil(t, n, "every script and style carries the nonce: %s", sc[0])
				// html/template writes "+" as "&#43;"; the browser decodes it.
				require.Equal(t, nonce, html.UnescapeString(n[1]))
				require.NotContains(t, sc[2], "src", "no external scripts")
			}
			for _, a := range urlAttr.FindAllStringSubmatch(body, -1) {
				v := a[2]
				require.True(t, strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//"), "%s=%q is not a same-origin path", a[1], v)
			}
			require.NotRegexp(t, `(?i)<(link|img|iframe|object|embed|base)\b`, body, "no external assets")
			require.NotContains(t, body, "http://")
			require.NotContains(t, body, "https://")
			require.Contains(t, body, "/api/integrations/connect/context")
		})
	}
}
