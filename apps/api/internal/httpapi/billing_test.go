package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/stripe/stripetest"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/billing"
)

// webhook posts payload to Stripe's endpoint with a Stripe-Signature
// header (none when sig is "").
func (s *testServer) webhook(payload []byte, sig string) reply {
	s.t.Helper()
	opts := []reqOpt{}
	if sig != "" {
		opts = append(opts, withHeader("Stripe-Signature", sig))
	}
	return s.do("POST", "/api/webhooks/stripe", string(payload), opts...)
}

// deliver signs an event as Stripe does, now, with the endpoint's secret,
// posts it and requires a 200; then it waits for the event's application,
// which runs in the background after the 200 (billing.Service.Wait).
func (s *testServer) deliver(payload []byte) {
	s.t.Helper()
	r := s.webhook(payload, stripetest.Sign(payload, time.Now(), testWebhookSecret))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(s.t, true, r.json(s.t)["received"])
	s.billing.Wait()
}

// checkoutCompleted is the checkout.session.completed event of a session
// testkit.Payments completed.
func (s *testServer) checkoutCompleted(eventID, sessionID string) []byte {
	s.t.Helper()
	cs, err := s.payments.CheckoutSession(s.t.Context(), sessionID)
	require.NoError(s.t, err)
	return stripetest.Event(eventID, core.EventCheckoutCompleted, time.Now(), map[string]any{
		"id": cs.ID, "object": "checkout.session", "customer": cs.CustomerID, "subscription": cs.SubscriptionID,
		"mode": "subscription", "status": "complete", "payment_status": "paid",
	})
}

func subscriptionEvent(eventID, typ, subID string) []byte {
	return stripetest.Event(eventID, typ, time.Now(), map[string]any{"id": subID, "object": "subscription", "customer": "cus_x", "status": "active"})
}

func invoiceEvent(eventID, typ, subID string) []byte {
	return stripetest.Event(eventID, typ, time.Now(), map[string]any{"id": "in_" + eventID, "object": "invoice", "customer": "cus_x", "subscription": subID})
}

// status returns GET /api/billing/status for key.
func (s *testServer) status(key string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/api/billing/status", nil, withKey(key))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(s.t)
}

// paidGallery subscribes a's Client Gallery to Gallery Pro through
// checkout and Stripe's webhook, and returns the provider subscription.
func (s *testServer) paidGallery(a account) string {
	s.t.Helper()
	r := s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_gallery_pro_monthly"}, withKey(a.apiKey))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	id := strings.TrimPrefix(r.json(s.t)["url"].(string), checkoutPrefix)
	require.NoError(s.t, s.payments.Complete(id))
	cs, err := s.payments.CheckoutSession(s.t.Context(), id)
	require.NoError(s.t, err)
	s.deliver(s.checkoutCompleted("evt_"+id, id))
	return cs.SubscriptionID
}

func TestBillingCheckoutPortalInvoices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{payments: true})
		a := s.register(uniqueEmail("bill"))

		t.Run("a_free_plan_is_activated_at_once", func(t *testing.T) {
			r := s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_gallery_free", "successUrl": "https://app.example/ok"}, withKey(a.apiKey))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.Equal(t, map[string]any{"url": "https://app.example/ok", "activated": true}, r.json(t))
		})
		t.Run("a_plan_of_another_line_than_the_key_is_400", func(t *testing.T) {
			s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_drive_plus_monthly"}, withKey(a.apiKey)).
				requireError(t, http.StatusBadRequest, "invalid_request", "planId")
		})
		t.Run("urls_must_be_absolute_http", func(t *testing.T) {
			s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_gallery_pro_monthly", "successUrl": "/done"}, withKey(a.apiKey)).
				requireError(t, http.StatusBadRequest, "invalid_request", "successUrl")
			s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_gallery_pro_monthly", "cancelUrl": "javascript:alert(1)"}, withKey(a.apiKey)).
				requireError(t, http.StatusBadRequest, "invalid_request", "cancelUrl")
			s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": 7}, withKey(a.apiKey)).
				requireError(t, http.StatusBadRequest, "invalid_request", "planId")
		})
		t.Run("without_credentials_is_401_and_cross_site_is_403", func(t *testing.T) {
			s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_gallery_pro_monthly"}).requireError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_drive_plus_monthly"}, withSession(a.session),
				withHeader("Sec-Fetch-Site", "cross-site")).requireError(t, http.StatusForbidden, "forbidden", "")
		})
		t.Run("portal_without_a_customer_is_409", func(t *testing.T) {
			s.do("POST", "/api/billing/portal", map[string]any{"returnUrl": "https://app.example/account"}, withKey(a.apiKey)).
				requireError(t, http.StatusConflict, "no_billing_customer", "")
			r := s.do("GET", "/api/billing/invoices", nil, withKey(a.apiKey))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.Equal(t, map[string]any{"invoices": []any{}, "charges": []any{}}, r.json(t))
		})
		t.Run("a_session_subscribes_any_line", func(t *testing.T) {
			r := s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_messaging_growth_monthly"}, withSession(a.session))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			u := r.json(t)["url"].(string)
			require.True(t, strings.HasPrefix(u, checkoutPrefix), u)
			require.NotContains(t, r.json(t), "activated")
			p, err := s.payments.Params(strings.TrimPrefix(u, checkoutPrefix))
			require.NoError(t, err)
			require.Equal(t, core.LineMessaging, p.Line)
			require.Equal(t, a.profileID, p.ProfileID)
		})

		sub := s.paidGallery(a)
		t.Run("after_payment_status_portal_and_invoices", func(t *testing.T) {
			st := s.status(a.apiKey)
			require.Equal(t, "active", st["stripeStatus"])
			require.Equal(t, "plan_gallery_pro_monthly", st["plan"].(map[string]any)["id"])
			require.Equal(t, 15.0, st["plan"].(map[string]any)["price"])
			require.Equal(t, "2026-12-30T12:00:00Z", st["currentPeriodEnd"])

			r := s.do("POST", "/api/billing/portal", map[string]any{"returnUrl": "https://app.example/account"}, withKey(a.apiKey))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.True(t, strings.HasPrefix(r.json(t)["url"].(string), "https://billing.example/portal/"))
			s.do("POST", "/api/billing/portal", map[string]any{"returnUrl": "https://app.example/account"}, withKey(a.driveKey)).
				requireError(t, http.StatusConflict, "no_billing_customer", "")
			s.do("POST", "/api/billing/portal", map[string]any{"returnUrl": "ftp://x"}, withKey(a.apiKey)).
				requireError(t, http.StatusBadRequest, "invalid_request", "returnUrl")

			inv := s.do("GET", "/api/billing/invoices", nil, withKey(a.apiKey)).json(t)
			list := inv["invoices"].([]any)
			require.Len(t, list, 1)
			first := list[0].(map[string]any)
			for _, k := range []string{"id", "number", "status", "amountPaid", "currency", "created", "hostedInvoiceUrl"} {
				require.Contains(t, first, k)
			}
			require.Equal(t, "paid", first["status"])
			require.Equal(t, 1500.0, first["amountPaid"])
			require.Equal(t, "usd", first["currency"])
			require.Len(t, inv["charges"].([]any), 1)
			// A session sees every line's; the drive key none.
			require.Len(t, s.do("GET", "/api/billing/invoices", nil, withSession(a.session)).json(t)["invoices"].([]any), 1)
			require.Empty(t, s.do("GET", "/api/billing/invoices", nil, withKey(a.driveKey)).json(t)["invoices"].([]any))
		})
		t.Run("a_paid_plan_is_changed_in_the_portal_not_by_a_new_checkout", func(t *testing.T) {
			s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_gallery_pro_annual"}, withKey(a.apiKey)).
				requireError(t, http.StatusConflict, "subscription_active", "")
		})
		t.Run("cancellation_keeps_the_files_and_blocks_new_uploads_over_the_free_limit", func(t *testing.T) {
			_, err := s.payments.UpdateSubscription(sub, func(p *core.ProviderSubscription) { p.Status = core.StatusCanceled })
			require.NoError(t, err)
			s.deliver(subscriptionEvent("evt_cancel_"+sub, core.EventSubscriptionDeleted, sub))
			st := s.status(a.apiKey)
			require.Equal(t, "plan_gallery_free", st["plan"].(map[string]any)["id"])
			require.Equal(t, "active", st["stripeStatus"])
			require.Nil(t, st["currentPeriodEnd"])
		})
	})
}

func TestStripeWebhook(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{payments: true})
		a := s.register(uniqueEmail("hook"))
		sub := s.paidGallery(a)
		setStatus := func(st core.SubscriptionStatus) {
			t.Helper()
			_, err := s.payments.UpdateSubscription(sub, func(p *core.ProviderSubscription) { p.Status = st })
			require.NoError(t, err)
		}
		recorded := func(id string) bool {
			t.Helper()
			_, err := s.store.PaymentEventByID(t.Context(), id)
			if core.IsKind(err, core.KindNotFound) {
				return false
			}
			require.NoError(t, err)
			return true
		}

		t.Run("a_bad_signature_is_400_and_changes_nothing", func(t *testing.T) {
			setStatus(core.StatusPastDue)
			defer setStatus(core.StatusActive)
			ev := invoiceEvent("evt_forged", core.EventInvoicePaymentFailed, sub)
			now := time.Now()
			for name, sig := range map[string]string{
				"wrong_secret":   stripetest.Sign(ev, now, "whsec_someone_else"),
				"too_old":        stripetest.Sign(ev, now.Add(-301*time.Second), testWebhookSecret),
				"malformed":      "v1=abc",
				"other_payload":  stripetest.Sign(invoiceEvent("evt_other", core.EventInvoicePaid, sub), now, testWebhookSecret),
				"only_v0_scheme": strings.Replace(stripetest.Sign(ev, now, testWebhookSecret), "v1=", "v0=", 1),
			} {
				t.Run(name, func(t *testing.T) {
					s.webhook(ev, sig).requireError(t, http.StatusBadRequest, "invalid_request", "Stripe-Signature")
				})
			}
			s.webhook(ev, "").requireError(t, http.StatusBadRequest, "invalid_request", "Stripe-Signature")
			require.False(t, recorded("evt_forged"))
			require.Equal(t, "active", s.status(a.apiKey)["stripeStatus"])
		})

		t.Run("a_signature_among_several_during_a_secret_roll_is_enough", func(t *testing.T) {
			ev := invoiceEvent("evt_rolled", core.EventInvoicePaid, sub)
			s.deliver(ev) // sanity: the plain signature
			roll := invoiceEvent("evt_rolled_2", core.EventInvoicePaid, sub)
			r := s.webhook(roll, stripetest.Sign(roll, time.Now(), "whsec_old_secret", testWebhookSecret))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			s.billing.Wait()
			require.True(t, recorded("evt_rolled_2"))
		})

		t.Run("a_body_that_is_no_event_is_400", func(t *testing.T) {
			body := []byte(`not json`)
			s.webhook(body, stripetest.Sign(body, time.Now(), testWebhookSecret)).requireError(t, http.StatusBadRequest, "invalid_request", "body")
		})

		t.Run("a_duplicated_event_is_applied_once", func(t *testing.T) {
			setStatus(core.StatusPastDue)
			ev := invoiceEvent("evt_dup", core.EventInvoicePaymentFailed, sub)
			s.deliver(ev)
			require.Equal(t, "past_due", s.status(a.apiKey)["stripeStatus"])
			setStatus(core.StatusUnpaid) // what a newer event would report
			s.deliver(ev)
			require.Equal(t, "past_due", s.status(a.apiKey)["stripeStatus"], "resending does not apply it again")
			s.deliver(subscriptionEvent("evt_dup_next", core.EventSubscriptionUpdated, sub))
			require.Equal(t, "unpaid", s.status(a.apiKey)["stripeStatus"])
			setStatus(core.StatusActive)
			s.deliver(invoiceEvent("evt_dup_paid", core.EventInvoicePaid, sub))
		})

		t.Run("events_out_of_order_end_on_the_newest_state", func(t *testing.T) {
			older := invoiceEvent("evt_old", core.EventInvoicePaid, sub) // sent while active
			setStatus(core.StatusPastDue)
			newer := subscriptionEvent("evt_new", core.EventSubscriptionUpdated, sub)
			s.deliver(newer)
			s.deliver(older)
			require.Equal(t, "past_due", s.status(a.apiKey)["stripeStatus"])
			setStatus(core.StatusActive)
			s.deliver(invoiceEvent("evt_old_paid", core.EventInvoicePaid, sub))
			require.Equal(t, "active", s.status(a.apiKey)["stripeStatus"])
		})

		t.Run("a_failure_while_applying_is_acknowledged_and_retried", func(t *testing.T) {
			setStatus(core.StatusPastDue)
			s.payments.SetFailSubscription(core.Unavailable("payments", nil))
			ev := invoiceEvent("evt_retry", core.EventInvoicePaymentFailed, sub)
			s.deliver(ev) // 200: recorded durably, applied later
			require.True(t, recorded("evt_retry"))
			require.Equal(t, "active", s.status(a.apiKey)["stripeStatus"])
			require.Contains(t, s.logs.String(), "will retry")

			s.clock.Advance(billing.FirstRetry)
			n, err := s.billing.RetryDue(t.Context())
			require.NoError(t, err)
			require.Zero(t, n, "the provider is still down")
			s.payments.SetFailSubscription(nil)
			s.clock.Advance(2 * billing.FirstRetry)
			n, err = s.billing.RetryDue(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, n)
			require.Equal(t, "past_due", s.status(a.apiKey)["stripeStatus"])
			setStatus(core.StatusActive)
			s.deliver(invoiceEvent("evt_retry_paid", core.EventInvoicePaid, sub))
		})

		t.Run("other_event_types_are_acknowledged_and_ignored", func(t *testing.T) {
			ev := stripetest.Event("evt_ignored", "charge.refunded", time.Now(), map[string]any{"id": "ch_1", "object": "charge"})
			s.deliver(ev)
			require.False(t, recorded("evt_ignored"))
		})

		t.Run("the_secret_never_reaches_the_logs", func(t *testing.T) {
			require.NotContains(t, s.logs.String(), testWebhookSecret)
		})
	})
}
