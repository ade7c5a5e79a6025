package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// appBody is a valid create request, changed by mod.
func appBody(mod func(b map[string]any)) map[string]any {
	b := map[string]any{"name": "Shopline", "productType": "drive", "redirectUris": []string{plainCallback}}
	if mod != nil {
		mod(b)
	}
	return b
}

func manyURIs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://partner.example/cb/%d", i)
	}
	return out
}

func TestDeveloperCreateValidation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{})
	dev := s.register(uniqueEmail("dev"))
	sess := withSession(dev.session)
	uris := func(u ...string) func(b map[string]any) { return func(b map[string]any) { b["redirectUris"] = u } }

	for _, tc := range []struct {
		name   string
		body   any
		detail string
	}{
		{"name_missing", appBody(func(b map[string]any) { delete(b, "name") }), "name"},
		{"name_blank", appBody(func(b map[string]any) { b["name"] = "   " }), "name"},
		{"name_too_long", appBody(func(b map[string]any) { b["name"] = strings.Repeat("n", core.MaxNameLen+1) }), "name"},
		{"name_with_control_characters", appBody(func(b map[string]any) { b["name"] = "Shop\x00line" }), "name"},
		{"name_of_the_wrong_type", appBody(func(b map[string]any) { b["name"] = 12 }), "name"},
		{"product_type_missing", appBody(func(b map[string]any) { delete(b, "productType") }), "productType"},
		{"product_type_unknown", appBody(func(b map[string]any) { b["productType"] = "video" }), "productType"},
		{"allowed_product_types_with_two_lines", appBody(func(b map[string]any) {
			delete(b, "productType")
			b["allowedProductTypes"] = []string{"drive", "messaging"}
		}), "allowedProductTypes"},
		{"allowed_product_types_unknown", appBody(func(b map[string]any) {
			delete(b, "productType")
			b["allowedProductTypes"] = []string{"video"}
		}), "allowedProductTypes"},
		{"product_type_and_allowed_product_types_disagree", appBody(func(b map[string]any) { b["allowedProductTypes"] = []string{"messaging"} }), "allowedProductTypes"},
		{"both_given_with_two_lines", appBody(func(b map[string]any) { b["allowedProductTypes"] = []string{"drive", "messaging"} }), "allowedProductTypes"},
		{"redirect_uris_missing", appBody(func(b map[string]any) { delete(b, "redirectUris") }), "redirectUris"},
		{"redirect_uris_empty", appBody(uris()), "redirectUris"},
		{"redirect_uris_more_than_10", appBody(uris(manyURIs(11)...)), "redirectUris"},
		{"redirect_uris_duplicate", appBody(uris(plainCallback, plainCallback)), "redirectUris"},
		{"redirect_uri_relative", appBody(uris("/oauth/callback")), "redirectUris"},
		{"redirect_uri_protocol_relative", appBody(uris("//partner.example/cb")), "redirectUris"},
		{"redirect_uri_http_to_a_public_host", appBody(uris("http://partner.example/cb")), "redirectUris"},
		{"redirect_uri_http_to_a_localhost_lookalike", appBody(uris("http://localhost.evil.example/cb")), "redirectUris"},
		{"redirect_uri_http_to_a_127_lookalike", appBody(uris("http://127.0.0.1.nip.io/cb")), "redirectUris"},
		{"redirect_uri_with_fragment", appBody(uris("https://partner.example/cb#token")), "redirectUris"},
		{"redirect_uri_with_empty_fragment", appBody(uris("https://partner.example/cb#")), "redirectUris"},
		{"redirect_uri_with_userinfo", appBody(uris("https://evil@partner.example/cb")), "redirectUris"},
		{"redirect_uri_javascript", appBody(uris("javascript:alert(1)")), "redirectUris"},
		{"redirect_uri_data", appBody(uris("data:text/html,<script>alert(1)</script>")), "redirectUris"},
		{"redirect_uri_custom_scheme", appBody(uris("myapp://callback")), "redirectUris"},
		{"redirect_uri_with_space", appBody(uris("https://partner.example/c b")), "redirectUris"},
		{"redirect_uri_empty_string", appBody(uris("")), "redirectUris"},
		{"redirect_uri_too_long", appBody(uris("https://partner.example/" + strings.Repeat("p", core.MaxURLLen))), "redirectUris"},
		{"redirect_uris_of_the_wrong_type", appBody(func(b map[string]any) { b["redirectUris"] = plainCallback }), "redirectUris"},
		{"malformed_json", `{"name":`, "body"},
	} {
		t.Run(tc.name+"_is_400", func(t *testing.T) {
			s.do("POST", "/api/developer/apps", tc.body, sess).requireError(t, http.StatusBadRequest, "invalid_request", tc.detail)
		})
	}
	t.Run("failed_creates_change_nothing", func(t *testing.T) {
		require.Empty(t, s.do("GET", "/api/developer/apps", nil, sess).list(t))
	})

	for _, tc := range []struct {
		name string
		body map[string]any
		line string
	}{
		{"allowed_product_types_alone", appBody(func(b map[string]any) {
			delete(b, "productType")
			b["allowedProductTypes"] = []string{"messaging"}
		}), "messaging"},
		{"product_type_and_allowed_product_types_agreeing", appBody(func(b map[string]any) { b["allowedProductTypes"] = []string{"drive"} }), "drive"},
		{"exactly_10_redirect_uris", appBody(uris(manyURIs(10)...)), "drive"},
		{"http_for_localhost_and_127_0_0_1", appBody(uris("http://localhost:3000/cb", "http://127.0.0.1:8080/cb", "http://localhost/cb")), "drive"},
		{"a_query_in_a_redirect_uri", appBody(uris(callback)), "drive"},
	} {
		t.Run(tc.name+"_is_201", func(t *testing.T) {
			r := s.do("POST", "/api/developer/apps", tc.body, sess)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			m := r.json(t)
			require.Equal(t, tc.line, m["productType"])
			require.Equal(t, []any{tc.line}, m["allowedProductTypes"])
			require.Len(t, m["redirectUris"], len(tc.body["redirectUris"].([]string)))
		})
	}
}

func TestDeveloperConsole(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{})
			dev := s.register(uniqueEmail("dev"))
			sess := withSession(dev.session)
			intruder := s.register(uniqueEmail("intruder"))

			created := s.do("POST", "/api/developer/apps", map[string]any{
				"name": "Shopline", "productType": "drive", "redirectUris": []string{callback, plainCallback},
			}, sess)
			require.Equal(t, http.StatusCreated, created.status, "body: %s", created.body)
			c := created.json(t)
			app := partnerApp{id: c["id"].(string), clientID: c["clientId"].(string), secret: c["clientSecret"].(string), owner: dev}

			t.Run("create_returns_the_client_id_and_the_secret_once", func(t *testing.T) {
				require.True(t, strings.HasPrefix(app.clientID, "gh_app_"), app.clientID)
				require.True(t, strings.HasPrefix(app.secret, "gh_secret_"), app.secret)
				require.GreaterOrEqual(t, len(app.secret), len("gh_secret_")+40, "≥ 256 bits")
				require.Equal(t, "Shopline", c["name"])
				require.Equal(t, []any{"drive"}, c["allowedProductTypes"])
				require.Equal(t, []any{callback, plainCallback}, c["redirectUris"])
				require.Equal(t, "active", c["status"])
				require.NotEmpty(t, c["createdAt"])
				require.Equal(t, "no-store", created.header.Get("Cache-Control"))
				other := s.createApp("drive", plainCallback)
				require.NotEqual(t, app.clientID, other.clientID)
				require.NotEqual(t, app.secret, other.secret)
			})
			t.Run("list_and_get_never_contain_the_secret", func(t *testing.T) {
				for _, r := range []reply{
					s.do("GET", "/api/developer/apps", nil, sess),
					s.do("GET", "/api/developer/apps/"+app.id, nil, sess),
					s.do("PATCH", "/api/developer/apps/"+app.id, map[string]any{"name": "Shopline"}, sess),
				} {
					require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
					body := string(r.body)
					require.NotContains(t, body, app.secret)
					require.NotContains(t, body, app.secret[len("gh_secret_"):])
					require.NotContains(t, body, core.Digest(app.secret))
					require.NotContains(t, body, "clientSecret")
					require.NotContains(t, strings.ToLower(body), "digest")
					require.Contains(t, body, app.clientID)
				}
				list := s.do("GET", "/api/developer/apps", nil, sess).list(t)
				require.Len(t, list, 1, "createApp registers its own developer")
			})
			t.Run("another_accounts_app_is_404", func(t *testing.T) {
				other := withSession(intruder.session)
				base := "/api/developer/apps/" + app.id
				s.do("GET", base, nil, other).requireError(t, http.StatusNotFound, "not_found", "")
				s.do("PATCH", base, map[string]any{"name": "Hijacked", "redirectUris": []string{"https://evil.example/cb"}}, other).
					requireError(t, http.StatusNotFound, "not_found", "")
				s.do("DELETE", base, nil, other).requireError(t, http.StatusNotFound, "not_found", "")
				s.do("POST", base+"/rotate-secret", nil, other).requireError(t, http.StatusNotFound, "not_found", "")
				s.do("GET", base+"/analytics", nil, other).requireError(t, http.StatusNotFound, "not_found", "")
				require.Empty(t, s.do("GET", "/api/developer/apps", nil, other).list(t))
				// Nothing changed: same name and URIs, the secret still authenticates.
				g := s.do("GET", base, nil, sess).json(t)
				require.Equal(t, "Shopline", g["name"])
				require.Equal(t, []any{callback, plainCallback}, g["redirectUris"])
				s.verifyProfile(app.clientID, app.secret, intruder.profileID).requireError(t, http.StatusNotFound, "not_found", "")
			})
			t.Run("unknown_app_is_404", func(t *testing.T) {
				for _, id := range []string{"app_doesnotexist", strings.Repeat("a", 100), "app%2F..%2Fx"} {
					s.do("GET", "/api/developer/apps/"+id, nil, sess).requireError(t, http.StatusNotFound, "not_found", "")
				}
			})
			t.Run("patch_name_and_redirect_uris", func(t *testing.T) {
				flowBefore, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"mid"}})
				require.Equal(t, http.StatusFound, r.status)

				s.clock.Advance(time.Minute)
				p := s.do("PATCH", "/api/developer/apps/"+app.id, map[string]any{"name": "Shopline 2", "redirectUris": []string{plainCallback, localCallback}}, sess)
				require.Equal(t, http.StatusOK, p.status, "body: %s", p.body)
				pm := p.json(t)
				require.Equal(t, "Shopline 2", pm["name"])
				require.Equal(t, []any{plainCallback, localCallback}, pm["redirectUris"])
				require.NotEqual(t, pm["createdAt"], pm["updatedAt"])
				g := s.do("GET", "/api/developer/apps/"+app.id, nil, sess).json(t)
				require.Equal(t, "Shopline 2", g["name"])
				require.Equal(t, []any{plainCallback, localCallback}, g["redirectUris"])

				_, r = s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"x"}})
				requireHTMLError(t, r, http.StatusBadRequest)
				_, r = s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {localCallback}, "state": {"x"}})
				require.Equal(t, http.StatusFound, r.status, "a newly added URI starts a flow")

				// A flow started before the URI was removed gets no code for it.
				reg := s.do("POST", "/api/register", map[string]any{
					"email": uniqueEmail("mid"), "password": "long enough pw", "displayName": "Mid", "accountType": "drive",
				}, withCookie(ConnectCookie, flowBefore))
				require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
				require.NotContains(t, reg.json(t), "connectRedirect", "body: %s", reg.body)
				require.NotEmpty(t, reg.json(t)["connectError"])
				require.NotContains(t, string(reg.body), "code=")

				// Only the name and the URIs change: the line is refused, the
				// status and the client id are not the owner's to set.
				s.do("PATCH", "/api/developer/apps/"+app.id, map[string]any{"productType": "messaging"}, sess).
					requireError(t, http.StatusBadRequest, "invalid_request", "productType")
				p = s.do("PATCH", "/api/developer/apps/"+app.id, map[string]any{"status": "suspended", "clientId": "gh_app_mine"}, sess)
				require.Equal(t, http.StatusOK, p.status, "body: %s", p.body)
				require.Equal(t, "active", p.json(t)["status"])
				require.Equal(t, app.clientID, p.json(t)["clientId"])
				require.Equal(t, "drive", p.json(t)["productType"])
			})
			t.Run("patch_validation_is_400_and_changes_nothing", func(t *testing.T) {
				base := "/api/developer/apps/" + app.id
				s.do("PATCH", base, map[string]any{"name": ""}, sess).requireError(t, http.StatusBadRequest, "invalid_request", "name")
				s.do("PATCH", base, map[string]any{"name": strings.Repeat("n", core.MaxNameLen+1)}, sess).requireError(t, http.StatusBadRequest, "invalid_request", "name")
				s.do("PATCH", base, map[string]any{"redirectUris": []string{}}, sess).requireError(t, http.StatusBadRequest, "invalid_request", "redirectUris")
				s.do("PATCH", base, map[string]any{"redirectUris": []string{"http://evil.example/cb"}}, sess).requireError(t, http.StatusBadRequest, "invalid_request", "redirectUris")
				s.do("PATCH", base, map[string]any{"name": "Fine", "redirectUris": manyURIs(11)}, sess).requireError(t, http.StatusBadRequest, "invalid_request", "redirectUris")
				g := s.do("GET", base, nil, sess).json(t)
				require.Equal(t, "Shopline 2", g["name"])
				require.Equal(t, []any{plainCallback, localCallback}, g["redirectUris"])
			})
			t.Run("rotate_secret_fails_the_old_one_at_once", func(t *testing.T) {
				m := s.connectMerchant(app, plainCallback, "rot")
				r := s.do("POST", "/api/developer/apps/"+app.id+"/rotate-secret", nil, sess)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				require.Equal(t, "no-store", r.header.Get("Cache-Control"))
				fresh := r.json(t)["clientSecret"].(string)
				require.True(t, strings.HasPrefix(fresh, "gh_secret_"))
				require.NotEqual(t, app.secret, fresh)

				s.exchangeCode(app.clientID, app.secret, m.code).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.verifyProfile(app.clientID, app.secret, m.profileID).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				ex := s.exchangeCode(app.clientID, fresh, m.code)
				require.Equal(t, http.StatusOK, ex.status, "the refused exchange did not burn the code: %s", ex.body)
				v := s.verifyProfile(app.clientID, fresh, m.profileID)
				require.Equal(t, http.StatusOK, v.status, "body: %s", v.body)
				require.NotContains(t, string(s.do("GET", "/api/developer/apps/"+app.id, nil, sess).body), fresh)
				app.secret = fresh
			})
			t.Run("analytics", func(t *testing.T) {
				base := "/api/developer/apps/" + app.id + "/analytics"
				for _, d := range []string{"0", "366", "abc", "-1", "1.5", "999999999"} {
					s.do("GET", base+"?days="+d, nil, sess).requireError(t, http.StatusBadRequest, "invalid_request", "days")
				}
				fresh := s.do("POST", "/api/developer/apps", appBody(nil), sess).json(t)
				r := s.do("GET", "/api/developer/apps/"+fresh["id"].(string)+"/analytics", nil, sess)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				days := r.json(t)["days"].([]any)
				require.Len(t, days, 30, "30 days by default")
				today := s.clock.Now().UTC()
				for i, d := range days {
					dm := d.(map[string]any)
					require.Equal(t, today.AddDate(0, 0, i-29).Format(time.DateOnly), dm["date"], "oldest first, today last")
					for _, k := range []string{"starts", "completions", "exchanges", "failedExchanges"} {
						require.EqualValues(t, 0, dm[k], "zero-filled")
					}
				}
				for _, k := range []string{"starts", "completions", "exchanges", "failedExchanges"} {
					require.EqualValues(t, 0, r.json(t)["totals"].(map[string]any)[k])
				}
				require.Len(t, s.do("GET", base+"?days=365", nil, sess).json(t)["days"], 365)
				one := s.do("GET", base+"?days=1", nil, sess).json(t)["days"].([]any)
				require.Len(t, one, 1)
				require.Equal(t, today.Format(time.DateOnly), one[0].(map[string]any)["date"])

				// Yesterday's counters stay on yesterday.
				before := s.do("GET", base+"?days=1", nil, sess).json(t)["totals"].(map[string]any)
				s.clock.Advance(24 * time.Hour)
				_, sr := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {plainCallback}, "state": {"t"}})
				require.Equal(t, http.StatusFound, sr.status)
				two := s.do("GET", base+"?days=2", nil, sess).json(t)
				d := two["days"].([]any)
				require.Equal(t, before["starts"], d[0].(map[string]any)["starts"])
				require.EqualValues(t, 1, d[1].(map[string]any)["starts"])
				require.EqualValues(t, 0, d[1].(map[string]any)["exchanges"])
			})
			t.Run("delete_revokes_links_and_their_keys", func(t *testing.T) {
				m := s.connectMerchant(app, plainCallback, "del")
				ex := s.exchangeCode(app.clientID, app.secret, m.code)
				require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
				keys := ex.json(t)
				for _, k := range []string{"apiKey", "driveApiKey"} {
					require.Equal(t, http.StatusOK, s.do("GET", "/api/billing/status", nil, withKey(keys[k].(string))).status)
				}
				pending := s.connectMerchant(app, plainCallback, "pending")

				require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/developer/apps/"+app.id, nil, sess).status)
				for _, k := range []string{"apiKey", "driveApiKey"} {
					s.do("GET", "/api/billing/status", nil, withKey(keys[k].(string))).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				}
				_, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {plainCallback}, "state": {"x"}})
				requireHTMLError(t, r, http.StatusBadRequest)
				s.do("GET", "/api/integrations/connect/start?"+url.Values{"client_id": {app.clientID}, "return_url": {plainCallback}, "state": {"x"}}.Encode(), nil,
					withHeader("Accept", "application/json")).requireError(t, http.StatusBadRequest, "invalid_request", "client_id")
				s.exchangeCode(app.clientID, app.secret, pending.code).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.verifyProfile(app.clientID, app.secret, m.profileID).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.do("GET", "/api/developer/apps/"+app.id, nil, sess).requireError(t, http.StatusNotFound, "not_found", "")
				s.do("DELETE", "/api/developer/apps/"+app.id, nil, sess).requireError(t, http.StatusNotFound, "not_found", "")
				s.do("GET", "/api/public/plans?client_id="+app.clientID, nil).requireError(t, http.StatusNotFound, "not_found", "")
				for _, a := range s.do("GET", "/api/developer/apps", nil, sess).list(t) {
					require.NotEqual(t, app.id, a["id"])
				}
				links := s.do("GET", "/api/integrations/links", nil, withSession(m.session)).list(t)
				require.Len(t, links, 1)
				require.Equal(t, false, links[0]["active"], "the link is revoked with its app")
			})
		})
	}
}

func TestDeveloperConsoleNeedsASession(t *testing.T) {
	t.Parallel()
	adminEmail := uniqueEmail("console-admin")
	s := newTestServer(t, "memory", options{admins: []string{adminEmail}})
	admin := s.register(adminEmail)
	app := s.createApp("drive", plainCallback)
	base := "/api/developer/apps/" + app.id
	routes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/developer/apps", appBody(nil)},
		{"GET", "/api/developer/apps", nil},
		{"GET", base, nil},
		{"PATCH", base, map[string]any{"name": "Hijacked"}},
		{"DELETE", base, nil},
		{"POST", base + "/rotate-secret", nil},
		{"GET", base + "/analytics", nil},
		{"GET", "/api/admin/partner-apps", nil},
		{"PATCH", "/api/admin/partner-apps/" + app.id, map[string]any{"status": "suspended"}},
		{"POST", "/api/integrations/connect/finalize", nil},
		{"GET", "/api/integrations/links", nil},
	}
	for _, rt := range routes {
		t.Run(rt.method+rt.path+"/without_a_session_is_401", func(t *testing.T) {
			s.do(rt.method, rt.path, rt.body).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do(rt.method, rt.path, rt.body, withSession("not-a-session")).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do(rt.method, rt.path, rt.body, withKey(app.owner.driveKey)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})
		if rt.method == "GET" {
			continue
		}
		t.Run(rt.method+rt.path+"/cross_site_is_403", func(t *testing.T) {
			session := app.owner.session
			if strings.HasPrefix(rt.path, "/api/admin/") {
				session = admin.session
			}
			s.do(rt.method, rt.path, rt.body, withSession(session), withHeader("Sec-Fetch-Site", "cross-site")).
				requireError(t, http.StatusForbidden, "forbidden", "")
			s.do(rt.method, rt.path, rt.body, withSession(session), withHeader("Origin", "https://evil.example")).
				requireError(t, http.StatusForbidden, "forbidden", "")
		})
	}
	t.Run("nothing_changed", func(t *testing.T) {
		list := s.do("GET", "/api/developer/apps", nil, withSession(app.owner.session)).list(t)
		require.Len(t, list, 1)
		require.Equal(t, "Shopline drive", list[0]["name"])
		require.Equal(t, "active", list[0]["status"])
		s.verifyProfile(app.clientID, app.secret, app.owner.profileID).requireError(t, http.StatusNotFound, "not_found", "")
	})
}

func TestAdminPartnerApps(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			adminEmail := uniqueEmail("mod-admin")
			s := newTestServer(t, backend, options{admins: []string{adminEmail}})
			admin := s.register(adminEmail)
			asAdmin := withSession(admin.session)
			a := s.createApp("drive", callback)
			b := s.createApp("messaging", callback)
			c := s.createApp("clientGallery", callback)
			owners := map[string]string{a.id: a.owner.profileID, b.id: b.owner.profileID, c.id: c.owner.profileID}

			t.Run("non_admin_is_403", func(t *testing.T) {
				s.do("GET", "/api/admin/partner-apps", nil, withSession(a.owner.session)).requireError(t, http.StatusForbidden, "forbidden", "")
				s.setAppStatus(a.owner.session, b.id, "suspended").requireError(t, http.StatusForbidden, "forbidden", "")
				s.setAppStatus(a.owner.session, a.id, "active").requireError(t, http.StatusForbidden, "forbidden", "")
			})
			t.Run("list_pages_with_owners", func(t *testing.T) {
				r := s.do("GET", "/api/admin/partner-apps", nil, asAdmin)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				require.NotContains(t, string(r.body), "clientSecret")
				require.NotContains(t, string(r.body), a.secret)
				all := r.json(t)
				require.Nil(t, all["nextCursor"])
				require.Len(t, all["apps"], 3)
				for _, x := range all["apps"].([]any) {
					m := x.(map[string]any)
					require.Equal(t, owners[m["id"].(string)], m["ownerProfileId"])
					require.Equal(t, "active", m["status"])
				}

				seen := map[string]bool{}
				cursor := ""
				for page := 0; ; page++ {
					require.Less(t, page, 5, "paging must end")
					path := "/api/admin/partner-apps?limit=1"
					if cursor != "" {
						path += "&cursor=" + url.QueryEscape(cursor)
					}
					pm := s.do("GET", path, nil, asAdmin).json(t)
					for _, x := range pm["apps"].([]any) {
						id := x.(map[string]any)["id"].(string)
						require.False(t, seen[id], "no app twice")
						seen[id] = true
					}
					require.LessOrEqual(t, len(pm["apps"].([]any)), 1)
					if pm["nextCursor"] == nil {
						break
					}
					cursor = pm["nextCursor"].(string)
					require.NotEmpty(t, cursor)
				}
				require.Len(t, seen, 3)
			})
			t.Run("bad_queries_are_400", func(t *testing.T) {
				for _, l := range []string{"0", "-1", "1001", "abc"} {
					s.do("GET", "/api/admin/partner-apps?limit="+l, nil, asAdmin).requireError(t, http.StatusBadRequest, "invalid_request", "limit")
				}
				s.do("GET", "/api/admin/partner-apps?status=deleted", nil, asAdmin).requireError(t, http.StatusBadRequest, "invalid_request", "status")
				s.do("GET", "/api/admin/partner-apps?cursor=a%2Fb", nil, asAdmin).requireError(t, http.StatusBadRequest, "invalid_request", "cursor")
			})
			t.Run("suspension_stops_connect_and_plans", func(t *testing.T) {
				m := s.connectMerchant(a, callback, "before")
				pending := s.connectMerchant(a, callback, "pending")
				require.Equal(t, http.StatusOK, s.exchangeCode(a.clientID, a.secret, m.code).status)
				midFlow, _ := s.startFlow(url.Values{"client_id": {a.clientID}, "return_url": {callback}, "state": {"mid"}})

				r := s.setAppStatus(admin.session, a.id, "suspended")
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				require.Equal(t, "suspended", r.json(t)["status"])
				require.Equal(t, a.owner.profileID, r.json(t)["ownerProfileId"])

				q := url.Values{"client_id": {a.clientID}, "return_url": {callback}, "state": {"x"}}
				_, st := s.startFlow(q)
				requireHTMLError(t, st, http.StatusNotFound)
				s.do("GET", "/api/integrations/connect/start?"+q.Encode(), nil, withHeader("Accept", "application/json")).
					requireError(t, http.StatusNotFound, "not_found", "")
				s.exchangeCode(a.clientID, a.secret, pending.code).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.verifyProfile(a.clientID, a.secret, m.profileID).requireError(t, http.StatusUnauthorized, "unauthorized", "")
				s.do("GET", "/api/public/plans?client_id="+a.clientID, nil).requireError(t, http.StatusNotFound, "not_found", "")
				s.do("GET", "/api/public/plans/by-id?id=plan_drive_free&client_id="+a.clientID, nil).requireError(t, http.StatusNotFound, "not_found", "")
				fin := s.do("POST", "/api/integrations/connect/finalize", nil, withSession(m.session), withCookie(ConnectCookie, midFlow))
				require.GreaterOrEqual(t, fin.status, 400, "a flow started before the suspension issues no code: %s", fin.body)
				require.NotContains(t, string(fin.body), "code=")

				sus := s.do("GET", "/api/admin/partner-apps?status=suspended", nil, asAdmin).json(t)["apps"].([]any)
				require.Len(t, sus, 1)
				require.Equal(t, a.id, sus[0].(map[string]any)["id"])
				require.Len(t, s.do("GET", "/api/admin/partner-apps?status=active", nil, asAdmin).json(t)["apps"], 2)

				// The owner sees the suspension and cannot lift it.
				require.Equal(t, "suspended", s.do("GET", "/api/developer/apps/"+a.id, nil, withSession(a.owner.session)).json(t)["status"])
				s.do("PATCH", "/api/developer/apps/"+a.id, map[string]any{"status": "active"}, withSession(a.owner.session))
				require.Equal(t, "suspended", s.do("GET", "/api/developer/apps/"+a.id, nil, withSession(a.owner.session)).json(t)["status"])

				// Reinstated, everything works again.
				require.Equal(t, http.StatusOK, s.setAppStatus(admin.session, a.id, "active").status)
				_, st = s.startFlow(q)
				require.Equal(t, http.StatusFound, st.status, "body: %s", st.body)
				require.Equal(t, http.StatusOK, s.exchangeCode(a.clientID, a.secret, pending.code).status)
				require.Equal(t, http.StatusOK, s.verifyProfile(a.clientID, a.secret, m.profileID).status)
				require.Equal(t, http.StatusOK, s.do("GET", "/api/public/plans?client_id="+a.clientID, nil).status)
				require.Equal(t, http.StatusOK, s.do("GET", "/api/public/plans/by-id?id=plan_drive_free&client_id="+a.clientID, nil).status)
			})
			t.Run("bad_status_is_400", func(t *testing.T) {
				for _, st := range []string{"deleted", "", "Suspended"} {
					s.setAppStatus(admin.session, b.id, st).requireError(t, http.StatusBadRequest, "invalid_request", "status")
				}
				s.do("PATCH", "/api/admin/partner-apps/"+b.id, map[string]any{"status": true}, asAdmin).requireError(t, http.StatusBadRequest, "invalid_request", "status")
				require.Equal(t, "active", s.do("GET", "/api/developer/apps/"+b.id, nil, withSession(b.owner.session)).json(t)["status"])
				s.setAppStatus(admin.session, "app_doesnotexist", "suspended").requireError(t, http.StatusNotFound, "not_found", "")
			})
		})
	}
}

func TestPlansScopedByClientID(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{})
	for _, line := range []string{"clientGallery", "drive", "messaging"} {
		t.Run(line, func(t *testing.T) {
			app := s.createApp(line, plainCallback)
			r := s.do("GET", "/api/public/plans?client_id="+app.clientID, nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			m := r.json(t)
			require.Equal(t, []any{line}, m["allowedProductTypes"])
			plans := m["plans"].([]any)
			require.Len(t, plans, len(s.do("GET", "/api/public/plans?type="+line, nil).list(t)))
			for _, p := range plans {
				require.Equal(t, line, p.(map[string]any)["planType"])
			}
			typed := s.do("GET", "/api/public/plans?type="+line+"&client_id="+app.clientID, nil)
			require.Equal(t, http.StatusOK, typed.status)
			require.Equal(t, m, typed.json(t))

			other := map[string]string{"clientGallery": "drive", "drive": "messaging", "messaging": "clientGallery"}[line]
			otherPlan := map[string]string{"clientGallery": "plan_gallery_pro_monthly", "drive": "plan_drive_plus_monthly", "messaging": "plan_messaging_growth_monthly"}
			s.do("GET", "/api/public/plans?type="+other+"&client_id="+app.clientID, nil).requireError(t, http.StatusForbidden, "forbidden", "")
			s.do("GET", "/api/public/plans?type=video&client_id="+app.clientID, nil).requireError(t, http.StatusBadRequest, "invalid_request", "type")
			s.do("GET", "/api/public/plans/by-id?id="+otherPlan[other]+"&client_id="+app.clientID, nil).requireError(t, http.StatusForbidden, "forbidden", "")
			own := s.do("GET", "/api/public/plans/by-id?id="+otherPlan[line]+"&client_id="+app.clientID, nil)
			require.Equal(t, http.StatusOK, own.status, "body: %s", own.body)
			require.Equal(t, otherPlan[line], own.json(t)["id"])
			s.do("GET", "/api/public/plans/by-id?id=plan_nope&client_id="+app.clientID, nil).requireError(t, http.StatusNotFound, "not_found", "")
		})
	}
}
