package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const checkoutPrefix = "https://checkout.example/pay/"

// paidRegistration is a merchant registered on a paid plan inside a
// connect flow, waiting for the payment.
type paidRegistration struct {
	flow, sessionID, profileID, session string
}

func (s *testServer) registerPaid(app partnerApp, planID, state string) paidRegistration {
	s.t.Helper()
	flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {state}, "plan": {planID}})
	require.Equal(s.t, http.StatusFound, r.status, "body: %s", r.body)
	reg := s.do("POST", "/api/register", map[string]any{
		"email": uniqueEmail("payer"), "password": "long enough pw", "displayName": "Payer", "accountType": "studio", "planId": planID,
	}, withCookie(ConnectCookie, flow))
	require.Equal(s.t, http.StatusCreated, reg.status, "body: %s", reg.body)
	m := reg.json(s.t)
	checkout, _ := m["checkoutUrl"].(string)
	require.True(s.t, strings.HasPrefix(checkout, checkoutPrefix), "body: %s", reg.body)
	return paidRegistration{flow: flow, sessionID: strings.TrimPrefix(checkout, checkoutPrefix), profileID: m["profileId"].(string), session: reg.cookie.Value}
}

func (s *testServer) stripeReturn(sessionID string, opts ...reqOpt) reply {
	s.t.Helper()
	return s.do("GET", "/integrations/connect/stripe-return?session_id="+url.QueryEscape(sessionID), nil, opts...)
}

func TestConnectWithAPaidPlan(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{payments: true})
			app := s.createApp("clientGallery", callback)
			const plan = "plan_gallery_pro_monthly"

			flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"pay"}, "plan": {plan}})
			require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
			ctx := s.do("GET", "/api/integrations/connect/context", nil, withCookie(ConnectCookie, flow)).json(t)
			require.Equal(t, plan, ctx["planId"])
			require.Equal(t, "clientGallery", ctx["product"])

			email := uniqueEmail("payer")
			reg := s.do("POST", "/api/register", map[string]any{
				"email": email, "password": "long enough pw", "displayName": "Payer", "accountType": "studio", "planId": plan,
			}, withCookie(ConnectCookie, flow))
			require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
			m := reg.json(t)
			var sessionID string
			t.Run("register_requires_payment_and_does_not_redirect_yet", func(t *testing.T) {
				require.Equal(t, true, m["requiresPayment"])
				require.NotContains(t, m, "connectRedirect")
				require.NotContains(t, string(reg.body), "code=")
				checkout, _ := m["checkoutUrl"].(string)
				require.True(t, strings.HasPrefix(checkout, checkoutPrefix), "body: %s", reg.body)
				sessionID = strings.TrimPrefix(checkout, checkoutPrefix)
				require.Nil(t, reg.cookies[ConnectCookie], "the flow cookie stays for the return")
				p, err := s.payments.Params(sessionID)
				require.NoError(t, err)
				require.Equal(t, plan, p.Plan.ID)
				require.Equal(t, m["profileId"], p.ProfileID)
				require.Equal(t, "http://127.0.0.1:8080/integrations/connect/stripe-return?session_id={CHECKOUT_SESSION_ID}", p.SuccessURL)
				require.NotContains(t, p.SuccessURL, "partner.example", "the checkout returns to gellhub, not to the partner")
			})
			session := withSession(reg.cookie.Value)
			cookie := withCookie(ConnectCookie, flow)

			t.Run("finalize_before_payment_is_409", func(t *testing.T) {
				s.do("POST", "/api/integrations/connect/finalize", nil, session, cookie).requireError(t, http.StatusConflict, "payment_pending", "")
			})
			t.Run("signing_in_again_while_the_payment_is_pending_does_not_redirect", func(t *testing.T) {
				in := s.do("POST", "/api/login", map[string]any{"email": email, "password": "long enough pw"}, cookie)
				require.Equal(t, http.StatusOK, in.status, "body: %s", in.body)
				require.NotEmpty(t, in.json(t)["connectError"], "body: %s", in.body)
				require.NotContains(t, in.json(t), "connectRedirect", "body: %s", in.body)
				require.NotContains(t, string(in.body), "code=")
				require.Nil(t, in.cookies[ConnectCookie], "the flow waits for the payment")
				require.Equal(t, true, s.do("GET", "/api/integrations/connect/context", nil, cookie).json(t)["active"])
			})
			t.Run("stripe_return_before_payment_is_409_without_redirect", func(t *testing.T) {
				requireHTMLError(t, s.stripeReturn(sessionID, cookie), http.StatusConflict)
				r := s.stripeReturn(sessionID, cookie, withHeader("Accept", "application/json"))
				r.requireError(t, http.StatusConflict, "payment_pending", "")
				requireNoRedirect(t, r)
			})
			t.Run("stripe_return_with_another_flows_session_is_400", func(t *testing.T) {
				other := s.registerPaid(app, plan, "other")
				require.NoError(t, s.payments.Complete(other.sessionID))
				requireHTMLError(t, s.stripeReturn(other.sessionID, cookie), http.StatusBadRequest)
				s.stripeReturn(other.sessionID, cookie, withHeader("Accept", "application/json")).
					requireError(t, http.StatusBadRequest, "invalid_request", "session_id")
				// Nor the other way round.
				requireHTMLError(t, s.stripeReturn(sessionID, withCookie(ConnectCookie, other.flow)), http.StatusBadRequest)
			})
			t.Run("stripe_return_without_the_flow_cookie_is_400", func(t *testing.T) {
				requireHTMLError(t, s.stripeReturn(sessionID), http.StatusBadRequest)
				s.stripeReturn(sessionID, withHeader("Accept", "application/json")).requireError(t, http.StatusBadRequest, "invalid_request", "connect")
				requireHTMLError(t, s.stripeReturn(sessionID, withCookie(ConnectCookie, "forged-flow-id")), http.StatusBadRequest)
			})
			t.Run("stripe_return_with_a_missing_or_unknown_session_is_400", func(t *testing.T) {
				s.do("GET", "/integrations/connect/stripe-return", nil, cookie, withHeader("Accept", "application/json")).
					requireError(t, http.StatusBadRequest, "invalid_request", "session_id")
				s.stripeReturn("cs_test_unknown", cookie, withHeader("Accept", "application/json")).
					requireError(t, http.StatusBadRequest, "invalid_request", "session_id")
				s.stripeReturn(strings.Repeat("c", 300), cookie, withHeader("Accept", "application/json")).
					requireError(t, http.StatusBadRequest, "invalid_request", "session_id")
			})
			t.Run("after_payment_stripe_return_redirects_with_a_code", func(t *testing.T) {
				require.NoError(t, s.payments.Complete(sessionID))
				r := s.stripeReturn(sessionID, cookie)
				require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
				loc := r.header.Get("Location")
				require.True(t, strings.HasPrefix(loc, callback+"&code="), loc)
				code, state, u := codeOf(t, loc)
				require.Equal(t, "pay", state)
				require.Equal(t, "42", u.Query().Get("tenant"))
				require.Empty(t, r.cookies[ConnectCookie].Value, "the flow cookie is cleared")

				ex := s.exchangeCode(app.clientID, app.secret, code)
				require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
				require.Equal(t, m["profileId"], ex.json(t)["profileId"])
				require.Equal(t, "pay", ex.json(t)["state"])

				// The flow is over: the return cannot be replayed.
				again := s.stripeReturn(sessionID, cookie)
				requireHTMLError(t, again, http.StatusBadRequest)
			})
		})
	}

	t.Run("without_payments_a_paid_plan_reports_a_checkout_error", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, "memory", options{})
		app := s.createApp("clientGallery", callback)
		flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"nopay"}, "plan": {"plan_gallery_pro_monthly"}})
		require.Equal(t, http.StatusFound, r.status)
		reg := s.do("POST", "/api/register", map[string]any{
			"email": uniqueEmail("nopay"), "password": "long enough pw", "displayName": "No Pay", "accountType": "studio", "planId": "plan_gallery_pro_monthly",
		}, withCookie(ConnectCookie, flow))
		require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
		m := reg.json(t)
		require.Equal(t, true, m["requiresPayment"])
		require.NotEmpty(t, m["checkoutError"])
		require.NotContains(t, m, "checkoutUrl")
		require.NotContains(t, m, "connectRedirect")
		require.NotContains(t, string(reg.body), "code=")
		s.do("POST", "/api/integrations/connect/finalize", nil, withSession(reg.cookie.Value), withCookie(ConnectCookie, flow)).
			requireError(t, http.StatusConflict, "payment_pending", "")
	})
}

func TestConnectMessaging(t *testing.T) {
	for _, backend := range connectBackends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, backend, options{})
			app := s.createApp("messaging", callback)

			flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"msg"}, "product": {"messaging"}})
			require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
			reg := s.do("POST", "/api/register", map[string]any{
				"email": uniqueEmail("bot"), "password": "long enough pw", "displayName": "Bot Shop", "accountType": "studio",
			}, withCookie(ConnectCookie, flow))
			require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
			redirect, _ := reg.json(t)["connectRedirect"].(string)
			require.NotEmpty(t, redirect, "body: %s", reg.body)
			code, state, _ := codeOf(t, redirect)
			require.Equal(t, "msg", state)

			ex := s.exchangeCode(app.clientID, app.secret, code)
			require.Equal(t, http.StatusOK, ex.status, "body: %s", ex.body)
			m := ex.json(t)
			require.Equal(t, true, m["hasMessagingSubscription"])
			key, _ := m["messagingApiKey"].(string)
			require.True(t, strings.HasPrefix(key, "msg_"), "body: %s", ex.body)
			require.Equal(t, "messaging", m["plan"].(map[string]any)["scope"])
			require.Equal(t, "plan_messaging_free", m["plan"].(map[string]any)["id"])

			st := s.do("GET", "/api/billing/status", nil, withKey(key))
			require.Equal(t, http.StatusOK, st.status, "body: %s", st.body)
			require.Equal(t, "messaging", st.json(t)["scope"])
			require.Equal(t, "plan_messaging_free", st.json(t)["plan"].(map[string]any)["id"])

			v := s.verifyProfile(app.clientID, app.secret, m["profileId"].(string))
			require.Equal(t, http.StatusOK, v.status, "body: %s", v.body)
			require.Equal(t, true, v.json(t)["hasMessagingSubscription"])
			require.Equal(t, "messaging", v.json(t)["plan"].(map[string]any)["scope"])

			// Revoking the link revokes the messaging key with the others.
			links := s.do("GET", "/api/integrations/links", nil, withSession(reg.cookie.Value)).list(t)
			require.Len(t, links, 1)
			require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/integrations/links/"+links[0]["id"].(string), nil, withSession(reg.cookie.Value)).status)
			s.do("GET", "/api/billing/status", nil, withKey(key)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})
	}

	t.Run("a_paid_messaging_plan_goes_through_checkout_first", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, "sqlite", options{payments: true})
		app := s.createApp("messaging", callback)
		flow, r := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"grow"}, "plan": {"plan_messaging_growth_monthly"}})
		require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
		reg := s.do("POST", "/api/register", map[string]any{
			"email": uniqueEmail("grow"), "password": "long enough pw", "displayName": "Grow", "accountType": "studio",
		}, withCookie(ConnectCookie, flow))
		require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
		m := reg.json(t)
		require.NotContains(t, m, "connectRedirect")
		checkout, _ := m["checkoutUrl"].(string)
		require.True(t, strings.HasPrefix(checkout, checkoutPrefix), "body: %s", reg.body)
		sessionID := strings.TrimPrefix(checkout, checkoutPrefix)
		p, err := s.payments.Params(sessionID)
		require.NoError(t, err)
		require.Equal(t, "plan_messaging_growth_monthly", p.Plan.ID)

		requireHTMLError(t, s.stripeReturn(sessionID, withCookie(ConnectCookie, flow)), http.StatusConflict)
		require.NoError(t, s.payments.Complete(sessionID))
		back := s.stripeReturn(sessionID, withCookie(ConnectCookie, flow))
		require.Equal(t, http.StatusFound, back.status, "body: %s", back.body)
		code, state, _ := codeOf(t, back.header.Get("Location"))
		require.Equal(t, "grow", state)
		require.Equal(t, http.StatusOK, s.exchangeCode(app.clientID, app.secret, code).status)
	})

	t.Run("without_payments_a_paid_messaging_plan_is_a_connect_error", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, "memory", options{})
		app := s.createApp("messaging", callback)
		flow, _ := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"g"}, "plan": {"plan_messaging_growth_monthly"}})
		reg := s.do("POST", "/api/register", map[string]any{
			"email": uniqueEmail("grow"), "password": "long enough pw", "displayName": "Grow", "accountType": "studio",
		}, withCookie(ConnectCookie, flow))
		require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
		m := reg.json(t)
		require.NotContains(t, m, "connectRedirect")
		require.NotContains(t, m, "checkoutUrl")
		require.NotEmpty(t, m["connectError"])
	})
}
