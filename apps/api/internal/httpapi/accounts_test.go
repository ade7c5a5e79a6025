package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegister(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})

		t.Run("creates_profile_studio_drive_and_keys", func(t *testing.T) {
			email := uniqueEmail("Studio")
			r := s.do("POST", "/api/register", map[string]any{
				"email": strings.ToUpper(email[:1]) + email[1:], "password": "long enough pw",
				"displayName": "Lumen Studio", "accountType": "studio",
			})
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			m := r.json(t)
			for _, f := range []string{"profileId", "email", "displayName", "accountKind", "studioId", "driveId", "apiKey", "driveApiKey"} {
				require.NotEmpty(t, m[f], f)
			}
			require.Equal(t, "studio", m["accountKind"])
			require.Equal(t, false, m["requiresPayment"])
			require.NotContains(t, m, "checkoutUrl")
			require.True(t, strings.HasPrefix(m["apiKey"].(string), "sk_"))
			require.True(t, strings.HasPrefix(m["driveApiKey"].(string), "drv_"))
			require.Equal(t, "no-store", r.header.Get("Cache-Control"))

			require.NotNil(t, r.cookie)
			require.True(t, r.cookie.HttpOnly)
			require.Equal(t, http.SameSiteLaxMode, r.cookie.SameSite)
			require.False(t, r.cookie.Secure, "plain-http base URL: no Secure attribute")

			me := s.do("GET", "/api/me", nil, withSession(r.cookie.Value))
			require.Equal(t, http.StatusOK, me.status, "body: %s", me.body)
			require.Equal(t, m["profileId"], me.json(t)["profileId"])
		})

		t.Run("duplicate_email_any_case_is_409_email_taken", func(t *testing.T) {
			email := uniqueEmail("dup")
			s.register(email)
			r := s.do("POST", "/api/register", map[string]any{
				"email": strings.ToUpper(email), "password": "long enough pw", "displayName": "X", "accountType": "drive",
			})
			r.requireError(t, http.StatusConflict, "email_taken", "")
		})

		t.Run("paid_plan_requires_payment_and_says_billing_is_not_configured", func(t *testing.T) {
			r := s.do("POST", "/api/register", map[string]any{
				"email": uniqueEmail("paid"), "password": "long enough pw", "displayName": "Paid",
				"accountType": "drive", "planId": "plan_drive_plus_monthly",
			})
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			m := r.json(t)
			require.Equal(t, true, m["requiresPayment"])
			require.Contains(t, m["checkoutError"], "billing is not configured")
			require.Equal(t, "drive", m["accountKind"])

			st := s.do("GET", "/api/billing/status", nil, withKey(m["driveApiKey"].(string)))
			require.Equal(t, http.StatusOK, st.status)
			require.Equal(t, "incomplete", st.json(t)["stripeStatus"])
		})

		t.Run("bad_input_is_400_naming_the_field_and_writes_nothing", func(t *testing.T) {
			email := uniqueEmail("bad")
			good := func() map[string]any {
				return map[string]any{"email": email, "password": "long enough pw", "displayName": "Bad", "accountType": "studio"}
			}
			cases := []struct {
				name   string
				mutate func(m map[string]any)
				detail string
			}{
				{"missing_email", func(m map[string]any) { delete(m, "email") }, "email"},
				{"malformed_email", func(m map[string]any) { m["email"] = "not-an-email" }, "email"},
				{"email_wrong_type", func(m map[string]any) { m["email"] = 42 }, "email"},
				{"email_too_long", func(m map[string]any) { m["email"] = strings.Repeat("a", 250) + "@example.com" }, "email"},
				{"short_password", func(m map[string]any) { m["password"] = "short" }, "password"},
				{"password_too_long", func(m map[string]any) { m["password"] = strings.Repeat("p", 300) }, "password"},
				{"missing_display_name", func(m map[string]any) { delete(m, "displayName") }, "displayName"},
				{"display_name_too_long", func(m map[string]any) { m["displayName"] = strings.Repeat("n", 121) }, "displayName"},
				{"display_name_wrong_type", func(m map[string]any) { m["displayName"] = []string{"x"} }, "displayName"},
				{"unknown_account_type", func(m map[string]any) { m["accountType"] = "enterprise" }, "accountType"},
				{"missing_account_type", func(m map[string]any) { delete(m, "accountType") }, "accountType"},
				{"plan_of_other_line", func(m map[string]any) { m["planId"] = "plan_drive_free" }, "planId"},
				{"unknown_plan", func(m map[string]any) { m["planId"] = "plan_nope" }, "planId"},
				{"plan_id_too_long", func(m map[string]any) { m["planId"] = strings.Repeat("p", 65) }, "planId"},
				{"relative_success_url", func(m map[string]any) { m["successUrl"] = "/done" }, "successUrl"},
				{"cancel_url_not_http", func(m map[string]any) { m["cancelUrl"] = "javascript:alert(1)" }, "cancelUrl"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					body := good()
					tc.mutate(body)
					s.do("POST", "/api/register", body).requireError(t, http.StatusBadRequest, "invalid_request", tc.detail)
				})
			}
			t.Run("malformed_json", func(t *testing.T) {
				s.do("POST", "/api/register", `{"email": "x@example.com",`).requireError(t, http.StatusBadRequest, "invalid_request", "body")
			})
			t.Run("array_instead_of_object", func(t *testing.T) {
				s.do("POST", "/api/register", `[1,2]`).requireError(t, http.StatusBadRequest, "invalid_request", "body")
			})
			t.Run("two_objects", func(t *testing.T) {
				s.do("POST", "/api/register", `{} {}`).requireError(t, http.StatusBadRequest, "invalid_request", "body")
			})
			t.Run("empty_body", func(t *testing.T) {
				s.do("POST", "/api/register", " ").requireError(t, http.StatusBadRequest, "invalid_request", "body")
			})
			t.Run("form_content_type", func(t *testing.T) {
				s.do("POST", "/api/register", "email=a", withHeader("Content-Type", "application/x-www-form-urlencoded")).
					requireError(t, http.StatusBadRequest, "invalid_request", "Content-Type")
			})
			// None of the refused requests created the account.
			s.do("POST", "/api/login", map[string]any{"email": email, "password": "long enough pw"}).
				requireError(t, http.StatusUnauthorized, "unauthorized", "")
			s.register(email)
		})
	})
}

func TestLoginLogout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("login"))

		t.Run("right_password_any_email_case_opens_a_session", func(t *testing.T) {
			r := s.do("POST", "/api/login", map[string]any{"email": strings.ToUpper(a.email), "password": a.password})
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			m := r.json(t)
			require.Equal(t, a.profileID, m["profileId"])
			require.Equal(t, a.email, m["email"])
			require.NotNil(t, r.cookie)
			require.NotEqual(t, a.session, r.cookie.Value)
			require.Equal(t, http.StatusOK, s.do("GET", "/api/me", nil, withSession(r.cookie.Value)).status)
		})

		t.Run("wrong_password_and_unknown_email_are_the_same_401", func(t *testing.T) {
			wrong := s.do("POST", "/api/login", map[string]any{"email": a.email, "password": "not the password"})
			wrong.requireError(t, http.StatusUnauthorized, "unauthorized", "")
			unknown := s.do("POST", "/api/login", map[string]any{"email": uniqueEmail("nobody"), "password": "whatever123"})
			unknown.requireError(t, http.StatusUnauthorized, "unauthorized", "")
			require.Equal(t, wrong.json(t)["message"], unknown.json(t)["message"])
			require.Nil(t, wrong.cookie)
		})

		t.Run("missing_fields_are_400", func(t *testing.T) {
			s.do("POST", "/api/login", map[string]any{"password": "x"}).requireError(t, http.StatusBadRequest, "invalid_request", "email")
			s.do("POST", "/api/login", map[string]any{"email": a.email}).requireError(t, http.StatusBadRequest, "invalid_request", "password")
			s.do("POST", "/api/login", map[string]any{"email": a.email, "password": true}).requireError(t, http.StatusBadRequest, "invalid_request", "password")
		})

		t.Run("logout_revokes_the_session_server_side", func(t *testing.T) {
			r := s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password})
			tok := r.cookie.Value
			out := s.do("POST", "/api/logout", nil, withSession(tok))
			require.Equal(t, http.StatusNoContent, out.status)
			require.NotNil(t, out.cookie)
			require.Empty(t, out.cookie.Value, "cookie cleared")
			s.do("GET", "/api/me", nil, withSession(tok)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			// Logging out twice, or without a session, is harmless.
			require.Equal(t, http.StatusNoContent, s.do("POST", "/api/logout", nil, withSession(tok)).status)
			require.Equal(t, http.StatusNoContent, s.do("POST", "/api/logout", nil).status)
		})

		t.Run("session_expires", func(t *testing.T) {
			r := s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password})
			require.True(t, r.cookie.Expires.After(s.clock.Now()))
			s.clock.Advance(15 * 24 * 60 * 60 * 1e9)
			s.do("GET", "/api/me", nil, withSession(r.cookie.Value)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})
	})
}

func TestSecureCookieOnHTTPS(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{baseURL: "https://gellhub.example"})
	r := s.do("POST", "/api/register", map[string]any{
		"email": uniqueEmail("secure"), "password": "long enough pw", "displayName": "S", "accountType": "drive",
	})
	require.Equal(t, http.StatusCreated, r.status)
	c := r.cookies["__Host-"+SessionCookie]
	require.NotNil(t, c, "over https the session cookie is __Host- prefixed")
	require.True(t, c.Secure)
	require.True(t, c.HttpOnly)
	me := s.do("GET", "/api/me", nil, withCookie("__Host-"+SessionCookie, c.Value))
	require.Equal(t, http.StatusOK, me.status)
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, "memory", options{rateLimits: true})
	a := s.register(uniqueEmail("limited"))

	t.Run("login_per_email_is_429_with_retry_after", func(t *testing.T) {
		var last reply
		for i := 0; i < 11; i++ {
			last = s.do("POST", "/api/login", map[string]any{"email": a.email, "password": "wrong password"})
		}
		last.requireError(t, http.StatusTooManyRequests, "rate_limited", "")
		require.NotEmpty(t, last.header.Get("Retry-After"))
		// Even the right password is refused until the window passes.
		s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password}).
			requireError(t, http.StatusTooManyRequests, "rate_limited", "")
		s.clock.Advance(20 * 60 * 1e9)
		require.Equal(t, http.StatusOK, s.do("POST", "/api/login", map[string]any{"email": a.email, "password": a.password}).status)
	})

	t.Run("register_per_ip_is_429", func(t *testing.T) {
		var last reply
		for i := 0; i < 11; i++ {
			last = s.do("POST", "/api/register", map[string]any{
				"email": uniqueEmail("flood"), "password": "long enough pw", "displayName": "F", "accountType": "studio",
			})
		}
		last.requireError(t, http.StatusTooManyRequests, "rate_limited", "")
		require.NotEmpty(t, last.header.Get("Retry-After"))
	})
}

func TestMe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		admin := uniqueEmail("admin")
		s := newTestServer(t, backend, options{admins: []string{strings.ToUpper(admin)}})

		t.Run("without_session_is_401", func(t *testing.T) {
			s.do("GET", "/api/me", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do("GET", "/api/me", nil, withSession("forged-token")).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})
		t.Run("api_key_is_not_a_session", func(t *testing.T) {
			a := s.register(uniqueEmail("keyonly"))
			s.do("GET", "/api/me", nil, withKey(a.apiKey)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})
		t.Run("shows_profile_plans_masked_keys_and_admin_flag", func(t *testing.T) {
			a := s.register(uniqueEmail("me"))
			m := s.do("GET", "/api/me", nil, withSession(a.session)).json(t)
			require.Equal(t, a.profileID, m["profileId"])
			require.Equal(t, false, m["isAdmin"])
			require.NotEmpty(t, m["studioId"])
			require.NotEmpty(t, m["driveId"])
			plans := m["plans"].(map[string]any)
			require.Equal(t, "plan_gallery_free", plans["clientGallery"].(map[string]any)["id"])
			require.Equal(t, "gallery", plans["clientGallery"].(map[string]any)["scope"])
			require.Equal(t, "plan_drive_free", plans["drive"].(map[string]any)["id"])
			require.Equal(t, true, plans["drive"].(map[string]any)["eligible"])
			keys := m["apiKeys"].([]any)
			require.Len(t, keys, 2)
			for _, k := range keys {
				masked := k.(map[string]any)["maskedKey"].(string)
				require.True(t, strings.HasSuffix(masked, "…"), masked)
				require.NotContains(t, string(s.do("GET", "/api/me", nil, withSession(a.session)).body), a.apiKey)
			}

			adm := s.register(admin)
			require.Equal(t, true, s.do("GET", "/api/me", nil, withSession(adm.session)).json(t)["isAdmin"])
		})
	})
}

func TestRotateKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("rotate"))

		t.Run("new_key_works_and_old_key_is_refused_at_once", func(t *testing.T) {
			require.Equal(t, http.StatusOK, s.do("GET", "/api/billing/status", nil, withKey(a.apiKey)).status)
			r := s.do("POST", "/api/keys/rotate", map[string]any{"product": "clientGallery"}, withSession(a.session))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			m := r.json(t)
			require.Equal(t, "clientGallery", m["product"])
			newKey := m["apiKey"].(string)
			require.True(t, strings.HasPrefix(newKey, "sk_"))
			require.NotEqual(t, a.apiKey, newKey)

			s.do("GET", "/api/billing/status", nil, withKey(a.apiKey)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			require.Equal(t, http.StatusOK, s.do("GET", "/api/billing/status", nil, withKey(newKey)).status)
			// The drive key is untouched.
			require.Equal(t, http.StatusOK, s.do("GET", "/api/billing/status", nil, withKey(a.driveKey)).status)
		})
		t.Run("drive_key_rotates_too", func(t *testing.T) {
			r := s.do("POST", "/api/keys/rotate", map[string]any{"product": "drive"}, withSession(a.session))
			require.Equal(t, http.StatusOK, r.status)
			require.True(t, strings.HasPrefix(r.json(t)["apiKey"].(string), "drv_"))
			s.do("GET", "/api/billing/status", nil, withKey(a.driveKey)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})
		t.Run("bad_product_is_400", func(t *testing.T) {
			for _, p := range []any{"messaging", "nope", "", 7} {
				s.do("POST", "/api/keys/rotate", map[string]any{"product": p}, withSession(a.session)).
					requireError(t, http.StatusBadRequest, "invalid_request", "product")
			}
		})
		t.Run("needs_a_session", func(t *testing.T) {
			s.do("POST", "/api/keys/rotate", map[string]any{"product": "drive"}).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do("POST", "/api/keys/rotate", map[string]any{"product": "drive"}, withKey(a.driveKey)).
				requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})
		t.Run("cross_site_request_is_403", func(t *testing.T) {
			s.do("POST", "/api/keys/rotate", map[string]any{"product": "drive"}, withSession(a.session), withHeader("Sec-Fetch-Site", "cross-site")).
				requireError(t, http.StatusForbidden, "forbidden", "")
			s.do("POST", "/api/keys/rotate", map[string]any{"product": "drive"}, withSession(a.session), withHeader("Origin", "https://evil.example")).
				requireError(t, http.StatusForbidden, "forbidden", "")
			r := s.do("POST", "/api/keys/rotate", map[string]any{"product": "drive"}, withSession(a.session), withHeader("Sec-Fetch-Site", "same-origin"))
			require.Equal(t, http.StatusOK, r.status)
		})
	})
}

func TestBillingStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("billing"))

		g := s.do("GET", "/api/billing/status", nil, withKey(a.apiKey)).json(t)
		require.Equal(t, "gallery", g["scope"])
		require.Equal(t, "plan_gallery_free", g["plan"].(map[string]any)["id"])
		require.EqualValues(t, 0, g["plan"].(map[string]any)["price"])
		require.Equal(t, "active", g["stripeStatus"])
		require.Contains(t, g, "currentPeriodEnd")

		d := s.do("GET", "/api/billing/status", nil, withKey(a.driveKey)).json(t)
		require.Equal(t, "drive", d["scope"])
		require.Equal(t, "plan_drive_free", d["plan"].(map[string]any)["id"])

		s.do("GET", "/api/billing/status", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("GET", "/api/billing/status", nil, withKey("sk_nope")).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		// A well-formed key flipped by one character fails its checksum.
		last := a.apiKey[len(a.apiKey)-1]
		flip := "A"
		if last == 'A' {
			flip = "B"
		}
		bad := a.apiKey[:len(a.apiKey)-1] + flip
		s.do("GET", "/api/billing/status", nil, withKey(bad)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("GET", "/api/billing/status", nil, withSession(a.session)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
	})
}
