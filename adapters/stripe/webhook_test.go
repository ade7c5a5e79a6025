package stripe_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/stripe"
	"github.com/gellhub/gellhub/adapters/stripe/stripetest"
	"github.com/gellhub/gellhub/core"
)

const (
	secret    = "whsec_current"
	oldSecret = "whsec_previous"
)

func requireBadSignature(t *testing.T, err error, detail string) {
	t.Helper()
	e, ok := core.AsError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, core.KindInvalid, e.Kind)
	require.Equal(t, detail, e.Detail)
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	v, err := stripe.NewWebhookVerifier(secret)
	require.NoError(t, err)
	now := time.Now()
	payload := stripetest.Event("evt_1", core.EventInvoicePaid, now, map[string]any{
		"id": "in_1", "object": "invoice", "customer": "cus_1", "subscription": "sub_1",
	})

	t.Run("a_valid_signature_gives_the_events_ids", func(t *testing.T) {
		ev, err := v.VerifyWebhook(payload, stripetest.Sign(payload, now, secret))
		require.NoError(t, err)
		require.Equal(t, core.PaymentEvent{
			ID: "evt_1", Type: core.EventInvoicePaid, Created: time.Unix(now.Unix(), 0).UTC(), SubscriptionID: "sub_1", CustomerID: "cus_1",
		}, ev)
	})
	t.Run("bad_signatures_are_invalid", func(t *testing.T) {
		for name, sig := range map[string]string{
			"wrong_secret":      stripetest.Sign(payload, now, "whsec_other"),
			"other_payload":     stripetest.Sign([]byte(`{"id":"evt_2"}`), now, secret),
			"too_old":           stripetest.Sign(payload, now.Add(-stripe.Tolerance-time.Second), secret),
			"missing":           "",
			"no_timestamp":      "v1=" + strings.Repeat("a", 64),
			"no_v1":             "t=" + strings.TrimPrefix(strings.Split(stripetest.Sign(payload, now, secret), ",")[0], "t="),
			"garbage":           "hello",
			"tampered_by_a_bit": stripetest.Sign(append([]byte(" "), payload...), now, secret),
		} {
			t.Run(name, func(t *testing.T) {
				_, err := v.VerifyWebhook(payload, sig)
				requireBadSignature(t, err, "Stripe-Signature")
			})
		}
	})
	t.Run("any_of_several_v1_signatures_is_enough", func(t *testing.T) {
		_, err := v.VerifyWebhook(payload, stripetest.Sign(payload, now, oldSecret, secret))
		require.NoError(t, err)
		_, err = v.VerifyWebhook(payload, stripetest.Sign(payload, now, secret, "whsec_x"))
		require.NoError(t, err)
	})
	t.Run("during_a_roll_either_configured_secret_verifies", func(t *testing.T) {
		both, err := stripe.NewWebhookVerifier(secret, " ", oldSecret)
		require.NoError(t, err)
		for _, s := range []string{secret, oldSecret} {
			_, err := both.VerifyWebhook(payload, stripetest.Sign(payload, now, s))
			require.NoError(t, err, s)
		}
		_, err = both.VerifyWebhook(payload, stripetest.Sign(payload, now, "whsec_x"))
		requireBadSignature(t, err, "Stripe-Signature")
		_, err = both.VerifyWebhook(payload, stripetest.Sign(payload, now.Add(-time.Hour), oldSecret))
		requireBadSignature(t, err, "Stripe-Signature")
	})
	t.Run("a_signed_body_that_is_no_event_is_invalid", func(t *testing.T) {
		for _, body := range []string{`not json`, `{}`, `{"id":"evt_x"}`} {
			_, err := v.VerifyWebhook([]byte(body), stripetest.Sign([]byte(body), now, secret))
			requireBadSignature(t, err, "body")
		}
	})
	t.Run("no_secret_is_an_error", func(t *testing.T) {
		_, err := stripe.NewWebhookVerifier("", "  ")
		require.Error(t, err)
	})
}

func TestWebhookEventIDs(t *testing.T) {
	t.Parallel()
	v, err := stripe.NewWebhookVerifier(secret)
	require.NoError(t, err)
	now := time.Now()
	cases := []struct {
		typ    string
		object map[string]any
		want   core.PaymentEvent
	}{
		{core.EventCheckoutCompleted, map[string]any{"id": "cs_1", "object": "checkout.session", "customer": "cus_1", "subscription": "sub_1"},
			core.PaymentEvent{CheckoutSessionID: "cs_1", SubscriptionID: "sub_1", CustomerID: "cus_1"}},
		{core.EventCheckoutCompleted, map[string]any{"id": "cs_2", "object": "checkout.session", "customer": map[string]any{"id": "cus_2"}, "subscription": map[string]any{"id": "sub_2"}},
			core.PaymentEvent{CheckoutSessionID: "cs_2", SubscriptionID: "sub_2", CustomerID: "cus_2"}},
		{core.EventSubscriptionCreated, map[string]any{"id": "sub_3", "object": "subscription", "customer": "cus_3"},
			core.PaymentEvent{SubscriptionID: "sub_3", CustomerID: "cus_3"}},
		{core.EventSubscriptionUpdated, map[string]any{"id": "sub_4", "object": "subscription", "customer": "cus_4"},
			core.PaymentEvent{SubscriptionID: "sub_4", CustomerID: "cus_4"}},
		{core.EventSubscriptionDeleted, map[string]any{"id": "sub_5", "object": "subscription", "customer": "cus_5"},
			core.PaymentEvent{SubscriptionID: "sub_5", CustomerID: "cus_5"}},
		{core.EventInvoicePaymentFailed, map[string]any{"id": "in_6", "object": "invoice", "customer": "cus_6", "subscription": nil},
			core.PaymentEvent{CustomerID: "cus_6"}},
		{"customer.created", map[string]any{"id": "cus_7", "object": "customer"}, core.PaymentEvent{}},
	}
	for i, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			id := "evt_" + string(rune('a'+i))
			payload := stripetest.Event(id, c.typ, now, c.object)
			ev, err := v.VerifyWebhook(payload, stripetest.Sign(payload, now, secret))
			require.NoError(t, err)
			want := c.want
			want.ID, want.Type, want.Created = id, c.typ, time.Unix(now.Unix(), 0).UTC()
			require.Equal(t, want, ev)
		})
	}
}

func TestVerifyWebhookWithTheSecondSecretReportsABadBody(t *testing.T) {
	t.Parallel()
	v, err := stripe.NewWebhookVerifier(oldSecret, secret)
	require.NoError(t, err)
	body := []byte(`not json`)
	_, err = v.VerifyWebhook(body, stripetest.Sign(body, time.Now(), oldSecret))
	requireBadSignature(t, err, "body")
}
