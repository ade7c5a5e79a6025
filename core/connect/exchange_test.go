package connect_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/connect"
)

// requireLinkKey asserts raw is an active key of line minted for link.
func (f *fixture) requireLinkKey(t *testing.T, raw string, line core.ProductLine, link core.ConnectLink) {
	t.Helper()
	got, ok := core.ParseAPIKey(raw)
	require.True(t, ok, "a well-formed key: %q", raw)
	require.Equal(t, line, got)
	k, err := f.store.APIKeyByDigest(context.Background(), core.Digest(raw))
	require.NoError(t, err, "the %s key is stored by digest", line)
	require.Equal(t, link.ID, k.LinkID)
	require.Equal(t, link.ProfileID, k.ProfileID)
	require.Equal(t, line, k.Line)
}

// requireNoKey asserts raw is not an active key.
func (f *fixture) requireNoKey(t *testing.T, raw string) {
	t.Helper()
	_, err := f.store.APIKeyByDigest(context.Background(), core.Digest(raw))
	requireKind(t, err, core.KindNotFound, "", "")
}

func TestExchange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("returns_the_account_with_keys_minted_for_the_link", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		reg, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{State: "s t"})
		code, _ := codeOf(t, f.signIn(t, flow, who.ProfileID))

		ex, err := f.exchange(p, code)
		require.NoError(t, err)
		require.Equal(t, reg.Account.Profile, ex.Profile)
		require.Equal(t, reg.Account.Studio.ID, ex.StudioID)
		require.Equal(t, reg.Account.Drive.ID, ex.DriveID)
		require.Equal(t, "s t", ex.State)
		require.Empty(t, ex.MessagingAPIKey)
		require.False(t, ex.HasMessagingSubscription)
		require.NotNil(t, ex.Plan, "the drive app sees the drive plan")
		require.Equal(t, core.LineDrive, ex.Plan.Line)
		require.Equal(t, "plan_drive_free", ex.Plan.Plan.ID)

		link := f.link(t, p, who.ProfileID)
		f.requireLinkKey(t, ex.APIKey, core.LineClientGallery, link)
		f.requireLinkKey(t, ex.DriveAPIKey, core.LineDrive, link)
		require.NotEqual(t, reg.APIKey, ex.APIKey)
		require.NotEqual(t, reg.DriveAPIKey, ex.DriveAPIKey)
		_, err = f.store.APIKeyByDigest(ctx, core.Digest(reg.DriveAPIKey))
		require.NoError(t, err, "the merchant's own keys stay")

		pr, err := f.accounts.KeyPrincipal(ctx, ex.DriveAPIKey)
		require.NoError(t, err, "the minted key authenticates")
		require.Equal(t, who.ProfileID, pr.ProfileID)
		require.Equal(t, core.AppDayStats{Starts: 1, Completions: 1, Exchanges: 1}, f.stats(t, p))
	})

	t.Run("replaces_the_keys_of_the_previous_exchange", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		first, err := f.exchange(p, f.connect(t, p, who.ProfileID))
		require.NoError(t, err)
		f.clock.Advance(time.Minute)
		second, err := f.exchange(p, f.connect(t, p, who.ProfileID))
		require.NoError(t, err)

		link := f.link(t, p, who.ProfileID)
		f.requireNoKey(t, first.APIKey)
		f.requireNoKey(t, first.DriveAPIKey)
		f.requireLinkKey(t, second.APIKey, core.LineClientGallery, link)
		f.requireLinkKey(t, second.DriveAPIKey, core.LineDrive, link)
		links, err := f.store.LinksByProfile(ctx, who.ProfileID)
		require.NoError(t, err)
		require.Len(t, links, 1, "one link per profile and app")
	})

	t.Run("a_code_is_bound_to_its_app", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p, other := f.partner(t, core.LineDrive), f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		code := f.connect(t, p, who.ProfileID)

		_, err := f.exchange(other, code)
		requireKind(t, err, core.KindInvalid, "invalid_request", "code")
		require.Equal(t, core.AppDayStats{FailedExchanges: 1}, f.stats(t, other))

		ex, err := f.exchange(p, code)
		require.NoError(t, err, "the right app still redeems it")
		require.Equal(t, who.ProfileID, ex.Profile.ID)
	})

	t.Run("bad_credentials_are_unauthenticated_and_spend_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		code := f.connect(t, p, who.ProfileID)

		for _, in := range []connect.ExchangeInput{
			{Code: code, ClientID: p.app.ClientID, ClientSecret: p.secret + "x"},
			{Code: code, ClientID: p.app.ClientID},
			{Code: code, ClientID: "gh_app_unknown", ClientSecret: p.secret},
			{Code: code, ClientSecret: p.secret},
		} {
			_, err := f.svc.Exchange(ctx, in)
			requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
		}
		require.Zero(t, f.stats(t, p).FailedExchanges, "a stranger cannot write the app's counters")
		_, err := f.exchange(p, code)
		require.NoError(t, err, "the code was not burned")
	})

	t.Run("a_reused_code_is_invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		code := f.connect(t, p, who.ProfileID)
		first, err := f.exchange(p, code)
		require.NoError(t, err)
		_, err = f.exchange(p, code)
		requireKind(t, err, core.KindInvalid, "invalid_request", "code")
		f.requireLinkKey(t, first.DriveAPIKey, core.LineDrive, f.link(t, p, who.ProfileID))
		require.Equal(t, core.AppDayStats{Starts: 1, Completions: 1, Exchanges: 1, FailedExchanges: 1}, f.stats(t, p))
	})

	t.Run("a_code_expires_after_code_ttl", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		early, late := f.connect(t, p, who.ProfileID), f.connect(t, p, who.ProfileID)

		f.clock.Advance(connect.CodeTTL - time.Nanosecond)
		_, err := f.exchange(p, early)
		require.NoError(t, err, "just inside CodeTTL")
		f.clock.Advance(time.Nanosecond)
		_, err = f.exchange(p, late)
		requireKind(t, err, core.KindInvalid, "invalid_request", "code")
	})

	t.Run("malformed_codes_are_invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		for _, code := range []string{"", "nope", strings.Repeat("c", 129)} {
			_, err := f.exchange(p, code)
			requireKind(t, err, core.KindInvalid, "invalid_request", "code")
		}
		require.Equal(t, core.AppDayStats{FailedExchanges: 3}, f.stats(t, p))
	})

	t.Run("of_20_concurrent_exchanges_exactly_one_succeeds", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		code := f.connect(t, p, who.ProfileID)

		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = f.exchange(p, code) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			requireKind(t, err, core.KindInvalid, "invalid_request", "code")
		}
		require.Equal(t, 1, ok)
		require.Equal(t, core.AppDayStats{Starts: 1, Completions: 1, Exchanges: 1, FailedExchanges: n - 1}, f.stats(t, p))
	})

	t.Run("a_code_of_a_revoked_link_is_invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		code := f.connect(t, p, who.ProfileID)
		require.NoError(t, f.svc.RevokeLink(ctx, who, f.link(t, p, who.ProfileID).ID))

		_, err := f.exchange(p, code)
		requireKind(t, err, core.KindInvalid, "invalid_request", "code")
		keys, err := f.store.ActiveAPIKeys(ctx, who.ProfileID)
		require.NoError(t, err)
		for _, k := range keys {
			require.Empty(t, k.LinkID, "no key was minted for the revoked link")
		}
		require.EqualValues(t, 1, f.stats(t, p).FailedExchanges)
	})

	t.Run("a_code_from_before_a_revoke_stays_dead_after_relinking", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		old := f.connect(t, p, who.ProfileID)
		f.clock.Advance(time.Second)
		require.NoError(t, f.svc.RevokeLink(ctx, who, f.link(t, p, who.ProfileID).ID))
		f.clock.Advance(time.Second)
		fresh := f.connect(t, p, who.ProfileID) // re-activates the same link

		_, err := f.exchange(p, old)
		requireKind(t, err, core.KindInvalid, "invalid_request", "code")
		_, err = f.exchange(p, fresh)
		require.NoError(t, err, "the code issued after relinking works")
	})

	t.Run("a_suspended_app_cannot_exchange", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		code := f.connect(t, p, who.ProfileID)
		_, err := f.dev.AdminSetStatus(ctx, core.Principal{IsAdmin: true, Via: core.AuthSession}, p.app.ID, "suspended")
		require.NoError(t, err)
		_, err = f.exchange(p, code)
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	p, other := f.partner(t, core.LineDrive), f.partner(t, core.LineClientGallery)
	reg, who := f.merchant(t)
	_, stranger := f.merchant(t)

	t.Run("a_profile_never_linked_is_not_found", func(t *testing.T) {
		for _, id := range []string{who.ProfileID, stranger.ProfileID, "prof_unknown", strings.Repeat("p", 129)} {
			_, err := f.verify(p, id)
			requireKind(t, err, core.KindNotFound, "not_found", "")
		}
		_, err := f.verify(p, "")
		requireKind(t, err, core.KindInvalid, "invalid_request", "profile_id")
	})

	_, err := f.exchange(p, f.connect(t, p, who.ProfileID))
	require.NoError(t, err)

	t.Run("a_linked_profile_is_registered_and_linked", func(t *testing.T) {
		v, err := f.verify(p, who.ProfileID)
		require.NoError(t, err)
		require.True(t, v.Registered)
		require.True(t, v.Linked)
		require.Equal(t, reg.Account.Profile, v.Profile)
		require.False(t, v.HasMessagingSubscription)
		require.NotNil(t, v.Plan)
		require.Equal(t, core.LineDrive, v.Plan.Line)
		require.Equal(t, core.StatusActive, v.Plan.Status)
	})

	t.Run("another_apps_link_does_not_count", func(t *testing.T) {
		_, err := f.verify(other, who.ProfileID)
		requireKind(t, err, core.KindNotFound, "not_found", "")
	})

	t.Run("bad_credentials_are_unauthenticated", func(t *testing.T) {
		_, err := f.svc.Verify(ctx, connect.VerifyInput{ProfileID: who.ProfileID, ClientID: p.app.ClientID, ClientSecret: other.secret})
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	})

	t.Run("a_revoked_link_is_not_linked", func(t *testing.T) {
		require.NoError(t, f.svc.RevokeLink(ctx, who, f.link(t, p, who.ProfileID).ID))
		v, err := f.verify(p, who.ProfileID)
		require.NoError(t, err)
		require.True(t, v.Registered)
		require.False(t, v.Linked)
	})

	t.Run("a_new_flow_links_it_again", func(t *testing.T) {
		_, err := f.exchange(p, f.connect(t, p, who.ProfileID))
		require.NoError(t, err)
		v, err := f.verify(p, who.ProfileID)
		require.NoError(t, err)
		require.True(t, v.Linked)
	})
}

func TestLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	drive, gallery := f.partner(t, core.LineDrive), f.partner(t, core.LineClientGallery)
	_, who := f.merchant(t)
	_, stranger := f.merchant(t)
	ex, err := f.exchange(drive, f.connect(t, drive, who.ProfileID))
	require.NoError(t, err)
	f.clock.Advance(time.Second)
	f.connect(t, gallery, who.ProfileID)

	links, err := f.svc.Links(ctx, who)
	require.NoError(t, err)
	require.Len(t, links, 2)
	require.Equal(t, drive.app.ID, links[0].Link.AppID)
	require.Equal(t, "Shopline drive", links[0].AppName)
	require.Equal(t, core.LineDrive, links[0].Line)
	require.Equal(t, core.LineClientGallery, links[1].Line)

	t.Run("only_a_session_may_list_or_revoke", func(t *testing.T) {
		key := who
		key.Via = core.AuthAPIKey
		_, err := f.svc.Links(ctx, key)
		requireKind(t, err, core.KindForbidden, "forbidden", "")
		requireKind(t, f.svc.RevokeLink(ctx, key, links[0].Link.ID), core.KindForbidden, "forbidden", "")
	})

	t.Run("another_profiles_link_is_not_found", func(t *testing.T) {
		for _, id := range []string{links[0].Link.ID, "", "link_unknown", strings.Repeat("l", 129)} {
			requireKind(t, f.svc.RevokeLink(ctx, stranger, id), core.KindNotFound, "not_found", "")
		}
		require.True(t, f.link(t, drive, who.ProfileID).Active())
	})

	t.Run("revoking_stops_the_links_keys_at_once", func(t *testing.T) {
		require.NoError(t, f.svc.RevokeLink(ctx, who, links[0].Link.ID))
		f.requireNoKey(t, ex.APIKey)
		f.requireNoKey(t, ex.DriveAPIKey)
		require.NoError(t, f.svc.RevokeLink(ctx, who, links[0].Link.ID), "revoking twice is fine")
		got, err := f.svc.Links(ctx, who)
		require.NoError(t, err)
		require.False(t, got[0].Link.Active())
		require.True(t, got[1].Link.Active())
	})
}

func TestMessagingFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// messagingSub returns who's messaging subscription from the store.
	messagingSub := func(t *testing.T, f *fixture, profileID string) (core.Subscription, bool) {
		t.Helper()
		subs, err := f.store.Subscriptions(ctx, profileID)
		require.NoError(t, err)
		for _, s := range subs {
			if s.Line == core.LineMessaging {
				return s, true
			}
		}
		return core.Subscription{}, false
	}

	t.Run("subscribes_to_the_free_plan_and_exchange_returns_a_msg_key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineMessaging)
		_, who := f.merchant(t)
		_, had := messagingSub(t, f, who.ProfileID)
		require.False(t, had, "messaging starts unsubscribed")

		code := f.connect(t, p, who.ProfileID)
		sub, ok := messagingSub(t, f, who.ProfileID)
		require.True(t, ok)
		require.Equal(t, "plan_messaging_free", sub.PlanID)
		require.Equal(t, core.StatusActive, sub.Status)

		ex, err := f.exchange(p, code)
		require.NoError(t, err)
		require.True(t, ex.HasMessagingSubscription)
		require.True(t, strings.HasPrefix(ex.MessagingAPIKey, "msg_"), ex.MessagingAPIKey)
		f.requireLinkKey(t, ex.MessagingAPIKey, core.LineMessaging, f.link(t, p, who.ProfileID))
		require.NotNil(t, ex.Plan)
		require.Equal(t, core.LineMessaging, ex.Plan.Line)
		require.Equal(t, "plan_messaging_free", ex.Plan.Plan.ID)

		v, err := f.verify(p, who.ProfileID)
		require.NoError(t, err)
		require.True(t, v.HasMessagingSubscription)
	})

	t.Run("keeps_an_eligible_subscription", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineMessaging)
		_, who := f.merchant(t)
		f.connect(t, p, who.ProfileID)
		before, _ := messagingSub(t, f, who.ProfileID)
		f.clock.Advance(time.Hour)
		f.connect(t, p, who.ProfileID)
		after, _ := messagingSub(t, f, who.ProfileID)
		require.Equal(t, before, after)
	})

	t.Run("a_paid_plan_without_payments_is_an_outcome_error", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineMessaging)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{Plan: "plan_messaging_growth_monthly"})

		o, err := f.afterSignIn(ctx, flow, who.ProfileID, false)
		require.NoError(t, err)
		require.NotEmpty(t, o.Error)
		require.Empty(t, o.Redirect)
		require.Empty(t, o.CheckoutURL)
		_, had := messagingSub(t, f, who.ProfileID)
		require.False(t, had, "nothing subscribed")
		require.Zero(t, f.stats(t, p).Completions)

		_, err = f.finalize(ctx, who, flow)
		requireKind(t, err, core.KindPaymentRequired, "subscription_required", "")
	})

	t.Run("a_paid_plan_with_payments_waits_for_the_checkout", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		p := f.partner(t, core.LineMessaging, callbackQuery)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{Plan: "plan_messaging_growth_monthly", State: "paid"})

		o, err := f.afterSignIn(ctx, flow, who.ProfileID, false)
		require.NoError(t, err)
		require.Empty(t, o.Redirect)
		require.Empty(t, o.Error)
		require.True(t, strings.HasPrefix(o.CheckoutURL, "https://checkout.example/pay/"), o.CheckoutURL)

		sessions := f.payments.Sessions()
		require.Len(t, sessions, 1)
		cs := sessions[0]
		require.Equal(t, f.svc.CheckoutReference(flow), cs.Reference, "the checkout carries a digest of the flow id, never the id")
		require.Equal(t, who.ProfileID, cs.ProfileID)
		require.Equal(t, "plan_messaging_growth_monthly", cs.PlanID)
		params, err := f.payments.Params(cs.ID)
		require.NoError(t, err)
		require.Equal(t, "https://gellhub.test/integrations/connect/stripe-return?session_id={CHECKOUT_SESSION_ID}", params.SuccessURL)
		require.Equal(t, core.LineMessaging, params.Line)

		sub, ok := messagingSub(t, f, who.ProfileID)
		require.True(t, ok)
		require.Equal(t, "plan_messaging_growth_monthly", sub.PlanID)
		require.Equal(t, core.StatusIncomplete, sub.Status, "pending payment")

		v, err := f.svc.Context(ctx, flow)
		require.NoError(t, err)
		require.True(t, v.Active, "the flow waits")
		_, err = f.finalize(ctx, who, flow)
		requireKind(t, err, core.KindConflict, "payment_pending", "")

		require.NoError(t, f.payments.Complete(cs.ID))
		redirect, err := f.svc.StripeReturn(ctx, flow, cs.ID)
		require.NoError(t, err)
		code, state := codeOf(t, redirect)
		require.Equal(t, "paid", state)
		_, err = f.exchange(p, code)
		require.NoError(t, err)
	})

	t.Run("a_failing_checkout_is_an_outcome_error", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		f.payments.Fail = core.Unavailable("payments", nil)
		p := f.partner(t, core.LineMessaging)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{Plan: "plan_messaging_growth_annual"})
		o, err := f.afterSignIn(ctx, flow, who.ProfileID, false)
		require.NoError(t, err)
		require.NotEmpty(t, o.Error)
		require.Empty(t, o.CheckoutURL)
		require.Empty(t, o.Redirect)
		_, err = f.finalize(ctx, who, flow)
		requireKind(t, err, core.KindUnavailable, "", "")
		require.Len(t, f.reports.take(), 2, "the provider's failures are reported")
		v, err := f.svc.Context(ctx, flow)
		require.NoError(t, err)
		require.True(t, v.Active, "the flow may be tried again")
	})

	t.Run("finalize_sends_the_browser_to_the_checkout_first", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		p := f.partner(t, core.LineMessaging)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{Plan: "plan_messaging_growth_monthly"})

		redirect, err := f.finalize(ctx, who, flow)
		require.NoError(t, err)
		sessions := f.payments.Sessions()
		require.Len(t, sessions, 1)
		require.Equal(t, sessions[0].URL, redirect, "the checkout, not the partner")
		require.Zero(t, f.codes.Len(), "no code before the payment")

		_, err = f.finalize(ctx, who, flow)
		requireKind(t, err, core.KindConflict, "payment_pending", "")
		require.NoError(t, f.payments.Complete(sessions[0].ID))
		redirect, err = f.svc.StripeReturn(ctx, flow, sessions[0].ID)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(redirect, callback+"?code="), redirect)
	})

	t.Run("never_changes_an_eligible_subscription", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withPayments)
		p := f.partner(t, core.LineMessaging)
		_, who := f.merchant(t)
		f.connect(t, p, who.ProfileID) // on the free plan now
		before, _ := messagingSub(t, f, who.ProfileID)

		flow := f.start(t, p, connect.StartInput{Plan: "plan_messaging_growth_monthly"})
		f.signIn(t, flow, who.ProfileID)
		after, _ := messagingSub(t, f, who.ProfileID)
		require.Equal(t, before, after)
		require.Empty(t, f.payments.Sessions(), "no checkout")
	})
}

func TestAnalyticsCounters(t *testing.T) {
	t.Parallel()

	f := newFixture(t)
	p := f.partner(t, core.LineDrive)
	_, who := f.merchant(t)

	flow := f.start(t, p, connect.StartInput{})
	require.Equal(t, core.AppDayStats{Starts: 1}, f.stats(t, p))
	f.start(t, p, connect.StartInput{}) // abandoned
	require.Equal(t, core.AppDayStats{Starts: 2}, f.stats(t, p))

	code, _ := codeOf(t, f.signIn(t, flow, who.ProfileID))
	require.Equal(t, core.AppDayStats{Starts: 2, Completions: 1}, f.stats(t, p))

	_, err := f.exchange(p, "not-a-code")
	requireKind(t, err, core.KindInvalid, "invalid_request", "code")
	require.Equal(t, core.AppDayStats{Starts: 2, Completions: 1, FailedExchanges: 1}, f.stats(t, p))

	_, err = f.exchange(p, code)
	require.NoError(t, err)
	require.Equal(t, core.AppDayStats{Starts: 2, Completions: 1, Exchanges: 1, FailedExchanges: 1}, f.stats(t, p))

	f.clock.Advance(24 * time.Hour)
	f.connect(t, p, who.ProfileID)
	an, err := f.dev.Analytics(context.Background(), p.owner, p.app.ID, 2)
	require.NoError(t, err)
	require.Equal(t, core.AppDayStats{Day: an.Days[1].Day, Starts: 1, Completions: 1}, an.Days[1], "counted on the clock's day")
	require.Equal(t, core.AppDayStats{Starts: 3, Completions: 2, Exchanges: 1, FailedExchanges: 1}, an.Totals)
}
