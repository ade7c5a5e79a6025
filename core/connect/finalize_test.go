package connect_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/connect"
)

func TestFinalize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("completes_for_the_signed_in_caller", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive, callbackQuery)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{State: "fin al"})
		redirect, err := f.finalize(ctx, who, flow)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(redirect, callbackQuery+"&code="), redirect)
		code, state := codeOf(t, redirect)
		require.Equal(t, "fin al", state)
		require.True(t, f.link(t, p, who.ProfileID).Active())
		ex, err := f.exchange(p, code)
		require.NoError(t, err)
		require.Equal(t, who.ProfileID, ex.Profile.ID)

		_, err = f.finalize(ctx, who, flow)
		requireKind(t, err, core.KindInvalid, "invalid_request", "connect")
	})

	t.Run("needs_a_browser_session", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{})
		key := who
		key.Via, key.Line = core.AuthAPIKey, core.LineDrive
		_, err := f.finalize(ctx, key, flow)
		requireKind(t, err, core.KindForbidden, "forbidden", "")
		v, err := f.svc.Context(ctx, flow)
		require.NoError(t, err)
		require.True(t, v.Active, "the flow is untouched")
	})

	t.Run("without_a_flow_is_invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, who := f.merchant(t)
		for _, id := range []string{"", "nope", strings.Repeat("f", 129)} {
			_, err := f.finalize(ctx, who, id)
			requireKind(t, err, core.KindInvalid, "invalid_request", "connect")
		}
	})

	t.Run("refuses_while_a_payment_is_pending", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{})
		_, err := f.afterSignIn(ctx, flow, who.ProfileID, true)
		require.NoError(t, err)
		_, err = f.finalize(ctx, who, flow)
		requireKind(t, err, core.KindConflict, "payment_pending", "")
		_, err = f.store.LinkFor(ctx, who.ProfileID, p.app.ID)
		requireKind(t, err, core.KindNotFound, "", "")
	})
}

func TestStripeReturn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// pending starts a flow for p that waits for who's payment, and opens
	// its checkout session.
	pending := func(t *testing.T, f *fixture, p partner, who core.Principal) (flow string, cs core.CheckoutSession) {
		t.Helper()
		flow = f.start(t, p, connect.StartInput{State: "paid st"})
		_, err := f.afterSignIn(ctx, flow, who.ProfileID, true)
		require.NoError(t, err)
		plan, err := f.plans.Get(ctx, "plan_drive_plus_monthly")
		require.NoError(t, err)
		cs, err = f.payments.CreateCheckoutSession(ctx, portsParams(who, plan, f.svc.CheckoutReturn(), f.svc.CheckoutReference(flow)))
		require.NoError(t, err)
		return flow, cs
	}

	t.Run("completes_once_the_checkout_is_paid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		p := f.partner(t, core.LineDrive, callbackQuery)
		_, who := f.merchant(t)
		flow, cs := pending(t, f, p, who)

		_, err := f.svc.StripeReturn(ctx, flow, cs.ID)
		requireKind(t, err, core.KindConflict, "payment_pending", "")

		require.NoError(t, f.payments.Complete(cs.ID))
		redirect, err := f.svc.StripeReturn(ctx, flow, cs.ID)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(redirect, callbackQuery+"&code="), redirect)
		code, state := codeOf(t, redirect)
		require.Equal(t, "paid st", state)
		ex, err := f.exchange(p, code)
		require.NoError(t, err)
		require.Equal(t, who.ProfileID, ex.Profile.ID)

		_, err = f.svc.StripeReturn(ctx, flow, cs.ID)
		requireKind(t, err, core.KindInvalid, "invalid_request", "connect")
	})

	t.Run("refuses_a_session_that_is_not_this_flows", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		_, stranger := f.merchant(t)
		flow, _ := pending(t, f, p, who)
		otherFlow, otherCS := pending(t, f, p, who)
		plan, err := f.plans.Get(ctx, "plan_drive_plus_monthly")
		require.NoError(t, err)
		strangers, err := f.payments.CreateCheckoutSession(ctx, portsParams(stranger, plan, "", f.svc.CheckoutReference(flow)))
		require.NoError(t, err)
		require.NoError(t, f.payments.Complete(otherCS.ID))
		require.NoError(t, f.payments.Complete(strangers.ID))

		for name, id := range map[string]string{
			"empty":                     "",
			"unknown":                   "cs_test_unknown",
			"over_long":                 strings.Repeat("c", 129),
			"another_flows":             otherCS.ID,
			"another_profiles_for_this": strangers.ID,
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.svc.StripeReturn(ctx, flow, id)
				requireKind(t, err, core.KindInvalid, "invalid_request", "session_id")
			})
		}
		_, err = f.svc.StripeReturn(ctx, otherFlow, otherCS.ID)
		require.NoError(t, err, "the other flow's own session still works")
	})

	t.Run("an_expired_checkout_is_not_paid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow, cs := pending(t, f, p, who)
		require.NoError(t, f.payments.Expire(cs.ID))
		_, err := f.svc.StripeReturn(ctx, flow, cs.ID)
		requireKind(t, err, core.KindConflict, "payment_pending", "")
	})

	t.Run("a_flow_without_a_payment_has_nothing_to_return_from", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		p := f.partner(t, core.LineDrive)
		flow := f.start(t, p, connect.StartInput{})
		_, err := f.svc.StripeReturn(ctx, flow, "cs_test_x")
		requireKind(t, err, core.KindInvalid, "invalid_request", "session_id")
		_, err = f.svc.StripeReturn(ctx, "unknown", "cs_test_x")
		requireKind(t, err, core.KindInvalid, "invalid_request", "connect")
	})

	t.Run("without_payments_is_unavailable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{})
		_, err := f.afterSignIn(ctx, flow, who.ProfileID, true)
		require.NoError(t, err)
		_, err = f.svc.StripeReturn(ctx, flow, "cs_test_x")
		requireKind(t, err, core.KindUnavailable, "", "")
	})
}
